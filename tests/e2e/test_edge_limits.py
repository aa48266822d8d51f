"""The shared edge on real server processes: the limits on a request's head, a body too slow to come, a
connection that outlives an unexpected error, and a client that goes away mid-request."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.shared.edge_app import FAILURE_MESSAGE
from tests.support.servers import RunningService, service

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("edge")


@pytest.fixture(scope="module")
def gateway(logs):
    # The gateway answers /healthz before it is set up; its database is an empty SQLite file.
    with service("gateway", "GATEWAY_", logs, {"DATABASE_URL": f"sqlite+aiosqlite:///{logs / 'edge.db'}"}) as running:
        yield running


@pytest.fixture(scope="module")
def edge_app(logs):
    with service("tests.shared.edge_app", "EDGE_APP_", logs, {"EDGE_APP_BODY_TIMEOUT_SECONDS": "1"}) as running:
        yield running


def port(running: RunningService) -> int:
    return int(running.url.rsplit(":", 1)[1])


def exchange(running: RunningService, request: bytes, timeout: float = 10.0) -> tuple[bytes, bool]:
    """Send raw bytes, read until the server closes; the answer, and whether the server closed by itself."""
    with socket.create_connection(("127.0.0.1", port(running)), timeout=timeout) as connection:
        try:
            connection.sendall(request)
        except OSError:  # closed while the rest was still on its way: what was answered is still read
            pass
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except TimeoutError:
            return answer, False
        except ConnectionResetError:
            pass
    return answer, True


def parse(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def healthz_seconds(running: RunningService) -> float:
    started = time.perf_counter()
    assert httpx.get(running.url + "/healthz", timeout=5).status_code == 200
    return time.perf_counter() - started


def rss_kb(running: RunningService) -> int:
    status = Path(f"/proc/{running.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


def test_a_1mb_header_is_refused_with_a_431_and_the_connection_closed(gateway):
    request = (b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Request-ID: big-header-1\r\nX-Filler: "
               + b"a" * 1024 * 1024 + b"\r\n\r\n")
    answer, closed = exchange(gateway, request)
    status, headers, body = parse(answer)
    assert (status, closed) == (431, True)
    assert headers["content-type"] == "application/problem+json"
    assert (headers["connection"], headers["x-request-id"]) == ("close", "big-header-1")
    assert httpx.Response(431, content=body).json() == {
        "type": "/problems/request-header-fields-too-large",
        "title": "Request header fields too large",
        "status": 431,
        "detail": "The request's headers are over 65536 bytes in all, the most accepted.",
        "errors": [{"field": "headers", "message": "over 65536 bytes in all"}],
    }
    assert healthz_seconds(gateway) < 0.5
    assert gateway.wait_for_log(
        lambda line: line["event"] == "request refused" and line["request_id"] == "big-header-1"
        and line["status"] == 431 and line["level"] == "warning"
    )
    assert "aaaaaaaa" not in gateway.log()


def test_a_64mb_header_neither_stalls_nor_swells_the_server(gateway):
    before = rss_kb(gateway)
    request = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Filler: " + b"b" * 64 * 1024 * 1024 + b"\r\n\r\n"
    answers: list[bytes] = []
    sender = threading.Thread(target=lambda: answers.append(exchange(gateway, request)[0]))
    sender.start()
    slowest = max(healthz_seconds(gateway) for _ in range(20))
    sender.join(30)
    assert parse(answers[0])[0] == 431
    assert slowest < 0.5
    assert rss_kb(gateway) - before < 16 * 1024  # kB: it held at most a read or two of it


def test_many_headers_over_the_limit_are_refused_naming_the_one_that_crossed_it(edge_app):
    headers = b"".join(b"X-Filler-%d: %s\r\n" % (n, b"v" * 1000) for n in range(80))
    status, _, body = parse(exchange(edge_app, b"GET /healthz HTTP/1.1\r\nHost: edge\r\n" + headers + b"\r\n")[0])
    assert status == 431
    assert httpx.Response(431, content=body).json()["errors"] == [
        {"field": "headers.x-filler-64", "message": "over 65536 bytes in all"}
    ]


def test_a_20kb_url_is_refused_with_a_414(gateway):
    target = b"/api/v1/frameworks?" + b"q=" + b"x" * 20 * 1024
    answer, closed = exchange(gateway, b"GET " + target + b" HTTP/1.1\r\nHost: gateway\r\n\r\n")
    status, headers, body = parse(answer)
    assert (status, closed, headers["content-type"]) == (414, True, "application/problem+json")
    assert httpx.Response(414, content=body).json() == {
        "type": "/problems/uri-too-long",
        "title": "URI too long",
        "status": 414,
        "detail": "The request's target (path and query) is over 8192 bytes, the most accepted.",
        "errors": [{"field": "target", "message": "over 8192 bytes"}],
    }
    assert healthz_seconds(gateway) < 0.5


def test_bytes_that_are_not_http_are_a_400_problem(edge_app):
    status, headers, body = parse(exchange(edge_app, b"NOT HTTP AT ALL\r\n\r\n")[0])
    assert (status, headers["content-type"]) == (400, "application/problem+json")
    assert httpx.Response(400, content=body).json()["detail"].startswith("The request could not be read as HTTP/1.1")


def test_the_limits_are_the_services_settings(logs):
    with service("tests.shared.edge_app", "EDGE_APP_", logs, {"EDGE_APP_MAX_HEADER_BYTES": "2048",
                                                               "EDGE_APP_MAX_REQUEST_LINE_BYTES": "512"}) as small:
        header = parse(exchange(small, b"GET /healthz HTTP/1.1\r\nHost: e\r\nX-A: " + b"a" * 3000 + b"\r\n\r\n")[0])
        url = parse(exchange(small, b"GET /healthz?" + b"q" * 600 + b" HTTP/1.1\r\nHost: e\r\n\r\n")[0])
        fits = httpx.get(small.url + "/healthz", headers={"X-A": "a" * 1500}, params={"q": "q" * 400}, timeout=5)
    assert (header[0], url[0], fits.status_code) == (431, 414, 200)
    assert b"over 2048 bytes" in header[2] and b"over 512 bytes" in url[2]


def test_a_body_trickling_in_is_a_408_the_client_reads_while_still_sending(edge_app):
    head = (b"POST /imports HTTP/1.1\r\nHost: edge\r\nContent-Type: text/csv\r\nContent-Length: 1000\r\n"
            b"X-Request-ID: trickle-2\r\n\r\n")
    answer, closed = b"", False
    with socket.create_connection(("127.0.0.1", port(edge_app)), timeout=0.2) as connection:
        connection.sendall(head)
        started = time.monotonic()
        while time.monotonic() - started < 10:
            try:
                connection.sendall(b"x")  # five bytes a second, before the answer and after it
                chunk = connection.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                closed = True
                break
            answer += chunk
        took = time.monotonic() - started
    status, headers, body = parse(answer)
    assert (status, headers["connection"], headers["x-request-id"], closed) == (408, "close", "trickle-2", True)
    assert httpx.Response(408, content=body).json()["detail"] == (
        "The request's body took longer than 1 seconds to arrive; send it again on a faster connection."
    )
    assert 1 <= took < 3


def test_a_client_whose_body_is_too_slow_reads_the_408(edge_app):
    def slowly():
        for _ in range(20):
            yield b"x"
            time.sleep(0.3)

    response = httpx.post(edge_app.url + "/imports", content=slowly(), headers={"Content-Type": "text/csv"},
                          timeout=10)
    assert (response.status_code, response.json()["type"]) == (408, "/problems/request-timeout")


def test_an_unexpected_error_leaves_the_connection_open_for_the_next_request(edge_app):
    def local_port(response: httpx.Response) -> int:
        return response.extensions["network_stream"].get_extra_info("client_addr")[1]

    with httpx.Client(base_url=edge_app.url, timeout=10) as client:
        failed = client.get("/boom", headers={"X-Request-ID": "boom-1"})
        failed_on = local_port(failed)
        after = client.get("/healthz")
        assert local_port(after) == failed_on  # one connection, kept open
    assert (failed.status_code, failed.headers["content-type"]) == (500, "application/problem+json")
    assert failed.headers["x-request-id"] == "boom-1" and "connection" not in failed.headers
    assert failed.json()["detail"] == "Quote request id boom-1 when reporting this."
    assert after.status_code == 200
    assert edge_app.wait_for_log(lambda line: line.get("path") == "/healthz" or line["event"] == "request")
    errors = [line for line in edge_app.json_log_lines() if line["event"] == "unhandled error"]
    assert [(e["level"], e["request_id"], e["path"], e["error"]) for e in errors] == [
        ("error", "boom-1", "/boom", "RuntimeError")
    ]
    assert "in fail" in errors[0]["traceback"]
    log = edge_app.log()
    assert FAILURE_MESSAGE not in log and "Exception in ASGI application" not in log


def test_a_client_that_goes_away_mid_body_is_one_info_line(logs):
    with service("sampling", "SAMPLING_", logs) as sampling:
        partial = (b"POST /v1/samples HTTP/1.1\r\nHost: sampling\r\nContent-Type: application/json\r\n"
                   b"X-Request-ID: gone-2\r\nContent-Length: 100000\r\n\r\n" + b'{"frame": [' + b'{"case_ref": "X1"},' * 50)
        with socket.create_connection(("127.0.0.1", port(sampling))) as connection:
            connection.sendall(partial)
            time.sleep(0.2)
        assert sampling.wait_for_log(lambda line: line.get("request_id") == "gone-2" and line["event"] == "request")
        lines = [line for line in sampling.json_log_lines() if line.get("request_id") == "gone-2"]
        assert [(line["event"], line["level"]) for line in lines] == [("client went away", "info"), ("request", "info")]
        assert lines[1]["status"] == 499
        assert "Traceback" not in sampling.log() and "unhandled error" not in sampling.log()
