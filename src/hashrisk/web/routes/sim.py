"""``POST /api/simulate``: one price shock through the simulator, with size caps and a time limit."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from hashrisk._json import jsonable
from hashrisk.errors import InputError
from hashrisk.sim.arrays import SERIES
from hashrisk.sim.engine import simulate
from hashrisk.sim.scenario import Scenario
from hashrisk.sim.stress import stress_scenario, stress_summary
from hashrisk.web.errors import error_response
from hashrisk.web.models import ErrorOut, Fan, SimulateIn, SimulateOut
from hashrisk.web.params import ERRORS
from hashrisk.web.services import MAX_CONCURRENT_SIMS, WebServices, services

router = APIRouter()


def run_simulation(svc: WebServices, req: SimulateIn) -> SimulateOut:
    """The shock of `req` from its snapshot, on the numpy kernel (runs in a worker thread)."""
    snap = svc.snapshot_for(req.date, req.price_usd)
    base = Scenario().with_params(
        {"paths": req.paths, "horizon_days": req.horizon_days, "seed": req.seed, "name": "api"}
    )
    shock = req.shock_pct / 100.0
    days = min(req.shock_days, req.horizon_days)
    scenario = stress_scenario(base, shock, days, req.vol)
    t0 = time.perf_counter()
    res = simulate(scenario, snap, backend="numpy")
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
        summary=jsonable(stress_summary(res, shock, days)),
    )


@router.post(
    "/api/simulate",
    response_model=SimulateOut,
    responses={
        **ERRORS,
        413: {"model": ErrorOut, "description": "Request body too large."},
        503: {"model": ErrorOut, "description": "Too many simulations running; retry."},
        504: {"model": ErrorOut, "description": "The simulation ran past its time limit."},
    },
    tags=["simulation"],
)
async def post_simulate(req: SimulateIn, svc: WebServices = Depends(services)) -> SimulateOut | JSONResponse:
    """One price shock through the Monte-Carlo simulator (``hashrisk stress`` for one shock).

    Size caps: paths <= 2,000, horizon <= 365 days and paths x horizon_days <= the server's cap
    (200,000 by default); time limit 20 s by default.
    """
    if req.paths * req.horizon_days > svc.max_path_days:
        raise InputError(
            "paths",
            req.paths,
            f"paths x horizon_days <= {svc.max_path_days:,} (got {req.paths:,} x {req.horizon_days})",
        )
    if not svc.slots.acquire(blocking=False):
        return error_response(503, "busy", f"{MAX_CONCURRENT_SIMS} simulations are running; retry shortly")
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(svc.executor, run_simulation, svc, req)
    future.add_done_callback(lambda _: svc.slots.release())
    try:
        return await asyncio.wait_for(asyncio.shield(future), timeout=svc.sim_timeout_s)
    except TimeoutError:
        return error_response(
            504, "timeout", f"the simulation ran past the {svc.sim_timeout_s:g} s limit; use fewer paths"
        )
