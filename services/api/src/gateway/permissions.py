"""What a caller may do: one permission declared on every route, in one place beside the route.

A route names what it needs in its decorator, `dependencies=[requires(Permission.UNITS_WRITE)]`, or
says it is open to anyone with `dependencies=[PUBLIC]`. A test walks every route of the API and fails
on one that declares neither, so a new route cannot be added without saying who may call it.

The declaration refuses a caller who holds the permission nowhere: 401 without credentials, 403 naming
the permission. What a caller holds on which units is its grants (`Grant`): a role on a unit covers the
units below it (`ROLE_PERMISSIONS`); an API key's scopes are permissions. Each domain then reaches only
the records of units the caller may see (404 for the others, so their existence does not leak), through
`units_with` and `allows`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from fastapi import Depends, FastAPI
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute, iter_route_contexts

from gateway.actors import Actor, CurrentActor
from inspection_shared.problems import PROBLEM_JSON, Problem


class Permission(StrEnum):
    FRAMEWORKS_READ = "frameworks:read"
    UNITS_READ = "units:read"
    UNITS_WRITE = "units:write"
    INSPECTIONS_READ = "inspections:read"
    """Inspections that are published: their plan, summary, ratings and reports."""
    DRAFTS_READ = "drafts:read"
    """Inspections not yet published (or withdrawn), and the ratings they are given before publication."""
    INSPECTIONS_PLAN = "inspections:plan"
    INSPECTIONS_MOVE = "inspections:move"
    INSPECTIONS_PUBLISH = "inspections:publish"
    TEAMS_WRITE = "teams:write"
    CASELOADS_READ = "caseloads:read"
    CASELOADS_WRITE = "caseloads:write"
    ASSESSMENTS_READ = "assessments:read"
    """Case-level answers, judgements in the making, and the case references they carry."""
    ASSESSMENTS_WRITE = "assessments:write"
    """Also needs a place on the inspection's team."""
    RATINGS_READ = "ratings:read"
    RATINGS_RUN = "ratings:run"
    PANEL_DECIDE = "panel:decide"
    REPORTS_READ = "reports:read"
    USERS_ADMIN = "users:admin"
    KEYS_ADMIN = "keys:admin"
    AUDIT_READ = "audit:read"
    EVENTS_READ = "events:read"
    """The feed of events (publications, phase changes, rating runs, panel decisions) of the inspections the
    caller may see."""
    PROGRAMME_READ = "programme:read"
    """The programme's criteria, topics and their ranking: staff's, until a programme is published."""
    PROGRAMME_WRITE = "programme:write"
    """Planning the programme: capacity, criteria weights, topics and their scores, plans and consultations.
    The programme is national: held only through a grant on every unit (`NATIONAL`)."""
    WEBHOOKS_MANAGE = "webhooks:manage"
    """Webhook subscriptions of one's own, delivering the events its owner may see."""


class Role(StrEnum):
    ADMIN = "admin"
    LEAD_INSPECTOR = "lead_inspector"
    INSPECTOR = "inspector"
    PANEL = "panel"
    READER = "reader"


_READ_PUBLISHED = frozenset({Permission.UNITS_READ, Permission.INSPECTIONS_READ, Permission.RATINGS_READ,
                             Permission.REPORTS_READ, Permission.EVENTS_READ})
_STAFF = _READ_PUBLISHED | {Permission.DRAFTS_READ, Permission.PROGRAMME_READ}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.LEAD_INSPECTOR: _STAFF | {
        Permission.INSPECTIONS_PLAN, Permission.INSPECTIONS_MOVE, Permission.INSPECTIONS_PUBLISH,
        Permission.TEAMS_WRITE, Permission.CASELOADS_READ, Permission.CASELOADS_WRITE,
        Permission.ASSESSMENTS_READ, Permission.ASSESSMENTS_WRITE, Permission.RATINGS_RUN,
        Permission.PROGRAMME_WRITE,
    },
    Role.INSPECTOR: _STAFF | {
        Permission.CASELOADS_READ, Permission.CASELOADS_WRITE, Permission.ASSESSMENTS_READ,
        Permission.ASSESSMENTS_WRITE,
    },
    Role.PANEL: _STAFF | {Permission.ASSESSMENTS_READ, Permission.PANEL_DECIDE},
    Role.READER: _READ_PUBLISHED,
}
"""What each role allows on the units its grant covers. Readers see what is published, and nothing at
case level; only the admin role is held everywhere."""


@dataclass(frozen=True)
class Grant:
    """Permissions held on some units: a person's role on a unit and the units below it, or an API key's
    scopes, limited to a unit or not."""

    permissions: frozenset[Permission]
    units: frozenset[uuid.UUID] | None
    """The units covered (the unit granted and those below it), or None: every unit."""
    role: Role | None = None

    def covers(self, unit_id: uuid.UUID) -> bool:
        return self.units is None or unit_id in self.units


EVERYTHING = Grant(ROLE_PERMISSIONS[Role.ADMIN], None, Role.ADMIN)
SYSTEM_ACTOR = Actor(id="system", name="System", kind="system", grants=(EVERYTHING,))
"""Acts for set-up commands and the demo loader; holds every permission everywhere."""

ALL_UNITS = None
"""What `units_with` answers when a permission is held everywhere."""

NATIONAL = frozenset({Permission.PROGRAMME_WRITE})
"""Permissions over what is national, not any unit's: a grant limited to some units does not give them."""


def holds(actor: Actor, permission: Permission) -> bool:
    """Whether the actor holds the permission on any unit (a `NATIONAL` one: on every unit)."""
    if permission in NATIONAL:
        return units_with(actor, permission) is ALL_UNITS
    return any(permission in grant.permissions for grant in actor.grants)


def units_with(actor: Actor, permission: Permission) -> frozenset[uuid.UUID] | None:
    """The units on which the actor holds the permission; None (`ALL_UNITS`) if it holds it everywhere."""
    covered: set[uuid.UUID] = set()
    for grant in actor.grants:
        if permission in grant.permissions:
            if grant.units is None:
                return ALL_UNITS
            covered |= grant.units
    return frozenset(covered)


def allows(actor: Actor, permission: Permission, unit_id: uuid.UUID) -> bool:
    return any(permission in grant.permissions and grant.covers(unit_id) for grant in actor.grants)


def is_admin(actor: Actor) -> bool:
    return any(grant.role == Role.ADMIN for grant in actor.grants)


def not_signed_in() -> Problem:
    return Problem(
        401, "Not signed in", "Sign in (POST /api/v1/auth/token) and send the token as Authorization: Bearer.",
        slug="not-signed-in", headers={"WWW-Authenticate": "Bearer"},
    )


def forbidden(permission: Permission) -> Problem:
    where = " on every unit (a national grant)" if permission in NATIONAL else ""
    return Problem(
        403, "Forbidden", f"This needs the permission {permission}{where}, which your grants do not give.",
        slug="forbidden", permission=str(permission),
    )


@dataclass(frozen=True)
class Requires:
    """The dependency a route declares: the caller must hold `permission` on some unit (None: anyone may
    call, or anyone signed in with `signed_in`). Which units and records it may reach is then decided where
    each domain reads its rows."""

    permission: Permission | None
    signed_in: bool = False

    async def __call__(self, actor: CurrentActor) -> Actor | None:
        if self.permission is None:
            if self.signed_in and actor is None:
                raise not_signed_in()
            return actor
        if actor is None:
            raise not_signed_in()
        if not holds(actor, self.permission):
            raise forbidden(self.permission)
        return actor


def requires(permission: Permission) -> DependsParam:
    return Depends(Requires(permission))


PUBLIC = Depends(Requires(None))
"""For routes anyone may call, such as the published framework library."""

SIGNED_IN = Depends(Requires(None, signed_in=True))
"""For routes about the caller themselves (who am I): any credentials, no particular permission."""


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


def document_refusals(app: FastAPI) -> None:
    """List in the app's OpenAPI document the refusals each route's declaration gives: 401 on every route
    that reads its caller (credentials that are not good, on any of them; none, where a caller is needed)
    and 403 where a permission is needed."""
    build = app.openapi
    problem = {"content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}}}

    def openapi() -> dict:
        fresh = app.openapi_schema is None
        schema = build()
        if fresh:
            for route in declared_routes(app, "/"):
                for method in route.methods if route.declarations else ():
                    responses = schema["paths"].get(route.path, {}).get(method.lower(), {}).get("responses")
                    if responses is None:
                        continue
                    responses.setdefault("401", {"description": "Not signed in, or credentials that are not good.",
                                                 **problem})
                    if any(d.permission is not None for d in route.declarations):
                        responses.setdefault("403", {"description": "The caller lacks the permission.", **problem})
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
