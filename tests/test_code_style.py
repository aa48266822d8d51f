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
