"""Wire shapes of consultations: the consultation with its recipients and questions, the responses, and
the summary of responses."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from gateway.inspections.schemas import ShortText
from gateway.pagination import PageQuery
from gateway.programme.schemas import ProgrammeYear
from inspection_shared.fields import Omittable

Group = Literal["ministers", "chief_inspectors", "inspected", "interested_parties"]
Audience = Literal["statutory", "extended"]
Section = Literal["core_inspections", "thematic_inspections", "research"]
QuestionKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"),
                        Field(description="How responses name the question: letters, digits, '.', '_', '-'.",
                              examples=["core-1"])]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
Contact = Annotated[str, StringConstraints(min_length=1, max_length=500)]

_GROUPS = "ministers and chief_inspectors (statutory), inspected and interested_parties (extended)"


def _distinct(values: list) -> list:
    if len(set(values)) != len(values):
        raise ValueError("names a value twice")
    return values


class ContactDetails(BaseModel):
    """Personal data: kept exactly as given, shown only to staff, never logged, summarised or exported."""

    model_config = ConfigDict(extra="forbid")

    email: Contact | None = None
    telephone: Contact | None = None
    address: Contact | None = None

    @model_validator(mode="after")
    def _some(self) -> ContactDetails:
        if self.email is None and self.telephone is None and self.address is None:
            raise ValueError("give an email, telephone or address, or leave contact_details out")
        return self


class RecipientGiven(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortText
    organisation: ShortText | None = None
    group: Group = Field(description=_GROUPS)
    contact_details: ContactDetails | None = None


class QuestionGiven(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: QuestionKey
    section: Section
    text: LongText


ProgrammeYears = Annotated[list[ProgrammeYear], Field(min_length=1, max_length=5), AfterValidator(_distinct)]
Recipients = Annotated[list[RecipientGiven], Field(max_length=1000)]


class ConsultationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "title": "Our inspection programme 2021-22", "programme_years": ["2021-22"],
        "opens": "2020-12-01", "closes": "2021-02-28", "deadline": "2021-01-31",
        "recipients": [{"name": "Minister of State for Justice", "organisation": "Ministry of Justice",
                        "group": "ministers", "contact_details": {"email": "minister@example.gov.uk"}}],
        "questions": [{"key": "core-1", "section": "core_inspections",
                       "text": "Should every PDU be inspected with its own sample?"}],
    }]})

    title: ShortText
    programme_years: ProgrammeYears = Field(description="The programme years the consultation covers.")
    opens: date
    closes: date
    deadline: date = Field(description="The last day a response is on time: on or after opens, on or before "
                                       "closes.")
    recipients: Recipients = Field(default_factory=list, description=f"By group: {_GROUPS}.")
    questions: list[QuestionGiven] = Field(min_length=1, max_length=100,
                                           description="Fixed once the consultation is created.")


class ConsultationUpdate(BaseModel):
    """Only the fields sent change; recipients sent replace the list held."""

    model_config = ConfigDict(extra="forbid")

    title: Omittable[ShortText] = None
    programme_years: Omittable[ProgrammeYears] = None
    opens: Omittable[date] = None
    closes: Omittable[date] = None
    deadline: Omittable[date] = None
    recipients: Omittable[Recipients] = None


class RecipientRead(BaseModel):
    id: uuid.UUID
    name: str
    organisation: str | None
    group: Group
    audience: Audience
    contact_details: ContactDetails | None


class QuestionRead(BaseModel):
    key: str
    section: Section
    text: str


class ConsultationRead(BaseModel):
    id: uuid.UUID
    title: str
    programme_years: list[str]
    opens: date
    closes: date
    deadline: date
    recipients: list[RecipientRead]
    questions: list[QuestionRead]
    version: int = Field(description="The consultation's ETag, unquoted; send it quoted in If-Match to change it.")
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


# --- responses -----------------------------------------------------------------------------------------


class ResponseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "respondent_name": "A. Chief Officer", "respondent_organisation": "A youth offending service",
        "group": "inspected", "question": "core-1", "text": "Yes, with the sample sized for each PDU.",
        "received_on": "2021-01-29", "topic_ids": [], "contact_details": {"telephone": "0161 000 0000"},
    }]})

    respondent_name: ShortText
    respondent_organisation: ShortText | None = None
    group: Group = Field(description=_GROUPS)
    question: QuestionKey = Field(description="The key of the question answered.")
    text: LongText
    received_on: date = Field(description="The day the response arrived; after the deadline it is late.")
    topic_ids: Annotated[list[uuid.UUID], Field(max_length=20), AfterValidator(_distinct)] = Field(
        default_factory=list, description="Programme topics (GET /api/v1/programme/topics) the response names."
    )
    contact_details: ContactDetails | None = None


class TopicNamed(BaseModel):
    id: uuid.UUID
    name: str


class ResponseRead(BaseModel):
    id: uuid.UUID
    consultation_id: uuid.UUID
    respondent_name: str
    respondent_organisation: str | None
    group: Group
    audience: Audience
    question: str
    section: Section
    text: str
    received_on: date
    late: bool = Field(description="Received after the consultation's deadline.")
    topics: list[TopicNamed]
    contact_details: ContactDetails | None
    created_at: datetime
    created_by: str


class ResponseListQuery(PageQuery):
    group: Group | None = None
    question: QuestionKey | None = None
    late: bool | None = None


# --- summary -------------------------------------------------------------------------------------------


class SummaryFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


class SummaryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: SummaryFormat | None = Field(default=None, description="json or csv; overrides Accept (text/csv "
                                                                    "for CSV).", examples=["csv"])


class GroupCount(BaseModel):
    group: Group
    audience: Audience
    responses: int


class QuestionCount(BaseModel):
    question: str
    section: Section
    responses: int


class GroupQuestionCount(BaseModel):
    group: Group
    question: str
    responses: int


class TopicRaised(BaseModel):
    rank: int = Field(description="1 for the topic raised most; topics raised equally often share a rank.")
    topic_id: uuid.UUID
    name: str
    responses: int = Field(description="Responses naming the topic.")


class ConsultationSummary(BaseModel):
    """Counts only: no respondent, contact details or response text."""

    consultation_id: uuid.UUID
    title: str
    deadline: date
    responses: int
    late: int = Field(description="Responses received after the deadline.")
    by_group: list[GroupCount]
    by_question: list[QuestionCount]
    by_group_and_question: list[GroupQuestionCount]
    topics: list[TopicRaised] = Field(description="The topics responses name, most often raised first.")
