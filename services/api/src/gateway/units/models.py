"""Units of inspection: one tree of regions, PDUs, NPS divisions, CRCs, LDUs, youth services and others."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.db import Base
from gateway.units.rules import UNIT_TYPES
from gateway.writes import Recorded


class Unit(Recorded, Base):
    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint("type IN ({})".format(", ".join(f"'{t}'" for t in UNIT_TYPES)), name="type_known"),
        CheckConstraint("caseload_size IS NULL OR caseload_size >= 0", name="caseload_size_not_negative"),
        CheckConstraint("valid_from IS NULL OR valid_to IS NULL OR valid_to >= valid_from", name="validity_in_order"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16), index=True)
    nation: Mapped[str] = mapped_column(String(64))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    caseload_size: Mapped[int | None] = mapped_column(Integer)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped on every UPDATE, which also checks it: a write based on a stale read fails rather than
    # overwriting someone else's change. It is the unit's ETag.
    version: Mapped[int] = mapped_column(Integer)

    # Never loaded behind the caller's back: queries say when they want the parent.
    parent: Mapped[Unit | None] = relationship(remote_side=[id], lazy="raise_on_sql")

    __mapper_args__ = {"version_id_col": version}

    @property
    def parent_code(self) -> str | None:
        return self.parent.code if self.parent is not None else None
