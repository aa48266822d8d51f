"""Retention: the case data of inspections published more than GATEWAY_CASE_RETENTION_DAYS ago (365 by
default) is removed by `gateway.cli purge` (`make purge`).

Removed, per inspection: its frames' cases (their content; each frame's description stays), the cases
drawn and the reserves stored with its samples, its sampled cases' references (the rows stay, counted),
its substitutions, its case assessments, the case-level evidence in its rating snapshots' requests
(replaced by each standard's key-question counts, as the engine counted them), and the stored answers of
its idempotent requests that hold case data. Kept: everything its published ratings, summary and the
ratings history read, exactly as they were: the snapshots' results, overall ratings and panel decisions,
the samples' allocation and balance, the counts of cases drawn, replaced and assessed, the judgements.

Each inspection is purged in a transaction of its own, through the one write path (the statements go
through the session's hooks, under the retention actor, so they are accounted for like any change),
and the purge says what it removed from each. Running it again removes nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.actors import SESSION_KEY, Actor
from gateway.assessments import repository as assessments
from gateway.caseloads import repository as caseloads
from gateway.db import utcnow
from gateway.idempotency.service import remove_answers_with_case_data
from gateway.inspections import repository as inspections
from gateway.ratings import repository as ratings
from inspection_shared.wording import counted

RETENTION_ACTOR = Actor(id="retention", name="Retention purge", kind="system")
"""Who the purge's changes are made by."""


@dataclass(frozen=True)
class Removed:
    inspection: str
    """The inspection's id, unit code and title, and when it was published."""
    frames: int
    samples: int
    sampled_cases: int
    substitutions: int
    case_assessments: int
    snapshots: int
    stored_answers: int

    @property
    def anything(self) -> bool:
        return any((self.frames, self.samples, self.sampled_cases, self.substitutions, self.case_assessments,
                    self.snapshots, self.stored_answers))

    def __str__(self) -> str:
        if not self.anything:
            return f"{self.inspection}: no case data left to remove"
        return (
            f"{self.inspection}: removed the cases of {counted(self.frames, 'frame')}, the cases drawn and "
            f"reserves of {counted(self.samples, 'sample')}, the references of "
            f"{counted(self.sampled_cases, 'sampled case')}, {counted(self.substitutions, 'substitution')}, "
            f"{counted(self.case_assessments, 'case assessment')}, the case evidence of "
            f"{counted(self.snapshots, 'rating snapshot')} (kept as key-question counts) and "
            f"{counted(self.stored_answers, 'stored answer')} of idempotent requests"
        )


def cutoff(days: int, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=days)


async def purge_inspection(session: AsyncSession, inspection) -> Removed:
    """Remove one inspection's case data (see the module docstring), in the session's transaction."""
    cases = await caseloads.remove_case_data(session, inspection.id)
    answers = await assessments.remove_case_assessments(session, inspection.id)
    snapshots = await ratings.remove_case_evidence(session, inspection.id)
    stored = await remove_answers_with_case_data(session, f"/inspections/{inspection.id}/")
    published = inspection.published_at.date().isoformat()
    return Removed(
        f"inspection {inspection.id} ({inspection.unit.code}, {inspection.title or 'untitled'}, published {published})",
        cases.frames, cases.samples, cases.sampled_cases, cases.substitutions, answers, snapshots, stored,
    )


async def purge(
    sessions: async_sessionmaker[AsyncSession],
    days: int,
    *,
    now: datetime | None = None,
    say: Callable[[str], None] = print,
) -> list[Removed]:
    """Purge every inspection published more than `days` days ago, each in its own transaction."""
    before = cutoff(days, now)
    async with sessions(info={SESSION_KEY: RETENTION_ACTOR}) as session:
        due = [(i.id, i) for i in await inspections.published_before(session, before)]
    done = []
    for _, inspection in due:
        async with sessions(info={SESSION_KEY: RETENTION_ACTOR}) as session, session.begin():
            removed = await purge_inspection(session, inspection)
        say(str(removed))
        done.append(removed)
    emptied = sum(r.anything for r in done)
    say(
        f"purge: {counted(len(done), 'inspection')} published before {before.date().isoformat()} "
        f"(GATEWAY_CASE_RETENTION_DAYS={days}); case data removed from {emptied}"
    )
    return done
