"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for email tests."""

import re
import socket
from email import message_from_bytes

from aiosmtpd.controller import Controller


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address: str) -> list:
        return [message for recipients, message in self.messages if address in recipients]

    def link_for(self, address: str) -> str:
        """The last set-your-password link emailed to `address`."""
        body = self.to(address)[-1].get_payload(decode=True).decode()
        return re.search(r"https?://\S+/welcome/\S+", body).group(0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailServer:
    """Start with `start()`, read `inbox`, `stop()` at the end."""

    def __init__(self):
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> "MailServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
