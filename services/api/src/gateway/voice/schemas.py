"""Wire shapes of the voice of people under supervision: what is recorded (counts per question and answer
of each survey, and the themes of each set of interviews with how many raised each), and the figures read
beside the domain-one judgements and in the report.

Nothing here names or identifies a person: every shape refuses a field it does not list (`extra="forbid"`),
so a name, a case reference or a date of birth sent as a field of its own is refused, not dropped."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.inspections.schemas import ShortText
from inspection_shared.fields import SentAsNumber
from inspection_shared.framework import Slug, StandardId

Population = Literal["people_on_probation", "children"]
"""Who gave the evidence: people on probation, or children supervised by a youth justice service."""

MOST_PEOPLE = 1_000_000
Count = Annotated[int, Field(ge=0, le=MOST_PEOPLE), SentAsNumber]
"""A number of people: a whole JSON number, never negative."""

Standards = Annotated[
    list[StandardId],
    Field(max_length=20, description="The judged (domain-one) standards of the pinned framework this informs."),
]

_EXAMPLE = {
    "surveys": [
        {
            "key": "probation_survey",
            "title": "Survey of people on probation",
            "population": "people_on_probation",
            "respondents": 54,
            "questions": [
                {
                    "key": "helped_change",
                    "text": "Has your probation practitioner helped you make positive changes?",
                    "options": [{"key": "yes", "text": "Yes"}, {"key": "no", "text": "No"},
                                {"key": "not_sure", "text": "Not sure"}],
                    "standards": ["1.3"],
                }
            ],
            "counts": {"helped_change": {"yes": 38, "no": 9, "not_sure": 5}},
        }
    ],
    "interviews": [
        {
            "key": "telephone_interviews",
            "title": "Telephone interviews with people on probation",
            "population": "people_on_probation",
            "interviewed": 12,
            "themes": [
                {"text": "Frequent changes of practitioner made trust hard to build", "raised_by": 7,
                 "standards": ["1.2"]},
            ],
        }
    ],
}


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AnswerOption(_Shape):
    key: Slug = Field(description="The option's key in `counts`, e.g. yes.")
    text: ShortText = Field(description="The option as the survey put it.")


class SurveyQuestion(_Shape):
    key: Slug = Field(description="The question's key in `counts`.")
    text: ShortText
    options: list[AnswerOption] = Field(min_length=1, max_length=20)
    standards: Standards = Field(default_factory=list)


class Survey(_Shape):
    key: Slug = Field(description="The survey's key, distinct among the inspection's surveys.")
    title: ShortText
    population: Population
    respondents: Count = Field(description="How many people answered the survey.")
    questions: list[SurveyQuestion] = Field(min_length=1, max_length=100)
    counts: dict[Slug, dict[Slug, Count]] = Field(
        default_factory=dict,
        description="Question key -> answer option key -> how many respondents gave that answer; an option "
        "left out counts 0. Only the survey's questions and their options; a question's counts add up to at "
        "most `respondents`.",
    )


class Theme(_Shape):
    text: ShortText = Field(description="The theme as the inspectors summarise it; never who raised it.")
    raised_by: Count = Field(description="How many of those interviewed raised it; at most `interviewed`.")
    standards: Standards = Field(default_factory=list)


class InterviewSet(_Shape):
    key: Slug = Field(description="The set's key, distinct among the inspection's interview sets.")
    title: ShortText
    population: Population
    interviewed: Count = Field(description="How many people were interviewed.")
    themes: list[Theme] = Field(min_length=1, max_length=100)


class VoiceWrite(_Shape):
    """The whole of the inspection's evidence from people under supervision, as it now stands."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    surveys: list[Survey] = Field(default_factory=list, max_length=20)
    interviews: list[InterviewSet] = Field(default_factory=list, max_length=20)


class VoiceRead(VoiceWrite):
    """What is held: every question's counts given for each of its options (0 where none was sent)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        **_EXAMPLE, "inspection_id": "7d1f3c2e-4b5a-4e6f-8a9b-0c1d2e3f4a5b", "version": 1,
        "created_at": "2026-03-05T10:15:00Z", "created_by": "system", "updated_at": "2026-03-05T10:15:00Z",
        "updated_by": "system",
    }]})

    inspection_id: uuid.UUID
    version: int = Field(description="Also the ETag; send it back in If-Match to change the evidence.")
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


# --- figures: what is read beside the judgements and in the report -----------------------------------


class AnswerFigures(BaseModel):
    key: str
    text: str
    count: int
    percent: float | None = Field(description="100 x count / those who answered the question; null if none did.")


class QuestionFigures(BaseModel):
    key: str
    text: str
    standards: list[str]
    answered: int = Field(description="Respondents who answered the question: its counts added up.")
    answers: list[AnswerFigures]


class SurveyFigures(BaseModel):
    key: str
    title: str
    population: Population
    respondents: int
    questions: list[QuestionFigures]


class ThemeFigures(BaseModel):
    text: str
    raised_by: int
    percent: float | None = Field(description="100 x raised_by / interviewed; null if no one was interviewed.")
    standards: list[str]


class InterviewFigures(BaseModel):
    key: str
    title: str
    population: Population
    interviewed: int
    themes: list[ThemeFigures]


class VoiceFigures(BaseModel):
    """The inspection's evidence from people under supervision, with each answer's and theme's share."""

    surveys: list[SurveyFigures] = Field(default_factory=list)
    interviews: list[InterviewFigures] = Field(default_factory=list)


class SurveyQuestionVoice(BaseModel):
    """A survey question that informs a standard, with its survey."""

    survey: str
    survey_title: str
    population: Population
    respondents: int
    question: QuestionFigures


class InterviewThemeVoice(BaseModel):
    """An interview theme that informs a standard, with its set of interviews."""

    interviews: str
    interviews_title: str
    population: Population
    interviewed: int
    theme: ThemeFigures


class StandardVoice(BaseModel):
    """The evidence from people under supervision that informs one judged standard."""

    survey_questions: list[SurveyQuestionVoice] = Field(default_factory=list)
    interview_themes: list[InterviewThemeVoice] = Field(default_factory=list)
