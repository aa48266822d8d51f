"""Sampling bench: a national caseload frame through the running sampling service, beside svy in-process.

The frame is SYNTHETIC: 250,000 cases over 108 PDUs with the rough national shares of domain.md
section 4 (about 9 in 10 men; a little under half on community orders, the rest on licence or in
custody before release; risk of serious harm about 25% low, 50% medium, 23% high, 2% very high; PDU
caseloads from about 1,000 to 4,000; references like X123456). No real case is in it.

It is uploaded as CSV to the service started as a real process, and stratified by PDU x gender x
sentence type x risk, each PDU sized to the 80% / 5-point precision on its own, with two ordered
reserves per stratum. The reference, in the same run and interleaved with it, is svy's in-process
stratified simple random selection of the same in-memory frame with the same per-stratum sizes (sample
plus reserves, taken from the service's allocation table, so svy is not timed allocating). Peak memory is the service
process's high-water mark (VmHWM).
"""

from __future__ import annotations

import io
import json
import statistics
import time
from pathlib import Path

import httpx
import msgspec
import numpy as np
import polars as pl

from bench.table import BenchRow
from tests.support.servers import service

CASES = 250_000
PDUS = 108
SEED = 20240601
RUNS = 11
STRATA = ["pdu", "gender", "sentence_type", "rosh"]
DESIGN = {
    "precision": {"confidence": 0.8, "margin": 0.05},
    "unit": "pdu",
    "unit_mode": "per_unit",
    "strata": ["gender", "sentence_type", "rosh"],
    "reserves_per_stratum": 2,
    "seed": 7,
}


def synthetic_national_frame(cases: int = CASES, pdus: int = PDUS, seed: int = SEED) -> pl.DataFrame:
    """A synthetic national probation caseload (see the module docstring); the same for the same seed."""
    rng = np.random.default_rng(seed)
    weights = rng.uniform(1_000, 4_000, pdus)
    per_pdu = np.floor(weights / weights.sum() * cases).astype(int)
    per_pdu[: cases - per_pdu.sum()] += 1
    pdu = np.repeat([f"PDU{i:03d}" for i in range(1, pdus + 1)], per_pdu)
    numbers = np.unique(rng.integers(0, 26 * 1_000_000, int(cases * 1.2)))
    numbers = rng.permutation(numbers)[:cases]
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))[numbers // 1_000_000]
    refs = np.char.add(letters, np.char.zfill((numbers % 1_000_000).astype(str), 6))
    frame = pl.DataFrame(
        {
            "case_ref": refs,
            "pdu": pdu,
            "gender": rng.choice(["male", "female"], cases, p=[0.9, 0.1]),
            "sentence_type": rng.choice(
                ["community_order", "licence", "pre_release_custody"], cases, p=[0.47, 0.38, 0.15]
            ),
            "rosh": rng.choice(["low", "medium", "high", "very_high"], cases, p=[0.25, 0.50, 0.23, 0.02]),
        }
    )
    return frame.sample(fraction=1.0, shuffle=True, seed=seed)  # a real export is in no useful order


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _svy_selection(frame: pl.DataFrame, per_stratum: dict[str, int]) -> int:
    import svy  # imported here: only the bench needs it

    sample = svy.Sample(frame, svy.Design(stratum=tuple(STRATA)))
    drawn = sample.sampling.srs(per_stratum, rstate=DESIGN["seed"])
    return drawn.data.height


def run(log_dir: Path) -> list[BenchRow]:
    frame = synthetic_national_frame()
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    body = buffer.getvalue()
    params = {"design": json.dumps(DESIGN)}
    headers = {"Content-Type": "text/csv"}

    with service("sampling", "SAMPLING_", log_dir) as running:
        pid = running.process.pid
        idle_mb = _peak_rss_mb(pid)
        with httpx.Client(base_url=running.url, timeout=120) as client:

            def round_trip() -> dict:
                # Timed to the result decoded in the client's hands (the same dicts and lists json gives),
                # as a client that cares for speed decodes it: msgspec takes about a third of the
                # standard library's time for these 3.4 MB, and two thirds of orjson's.
                response = client.post("/v1/samples", content=body, params=params, headers=headers)
                response.raise_for_status()
                return msgspec.json.decode(response.content)

            result = round_trip()  # warms the process up; not counted
            per_stratum = {
                "__by__".join(row["stratum"].split("|")): row["sample"] + row["reserves"]
                for row in result["allocation"]
            }
            _svy_selection(frame, per_stratum)  # the same for the reference
            timings, reference = [], []
            # Interleaved, so both sides meet the same load on a shared machine.
            for _ in range(RUNS):
                # Freed here, not inside the next timed round trip (about 200,000 parsed objects).
                result = None
                started = time.perf_counter()
                result = round_trip()
                timings.append(time.perf_counter() - started)
                started = time.perf_counter()
                drawn = _svy_selection(frame, per_stratum)
                reference.append(time.perf_counter() - started)
        peak_mb = _peak_rss_mb(pid)
        inside = [
            json.loads(line)["duration_ms"] / 1000
            for line in running.log().splitlines()
            if line.startswith("{") and '"/v1/samples"' in line
        ][-RUNS:]

    selected = {c["case_ref"] for c in result["selected"]}
    reserves = {c["case_ref"] for c in result["reserves"]}
    assert not selected & reserves and len(selected) == result["sample_size"]
    assert drawn == len(selected) + len(reserves)

    measured, ref = statistics.median(timings), statistics.median(reference)
    import svy

    shape = (
        f"synthetic {CASES:,} cases, {PDUS} PDUs, {len(result['allocation']):,} strata, "
        f"{len(selected):,} selected + {len(reserves):,} reserves, CSV {len(body) / 1e6:.1f} MB"
    )
    return [
        BenchRow(
            benchmark="sampling: national CSV frame, HTTP round trip",
            measured=measured,
            reference=ref,
            unit="s",
            goal="ratio <= 1 (svy in-process)",
            met=measured <= ref,
            note=f"median of {RUNS}, {statistics.median(inside):.3f} s of it inside the service; reference svy "
            f"{svy.__version__} Sample+srs, same frame and sizes; {shape}",
        ),
        BenchRow(
            benchmark="sampling: service peak memory",
            measured=peak_mb,
            reference=500.0,
            unit="MB",
            goal="< 500 MB",
            met=peak_mb < 500,
            note=f"VmHWM of the service process; {idle_mb:.0f} MB when idle",
        ),
    ]
