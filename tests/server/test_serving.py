"""`gemba serve` as shipped: slow clients cannot starve others, slow links land, cut downloads say so."""

import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from server import serving
from tests import images

GEMBA = str(Path(sys.executable).with_name("gemba"))
PASSWORD = "a long enough password for serving"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _until(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (value := check()) is not None:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _healthz(port: int, timeout: float = 10) -> float | None:
    started = time.monotonic()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        connection.close()
    except OSError:
        return None
    return time.monotonic() - started if response.status == 200 else None


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`gemba serve` in its own process on SQLite: one worker of four threads (port, token)."""
    directory = tmp_path_factory.mktemp("served")
    env = os.environ | {
        "GEMBA_DATABASE_URL": f"sqlite:///{directory / 'gemba.db'}",
        "GEMBA_PHOTO_DIR": str(directory / "photos"),
        "GEMBA_SECRET_KEY": "serving test",
    }

    def gemba(*args, stdin=None) -> str:
        done = subprocess.run([GEMBA, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    gemba("db", "upgrade")
    gemba("users", "add", "field@example.test", "--role", "staff", stdin=PASSWORD + "\n")
    token = gemba("tokens", "create", "field@example.test").strip().splitlines()[-1]
    port = _free_port()
    log = (directory / "serve.log").open("w")
    process = subprocess.Popen([GEMBA, "serve", "--port", str(port), "--workers", "1", "--threads", "4"],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _until(lambda: _healthz(port, timeout=1), 60, "gemba serve to answer /healthz")
        yield port, token
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def _slow_upload_headers(token: str, sha: str, length: int) -> bytes:
    return (f"PUT /api/photos/{sha} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: image/jpeg\r\nContent-Length: {length}\r\n\r\n").encode()


def test_fifty_slow_bodies_do_not_starve_healthz(served):
    port, token = served
    slow = []
    for n in range(50):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(_slow_upload_headers(token, images.sha(str(n).encode()), 1_000_000))
        slow.append(sock)
    stop = threading.Event()

    def trickle():  # two bytes a second on every connection, as the report's attacker did
        while not stop.wait(0.5):
            for sock in slow:
                try:
                    sock.send(b"x")
                except OSError:
                    pass

    trickler = threading.Thread(target=trickle)
    trickler.start()
    try:
        times = [_healthz(port) for _ in range(40)]
    finally:
        stop.set()
        trickler.join()
        for sock in slow:
            sock.close()
    assert None not in times, "a /healthz request failed or timed out"
    p95 = statistics.quantiles(times, n=20)[-1]
    # the goal is 100 ms (bench.slow_clients measures it); this machine is shared, so the
    # test allows more - starved, the request would wait for the 30 s of a blocked worker
    assert p95 < 1.0, f"/healthz p95 {p95 * 1000:.0f} ms with 50 slow uploads open"


def test_a_photo_over_a_128_kbit_link_lands(served):
    port, token = served
    data = images.noisy_jpeg(400, 400)
    assert len(data) > 60_000  # several seconds at 16 KB/s
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(_slow_upload_headers(token, images.sha(data), len(data)))
    piece = 1024  # 1 KB every 1/16 s: 128 kbit/s
    started = time.monotonic()
    for at in range(0, len(data), piece):
        sock.sendall(data[at:at + piece])
        time.sleep(max(0.0, started + (at + piece) / 16384 - time.monotonic()))
    response = http.client.HTTPResponse(sock)
    response.begin()
    body = response.read()
    sock.close()
    assert response.status == 201, body[:300]
    assert time.monotonic() - started >= len(data) / 16384 * 0.9


def _run(app):
    sock = serving.listen("127.0.0.1", 0)
    server = serving.make_server(app, sock, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return server, sock.getsockname()[1]


def test_a_download_cut_midway_is_an_error_for_the_client_never_a_whole_file():
    def export(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/csv")])

        def rows():
            for n in range(2000):
                yield f"{n},finding {n}\n".encode()
            raise RuntimeError("the database went away mid-export")
        return rows()

    server, port = _run(export)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/findings.csv")
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Transfer-Encoding") == "chunked"
        with pytest.raises(http.client.IncompleteRead):
            response.read()
    finally:
        server.close()


def test_a_long_streamed_download_to_a_slow_reader_completes():
    rows = 5_000

    def export(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/csv")])
        return (f"{n},{'x' * 90}\n".encode() for n in range(rows))

    server, port = _run(export)
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.sendall(b"GET /export.csv HTTP/1.1\r\nHost: x\r\n\r\n")
        response = http.client.HTTPResponse(sock)
        response.begin()
        received = b""
        while chunk := response.read(16384):
            received += chunk
            time.sleep(0.01)  # a slow reader: the server holds the rest in its buffer
        sock.close()
    finally:
        server.close()
    assert received.count(b"\n") == rows


def test_the_server_takes_bodies_as_large_as_the_largest_route_allows(app):
    # documents may be larger than photos: waitress must not refuse them before the route decides
    limit = serving.body_limit(app.config)
    assert limit > app.config["GEMBA_MAX_DOCUMENT_BYTES"]
    assert limit > app.config["GEMBA_MAX_PHOTO_BYTES"]
