"""What each process holds about its callers, and how it learns that it changed: announcements sent by the
write path as a change commits (NOTIFY on PostgreSQL, in the same transaction), a listener that reconnects
and says when it was away, and a cache that never keeps what a change overtook."""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg
import pytest
from sqlalchemy import delete
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway import announcements
from gateway.actors import Actor
from gateway.db import DatabaseLimits, create_sessionmaker
from gateway.identity import authentication, repository
from gateway.identity.authentication import CHANNEL, IdentityCache, UnitTree
from gateway.identity.models import User
from gateway.units.models import Unit
from tests.conftest import TEST_ACTOR


class Heard:
    def __init__(self) -> None:
        self.told: list[tuple[str, frozenset[str]]] = []

    def changed(self, channel: str, tables: frozenset[str]) -> None:
        self.told.append((channel, tables))


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _user(email: str) -> User:
    return User(email=email, name="Announced", password_hash="x", active=True, token_generation=0)


async def test_this_process_is_told_of_a_change_as_it_commits_and_never_of_one_rolled_back(db_engine: AsyncEngine):
    heard = Heard()
    announcements.subscribe(heard)
    sessions = create_sessionmaker(db_engine, TEST_ACTOR)
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    async with sessions() as session:
        session.add(_user(email))
        await session.flush()
        assert heard.told == []  # written, not committed
        await session.rollback()
    assert heard.told == []
    try:
        async with sessions.begin() as session:
            session.add(_user(email))
        assert heard.told == [(CHANNEL, frozenset({"users"}))]
        async with sessions.begin() as session:  # a statement, not a flushed object
            await session.execute(delete(Unit).where(Unit.code == "NO-SUCH-UNIT"))
        assert heard.told[-1] == (CHANNEL, frozenset({"units"}))
    finally:
        async with sessions.begin() as session:
            await session.execute(delete(User).where(User.email == email))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_on_postgresql_the_notify_is_sent_in_the_transaction_of_the_change(database_url, db_engine):
    heard: asyncio.Queue[str] = asyncio.Queue()
    listening = await asyncpg.connect(_dsn(database_url))
    await listening.add_listener(CHANNEL, lambda *args: heard.put_nowait(args[3]))
    sessions = create_sessionmaker(db_engine, TEST_ACTOR)
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    try:
        async with sessions() as session:
            session.add(_user(email))
            await session.commit()
        assert await asyncio.wait_for(heard.get(), 5) == "users"
        async with sessions() as session:
            session.add(_user(f"other-{email}"))
            await session.flush()
            await session.rollback()
        await asyncio.sleep(0.2)
        assert heard.empty()
    finally:
        async with sessions.begin() as session:
            await session.execute(delete(User).where(User.email == email))
        await listening.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_listener_says_when_it_stops_hears_others_and_comes_back(database_url, db_engine):
    heard = Heard()
    announcements.subscribe(heard)
    listener = announcements.ChangeListener.for_engine(db_engine, [CHANNEL], DatabaseLimits())
    listener._retry = 0.1
    listener.start()
    other = await asyncpg.connect(_dsn(database_url))
    try:
        assert await listener.wait_listening(10)
        await other.execute(f"NOTIFY {CHANNEL}, 'grants,users'")
        for _ in range(50):
            if (CHANNEL, frozenset({"grants", "users"})) in heard.told:
                break
            await asyncio.sleep(0.05)
        assert (CHANNEL, frozenset({"grants", "users"})) in heard.told

        # Its connection is ended by the server: it stops listening (and says so), then listens again.
        told = len(heard.told)
        await other.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            announcements.listener_name(os.getpid()),
        )
        for _ in range(100):
            if not listener.listening:
                break
            await asyncio.sleep(0.02)
        assert not listener.listening
        assert (CHANNEL, announcements.EVERYTHING) in heard.told[told:]
        assert await listener.wait_listening(10)
    finally:
        await other.close()
        await listener.aclose()


async def test_a_read_overtaken_by_a_change_is_answered_but_not_kept(monkeypatch, db_engine):
    cache = IdentityCache()
    user_id = uuid.uuid4()
    account = User(id=user_id, email="x@example.org", name="X", password_hash="x", active=True, token_generation=0)

    async def person_changed_meanwhile(session, wanted):
        cache.changed(CHANNEL, frozenset({"grants"}))  # a change commits while the read is under way
        return account, []

    monkeypatch.setattr(repository, "person", person_changed_meanwhile)
    held = await cache.person(create_sessionmaker(db_engine), user_id)
    assert held is not None and held.actor.id == str(user_id)
    assert user_id not in cache.people

    async def person(session, wanted):
        return account, []

    monkeypatch.setattr(repository, "person", person)
    await cache.person(create_sessionmaker(db_engine), user_id)
    assert user_id in cache.people
    cache.changed(CHANNEL, frozenset({"users"}))
    assert user_id not in cache.people


async def test_a_cache_that_is_not_listening_keeps_nothing(monkeypatch, db_engine):
    listening = False
    cache = IdentityCache(lambda: listening)
    reads = []

    async def person(session, wanted):
        reads.append(wanted)
        return User(id=wanted, email="x@example.org", name="X", password_hash="x", active=True, token_generation=0), []

    monkeypatch.setattr(repository, "person", person)
    user_id = uuid.uuid4()
    for _ in range(2):
        await cache.person(create_sessionmaker(db_engine), user_id)
    assert len(reads) == 2 and cache.people == {}
    listening = True
    for _ in range(2):
        await cache.person(create_sessionmaker(db_engine), user_id)
    assert len(reads) == 3 and user_id in cache.people


def test_a_grant_covers_its_unit_and_every_unit_below_it():
    region, pdu, team, other = (uuid.uuid4() for _ in range(4))
    tree = UnitTree([(region, None), (pdu, region), (team, pdu), (other, None)])
    assert tree.covered(region) == {region, pdu, team}
    assert tree.covered(pdu) == {pdu, team}
    assert tree.covered(other) == {other}
    grants = authentication.person_grants([("admin", None), ("reader", pdu)], tree)
    assert (grants[0].units, grants[1].units) == (None, {pdu, team})
    assert Actor(id="x", name="x", kind="person", grants=grants).grants[1].covers(team)
