"""Refusing repeated failed sign-ins, per account and per client address.

Failures are counted in the database, so every gateway process refuses alike. A count belongs to a window
that starts at its first failure: once an account (or an address) has failed `limit` times in it, every
sign-in to it (from it) is refused with a 429 and `Retry-After` until the window ends, the right password
included (otherwise guessing would simply carry on). Refused attempts are not counted again and cost no
password check. A successful sign-in clears its account's count but not its address's, so one account
an attacker holds cannot wipe the count of their guesses at others.

Counts are kept under a hash of `account:<email>` and `address:<ip>`: what was typed as the user name
(now and then a password, by mistake) and the addresses of callers are not kept in clear.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity.models import SignInThrottle
from inspection_shared.problems import Problem


@dataclass(frozen=True)
class ThrottleLimits:
    account_failures: int = 5
    address_failures: int = 20
    window: timedelta = timedelta(minutes=15)


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def too_many(seconds: int, whose: str) -> Problem:
    return Problem(
        429, "Too many failed sign-ins",
        f"There have been too many failed sign-ins {whose}; try again in {seconds} seconds.",
        slug="too-many-sign-ins", headers={"Retry-After": str(seconds)}, retry_after=seconds,
    )


async def refuse_if_held_back(
    session: AsyncSession, limits: ThrottleLimits, email: str, address: str, now: datetime
) -> None:
    """A 429 if the account or the address has failed too often in its current window."""
    limit = {_key("account", email): (limits.account_failures, "to this account"),
             _key("address", address): (limits.address_failures, "from this address")}
    rows = await session.scalars(
        select(SignInThrottle).where(SignInThrottle.key.in_(list(limit)), SignInThrottle.resets_at > now)
    )
    held_back = [
        (math.ceil((row.resets_at - now).total_seconds()), limit[row.key][1])
        for row in rows.all()
        if row.failures >= limit[row.key][0]
    ]
    if held_back:
        raise too_many(*max(held_back))


async def count_failure(session: AsyncSession, limits: ThrottleLimits, email: str, address: str, now: datetime) -> None:
    """One more failure for the account and for the address, each in one statement (processes failing at
    the same moment all count); windows that have ended are cleared on the way."""
    insert = postgres_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    ended = SignInThrottle.resets_at <= now
    for key in (_key("account", email), _key("address", address)):
        statement = insert(SignInThrottle).values(key=key, failures=1, resets_at=now + limits.window)
        await session.execute(statement.on_conflict_do_update(
            index_elements=[SignInThrottle.key],
            set_={
                "failures": case((ended, 1), else_=SignInThrottle.failures + 1),
                "resets_at": case((ended, now + limits.window), else_=SignInThrottle.resets_at),
            },
        ))
    await session.execute(delete(SignInThrottle).where(SignInThrottle.resets_at <= now))


async def forget_account(session: AsyncSession, email: str) -> None:
    """Clear the account's count after it signed in."""
    await session.execute(delete(SignInThrottle).where(SignInThrottle.key == _key("account", email)))
