"""The programme's library data: the criteria of the 2020 consultation letter in their groups, and the
letter's topics (`inspection_shared/library/programme/`), loaded into the database by `gateway.cli
load-library` (and so `setup`). Loading again adds what is missing and changes nothing held: a weight
the inspectorate changed, or a topic it scored, stays as it is."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import yaml
from pydantic import BaseModel, ConfigDict, TypeAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import writes
from gateway.programme.models import Criterion, Topic
from gateway.programme.schemas import CriterionGroup, TopicCreate
from inspection_shared.library import LIBRARY_DIR

PROGRAMME_DIR = LIBRARY_DIR / "programme"
FIRST_WEIGHT = 1.0


class _Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: CriterionGroup
    name: str
    criteria: list[_Criterion]


@dataclass(frozen=True)
class ProgrammeLibrary:
    groups: list[_Group]
    topics: list[TopicCreate]

    @property
    def group_names(self) -> dict[str, str]:
        return {group.id: group.name for group in self.groups}


@functools.cache
def programme_library() -> ProgrammeLibrary:
    """The criteria and topics of the library, validated as the API validates them."""
    criteria = yaml.safe_load((PROGRAMME_DIR / "criteria.yaml").read_text(encoding="utf-8"))
    topics = yaml.safe_load((PROGRAMME_DIR / "topics.yaml").read_text(encoding="utf-8"))
    return ProgrammeLibrary(
        groups=TypeAdapter(list[_Group]).validate_python(criteria["groups"]),
        topics=TypeAdapter(list[TopicCreate]).validate_python(topics["topics"]),
    )


@dataclass(frozen=True)
class LoadReport:
    criteria_added: int
    topics_added: int


async def load_programme_library(session: AsyncSession) -> LoadReport:
    """Add the library's criteria and topics that the database does not hold yet."""
    held = programme_library()
    criteria_held = set((await session.scalars(select(Criterion.id))).all())
    topics_held = {tuple(row) for row in (await session.execute(select(Topic.programme_year, Topic.name))).all()}
    position = 0
    criteria_added = 0
    for group in held.groups:
        for criterion in group.criteria:
            position += 1
            if criterion.id not in criteria_held:
                session.add(Criterion(id=criterion.id, criterion_group=group.id, name=criterion.name,
                                      position=position, weight=FIRST_WEIGHT))
                criteria_added += 1
    new_topics = [t for t in held.topics if (t.programme_year, t.name) not in topics_held]
    session.add_all(
        Topic(**t.model_dump(exclude={"scores"})) for t in new_topics
    )
    await writes.flush(session, clash="The programme library was loaded by another process at the same time.")
    return LoadReport(criteria_added, len(new_topics))
