"""`python -m bench NAME ...` runs only the benchmarks named, and refuses a name it does not know."""

import subprocess
import sys

from tests.conftest import ROOT


def test_an_unknown_benchmark_is_refused_with_the_choices_before_anything_runs():
    done = subprocess.run([sys.executable, "-m", "bench", "dashboard", "nosuch"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert "no such benchmark: bench.nosuch_bench" in done.stderr
    assert "bench.dashboard_bench" in done.stderr
    assert "running" not in done.stdout
