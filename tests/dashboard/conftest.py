"""The dashboard in a real browser: the four services as processes on loopback, and Debian's Chromium
driven by Playwright (never a browser Playwright downloads).

One stack for the pages' module, on an embedded database (the dashboard reads only the gateway's API,
whose databases the gateway's own tests cover): `make demo`'s inspection published and corrected, a
draft inspection planned beside it, and a reader of the region. Without Chromium the tests are skipped,
and the run's summary says so (tests/conftest.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.support.identity import ADMIN_EMAIL, ADMIN_PASSWORD, admin_env, signed_in
from tests.support.servers import service, three_services

CHROMIUM = Path(os.environ.get("DASHBOARD_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "tests/artifacts"
AXE = ROOT / "services/dashboard/src/dashboard/static/axe/axe.min.js"
READER_EMAIL = "reader@example.org"
READER_PASSWORD = "a passphrase for the regional reader"
chromium_missing: list[str] = []


def pytest_collection_modifyitems(config, items) -> None:
    here = Path(__file__).parent
    ours = [item for item in items if Path(item.fspath).is_relative_to(here) and item.get_closest_marker("browser")]
    if ours and not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        reason = f"Chromium is not at {CHROMIUM} (apt-get install chromium)"
        chromium_missing.append(reason)
        for item in ours:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[dict]:
    """The gateway, both engines and the dashboard, with the data the pages are checked on."""
    tmp_path = tmp_path_factory.mktemp("dashboard-stack")
    with (
        three_services(f"sqlite+aiosqlite:///{tmp_path / 'inspection.db'}", tmp_path, admin_env()) as running,
        service("dashboard", "DASHBOARD_", tmp_path, {"DASHBOARD_GATEWAY_URL": running["gateway"].url}) as dashboard,
    ):
        gateway = running["gateway"]
        demo = subprocess.run(
            [sys.executable, "scripts/demo.py"], env={**os.environ, **admin_env(), "GATEWAY_URL": gateway.url},
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )
        assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
        yield {"gateway": gateway.url, "dashboard": dashboard.url, **_people_and_draft(gateway.url)}


def _people_and_draft(gateway_url: str) -> dict:
    """A reader of the demo unit's region, and a draft (planned) inspection of another unit in it."""
    api = f"{gateway_url}/api/v1"
    with httpx.Client(headers=signed_in(gateway_url), timeout=30) as http:
        published = http.get(f"{api}/inspections", params={"status": "published"}).json()["items"][0]
        unit = http.get(f"{api}/units/{published['unit_id']}").json()
        neighbour = next(u for u in http.get(f"{api}/units/{unit['parent_id']}/children").json()["items"]
                         if u["id"] != unit["id"])
        start = date.today() + timedelta(days=30)
        draft = http.post(f"{api}/inspections", json={
            "unit_id": neighbour["id"], "framework_id": published["framework_id"], "type": "core",
            "title": f"Planned inspection of {neighbour['name']}", "lead": "A lead inspector",
            "fieldwork_start": start.isoformat(), "fieldwork_end": (start + timedelta(days=11)).isoformat(),
        })
        assert draft.status_code == 201, draft.text
        reader = http.post(f"{api}/users", json={"email": READER_EMAIL, "name": "Regional Reader",
                                                 "password": READER_PASSWORD})
        assert reader.status_code == 201, reader.text
        grant = http.post(f"{api}/users/{reader.json()['id']}/grants",
                          json={"role": "reader", "unit_id": unit["parent_id"]})
        assert grant.status_code == 201, grant.text
    return {"published": published, "draft": draft.json(), "unit": unit}


@pytest.fixture(scope="module")
def admin_headers(stack) -> dict[str, str]:
    return signed_in(stack["gateway"])


@pytest.fixture(scope="module")
def browser(stack):
    """Chromium, for one module: Playwright's sync API runs an event loop of its own in this thread while
    it is open, so it is closed before the tests on pytest's loop run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser, stack):
    """A fresh browser (no cookies) on the dashboard. CSP is bypassed only so that axe can be injected."""
    context = browser.new_context(base_url=stack["dashboard"], accept_downloads=True, bypass_csp=True)
    opened = context.new_page()
    yield opened
    context.close()


def sign_in(page, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD, path: str = "/") -> None:
    page.goto(path)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def serious_violations(page) -> list[dict]:
    """axe-core's serious and critical WCAG 2.0/2.1 A and AA violations on the page as it stands."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"] if v["impact"] in ("serious", "critical")
    ]


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def api(stack, headers, path: str, **params) -> dict:
    response = httpx.get(f"{stack['gateway']}/api/v1{path}", headers=headers, params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def every_item(stack, headers, path: str, **params) -> list[dict]:
    items, cursor = [], None
    while True:
        page = api(stack, headers, path, **params, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        if not (cursor := page.get("next_cursor")):
            return items



def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if chromium_missing:
        bar = "!" * 78
        terminalreporter.write_line(bar, red=True, bold=True)
        terminalreporter.write_line("BROWSER TESTS DID NOT RUN: the dashboard's pages were not checked.", red=True, bold=True)
        terminalreporter.write_line(chromium_missing[0], red=True)
        terminalreporter.write_line("Install Debian's Chromium (apt-get install -y chromium) and run make test again.",
                                    red=True)
        terminalreporter.write_line(bar, red=True, bold=True)
