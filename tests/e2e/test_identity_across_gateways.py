"""Two gateway processes on one PostgreSQL database, as replicas run: a person signed in through one is
known to both, and a grant taken away or an account deactivated through one takes effect on the very next
request through the other. A gateway that stops listening for changes holds nothing until it listens
again."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import asyncpg
import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.engine import make_url

from gateway.announcements import listener_name
from gateway.db import create_engine, create_sessionmaker
from gateway.identity.models import SignInThrottle, User
from gateway.units.models import Unit
from tests.conftest import TEST_ACTOR
from tests.support.identity import sign_in, signed_in
from tests.support.servers import free_port, service

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]

PASSWORD = "the inspector's own passphrase"


def ok(response: httpx.Response, *statuses: int) -> dict:
    assert response.status_code in statuses, response.text
    return response.json() if response.content else {}


def _env(database_url: str) -> dict[str, str]:
    unused = f"http://127.0.0.1:{free_port()}"
    return {"DATABASE_URL": database_url, "GATEWAY_RATING_ENGINE_URL": unused, "GATEWAY_SAMPLING_URL": unused}


def _dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _remove(database_url: str, email: str, unit_code: str) -> None:
    async def remove() -> None:
        engine = create_engine(database_url)
        try:
            async with create_sessionmaker(engine, TEST_ACTOR).begin() as session:
                await session.execute(delete(User).where(User.email == email))
                await session.execute(delete(Unit).where(Unit.code == unit_code))
        finally:
            await engine.dispose()

    asyncio.run(remove())


def _person(admin: httpx.Client, base: str, email: str, unit_code: str) -> tuple[dict, dict]:
    """An account holding the reader role on a new region, made through the gateway at `base`."""
    unit = ok(admin.post(f"{base}/units", json={"code": unit_code, "name": "Identity test region", "type": "region",
                                                "nation": "England"}), 201)
    person = ok(admin.post(f"{base}/users", json={"email": email, "name": "Ina Spector", "password": PASSWORD}), 201)
    grant = ok(admin.post(f"{base}/users/{person['id']}/grants", json={"role": "reader", "unit_id": unit["id"]}), 201)
    return person, grant


@pytest.fixture(scope="module")
def gateways(database_url, tmp_path_factory):
    """Two gateway processes on the run's database."""
    logs = tmp_path_factory.mktemp("gateways")
    with (
        service("gateway", "GATEWAY_", logs, _env(database_url)) as one,
        service("gateway", "GATEWAY_", logs, _env(database_url)) as two,
    ):
        yield one, two


def test_a_change_through_one_gateway_takes_effect_on_the_next_request_through_another(database_url, gateways):
    email, code = f"ina.{uuid.uuid4().hex[:8]}@justice.example", f"ID{uuid.uuid4().hex[:6].upper()}"
    one, two = gateways
    try:
        with httpx.Client(timeout=30, headers=signed_in(one.url)) as admin:
            first, second = f"{one.url}/api/v1", f"{two.url}/api/v1"
            person, grant = _person(admin, first, email, code)

            # Signed in through the second gateway; its token is good at both (one signing key).
            token = sign_in(two.url, email, PASSWORD)["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            assert ok(httpx.get(f"{second}/me", headers=auth), 200)["id"] == person["id"]
            assert httpx.get(f"{first}/units", headers=auth).status_code == 200
            assert httpx.get(f"{second}/units", headers=auth).status_code == 200  # held by the second now

            # The role taken away through the first: refused at once through the second.
            ok(admin.delete(f"{first}/users/{person['id']}/grants/{grant['id']}"), 204)
            refused = httpx.get(f"{second}/units", headers=auth)
            assert (refused.status_code, refused.json()["permission"]) == (403, "units:read")

            # Given back, and the account deactivated through the first: the token ends at once in the second.
            unit_id = grant["unit_id"]
            ok(admin.post(f"{first}/users/{person['id']}/grants", json={"role": "reader", "unit_id": unit_id}), 201)
            assert httpx.get(f"{second}/units", headers=auth).status_code == 200
            etag = admin.get(f"{first}/users/{person['id']}").headers["etag"]
            ok(admin.patch(f"{first}/users/{person['id']}", json={"active": False}, headers={"If-Match": etag}), 200)
            ended = httpx.get(f"{second}/units", headers=auth)
            assert ended.status_code == 401 and ended.json()["type"] == "/problems/invalid-credentials"
            assert httpx.get(f"{first}/units", headers=auth).status_code == 401
            for gateway in (one, two):
                assert "Traceback" not in gateway.log()
    finally:
        _remove(database_url, email, code)


async def _guesses(urls: list[str], email: str, each: int) -> Counter:
    async with httpx.AsyncClient(timeout=60) as client:
        answers = await asyncio.gather(*(
            client.post(f"{url}/api/v1/auth/token", data={"username": email, "password": f"guess number {n}"})
            for url in urls for n in range(each)
        ))
    return Counter(answer.status_code for answer in answers)


async def _forget_failures(database_url: str) -> None:
    """Leave the run's database without the failures counted here (the address is every test's)."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine, TEST_ACTOR).begin() as session:
            await session.execute(delete(SignInThrottle))
    finally:
        await engine.dispose()


def test_guesses_sent_at_once_to_both_gateways_are_each_counted_and_only_the_first_five_are_checked(
    database_url, gateways
):
    try:
        target = f"target.{uuid.uuid4().hex[:8]}@justice.example"
        statuses = asyncio.run(_guesses([g.url for g in gateways], target, 6))
        assert statuses == Counter({400: 5, 429: 7}), statuses
    finally:
        asyncio.run(_forget_failures(database_url))


async def _terminate_listener(database_url: str, pid: int) -> int:
    """End the listening connection of the gateway process `pid`, as a server restart or a network fault would."""
    connection = await asyncpg.connect(_dsn(database_url))
    try:
        return len(await connection.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            listener_name(pid),
        ))
    finally:
        await connection.close()


async def _deactivate_behind_its_back(database_url: str, email: str) -> None:
    """A change that bypasses the write path, so that no NOTIFY announces it."""
    connection = await asyncpg.connect(_dsn(database_url))
    try:
        await connection.execute("UPDATE users SET active = false WHERE email = $1", email)
    finally:
        await connection.close()


def _logged(gateway, event: str, times: int, timeout: float = 10.0) -> bool:
    """Whether the gateway has logged `event` `times` times, within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(line.get("event") == event for line in gateway.json_log_lines()) >= times:
            return True
        time.sleep(0.05)
    return False


def test_a_gateway_that_stops_listening_holds_nothing_until_it_listens_again(database_url, tmp_path):
    email, code = f"ina.{uuid.uuid4().hex[:8]}@justice.example", f"ID{uuid.uuid4().hex[:6].upper()}"
    try:
        with (
            service("gateway", "GATEWAY_", tmp_path, _env(database_url)) as gateway,
            httpx.Client(timeout=30, headers=signed_in(gateway.url)) as admin,
        ):
            base = f"{gateway.url}/api/v1"
            _person(admin, base, email, code)
            auth = {"Authorization": f"Bearer {sign_in(gateway.url, email, PASSWORD)['access_token']}"}
            assert _logged(gateway, "listening for changes", 1)
            assert httpx.get(f"{base}/me", headers=auth).status_code == 200  # held from now on

            assert asyncio.run(_terminate_listener(database_url, gateway.process.pid)) == 1
            assert _logged(gateway, "stopped listening for changes", 1)
            asyncio.run(_deactivate_behind_its_back(database_url, email))
            # Not listening, it cannot know what changed: the account is read afresh, and is now inactive.
            assert httpx.get(f"{base}/me", headers=auth).status_code == 401

            # It listens again by itself, and serves from what it holds once more.
            assert _logged(gateway, "listening for changes", 2)
            assert httpx.get(f"{base}/me", headers=admin.headers).status_code == 200
            assert "Traceback" not in gateway.log()
    finally:
        _remove(database_url, email, code)
