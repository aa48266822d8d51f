"""A test-only service on the shared edge, with routes that fail, read bodies or wait for their client.

Tests use it in process (`create_app()`) and as a real server (`python -m tests.shared.edge_app`, on
EDGE_APP_PORT), started by the same `serve` as the three services.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import Body, Request
from pydantic import BaseModel
from pydantic_settings import SettingsConfigDict

from inspection_shared import uploads
from inspection_shared.problems import NotFound
from inspection_shared.server import serve
from inspection_shared.settings import ServiceSettings
from inspection_shared.web import create_service_app

FAILURE_MESSAGE = "no case X123456 in frame"
"""What the failing route's error says: case data an error's message may hold, which no log may."""


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EDGE_APP_", extra="ignore")

    port: int = 8009


class Override(BaseModel):
    standard: str
    reason: str


class ThingChange(BaseModel):
    note: str
    overrides: list[Override] = []


class Row(BaseModel):
    case_ref: str


def create_app(settings: Settings | None = None):
    app = create_service_app(title="Edge test app", version="1", description="Routes the edge tests use.",
                             settings=settings)
    app.state.touched = []  # which handlers ran, in order

    @app.get("/boom")
    async def fail() -> None:
        raise RuntimeError(FAILURE_MESSAGE)

    @app.get("/things/{thing_id}")
    async def get_thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @app.put("/things/{thing_id}")
    async def put_thing(thing_id: str, change: ThingChange) -> dict[str, Any]:
        app.state.touched.append("put_thing")
        return {"id": thing_id, **change.model_dump()}

    @app.post("/rows")
    async def post_rows(rows: list[Row]) -> dict[str, int]:
        return {"rows": len(rows)}

    @app.post("/documents")
    async def post_document(document: Annotated[Any, Body()]) -> dict[str, Any]:
        return {"kind": type(document).__name__}

    @app.post("/imports")
    async def import_rows(request: Request) -> dict[str, Any]:
        """Reads its body itself, as the bulk imports and the sampling service's draws do."""
        kind, content = await uploads.read_import(request, 64 * 1024 * 1024, "The import")
        app.state.touched.append("import_rows")
        return {"kind": kind, "items": len(content)}

    @app.post("/file-imports", openapi_extra=uploads.import_body("Rows.", "case_ref\nX1\n", {"type": "object"}, []))
    async def import_file(request: Request) -> dict[str, Any]:
        """Takes a file, as the bulk imports do: its reader, not the edge, answers a NUL in it."""
        kind, content = await uploads.read_import(request, 64 * 1024 * 1024, "The import")
        with_nul = [n for n, row in enumerate(content) if any("\x00" in str(v) for v in row.values())]
        return {"kind": kind, "items": len(content), "rows_with_nul": with_nul}

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        body = await request.body()
        return {"bytes": len(body), "head": body[:40].decode("utf-8", "replace")}

    @app.post("/late-reads")
    async def read_late(request: Request, after: float = 0) -> dict[str, int]:
        """Waits `after` seconds before it reads its body, as the gateway reads the database first."""
        await asyncio.sleep(after)
        return {"bytes": len(await request.body())}

    @app.get("/samples/{sample_type}/cases/{case_ref}")
    async def get_case(sample_type: str, case_ref: str) -> None:
        raise NotFound(f"No case {case_ref} in {sample_type}.")

    @app.post("/wait-for-client")
    async def wait_for_client(request: Request) -> None:
        """Reads its body, then works until its client goes, when the work is cancelled."""
        await request.body()
        while not await request.is_disconnected():
            await asyncio.sleep(0.01)
        app.state.touched.append("cancelled")
        raise asyncio.CancelledError()

    return app


def main() -> None:
    settings = Settings()
    serve(lambda: create_app(settings), settings, service="edge-app")


if __name__ == "__main__":
    main()
