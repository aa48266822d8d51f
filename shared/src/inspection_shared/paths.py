"""A request's path as an app's routes see it: the route template that answers it, and the path as the
logs may say it, with a case reference in it written `{case_ref}` however the client encoded it.

FastAPI keeps an included router's routes at their own path, without the prefix they were included
under; `routes_of(app)` holds each at its full path, found once per app and again if routes are added.
"""

from __future__ import annotations

import re
import weakref
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.routing import Match
from starlette.types import Scope

HEAD_AS_GET = "inspection_shared.head"
"""Scope key marking a HEAD request passed to the routes as a GET (its answer is sent without a body)."""

PERSONAL_PATH_PARAMETERS = frozenset(("case_ref",))
"""Path parameters that name a person's case: logged as their name in braces, never their value."""

UNKNOWN_SEGMENT = "{?}"
"""How a path no route matched is logged segment by segment: a segment none of the routes spells out
(an id, a case reference, a typo) is written as this."""

_PLACEHOLDER = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


class RouteTemplate:
    """The path a route is served at (an including router's prefix in it), with parameters in braces."""

    __slots__ = ("format", "segments", "personal", "aligned")

    def __init__(self, path_format: str, path: str | None):
        self.format = path_format
        parts = path_format.split("/")
        self.segments = len(parts)
        # The segments holding a personal parameter, as the template writes them (`{case_ref}`).
        self.personal = tuple(
            (index, part) for index, part in enumerate(parts)
            if any(name in PERSONAL_PATH_PARAMETERS for name in _PLACEHOLDER.findall(part))
        )
        self.aligned = ":path}" not in (path or "")  # each parameter's value lies within one segment

    def masked(self, path: str, params: dict[str, Any]) -> str:
        """`path` (as the routes saw it, decoded once) with its personal parameters written as `{name}`."""
        if not self.personal:
            return path
        segments = path.split("/")
        if self.aligned and len(segments) == self.segments:
            for index, part in self.personal:
                segments[index] = part
            return "/".join(segments)
        values = {str(v): f"{{{k}}}" for k, v in params.items() if k in PERSONAL_PATH_PARAMETERS}
        return "/".join(values.get(segment, segment) for segment in segments)


class Routes:
    """An app's routes as FastAPI serves them, each at its full path (FastAPI keeps an included
    router's routes at their own path, without the prefix it was included under)."""

    __slots__ = ("count", "contexts", "templates", "words")

    def __init__(self, app: Any):
        self.count = len(app.routes)
        self.contexts = [c for c in iter_route_contexts(app.routes) if c.path_format]
        self.templates: dict[int, RouteTemplate] = {}
        for context in self.contexts:
            self.templates.setdefault(id(context.original_route), RouteTemplate(context.path_format, context.path))
        self.words = frozenset(
            segment for context in self.contexts for segment in context.path_format.split("/")
            if segment and "{" not in segment
        )

    def matching(self, scope: Scope) -> tuple[RouteTemplate, dict[str, Any]] | None:
        """The route at the request's path, whatever its method, and the path parameters."""
        for context in self.contexts:
            match, child = context.matches(scope)
            if match is not Match.NONE:
                return RouteTemplate(context.path_format, context.path), child.get("path_params") or {}
        return None


_routes_by_app: weakref.WeakKeyDictionary[Any, Routes] = weakref.WeakKeyDictionary()


def routes_of(app: Any) -> Routes:
    """The app's routes, found again only when routes have been added since."""
    routes = _routes_by_app.get(app)
    if routes is None or routes.count != len(app.routes):
        routes = _routes_by_app[app] = Routes(app)
    return routes


def served_template(scope: Scope) -> RouteTemplate | None:
    """The template of the route that answered the request, if one did."""
    route, app = scope.get("route"), scope.get("app")
    if route is None or app is None:
        return None
    return routes_of(app).templates.get(id(route))


def loggable_path(scope: Scope, template: RouteTemplate | None = None) -> str:
    """The request's path as it may be logged: decoded as the routes saw it (however the client encoded
    it), with the values of personal path parameters written as `{name}`. A path no route matches keeps
    only the words the routes use; any other segment is written `{?}`."""
    template = template or served_template(scope)
    params = scope.get("path_params") or {}
    if template is None:
        app = scope.get("app")
        found = routes_of(app).matching(scope) if app is not None else None
        if found is None:
            words = routes_of(app).words if app is not None else frozenset()
            return "/".join(s if not s or s in words else UNKNOWN_SEGMENT for s in scope["path"].split("/"))
        template, params = found
    return template.masked(scope["path"], params)


def allowed_methods(app: Any, scope: Scope) -> str:
    """Every method some route at the request's path answers (Starlette names only the first route's)."""
    methods: set[str] = set()
    for context in routes_of(app).contexts:
        if context.methods and context.matches(scope)[0] is not Match.NONE:
            methods |= context.methods
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))
