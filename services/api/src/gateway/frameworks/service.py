"""Importing the framework library into the database, and reading it back."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.frameworks.models import (
    FrameworkKeyQuestion,
    FrameworkStandard,
    FrameworkVersion,
)
from inspection_shared.framework import Framework
from inspection_shared.library import content_hash
from inspection_shared.problems import Conflict, NotFound


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _rows(framework: Framework) -> list[FrameworkStandard]:
    return [
        FrameworkStandard(
            id=standard.id,
            position=position,
            domain_number=domain.number,
            name=standard.name,
            kind=standard.kind,
            scored=standard.scored,
            sample_type=standard.sample_type,
            key_questions=[
                FrameworkKeyQuestion(id=kq.id, standard_id=standard.id, position=i, text=kq.text, theme=kq.theme)
                for i, kq in enumerate(standard.key_questions, start=1)
            ],
        )
        for position, (domain, standard) in enumerate(
            ((d, s) for d in framework.domains for s in d.standards), start=1
        )
    ]


async def import_frameworks(session: AsyncSession, frameworks: list[Framework]) -> ImportReport:
    """Bring the database in line with the library. Safe to repeat.

    A published version never changes: if the library's copy differs from a published one already
    held, the import is refused rather than silently rewriting what inspections were rated against.
    What publication requires is not part of that (nor of the content hash), so a held version takes
    the library's publication gates whatever its status.
    """
    report = ImportReport()
    for framework in frameworks:
        digest = content_hash(framework)
        definition = framework.model_dump(mode="json")
        held = await session.get(FrameworkVersion, framework.id)
        if held is not None and held.content_hash == digest:
            if held.definition == definition:
                report.unchanged.append(framework.id)
            else:
                held.definition = definition
                report.updated.append(framework.id)
            continue
        if held is not None and held.status == "published":
            raise Conflict(
                f"Framework {framework.id} is published and its library copy differs from the one held; "
                "publish the change as a new framework version instead."
            )
        if held is None:
            held = FrameworkVersion(id=framework.id)
            session.add(held)
            report.created.append(framework.id)
        else:
            report.updated.append(framework.id)
        held.version = framework.version
        held.name = framework.name
        held.status = framework.status
        held.content_hash = digest
        held.definition = definition
        held.standards = _rows(framework)
    await session.flush()
    return report


async def list_frameworks(session: AsyncSession) -> list[Framework]:
    """Every version held, in the order of their ids as Python sorts them: the engine lists them in the same
    order, whatever the database's collation makes of a hyphen."""
    rows = (await session.scalars(select(FrameworkVersion))).all()
    return [Framework.model_validate(row.definition) for row in sorted(rows, key=lambda row: row.id)]


@dataclass(frozen=True)
class HeldFramework:
    """A framework version as the gateway holds it: the definition and the hash of its content."""

    framework: Framework
    content_hash: str


async def held_framework(session: AsyncSession, framework_id: str) -> HeldFramework | None:
    row = await session.get(FrameworkVersion, framework_id)
    return HeldFramework(Framework.model_validate(row.definition), row.content_hash) if row is not None else None


async def find_framework(session: AsyncSession, framework_id: str) -> Framework | None:
    held = await held_framework(session, framework_id)
    return held.framework if held is not None else None


async def no_framework(session: AsyncSession, framework_id: str) -> str:
    """What to say of a framework id that names none: the ids that do, so the caller can pick one."""
    held = (await session.scalars(select(FrameworkVersion.id).order_by(FrameworkVersion.id))).all()
    return f"no framework {framework_id!r} (the frameworks held: {', '.join(held) or 'none'})"


async def get_framework(session: AsyncSession, framework_id: str) -> Framework:
    framework = await find_framework(session, framework_id)
    if framework is None:
        missing = await no_framework(session, framework_id)
        raise NotFound(missing[0].upper() + missing[1:])
    return framework
