"""Benchmark: import the full daily history files into a fresh DuckDB store.

For each file (the Coin Metrics history 2009-01-03..2025-09-26 and the merged 2009-01-03..2025-12-31 file
from ../shared/data, read in place) the script times, best of ``--repeat`` runs:

- parse: ``read_file`` (CSV read, validation, derivations) [rows/s];
- upsert: writing the parsed rows into a fresh store in one transaction [rows/s];
- re-import: the same rows again (idempotent, nothing changes) [s];
- import: ``import_file`` end to end on a fresh store (open, parse, upsert, close) [s].

Run::

    python benchmarks/bench_import.py
    python benchmarks/bench_import.py --repeat 5 --data /path/to/shared/data
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from hashrisk.data.files import import_file, read_file
from hashrisk.data.store import Store

FILES = (
    "btc_daily_coinmetrics_2009-01-03_to_2025-09-26.csv",
    "btc_daily_mining_merged_2009-01-03_to_2025-12-31.csv",
)
DEFAULT_DATA = Path(
    os.environ.get("HASHRISK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
T = TypeVar("T")


def best_of(repeat: int, fn: Callable[[], T]) -> tuple[float, T]:
    """Smallest wall time of `repeat` calls [s], and the last result."""
    times: list[float] = []
    result: T | None = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    assert result is not None
    return min(times), result


def bench_file(path: Path, repeat: int) -> dict[str, float]:
    """Timings for one file (see the module docstring)."""
    parse_s, (frame, meta) = best_of(repeat, lambda: read_file(path))
    rows = len(frame)
    derived = meta.get("derived_mask")
    upserts: list[float] = []
    reimports: list[float] = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as home, Store(home) as store:
            t0 = time.perf_counter()
            assert store.upsert("daily", frame, "bench", derived=derived) == rows
            upserts.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            assert store.upsert("daily", frame, "bench", derived=derived) == 0
            reimports.append(time.perf_counter() - t0)

    def end_to_end() -> int:
        with tempfile.TemporaryDirectory() as home:
            return int(import_file(path, home=home)["rows_changed"])

    import_s, changed = best_of(repeat, end_to_end)
    assert changed == rows
    return {
        "rows": rows,
        "parse_s": parse_s,
        "upsert_s": min(upserts),
        "reimport_s": min(reimports),
        "import_s": import_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the reference files")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best is reported)")
    args = parser.parse_args(argv)
    missing = [name for name in FILES if not (args.data / name).is_file()]
    if missing:
        print(f"reference data missing in {args.data}: {missing}", file=sys.stderr)
        return 2
    print(f"python {sys.version.split()[0]}, best of {args.repeat}")
    for name in FILES:
        r = bench_file(args.data / name, args.repeat)
        rows = r["rows"]
        print(f"{name}: {rows:,.0f} rows")
        print(f"  parse     {r['parse_s'] * 1e3:8.1f} ms  {rows / r['parse_s']:>10,.0f} rows/s")
        print(
            f"  upsert    {r['upsert_s'] * 1e3:8.1f} ms  {rows / r['upsert_s']:>10,.0f} rows/s (fresh store)"
        )
        print(
            f"  re-import {r['reimport_s'] * 1e3:8.1f} ms  {rows / r['reimport_s']:>10,.0f} rows/s (0 changed)"
        )
        print(f"  import    {r['import_s'] * 1e3:8.1f} ms  end to end (open, parse, upsert, close)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
