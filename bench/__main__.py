"""`make bench`: every benchmark, each figure beside a reference measured in the same run.

`python -m bench dashboard statistics` runs only the benchmarks named (bench/<name>_bench.py)."""

import importlib
import sys
from pathlib import Path

from bench.table import BenchRow, print_table

ROOT = Path(__file__).resolve().parents[1]
BENCHES = ["bench.sampling_bench", "bench.rating_bench", "bench.gateway_bench", "bench.statistics_bench",
           "bench.dashboard_bench"]


def main() -> int:
    sys.path.insert(0, str(ROOT))
    chosen = [f"bench.{name}_bench" for name in sys.argv[1:]]
    unknown = [name for name in chosen if name not in BENCHES]
    if unknown:
        print(f"no such benchmark: {', '.join(unknown)}; choose from {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    rows: list[BenchRow] = []
    for name in chosen or BENCHES:
        print(f"running {name} ...", flush=True)
        rows.extend(importlib.import_module(name).run(ROOT / "var" / "bench"))
    print()
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
