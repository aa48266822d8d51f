"""Small synthetic caseload frames for the sampling tests (no real case is in them)."""

from __future__ import annotations

import random


def synthetic_frame(cases: int = 600, units: int = 4, seed: int = 1) -> list[dict]:
    """A small synthetic caseload (not real people): pdu, gender, sentence type, risk, start date."""
    rng = random.Random(seed)
    refs = rng.sample(range(100_000, 1_000_000), cases)
    return [
        {
            "case_ref": f"X{ref}",
            "pdu": f"N{1 + i % units:02d}",
            "gender": "F" if rng.random() < 0.12 else "M",
            "sentence_type": rng.choice(["community_order", "licence", "pre_release_custody"]),
            "rosh": rng.choices(["low", "medium", "high", "very_high"], [25, 50, 23, 2])[0],
            "start_date": f"2024-{1 + rng.randrange(12):02d}-{1 + rng.randrange(28):02d}",
        }
        for i, ref in enumerate(refs)
    ]


def to_csv(rows: list[dict], columns: list[str] | None = None) -> bytes:
    columns = columns or list(rows[0])
    lines = [",".join(columns)] + [",".join(str(r.get(c, "")) for c in columns) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def only(rows: list[dict], columns: list[str]) -> list[dict]:
    return [{c: r[c] for c in columns} for r in rows]
