"""Units of inspection: the tree of regions, PDUs, divisions, companies, youth services and others."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from gateway.db import SessionDep
from gateway.permissions import Permission, requires
from gateway.units import importer, service
from gateway.units.schemas import (
    UnitChildrenQuery,
    UnitCreate,
    UnitImportReport,
    UnitImportRow,
    UnitListQuery,
    UnitRead,
    UnitUpdate,
)
from inspection_shared import uploads
from inspection_shared.pagination import Page
from inspection_shared.problems import problem_responses

router = APIRouter(prefix="/units", tags=["units"])


_ETAG_HEADER = {
    "ETag": {
        "description": "Version of the unit; send it back in If-Match to change the unit.",
        "schema": {"type": "string"},
    }
}
_CSV_EXAMPLE = (
    "code,name,type,nation,parent_code,valid_from,valid_to,caseload_size,synthetic\n"
    "N53,East Midlands,region,England,,,,,false\n"
    "N53DRBY,Derby City,pdu,England,N53,2021-06-26,,,false\n"
)
_IMPORT_BODY = uploads.import_body(
    "Units to create or update, matched by code: CSV (as the body, or as the `file` part of a form) or a JSON "
    "array. A parent is named by `parent_code`, in the same import or already held.",
    _CSV_EXAMPLE,
    UnitImportRow.model_json_schema(),
    [
        {"code": "N53", "name": "East Midlands", "type": "region", "nation": "England"},
        {
            "code": "N53DRBY",
            "name": "Derby City",
            "type": "pdu",
            "nation": "England",
            "parent_code": "N53",
            "valid_from": "2021-06-26",
        },
    ],
)


@router.get(
    "",
    summary="Units of inspection, in code order, filtered",
    responses=problem_responses(422),
    dependencies=[requires(Permission.UNITS_READ)],
)
async def list_units(query: Annotated[UnitListQuery, Query()], session: SessionDep) -> Page[UnitRead]:
    return await service.list_units(session, query)


@router.post(
    "",
    summary="Add a unit of inspection",
    status_code=201,
    responses={
        201: {
            "description": "Created; Location names the new unit.",
            "headers": {**_ETAG_HEADER, "Location": {"schema": {"type": "string"}}},
        },
        **problem_responses(409, 422),
    },
    dependencies=[requires(Permission.UNITS_WRITE)],
)
async def create_unit(data: UnitCreate, request: Request, response: Response, session: SessionDep) -> UnitRead:
    unit = await service.create_unit(session, data)
    response.headers["Location"] = request.app.url_path_for("units.get_unit", unit_id=str(unit.id))
    response.headers["ETag"] = service.etag(unit)
    return UnitRead.model_validate(unit)


@router.post(
    "/import",
    summary="Create or update many units at once, all or nothing",
    description=(
        "Upsert by code. The whole import is checked before anything is written; any fault refuses all of it "
        "with a 422 listing every fault by CSV line (the header is line 1) or JSON array index. Importing "
        "the same file again reports every unit unchanged."
    ),
    responses=problem_responses(409, 413, 415, 422),
    openapi_extra=_IMPORT_BODY,
    dependencies=[requires(Permission.UNITS_WRITE)],
)
async def import_units(request: Request, session: SessionDep) -> UnitImportReport:
    parsed = await _read_import(request)
    return await importer.import_units(session, parsed)


@router.get(
    "/{unit_id}",
    name="units.get_unit",
    summary="One unit of inspection",
    responses={200: {"headers": _ETAG_HEADER}, **problem_responses(404)},
    dependencies=[requires(Permission.UNITS_READ)],
)
async def get_unit(unit_id: uuid.UUID, response: Response, session: SessionDep) -> UnitRead:
    unit = await service.get_unit(session, unit_id)
    response.headers["ETag"] = service.etag(unit)
    return UnitRead.model_validate(unit)


@router.patch(
    "/{unit_id}",
    summary="Change some fields of a unit",
    description="Send If-Match with the ETag of your last read: 428 without it, 412 if the unit has changed since.",
    responses={200: {"headers": _ETAG_HEADER}, **problem_responses(404, 409, 412, 422, 428)},
    dependencies=[requires(Permission.UNITS_WRITE)],
)
async def update_unit(
    unit_id: uuid.UUID,
    changes: UnitUpdate,
    response: Response,
    session: SessionDep,
    if_match: Annotated[str | None, Header(description="The ETag of your last read of the unit.")] = None,
) -> UnitRead:
    unit = await service.update_unit(session, unit_id, changes, if_match)
    response.headers["ETag"] = service.etag(unit)
    return UnitRead.model_validate(unit)


@router.get(
    "/{unit_id}/children",
    summary="The units directly under a unit, in code order",
    responses=problem_responses(404, 422),
    dependencies=[requires(Permission.UNITS_READ)],
)
async def list_unit_children(
    unit_id: uuid.UUID, query: Annotated[UnitChildrenQuery, Query()], session: SessionDep
) -> Page[UnitRead]:
    return await service.list_children(session, unit_id, query)


# --- reading an upload -------------------------------------------------------------------------------


async def _read_import(request: Request) -> importer.ParsedImport:
    kind, payload = await uploads.read_import(request, uploads.upload_limit(request), "The units")
    return importer.parse_csv(payload) if kind == "csv" else importer.parse_json(payload)
