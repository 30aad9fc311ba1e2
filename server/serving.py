"""`gemba serve`: waitress, so that slow clients cannot starve the others.

Why waitress (README, "Slow clients"): its one event loop per process reads every
request - headers and the whole body - before any worker thread sees it (bodies over
512 KB are buffered to a temporary file), and writes every response out of a buffer. A
phone trickling a photo over a bad link therefore holds a socket, never a thread; fifty
of them cost fifty sockets, and /healthz is still answered at once. There is no worker
timeout either: a 2 MB photo that takes two minutes at 128 kbit/s lands, and a CSV
export that streams for minutes completes. Only a connection silent for
`channel_timeout` (120 s) is closed. A response that fails midway is sent chunked and
ends without its last chunk, so a client sees a cut download as an error, never as a
whole file.

gunicorn's sync workers (what was here) give each connection a whole process until its
body is read, and kill a worker after 30 s - a 1.1 MB photo at 128 kbit/s could never
land, and a long export was cut silently. Its threaded workers still let a slow body hold
a thread; making them safe needs a buffering proxy in front, which Gemba does not require.

`--workers N` forks N waitress processes that share one listening socket (the kernel
hands each new connection to one of them), so photo decoding can use more than one
core; the parent restarts a worker that dies and stops them all on SIGTERM or SIGINT.
"""

import os
import signal
import socket
import sys
import time

# A connection quiet for this long is closed; a slow but moving upload never is.
CHANNEL_TIMEOUT = 120


def make_server(app, sock: socket.socket, threads: int = 8, connections: int = 1000,
                body_limit: int = 21 * 1024 * 1024):
    """The waitress server Gemba runs `app` (any WSGI app) with on `sock`; `.run()` serves."""
    from waitress.server import create_server

    return create_server(
        app,
        sockets=[sock],
        threads=threads,
        connection_limit=connections,
        channel_timeout=CHANNEL_TIMEOUT,
        max_request_body_size=body_limit,
        # poll(), not select(): select() cannot watch a descriptor numbered past 1024
        asyncore_use_poll=True,
        # X-Forwarded-* are the app's to judge (GEMBA_TRUSTED_PROXIES, server/proxies.py)
        clear_untrusted_proxy_headers=False,
        ident="gemba",
    )


def body_limit(config) -> int:
    """The largest body any route takes (each route checks its own, smaller limit too)."""
    mb = 1024 * 1024
    return max(config.get("MAX_CONTENT_LENGTH") or 0, config.get("GEMBA_MAX_PHOTO_BYTES", 0) + mb,
               config.get("GEMBA_MAX_DOCUMENT_BYTES", 0) + mb, 21 * mb)


def _serve_forever(sock: socket.socket, threads: int, connections: int) -> None:
    from . import create_app

    app = create_app()
    server = make_server(app, sock, threads, connections, body_limit=body_limit(app.config))
    print(f"gemba: worker {os.getpid()} serving on http://{sock.getsockname()[0]}:{sock.getsockname()[1]} "
          f"({threads} threads)", file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: server.close() or sys.exit(0))
    try:
        server.run()
    except KeyboardInterrupt:
        pass


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=1024)
    sock.set_inheritable(True)
    return sock


def serve(host: str, port: int, workers: int = 1, threads: int = 8, connections: int = 1000) -> None:
    """Serve Gemba until stopped (see the module). Does not return."""
    sock = listen(host, port)
    if workers <= 1:
        _serve_forever(sock, threads, connections)
        return
    children: dict[int, int] = {}
    stopping = False

    def start(slot: int) -> None:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            try:
                _serve_forever(sock, threads, connections)
            finally:
                os._exit(0)
        children[pid] = slot

    def stop(*_) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for slot in range(workers):
        start(slot)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        slot = children.pop(pid, None)
        if slot is not None and not stopping:
            print(f"gemba: worker {pid} exited ({status}); starting another", file=sys.stderr, flush=True)
            time.sleep(0.5)  # a worker that cannot start at all must not spin
            start(slot)
    sys.exit(0)
