"""A consultation on the programme, its recipients and questions, and the responses it receives, each
linked to the programme topics it names. Contact details are personal data: kept as given, in a column
the audit log masks (`audit.masking.PERSONAL_COLUMNS`)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, ForeignKeyConstraint, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, JSONDocument
from gateway.writes import Recorded

GROUPS = ("ministers", "chief_inspectors", "inspected", "interested_parties")
STATUTORY = ("ministers", "chief_inspectors")
"""The statutory recipients; the other groups are the extended ones."""
SECTIONS = ("core_inspections", "thematic_inspections", "research")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{v}'" for v in values))


class Consultation(Recorded, Base):
    """A consultation: the programme years it covers, when it is open, and the deadline for responses."""

    __tablename__ = "consultations"
    __table_args__ = (
        CheckConstraint("opens <= deadline", name="deadline_not_before_opening"),
        CheckConstraint("deadline <= closes", name="deadline_within_period"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(200))
    programme_years: Mapped[list[str]] = mapped_column(JSONDocument)
    opens: Mapped[date] = mapped_column(Date)
    closes: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    """The last day a response is on time; one received later is late."""
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class ConsultationQuestion(Recorded, Base):
    """A question put, in its section, under a key the responses name it by."""

    __tablename__ = "consultation_questions"
    __table_args__ = (CheckConstraint(_one_of("section", SECTIONS), name="section_known"),)

    consultation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"),
                                                       primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    section: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)


class ConsultationRecipient(Recorded, Base):
    """Someone the consultation is sent to, in one of the four groups."""

    __tablename__ = "consultation_recipients"
    __table_args__ = (CheckConstraint(_one_of("recipient_group", GROUPS), name="group_known"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    consultation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"),
                                                       index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200))
    recipient_group: Mapped[str] = mapped_column(String(32))
    contact_details: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)


class ConsultationResponse(Recorded, Base):
    """A response to one question, as received: who, their group, the text and the day it arrived."""

    __tablename__ = "consultation_responses"
    __table_args__ = (
        CheckConstraint(_one_of("respondent_group", GROUPS), name="group_known"),
        ForeignKeyConstraint(["consultation_id", "question_key"],
                             ["consultation_questions.consultation_id", "consultation_questions.key"],
                             ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    consultation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"),
                                                       index=True)
    question_key: Mapped[str] = mapped_column(String(32))
    respondent_name: Mapped[str] = mapped_column(String(200))
    respondent_organisation: Mapped[str | None] = mapped_column(String(200))
    respondent_group: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    received_on: Mapped[date] = mapped_column(Date)
    contact_details: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)


class ResponseTopic(Base):
    """A programme topic a response names."""

    __tablename__ = "consultation_response_topics"

    response_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consultation_responses.id", ondelete="CASCADE"),
                                                   primary_key=True)
    topic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programme_topics.id", ondelete="RESTRICT"),
                                                primary_key=True, index=True)
