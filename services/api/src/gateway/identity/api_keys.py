"""API keys for systems (report generators, the dashboard's server, other systems): made by an admin and
shown once, kept only as a hash, scoped to some permissions, held on one unit (and those below it) or on
all, expiring if asked, and revocable. A key is `ik_live_` and 256 random bits: the prefix makes a key
found in a log or a repository recognisable for what it is."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, or_
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import audit
from gateway.db import utcnow
from gateway.identity import repository
from gateway.identity.authentication import API_KEY_PREFIX
from gateway.identity.models import ApiKey
from gateway.identity.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyListQuery, ApiKeyRead, KeyStatus
from gateway.identity.tokens import new_secret, secret_hash
from gateway.writes import flush
from inspection_shared.pagination import Page
from inspection_shared.problems import FieldError, InvalidInput, NotFound

SHOWN_PREFIX = len(API_KEY_PREFIX) + 4


def status(key: ApiKey) -> KeyStatus:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= utcnow():
        return "expired"
    return "active"


def read(key: ApiKey, unit_code: str | None) -> ApiKeyRead:
    return ApiKeyRead(
        id=key.id, name=key.name, prefix=key.prefix, scopes=key.scopes, unit_id=key.unit_id, unit_code=unit_code,
        expires_at=key.expires_at, revoked_at=key.revoked_at, status=status(key), created_at=key.created_at,
        created_by=key.created_by,
    )


async def create_key(session: AsyncSession, data: ApiKeyCreate) -> ApiKeyCreated:
    errors = []
    if data.unit_id is not None and not await repository.unit_exists(session, data.unit_id):
        errors.append(FieldError(field="body.unit_id", message=f"no unit {data.unit_id}"))
    if data.expires_at is not None and data.expires_at <= utcnow():
        errors.append(FieldError(field="body.expires_at", message="must be in the future"))
    if errors:
        raise InvalidInput("The key cannot be made: " + "; ".join(e.message for e in errors) + ".", errors)
    secret = new_secret(API_KEY_PREFIX)
    key = ApiKey(
        id=uuid.uuid4(), name=data.name, prefix=secret[:SHOWN_PREFIX], key_hash=secret_hash(secret),
        scopes=sorted(set(data.scopes)), unit_id=data.unit_id, expires_at=data.expires_at,
    )
    session.add(key)
    await flush(session, clash="Making the key clashed with a change made at the same time; try again.")
    await audit.record(session, "api_key.created", "api_keys", key.id,
                       {"name": key.name, "prefix": key.prefix, "scopes": key.scopes, "unit_id": key.unit_id,
                        "expires_at": key.expires_at})
    codes = await repository.unit_codes(session, [key.unit_id])
    return ApiKeyCreated(**read(key, codes.get(key.unit_id)).model_dump(), key=secret)  # type: ignore[arg-type]


async def get_key(session: AsyncSession, key_id: uuid.UUID) -> ApiKeyRead:
    key = await repository.api_key(session, key_id)
    if key is None:
        raise NotFound(f"No API key {key_id}")
    codes = await repository.unit_codes(session, [key.unit_id])
    return read(key, codes.get(key.unit_id))  # type: ignore[arg-type]


async def list_keys(session: AsyncSession, query: ApiKeyListQuery) -> Page[ApiKeyRead]:
    now = utcnow()
    conditions: list[ColumnElement[bool]] = []
    if query.status == "revoked":
        conditions.append(ApiKey.revoked_at.is_not(None))
    elif query.status == "expired":
        conditions += [ApiKey.revoked_at.is_(None), ApiKey.expires_at <= now]
    elif query.status == "active":
        conditions += [ApiKey.revoked_at.is_(None), or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now)]
    page = await repository.api_key_page(session, conditions, query, lambda key: key)
    codes = await repository.unit_codes(session, [key.unit_id for key in page.items])
    return Page(items=[read(key, codes.get(key.unit_id)) for key in page.items],  # type: ignore[arg-type]
                next_cursor=page.next_cursor)


async def revoke_key(session: AsyncSession, key_id: uuid.UUID) -> None:
    """Revoke the key, at once in every gateway process; revoking it again changes nothing."""
    key = await repository.api_key(session, key_id)
    if key is None:
        raise NotFound(f"No API key {key_id}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await flush(session, clash="Revoking the key clashed with a change made at the same time; try again.")
        await audit.record(session, "api_key.revoked", "api_keys", key.id, {"name": key.name, "prefix": key.prefix})
