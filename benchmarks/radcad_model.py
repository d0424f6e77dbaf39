"""The simulation engine's daily step as a radCAD model, for the speed comparison in bench_radcad.py.

Runs inside its own virtual environment (radCAD and its dependencies only), so it does not import
hashrisk: the consensus retarget and the subsidy are re-stated here with Python integers, exactly as
Bitcoin Core (and hashrisk.chain) computes them. The model is the engine's step without new deployments:
GBM price with a shock, cohorts switching off below ``1 - band`` x cash cost and back on after ``lag`` days
above ``1 + band``, retirement after ``retire_after`` days underwater, Poisson blocks at the day's rate,
exact halvings and retargets (block times evenly spaced within the day), treasuries selling a share of
production and covering cash shortfalls, and the square-root impact of miners' sales on the next price.

Usage (inside the radCAD venv)::

    python radcad_model.py PATHS DAYS COHORTS [PROCESSES [DEEPCOPY]]

prints one JSON line with the timing. PROCESSES 1 runs radCAD's single-process backend, more its default
pathos backend; DEEPCOPY 1 keeps radCAD's default deep copy of the state at every substep (0, the default
here, is radCAD's fastest setting and safe for this model, which never mutates state in place).
"""

from __future__ import annotations

import json
import math
import sys
import time

import numpy as np
from radcad import Experiment, Model, Simulation
from radcad.engine import Backend, Engine

TIMESPAN = 2016 * 600
POW_LIMIT = (1 << 224) - 1


def bits_to_target(bits: int) -> int:
    size, word = bits >> 24, bits & 0x007FFFFF
    return word >> 8 * (3 - size) if size <= 3 else word << 8 * (size - 3)


def target_to_bits(target: int) -> int:
    size = (target.bit_length() + 7) // 8
    compact = target << 8 * (3 - size) if size <= 3 else target >> 8 * (size - 3)
    if compact & 0x00800000:
        compact >>= 8
        size += 1
    return compact | size << 24


def next_bits(bits: int, first: int, last: int) -> int:
    span = min(max(last - first, TIMESPAN // 4), TIMESPAN * 4)
    return target_to_bits(min(bits_to_target(bits) * span // TIMESPAN, POW_LIMIT))


def difficulty(bits: int) -> float:
    return 0xFFFF * 2.0**208 / bits_to_target(bits)


def subsidy_sats(height: int) -> int:
    halvings = height // 210_000
    return 0 if halvings >= 64 else (50 * 100_000_000) >> halvings


_RNG: dict[int, np.random.Generator] = {}


def p_day(params, substep, history, s):
    """One day of the model (a radCAD policy returning the new state as its signal)."""
    run = s["run"]
    rng = _RNG.setdefault(run, np.random.default_rng(params["seed"] + run))
    t = s["timestep"] - 1
    price, diff, tip, bits = s["price"], s["difficulty"], s["tip"], s["bits"]
    fee = params["fees"] * math.exp(
        params["fee_sigma"] * rng.standard_normal() - 0.5 * params["fee_sigma"] ** 2
    )
    rev = 86_400e12 / (diff * 2**32) * (subsidy_sats(tip + 1) / 1e8 + fee) * price
    cost, cap = params["cost"], s["cap"].copy()
    online, streak, under, retired = (
        s["online"].copy(),
        s["streak"].copy(),
        s["under"].copy(),
        s["retired"].copy(),
    )
    ratio = rev / cost
    live = ~retired
    under = np.where(live, np.where(ratio < 1, under + 1, 0), under)
    retire = live & (under >= params["retire_after"])
    retired |= retire
    online &= ~retire
    cap[retire] = 0.0
    live &= ~retire
    off = live & online & (ratio < 1 - params["band"])
    waiting = live & ~online
    streak = np.where(waiting, np.where(ratio >= 1 + params["band"], streak + 1, 0), streak)
    on = waiting & (streak >= params["lag"])
    online = (online & ~off) | on
    streak = np.where(off | on, 0, streak)
    hashrate = float(cap[online].sum())
    n = int(rng.poisson(hashrate * 1e12 * 86_400 / (diff * 2**32))) if hashrate > 0 else 0
    sub = sum(subsidy_sats(h) for h in (tip + 1, tip + n)) * n // 2 if n else 0  # <= 1 halving per day
    t_first, b = s["t_first"], (tip // 2016 + 1) * 2016
    while b - 1 <= tip + n:
        if b - 1 >= tip + 1:
            bits = next_bits(bits, t_first, t * 86_400 + (b - 1 - tip) * 86_400 // n)
        if b <= tip + n:
            t_first = t * 86_400 + (b - tip) * 86_400 // n
        b += 2016
    reward = sub / 1e8 + n * fee
    prod = np.where(online, reward * cap / max(hashrate, 1e-300), 0.0)
    routine = params["share_sold"] * prod
    btc = s["btc"] + prod - routine
    cash = s["cash"] + routine * price - params["debt"] - np.where(online, cap * cost, 0.0)
    cover = np.where(cash < 0, np.minimum(-cash / price, btc), 0.0)
    btc, cash = btc - cover, cash + cover * price
    sold = float((routine + cover).sum())
    shock = params["shock_daily"] if t < params["shock_days"] else 0.0
    r = (-0.5 * params["vol"] ** 2) / 365 + params["vol"] / math.sqrt(365) * rng.standard_normal() + shock
    net = max(sold - params["baseline"], 0.0)
    impact = params["k"] * params["sigma"] * math.sqrt(net * price / params["volume"])
    return {
        "price": price * math.exp(r - impact), "price_exo": s["price_exo"] * math.exp(r), "bits": bits,
        "difficulty": difficulty(bits), "tip": tip + n, "t_first": t_first, "cap": cap, "online": online,
        "streak": streak, "under": under, "retired": retired, "btc": btc, "cash": cash, "sold": sold,
        "hashrate": hashrate,
    }  # fmt: skip


def _copy(name: str):
    def update(params, substep, history, s, signal):
        return name, signal[name]

    return update


STATE_VARIABLES = (
    "price", "price_exo", "bits", "difficulty", "tip", "t_first", "cap", "online", "streak", "under",
    "retired", "btc", "cash", "sold", "hashrate",
)  # fmt: skip


def build(paths: int, days: int, cohorts: int) -> Simulation:
    """The radCAD simulation: `paths` runs of `days` timesteps over `cohorts` cost cohorts."""
    cost = np.linspace(10.0, 70.0, cohorts) / 1000.0  # USD per TH/s per day, like the default fleet's
    price, hashrate, bits = 71_329.0, 0.98e9, 0x1702068F
    rev0 = 86_400e12 / (difficulty(bits) * 2**32) * (3.125 + 0.023) * price
    online = rev0 / cost >= 0.95
    cap = np.full(cohorts, hashrate / online.sum())
    initial = {
        "price": price, "price_exo": price, "bits": bits, "difficulty": difficulty(bits), "tip": 951_552,
        "t_first": 0, "cap": cap, "online": online, "streak": np.zeros(cohorts, int),
        "under": np.zeros(cohorts, int), "retired": np.zeros(cohorts, bool),
        "btc": np.full(cohorts, 100_000.0 / cohorts), "cash": np.full(cohorts, 20e6), "sold": 0.0,
        "hashrate": hashrate,
    }  # fmt: skip
    params = {
        "seed": [7], "cost": [cost], "debt": [np.full(cohorts, 1e6 / cohorts)], "band": [0.05], "lag": [3],
        "retire_after": [90], "share_sold": [0.8], "k": [1.0], "sigma": [0.5 / math.sqrt(365)],
        "volume": [15e9], "baseline": [360.0], "vol": [0.5], "shock_daily": [math.log(0.8) / 30],
        "shock_days": [30], "fees": [0.023], "fee_sigma": [0.3],
    }  # fmt: skip
    blocks = [{"policies": {"day": p_day}, "variables": {v: _copy(v) for v in STATE_VARIABLES}}]
    model = Model(initial_state=initial, state_update_blocks=blocks, params=params)
    return Simulation(model=model, timesteps=days, runs=paths)


def main() -> None:
    paths, days, cohorts = (int(x) for x in sys.argv[1:4])
    processes = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    deepcopy = bool(int(sys.argv[5])) if len(sys.argv) > 5 else False
    experiment = Experiment([build(paths, days, cohorts)])
    experiment.engine = Engine(
        backend=Backend.PATHOS if processes > 1 else Backend.SINGLE_PROCESS,
        processes=processes,
        deepcopy=deepcopy,
        drop_substeps=True,
    )
    t0 = time.perf_counter()
    experiment.run()
    elapsed = time.perf_counter() - t0
    rows = experiment.results
    last = [r for r in rows if r["timestep"] == days]
    print(
        json.dumps(
            {
                "paths": paths,
                "days": days,
                "cohorts": cohorts,
                "processes": processes,
                "deepcopy": deepcopy,
                "elapsed_s": elapsed,
                "cohort_path_days_per_s": paths * days * cohorts / elapsed,
                "final_price_median": float(np.median([r["price"] for r in last])),
                "final_hashrate_median": float(np.median([r["hashrate"] for r in last])),
            }
        )
    )


if __name__ == "__main__":
    main()
