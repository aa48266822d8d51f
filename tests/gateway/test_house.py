"""The gateway's house rules, checked on the code itself: every route says who may call it, domains read
only downwards and each other's tables only through repositories, and the table of phases is the one
place an activity is allowed or refused."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest

from gateway.app import API_PREFIX, create_app
from gateway.inspections.guards import ensure_phase
from gateway.inspections.lifecycle import ACTIVITIES, FROZEN_STATUSES, IS_IN, Activity, InspectionStatus
from gateway.inspections.models import Inspection
from gateway.permissions import Permission, declared_routes
from gateway.settings import Settings
from inspection_shared.problems import Conflict
from tests.conftest import ROOT

GATEWAY = ROOT / "services" / "api" / "src" / "gateway"
DOMAINS = ["audit", "units", "identity", "frameworks", "idempotency", "inspections", "caseloads", "voice",
           "assessments", "ratings", "summaries", "reports", "events", "statistics", "programme", "consultations"]
"""From the bottom up: a domain may use those before it in this list, never those after."""


# --- permissions -------------------------------------------------------------------------------------


def test_every_api_route_declares_exactly_one_permission():
    routes = declared_routes(create_app(Settings(database_url="unused://")), API_PREFIX)
    assert len(routes) >= 38
    undeclared = [(sorted(r.methods), r.path) for r in routes if len(r.declarations) != 1]
    assert undeclared == []


def test_reads_and_writes_declare_different_permissions_and_only_the_framework_library_and_sign_in_are_public():
    routes = declared_routes(create_app(Settings(database_url="unused://")), API_PREFIX)
    public = sorted({r.path for r in routes if r.declarations[0].permission is None and not r.declarations[0].signed_in})
    assert public == [f"{API_PREFIX}/auth/logout", f"{API_PREFIX}/auth/token", f"{API_PREFIX}/frameworks",
                      f"{API_PREFIX}/frameworks/{{framework_id}}", f"{API_PREFIX}/vocabularies"]
    signed_in = sorted({r.path for r in routes if r.declarations[0].signed_in})
    assert signed_in == [f"{API_PREFIX}/me"]
    for route in routes:
        permission = route.declarations[0].permission
        if route.methods & {"POST", "PUT", "PATCH", "DELETE"} and permission is not None:
            assert not permission.endswith(":read"), (route.path, permission)
    used = {r.declarations[0].permission for r in routes} - {None}
    assert used <= set(Permission)


# --- domains read downwards, and others' tables only through repositories -------------------------


def _runtime_imports(path: Path) -> list[str]:
    """The gateway modules a file imports when it runs (imports for type checking only are left out)."""
    tree = ast.parse(path.read_text())
    type_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for statement in block.body
        for node in ast.walk(statement)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gateway."):
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names if alias.name.startswith("gateway."))
    return found


def _domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in DOMAINS else None


def _modules() -> list[tuple[str, Path]]:
    return [
        (".".join(["gateway", *path.relative_to(GATEWAY).with_suffix("").parts]), path)
        for path in sorted(GATEWAY.rglob("*.py"))
    ]


def test_no_domain_imports_a_domain_above_it():
    upward = []
    for module, path in _modules():
        own = _domain_of(module)
        if own is None:
            continue
        for imported in _runtime_imports(path):
            other = _domain_of(imported)
            if other is not None and DOMAINS.index(other) > DOMAINS.index(own):
                upward.append((module, imported))
    assert upward == []


def test_a_domains_tables_are_read_by_others_only_in_their_repositories():
    """Models are imported by their own domain, by the models of domains above (for relationships), by
    the repositories of domains above (the queries, where unit scoping applies) and by `gateway.models`."""
    strays = []
    for module, path in _modules():
        own = _domain_of(module)
        for imported in {i for i in _runtime_imports(path) if i.split(".")[2:3] == ["models"]}:
            owner = _domain_of(imported)
            if owner is None or owner == own or module == "gateway.models":
                continue
            if module.rsplit(".", 1)[-1] in ("repository", "models"):
                continue
            strays.append((module, imported))
    assert strays == []


def test_no_gateway_module_is_longer_than_500_lines():
    long = {module: n for module, path in _modules() if (n := len(path.read_text().splitlines())) > 500}
    assert long == {}


# --- the table of what each phase allows -------------------------------------------------------------


@pytest.mark.parametrize("activity", list(Activity))
@pytest.mark.parametrize("status", list(InspectionStatus))
def test_each_activity_is_allowed_exactly_in_the_phases_its_rule_names(activity, status):
    inspection = Inspection(id=uuid.uuid4(), status=status)
    rule = ACTIVITIES[activity]
    if status in rule.statuses:  # frozen ones too, for an activity that names them (a correction)
        ensure_phase(inspection, activity)
        return
    with pytest.raises(Conflict) as refused:
        ensure_phase(inspection, activity)
    body = refused.value.body().model_dump(exclude_none=True)
    assert body["status_of_inspection"] == status
    if status in FROZEN_STATUSES:
        assert body["detail"] == f"Inspection {inspection.id} is {status} and can no longer be changed."
    else:
        assert body[rule.listed_as] == list(rule.statuses)
        assert f"is {IS_IN[status]}: {rule.what} only while it is " in body["detail"]
