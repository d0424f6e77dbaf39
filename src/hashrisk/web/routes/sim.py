"""``POST /api/simulate`` (one price shock) and ``POST /api/stress`` (the -10/-20/-30% shocks with who is forced
to sell) through the simulator, with size caps and a time limit.

Both start from the day's snapshot with the listed owners of that day (:func:`with_listed_owners`) and the
treasury buying that ``hashrisk flows btc`` measures netted in the feedback, as ``hashrisk stress`` does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from hashrisk._json import jsonable
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.errors import InputError
from hashrisk.sim.arrays import SERIES
from hashrisk.sim.engine import simulate
from hashrisk.sim.scenario import Scenario
from hashrisk.sim.stress import CANNED_SHOCKS, run_stress, with_treasury_buying
from hashrisk.web.errors import error_response
from hashrisk.web.models import ErrorOut, Fan, SimulateIn, SimulateOut, StressIn, StressOut
from hashrisk.web.params import ERRORS
from hashrisk.web.services import MAX_CONCURRENT_SIMS, WebServices, services

router = APIRouter()
T = TypeVar("T")
TREASURY_BASIS = "measured by `hashrisk flows btc` (packaged treasury purchases per day x the start price)"
STRESS_SHOCK_DAYS = 30
SIM_RESPONSES: dict[int | str, dict[str, object]] = {
    **ERRORS,
    413: {"model": ErrorOut, "description": "Request body too large."},
    503: {"model": ErrorOut, "description": "Too many simulations running; retry."},
    504: {"model": ErrorOut, "description": "The simulation ran past its time limit."},
}


def stress_base(
    svc: WebServices,
    snap: NetworkSnapshot,
    date: dt.date | None,
    price_usd: float | None,
    params: dict[str, object],
) -> Scenario:
    """The default scenario with `params`, the listed owners of the snapshot's day and the measured treasury
    buying (``hashrisk flows btc``: packaged purchases per day x the snapshot's price) in ``net_flows``."""
    from hashrisk.flows.btc import BtcFlowInputs, btc_flows
    from hashrisk.flows.owners import with_listed_owners

    flows = btc_flows(BtcFlowInputs.packaged(), snap, svc.cost_for(date, price_usd, 0.05))
    base = with_listed_owners(Scenario().with_params(params), snap.date)
    return with_treasury_buying(base, flows.components_btc_per_day["treasury_purchases"] * snap.price_usd)


def _check_size(svc: WebServices, paths: int, horizon_days: int, runs: int) -> None:
    if runs * paths * horizon_days > svc.max_path_days:
        raise InputError(
            "paths",
            paths,
            f"{runs} x paths x horizon_days <= {svc.max_path_days:,} (got {runs} x {paths:,} x {horizon_days})",
        )


async def _limited(svc: WebServices, fn: Callable[[], T], stress: bool = False) -> T | JSONResponse:
    """`fn` in the simulation pool (`stress`: the stress pool, one at a time): 503 when every slot is taken,
    504 past the time limit."""
    slots, executor = (svc.stress_slots, svc.stress_executor) if stress else (svc.slots, svc.executor)
    if not slots.acquire(blocking=False):
        running = "a stress run is" if stress else f"{MAX_CONCURRENT_SIMS} simulations are"
        return error_response(503, "busy", f"{running} running; retry shortly")
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(executor, fn)
    future.add_done_callback(lambda _: slots.release())
    try:
        return await asyncio.wait_for(asyncio.shield(future), timeout=svc.sim_timeout_s)
    except TimeoutError:
        return error_response(
            504, "timeout", f"the simulation ran past the {svc.sim_timeout_s:g} s limit; use fewer paths"
        )


def run_simulation(svc: WebServices, req: SimulateIn) -> SimulateOut:
    """The shock of `req` from its snapshot, on the numpy kernel (runs in a worker thread)."""
    snap = svc.snapshot_for(req.date, req.price_usd)
    params: dict[str, object] = {
        "paths": req.paths,
        "horizon_days": req.horizon_days,
        "seed": req.seed,
        "name": "api",
    }
    base = stress_base(svc, snap, req.date, req.price_usd, params)
    shock = req.shock_pct / 100.0
    days = min(req.shock_days, req.horizon_days)
    t0 = time.perf_counter()
    res, summary = run_stress(
        base,
        shock,
        days,
        req.vol,
        lambda sc: simulate(sc, snap, backend="numpy"),
        net_flows_basis=TREASURY_BASIS,
    )
    fans = {
        name: Fan(
            **{q: res.fans[name][:, j].tolist() for j, q in enumerate(("p05", "p25", "p50", "p75", "p95"))}
        )
        for name in SERIES
    }
    return SimulateOut(
        paths=req.paths,
        horizon_days=req.horizon_days,
        backend="numpy",
        elapsed_s=time.perf_counter() - t0,
        dates=res.dates,
        fans=fans,
        summary=jsonable(summary),
    )


@router.post("/api/simulate", response_model=SimulateOut, responses=SIM_RESPONSES, tags=["simulation"])
async def post_simulate(req: SimulateIn, svc: WebServices = Depends(services)) -> SimulateOut | JSONResponse:
    """One price shock through the Monte-Carlo simulator (``hashrisk stress`` for one shock).

    Size caps: paths <= 2,000, horizon <= 365 days and paths x horizon_days <= the server's cap
    (200,000 by default); time limit 20 s by default.
    """
    _check_size(svc, req.paths, req.horizon_days, 1)
    return await _limited(svc, lambda: run_simulation(svc, req))


def run_stress_shocks(
    svc: WebServices, date: dt.date | None, paths: int, horizon_days: int, seed: int
) -> StressOut:
    """The -10/-20/-30% shocks of ``hashrisk stress`` from the day's snapshot (numpy kernel, worker thread)."""
    snap = svc.snapshot_for(date)
    params: dict[str, object] = {
        "paths": paths,
        "horizon_days": horizon_days,
        "seed": seed,
        "name": "api stress",
    }
    base = stress_base(svc, snap, date, None, params)
    t0 = time.perf_counter()
    days = min(STRESS_SHOCK_DAYS, horizon_days)
    shocks = [
        run_stress(
            base,
            x,
            days,
            None,
            lambda sc: simulate(sc, snap, backend="numpy"),
            net_flows_basis=TREASURY_BASIS,
        )[1]
        for x in CANNED_SHOCKS
    ]
    elapsed = time.perf_counter() - t0
    out = {**params, "date": snap.date, "price_usd": snap.price_usd, "shock_days": days, "backend": "numpy"}
    return StressOut.model_validate({**out, "elapsed_s": elapsed, "shocks": [jsonable(s) for s in shocks]})


@router.post("/api/stress", response_model=StressOut, responses=SIM_RESPONSES, tags=["simulation"])
async def post_stress(req: StressIn, svc: WebServices = Depends(services)) -> StressOut | JSONResponse:
    """The -10/-20/-30% shocks (``hashrisk stress``): per owner, BTC sold split into production sold and
    treasury drawn down, capital raised and its cost, runway; the BTC the AI/HPC capex forces out; the
    amplification with and without the feedback.

    Size cap: 3 x paths x horizon_days <= the server's cap (200,000 by default); time limit 20 s by default.
    """
    _check_size(svc, req.paths, req.horizon_days, len(CANNED_SHOCKS))
    return await _limited(
        svc, lambda: run_stress_shocks(svc, req.date, req.paths, req.horizon_days, req.seed)
    )
