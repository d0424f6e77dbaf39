"""Throughput and peak memory of the simulation engine (prints figures; not a timed test).

    python benchmarks/bench_sim.py                  # both measurements, default sizes
    python benchmarks/bench_sim.py --skip-memory    # throughput only

Throughput: cohort-path-days per second of :func:`hashrisk.sim.simulate`, end to end (drawing the random
numbers, the compiled kernel, the streaming summaries), on the default scenario with 31 fleet cohorts plus
the new-deployments cohort (32 in the kernel); goal >= 1e8 on a 2-core machine (100,000 paths x 730 days x
32 cohorts in <= 30 s). The numba compile is excluded (a small warm-up run first; compiled code is cached).

Peak memory: the maximum resident set size of a fresh process running 1,000,000 paths x 365 days
(``resource.getrusage``; it includes the interpreter, numpy, numba and pandas); goal < 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from hashrisk.sim import Scenario, simulate


def _scenario(paths: int, days: int, cohorts: int) -> Scenario:
    return Scenario(paths=paths, horizon_days=days).with_params({"fleet.cohorts": cohorts - 1})


def throughput(paths: int, days: int, cohorts: int) -> dict[str, float]:
    """Run once (after a warm-up) and return the timing."""
    simulate(_scenario(1_000, days, cohorts))  # compile / load the numba cache
    t0 = time.perf_counter()
    res = simulate(_scenario(paths, days, cohorts))
    elapsed = time.perf_counter() - t0
    n_c = int(res.meta["cohorts"])
    return {
        "paths": paths,
        "days": days,
        "cohorts": n_c,
        "elapsed_s": elapsed,
        "cohort_path_days_per_s": paths * days * n_c / elapsed,
        "path_days_per_s": paths * days / elapsed,
        "chunk_paths": float(res.meta["chunk_paths"]),  # type: ignore[arg-type]
    }


def _memory_child(paths: int, days: int) -> None:
    t0 = time.perf_counter()
    res = simulate(Scenario(paths=paths, horizon_days=days))
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(json.dumps({"paths": paths, "days": days, "cohorts": res.meta["cohorts"], "elapsed_s": elapsed,
                      "peak_rss_bytes": peak, "chunk_paths": res.meta["chunk_paths"]}))  # fmt: skip


def peak_memory(paths: int, days: int) -> dict[str, float]:
    """Peak RSS of a fresh process simulating `paths` x `days`."""
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(paths), str(days)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--paths", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--cohorts", type=int, default=32)
    parser.add_argument("--memory-paths", type=int, default=1_000_000)
    parser.add_argument("--memory-days", type=int, default=365)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        _memory_child(*args.memory_child)
        return
    print(f"machine: {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} at start")
    t = throughput(args.paths, args.days, args.cohorts)
    print(
        f"throughput: {t['paths']:,} paths x {t['days']} days x {t['cohorts']} cohorts in {t['elapsed_s']:.1f} s "
        f"= {t['cohort_path_days_per_s']:.3g} cohort-path-days/s ({t['path_days_per_s']:.3g} path-days/s; "
        f"goal >= 1e8, <= 30 s)"
    )
    if not args.skip_memory:
        m = peak_memory(args.memory_paths, args.memory_days)
        print(
            f"peak memory: {m['paths']:,} paths x {m['days']} days x {m['cohorts']} cohorts: peak RSS "
            f"{m['peak_rss_bytes'] / 2**30:.2f} GiB in {m['elapsed_s']:.0f} s (chunks of {m['chunk_paths']:,} paths; "
            f"goal < 1 GB)"
        )


if __name__ == "__main__":
    main()
