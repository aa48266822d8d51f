"""An inspection's team: the people who record its case answers and judgements (`guards.ensure_on_team`
refuses anyone else, administrators apart).

The team is set whole, by a lead inspector of the unit or an administrator, until the inspection is
published or withdrawn. Each member must be an active account that could see the inspection and record
in it (a role that records case answers, granted on its unit, on a unit above it, or everywhere), named
once; a team with members has exactly one lead inspector. `team_faults` is the rule, over plain data.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity import repository as identity
from gateway.inspections import repository
from gateway.inspections.guards import ensure_phase, get_inspection
from gateway.inspections.lifecycle import LEAD
from gateway.inspections.models import Inspection, TeamMember
from gateway.inspections.schemas import TeamMemberRead, TeamMemberWrite, TeamRead, TeamWrite
from gateway.permissions import ROLE_PERMISSIONS, Permission
from gateway.preconditions import check_if_match
from gateway.units import repository as units
from gateway.writes import flush
from inspection_shared.problems import FieldError, InvalidInput

if TYPE_CHECKING:
    from gateway.identity.models import User

RECORDING_ROLES = frozenset(role for role, held in ROLE_PERMISSIONS.items() if Permission.ASSESSMENTS_WRITE in held)
"""The roles that record case answers: only their holders have any use for a place on a team."""


@dataclass(frozen=True)
class Account:
    """What the rule needs to know of a person named for the team."""

    email: str
    active: bool
    roles_here: frozenset[str]
    """The roles the account holds on the inspection's unit: granted on it, above it, or everywhere."""


def team_faults(members: list[TeamMemberWrite], accounts: Mapping[uuid.UUID, Account], unit_code: str) -> list[FieldError]:
    """Every fault of a team as sent, each naming the member at fault (see the module's docstring)."""
    faults: list[FieldError] = []
    first_named: dict[uuid.UUID, int] = {}
    leads: list[int] = []
    for i, member in enumerate(members):
        if member.role == LEAD:
            leads.append(i)
        if member.user_id in first_named:
            message = f"is already members.{first_named[member.user_id]}: name each person once"
        else:
            first_named[member.user_id] = i
            message = _account_fault(member.user_id, accounts.get(member.user_id), unit_code)
        if message is not None:
            faults.append(FieldError(field=f"body.members.{i}.user_id", message=message))
    if members and not leads:
        faults.append(FieldError(field="body.members", message="names no lead_inspector: a team has exactly one"))
    faults += [
        FieldError(field=f"body.members.{i}.role",
                   message=f"is a second lead_inspector (members.{leads[0]} is the lead): a team has exactly one")
        for i in leads[1:]
    ]
    return faults


def _account_fault(user_id: uuid.UUID, account: Account | None, unit_code: str) -> str | None:
    if account is None:
        return f"no account {user_id}"
    if not account.active:
        return f"{account.email} is deactivated"
    if not account.roles_here:
        return f"{account.email} holds no grant on {unit_code} or a unit above it, so could not see this inspection"
    if not account.roles_here & RECORDING_ROLES:
        held = ", ".join(sorted(account.roles_here))
        return f"{account.email} holds only {held} on {unit_code}, which does not record case answers"
    return None


def team_version(members: Iterable[tuple[uuid.UUID, str]]) -> str | None:
    """What the team's ETag is made of: a digest of its members and their roles (None: it has none)."""
    held = sorted(f"{user_id}:{role}" for user_id, role in members)
    return hashlib.sha256("\n".join(held).encode()).hexdigest()[:20] if held else None


async def _accounts(
    session: AsyncSession, inspection: Inspection, user_ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, Account], str]:
    """The accounts named, as the rule sees them, and the code of the inspection's unit."""
    unit = await units.get(session, inspection.unit_id)
    assert unit is not None  # pinned by a foreign key
    covering = {u.id for u in await units.ancestry(session, unit)}  # a grant on any of these covers it
    accounts = {
        user.id: Account(user.email, user.active, frozenset(
            grant.role for grant in user.grants if grant.unit_id is None or grant.unit_id in covering
        ))
        for user in (await identity.users_with_grants(session, user_ids)).values()
    }
    return accounts, unit.code


def _read(inspection_id: uuid.UUID, team: list[tuple[TeamMember, User]]) -> TeamRead:
    return TeamRead(inspection_id=inspection_id, members=[
        TeamMemberRead(user_id=user.id, name=user.name, email=user.email, role=member.role) for member, user in team
    ])


async def read_team(session: AsyncSession, inspection_id: uuid.UUID) -> tuple[TeamRead, str | None]:
    """The team of an inspection the actor may see, and its version (None: it has no members)."""
    inspection = await get_inspection(session, inspection_id)
    team = await repository.team(session, inspection.id)
    return _read(inspection.id, team), team_version((m.user_id, m.role) for m, _ in team)


async def set_team(
    session: AsyncSession, inspection_id: uuid.UUID, data: TeamWrite, if_match: str | None
) -> tuple[TeamRead, str | None]:
    """Replace the inspection's team with the one sent. Returns it and its version."""
    inspection = await get_inspection(session, inspection_id, Permission.TEAMS_WRITE, for_update=True)
    ensure_phase(inspection)
    held = {member.user_id: member for member, _ in await repository.team(session, inspection.id)}
    check_if_match("the team", team_version((m.user_id, m.role) for m in held.values()), if_match)
    accounts, unit_code = await _accounts(session, inspection, [m.user_id for m in data.members])
    faults = team_faults(data.members, accounts, unit_code)
    if faults:
        raise InvalidInput(
            "The team cannot be set that way: "
            + "; ".join(f"{f.field.removeprefix('body.')} {f.message}" for f in faults) + ".",
            faults,
        )
    wanted = {m.user_id: m.role for m in data.members}
    for user_id, member in held.items():
        if user_id not in wanted:
            await session.delete(member)
        elif member.role != wanted[user_id]:
            member.role = wanted[user_id]
    session.add_all(
        TeamMember(inspection_id=inspection.id, user_id=user_id, role=role)
        for user_id, role in wanted.items() if user_id not in held
    )
    await flush(session, clash="Setting the team clashed with a change made at the same time; read it again and "
                "retry.", changed="the team")
    team = await repository.team(session, inspection.id)
    return _read(inspection.id, team), team_version(wanted.items())
