"""`make demo` (scripts/demo.py) run as a process: with no gateway where it looks, or one that stops
answering, it says so in one line (exit code 2) and looks at GATEWAY_URL, else GATEWAY_PORT on loopback.
The demo against a real gateway is tests/e2e/test_lifecycle.py."""

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.conftest import ROOT
from tests.support.servers import free_port

HOLDING = "the gateway at {url} stopped answering (RemoteProtocolError): is make run still running?"


def demo(**env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    return subprocess.run(
        [sys.executable, "scripts/demo.py"], env={**environment, **env}, cwd=ROOT, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60,
    )


def assert_one_line(done: subprocess.CompletedProcess, line: str) -> None:
    assert (done.returncode, done.stderr, done.stdout) == (2, line + "\n", "")


def test_no_gateway_on_gateway_port_is_one_line_before_any_question():
    port = free_port()
    done = demo(GATEWAY_PORT=str(port))  # no credentials either: the missing gateway is said first
    assert_one_line(done, f"no gateway at http://127.0.0.1:{port}: start it with make run "
                          "(or set GATEWAY_URL or GATEWAY_PORT)")


def test_gateway_url_wins_over_gateway_port():
    port = free_port()
    done = demo(GATEWAY_URL=f"http://127.0.0.1:{port}/", GATEWAY_PORT="1")
    assert_one_line(done, f"no gateway at http://127.0.0.1:{port}: start it with make run "
                          "(or set GATEWAY_URL or GATEWAY_PORT)")


class _Stub(BaseHTTPRequestHandler):
    """Alive at /healthz, then gone: it drops every other request unanswered."""

    def do_GET(self) -> None:
        if self.path != "/healthz":
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "15")
        self.end_headers()
        self.wfile.write(b'{"status":"ok"}')

    def do_POST(self) -> None:
        self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def stub(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_gateway_that_stops_answering_is_one_line():
    with stub(_Stub) as url:
        done = demo(GATEWAY_URL=url, GATEWAY_ADMIN_EMAIL="admin@localhost", GATEWAY_ADMIN_PASSWORD="not used")
    assert_one_line(done, HOLDING.format(url=url))


class _NotAGateway(_Stub):
    def do_GET(self) -> None:
        self.send_error(404)


def test_something_else_on_the_port_is_no_gateway():
    with stub(_NotAGateway) as url:
        done = demo(GATEWAY_URL=url)
    assert_one_line(done, f"no gateway at {url}: start it with make run (or set GATEWAY_URL or GATEWAY_PORT)")
