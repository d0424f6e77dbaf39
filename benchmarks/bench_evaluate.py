"""Wall time of the rolling-origin evaluation (``hashrisk evaluate``): 2016-2025, every stored retarget x 2
modes x 6 horizons x 500 paths, serial and on local processes. Records the load average (the machine may be
shared) and, with ``--origins N``, times the first N origins only and extrapolates linearly to all of them
(saying so). Prints one JSON object; asserts nothing.

    HASHRISK_HOME=$(mktemp -d) hashrisk data import ../shared/data/btc_daily_coinmetrics_2009-01-03_to_2025-09-26.csv
    HASHRISK_HOME=... hashrisk data import ../shared/data/btc_mempool_hashrate_difficulty_2009-01-03_to_2025-03-22.json
    HASHRISK_HOME=... python benchmarks/bench_evaluate.py [--paths 500] [--workers 2] [--origins N] [--home DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from typing import Any


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--since", default="2016-01-01")
    ap.add_argument("--until", default=None)
    ap.add_argument("--paths", type=int, default=500)
    ap.add_argument("--horizons", type=int, default=6)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--origins", type=int, default=None, help="time only the first N origins and extrapolate")
    ap.add_argument("--backends", default="serial,processes")
    ap.add_argument("--home", default=None, help="data folder (default: $HASHRISK_HOME)")
    args = ap.parse_args()

    from hashrisk.data.store import Store
    from hashrisk.sim import Scenario
    from hashrisk.sim.evaluate import evaluate, origin_heights

    with Store(args.home, read_only=True) as store:
        daily = store.daily_frame()
        retargets = store.retargets_frame()
    if daily.empty or retargets.empty:
        raise SystemExit(
            "nothing stored: import the Coin Metrics CSV and the mempool JSON (see the docstring)"
        )
    since = dt.date.fromisoformat(args.since)
    until = dt.date.fromisoformat(args.until) if args.until else None
    heights = origin_heights(retargets, since, until)
    timed = heights[: args.origins] if args.origins else heights
    out: dict[str, Any] = {
        "window": f"{since}..{until or 'last stored'}",
        "origins_total": len(heights),
        "origins_timed": len(timed),
        "paths": args.paths,
        "horizons": args.horizons,
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg(),
        "runs": {},
    }
    for backend in args.backends.split(","):
        t0 = time.perf_counter()
        res = evaluate(
            Scenario(),
            daily,
            retargets,
            heights=timed,
            horizons=args.horizons,
            paths=args.paths,
            backend=backend,  # type: ignore[arg-type]
            workers=args.workers,
        )
        wall = time.perf_counter() - t0
        scale = len(heights) / max(len(timed), 1)
        out["runs"][backend] = {
            "workers": 1 if backend == "serial" else args.workers,
            "wall_s": round(wall, 1),
            "simulation_s": round(float(res.meta["elapsed_s"]), 1),
            "cases": res.meta["cases"],
            "rows": res.meta["rows"],
            "extrapolated_all_origins_s": round(wall * scale, 1) if scale > 1 else None,
            "load_average_after": os.getloadavg(),
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
