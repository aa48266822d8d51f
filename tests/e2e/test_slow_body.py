"""A client sending an upload a byte a second, to a real gateway on PostgreSQL: a 408 problem once the
body timeout (GATEWAY_BODY_TIMEOUT_SECONDS) has passed, and meanwhile nothing held for it: a transition
on the same inspection answers at once, and no connection of the gateway sits idle in a transaction."""

from __future__ import annotations

import asyncio
import json
import select
import socket
import threading
import time
import uuid

import httpx
import pytest
from sqlalchemy import delete, text

from gateway.db import create_engine, create_sessionmaker
from gateway.inspections.models import Inspection
from gateway.units.models import Unit
from tests.conftest import TEST_ACTOR
from tests.gateway.factories import make_inspection, make_unit
from tests.support.identity import admin_env, signed_in
from tests.support.servers import free_port, service

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]

BODY_TIMEOUT = 3


async def _run(database_url: str, work):
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine, TEST_ACTOR).begin() as session:
            return await work(session)
    finally:
        await engine.dispose()


def _planned_inspection(database_url: str) -> tuple[uuid.UUID, uuid.UUID]:
    async def prepare(session):
        unit = await make_unit(session)
        inspection = await make_inspection(session, unit=unit)
        return unit.id, inspection.id

    return asyncio.run(_run(database_url, prepare))


def _remove(database_url: str, unit_id: uuid.UUID, inspection_id: uuid.UUID) -> None:
    async def remove(session):
        region = (await session.get(Unit, unit_id)).parent_id
        await session.execute(delete(Inspection).where(Inspection.id == inspection_id))
        await session.execute(delete(Unit).where(Unit.id == unit_id))
        await session.execute(delete(Unit).where(Unit.id == region))  # make_unit made the PDU a region of its own

    asyncio.run(_run(database_url, remove))


def _idle_in_transaction(database_url: str) -> list[dict]:
    """The connections to the test's database, other than this one, holding a transaction open while idle."""

    async def look() -> list[dict]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(text(
                    "SELECT pid, state, query FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
                ))
                return [dict(row._mapping) for row in rows]
        finally:
            await engine.dispose()

    return asyncio.run(look())


class Trickle(threading.Thread):
    """Sends a request's head, then its body a byte a second until the server answers; reads the answer."""

    def __init__(self, port: int, head: bytes, body: bytes):
        super().__init__(daemon=True)
        self.port, self.head, self.body = port, head, body
        self.sent = 0
        self.answer = b""
        self.answered_after: float | None = None  # seconds from the head to the first byte of the answer

    def run(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as connection:
            connection.sendall(self.head)
            started = time.monotonic()
            for byte in self.body:
                if select.select([connection], [], [], 1.0)[0]:
                    break  # the server has spoken
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    break
                self.sent += 1
            try:
                while chunk := connection.recv(65536):
                    if self.answered_after is None:
                        self.answered_after = time.monotonic() - started
                    self.answer += chunk
            except (ConnectionResetError, TimeoutError):
                pass


def test_an_upload_sent_a_byte_a_second_is_a_408_and_holds_no_lock_or_transaction(database_url, tmp_path):
    unit_id, inspection_id = _planned_inspection(database_url)
    unused = f"http://127.0.0.1:{free_port()}"
    try:
        with service("gateway", "GATEWAY_", tmp_path, {
            "DATABASE_URL": database_url, "GATEWAY_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
            "GATEWAY_RATING_ENGINE_URL": unused, "GATEWAY_SAMPLING_URL": unused, **admin_env(),
        }) as gateway:
            auth = signed_in(gateway.url)
            frame = b"case_ref,unit\n" + b"".join(b"X%05d,N01\n" % n for n in range(100))
            path = f"/api/v1/inspections/{inspection_id}/frames/case_supervision"
            head = (f"PUT {path} HTTP/1.1\r\nHost: gateway\r\nContent-Type: text/csv\r\n"
                    f"Content-Length: {len(frame)}\r\nX-Request-ID: trickle-1\r\n"
                    f"Authorization: {auth['Authorization']}\r\n\r\n").encode()
            trickle = Trickle(int(gateway.url.rsplit(":", 1)[1]), head, frame)
            trickle.start()

            time.sleep(1.2)  # the gateway has read what the frame may hold and is reading the body
            held = [_idle_in_transaction(database_url)]
            started = time.monotonic()
            moved = httpx.post(f"{gateway.url}/api/v1/inspections/{inspection_id}/transitions",
                               json={"to": "pre_fieldwork", "note": "Announced."}, headers=auth, timeout=30)
            took = time.monotonic() - started
            held.append(_idle_in_transaction(database_url))
            assert trickle.is_alive()  # the body is still trickling in meanwhile

            trickle.join(BODY_TIMEOUT + 10)
            assert moved.status_code == 200, moved.text
            assert took < 1.0
            assert held == [[], []]

            head_of_answer, _, body = trickle.answer.partition(b"\r\n\r\n")
            status_line, *header_lines = head_of_answer.decode("latin-1").split("\r\n")
            headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
            assert status_line.split()[1] == "408"
            assert headers["content-type"] == "application/problem+json"
            assert headers["connection"] == "close" and headers["x-request-id"] == "trickle-1"
            assert json.loads(body)["type"] == "/problems/request-timeout"
            assert BODY_TIMEOUT <= trickle.answered_after < BODY_TIMEOUT + 1.5
            assert trickle.sent < len(frame)

            assert gateway.wait_for_log(lambda line: line.get("request_id") == "trickle-1"
                                        and line.get("event") == "request")
            lines = [line for line in gateway.json_log_lines() if line.get("request_id") == "trickle-1"]
            assert [(line["event"], line.get("status")) for line in lines] == [("request", 408)]
            assert "Traceback" not in gateway.log()
            assert httpx.get(gateway.url + "/healthz", timeout=5).status_code == 200
    finally:
        _remove(database_url, unit_id, inspection_id)
