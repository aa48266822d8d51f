"""`make bench`: every benchmark, each figure beside a reference measured in the same run."""

import importlib
import sys
from pathlib import Path

from bench.table import BenchRow, print_table

ROOT = Path(__file__).resolve().parents[1]
BENCHES = ["bench.sampling_bench", "bench.rating_bench", "bench.gateway_bench", "bench.statistics_bench"]


def main() -> int:
    sys.path.insert(0, str(ROOT))
    rows: list[BenchRow] = []
    for name in BENCHES:
        print(f"running {name} ...", flush=True)
        rows.extend(importlib.import_module(name).run(ROOT / "var" / "bench"))
    print()
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
