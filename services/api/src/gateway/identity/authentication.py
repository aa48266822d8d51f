"""Who is calling: the gateway's authenticator (`app.state.authenticate`, see `actors`), and what each
process holds in memory so that knowing it costs a request next to nothing.

`Authorization: Bearer <credential>` carries either an access token (a JWT, verified here with the
signing keys, see `tokens`) or an API key (`ik_live_...`, looked up by its hash). No Authorization
header, or another scheme, is no credential at all (None: public routes still answer, the others 401);
a Bearer credential that cannot be used is a 401 problem saying why.

Each process holds every identity it has resolved: a person's account state and grants, each grant
expanded to the units below the unit granted, as an `Actor` ready to use; an API key's scopes likewise;
and the tree of units the expansion walks. All of it is dropped the moment a user, grant, API key or unit
changes, in any process (the write path announces such changes, see `announcements`): in this process
right after the commit, in the others when PostgreSQL delivers the NOTIFY sent in the same transaction.
A process that is not listening (its listening connection dropped) holds nothing meanwhile and reads each
identity from the database until it listens again. A read that began before a change is never held
after it (each change moves `epoch` on, and a read is kept only if no change came in between).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway import announcements
from gateway.actors import Actor
from gateway.db import DatabaseLimits
from gateway.identity import keys, repository
from gateway.identity.throttles import ThrottleLimits
from gateway.identity.tokens import AccessTokens, InvalidToken, secret_hash
from gateway.permissions import ROLE_PERMISSIONS, Grant, Permission, Role
from gateway.settings import Settings
from inspection_shared.problems import Problem

CHANNEL = "identity_changed"
announcements.announce(CHANNEL, "users", "grants", "api_keys", "units")

API_KEY_PREFIX = "ik_live_"
KEY_ACTOR_PREFIX = "key:"
"""An API key acts as `key:<its id>`."""
MOST_HELD = 50_000
"""Identities held per process at most (every account and key of the inspectorate, many times over)."""


def invalid_credentials(detail: str) -> Problem:
    """401 for a credential that was sent and cannot be used (RFC 6750's invalid_token)."""
    return Problem(
        401, "Invalid credentials", detail, slug="invalid-credentials",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


class UnitTree:
    """Every unit with those directly below it: what a grant on a unit covers."""

    def __init__(self, parents: list[tuple[uuid.UUID, uuid.UUID | None]]):
        self._children: dict[uuid.UUID, list[uuid.UUID]] = {}
        for unit_id, parent_id in parents:
            if parent_id is not None:
                self._children.setdefault(parent_id, []).append(unit_id)
        self._below: dict[uuid.UUID, frozenset[uuid.UUID]] = {}

    def covered(self, unit_id: uuid.UUID) -> frozenset[uuid.UUID]:
        """The unit and every unit below it."""
        held = self._below.get(unit_id)
        if held is None:
            seen, waiting = {unit_id}, [unit_id]
            while waiting:
                for child in self._children.get(waiting.pop(), ()):
                    if child not in seen:
                        seen.add(child)
                        waiting.append(child)
            held = self._below[unit_id] = frozenset(seen)
        return held


@dataclass(frozen=True)
class HeldPerson:
    actor: Actor
    active: bool
    generation: int


@dataclass(frozen=True)
class HeldKey:
    actor: Actor
    expires_at: float | None
    revoked: bool


def person_grants(grants: list[tuple[str, uuid.UUID | None]], tree: UnitTree) -> tuple[Grant, ...]:
    return tuple(
        Grant(ROLE_PERMISSIONS[Role(role)], tree.covered(unit_id) if unit_id is not None else None, Role(role))
        for role, unit_id in grants
    )


class IdentityCache:
    """The identities this process holds (see the module's docstring)."""

    def __init__(self, listening: Callable[[], bool] | None = None):
        """`listening`: whether changes made by other processes are being heard (None: there are none, as
        on SQLite, where one process serves)."""
        self._listening = listening
        self.people: dict[uuid.UUID, HeldPerson] = {}
        self.keys: dict[str, HeldKey] = {}
        self._tree: UnitTree | None = None
        self.epoch = 0
        announcements.subscribe(self)

    @property
    def trusted(self) -> bool:
        return self._listening is None or self._listening()

    def changed(self, channel: str, tables: frozenset[str]) -> None:
        if channel != CHANNEL:
            return
        self.epoch += 1
        if "units" in tables or announcements.EVERYTHING <= tables:
            self._tree = None
            self.people.clear()
            self.keys.clear()
        if tables & {"users", "grants"}:
            self.people.clear()
        if "api_keys" in tables:
            self.keys.clear()

    def _keep(self, held: dict, key: object, value: object, epoch: int) -> None:
        if self.epoch == epoch and self.trusted:
            if len(held) >= MOST_HELD:
                held.clear()
            held[key] = value

    async def _units(self, session: AsyncSession, epoch: int) -> UnitTree:
        tree = self._tree if self.trusted else None
        if tree is None:
            tree = UnitTree(await repository.unit_parents(session))
            if self.epoch == epoch and self.trusted:
                self._tree = tree
        return tree

    async def person(
        self, sessions: async_sessionmaker[AsyncSession], user_id: uuid.UUID, *, fresh: bool = False
    ) -> HeldPerson | None:
        if not fresh and self.trusted and (held := self.people.get(user_id)) is not None:
            return held
        epoch = self.epoch
        async with sessions() as session:
            found = await repository.person(session, user_id)
            if found is None:
                return None
            account, grants = found
            tree = await self._units(session, epoch)
        actor = Actor(id=str(account.id), name=account.name, kind="person", grants=person_grants(grants, tree))
        held = HeldPerson(actor, account.active, account.token_generation)
        self._keep(self.people, user_id, held, epoch)
        return held

    async def key(self, sessions: async_sessionmaker[AsyncSession], key_hash: str) -> HeldKey | None:
        if self.trusted and (held := self.keys.get(key_hash)) is not None:
            return held
        epoch = self.epoch
        async with sessions() as session:
            found = await repository.api_key_by_hash(session, key_hash)
            if found is None:
                return None
            units = (await self._units(session, epoch)).covered(found.unit_id) if found.unit_id else None
        grant = Grant(frozenset(Permission(scope) for scope in found.scopes), units)
        held = HeldKey(
            Actor(id=f"{KEY_ACTOR_PREFIX}{found.id}", name=found.name, kind="key", grants=(grant,)),
            found.expires_at.timestamp() if found.expires_at is not None else None,
            found.revoked_at is not None,
        )
        self._keep(self.keys, key_hash, held, epoch)
        return held


    async def acting(self, sessions: async_sessionmaker[AsyncSession], actor_id: str) -> Actor | None:
        """The actor of a person's id or of `key:<id>`, as it may act now: None for an account deactivated,
        a key revoked or expired, or an id of neither."""
        if actor_id.startswith(KEY_ACTOR_PREFIX):
            try:
                key_id = uuid.UUID(actor_id.removeprefix(KEY_ACTOR_PREFIX))
            except ValueError:
                return None
            async with sessions() as session:
                found = await repository.api_key(session, key_id)
            held_key = await self.key(sessions, found.key_hash) if found is not None else None
            if held_key is None or held_key.revoked or (
                held_key.expires_at is not None and held_key.expires_at <= time.time()
            ):
                return None
            return held_key.actor
        try:
            user_id = uuid.UUID(actor_id)
        except ValueError:
            return None  # the system, or a set-up command's actor
        held = await self.person(sessions, user_id)
        return held.actor if held is not None and held.active else None


@dataclass
class Identity:
    """What a gateway process needs to sign people in and to know its callers (`app.state.identity`)."""

    tokens: AccessTokens
    cache: IdentityCache
    refresh_lifetime: timedelta
    throttle: ThrottleLimits
    listener: announcements.ChangeListener | None = None

    @classmethod
    def configured(cls, settings: Settings, signing: keys.SigningKeys,
                   listener: announcements.ChangeListener | None = None) -> Identity:
        return cls(
            tokens=AccessTokens(signing, settings.jwt_issuer, settings.access_token_seconds),
            cache=IdentityCache((lambda: listener.listening) if listener is not None else None),
            refresh_lifetime=timedelta(days=settings.refresh_token_days),
            throttle=ThrottleLimits(
                settings.sign_in_account_failures, settings.sign_in_address_failures,
                timedelta(seconds=settings.sign_in_window_seconds),
            ),
            listener=listener,
        )

    @classmethod
    async def open(cls, settings: Settings, engine: AsyncEngine, limits: DatabaseLimits) -> Identity:
        """The identity of a serving process: its keys, and on PostgreSQL a listener for changes made by
        the others (it connects in the background; until it listens, identities are read from the database
        on every request)."""
        signing = keys.load(settings)
        listener = None
        if engine.dialect.name == "postgresql":
            listener = announcements.ChangeListener.for_engine(engine, [CHANNEL], limits)
            listener.start()
        return cls.configured(settings, signing, listener)

    async def aclose(self) -> None:
        if self.listener is not None:
            await self.listener.aclose()


async def authenticate(request: Request) -> Actor | None:
    """The actor of a request from its Authorization header (see the module's docstring)."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    credential = credential.strip()
    if not credential:
        raise invalid_credentials("The Authorization header names Bearer but holds no token.")
    identity: Identity = request.app.state.identity
    sessions = request.app.state.sessionmaker
    if credential.startswith(API_KEY_PREFIX):
        held_key = await identity.cache.key(sessions, secret_hash(credential))
        if held_key is None:
            raise invalid_credentials("This API key is not one the gateway issued.")
        if held_key.revoked:
            raise invalid_credentials("This API key has been revoked.")
        if held_key.expires_at is not None and held_key.expires_at <= time.time():
            raise invalid_credentials("This API key has expired.")
        return held_key.actor
    try:
        claims = identity.tokens.verify(credential)
    except InvalidToken as error:
        raise invalid_credentials(str(error)) from None
    held = await identity.cache.person(sessions, claims.user_id)
    if held is not None and claims.generation > held.generation:
        # Issued after a change this process has not heard of yet (it will, within milliseconds): read it now.
        held = await identity.cache.person(sessions, claims.user_id, fresh=True)
    if held is None or not held.active:
        raise invalid_credentials("The account this token was issued to is not active.")
    if claims.generation != held.generation:
        raise invalid_credentials("This token was ended when its account signed out everywhere or was changed; "
                                  "sign in again.")
    request.state.access_claims = claims
    return held.actor
