"""Wire shapes of case assessments and domain-one judgements."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from gateway.caseloads.schemas import CaseStatus
from gateway.pagination import PageQuery
from gateway.voice.schemas import StandardVoice
from inspection_shared.framework import KeyQuestionId, Rating, Slug, StandardId
from inspection_shared.pagination import Page
from inspection_shared.rating import Answer

EVIDENCE_NOTE_MAX = 1000
"""A case's evidence note is a short pointer to the evidence, not a case record."""
EVIDENCE_SUMMARY_MAX = 20000
"""As much as the rating engine accepts beside a judged standard's rating."""
ATTRIBUTE_VALUE_MAX = 64

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("may not hold control characters other than line breaks and tabs")
    return value


def _blank_is_none(value: str | None) -> str | None:
    return value or None


EvidenceNote = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=EVIDENCE_NOTE_MAX),
    AfterValidator(_no_control_characters),
    Field(description=f"A short note on where the evidence is, at most {EVIDENCE_NOTE_MAX} characters."),
]
EvidenceSummary = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=EVIDENCE_SUMMARY_MAX),
    AfterValidator(_no_control_characters),
]
CaseRefPath = Annotated[str, StringConstraints(min_length=1, max_length=64)]
AttributeValue = bool | int | Annotated[str, StringConstraints(max_length=ATTRIBUTE_VALUE_MAX)]

_ASSESSMENT_EXAMPLE = {
    "answers": {"2.2.1": "yes", "2.2.2": "no", "2.2.3": "not_applicable"},
    "attributes": {},
    "evidence_note": "Sentence plan and contact log on the case record, March.",
}


class CaseAssessmentWrite(BaseModel):
    """The whole assessment of one case as it now stands: a key question left out is not yet answered."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_ASSESSMENT_EXAMPLE]})

    answers: dict[KeyQuestionId, Answer] = Field(
        default_factory=dict,
        max_length=500,
        description="Key question id -> yes, no or not_applicable, for key questions of the standards "
        "assessed on the case's sample; for an outcome standard's key questions, the person's position on the "
        "outcome now against the start of supervision: improved, unchanged, worse or not_applicable.",
    )
    attributes: dict[Slug, AttributeValue] = Field(
        default_factory=dict,
        max_length=50,
        description="Only the case attributes that those standards' case filters read (for example "
        "unpaid_work_requirement); any other attribute is refused.",
    )
    evidence_note: Annotated[EvidenceNote | None, AfterValidator(_blank_is_none)] = None


class CaseAssessmentRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_ASSESSMENT_EXAMPLE,
                    "inspection_id": "7d1f3c2e-4b5a-4e6f-8a9b-0c1d2e3f4a5b",
                    "sample_type": "case_supervision",
                    "case_ref": "X123456",
                    "case_status": "selected",
                    "unanswered": [],
                    "version": 2,
                    "created_at": "2026-03-03T10:15:00Z",
                    "created_by": "system",
                    "updated_at": "2026-03-04T09:02:00Z",
                    "updated_by": "system",
                }
            ]
        }
    )

    inspection_id: uuid.UUID
    sample_type: str
    case_ref: str
    case_status: CaseStatus = Field(
        description="selected or reserve_used: in the sample; replaced: taken out by a substitution since."
    )
    answers: dict[str, Answer]
    attributes: dict[str, AttributeValue]
    evidence_note: str | None
    unanswered: list[str] = Field(
        description="Key questions of the standards assessed on this sample that have no answer yet."
    )
    version: int = Field(description="Also the ETag; send it back in If-Match to change the assessment.")
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class AssessmentListQuery(PageQuery.sized(100, 500)):

    sample_type: Slug | None = Field(default=None, description="Only cases of this sample.")
    standard: StandardId | None = Field(
        default=None, description="With `complete`: judge completeness on this case-based standard only."
    )
    complete: bool | None = Field(
        default=None,
        description="true: only assessments answering every key question (of `standard`, or of every "
        "standard assessed on the case's sample); false: only those with a key question unanswered.",
    )


class CaseAssessmentImportItem(BaseModel):
    """One case in a JSON import: what it gives is set, what it leaves out keeps its held value."""

    model_config = ConfigDict(extra="forbid")

    case_ref: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    sample_type: Slug
    answers: dict[KeyQuestionId, Answer] = Field(default_factory=dict, max_length=500)
    attributes: dict[Slug, AttributeValue] = Field(default_factory=dict, max_length=50)
    evidence_note: Annotated[EvidenceNote | None, AfterValidator(_blank_is_none)] = Field(
        default=None, description="Left out: the held note stays; null or blank: the note is cleared."
    )


class AssessmentImportReport(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"cases": 150, "answers": 1800, "created": 120, "updated": 25, "unchanged": 5}]
        }
    )

    cases: int = Field(description="Cases named in the import.")
    answers: int = Field(description="Answers given in the import.")
    created: int = Field(description="Cases assessed for the first time.")
    updated: int = Field(description="Cases whose held assessment changed (its version goes up by one).")
    unchanged: int = Field(description="Cases whose held assessment already said all the import says.")


# --- judgements --------------------------------------------------------------------------------------


class JudgementWrite(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "rating": "good",
                    "evidence_summary": "Leaders have a clear vision; staff interviews and the survey agree.",
                }
            ]
        },
    )

    rating: Rating
    evidence_summary: EvidenceSummary = Field(description="The basis of the rating. Required.")


class JudgementFields(BaseModel):
    inspection_id: uuid.UUID
    standard_id: str
    standard_name: str
    rating: Rating
    evidence_summary: str
    version: int = Field(description="Also the ETag; send it back in If-Match to change the judgement.")
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class JudgementRead(JudgementFields):
    voice: StandardVoice = Field(description="The evidence from people under supervision that informs the standard.")


class UnitJudgementRead(JudgementFields):
    """A judgement of a judged standard for one PDU of a region's inspection (the voice evidence, of the
    inspection as a whole, is with the region's judgements)."""

    unit_id: uuid.UUID
    unit_code: str


class JudgedStandard(BaseModel):
    standard_id: str
    name: str
    scored: bool = Field(description="Counted in the overall score.")
    voice: StandardVoice = Field(description="The evidence from people under supervision that informs the standard.")


class JudgementList(Page[JudgementRead]):
    """Every judgement recorded, in framework order, and the judged standards still without one."""

    missing: list[JudgedStandard] = Field(description="Judged standards of the pinned framework not yet judged.")
