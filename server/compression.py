"""gzip for large JSON answers (pull, snapshot, bootstrap, lists) when the client accepts it.

A first sync or a supervisor's snapshot is mostly repeated keys and ids: gzip makes it
several times smaller on a phone's connection for a few milliseconds of server time.
Only JSON bodies of at least `MIN_BYTES` are compressed, and never a streamed one: a
streamed JSON answer (`stream_json`, e.g. the competence matrix) is gzipped as it is written.
"""

import gzip
import zlib
from collections.abc import Iterable, Iterator

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


def stream_json(chunks: Iterable[str]) -> Response:
    """A streamed JSON answer (written as it is made), gzipped as it goes when the client accepts it."""
    response = Response(_encoded(chunks), mimetype="application/json")
    response.vary.add("Accept-Encoding")
    if accepts_gzip():
        response.response = _gzipped(response.response)
        response.headers["Content-Encoding"] = "gzip"
    return response


def _encoded(chunks: Iterable[str]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk.encode()


def _gzipped(chunks: Iterable[bytes]) -> Iterator[bytes]:
    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # 16+: a gzip header and trailer
    for chunk in chunks:
        if packed := packer.compress(chunk):
            yield packed
    yield packer.flush()


def init_app(app: Flask) -> None:
    app.after_request(compress)
