"""Text the register can store: NUL characters are refused at the door.

PostgreSQL text cannot hold U+0000, so a NUL in a form, a query string or a JSON body would
fail deep inside a write as a 500. It is refused up front with a 400 that says why. Photo
bytes are not text and are not looked at; a sync push is checked op by op in the sync
engine, so that one bad op is rejected and the others still apply.
"""

from flask import Flask, request

from .errors import error_response

NUL = "\x00"
OP_BY_OP = {"sync.push"}
MESSAGE = "Text may not contain NUL characters (U+0000); remove them and send it again."


def has_nul(value) -> bool:
    """Whether `value` (text, or JSON made of dicts, lists and text) holds a NUL anywhere."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(item) for item in value)
    return False


def _fields_with_nul(pairs) -> list[str]:
    return sorted({key.replace(NUL, "") for key, value in pairs if NUL in key or NUL in value})


def init_app(app: Flask) -> None:
    @app.before_request
    def refuse_nul():
        if request.endpoint in OP_BY_OP:
            return None
        fields = _fields_with_nul(request.args.items(multi=True))
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            fields += _fields_with_nul(request.form.items(multi=True))
        if not fields and request.is_json and has_nul(request.get_json(silent=True)):
            fields = ["_body"]
        if fields:
            return error_response(400, "nul_character", MESSAGE, {name: ["Contains a NUL character."] for name in fields})
        return None
