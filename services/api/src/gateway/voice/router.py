"""The voice of people under supervision in an inspection: read and recorded whole."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from gateway.db import SessionDep
from gateway.permissions import Permission, requires
from gateway.preconditions import answer_put, etag
from gateway.voice import service
from gateway.voice.schemas import VoiceRead, VoiceWrite
from inspection_shared.problems import problem_responses

router = APIRouter(tags=["voice"])

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag of your last read. Leave it out to record the first one; required to change it.",
    ),
]
_ETAG_HEADER = {
    "ETag": {"description": "Version; send it back in If-Match to change it.", "schema": {"type": "string"}}
}
_PATH = "/inspections/{inspection_id}/voice"


@router.get(
    _PATH,
    summary="The evidence from people under supervision: survey counts and interview themes",
    description="Read by those who may read the inspection's judgements; each piece is also shown beside the "
    "judgements of the standards it informs, and in the report.",
    responses={200: {"headers": _ETAG_HEADER}, **problem_responses(404)},
    dependencies=[requires(Permission.ASSESSMENTS_READ)],
)
async def get_voice(inspection_id: uuid.UUID, response: Response, session: SessionDep) -> VoiceRead:
    voice = await service.get_voice(session, inspection_id)
    response.headers["ETag"] = etag(voice.version)
    return voice


@router.put(
    _PATH,
    summary="Record the whole of the evidence from people under supervision",
    description=(
        "Surveys (each question with its answer options, and how many respondents gave each answer) and sets "
        "of interviews (how many were interviewed, and the themes raised with how many raised each), each "
        "question and theme linked to the judged standards it informs. Counts only: no field names or "
        "identifies a person, and a text holding an email address or naming a case of the inspection's "
        "samples is refused. Counts of a question or option the survey does not have, or adding up to more "
        "than its respondents, are refused naming the field (422). Without If-Match when there is none yet "
        "(201); with the ETag of your last read to change it (200): 428 without If-Match, 412 if it has "
        "changed since. Recorded by the inspection's team while it is in fieldwork or rating, as judgements "
        "are; 409 before, and once it is published or withdrawn."
    ),
    responses={
        200: {"description": "Changed.", "headers": _ETAG_HEADER},
        201: {"description": "Recorded for the first time.", "headers": _ETAG_HEADER},
        **problem_responses(404, 409, 412, 422, 428),
    },
    dependencies=[requires(Permission.ASSESSMENTS_WRITE)],
)
async def put_voice(
    inspection_id: uuid.UUID,
    data: VoiceWrite,
    request: Request,
    response: Response,
    session: SessionDep,
    if_match: IfMatch = None,
) -> VoiceRead:
    voice, created = await service.put_voice(session, inspection_id, data, if_match)
    answer_put(request, response, voice.version, created)
    return voice
