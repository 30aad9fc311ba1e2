"""Record ids as people and devices send them."""

import secrets
import uuid


def uuid_or_none(value) -> uuid.UUID | None:
    """The UUID `value` names (a UUID, or its text in either case), or None when it names none or garbles it."""
    if isinstance(value, uuid.UUID):
        return value
    if not value:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# An area's short code: what its QR label carries and what a person types when the camera
# cannot read it. Six characters from 30 that cannot be mistaken for one another when
# printed or read aloud (no 0/O, 1/I/L, U/V); 30**6 is about 729 million codes.
AREA_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
AREA_CODE_LENGTH = 6
# Longer input is refused before it is looked at: a code is short, so is anything like one.
AREA_CODE_MAX_INPUT = 32


def new_area_code() -> str:
    """A random short code (not checked against those in use: `organisation.fresh_area_code` is)."""
    return "".join(secrets.choice(AREA_CODE_ALPHABET) for _ in range(AREA_CODE_LENGTH))


def area_code_or_none(value) -> str | None:
    """The short code `value` names as a person may type it (any case, spaces or dashes
    between), or None when it cannot be one. The field app's `areacodes.normalise` mirrors it."""
    if not isinstance(value, str) or len(value) > AREA_CODE_MAX_INPUT:
        return None
    code = "".join(value.split()).replace("-", "").upper()
    if len(code) != AREA_CODE_LENGTH or any(c not in AREA_CODE_ALPHABET for c in code):
        return None
    return code
