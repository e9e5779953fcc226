"""A real HTTP listener on 127.0.0.1 for webhook tests: it keeps what it is sent."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver(ThreadingHTTPServer):
    """Answers every POST with ``status`` and keeps its headers and body (thread-safe)."""

    daemon_threads = True

    def __init__(self, status: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status = status
        self.delay = 0.0  # seconds to wait before answering (a slow receiver)
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` requests arrived; False if they did not within ``timeout``."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.received) >= count, timeout)


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.arrived:
            self.server.received.append((dict(self.headers.items()), body))
            self.server.arrived.notify_all()
        time.sleep(self.server.delay)
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def serve(status: int) -> Iterator[Receiver]:
    """A running :class:`Receiver`, shut down when the generator is closed."""
    server = Receiver(status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
