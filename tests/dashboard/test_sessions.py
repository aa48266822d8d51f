"""Signing in and out of the dashboard, in process against the gateway in process: the cookie holds a
reference and never the token, every form that changes something needs its CSRF token, sign-out revokes
at the gateway, and summaries are read conditionally."""

from __future__ import annotations

import re

import httpx
import pytest

from dashboard.app import create_app
from dashboard.settings import Settings
from inspection_shared.clients.gateway import GatewayClient, GatewayError
from tests.support.identity import ADMIN_PASSWORD

EMAIL = "test-admin@example.org"  # tests/conftest.py's test_admin


class Recording(httpx.AsyncBaseTransport):
    """The gateway in process, each answer's status noted."""

    def __init__(self, app):
        self._inner = httpx.ASGITransport(app=app)
        self.answers: list[tuple[str, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        self.answers.append((request.url.path, response.status_code))
        return response


@pytest.fixture
async def gateway_transport(gateway_app, test_admin):
    return Recording(gateway_app)


@pytest.fixture
async def browser_of(gateway_transport):
    """A client of the dashboard (as a browser would be, following no redirects), over http or https."""
    opened = []

    async def open_one(scheme: str = "http") -> httpx.AsyncClient:
        gateway = GatewayClient("http://gateway", transport=gateway_transport)
        app = create_app(Settings(), gateway=gateway)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"{scheme}://dashboard")
        opened.append(client)
        return client

    yield open_one
    for client in opened:
        await client.aclose()


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


async def signed_in(client: httpx.AsyncClient, next_path: str = "/") -> httpx.Response:
    form = await client.get("/sign-in")
    return await client.post("/sign-in", data={"csrf": csrf_of(form), "email": EMAIL, "password": ADMIN_PASSWORD,
                                                "next": next_path})


async def test_the_cookie_holds_a_reference_not_the_token(browser_of, gateway_transport):
    client = await browser_of()
    answer = await signed_in(client)
    assert (answer.status_code, answer.headers["location"]) == (303, "/")
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    value = client.cookies["dashboard_session"]
    assert not value.startswith("ey") and "." not in value  # no JWT
    assert ("/api/v1/auth/token", 200) in gateway_transport.answers
    page = await client.get("/work-in-progress")
    assert page.status_code == 200 and "Signed in as Test administrator" in page.text


async def test_over_https_the_cookie_is_secure(browser_of):
    client = await browser_of("https")
    answer = await signed_in(client)
    assert "Secure" in answer.headers["set-cookie"]


async def test_signing_in_needs_the_forms_csrf_token(browser_of, gateway_transport):
    client = await browser_of()
    await client.get("/sign-in")
    answer = await client.post("/sign-in", data={"csrf": "guessed", "email": EMAIL, "password": ADMIN_PASSWORD})
    assert answer.status_code == 400 and "The form had expired" in answer.text
    assert not any(path == "/api/v1/auth/token" for path, _ in gateway_transport.answers)
    assert (await client.get("/")).status_code == 303


async def test_a_wrong_password_is_refused_in_words(browser_of):
    client = await browser_of()
    form = await client.get("/sign-in")
    answer = await client.post("/sign-in", data={"csrf": csrf_of(form), "email": EMAIL, "password": "wrong"})
    assert answer.status_code == 400 and "There is a problem" in answer.text


@pytest.mark.parametrize("target", ["//elsewhere.example/", "https://elsewhere.example/", "\\\\elsewhere"])
async def test_after_signing_in_only_a_page_of_this_site_is_opened(browser_of, target):
    client = await browser_of()
    assert (await signed_in(client, target)).headers["location"] == "/"


async def test_a_page_asks_for_sign_in_and_comes_back(browser_of):
    client = await browser_of()
    answer = await client.get("/work-in-progress")
    assert (answer.status_code, answer.headers["location"]) == (303, "/sign-in?next=%2Fwork-in-progress")
    assert (await signed_in(client, "/work-in-progress")).headers["location"] == "/work-in-progress"


async def test_signing_out_needs_csrf_and_revokes_at_the_gateway(browser_of, gateway_app):
    client = await browser_of()
    await signed_in(client)
    # (Pages of one gateway call each: the gateway in process has one database connection for the test.)
    page = await client.get("/work-in-progress")
    assert page.status_code == 200
    session = next(iter(client._transport.app.state.sessions._sessions.values()))
    refused = await client.post("/sign-out", data={"csrf": "guessed"})
    assert refused.status_code == 400 and (await client.get("/work-in-progress")).status_code == 200
    out = await client.post("/sign-out", data={"csrf": csrf_of(page)})
    assert (out.status_code, out.headers["location"]) == (303, "/sign-in?signed_out=1")
    assert (await client.get("/work-in-progress")).status_code == 303
    with pytest.raises(GatewayError) as refresh:
        await GatewayClient("http://gateway", transport=httpx.ASGITransport(app=gateway_app)).refresh(
            session.refresh_token)
    assert refresh.value.status == 400
