"""Speed of the engine against the same simplified model in radCAD (prints figures; not a timed test).

    python benchmarks/bench_radcad.py [--radcad-defaults]

radCAD runs in its own virtual environment (``/tmp/radcad-venv``, created with ``python3 -m venv`` and
``pip install radcad typing_extensions`` when missing; override with ``RADCAD_VENV``), on
``benchmarks/radcad_model.py``: 100 paths x 365 days x 32 cohorts, single process, radCAD's fastest
settings (no deep copy of the state, substeps dropped). ``--radcad-defaults`` also times radCAD with its
default deep copy (about a minute). The engine runs the same model (default fleet cut into 32 cohorts, no
new deployments, a -20% shock over 30 days) at the same size and at full size (100,000 paths x 730 days),
after a warm-up so that the numba compile is not timed. The comparison is in cohort-path-days per second.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

from hashrisk.sim import Scenario, simulate

HERE = Path(__file__).resolve().parent
VENV = Path(os.environ.get("RADCAD_VENV", "/tmp/radcad-venv"))


def ensure_venv() -> Path:
    """The venv's python, creating the venv (and installing radCAD) if it is missing."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run(["python3", "-m", "venv", str(VENV)], check=True)
    check = subprocess.run([str(python), "-c", "import radcad, typing_extensions"], capture_output=True)
    if check.returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "-q", "radcad", "typing_extensions"], check=True)
    return python


def radcad(python: Path, paths: int, days: int, cohorts: int, deepcopy: bool) -> dict[str, float]:
    """Time the radCAD model in its venv."""
    out = subprocess.run(
        [
            str(python),
            str(HERE / "radcad_model.py"),
            str(paths),
            str(days),
            str(cohorts),
            "1",
            str(int(deepcopy)),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def engine(paths: int, days: int, cohorts: int) -> dict[str, float]:
    """Time the engine on the same simplified model."""
    scenario = Scenario(paths=paths, horizon_days=days).with_params(
        {
            "fleet.cohorts": cohorts,
            "fleet.deploy.enabled": False,
            "price.shock": {"total_return": -0.2, "days": 30},
        }
    )
    simulate(scenario.with_params({"paths": min(paths, 1_000)}))  # warm-up: numba cache
    t0 = time.perf_counter()
    res = simulate(scenario)
    elapsed = time.perf_counter() - t0
    n_c = int(res.meta["cohorts"])  # type: ignore[call-overload]
    return {"paths": paths, "days": days, "cohorts": n_c, "elapsed_s": elapsed,
            "cohort_path_days_per_s": paths * days * n_c / elapsed}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--paths", type=int, default=100)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--cohorts", type=int, default=32)
    parser.add_argument("--full-paths", type=int, default=100_000)
    parser.add_argument("--full-days", type=int, default=730)
    parser.add_argument("--radcad-defaults", action="store_true", help="also time radCAD with deepcopy on")
    args = parser.parse_args()
    python = ensure_venv()
    rows = [
        ("radCAD (single process, no deepcopy)", radcad(python, args.paths, args.days, args.cohorts, False))
    ]
    if args.radcad_defaults:
        rows.append(
            (
                "radCAD (single process, default deepcopy)",
                radcad(python, args.paths, args.days, args.cohorts, True),
            )
        )
    small = engine(args.paths, args.days, args.cohorts)
    full = engine(args.full_paths, args.full_days, args.cohorts)
    rows += [("hashrisk engine, same size", small), ("hashrisk engine, full size", full)]
    print(f"machine: {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")
    print(
        f"{'run':45s} {'paths':>9s} {'days':>5s} {'cohorts':>7s} {'seconds':>9s} {'cohort-path-days/s':>19s}"
    )
    for name, r in rows:
        print(f"{name:45s} {r['paths']:>9,.0f} {r['days']:>5.0f} {r['cohorts']:>7.0f} {r['elapsed_s']:>9.2f} "
              f"{r['cohort_path_days_per_s']:>19.3g}")  # fmt: skip
    for name, r in rows[: len(rows) - 2]:
        base = r["cohort_path_days_per_s"]
        print(f"speed ratio vs {name}: same size {small['cohort_path_days_per_s'] / base:,.0f}x, "
              f"full size {full['cohort_path_days_per_s'] / base:,.0f}x (goal >= 1,000x)")  # fmt: skip


if __name__ == "__main__":
    main()
