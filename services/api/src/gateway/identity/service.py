"""The rules of accounts: people, their roles on units, deactivation, and who the caller is.

An account is named by its email address, one account per address however it is typed. A grant is a
role on a unit and covers the units below it; the admin role is held on no unit (everywhere), every other
role on one. Deactivating an account, or giving it a new password, ends its sessions at once in every
gateway process: its refresh tokens are revoked and its token generation moves on, so every access token
issued before is refused on its next use. The last active administrator cannot be deactivated, nor lose
the admin role, so that someone can always manage accounts.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.actors import Actor
from gateway.db import utcnow
from gateway.identity import passwords, repository
from gateway.identity.authentication import UnitTree
from gateway.identity.models import RoleGrant, User
from gateway.identity.schemas import (
    GrantCreate,
    GrantRead,
    Me,
    MyGrant,
    UnitPermissions,
    UserCreate,
    UserListQuery,
    UserRead,
    UserUpdate,
)
from gateway.permissions import ROLE_PERMISSIONS, Permission, Role
from gateway.preconditions import check_if_match
from gateway.preconditions import etag as version_etag
from gateway.writes import flush
from inspection_shared.pagination import Page
from inspection_shared.problems import Conflict, FieldError, InvalidInput, NotFound


def etag(user: User) -> str:
    return version_etag(user.version)


def _password_fault(field: str, password: str, email: str) -> None:
    if fault := passwords.fault(password, email):
        raise InvalidInput(f"The password {fault}.", [FieldError(field=field, message=fault)])


def _email_taken(email: str) -> Conflict:
    return Conflict(
        f"An account with the email address {email} already exists.",
        errors=[FieldError(field="body.email", message="is already the address of another account")],
    )


async def user_read(session: AsyncSession, user: User, codes: dict[uuid.UUID, str] | None = None) -> UserRead:
    """The account as it is answered: its grants with the codes of their units."""
    if codes is None:
        codes = await repository.unit_codes(session, [grant.unit_id for grant in user.grants])
    return UserRead.model_validate({
        "id": user.id, "email": user.email, "name": user.name, "active": user.active,
        "created_at": user.created_at, "created_by": user.created_by, "updated_at": user.updated_at,
        "updated_by": user.updated_by,
        "grants": [_grant_read(grant, codes) for grant in user.grants],
    })


def _grant_read(grant: RoleGrant, codes: dict[uuid.UUID, str]) -> GrantRead:
    return GrantRead(id=grant.id, role=Role(grant.role), unit_id=grant.unit_id,
                     unit_code=codes.get(grant.unit_id) if grant.unit_id else None,
                     created_at=grant.created_at, created_by=grant.created_by)


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await repository.user(session, user_id, grants=True)
    if user is None:
        raise NotFound(f"No user {user_id}")
    return user


async def create_user(session: AsyncSession, data: UserCreate) -> User:
    _password_fault("body.password", data.password, data.email)
    if await repository.user_by_email(session, data.email) is not None:
        raise _email_taken(data.email)
    password_hash = await passwords.hash_password(data.password)
    user = User(id=uuid.uuid4(), email=data.email, name=data.name, password_hash=password_hash, active=True,
                token_generation=0)
    session.add(user)
    await flush(session, clash=_email_taken(data.email))
    return await get_user(session, user.id)


async def list_users(session: AsyncSession, query: UserListQuery) -> Page[UserRead]:
    conditions: list[ColumnElement[bool]] = []
    if query.active is not None:
        conditions.append(User.active.is_(query.active))
    if query.email is not None:
        conditions.append(User.email == query.email)
    page = await repository.user_page(session, conditions, query, lambda user: user)
    codes = await repository.unit_codes(session, [grant.unit_id for user in page.items for grant in user.grants])
    return Page(items=[await user_read(session, user, codes) for user in page.items], next_cursor=page.next_cursor)


async def _keep_an_administrator(session: AsyncSession, user: User, what: str) -> None:
    holds_admin = any(grant.role == Role.ADMIN for grant in user.grants)
    if holds_admin and user.active and await repository.other_active_admins(session, user.id) == 0:
        raise Conflict(f"{what} would leave no active administrator; make another one first.")


async def end_sessions(session: AsyncSession, user: User) -> None:
    """Revoke every refresh token of the person and end every access token issued to them before now."""
    user.token_generation += 1
    await repository.revoke_families(session, utcnow(), user_id=user.id)


async def update_user(session: AsyncSession, user_id: uuid.UUID, changes: UserUpdate, if_match: str | None) -> User:
    user = await get_user(session, user_id)
    check_if_match("the user", user.version, if_match)
    given = changes.model_fields_set
    if "active" in given and changes.active is False and user.active:
        await _keep_an_administrator(session, user, f"Deactivating {user.email}")
    if "name" in given and changes.name != user.name:
        user.name = changes.name  # type: ignore[assignment]
    if "password" in given:
        _password_fault("body.password", changes.password, user.email)  # type: ignore[arg-type]
        user.password_hash = await passwords.hash_password(changes.password)  # type: ignore[arg-type]
        await end_sessions(session, user)
    if "active" in given and changes.active != user.active:
        user.active = changes.active  # type: ignore[assignment]
        if not user.active:
            await end_sessions(session, user)
    await flush(session, clash=f"Changing {user.email} clashed with a change made at the same time.",
                changed="the user")
    return user


async def add_grant(session: AsyncSession, user_id: uuid.UUID, data: GrantCreate) -> GrantRead:
    user = await get_user(session, user_id)
    if (data.role == Role.ADMIN) != (data.unit_id is None):
        message = ("the admin role is held everywhere: send unit_id null" if data.role == Role.ADMIN
                   else f"the {data.role} role is held on a unit: name it in unit_id")
        raise InvalidInput(f"The grant cannot be made: {message}.", [FieldError(field="body.unit_id", message=message)])
    if data.unit_id is not None and not await repository.unit_exists(session, data.unit_id):
        raise InvalidInput(
            f"The unit {data.unit_id} does not exist.", [FieldError(field="body.unit_id", message=f"no unit {data.unit_id}")]
        )
    where = f" on unit {data.unit_id}" if data.unit_id is not None else ""
    if await repository.holds(session, user.id, data.role, data.unit_id):
        raise Conflict(f"{user.email} already holds the {data.role} role{where}.")
    grant = RoleGrant(id=uuid.uuid4(), user_id=user.id, role=data.role, unit_id=data.unit_id)
    session.add(grant)
    await flush(session, clash=f"Granting {user.email} the {data.role} role{where} clashed with a change made "
                               "at the same time.")
    return _grant_read(grant, await repository.unit_codes(session, [grant.unit_id]))


async def remove_grant(session: AsyncSession, user_id: uuid.UUID, grant_id: uuid.UUID) -> None:
    user = await get_user(session, user_id)
    grant = next((g for g in user.grants if g.id == grant_id), None)
    if grant is None:
        raise NotFound(f"User {user_id} has no grant {grant_id}")
    if grant.role == Role.ADMIN and sum(g.role == Role.ADMIN for g in user.grants) == 1:
        await _keep_an_administrator(session, user, f"Taking the admin role from {user.email}")
    await session.delete(grant)
    await flush(session, clash="Removing the grant clashed with a change made at the same time.")


# --- who I am ------------------------------------------------------------------------------------------


async def me(session: AsyncSession, actor: Actor) -> Me:
    """The caller, their grants and what those allow, unit by unit."""
    email = None
    granted: list[tuple[Role | None, uuid.UUID | None, frozenset[Permission]]]
    if actor.kind == "person":
        user = await get_user(session, uuid.UUID(actor.id))
        email = user.email
        granted = [(Role(g.role), g.unit_id, ROLE_PERMISSIONS[Role(g.role)]) for g in user.grants]
    elif actor.kind == "key":
        key = await repository.api_key(session, uuid.UUID(actor.id.removeprefix("key:")))
        granted = [(None, key.unit_id, frozenset(Permission(s) for s in key.scopes))] if key is not None else []
    else:
        granted = [(grant.role, None, grant.permissions) for grant in actor.grants]
    tree = UnitTree(await repository.unit_parents(session)) if any(unit for _, unit, _ in granted) else None
    codes = await repository.unit_codes(session, [unit_id for _, unit_id, _ in granted])
    grants = [
        MyGrant(role=role, unit_id=unit_id, unit_code=codes.get(unit_id) if unit_id else None,
                units_covered=len(tree.covered(unit_id)) if unit_id and tree else None,
                permissions=sorted(permissions))
        for role, unit_id, permissions in granted
    ]
    allows: dict[uuid.UUID | None, set[Permission]] = {}
    for mine in grants:
        allows.setdefault(mine.unit_id, set()).update(mine.permissions)
    return Me(
        id=actor.id, kind=actor.kind, name=actor.name, email=email, grants=grants,
        allows=[UnitPermissions(unit_id=unit_id, unit_code=codes.get(unit_id) if unit_id else None,
                                permissions=sorted(permissions))
                for unit_id, permissions in sorted(allows.items(), key=lambda item: (item[0] is not None, str(item[0])))],
    )


# --- the first administrator ---------------------------------------------------------------------------


async def ensure_administrator(session: AsyncSession, email: str, password: str | None, name: str) -> tuple[User, bool]:
    """The administrator named by `email`, made if there is none (active, holding the admin role, with the
    password given: a new password ends their sessions); whether it was made."""
    email = email.strip().lower()
    user = await repository.user_by_email(session, email)
    made = user is None
    if user is None:
        if password is None:
            raise ValueError("a new administrator needs a password")
        user = User(id=uuid.uuid4(), email=email, name=name, password_hash=await passwords.hash_password(password),
                    active=True, token_generation=0)
        session.add(user)
    else:
        if password is not None and not (await passwords.check(password, user.password_hash))[0]:
            user.password_hash = await passwords.hash_password(password)
            await end_sessions(session, user)
        if not user.active:
            user.active = True
    await flush(session, clash=_email_taken(email))
    if not await repository.holds(session, user.id, Role.ADMIN, None):
        session.add(RoleGrant(id=uuid.uuid4(), user_id=user.id, role=Role.ADMIN, unit_id=None))
        await flush(session, clash=f"Making {email} an administrator clashed with a change made at the same time.")
    return user, made
