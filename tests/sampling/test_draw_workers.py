"""The draw's worker threads belong to the app: started by its first draw, stopped when it stops."""

from __future__ import annotations

import threading

import httpx

from sampling.app import create_app

from .frames import only, synthetic_frame

FRAME = only(synthetic_frame(300), ["case_ref", "pdu", "gender"])
DESIGN = {"size": 40, "unit": "pdu", "strata": ["gender"], "reserves_per_stratum": 1, "seed": 5}


def draw_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("sampling-draw")}


async def draw(app) -> bytes:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.post("/v1/samples", json={"frame": FRAME, "design": DESIGN})
    assert response.status_code == 200, response.text
    return response.content


async def test_the_draw_threads_stop_with_the_app_and_start_again_with_it():
    app = create_app()
    before = draw_threads()  # other apps' (a test's app served without its lifespan keeps its own)
    async with app.router.lifespan_context(app):
        assert draw_threads() <= before  # none of this app's until its first draw
        first = await draw(app)
        started = draw_threads() - before
        assert started
    assert not any(t.is_alive() for t in started)
    async with app.router.lifespan_context(app):
        assert await draw(app) == first
        restarted = draw_threads() - before
        assert restarted and not restarted & started
    assert not any(t.is_alive() for t in restarted)


async def test_an_app_served_without_its_lifespan_draws_all_the_same():
    # As in-process tests serve it: httpx's ASGI transport does not run the lifespan.
    served = create_app()
    async with served.router.lifespan_context(served):
        with_lifespan = await draw(served)
    assert await draw(create_app()) == with_lifespan
