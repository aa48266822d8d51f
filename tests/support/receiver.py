"""A webhook receiver for tests and benchmarks: a small HTTP server on loopback, in a thread, that keeps
every request it is sent and answers each with the next status of a script (then 204)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    """time.perf_counter() when it was read."""


@dataclass
class Receiver:
    url: str
    statuses: list[int] = field(default_factory=list)
    """What the next requests are answered, in order; 204 once it runs out."""
    hold: Callable[[Received], None] | None = None
    """Called before answering: a test can keep the sender waiting."""
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """The requests once `count` have arrived; AssertionError if they do not within `timeout`."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"{len(self.received)} requests arrived in {timeout} s, not {count}")
            return list(self.received)


@contextmanager
def receiver(statuses: list[int] | None = None, hold: Callable[[Received], None] | None = None) -> Iterator[Receiver]:
    state: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            request = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.perf_counter())
            with state.arrived:
                state.received.append(request)
                status = state.statuses.pop(0) if state.statuses else 204
                state.arrived.notify_all()
            if state.hold is not None:
                state.hold(request)
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/moved")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state = Receiver(f"http://127.0.0.1:{server.server_port}/hooks", list(statuses or []), hold)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
