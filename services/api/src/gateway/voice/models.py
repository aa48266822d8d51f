"""The voice of people under supervision held for an inspection: counts and themes only, never who said what."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, JSONDocument
from gateway.writes import Recorded


class VoiceEvidence(Recorded, Base):
    """The whole of an inspection's evidence from people on probation or children supervised, replaced
    whole by each change: its surveys (questions, answer options and counts) and interview sets
    (how many were interviewed and the themes raised), as `schemas.VoiceWrite` gives them."""

    __tablename__ = "voice_evidence"

    inspection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True
    )
    surveys: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    interviews: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}
