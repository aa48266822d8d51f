"""Rows for lifecycle tests, written straight into the test's transaction so that each test can start
from the phase it is about. The `gateway` client shares that transaction and sees them."""

from __future__ import annotations

import gzip
import hashlib
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.assessments.models import CaseAssessment, Judgement
from gateway.caseloads.models import CaseloadFrame, Sample, SampledCase
from gateway.frameworks.service import get_framework
from gateway.identity.models import RoleGrant, User
from gateway.inspections.models import Inspection, TeamMember
from gateway.permissions import Role
from gateway.units.models import Unit
from gateway.units.repository import subtree_codes
from inspection_shared.framework import Standard
from tests.support.identity import known_hash


async def make_unit(session: AsyncSession, *, type: str = "pdu", parent: Unit | None = None, **fields) -> Unit:
    tag = uuid.uuid4().hex[:8].upper()
    if type == "pdu" and parent is None:
        parent = await make_unit(session, type="region")
    unit = Unit(
        code=fields.pop("code", f"T{tag}"),
        name=fields.pop("name", f"Test {type} {tag}"),
        type=type,
        nation=fields.pop("nation", "England"),
        parent_id=parent.id if parent else None,
        created_by="test",
        updated_by="test",
        **fields,
    )
    session.add(unit)
    await session.flush()
    return unit


async def make_inspection(
    session: AsyncSession,
    *,
    unit: Unit | None = None,
    framework_id: str = "probation-pdu-2021",
    status: str = "planned",
    type: str = "core",
    **fields,
) -> Inspection:
    unit = unit or await make_unit(session)
    inspection = Inspection(
        unit_id=unit.id,
        framework_id=framework_id,
        type=type,
        status=status,
        fieldwork_start=fields.pop("fieldwork_start", date(2026, 3, 2)),
        fieldwork_end=fields.pop("fieldwork_end", date(2026, 3, 20)),
        created_by="test",
        updated_by="test",
        **fields,
    )
    session.add(inspection)
    await session.flush()
    return inspection


# --- people and teams ---------------------------------------------------------------------------------


async def make_account(
    session: AsyncSession, role: Role | None = None, unit: Unit | None = None, *, active: bool = True, **fields
) -> User:
    """An account (its password `tests.support.identity.ADMIN_PASSWORD`) holding `role` on `unit` (admin: everywhere)."""
    tag = uuid.uuid4().hex[:8]
    user = User(email=f"person-{tag}@justice.example", name=f"Person {tag}", password_hash=known_hash(),
                active=active, token_generation=0, **fields)
    session.add(user)
    await session.flush()
    if role is not None:
        session.add(RoleGrant(user_id=user.id, role=role, unit_id=None if role is Role.ADMIN else unit.id))
        await session.flush()
    return user


async def make_team(session: AsyncSession, inspection: Inspection, members: dict[User, str]) -> None:
    """Places on the inspection's team, by member and team role, unchecked."""
    session.add_all(TeamMember(inspection_id=inspection.id, user_id=user.id, role=role) for user, role in members.items())
    await session.flush()


# --- evidence for rating: samples with assessed cases, and judgements --------------------------------


async def make_assessed_sample(
    session: AsyncSession,
    inspection: Inspection,
    sample_type: str,
    cases: list[dict],
    *,
    frame: CaseloadFrame | None = None,
) -> Sample:
    """A frame (or `frame`, held already) and a sample of `sample_type` with its sampled cases and their case
    assessments.

    Each case is a dict: `case_ref`, and optionally `answers` (key question id -> yes / no /
    not_applicable; absent: the case is not assessed yet), `attributes`, `status` (selected by default;
    reserve_used, replaced, reserve) and `unit`.
    """
    if frame is None:
        frame_csv = "case_ref\n" + "".join(f"{case['case_ref']}\n" for case in cases)
        frame = CaseloadFrame(
            inspection_id=inspection.id,
            sample_type=sample_type,
            columns=["case_ref"],
            case_count=len(cases),
            fingerprint=hashlib.sha256(frame_csv.encode()).hexdigest(),
            content=gzip.compress(frame_csv.encode()),
            uploaded_by="test",
        )
        session.add(frame)
        await session.flush()
    sample = Sample(
        inspection_id=inspection.id,
        frame_id=frame.id,
        sample_type=sample_type,
        seed=1,
        design={"sample_size": len(cases)},
        frame_fingerprint=frame.fingerprint,
        algorithm="test",
        result={},
        drawn_by="test",
    )
    session.add(sample)
    await session.flush()
    for case in cases:
        sampled = SampledCase(
            sample_id=sample.id,
            case_ref=case["case_ref"],
            unit=case.get("unit"),
            stratum="all",
            inclusion_probability=1.0,
            weight=1.0,
            status=case.get("status", "selected"),
            reserve_rank=case.get("reserve_rank"),
            assessed="answers" in case,
        )
        session.add(sampled)
        await session.flush()
        if "answers" in case:
            session.add(
                CaseAssessment(
                    inspection_id=inspection.id,
                    sampled_case_id=sampled.id,
                    case_ref=case["case_ref"],
                    sample_type=sample_type,
                    answers=case["answers"],
                    attributes=case.get("attributes", {}),
                    created_by="test",
                    updated_by="test",
                )
            )
    await session.flush()
    return sample


async def make_judgement(
    session: AsyncSession, inspection: Inspection, standard_id: str, rating: str, evidence_summary: str = "Evidence."
) -> Judgement:
    judgement = Judgement(
        inspection_id=inspection.id,
        standard_id=standard_id,
        rating=rating,
        evidence_summary=evidence_summary,
        created_by="test",
        updated_by="test",
    )
    session.add(judgement)
    await session.flush()
    return judgement


def _matching(standard: Standard) -> dict:
    """Case attributes that the standard's case filter selects."""
    conditions = standard.case_filter.conditions if standard.case_filter else []
    return {c.attribute: c.equals if c.equals is not None else c.one_of[0] for c in conditions}


def _yes(case: int, key_question: str) -> str | None:
    return "yes"


async def make_publishable(
    session: AsyncSession,
    inspection: Inspection,
    *,
    cases: int = 12,
    answer: Callable[[int, str], str | None] = _yes,
    unjudged: Iterable[str] = (),
) -> None:
    """Evidence that meets the publication gates of the inspection's framework once rated: a sample of
    `cases` for each sample type its case-based standards are assessed on, every case answered on every
    key question (with the attributes their case filters select), and every judged standard judged good.
    Fieldwork must have ended too (make_inspection's dates have).

    `answer(n, key_question)` gives the nth case's answer (None: unanswered), yes by default; `unjudged`
    names judged standards left without a judgement. The framework is the inspection's, as the gateway
    holds it (a copy imported by a test included).
    """
    framework = await get_framework(session, inspection.framework_id)
    standards = [s for s in framework.standards() if s.kind == "case"]
    for sample_type in dict.fromkeys(s.sample_type for s in standards):
        on_it = [s for s in standards if s.sample_type == sample_type]
        attributes = {name: value for s in on_it for name, value in _matching(s).items()}
        tag = uuid.uuid4().hex[:4].upper()
        made = []
        for n in range(cases):
            answers = {kq.id: a for s in on_it for kq in s.key_questions if (a := answer(n, kq.id)) is not None}
            case = {"case_ref": f"P{tag}{n:04d}", "attributes": attributes}
            made.append({**case, "answers": answers} if answers else case)  # no answer at all: not assessed
        await make_assessed_sample(session, inspection, sample_type, made)
    for standard in framework.standards():
        if standard.kind == "judged" and standard.id not in unjudged:
            await make_judgement(session, inspection, standard.id, "good")


# --- sampled cases for recording case assessments ----------------------------------------------------


async def make_sampled_cases(
    session: AsyncSession,
    inspection: Inspection,
    sample_type: str,
    case_refs: list[str],
    *,
    statuses: dict[str, str] | None = None,
) -> Sample:
    """A frame and a sample of `sample_type` holding `case_refs`, written in three statements however many.

    `statuses` gives a case another status than selected (reserve_used or replaced).
    """
    from sqlalchemy import insert

    from gateway.caseloads.models import CaseloadFrame, Sample, SampledCase

    frame_csv = "case_ref\n" + "".join(f"{ref}\n" for ref in case_refs)
    frame = CaseloadFrame(
        inspection_id=inspection.id,
        sample_type=sample_type,
        columns=["case_ref"],
        case_count=len(case_refs),
        fingerprint=hashlib.sha256(frame_csv.encode()).hexdigest(),
        content=gzip.compress(frame_csv.encode()),
        uploaded_by="test",
    )
    session.add(frame)
    await session.flush()
    sample = Sample(
        inspection_id=inspection.id,
        frame_id=frame.id,
        sample_type=sample_type,
        seed=1,
        design={"sample_size": len(case_refs)},
        frame_fingerprint=frame.fingerprint,
        algorithm="test",
        result={},
        drawn_by="test",
    )
    session.add(sample)
    await session.flush()
    statuses = statuses or {}
    await session.execute(
        insert(SampledCase),
        [
            {
                "id": uuid.uuid4(),
                "sample_id": sample.id,
                "case_ref": ref,
                "stratum": "all",
                "inclusion_probability": 1.0,
                "weight": 1.0,
                "status": statuses.get(ref, "selected"),
            }
            for ref in case_refs
        ],
    )
    return sample


# --- caseload frames and samples through the API -----------------------------------------------------

SYNTHETIC_VALUES: dict[str, tuple[str, ...]] = {
    "gender": ("male", "male", "male", "male", "female"),
    "sentence_type": ("community_order", "licence", "suspended_sentence_order"),
    "rosh_level": ("low", "medium", "medium", "high"),
    "disposal_type": ("referral_order", "youth_rehabilitation_order", "youth_caution", "community_resolution"),
    "looked_after": ("true", "false", "false", "false"),
    "unpaid_work_requirement": ("true", "false"),
    "released_from_custody": ("true", "false"),
}
"""Values of synthetic caseload frames, by column, codes of the library's vocabularies; a value listed twice
is twice as common."""


async def frame_units(session: AsyncSession, inspection: Inspection) -> list[str]:
    """The codes a frame of the inspection may name in its unit column: its unit's, then those below it."""
    return await subtree_codes(session, inspection.unit_id)


async def make_region_inspection(
    session: AsyncSession, pdu_codes: Sequence[str] = ("N01", "N02", "N03"), **fields
) -> Inspection:
    """An inspection of a region with PDUs of these codes below it, for frames naming several units."""
    region = await make_unit(session, type="region")
    for code in pdu_codes:
        await make_unit(session, type="pdu", parent=region, code=code)
    return await make_inspection(session, unit=region, **fields)


def synthetic_frame(
    columns: list[str], cases: int, *, seed: int = 1, first_ref: int = 100001, units: Sequence[str] = ()
) -> str:
    """A synthetic caseload frame as CSV: case references X100001 onwards, values drawn from SYNTHETIC_VALUES,
    and units from `units` (codes the inspection's frames may name: see `frame_units`)."""
    import random

    if "unit" in columns and not units:
        raise ValueError("a frame with a unit column needs the codes of the units it may name")
    rng = random.Random(seed)
    values = {**SYNTHETIC_VALUES, "unit": tuple(units)}
    lines = [",".join(columns)]
    for number in range(first_ref, first_ref + cases):
        row = []
        for column in columns:
            if column == "case_ref":
                row.append(f"X{number:06d}")
            elif column == "start_date":
                row.append(date.fromordinal(date(2025, 6, 1).toordinal() + rng.randrange(180)).isoformat())
            else:
                row.append(rng.choice(values[column]))
        lines.append(",".join(row))
    return "\n".join(lines) + "\n"


async def make_sample(
    client,
    inspection: Inspection,
    *,
    sample_type: str | None = None,
    cases: int = 60,
    columns: list[str] | None = None,
    **design,
) -> dict:
    """Upload a synthetic frame and draw a sample from it through the API; returns the sample as read.

    Defaults: the first sample type of the pinned framework, a frame of case_ref, unit (the inspected unit's
    code) and the sample type's strata, and a draw of 12 cases with seed 7 and 2 reserves per stratum.
    `design` adds to or overrides the draw request (size, strata, seed, reserves_per_stratum, ...).
    """
    framework = (await client.get(f"/api/v1/frameworks/{inspection.framework_id}")).json()
    case_types = {s["sample_type"] for d in framework["domains"] for s in d["standards"] if s["kind"] == "case"}
    sample_types = [t for t in framework["sample_types"] if t["id"] in case_types]
    chosen = next(t for t in sample_types if sample_type in (None, t["id"]))
    if columns is None:
        columns = ["case_ref", "unit", *(s for s in chosen["strata"] if s != "unit")]
    uploaded = await client.put(
        f"/api/v1/inspections/{inspection.id}/frames/{chosen['id']}",
        content=synthetic_frame(columns, cases, units=[(await client.get(f"/api/v1/units/{inspection.unit_id}")).json()["code"]]),
        headers={"Content-Type": "text/csv"},
    )
    assert uploaded.status_code in (200, 201), uploaded.text
    drawn = await client.post(
        f"/api/v1/inspections/{inspection.id}/samples",
        json={"sample_type": chosen["id"], "size": 12, "seed": 7, **design},
    )
    assert drawn.status_code == 201, drawn.text
    return drawn.json()
