"""The figures of each inspection as published, in rows the database can aggregate: its overall rating
and score, each standard's final rating, and each key question's yes / applicable counts.

Derived, never edited: written by the write path from the rating snapshot of each published version as
it is recorded (`figures`), so they always hold the latest published version of each inspection that was
published (for a withdrawn one, the figures it was withdrawn with, which no statistic counts), and
nothing of a draft.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base


class PublishedFigures(Base):
    """One inspection's latest published version: what national statistics count it as while it stays
    published."""

    __tablename__ = "published_figures"
    __table_args__ = (Index("ix_published_figures_programme_year", "programme", "programme_year"),)

    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    snapshot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rating_snapshots.id", ondelete="CASCADE"), index=True)
    programme: Mapped[str] = mapped_column(String(16))
    # The first day of fieldwork (the day of publication for an inspection without fieldwork dates): the
    # day that places the inspection in a programme year.
    inspected_on: Mapped[date] = mapped_column(Date, index=True)
    # The year a programme year starts in: 2024 for 2024-25 (1 April 2024 to 31 March 2025).
    programme_year: Mapped[int] = mapped_column(Integer)
    overall_rating: Mapped[str] = mapped_column(String(32))
    overall_score: Mapped[int | None] = mapped_column(Integer)
    max_score: Mapped[int] = mapped_column(Integer)


class PublishedStandardFigure(Base):
    """A standard's final rating (the panel's where it decided) in an inspection's published version."""

    __tablename__ = "published_standard_figures"

    inspection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("published_figures.inspection_id", ondelete="CASCADE"), primary_key=True
    )
    standard: Mapped[str] = mapped_column(String(16), primary_key=True)
    # Null: the standard had no evidence to rate.
    rating: Mapped[str | None] = mapped_column(String(32))


class PublishedKeyQuestionFigure(Base):
    """A key question's counts in an inspection's published version: cases answered yes, and cases it
    applied to (yes or no)."""

    __tablename__ = "published_key_question_figures"

    inspection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("published_figures.inspection_id", ondelete="CASCADE"), primary_key=True
    )
    key_question: Mapped[str] = mapped_column(String(24), primary_key=True)
    standard: Mapped[str] = mapped_column(String(16))
    yes: Mapped[int] = mapped_column(Integer)
    applicable: Mapped[int] = mapped_column(Integer)
