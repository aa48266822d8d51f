"""What a caller may do: one permission declared on every route, in one place beside the route.

A route names what it needs in its decorator, `dependencies=[requires(Permission.UNITS_WRITE)]`, or
says it is open to anyone with `dependencies=[PUBLIC]`. A test walks every route of the API and fails
on one that declares neither, so a new route cannot be added without saying who may call it.

Until sign-in arrives every caller acts as the system actor, which holds every permission; the check
below is where roles and unit-scoped grants will be tested against the permission named.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fastapi import Depends, FastAPI
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute, iter_route_contexts

from gateway.actors import Actor, CurrentActor


class Permission(StrEnum):
    FRAMEWORKS_READ = "frameworks:read"
    UNITS_READ = "units:read"
    UNITS_WRITE = "units:write"
    INSPECTIONS_READ = "inspections:read"
    INSPECTIONS_PLAN = "inspections:plan"
    INSPECTIONS_MOVE = "inspections:move"
    CASELOADS_READ = "caseloads:read"
    CASELOADS_WRITE = "caseloads:write"
    ASSESSMENTS_READ = "assessments:read"
    ASSESSMENTS_WRITE = "assessments:write"
    RATINGS_READ = "ratings:read"
    RATINGS_RUN = "ratings:run"
    PANEL_DECIDE = "panel:decide"
    REPORTS_READ = "reports:read"


@dataclass(frozen=True)
class Requires:
    """The dependency a route declares: the caller must hold `permission` (None: anyone may call)."""

    permission: Permission | None

    async def __call__(self, actor: CurrentActor) -> Actor:
        return actor


def requires(permission: Permission) -> DependsParam:
    return Depends(Requires(permission))


PUBLIC = Depends(Requires(None))
"""For routes anyone may call, such as the published framework library."""


def declared_permission(dependencies: list[DependsParam]) -> list[Requires]:
    """The permission declarations among a route's dependencies."""
    return [d.dependency for d in dependencies if isinstance(d.dependency, Requires)]


@dataclass(frozen=True)
class DeclaredRoute:
    methods: frozenset[str]
    path: str
    declarations: tuple[Requires, ...]


def declared_routes(app: FastAPI, prefix: str) -> list[DeclaredRoute]:
    """Every route of `app` under `prefix`, with the permission declarations it carries."""
    return [
        DeclaredRoute(frozenset(context.methods or ()), context.path, tuple(declared_permission(context.route.dependencies)))
        for context in iter_route_contexts(app.router.routes)
        if context.path.startswith(prefix) and isinstance(context.route, APIRoute)
    ]
