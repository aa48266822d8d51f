"""Refusing repeated failed sign-ins, per account and per client address.

Failures are counted in the database, so every gateway process refuses alike. A count belongs to a window
that starts at its first failure: once an account (or an address) has failed `limit` times in it, every
sign-in to it (from it) is refused with a 429 and `Retry-After` until the window ends, the right password
included (otherwise guessing would simply carry on). Refused attempts are not counted and cost no
password check.

Each attempt is counted as a failure before its password is checked, and taken back if it succeeds: so
guesses sent all at once, to several processes, are each counted before any is checked, and no more than
`limit` of them are ever checked in a window. A success clears its account's count and takes back its own
attempt from its address's, so that one account an attacker holds cannot wipe the count of their guesses
at others.

Counts are kept under a hash of `account:<email>` and `address:<ip>`: what was typed as the user name
(now and then a password, by mistake) and the addresses of callers are not kept in clear.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import audit
from gateway.identity.models import SignInThrottle
from gateway.writes import BOOKKEEPING
from inspection_shared.problems import Problem


@dataclass(frozen=True)
class ThrottleLimits:
    account_failures: int = 5
    address_failures: int = 20
    window: timedelta = timedelta(minutes=15)


_COUNTERS = {BOOKKEEPING: True}
"""The counts are the gateway's own counters, not records of anything: the sign-ins themselves are audited."""


_WHOSE = {"account": "to this account", "address": "from this address"}


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def too_many(seconds: int, whose: str) -> Problem:
    return Problem(
        429, "Too many failed sign-ins",
        f"There have been too many failed sign-ins {whose}; try again in {seconds} seconds.",
        slug="too-many-sign-ins", headers={"Retry-After": str(seconds)}, retry_after=seconds,
    )


async def take_attempt(session: AsyncSession, limits: ThrottleLimits, email: str, address: str, now: datetime) -> None:
    """Count the attempt as a failure to the account and from the address, each in one statement; a 429 if
    either was at its limit already (the request is then rolled back, and the attempt not counted, unless
    it is the first refused in the window: that one is recorded in the audit log and its count kept, so
    that the next is not the first, and guessing cannot fill the log)."""
    insert = postgres_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    ended = SignInThrottle.resets_at <= now
    held_back = []
    newly_held = {}
    for kind, value, limit in (("account", email, limits.account_failures),
                               ("address", address, limits.address_failures)):
        statement = insert(SignInThrottle).values(key=_key(kind, value), failures=1, resets_at=now + limits.window)
        statement = statement.on_conflict_do_update(
            index_elements=[SignInThrottle.key],
            set_={
                "failures": case((ended, 1), else_=SignInThrottle.failures + 1),
                "resets_at": case((ended, now + limits.window), else_=SignInThrottle.resets_at),
            },
        ).returning(SignInThrottle.failures, SignInThrottle.resets_at)
        failures, resets_at = (await session.execute(statement, execution_options=_COUNTERS)).one()
        if failures > limit:
            held_back.append((math.ceil((resets_at - now).total_seconds()), _WHOSE[kind]))
            if failures == limit + 1:
                newly_held[kind] = resets_at
    if held_back:
        if newly_held:
            await audit.record(session, "sign_in.held_back", "users", None,
                               {"held_back": newly_held, "address": address})
            await session.commit()
        raise too_many(*max(held_back))
    # Counts whose window has ended go, a few at a time; rows another sign-in holds are left for later, so
    # that two sign-ins never wait on each other.
    ended_keys = select(SignInThrottle.key).where(ended).limit(100).with_for_update(skip_locked=True)
    await session.execute(delete(SignInThrottle).where(SignInThrottle.key.in_(ended_keys)), execution_options=_COUNTERS)


async def succeeded(session: AsyncSession, email: str, address: str) -> None:
    """The attempt succeeded: clear the account's count, and take the attempt back from the address's."""
    await session.execute(
        delete(SignInThrottle).where(SignInThrottle.key == _key("account", email)), execution_options=_COUNTERS
    )
    await session.execute(
        update(SignInThrottle)
        .where(SignInThrottle.key == _key("address", address), SignInThrottle.failures > 0)
        .values(failures=SignInThrottle.failures - 1),
        execution_options=_COUNTERS,
    )
