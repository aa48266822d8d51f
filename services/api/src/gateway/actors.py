"""Who is acting on a request, and what they hold.

An `Actor` is a person signed in, an API key, or the system itself (set-up commands, the demo loader);
each holds grants (see `permissions`). The actor of a request is resolved once (`CurrentActor`) by the
authenticator the app was built with (`app.state.authenticate`); the request's session writes for it
(see `writes`), each route's permission is checked against it (`permissions.requires`), and each
domain's reads are scoped to the units its grants cover.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import Depends, Request

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

    from gateway.permissions import Grant

SESSION_KEY = "actor"
"""The key of a database session's `info` that holds the actor it writes for."""


@dataclass(frozen=True)
class Actor:
    id: str
    """A person's user id, `key:<id>` for an API key, or `system`."""
    name: str
    kind: Literal["person", "key", "system"] = "system"
    grants: tuple[Grant, ...] = ()


class NoActor(RuntimeError):
    """A write was attempted in a session that acts for nobody."""


def actor_of(session: Session | AsyncSession) -> Actor:
    """The actor the session writes for; a session that acts for nobody cannot write at all."""
    actor = session.info.get(SESSION_KEY)
    if actor is None:
        raise NoActor("a session writes only for an actor: open it with info={SESSION_KEY: actor}")
    return actor


Authenticate = Callable[[Request], Awaitable[Actor | None]]
"""Resolves the actor of a request from its credentials: None without any, a 401 problem for bad ones."""


async def current_actor(request: Request) -> Actor | None:
    """The request's actor (None: no credentials were sent)."""
    return await request.app.state.authenticate(request)


CurrentActor = Annotated[Actor | None, Depends(current_actor)]
