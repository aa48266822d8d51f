"""The style every module keeps: ruff's pyflakes and import-order rules, as pyproject.toml configures them."""

import subprocess
import sys

from tests.support.servers import ROOT


def test_ruff_finds_nothing_to_fix():
    found = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert found.returncode == 0, found.stdout + found.stderr


MOST_LINES = 500
"""A module longer than this is split along its seams (a house rule)."""


def test_no_module_of_the_services_or_shared_is_longer_than_500_lines():
    sources = [*ROOT.glob("services/*/src/**/*.py"), *ROOT.glob("shared/src/**/*.py")]
    assert sources
    too_long = {
        str(path.relative_to(ROOT)): lines for path in sources
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MOST_LINES
    }
    assert not too_long, f"modules over {MOST_LINES} lines: {too_long}"
