"""Who is acting on a request.

The actor is resolved once per request (`CurrentActor`); the request's session writes for it (see
`writes`), and each route's permission (see `permissions`) is checked against it. Until sign-in
arrives the actor is a fixed system user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

SESSION_KEY = "actor"
"""The key of a database session's `info` that holds the actor it writes for."""


@dataclass(frozen=True)
class Actor:
    id: str
    name: str


SYSTEM_ACTOR = Actor(id="system", name="System")
"""Acts for set-up commands, demo loading, and every request until users sign in."""


async def current_actor() -> Actor:
    return SYSTEM_ACTOR


CurrentActor = Annotated[Actor, Depends(current_actor)]
