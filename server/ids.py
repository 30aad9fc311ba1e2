"""Record ids as people and devices send them."""

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
