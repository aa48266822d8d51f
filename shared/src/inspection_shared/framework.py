"""The framework wire and authoring shape: one model serves the library files and every API.

A framework version is data (domain.md section 2): domains, standards, key questions, the samples its
case-based standards are assessed on, and its rating rules (section 3). Inspections pin a version; a
published version never changes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Rating = Literal["outstanding", "good", "requires_improvement", "inadequate"]
RATINGS: tuple[Rating, ...] = ("outstanding", "good", "requires_improvement", "inadequate")
"""The four-point scale, best first."""

StandardId = Annotated[str, StringConstraints(pattern=r"^\d+\.\d+$")]
KeyQuestionId = Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
FrameworkId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]

Programme = Literal["probation", "youth"]
"""The inspectorate's two programmes: adult probation services, and youth justice services."""
YOUTH_UNIT_TYPES = frozenset({"yos"})


def programme_of(applies_to: list[str]) -> Programme:
    """The programme of a framework version, from the unit types it is for: youth if it inspects youth
    services, probation otherwise."""
    return "youth" if YOUTH_UNIT_TYPES.intersection(applies_to) else "probation"


FrameworkStatus = Literal["published", "draft"]
STATUS_DESCRIPTION = (
    "`published`: in force for every type of inspection. `draft`: proposed, for pilot inspections only; "
    "ratings under a draft are never published, so never counted in statistics."
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Theme(_Model):
    id: Slug
    name: str


class SampleType(_Model):
    """A caseload frame an inspection draws a sample from (domain.md section 4)."""

    id: Slug
    name: str
    description: str = ""
    strata: list[Slug] = Field(default_factory=list, description="Variables the sample should mirror.")


class CaseCondition(_Model):
    attribute: Slug
    equals: str | int | bool | None = None
    one_of: list[str | int | bool] | None = None


class CaseFilter(_Model):
    """Which cases of the sample a standard applies to, by case attribute."""

    match: Literal["all", "any"] = "all"
    conditions: list[CaseCondition] = Field(min_length=1)


class KeyQuestion(_Model):
    id: KeyQuestionId
    text: str = Field(min_length=1)
    theme: Slug
    prompts: list[str] = Field(default_factory=list)


AnswerScale = Literal["yes_no", "outcome"]
"""What a case-based standard's key questions record for a case: `yes_no`, whether the work was good enough
(yes, no or not applicable); `outcome`, the person's position on an outcome now against the start of
supervision (improved, unchanged, worse or not applicable)."""


class Standard(_Model):
    id: StandardId
    name: str = Field(min_length=1)
    kind: Literal["case", "judged"]
    answer_scale: AnswerScale = Field(
        default="yes_no",
        description="For a case-based standard: `yes_no` (rated by its lowest key question's share of yes) or "
        "`outcome` (an outcome standard, rated by the share of applicable cases with progress, on the "
        "framework's `outcome_thresholds`).",
    )
    scored: bool = True
    description: str = ""
    sample_type: Slug | None = Field(
        default=None, description="For a case-based standard, the sample it is assessed on."
    )
    case_filter: CaseFilter | None = None
    key_questions: list[KeyQuestion] = Field(default_factory=list)


class Domain(_Model):
    number: int = Field(ge=1)
    name: str = Field(min_length=1)
    standards: list[Standard] = Field(min_length=1)


class ScalePoint(_Model):
    rating: Rating
    label: str
    points: int = Field(ge=0)


class KeyQuestionThresholds(_Model):
    """Lowest percentage of applicable cases answered 'yes' for each band (the rest is Inadequate)."""

    outstanding: float = Field(gt=0, le=100)
    good: float = Field(gt=0, le=100)
    requires_improvement: float = Field(gt=0, le=100)


class OutcomeThresholds(_Model):
    """Lowest percentage of applicable cases with progress for each band of an outcome standard (the rest
    is Inadequate). A case is applicable when any of its outcomes applies, and shows progress when any
    improved since the start of supervision."""

    outstanding: float = Field(gt=0, le=100)
    good: float = Field(gt=0, le=100)
    requires_improvement: float = Field(gt=0, le=100)
    provisional: bool = False
    note: str = ""


class ScoreBand(_Model):
    rating: Rating
    min: int = Field(ge=0)
    max: int = Field(ge=0)


class OverallRules(_Model):
    max_score: int = Field(ge=1)
    bands: list[ScoreBand] = Field(min_length=1)
    provisional: bool = False
    note: str = ""


class UnitRating(_Model):
    """Which units of inspection receive ratings under this framework (domain.md section 3)."""

    rated_unit_types: list[Slug] = Field(default_factory=list)
    note: str = ""


class RatingRules(_Model):
    scale: list[ScalePoint] = Field(min_length=4, max_length=4)
    key_question_thresholds: KeyQuestionThresholds
    outcome_thresholds: OutcomeThresholds | None = Field(
        default=None, description="The bands of the outcome standards; required when the framework has one."
    )
    overall: OverallRules
    unit_rating: UnitRating = UnitRating()

    def points_for(self, rating: Rating) -> int:
        return next(p.points for p in self.scale if p.rating == rating)


class PublicationGates(_Model):
    """What publishing an inspection under this version requires; the gateway checks it at publication
    and answers it, condition by condition, as the inspection's readiness. The rating rules are not
    changed by it: it says when a rating may be published, not what it is."""

    scored_standards_rated: bool = Field(
        description="Every scored standard rated, or marked not rated by the ratings panel with a reason."
    )
    judgements_recorded: bool = Field(
        description="Every judged standard of domain one judged by the inspectors (or marked not rated)."
    )
    minimum_answered_share: float = Field(
        gt=0,
        le=1,
        description="For each case-based standard, the least share of its sample answered on each of its key "
        "questions (yes, no or not applicable), unless the ratings panel marks it not rated.",
    )
    minimum_applicable_cases: int = Field(
        ge=1,
        description="For each key question of a case-based standard: with fewer applicable cases than this, "
        "the ratings panel confirms (or sets) the standard's rating with a reason before publication.",
    )


class Framework(_Model):
    id: FrameworkId
    version: str = Field(min_length=1)
    name: str = Field(min_length=1)
    applies_to: list[Slug] = Field(default_factory=list, description="Unit types inspected under it.")
    status: FrameworkStatus = Field(default="published", description=STATUS_DESCRIPTION)
    effective_from: str | None = None
    effective_to: str | None = None
    source: str = ""
    themes: list[Theme] = Field(default_factory=list)
    sample_types: list[SampleType] = Field(default_factory=list)
    domains: list[Domain] = Field(min_length=1)
    rules: RatingRules
    publication: PublicationGates | None = Field(
        default=None,
        description="What publication requires. Every version in the library states it; the rating engine "
        "does not read it.",
    )

    def standards(self) -> list[Standard]:
        return [s for d in self.domains for s in d.standards]

    def standard(self, standard_id: str) -> Standard | None:
        return next((s for s in self.standards() if s.id == standard_id), None)


class FrameworkSummary(_Model):
    id: str
    version: str
    name: str
    applies_to: list[str]
    status: FrameworkStatus = Field(description=STATUS_DESCRIPTION)
    effective_from: str | None = None
    effective_to: str | None = None
    standards: int
    scored_standards: int

    @classmethod
    def of(cls, framework: Framework) -> FrameworkSummary:
        standards = framework.standards()
        return cls(
            id=framework.id,
            version=framework.version,
            name=framework.name,
            applies_to=framework.applies_to,
            status=framework.status,
            effective_from=framework.effective_from,
            effective_to=framework.effective_to,
            standards=len(standards),
            scored_standards=sum(s.scored for s in standards),
        )
