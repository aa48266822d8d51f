"""The load script's own parts (`make load`): its mix, its percentiles, its table and its HTTP/1.1 client."""

import asyncio
from collections import Counter

import pytest

from bench.load import EXPECTED, WEIGHTS, Answer, Connection, Recorder, percentile, report_lines


def test_the_mix_is_stated_in_per_cent_and_every_kind_has_its_expected_answers():
    assert sum(WEIGHTS.values()) == 100
    assert set(WEIGHTS) <= set(EXPECTED)
    assert all(status < 500 for statuses in EXPECTED.values() for status in statuses)


def test_percentiles_are_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([7.0], 99) == 7.0


def test_the_table_has_a_row_per_kind_and_one_for_all():
    recorder = Recorder()
    for latency in (0.010, 0.020, 0.030):
        recorder.answered("summary", latency, Answer(200, {}, b"{}"))
    recorder.answered("refused transition", 0.040, Answer(409, {}, b"{}"))
    lines = report_lines(recorder)
    assert lines[0].startswith("operation")
    assert [line.split("|")[0].strip() for line in lines[2:] if not line.startswith("-")] == [
        "summary", "refused transition", "all"
    ]
    assert lines[-1].rstrip().endswith("200: 3, 409: 1")
    assert recorder.operations == 4 and recorder.server_errors == 0


async def _server(answers: list[bytes]) -> tuple[asyncio.Server, int, Counter]:
    """A server answering each request on a connection with the next canned answer (empty: hang up)."""
    seen: Counter = Counter()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for answer in answers:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")),
                0,
            )
            seen[(head.split(b" ")[0].decode(), await reader.readexactly(length))] += 1
            if not answer:
                break
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], seen


async def test_the_client_reads_each_framing_on_one_connection():
    server, port, seen = await _server([
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nETag: \"3\"\r\n\r\n{}",
        b"HTTP/1.1 304 Not Modified\r\nETag: \"3\"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n5\r\n\": 1}\r\n0\r\n\r\n",
        b"HTTP/1.1 422 Unprocessable Content\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    ])
    async with server:
        connection = Connection("127.0.0.1", port)
        first = await connection.request("GET", "/a")
        assert (first.status, first.headers["etag"], first.json()) == (200, '"3"', {})
        assert (await connection.request("GET", "/a", headers={"If-None-Match": '"3"'})).status == 304
        assert (await connection.request("PUT", "/a", b'{"x": 1}')).json() == {"a": 1}
        assert (await connection.request("POST", "/a", b"{}")).status == 422
        assert connection.writer is None  # closed, as the server asked
        await connection.close()
    assert seen[("PUT", b'{"x": 1}')] == 1


async def test_a_connection_closed_without_an_answer_is_a_transport_error_not_a_silent_resend():
    server, port, seen = await _server([b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", b""])
    async with server:
        connection = Connection("127.0.0.1", port)
        await connection.request("GET", "/a")
        with pytest.raises((asyncio.IncompleteReadError, ConnectionResetError)):
            await connection.request("POST", "/a", b"{}")
        await connection.close()
    assert seen[("POST", b"{}")] == 1 and Connection.resent == 0
