"""Real peers for outgoing messages: an SMTP server (aiosmtpd) and an HTTP receiver, run by the tests.

The HTTP receiver checks Accord's webhook signature the way docs/notifications.md tells
integrators to, and can be switched to answer 503 or to refuse connections, then back.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from accord.notifications.domain import verify_signature


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpReceiver:
    """An aiosmtpd server on a free local port that keeps every message it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def start(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool | None  # None when the receiver was given no secret to check against
    at: float = field(default_factory=time.monotonic)


class HttpReceiver:
    """A threaded HTTP server that records POSTs; `mode` is "up", "503" or (via `down()`) refusing."""

    def __init__(self) -> None:
        self.port = free_port()
        self.secret: str | None = None
        self.mode = "up"
        self.delay = 0.0  # seconds each answer takes, to catch a worker mid-batch
        self.received: list[Received] = []
        self.refused_503 = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if receiver.mode == "503":
                    with receiver._lock:
                        receiver.refused_503 += 1
                    self._answer(503, b"busy")
                    return
                if receiver.delay:
                    time.sleep(receiver.delay)
                ok = None
                if receiver.secret is not None:
                    ok = verify_signature(
                        secret=receiver.secret, timestamp=self.headers.get("X-Accord-Timestamp", ""),
                        body=body, header=self.headers.get("X-Accord-Signature", ""),
                        now=int(time.time()),
                    )
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers), body, ok))
                self._answer(200 if ok is not False else 401, b"ok" if ok is not False else b"bad signature")

            def _answer(self, code: int, text: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args):
                pass

        return Handler

    def up(self) -> HttpReceiver:
        """Listen (again) on the same port."""
        self.mode = "up"
        if self._server is None:
            self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
            self._server.daemon_threads = True
            self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
            self._thread.start()
        return self

    def down(self) -> None:
        """Stop listening: connections are refused until `up()`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def count(self) -> int:
        with self._lock:
            return len(self.received)
