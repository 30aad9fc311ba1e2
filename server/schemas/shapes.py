"""Field shapes shared by the API's schemas.

Schemas check shape and type only; the value rules (lengths, required text, the five
whys) live in `server.fieldrules`, which every path calls. A text field still states
its limit here so that `/api/openapi.json` documents what the server refuses.
"""

import marshmallow as ma
from marshmallow import fields as f

from ..fieldrules import LIMITS


class Strict(ma.Schema):
    """Unknown names are refused, so a typo never vanishes silently."""

    class Meta:
        unknown = ma.RAISE


def text_field(kind: str = "text", *, description: str | None = None, **kwargs) -> f.String:
    """A text field of `kind` (a key of `fieldrules.LIMITS`), documented with its limit."""
    refused = "No NUL character, no lone surrogate (U+D800-U+DFFF)."
    metadata = {"maxLength": LIMITS[kind], "description": f"{description} {refused}" if description else refused}
    return f.String(metadata=metadata, **kwargs)


class WhySchema(Strict):
    """One step of the five whys."""

    why = text_field("why", load_default="")
    because = text_field("why", load_default="")
