"""Latency of ``/api/history`` and ``/api/changes`` on a store (default: ``$HASHRISK_HOME``): the first
(uncached) request of each window, then p50/p95 over repeated requests cycling through the dashboard's
windows, as the dashboard sends them. Prints figures; asserts nothing.

    HASHRISK_HOME=$(mktemp -d) hashrisk data import ../shared/data/btc_daily_coinmetrics_2009-01-03_to_2025-09-26.csv
    HASHRISK_HOME=... hashrisk data import ../shared/data/btc_mempool_hashrate_difficulty_2009-01-03_to_2025-03-22.json
    HASHRISK_HOME=... python benchmarks/bench_history.py [--requests 50] [--home DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
import warnings

import pandas as pd


def _client(home: str | None):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from fastapi.testclient import TestClient

    from hashrisk.web.app import create_app

    return TestClient(create_app(home=home), base_url="http://127.0.0.1")


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=50, help="timed requests per endpoint")
    ap.add_argument("--home", default=None, help="data folder (default: $HASHRISK_HOME)")
    args = ap.parse_args()
    client = _client(args.home)
    cov = client.get("/api/history/coverage").json()
    if not cov["stored"]:
        raise SystemExit("nothing stored: import the Coin Metrics file first (see the docstring)")
    last = dt.date.fromisoformat(cov["last_day"])
    first = dt.date.fromisoformat(cov["first_day"])
    windows = {
        "30d": last - dt.timedelta(days=30),
        "90d": last - dt.timedelta(days=90),
        "1y": (pd.Timestamp(last) - pd.DateOffset(years=1)).date(),
        "2y": (pd.Timestamp(last) - pd.DateOffset(years=2)).date(),
        "all": first,
    }
    print(f"store: {cov['days']:,} days, {first} .. {last}; {args.requests} requests per endpoint")
    urls = {
        "history": [f"/api/history?since={s}&until={last}" for s in windows.values()],
        "history full (max_points=0, all)": [f"/api/history?since={first}&until={last}&max_points=0"],
        "changes": [f"/api/changes?since={s}&until={last}" for s in windows.values()],
    }
    for name, group in urls.items():
        cold = []
        for url in group:
            t0 = time.perf_counter()
            r = client.get(url)
            cold.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text
        times = []
        size = 0
        for i in range(args.requests):
            url = group[i % len(group)]
            t0 = time.perf_counter()
            r = client.get(url)
            times.append(time.perf_counter() - t0)
            size = max(size, len(r.content))
        ms = [1000 * t for t in times]
        print(
            f"{name:34s} first requests (uncached) {', '.join(f'{1000 * c:.0f}' for c in cold)} ms; "
            f"cached p50 {_pct(ms, 50):.1f} ms, p95 {_pct(ms, 95):.1f} ms, max {max(ms):.1f} ms; "
            f"largest body {size / 1e6:.2f} MB"
        )


if __name__ == "__main__":
    main()
