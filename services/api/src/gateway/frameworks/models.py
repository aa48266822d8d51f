"""Framework versions as the gateway holds them: the whole definition, plus its standards and key
questions as rows so that inspections, samples and case answers can refer to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, ForeignKeyConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.db import Base, JSONDocument
from gateway.writes import when, who


class FrameworkVersion(Base):
    __tablename__ = "frameworks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    imported_at: Mapped[datetime] = when(on="change")
    imported_by: Mapped[str] = who(on="change")

    standards: Mapped[list[FrameworkStandard]] = relationship(
        cascade="all, delete-orphan", order_by="FrameworkStandard.position"
    )


class FrameworkStandard(Base):
    __tablename__ = "framework_standards"

    framework_id: Mapped[str] = mapped_column(ForeignKey("frameworks.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    domain_number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    scored: Mapped[bool] = mapped_column(Boolean)
    sample_type: Mapped[str | None] = mapped_column(String(64))

    key_questions: Mapped[list[FrameworkKeyQuestion]] = relationship(
        cascade="all, delete-orphan", order_by="FrameworkKeyQuestion.position"
    )


class FrameworkKeyQuestion(Base):
    __tablename__ = "framework_key_questions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["framework_id", "standard_id"],
            ["framework_standards.framework_id", "framework_standards.id"],
            ondelete="CASCADE",
        ),
    )

    framework_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    standard_id: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    theme: Mapped[str] = mapped_column(String(64))
