"""Real parts for the notification tests: a local SMTP server (aiosmtpd) and a local webhook receiver."""

import json
import socket
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05):
    """Poll `predicate` until it returns something true, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {predicate}")
        time.sleep(interval)


class Inbox:
    """aiosmtpd handler keeping every message it accepted."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"

    def to(self, address: str) -> list:
        return [message for rcpts, message in self.messages if address in rcpts]


class SmtpServer:
    def __init__(self, port: int | None = None):
        self.inbox = Inbox()
        self.port = port or free_port()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Receiver:
    """A webhook receiver on loopback. `answers` is a list of statuses to give first (then 200)."""

    def __init__(self, answers=(), delay: float = 0.0):
        self.received: list[dict] = []
        self.answers = list(answers)
        self.delay = delay
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay:
                    time.sleep(receiver.delay)  # a slow receiver, not synchronisation
                with receiver.lock:
                    status = receiver.answers.pop(0) if receiver.answers else 200
                    receiver.received.append({"headers": dict(self.headers), "body": body, "status": status})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def delivered(self) -> list[dict]:
        with self.lock:
            return [r for r in self.received if r["status"] == 200]

    def json(self, item) -> dict:
        return json.loads(item["body"])
