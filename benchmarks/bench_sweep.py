"""Throughput of parameter sweeps on each backend (prints figures; not a timed test).

    python benchmarks/bench_sweep.py                       # 8 points x 20,000 paths x 365 days
    python benchmarks/bench_sweep.py --paths 5000 --workers 4
    python benchmarks/bench_sweep.py --scheduler tcp://HOST:8786   # add a real Dask cluster

Backends: serial (numba's own threads over paths, all cores), local processes and a Dask LocalCluster (one
numba thread per worker, points in parallel). Every backend must return the same table (checked here);
the figure is grid points per second and cohort-path-days per second, with ratios to serial. On a 2-core
machine the parallel backends cannot beat serial by much: numba already uses both cores inside one point.
"""

from __future__ import annotations

import argparse
import json
import time

import pandas as pd

from hashrisk.sim import Scenario
from hashrisk.sim.sweep import SweepGrid, run_sweep

GRID = {"price.drift": [-0.6, 0.0], "fleet.hysteresis": [0.0, 0.05], "price.vol": [0.4, 0.7]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--paths", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scheduler", default=None, help="address of a running Dask scheduler (optional)")
    args = ap.parse_args()
    base = Scenario(paths=args.paths, horizon_days=args.days)
    points = SweepGrid(params=GRID).points()
    run_sweep(base.with_params({"paths": 1_000}), points[:1])  # compile / load the numba cache
    runs: list[tuple[str, dict[str, object]]] = [
        ("serial", {"backend": "serial"}),
        ("processes", {"backend": "processes", "workers": args.workers}),
        ("dask LocalCluster", {"backend": "dask", "workers": args.workers}),
    ]
    if args.scheduler:
        runs.append((f"dask {args.scheduler}", {"scheduler": args.scheduler}))
    rows = []
    ref: pd.DataFrame | None = None
    for label, kw in runs:
        t0 = time.perf_counter()
        res = run_sweep(base, points, **kw)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - t0
        same = ref is None or res.frame.equals(ref)
        ref = res.frame if ref is None else ref
        cpd = len(points) * args.paths * args.days * 32
        rows.append(
            {
                "backend": label,
                "seconds": round(elapsed, 2),
                "points_per_s": round(len(points) / elapsed, 3),
                "cohort_path_days_per_s": f"{cpd / elapsed:.3g}",
                "same_table_as_serial": same,
            }
        )
    serial = rows[0]["seconds"]
    for r in rows:
        r["speedup_vs_serial"] = round(float(serial) / float(r["seconds"]), 2)  # type: ignore[arg-type]
    print(json.dumps({"points": len(points), "paths": args.paths, "days": args.days, "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
