"""The gateway's hardening, on PostgreSQL and SQLite: body limits on its routes (nothing written past
them), security headers on its answers, signed in or refused, the CORS allow-list ahead of sign-in, and no
trace of an error in a 500."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.caseloads.models import CaseloadFrame
from gateway.settings import Settings
from gateway.units import service as units_service
from gateway.units.models import Unit
from tests.conftest import TEST_SETTINGS
from tests.gateway.factories import frame_units, make_inspection, synthetic_frame
from tests.shared.test_hardening import ERROR, assert_no_trace

UNITS = "/api/v1/units"
API_POLICY = "default-src 'none'; frame-ancestors 'none'"


async def chunks(content: bytes, size: int = 256):
    for at in range(0, len(content), size):
        yield content[at:at + size]


def unit(code: str, note: str = "") -> dict:
    return {"code": code, "name": f"Region {code}{note}", "type": "region", "nation": "England"}


async def unit_count(db_session) -> int:
    return await db_session.scalar(select(func.count()).select_from(Unit))


async def test_a_body_over_the_limit_is_413_and_nothing_is_written(gateway, db_session, body_limits):
    body_limits(max_body_bytes=1024)
    before = await unit_count(db_session)
    declared = await gateway.post(UNITS, json=unit("RBIG1", " " + "x" * 2000))
    assert declared.status_code == 413 and declared.headers["content-type"] == "application/problem+json"
    assert declared.json()["detail"] == "A request's body may be at most 1 KiB (1024 bytes)."
    assert declared.json()["limit"] == 1024
    streamed = await gateway.post(UNITS, content=chunks(httpx.Request("POST", "/", json=unit("RBIG2", "x" * 2000)).content),
                                  headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413 and streamed.json()["limit"] == 1024
    assert await unit_count(db_session) == before
    assert (await gateway.post(UNITS, json=unit("RFITS"))).status_code == 201


async def test_a_caseload_frame_takes_the_upload_limit_not_the_body_limit(gateway, db_session, body_limits):
    body_limits(max_body_bytes=1024, max_upload_bytes=64 * 1024)
    inspection = await make_inspection(db_session)
    url = f"/api/v1/inspections/{inspection.id}/frames/case_supervision"
    units = await frame_units(db_session, inspection)
    frame = synthetic_frame(["case_ref", "unit"], 200, units=units).encode()
    assert 1024 < len(frame) < 64 * 1024
    taken = await gateway.put(url, content=frame, headers={"Content-Type": "text/csv"})
    assert taken.status_code == 201, taken.text
    assert taken.json()["case_count"] == 200
    big = synthetic_frame(["case_ref", "unit"], 6000, units=units).encode()
    assert len(big) > 64 * 1024
    refused = await gateway.put(url, content=chunks(big, 4096), headers={"Content-Type": "text/csv"})
    assert refused.status_code == 413
    assert refused.json()["detail"] == "A file sent to this route may be at most 64 KiB (65536 bytes)."
    frames = await db_session.scalars(select(CaseloadFrame.case_count).where(CaseloadFrame.inspection_id == inspection.id))
    assert list(frames) == [200]  # the frame taken stands; nothing of the refused one


async def test_security_headers_on_answers_signed_in_refused_and_over_https(gateway, anonymous, gateway_app):
    for response in (await gateway.get(UNITS), await anonymous.get(UNITS), await anonymous.get("/api/v1/frameworks")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["content-security-policy"] == API_POLICY
        assert "strict-transport-security" not in response.headers
    assert (await anonymous.get(UNITS)).status_code == 401
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway_app), base_url="https://gateway",
                                 headers=gateway.headers) as secure:
        response = await secure.get(UNITS)
    assert response.status_code == 200
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_a_preflight_from_an_allowed_origin_is_answered_before_sign_in():
    settings = Settings(**{**TEST_SETTINGS.model_dump(), "cors_origins": ["https://dashboard.justice.example"]})
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        preflight = await client.options("/api/v1/inspections", headers={
            "Origin": "https://dashboard.justice.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        })
        refused = await client.options("/api/v1/inspections", headers={
            "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST",
        })
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://dashboard.justice.example"
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in preflight.headers  # bearer tokens, never cookies
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers


async def test_an_error_in_a_route_is_a_500_with_no_trace_of_it(gateway, monkeypatch):
    async def fail(*args, **kwargs):
        raise RuntimeError(ERROR)

    monkeypatch.setattr(units_service, "list_units", fail)
    assert_no_trace(await gateway.get(UNITS))

