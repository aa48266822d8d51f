"""The queries of identity: accounts and their grants, refresh-token families, API keys, and the tree of
units a grant covers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from gateway.identity.models import ApiKey, RefreshToken, RoleGrant, User
from gateway.pagination import Key, PageQuery, keyset_page
from gateway.permissions import Role
from gateway.units.models import Unit
from inspection_shared.pagination import Page

Item = TypeVar("Item")

BY_EMAIL = (Key(User.email),)
NEWEST_FIRST = (Key(ApiKey.created_at, descending=True), Key(ApiKey.id, descending=True))

# --- accounts ------------------------------------------------------------------------------------------


async def user(session: AsyncSession, user_id: uuid.UUID, *, grants: bool = False, fresh: bool = False) -> User | None:
    """The account; `fresh`: read again even if this session holds it already."""
    statement = select(User).where(User.id == user_id)
    if grants:
        statement = statement.options(selectinload(User.grants))
    if fresh:
        statement = statement.execution_options(populate_existing=True)
    return (await session.scalars(statement)).one_or_none()


async def users_with_grants(session: AsyncSession, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, User]:
    """The accounts of these ids that exist, with their grants, by id."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    statement = select(User).where(User.id.in_(wanted)).options(selectinload(User.grants))
    return {user.id: user for user in (await session.scalars(statement)).all()}


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.scalars(select(User).where(User.email == email))).one_or_none()


async def user_page(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]], query: PageQuery, item: Callable[[User], Item]
) -> Page[Item]:
    statement = select(User).where(*conditions).options(selectinload(User.grants))
    return await keyset_page(session, statement, BY_EMAIL, query, item)


async def grant(session: AsyncSession, user_id: uuid.UUID, grant_id: uuid.UUID) -> RoleGrant | None:
    statement = select(RoleGrant).where(RoleGrant.id == grant_id, RoleGrant.user_id == user_id)
    return (await session.scalars(statement)).one_or_none()


async def holds(session: AsyncSession, user_id: uuid.UUID, role: str, unit_id: uuid.UUID | None) -> bool:
    unit = RoleGrant.unit_id.is_(None) if unit_id is None else RoleGrant.unit_id == unit_id
    statement = select(RoleGrant.id).where(RoleGrant.user_id == user_id, RoleGrant.role == role, unit)
    return (await session.scalar(statement)) is not None


async def other_active_admins(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Active people other than `user_id` holding the admin role."""
    statement = (
        select(func.count(func.distinct(User.id)))
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.role == Role.ADMIN, User.active.is_(True), User.id != user_id)
    )
    return (await session.scalar(statement)) or 0


async def person(session: AsyncSession, user_id: uuid.UUID) -> tuple[User, list[tuple[str, uuid.UUID | None]]] | None:
    """A person as the authenticator needs them: the account, and each grant's role and unit."""
    account = await session.get(User, user_id)
    if account is None:
        return None
    rows = await session.execute(select(RoleGrant.role, RoleGrant.unit_id).where(RoleGrant.user_id == user_id))
    return account, [(role, unit_id) for role, unit_id in rows.all()]


# --- units: the tree a grant covers, and codes to show -------------------------------------------------


async def unit_parents(session: AsyncSession) -> list[tuple[uuid.UUID, uuid.UUID | None]]:
    """Every unit with its parent: the whole tree, a few thousand rows at most."""
    return [(unit_id, parent_id) for unit_id, parent_id in (await session.execute(select(Unit.id, Unit.parent_id))).all()]


async def unit_codes(session: AsyncSession, unit_ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {unit_id for unit_id in unit_ids if unit_id is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(wanted)))
    return {unit_id: code for unit_id, code in rows.all()}


async def unit_exists(session: AsyncSession, unit_id: uuid.UUID) -> bool:
    return (await session.scalar(select(Unit.id).where(Unit.id == unit_id))) is not None


# --- refresh-token families ----------------------------------------------------------------------------


async def use_refresh_token(session: AsyncSession, token_hash: str, now: datetime) -> tuple[uuid.UUID, uuid.UUID] | None:
    """Mark the token used if it is unused, unrevoked and unexpired, in one statement (so two exchanges of
    it at once cannot both succeed); its user and family, or None."""
    statement = (
        update(RefreshToken)
        .where(
            RefreshToken.token_hash == token_hash, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(RefreshToken.user_id, RefreshToken.family_id)
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(statement)).one_or_none()
    return (row[0], row[1]) if row is not None else None


async def refresh_token(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    return (await session.scalars(select(RefreshToken).where(RefreshToken.token_hash == token_hash))).one_or_none()


async def revoke_families(session: AsyncSession, now: datetime, *, family_id: uuid.UUID | None = None,
                          user_id: uuid.UUID | None = None) -> int:
    """Revoke every live token of a family, or of all of a person's families; how many were revoked."""
    which = RefreshToken.family_id == family_id if family_id is not None else RefreshToken.user_id == user_id
    statement = (
        update(RefreshToken)
        .where(and_(which, RefreshToken.revoked_at.is_(None)))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(statement)).rowcount


# --- API keys ------------------------------------------------------------------------------------------


async def api_key(session: AsyncSession, key_id: uuid.UUID) -> ApiKey | None:
    return await session.get(ApiKey, key_id)


async def api_key_by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    return (await session.scalars(select(ApiKey).where(ApiKey.key_hash == key_hash))).one_or_none()


async def api_key_page(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]], query: PageQuery, item: Callable[[ApiKey], Item]
) -> Page[Item]:
    return await keyset_page(session, select(ApiKey).where(*conditions), NEWEST_FIRST, query, item)
