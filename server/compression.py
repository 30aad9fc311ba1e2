"""gzip for large JSON answers (pull, snapshot, bootstrap, lists) when the client accepts it.

A first sync or a supervisor's snapshot is mostly repeated keys and ids: gzip makes it
several times smaller on a phone's connection for a few milliseconds of server time.
Only JSON bodies of at least `MIN_BYTES` are compressed, and never a streamed one.
"""

import gzip

from flask import Flask, Response, request

MIN_BYTES = 1024
LEVEL = 5  # most of level 9's saving on JSON at a fraction of its time


def accepts_gzip() -> bool:
    for part in request.headers.get("Accept-Encoding", "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def compress(response: Response) -> Response:
    if (response.direct_passthrough or response.is_streamed or response.status_code < 200
            or response.status_code in (204, 304) or "Content-Encoding" in response.headers
            or response.mimetype != "application/json"):
        return response
    response.vary.add("Accept-Encoding")
    if not accepts_gzip():
        return response
    body = response.get_data()
    if len(body) < MIN_BYTES:
        return response
    response.set_data(gzip.compress(body, compresslevel=LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    if response.headers.get("ETag"):
        response.headers["ETag"] = response.headers["ETag"].rstrip('"') + '-gzip"'
    return response


def init_app(app: Flask) -> None:
    app.after_request(compress)
