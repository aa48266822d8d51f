"""Uploads past their limit, to a real gateway on PostgreSQL: refused as they are read, not after being
held whole. A 50 MB frame sent without a length (chunked), and one declaring 80 MB, are each a 413
problem, and the gateway's high-water mark of memory stays under 300 MB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_slow_body import _planned_inspection, _remove
from tests.support.identity import admin_env, signed_in
from tests.support.servers import RunningService, free_port, service

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]

BODY_MB = 50
CEILING_MB = 300


def _high_water_mb(running: RunningService) -> float:
    status = Path(f"/proc/{running.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024


def _frame(megabytes: int) -> Iterator[bytes]:
    """A frame of about `megabytes`, made as it is sent: millions of well-formed cases."""
    yield b"case_ref,unit\n"
    sent, number = 0, 0
    while sent < megabytes * 1024 * 1024:
        chunk = b"".join(b"M%08d,N01\n" % n for n in range(number, number + 10_000))
        number += 10_000
        sent += len(chunk)
        yield chunk


def test_an_upload_past_its_limit_is_refused_as_it_is_read(database_url, tmp_path):
    unit_id, inspection_id = _planned_inspection(database_url)
    unused = f"http://127.0.0.1:{free_port()}"
    try:
        with service("gateway", "GATEWAY_", tmp_path, {
            "DATABASE_URL": database_url, "GATEWAY_RATING_ENGINE_URL": unused, "GATEWAY_SAMPLING_URL": unused,
            **admin_env(),
        }) as gateway:
            headers = {**signed_in(gateway.url), "Content-Type": "text/csv"}
            url = f"{gateway.url}/api/v1/inspections/{inspection_id}/frames/case_supervision"
            idle = _high_water_mb(gateway)

            chunked = httpx.put(url, content=_frame(BODY_MB), headers=headers, timeout=120)
            declared = httpx.put(url, content=b"x" * (80 * 1024 * 1024), headers=headers, timeout=120)

            assert chunked.status_code == 413, chunked.text
            assert chunked.json()["type"] == "/problems/frame-too-large"
            assert chunked.json()["detail"] == "The frame holds more than 500000 cases, the most accepted."
            assert declared.status_code == 413, declared.text
            assert declared.headers["content-type"] == "application/problem+json"
            peak = _high_water_mb(gateway)
            assert peak < CEILING_MB, f"the gateway reached {peak:.0f} MB (idle {idle:.0f} MB)"
            assert httpx.get(f"{gateway.url}/api/v1/inspections/{inspection_id}", headers=headers,
                             timeout=10).json()["id"] == str(inspection_id)
            assert "Traceback" not in gateway.log()
    finally:
        _remove(database_url, unit_id, inspection_id)
