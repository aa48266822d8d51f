"""Wire schemas of the rating engine: the evidence it is sent and the explained ratings it returns.

One definition each: the engine validates requests with these models and the gateway builds its calls
and reads the answers with them (`inspection_shared.clients.rating`).

Cases are `TypedDict`s rather than models: a national pooled request carries tens of thousands of them
and a typed dict validates several times faster than a model instance, with the same schema and the same
error locations. A case carries only what rating needs (domain.md, data protection): its reference, the
attributes the framework's case filters read, and its answers. Nothing else is accepted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator, with_config
from typing_extensions import NotRequired, TypedDict

from inspection_shared.fields import SentAsNumber
from inspection_shared.framework import AnswerScale, CaseFilter, Framework, KeyQuestionId, Rating, StandardId

Answer = Literal["yes", "no", "not_applicable", "improved", "unchanged", "worse"]
"""An inspector's answer to one key question for one case, on the scale of the key question's standard
(`SCALE_ANSWERS`)."""

SCALE_ANSWERS: dict[AnswerScale, tuple[str, ...]] = {
    "yes_no": ("yes", "no", "not_applicable"),
    "outcome": ("improved", "unchanged", "worse", "not_applicable"),
}
"""The answers each answer scale takes: whether the work was good enough, or the person's position on an
outcome now against the start of supervision."""

OverallRatingValue = Literal["outstanding", "good", "requires_improvement", "inadequate", "not_rated"]
EvidenceKind = Literal["cases", "counts", "rating", "none"]
StandardStatus = Literal["rated", "no_evidence", "no_applicable_cases"]
KeyQuestionStatus = Literal["rated", "no_applicable_cases"]

CaseRef = Annotated[str, StringConstraints(min_length=1, max_length=64)]
AttributeValue = str | int | bool | None
Confidence = Annotated[float, Field(gt=0, lt=1), SentAsNumber]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
UnitRef = Annotated[str, StringConstraints(min_length=1, max_length=64)]

FRAMEWORK_FIELD_DESCRIPTION = (
    "The id of a framework version in the library (e.g. `probation-crc-2018`), or a whole framework "
    "definition inline, in the shape `GET /v1/frameworks/{id}` returns; an inline definition is validated "
    "by the library's loader and refused with every fault named."
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------------------------------------
# Requests


@with_config(ConfigDict(extra="forbid"))
class CaseAnswers(TypedDict):
    """One inspected case: its reference, the attributes case filters read, and its answers."""

    case_ref: CaseRef
    attributes: NotRequired[dict[str, AttributeValue]]
    answers: dict[str, Answer]


class KeyQuestionCount(_Model):
    """Aggregate figures for one key question, for callers who hold counts rather than cases."""

    yes: Annotated[int, Field(ge=0), SentAsNumber]
    applicable: Annotated[int, Field(ge=0), SentAsNumber] = Field(
        description="Cases answered yes or no; not-applicable cases are left out."
    )


class StandardEvidence(_Model):
    """The evidence for one standard: exactly one of `cases`, `counts` or `rating`."""

    standard: StandardId
    cases: list[CaseAnswers] | None = Field(
        default=None, description="Case answers; the standard's case filter selects which cases count."
    )
    counts: dict[KeyQuestionId, KeyQuestionCount] | None = Field(
        default=None, description="Per key question, `yes` and `applicable` counts."
    )
    rating: Rating | None = Field(
        default=None,
        description="A judged standard's rating, or a rating already decided elsewhere (to re-score a table).",
    )
    evidence_summary: str | None = Field(default=None, max_length=20000, description="With `rating`: the basis.")
    confidence: Confidence | None = Field(
        default=None, description="Confidence of this standard's intervals, when its sample differs from the rest."
    )

    @model_validator(mode="after")
    def _one_kind_of_evidence(self) -> StandardEvidence:
        given = [name for name in ("cases", "counts", "rating") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                f"standard {self.standard}: give exactly one of cases, counts or rating"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.evidence_summary is not None and self.rating is None:
            raise ValueError(f"standard {self.standard}: evidence_summary goes with a rating")
        return self


NOT_RATED = "not_rated"


class Override(_Model):
    """A ratings panel's decision on a standard's rating: a rating set away from the computed one, the
    computed rating confirmed (the same rating given), or `not_rated`: no rating is published for it."""

    standard: StandardId
    rating: OverallRatingValue = Field(
        description="The rating the panel decides on: the computed one confirms it, another sets it, "
        "`not_rated` withholds it (a standard with no evidence may only be marked not rated)."
    )
    reason: Reason = Field(description="Why the panel decided so. Required.")


class _FrameworkRef(_Model):
    framework: str | dict[str, Any] = Field(description=FRAMEWORK_FIELD_DESCRIPTION)
    confidence: Confidence = Field(
        default=0.80, description="Confidence of the key-question intervals (Wilson), 80% by default."
    )

    @field_validator("framework", mode="before")
    @classmethod
    def _framework_model_to_data(cls, value: Any) -> Any:
        return value.model_dump(mode="json") if isinstance(value, Framework) else value


class RatingRequest(_FrameworkRef):
    """Evidence for one inspection, rated against one framework version."""

    standards: list[StandardEvidence] = Field(
        description="Evidence per standard; a framework standard left out has no evidence."
    )
    overrides: list[Override] = Field(default_factory=list)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "framework": "probation-crc-2018",
                    "standards": [
                        {"standard": "1.1", "rating": "good", "evidence_summary": "Leadership interviews."},
                        {
                            "standard": "2.1",
                            "counts": {
                                "2.1.1": {"yes": 41, "applicable": 50},
                                "2.1.2": {"yes": 36, "applicable": 50},
                                "2.1.3": {"yes": 30, "applicable": 48},
                            },
                        },
                        {
                            "standard": "3.1",
                            "cases": [
                                {
                                    "case_ref": "X123456",
                                    "attributes": {"unpaid_work_requirement": True},
                                    "answers": {"3.1.1": "yes", "3.1.2": "no", "3.1.3": "not_applicable"},
                                }
                            ],
                        },
                    ],
                    "overrides": [{"standard": "1.1", "rating": "requires_improvement", "reason": "Panel decision."}],
                }
            ]
        }
    )


class UnitEvidence(_Model):
    """One unit's case-based evidence, to be pooled with other units'."""

    unit: UnitRef = Field(description="The unit (or inspection) the evidence comes from, e.g. a PDU code.")
    standards: list[StandardEvidence]


class PooledRatingRequest(_FrameworkRef):
    """Case answers (or counts) of several units' inspections, pooled into one rating per standard."""

    units: list[UnitEvidence] = Field(min_length=1)
    case_filter: CaseFilter | None = Field(
        default=None,
        description="Pool only the cases matching this filter as well as each standard's own, e.g. cases "
        "with an unpaid work requirement for a delivery-partner judgement. Needs case answers, not counts.",
    )


# --------------------------------------------------------------------------------------------------------
# Results


class KeyQuestionFigure(_Model):
    """One key question's figures: the share of applicable cases answered yes, its band and interval. For
    an outcome key question, `yes` counts the cases improved and `applicable` those improved, unchanged or
    worse, banded on the outcome thresholds."""

    key_question: str
    status: KeyQuestionStatus
    yes: int
    applicable: int = Field(description="Cases answered yes or no (improved, unchanged or worse on an outcome).")
    unchanged: int | None = Field(default=None, description="On an outcome key question: cases unchanged.")
    worse: int | None = Field(default=None, description="On an outcome key question: cases worse.")
    not_applicable: int | None = Field(default=None, description="With case answers: cases answered not applicable.")
    unanswered: int | None = Field(default=None, description="With case answers: selected cases with no answer.")
    percent: float | None = Field(description="100 x yes / applicable, unrounded; null without applicable cases.")
    percent_rounded: int | None = Field(description="The whole percentage a report prints (half up).")
    band: Rating | None = Field(description="Band of the exact fraction against the framework's thresholds.")
    interval: tuple[float, float] | None = Field(
        description="Wilson score interval of the percentage, in percent, at the standard's confidence."
    )
    crosses_band_edge: bool = Field(description="The interval reaches into another band.")


class ProgressFigure(_Model):
    """An outcome standard's figure: the share of applicable cases with progress, banded on the framework's
    outcome thresholds. A case is applicable when any of its outcomes applies (improved, unchanged or
    worse), and shows progress when any improved."""

    applicable: int = Field(description="Cases with at least one outcome that applies.")
    with_progress: int = Field(description="Applicable cases improved on at least one outcome.")
    percent: float | None = Field(description="100 x with_progress / applicable, unrounded; null without cases.")
    percent_rounded: int | None
    band: Rating | None
    interval: tuple[float, float] | None = Field(description="Wilson score interval, in percent.")
    crosses_band_edge: bool
    thresholds_provisional: bool = Field(description="The outcome thresholds are marked provisional.")


class MoveByKeyQuestion(_Model):
    key_question: str
    cases: int = Field(description="Cases whose answer to this key question would have to change.")


class StandardRating(_Model):
    """A standard's rating with its working out."""

    standard: str
    name: str
    kind: Literal["case", "judged"]
    scored: bool = Field(description="Counted in the overall score; a not-scored standard is rated all the same.")
    evidence: EvidenceKind
    status: StandardStatus
    computed_rating: Rating | None = Field(description="The rating the rules give (or the rating sent as input).")
    rating: Rating | None = Field(description="The final rating: the override when the panel set one.")
    rating_label: str | None
    overridden: bool = Field(
        default=False,
        description="A ratings panel decision is in force on the standard: its rating set, confirmed, or "
        "withheld (marked not rated); `computed_rating` is what the rules gave.",
    )
    override_reason: str | None = Field(default=None, description="The panel's reason.")
    points: int | None = Field(description="Points the final rating adds to the score; null when not scored.")
    driver: str | None = Field(
        description="The key question with the lowest share, which set the rating (none for an outcome standard)."
    )
    confidence: float | None = None
    cases: int | None = Field(default=None, description="Cases sent for the standard.")
    cases_selected: int | None = Field(default=None, description="Cases its case filter selected.")
    key_questions: list[KeyQuestionFigure] = Field(default_factory=list)
    progress: ProgressFigure | None = Field(
        default=None, description="An outcome standard's share of applicable cases with progress, which rates it."
    )
    borderline: bool | None = Field(
        description="The driving key question's (an outcome standard's progress) interval crosses a band edge."
    )
    cases_to_move_up: int | None = Field(
        description="No-to-yes answers needed for the next band up, counted per key question (for an outcome "
        "standard, more cases with progress)."
    )
    cases_to_move_down: int | None = Field(
        description="Yes-to-no answers that would drop it a band (for an outcome standard, fewer cases with progress)."
    )
    move_up: list[MoveByKeyQuestion] = Field(default_factory=list, description="Per key question, to move up.")
    move_down: MoveByKeyQuestion | None = None
    explanation: str
    notes: list[str] = Field(default_factory=list)


class ScoreBandEdge(_Model):
    rating: Rating
    min: int
    max: int


class OverallRating(_Model):
    """The overall rating: points summed over the scored standards, banded by the framework's rules."""

    status: Literal["rated", "not_rated"]
    rating: OverallRatingValue
    rating_label: str | None
    score: int | None
    max_score: int
    band: ScoreBandEdge | None = Field(description="The score band the score falls in.")
    band_above: ScoreBandEdge | None
    band_below: ScoreBandEdge | None
    points_to_move_up: int | None = Field(description="Points needed to reach the band above.")
    points_to_move_down: int | None = Field(description="Points lost that would drop it to the band below.")
    computed_score: int | None = Field(description="The score before any panel override.")
    computed_rating: OverallRatingValue = Field(description="The rating before any panel override.")
    scored_standards: int
    bands_provisional: bool
    bands_note: str = ""
    reasons: list[str] = Field(default_factory=list, description="Why the overall is not rated.")
    explanation: str


class _ResultHeader(_Model):
    framework_id: str
    framework_version: str
    framework_hash: str = Field(description="SHA-256 of the framework definition rated against.")
    framework_source: Literal["library", "inline"]
    rules_version: str = Field(description="Version of the engine's rating rules.")
    input_fingerprint: str = Field(
        description="SHA-256 of the canonical input (order of cases, standards and units ignored)."
    )
    confidence: float


class RatingResult(_ResultHeader):
    standards: list[StandardRating] = Field(description="Every standard of the framework, in its order.")
    overall: OverallRating


class UnitFigures(_Model):
    """One unit's own figures for a pooled standard."""

    unit: str
    computed_rating: Rating | None
    driver: str | None
    cases: int | None = None
    cases_selected: int | None = None
    key_questions: list[KeyQuestionFigure]
    progress: ProgressFigure | None = None


class PooledStandardRating(StandardRating):
    units: list[UnitFigures] = Field(default_factory=list, description="The per-unit breakdown.")


class PooledRatingResult(_ResultHeader):
    units: list[str] = Field(description="The units pooled, sorted.")
    standards: list[PooledStandardRating] = Field(description="Each standard any unit gave evidence for.")
