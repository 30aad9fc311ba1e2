"""Slow clients against `gemba serve`: /healthz with 50 slow uploads open, and a 2 MB photo at 128 kbit/s.

    .venv/bin/python -m bench slow_clients

`gemba serve` as shipped (waitress, 2 workers x 8 threads) on SQLite in a temporary
directory. The floor is /healthz on the same server with no slow connection open,
measured in the same run. Then 50 connections each announce a 1 MB photo upload and send
two bytes a second while 200 /healthz requests are timed; then one 2 MB photo is sent at
128 kbit/s (about 130 s) and must be stored (201). With `--gunicorn`, the same /healthz
part runs against gunicorn's sync workers (what `gemba serve` ran before) for comparison.

Goals (issue 10): /healthz p95 <= 100 ms with 50 slow connections; the 2 MB upload lands.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.server.test_serving import GEMBA, PASSWORD, _free_port, _healthz, _slow_upload_headers, _until

OUT = Path(__file__).resolve().parent / "out" / "slow_clients.json"
SLOW = 50
REQUESTS = 200
RATE = 16_000  # bytes a second: 128 kbit/s


def _timings(port: int, count: int) -> dict:
    times = [_healthz(port, timeout=5) for _ in range(count)]
    ok = [t for t in times if t is not None]
    return {"requests": count, "failed": count - len(ok),
            "p50_ms": round(statistics.median(ok) * 1000, 1) if ok else None,
            "p95_ms": round(statistics.quantiles(ok, n=20)[-1] * 1000, 1) if len(ok) > 1 else None}


def _with_slow_connections(port: int, token: str, requests: int = REQUESTS) -> dict:
    slow = []
    for n in range(SLOW):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(_slow_upload_headers(token, f"{n:064x}", 1_000_000))
        slow.append(sock)
    stop = threading.Event()

    def trickle():
        while not stop.wait(0.5):
            for sock in slow:
                try:
                    sock.send(b"x")
                except OSError:
                    pass

    thread = threading.Thread(target=trickle)
    thread.start()
    try:
        return _timings(port, requests)
    finally:
        stop.set()
        thread.join()
        for sock in slow:
            sock.close()


def _throttled_upload(port: int, token: str, data: bytes) -> dict:
    import hashlib
    import http.client
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(_slow_upload_headers(token, hashlib.sha256(data).hexdigest(), len(data)))
    started = time.monotonic()
    try:
        for at in range(0, len(data), 2000):
            sock.sendall(data[at:at + 2000])
            time.sleep(max(0.0, started + (at + 2000) / RATE - time.monotonic()))
        response = http.client.HTTPResponse(sock)
        response.begin()
        response.read()
        status = response.status
    except OSError as exc:
        status = f"{type(exc).__name__}: {exc}"
    finally:
        sock.close()
    return {"bytes": len(data), "seconds": round(time.monotonic() - started, 1), "status": status}


def _server(command: list[str], env: dict, port: int):
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _until(lambda: _healthz(port, timeout=1), 60, "the server")
    return process


def main(gunicorn: bool = "--gunicorn" in sys.argv) -> dict:
    from bench import images
    report = {"load_before": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as directory:
        env = os.environ | {"GEMBA_DATABASE_URL": f"sqlite:///{directory}/gemba.db",
                            "GEMBA_PHOTO_DIR": f"{directory}/photos", "GEMBA_SECRET_KEY": "bench"}

        def gemba(*args, stdin=None):
            return subprocess.run([GEMBA, *args], env=env, input=stdin, capture_output=True, text=True,
                                  check=True).stdout

        gemba("db", "upgrade")
        gemba("users", "add", "field@example.test", "--role", "staff", stdin=PASSWORD + "\n")
        token = gemba("tokens", "create", "field@example.test").strip().splitlines()[-1]
        port = _free_port()
        process = _server([GEMBA, "serve", "--port", str(port)], env, port)
        try:
            report["floor"] = _timings(port, REQUESTS)
            report["with_slow"] = _with_slow_connections(port, token)
            photo = images.device_2048()
            photo += bytes(2_100_000 - len(photo))  # after the end marker: still one whole JPEG
            report["upload_2mb_128kbit"] = _throttled_upload(port, token, photo)
        finally:
            process.terminate()
            process.wait(30)
        if gunicorn:
            port = _free_port()
            process = _server([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                               "server:create_app()"], env, port)
            try:
                # 20 requests: each may wait out its 5 s timeout here
                report["gunicorn_sync_with_slow"] = _with_slow_connections(port, token, 20)
            finally:
                process.terminate()
                process.wait(30)
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    p95 = report["with_slow"]["p95_ms"]
    report["met"] = {"healthz": p95 is not None and p95 <= 100 and not report["with_slow"]["failed"],
                     "upload": report["upload_2mb_128kbit"]["status"] == 201}
    print(json.dumps(report, indent=2))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
