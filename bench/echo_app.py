"""The bench's reference: a bare FastAPI app, run as its own uvicorn process beside the service measured,
so both pay the same HTTP costs: `python -m uvicorn bench.echo_app:app --port N`.

- `POST /echo` only parses a JSON body and echoes it back (the rating bench's reference).
- `GET /document` answers a fixed JSON document, rendered on each request: the document in the file that
  BENCH_DOCUMENT names, read once at start-up (the gateway bench gives it the ratings read it measures,
  so both send the same bytes), or `{}` without it. No database, no middleware, no validation.
"""

import json
import os
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, FastAPI
from fastapi.responses import JSONResponse

app = FastAPI(title="Echo")

_document_path = os.environ.get("BENCH_DOCUMENT")
DOCUMENT: Any = json.loads(Path(_document_path).read_text(encoding="utf-8")) if _document_path else {}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/echo")
async def echo(payload: Annotated[dict[str, Any], Body()]) -> JSONResponse:
    return JSONResponse(payload)


@app.get("/document")
async def document() -> JSONResponse:
    return JSONResponse(DOCUMENT)
