"""The rules a field's value obeys, whichever path brings it: a sync op, the API or a form.

Schemas and forms check shape (text, a list, a UUID); the services check values here, so
a title, a note or a five-whys step is held to one limit and one message everywhere.
`LIMITS` is also what the OpenAPI document and the forms' `maxlength` show.
"""

import re
from datetime import date, datetime, timedelta, timezone

from .errors import Invalid

# The longest text each kind of field takes, in characters.
LIMITS = {
    "title": 200,  # a finding's title
    "name": 200,  # names of checklists, sites, areas, people
    "clause": 40,  # "8.5.1"
    "standard": 40,  # "ISO 9001:2015"
    "location": 200,
    "question": 2_000,  # a checklist question's text
    "guidance": 4_000,
    "comment": 5_000,  # one message of a review conversation; a review decision's note
    # A decision's reason becomes a comment after the server's label ("Rejected: ",
    # "Reopened: "), so it leaves room for one: the stored comment stays within "comment".
    "reason": 5_000 - 20,
    "why": 2_000,  # one why, or one because, of the five whys
    "text": 20_000,  # prose: descriptions, notes, summaries, plans, reasons
    "url": 500,  # a webhook's address
    "document_number": 40,  # "WI-014"
    "change_note": 2_000,  # what a document revision changed
    "password": 1_024,  # longer is no safer, and every sign-in hashes all of it
}
MAX_WHYS = 5
MAX_OPTIONS = 50  # options a choice question lists, so also values a multiple-choice answer holds
MAX_WEIGHT = 100  # what one question's points can count for in a score
MAX_DEDUCTION = 100  # points one finding can take off a score
MAX_PHOTOS = 50  # photos one record holds
# A device clock may run a little fast; a capture time further ahead is a wrong clock.
CAPTURE_CLOCK_SKEW = timedelta(days=1)
EARLIEST_CAPTURE = datetime(2000, 1, 1, tzinfo=timezone.utc)
# The days a date field takes: far wider than any audit, due date or review period, and
# far enough from the calendar's ends (year 1, year 9999) that adding or subtracting a
# period, or moving into a time zone, never leaves it.
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2199, 12, 31)
DAY_RANGE_MESSAGE = f"Use a date between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}."


def day_in_range(value: date) -> bool:
    """Whether `value` is a day a date field takes (`EARLIEST_DAY`..`LATEST_DAY`)."""
    return EARLIEST_DAY <= value <= LATEST_DAY
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def limit(kind: str) -> int:
    return LIMITS[kind]


def carried_why(because: str) -> str:
    """The next why of the five whys, asked of the step before's because: "It was wedged."
    gives "Why: it was wedged?" (static/whys.js fills the box with the same words as people type)."""
    text = because.strip().rstrip(".!?").strip()
    return f"Why: {text[:1].lower()}{text[1:]}?"[: LIMITS["why"]]


class FieldErrors:
    """Check fields one by one, collecting each one's problem; then raise them together.

    >>> errors = FieldErrors()
    >>> title = errors.text("title", data.get("title"), "title", required=True, label="A title")
    >>> errors.raise_if_any("The finding is not valid.")
    """

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def __contains__(self, field: str) -> bool:
        return field in self.fields

    def __bool__(self) -> bool:
        return bool(self.fields)

    def text(self, field: str, value, kind: str = "text", *, required: bool = False,
             label: str | None = None) -> str:
        """Return `value` stripped; note a value that is not text, missing or too long."""
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.add(field, "Must be text.")
            return ""
        value = value.strip()
        if required and not value:
            self.add(field, f"{label} is required." if label else "Must not be empty.")
        elif len(value) > LIMITS[kind]:
            self.add(field, f"At most {LIMITS[kind]:,} characters (this has {len(value):,}).")
        return value

    def date(self, field: str, value, *, required: bool = False, label: str = "A date") -> date | None:
        """Return `value` as a date (a date or an ISO string); note anything else."""
        if value in (None, ""):
            if required:
                self.add(field, f"{label} is required.")
            return None
        day = None
        if isinstance(value, datetime):
            day = value.date()
        elif isinstance(value, date):
            day = value
        elif isinstance(value, str):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                pass
        if day is None:
            self.add(field, "Use a date like 2026-01-31.")
        elif not day_in_range(day):
            self.add(field, DAY_RANGE_MESSAGE)
            day = None
        return day

    def one_of(self, field: str, value, allowed) -> str | None:
        allowed = [str(getattr(choice, "value", choice)) for choice in allowed]
        if value not in allowed:
            self.add(field, f"Must be one of {', '.join(allowed)}.")
            return None
        return value

    def choices(self, field: str, value, options) -> list:
        """Return a multiple-choice answer as a list of distinct `options`, in the options' order.

        The device sends a list of the chosen options' texts; anything else (a lone string,
        an unknown or repeated value, more values than options) is noted.
        """
        if not isinstance(value, list):
            self.add(field, "Choose from the options as a list, e.g. [\"Noise\"].")
            return []
        if len(value) > min(MAX_OPTIONS, len(options)):
            self.add(field, f"At most {min(MAX_OPTIONS, len(options))} choices.")
            return []
        if not all(isinstance(v, str) for v in value):
            self.add(field, "Each choice is one of the options' texts.")
            return []
        unknown = [v for v in value if v not in options]
        if unknown:
            self.add(field, f"Not an option: {', '.join(repr(v[:80]) for v in unknown[:5])}.")
            return []
        if len(set(value)) != len(value):
            self.add(field, "Each option can be chosen once.")
            return []
        return [option for option in options if option in value]

    def whys(self, field: str, value, *, required: bool = True) -> list[dict]:
        """Return the five whys as [{why, because}]: 1 to 5 steps, each with both parts.

        Empty rows (an unused pair of boxes on a form) are dropped. A step after the first
        with a because and no why asks why of the step before's because: that is carried in
        as its why (`carried_why`), as the five whys are asked.
        """
        if value is None:
            value = []
        if not isinstance(value, list):
            self.add(field, "The five whys must be a list of {why, because} steps.")
            return []
        steps = []
        for step in value:
            if not isinstance(step, dict) or not all(isinstance(step.get(k) or "", str) for k in ("why", "because")):
                self.add(field, "Each step needs a why and a because, as text.")
                return []
            why, because = (step.get("why") or "").strip(), (step.get("because") or "").strip()
            if not why and not because:
                continue
            if not why and because and steps:
                why = carried_why(steps[-1]["because"])
            if not why or not because:
                self.add(field, "Each step needs both a why and a because.")
                return []
            if max(len(why), len(because)) > LIMITS["why"]:
                self.add(field, f"At most {LIMITS['why']:,} characters per why and per because.")
                return []
            steps.append({"why": why, "because": because})
        if len(steps) > MAX_WHYS:
            self.add(field, f"At most {MAX_WHYS} whys.")
        elif required and not steps:
            self.add(field, "Ask why at least once to get to the root cause.")
        return steps

    def capture_times(self, field: str, value, now: datetime) -> dict[str, datetime]:
        """Return {sha256: aware datetime} - when the device says each photo was taken.

        An ISO time with its offset, from 2000 to a day past `now` (a fast device clock).
        """
        if value in (None, {}):
            return {}
        if not isinstance(value, dict) or len(value) > MAX_PHOTOS:
            self.add(field, f"Must map at most {MAX_PHOTOS} photo hashes to the time each was taken.")
            return {}
        times = {}
        for sha, when in value.items():
            parsed = None
            if isinstance(when, str):
                try:
                    parsed = datetime.fromisoformat(when.replace("Z", "+00:00"))
                except ValueError:
                    parsed = None
            if not isinstance(sha, str) or not _SHA256.fullmatch(sha.lower()):
                self.add(field, f"{str(sha)[:80]!r} is not a SHA-256 hash.")
            elif parsed is None or parsed.tzinfo is None:
                self.add(field, "Use a time with its offset, like 2026-12-01T10:15:00Z.")
            elif not EARLIEST_CAPTURE <= parsed <= now + CAPTURE_CLOCK_SKEW:
                self.add(field, "A photo cannot have been taken before 2000 or in the future.")
            else:
                times[sha.lower()] = parsed.astimezone(timezone.utc)
        return times

    def moment(self, field: str, value, now: datetime, *, earliest: datetime = EARLIEST_CAPTURE,
               label: str = "The time") -> datetime | None:
        """Return an ISO time with its offset as an aware UTC datetime, from `earliest` to a
        day past `now` (a fast device clock); note anything else."""
        parsed = None
        if isinstance(value, str) and len(value) <= 40:
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                parsed = None
        if parsed is None or parsed.tzinfo is None:
            self.add(field, "Use a time with its offset, like 2026-12-01T10:15:00Z.")
            return None
        if not earliest <= parsed <= now + CAPTURE_CLOCK_SKEW:
            self.add(field, f"{label} cannot be before {earliest:%Y-%m-%d} or in the future.")
            return None
        return parsed.astimezone(timezone.utc)

    def sha256(self, field: str, value) -> str | None:
        """Return `value` as a lower-case SHA-256 hex digest; note anything else."""
        if not isinstance(value, str) or not _SHA256.fullmatch(value.lower()):
            self.add(field, f"{str(value)[:80]!r} is not a SHA-256 hash.")
            return None
        return value.lower()

    def annotations(self, field: str, value, photos) -> dict[str, str]:
        """Return {annotated sha256: original sha256}: each annotated copy a photo the record
        holds, drawn on another photo the record holds that is not itself an annotation."""
        if value in (None, {}):
            return {}
        if not isinstance(value, dict) or len(value) > MAX_PHOTOS:
            self.add(field, f"Must map at most {MAX_PHOTOS} annotated photos to the photo each was drawn on.")
            return {}
        held = {sha.lower() for sha in (photos or []) if isinstance(sha, str)}
        pairs = {}
        for annotated, original in value.items():
            annotated, original = self.sha256(field, annotated), self.sha256(field, original)
            if annotated is None or original is None:
                continue
            if annotated == original:
                self.add(field, "A photo cannot annotate itself.")
            elif annotated not in held or original not in held:
                self.add(field, "An annotated photo and the photo it was drawn on must both be among the record's photos.")
            else:
                pairs[annotated] = original
        if set(pairs) & set(pairs.values()):
            self.add(field, "Annotate the original photo, not an annotated copy.")
            return {}
        return pairs

    def raise_if_any(self, message: str) -> None:
        """:raise Invalid: with `message` and every field's problem, if there is one."""
        if self.fields:
            raise Invalid(message, self.fields)

