"""The bench's reference: a bare FastAPI endpoint that only parses a JSON body and echoes it back.

Run as its own uvicorn process beside the rating engine, so both pay the same HTTP costs:
`python -m uvicorn bench.echo_app:app --port N`.
"""

from typing import Annotated, Any

from fastapi import Body, FastAPI
from fastapi.responses import JSONResponse

app = FastAPI(title="Echo")


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/echo")
async def echo(payload: Annotated[dict[str, Any], Body()]) -> JSONResponse:
    return JSONResponse(payload)
