"""The one table `make bench` prints: each figure beside a reference measured in the same run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class BenchRow:
    benchmark: str
    measured: float
    reference: float
    unit: str
    goal: str
    met: bool
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.measured / self.reference if self.reference else float("inf")


def print_table(rows: list[BenchRow]) -> None:
    header = ("benchmark", "measured", "reference", "ratio", "goal", "met", "note")
    lines = [
        (
            r.benchmark,
            f"{r.measured:,.3f} {r.unit}",
            f"{r.reference:,.3f} {r.unit}",
            f"{r.ratio:.2f}",
            r.goal,
            "yes" if r.met else "NO",
            r.note,
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    fmt = " | ".join(f"{{:<{w}}}" for w in widths)
    print(fmt.format(*header))
    print("-+-".join("-" * w for w in widths))
    for line in lines:
        print(fmt.format(*line))
