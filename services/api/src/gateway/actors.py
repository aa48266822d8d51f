"""Who is acting on a request.

Every route takes `CurrentActor`, and every write records the actor's id. Until sign-in arrives the actor
is a fixed system user; permission checks will be declared beside this dependency on each route, so no
handler checks permissions itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends


@dataclass(frozen=True)
class Actor:
    id: str
    name: str


SYSTEM_ACTOR = Actor(id="system", name="System")
"""Acts for set-up commands, demo loading, and every request until users sign in."""


async def current_actor() -> Actor:
    return SYSTEM_ACTOR


CurrentActor = Annotated[Actor, Depends(current_actor)]
