"""POST /v1/samples: a caseload frame and a design in; the sample, reserves and tables out.

The frame comes as JSON (`{"frame": [...], "design": {...}}`), as a `text/csv` body with the design as
JSON in the `design` query parameter, or as a multipart upload (a `frame` file and a `design` field).
The body is read here and parsed by the core, so a national CSV frame goes straight to polars.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
from concurrent.futures import Executor
from dataclasses import fields
from typing import Annotated, Any

import orjson
import polars as pl
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect

from inspection_shared import uploads
from inspection_shared.problems import problem_responses
from inspection_shared.sampling import SampleDesign, SampleResult
from sampling.dependencies import DrawWorkersDep, SettingsDep
from sampling.errors import Fault, FrameTooLarge, SamplingInputError
from sampling.selection.frame import Frame, read_csv_frame, read_json_frame
from sampling.selection.service import SampleDraw, draw_sample
from sampling.selection.workers import DrawWorkers
from sampling.settings import Settings

router = APIRouter(tags=["samples"])

DESCRIPTION = """\
Draw a stratified, seeded, reproducible case sample from a caseload frame, with an ordered reserve list
per stratum, the allocation table, a balance table and the frame's fingerprint.

**The frame** (at most 500,000 cases, `SAMPLING_MAX_FRAME_ROWS`) comes in one of three ways:

* `application/json`: `{"frame": [{"case_ref": "X123456", ...}, ...], "design": {...}}`;
* `text/csv`: the CSV file as the body (header row, comma-separated, UTF-8), with the design as JSON
  in the `design` query parameter;
* `multipart/form-data`: the CSV file in a `frame` part and the design as JSON in a `design` field.

`case_ref` is required. Every other column must be one the design uses (unit, strata, the eligibility
date, exclusion columns) or lists in `carried`; any other column is refused, so personal data that
sampling does not need never enters. Values are read as text; an empty value is a missing one.

**The design**: `size` or `precision` (sized from the eligible frame); `unit` with `unit_mode`
`overall` (one sample, at least `min_per_unit` per unit) or `per_unit` (each unit sized to the
precision on its own, or, when a `capacity` is given and their sizes add up to more, the capacity
shared over the units with at least `min_per_unit` each); `strata`; `eligibility` (a window on a date column); `exclude` filters;
`reserves_per_stratum` or `reserve_ratio`; `seed`.

**Reproducible**: the same frame, design and seed give the same result whatever the row order. Without
a seed the service picks one and returns it; with an `Idempotency-Key` header and no seed, the seed is
derived from the key, so a retried request draws the same sample. The method is named by `algorithm`
(stratified simple random sampling without replacement on seeded permanent random numbers; the reserve
list continues the same order) and the frame by `frame_fingerprint` (SHA-256 of the frame sorted by
`case_ref`).

**Taking turns**: at most `SAMPLING_MAX_CONCURRENT_DRAWS` draws (2 by default) are under way at once;
the others wait, their frames unread, so the memory a draw needs stays bounded under load.

**Refused**: duplicate or missing case references, a missing or unused column, an empty frame, a size
above the eligible population, minimums that cannot be met, an unparseable CSV row (with its line), a
date column that is not a date: 422 naming the fault. A frame above the limit: 413.
"""

_MULTIPART_SCHEMA = {
    "type": "object",
    "required": ["frame", "design"],
    "properties": {
        "frame": {"type": "string", "format": "binary", "description": "The frame as a CSV file."},
        "design": {"type": "string", "description": "The SampleDesign as JSON."},
    },
}
_CSV_EXAMPLE = "case_ref,pdu,gender\nX100001,N01,M\nX100002,N01,F\nX100003,N02,M\nX100004,N02,M\n"

OPENAPI_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/SampleRequest"}},
            "text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE},
            "multipart/form-data": {"schema": _MULTIPART_SCHEMA},
        },
    }
}

# What the service answers to the SampleRequest example (the schema's first example).
_RESULT_EXAMPLE = {
    "selected": [
        {
            "case_ref": "X100002",
            "unit": "N01",
            "stratum": "N01|F",
            "inclusion_probability": 1.0,
            "weight": 1.0,
        },
        {
            "case_ref": "X100003",
            "unit": "N02",
            "stratum": "N02|M",
            "inclusion_probability": 0.5,
            "weight": 2.0,
        },
    ],
    "reserves": [{"case_ref": "X100004", "unit": "N02", "stratum": "N02|M", "rank": 1}],
    "allocation": [
        {
            "stratum": "N01|F",
            "unit": "N01",
            "values": {"gender": "F"},
            "population": 1,
            "sample": 1,
            "reserves": 0,
            "inclusion_probability": 1.0,
        },
        {
            "stratum": "N01|M",
            "unit": "N01",
            "values": {"gender": "M"},
            "population": 1,
            "sample": 0,
            "reserves": 0,
            "inclusion_probability": 0.0,
        },
        {
            "stratum": "N02|M",
            "unit": "N02",
            "values": {"gender": "M"},
            "population": 2,
            "sample": 1,
            "reserves": 1,
            "inclusion_probability": 0.5,
        },
    ],
    "unit_allocation": [
        {"unit": "N01", "population": 2, "sample": 1, "reserves": 0, "working": None},
        {"unit": "N02", "population": 2, "sample": 1, "reserves": 1, "working": None},
    ],
    "balance": [
        {
            "variable": "pdu",
            "level": "N01",
            "frame_count": 2,
            "frame_share": 0.5,
            "sample_count": 1,
            "sample_share": 0.5,
            "deviation": 0.0,
        },
        {
            "variable": "pdu",
            "level": "N02",
            "frame_count": 2,
            "frame_share": 0.5,
            "sample_count": 1,
            "sample_share": 0.5,
            "deviation": 0.0,
        },
        {
            "variable": "gender",
            "level": "F",
            "frame_count": 1,
            "frame_share": 0.25,
            "sample_count": 1,
            "sample_share": 0.5,
            "deviation": 0.25,
        },
        {
            "variable": "gender",
            "level": "M",
            "frame_count": 3,
            "frame_share": 0.75,
            "sample_count": 1,
            "sample_share": 0.5,
            "deviation": -0.25,
        },
    ],
    "largest_deviation": {"variable": "gender", "level": "F", "deviation": 0.25},
    "sample_size": 2,
    "sample_size_working": None,
    "frame": {"rows": 4, "outside_window": 0, "excluded": [], "eligible": 4},
    "design": {
        "size": 2,
        "precision": None,
        "strata": ["gender"],
        "unit": "pdu",
        "unit_mode": "overall",
        "min_per_unit": 1,
        "min_per_stratum": 0,
        "eligibility": None,
        "exclude": [],
        "reserves_per_stratum": 1,
        "reserve_ratio": None,
        "seed": 7,
        "carried": [],
    },
    "seed": 7,
    "frame_fingerprint": "0cf4c8b88fa13df21d452b9ea0f4e1e9cbc3b00dcf2600f67303e6bb713852fb",
    "algorithm": "stratified-srswor-prn-splitmix64-v1",
}


def _design_faults(error: ValidationError, prefix: str) -> SamplingInputError:
    faults = [
        Fault(".".join([prefix, *(str(p) for p in e["loc"])]), e["msg"].removeprefix("Value error, "))
        for e in error.errors()
    ]
    named = ", ".join(sorted({f.field for f in faults}))
    return SamplingInputError(f"The design is invalid: {faults[0].message} ({named}).", faults)


def _parse_design(value: Any, prefix: str = "design") -> SampleDesign:
    try:
        if isinstance(value, (str, bytes)):
            return SampleDesign.model_validate_json(value)
        return SampleDesign.model_validate(value)
    except ValidationError as error:
        raise _design_faults(error, prefix) from None


def _too_large(limit: int, what: str, size: int | None) -> FrameTooLarge:
    """The refusal of an upload over the limit (an `uploads.Refusal`): a 413 giving the limit in bytes."""
    if size is None:
        return FrameTooLarge(f"{what} is over {limit} bytes, the most accepted.", limit)
    return FrameTooLarge(f"{what} is {size} bytes; at most {limit} are accepted.", limit)


def _seed(design: SampleDesign, idempotency_key: str | None) -> int:
    if design.seed is not None:
        return design.seed
    if idempotency_key:
        # Stateless replicas agree on the seed of a retried request without sharing any state.
        return int.from_bytes(hashlib.sha256(idempotency_key.encode()).digest()[:8], "big") >> 11
    return secrets.randbelow(2**53)  # stays exact in any JSON reader


def _working(w: Any) -> dict | None:
    """A sample-size working as the wire has it: every step, without the size it reached."""
    if w is None:
        return None
    return {f.name: getattr(w, f.name) for f in fields(w) if f.name != "sample_size"}


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _allocation_json(rows: list[dict]) -> bytes:
    """The allocation table as `_dumps` writes it, by orjson when that gives the same bytes.

    For what the table holds (text, whole numbers, null, and inclusion probabilities n/N in [0, 1])
    the two write the same bytes, except a float below 1e-4 (orjson: 0.00005, json: 5e-05); so small
    probabilities are looked for first. orjson is many times faster on the thousands of strata of a
    national frame.
    """
    if all(row["inclusion_probability"] >= 1e-4 or row["inclusion_probability"] == 0 for row in rows):
        try:
            return orjson.dumps(rows)
        except TypeError:  # something json writes differently or not at all: let json say
            pass
    return _dumps(rows)


def _json_of(frame: pl.DataFrame) -> bytes:
    """A case list as polars writes it in JSON: an array of row objects."""
    out = io.BytesIO()
    frame.write_json(out)
    return out.getvalue()


def _tables_json(draw: SampleDraw, design: SampleDesign) -> tuple[bytes, bytes]:
    """The allocation table, and the object of the fields after it but the fingerprint and algorithm."""
    allocation = _allocation_json(draw.allocation)
    rest = {
        "unit_allocation": (
            None
            if draw.unit_allocation is None
            else [{**row, "working": _working(row["working"])} for row in draw.unit_allocation]
        ),
        "balance": draw.balance,
        "largest_deviation": draw.largest_deviation,
        "sample_size": draw.sample_size,
        "sample_size_working": _working(draw.working),
        "frame": draw.frame_summary,
        "design": design.model_copy(update={"seed": draw.seed}).model_dump(mode="json"),
        "seed": draw.seed,
    }
    return allocation, _dumps(rest)


def _wire(draw: SampleDraw, design: SampleDesign, workers: Executor | None = None) -> bytes:
    """The SampleResult as JSON bytes; the long case lists are written by polars, the rest by json.

    The tables are written on `workers` (None: threads of its own, as `draw_sample` has).
    """
    if workers is None:
        with DrawWorkers() as own:
            return _wire(draw, design, own)
    # The tables (plain Python) are built and written on another thread while polars writes the case
    # lists here. polars lets go of the GIL as it writes, so that thread can run meanwhile; the other
    # way round, polars' threads sat waiting for the GIL while the tables were built (about 1 ms lost).
    tables = workers.submit(_tables_json, draw, design)
    selected = _json_of(draw.selected)
    reserves = _json_of(draw.reserves)
    allocation, rest = tables.result()
    # The fingerprint is waited for here, not on that thread, so the tables do not hold one of the draw's
    # two workers while it is written.
    return b"".join([
        b'{"selected":', selected,
        b',"reserves":', reserves,
        b',"allocation":', allocation,
        b",", memoryview(rest)[1:-1],
        b',"frame_fingerprint":', _dumps(draw.fingerprint),
        b',"algorithm":', _dumps(draw.algorithm), b"}",
    ])


def _draw_and_wire(frame: Frame, design: SampleDesign, seed: int, workers: Executor) -> bytes:
    """The draw and its JSON in one trip to the thread pool."""
    return _wire(draw_sample(frame, design, seed, workers), design, workers)


def _json_frame_and_design(body: bytes, rows_limit: int) -> tuple[Frame, SampleDesign]:
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise SamplingInputError(f"The body is not valid JSON: {error}.", [Fault("body", "is not valid JSON")]) from None
    if not isinstance(payload, dict):
        raise SamplingInputError("The body must be an object with frame and design.", [Fault("body", "is not an object")])
    unknown = sorted(set(payload) - {"frame", "design"})
    missing = [k for k in ("frame", "design") if k not in payload]
    if unknown or missing:
        raise SamplingInputError(
            "The body must hold exactly frame and design"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unexpected: {', '.join(unknown)}" if unknown else "") + ".",
            [Fault(k, "is required") for k in missing] + [Fault(k, "is not a known field") for k in unknown],
        )
    design = _parse_design(payload["design"])
    return read_json_frame(payload["frame"], design, rows_limit), design


async def _frame_and_design(
    request: Request, settings: Settings, design_query: str | None
) -> tuple[Frame, SampleDesign]:
    media = uploads.media_type(request)
    rows_limit, bytes_limit = settings.max_frame_rows, settings.max_upload_bytes
    if media in uploads.CSV_TYPES:
        if design_query is None:
            raise SamplingInputError(
                "A text/csv frame needs its design as JSON in the design query parameter.",
                [Fault("query.design", "is required with a text/csv body")],
            )
        design = _parse_design(design_query, "query.design")
        body = await uploads.read_body(request, bytes_limit, "The request body", refuse=_too_large)
        return await run_in_threadpool(read_csv_frame, body, design, rows_limit), design
    if media == "multipart/form-data":
        uploads.check_declared_size(request, bytes_limit, "The upload", refuse=_too_large)
        async with request.form(max_files=2, max_fields=10) as form:
            design_field = form.get("design")
            if isinstance(design_field, UploadFile):  # some clients send every part as a file
                design_field = (await design_field.read()).decode("utf-8", errors="replace")
            if not isinstance(design_field, str):
                raise SamplingInputError(
                    "A multipart upload needs its design as JSON in a design field.",
                    [Fault("design", "is required as a form field")],
                )
            design = _parse_design(design_field)
            upload = form.get("frame")
            if not isinstance(upload, UploadFile):
                upload = next((v for k, v in form.items() if isinstance(v, UploadFile) and k != "design"), None)
            if upload is None:
                raise SamplingInputError(
                    "A multipart upload needs the frame as a CSV file in a frame part.",
                    [Fault("frame", "is required as a file part")],
                )
            data = await uploads.read_file(upload, bytes_limit, "The upload", refuse=_too_large)
        return await run_in_threadpool(read_csv_frame, data, design, rows_limit), design
    if media == "application/json" or media.endswith("+json"):
        body = await uploads.read_body(request, bytes_limit, "The request body", refuse=_too_large)
        return await run_in_threadpool(_json_frame_and_design, body, rows_limit)
    raise uploads.unsupported(
        media, "The frame", "application/json, text/csv or multipart/form-data", untyped="no content type"
    )


@router.post(
    "/samples",
    operation_id="draw_sample",
    summary="Draw a stratified case sample with ordered reserves, allocation and balance",
    description=DESCRIPTION,
    response_model=SampleResult,
    responses={
        **problem_responses(413, 415, 422),
        200: {"content": {"application/json": {"example": _RESULT_EXAMPLE}}},
    },
    openapi_extra=OPENAPI_BODY,
)
async def draw_case_sample(
    request: Request,
    settings: SettingsDep,
    workers: DrawWorkersDep,
    design: Annotated[
        str | None,
        Query(description="With a text/csv body: the SampleDesign as JSON.",
              examples=['{"size": 2, "strata": ["gender"], "seed": 7}']),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        Header(description="With no seed in the design, the seed is derived from this key.", max_length=256),
    ] = None,
) -> Response:
    try:
        # A few draws at a time (SAMPLING_MAX_CONCURRENT_DRAWS); the frames of the rest wait unread.
        async with request.app.state.draw_turns:
            # A client gone while its draw waited its turn is found reading the body (ClientDisconnect).
            frame, parsed = await _frame_and_design(request, settings, design)
            if await request.is_disconnected():
                raise ClientDisconnect()  # gone while its frame was read: nobody is left to draw for
            seed = _seed(parsed, idempotency_key)
            # One hop to a worker thread for both: the draw's result is only ever wanted as JSON.
            content = await run_in_threadpool(_draw_and_wire, frame, parsed, seed, workers)
    except pl.exceptions.PanicException as panic:
        # A panic inside polars is a BaseException; make it an ordinary error so it is answered as a problem.
        raise RuntimeError("the frame library failed") from panic
    return Response(content, media_type="application/json")
