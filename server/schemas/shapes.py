"""Field shapes shared by the API's schemas.

Schemas check shape and type only; the value rules (lengths, required text, the five
whys) live in `server.fieldrules`, which every path calls. A text field still states
its limit here so that `/api/openapi.json` documents what the server refuses.
"""

import marshmallow as ma
from marshmallow import fields as f

from ..fieldrules import DAY_RANGE_MESSAGE, EARLIEST_DAY, LATEST_DAY, LIMITS, day_in_range


class Strict(ma.Schema):
    """Unknown names are refused, so a typo never vanishes silently."""

    class Meta:
        unknown = ma.RAISE


def text_field(kind: str = "text", *, description: str | None = None, **kwargs) -> f.String:
    """A text field of `kind` (a key of `fieldrules.LIMITS`), documented with its limit."""
    refused = "No NUL character, no lone surrogate (U+D800-U+DFFF)."
    metadata = {"maxLength": LIMITS[kind], "description": f"{description} {refused}" if description else refused}
    return f.String(metadata=metadata, **kwargs)


class Day(f.Date):
    """A date (YYYY-MM-DD) between `fieldrules.EARLIEST_DAY` and `LATEST_DAY`: 0001-01-01 or
    9999-12-31 would overflow the first period added to them or time zone moved into."""

    def __init__(self, *args, **kwargs):
        metadata = {"x-earliest": EARLIEST_DAY.isoformat(), "x-latest": LATEST_DAY.isoformat()} | kwargs.pop("metadata", {})
        super().__init__(*args, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        if day is not None and not day_in_range(day):
            raise ma.ValidationError(DAY_RANGE_MESSAGE)
        return day


class WhySchema(Strict):
    """One step of the five whys."""

    why = text_field("why", load_default="")
    because = text_field("why", load_default="")
