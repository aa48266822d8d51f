"""The Makefile: `make run` installs only what running needs, `make test` the development tools too, each
behind its own stamp; every target the documents name exists, and none reaches outside the repository."""

import os
import re
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")

MAKEFILE = (ROOT / "Makefile").read_text()
TARGETS = set(re.findall(r"^([a-z][a-z-]*):", MAKEFILE, re.MULTILINE))


def dry_run(target: str) -> list[str]:
    """The commands `make target` would run on a fresh checkout (-B: as if nothing were made yet)."""
    # As typed at a shell, even under `make test`: no flags or level of a make above.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTHON")}
    done = subprocess.run(
        ["make", "-n", "-B", target], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def syncs(commands: list[str]) -> list[str]:
    return [line for line in commands if " sync " in line]


def test_make_run_installs_only_what_running_needs():
    commands = dry_run("run")
    assert syncs(commands) == [".tools/bin/uv sync --frozen --no-dev --inexact --python python3"]
    assert "touch .venv/.installed-run" in commands
    assert "touch .venv/.installed" not in commands
    assert commands[-1] == ".venv/bin/python scripts/run_services.py"


@pytest.mark.parametrize("target", ["setup", "demo", "purge"])
def test_the_targets_that_only_run_the_services_take_the_running_install(target):
    assert syncs(dry_run(target)) == [".tools/bin/uv sync --frozen --no-dev --inexact --python python3"]


@pytest.mark.parametrize("target", ["test", "install", "fuzz"])
def test_make_test_installs_the_development_tools_too(target):
    commands = dry_run(target)
    assert syncs(commands) == [".tools/bin/uv sync --frozen --python python3"]
    assert "touch .venv/.installed" in commands


def test_every_target_the_documents_name_exists():
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    named = {name for path in documents for name in re.findall(r"`make ([a-z][a-z-]*)", path.read_text())}
    assert {"run", "test", "demo", "fuzz", "bench", "purge"} <= named
    assert named <= TARGETS, f"named but not in the Makefile: {named - TARGETS}"
    assert "check-contracts" not in TARGETS


@pytest.mark.parametrize("target", sorted(TARGETS - {"clean"}))
def test_no_target_reaches_outside_the_repository(target):
    assert not [line for line in dry_run(target) if "../" in line]
