"""Text the register can store: one gate for what requests carry, before any view reads it.

PostgreSQL text cannot hold U+0000, and no UTF-8 text can hold a lone UTF-16 surrogate
(U+D800-U+DFFF, which a JSON `"\\ud800"` escape makes); either would fail deep inside a
write as a 500. JSON nested deeper than `MAX_DEPTH` would exhaust the stack of whatever
walks it. All three are refused up front with a 400 that says why: in query strings, form
fields and JSON bodies, on every route, the anonymous sign-in included. Photo bytes are
not text and are not looked at. A sync push is checked here for depth only; its ops' text
is checked op by op in the sync engine (`problem` on each op), so that one bad op is
rejected and the others still apply. Code that parses JSON of its own (a checklist file)
uses `load_json` and `problem` the same way.
"""

import json
import re

from flask import Flask, request

from .errors import Invalid, error_response

NUL = "\x00"
MAX_DEPTH = 32  # a checklist file, the deepest thing anyone sends, is 5 levels deep
OP_BY_OP = {"sync.push"}
BAD_TEXT = re.compile("[\x00\ud800-\udfff]")

# code -> (message for a person, message for the field)
PROBLEMS = {
    "nul_character": ("Text may not contain NUL characters (U+0000); remove them and send it again.",
                      "Contains a NUL character."),
    "invalid_text": ("Text may not contain lone UTF-16 surrogates (U+D800 to U+DFFF): they are not characters. "
                     "Send valid Unicode text.", "Contains a lone surrogate (U+D800-U+DFFF)."),
    "too_deep": (f"The JSON is nested more than {MAX_DEPTH} levels deep; nothing here takes that. Send it flatter.",
                 f"Nested more than {MAX_DEPTH} levels deep."),
}
MESSAGE = PROBLEMS["nul_character"][0]  # kept for callers that only meet NULs


class BadText(Invalid):
    """Text the register cannot store, or JSON too deep to walk; `code` says which."""

    status = 400

    def __init__(self, code: str, field: str = "_body"):
        message, detail = PROBLEMS[code]
        super().__init__(message, {field: [detail]}, code=code)


def text_problem(text: str) -> str | None:
    """What is wrong with one string for storage, as a code of PROBLEMS, or None."""
    found = BAD_TEXT.search(text)
    if found is None:
        return None
    return "nul_character" if found.group() == NUL else "invalid_text"


def problem(value, max_depth: int = MAX_DEPTH) -> str | None:
    """What is wrong with `value` (text, or JSON made of dicts, lists, text, numbers), or None.

    Walks without recursion, so no depth of input can exhaust the stack; keys count as text.
    """
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if (found := text_problem(item)) is not None:
                return found
        elif isinstance(item, dict | list | tuple):
            if depth >= max_depth:
                return "too_deep"
            if isinstance(item, dict):
                for key, inner in item.items():
                    stack.append((key, depth + 1))
                    stack.append((inner, depth + 1))
            else:
                stack.extend((inner, depth + 1) for inner in item)
    return None


def has_nul(value) -> bool:
    """Whether `value` holds anything PostgreSQL cannot store (kept for older callers)."""
    return problem(value) is not None


def depth_problem(value) -> str | None:
    """`too_deep` when `value` nests deeper than MAX_DEPTH, whatever its text holds."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            if depth >= MAX_DEPTH:
                return "too_deep"
            stack.extend((inner, depth + 1) for inner in (item.values() if isinstance(item, dict) else item))
    return None


def load_json(raw: bytes | str):
    """Parse JSON that a person sent; too deep is a `BadText`, not a RecursionError (a 500).

    :raise ValueError: (json.JSONDecodeError, UnicodeDecodeError) when it is not JSON.
    """
    try:
        return json.loads(raw)
    except RecursionError:
        raise BadText("too_deep") from None


def refuse(value, field: str = "_body") -> None:
    """Raise `BadText` when `value` holds text the register cannot store or nests too deep."""
    if (code := problem(value)) is not None:
        raise BadText(code, field)


def _pairs_problems(pairs) -> dict[str, str]:
    found = {}
    for key, value in pairs:
        code = text_problem(key) or text_problem(value)
        if code is not None:
            found.setdefault(BAD_TEXT.sub("", key) or "_field", code)
    return found


def _body_problem(op_by_op: bool) -> str | None:
    if not request.is_json:
        return None
    raw = request.get_data(cache=True)
    if not raw:
        return None
    try:
        body = load_json(raw)
    except BadText as exc:
        return exc.code
    except ValueError:
        return None  # not JSON at all: the view's parser says so, with a 400 of its own
    return depth_problem(body) if op_by_op else problem(body)


def init_app(app: Flask) -> None:
    @app.before_request
    def refuse_bad_text():
        found = _pairs_problems(request.args.items(multi=True))
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            found |= _pairs_problems(request.form.items(multi=True))
        if not found and (code := _body_problem(request.endpoint in OP_BY_OP)):
            found = {"_body": code}
        if found:
            code = next(iter(found.values()))
            message = PROBLEMS[code][0]
            return error_response(400, code, message, {name: [PROBLEMS[c][1]] for name, c in found.items()})
        return None
