"""The dashboard's pages on PostgreSQL, each beside the gateway calls it makes, over the ten-year history.

A throwaway database set up as `make run` does (`python -m gateway.cli setup`), the rating engine, the
gateway and the dashboard as real processes on loopback, and `python -m gateway.cli load-demo-history`:
about 1,050 SYNTHETIC published inspections over the demo units. The demo units are 271; SYNTHETIC units
(flagged `synthetic`, named "Bench unit NNN (synthetic)") are added through the API until there are 300.

The dashboard is signed in to through its own form (the CSRF token read from the sign-in page), as a
browser would, by an httpx client that keeps the session cookie. Each page is timed as that client sees it,
beside its reference: the same gateway calls the page makes (the same paths, filters and page sizes, a
list read page after page by its cursor, the independent ones concurrently, as the page makes them), sent
by a plain httpx client signed in at the gateway as the same person, timed the same way. The two take
turns, so drift on the machine touches both alike; the medians are compared. Goal: each page within 1.5
times its gateway calls: what the dashboard adds (its session, the models, the template) is at most half
again.

- Units (`/`): every unit (300) beside the latest of the published inspections (all of them, 200 a page).
- National (`/national`): the ratings, key-questions and trends statistics over the whole history, and the
  regions.
- Inspection (`/inspections/{id}`): the latest published inspection of the history, its readiness and its
  report.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench.gateway_bench import _ok, _setup, throwaway_database
from bench.statistics_bench import _analyze, _load_history
from bench.table import BenchRow
from tests.support.identity import ADMIN_EMAIL, ADMIN_PASSWORD, signed_in
from tests.support.servers import service

UNITS = 300
WARMUP = 3
ROUNDS = 15
GOAL = 1.5
API = "/api/v1"

Calls = Callable[[httpx.AsyncClient], Awaitable[None]]


async def _all_items(http: httpx.AsyncClient, path: str, **params: object) -> int:
    """Read a list page after page, as the dashboard's gateway client does; how many items."""
    items, cursor = 0, None
    while True:
        response = await http.get(API + path, params={**params, **({"cursor": cursor} if cursor else {})})
        page = _ok(response, 200)
        items += len(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return items


async def _get(http: httpx.AsyncClient, path: str, **params: object) -> None:
    _ok(await http.get(API + path, params=params or None), 200)


async def units_calls(http: httpx.AsyncClient) -> None:
    await asyncio.gather(_all_items(http, "/units", limit=500),
                         _all_items(http, "/inspections", limit=200, status="published"))


async def national_calls(http: httpx.AsyncClient) -> None:
    await asyncio.gather(*(_get(http, f"/statistics/{kind}") for kind in ("ratings", "key-questions", "trends")),
                         _all_items(http, "/units", limit=500, type="region"))


def inspection_calls(inspection_id: str) -> Calls:
    async def calls(http: httpx.AsyncClient) -> None:
        await asyncio.gather(*(_get(http, f"/inspections/{inspection_id}{tail}")
                               for tail in ("", "/readiness", "/report")))

    return calls


def _every(http: httpx.Client, url: str, **params: object) -> list[dict]:
    items, cursor = [], None
    while True:
        page = _ok(http.get(url, params={**params, **({"cursor": cursor} if cursor else {})}), 200)
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def add_synthetic_units(http: httpx.Client, gateway_url: str) -> int:
    """SYNTHETIC PDUs under the first region until there are UNITS units; how many were added."""
    units = _every(http, f"{gateway_url}{API}/units", limit=500)
    region = next(unit for unit in units if unit["type"] == "region")
    missing = UNITS - len(units)
    for n in range(1, missing + 1):
        _ok(http.post(f"{gateway_url}{API}/units", json={
            "code": f"BENCH{n:03d}", "name": f"Bench unit {n:03d} (synthetic)", "type": "pdu",
            "nation": region["nation"], "parent_id": region["id"], "synthetic": True,
        }), 201)
    return max(missing, 0)


def sign_in_to_dashboard(page: httpx.Client, dashboard_url: str) -> None:
    """Through the dashboard's own form, with the CSRF token of the sign-in page; the cookie stays in `page`."""
    form = page.get(f"{dashboard_url}/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    if form.status_code != 200 or csrf is None:
        raise RuntimeError(f"the sign-in page answered {form.status_code} without a CSRF token")
    done = page.post(f"{dashboard_url}/sign-in",
                     data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf": csrf.group(1), "next": "/"})
    if done.status_code != 303:
        raise RuntimeError(f"signing in to the dashboard answered {done.status_code}: {done.text[:500]}")


async def take_turns(page: httpx.AsyncClient, path: str, gateway: httpx.AsyncClient, calls: Calls,
                     ) -> tuple[list[float], list[float]]:
    """Milliseconds of each page and of each set of its gateway calls, in alternating rounds after a warm-up."""
    pages, references = [], []
    for n in range(WARMUP + ROUNDS):
        started = time.perf_counter()
        response = await page.get(path)
        rendered = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"the dashboard's {path} answered {response.status_code}: {response.text[:500]}")
        started = time.perf_counter()
        await calls(gateway)
        called = time.perf_counter() - started
        if n >= WARMUP:
            pages.append(rendered * 1000)
            references.append(called * 1000)
    return pages, references


async def _measure(dashboard_url: str, cookies: httpx.Cookies, gateway_url: str, headers: dict[str, str],
                   pages: list[tuple[str, str, Calls]]) -> dict[str, tuple[list[float], list[float]]]:
    async with httpx.AsyncClient(base_url=dashboard_url, cookies=cookies, timeout=60) as page, \
            httpx.AsyncClient(base_url=gateway_url, headers=headers, timeout=60) as gateway:
        return {name: await take_turns(page, path, gateway, calls) for name, path, calls in pages}


def run(log_dir: Path) -> list[BenchRow]:
    log_dir.mkdir(parents=True, exist_ok=True)
    with throwaway_database() as database_url, ExitStack() as stack:
        _setup(database_url)
        rating = stack.enter_context(service("rating_engine", "RATING_ENGINE_", log_dir))
        loaded_in = _load_history(database_url, rating.url)
        gateway = stack.enter_context(service(
            "gateway", "GATEWAY_", log_dir, {"DATABASE_URL": database_url, "GATEWAY_RATING_ENGINE_URL": rating.url},
        ))
        headers = signed_in(gateway.url)
        http = stack.enter_context(httpx.Client(timeout=60, headers=headers))
        added = add_synthetic_units(http, gateway.url)
        asyncio.run(_analyze(database_url))
        latest = max(_every(http, f"{gateway.url}{API}/inspections", status="published", limit=200),
                     key=lambda inspection: str(inspection["published_at"]))
        dashboard = stack.enter_context(service("dashboard", "DASHBOARD_", log_dir,
                                                {"DASHBOARD_GATEWAY_URL": gateway.url}))
        browser = stack.enter_context(httpx.Client(timeout=60))
        sign_in_to_dashboard(browser, dashboard.url)
        units = len(_every(http, f"{gateway.url}{API}/units", limit=500))
        history = _ok(http.get(f"{gateway.url}{API}/statistics/ratings"), 200)["inspections"]
        timed = asyncio.run(_measure(dashboard.url, browser.cookies, gateway.url, headers, [
            ("units", "/", units_calls),
            ("national", "/national", national_calls),
            ("inspection", f"/inspections/{latest['id']}", inspection_calls(latest["id"])),
        ]))
    described = {
        "units": f"{units} units ({added} of them SYNTHETIC bench units), {history} published inspections",
        "national": f"statistics over {history} published inspections (history loaded in {loaded_in:.0f} s)",
        "inspection": "a published inspection of the history: inspection, readiness, report",
    }
    rows = []
    for name, (rendered, called) in timed.items():
        measured, reference = statistics.median(rendered), statistics.median(called)
        rows.append(BenchRow(
            benchmark=f"dashboard: {name} page beside its gateway calls (PostgreSQL)",
            measured=measured, reference=reference, unit="ms", goal=f"<= {GOAL}x its gateway calls by httpx",
            met=measured <= GOAL * reference,
            note=f"{described[name]}; median of {ROUNDS} each, taking turns",
        ))
    return rows
