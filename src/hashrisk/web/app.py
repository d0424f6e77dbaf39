"""The FastAPI application: JSON API over the library, and the live dashboard.

Routes (OpenAPI spec at ``/openapi.json``)::

    GET  /api/snapshot           the network snapshot (embedded, or ?date= from the store)
    GET  /api/cost               production cost per BTC (hashrisk cost)
    GET  /api/cost-curve         the cost curve and the share of hashrate underwater at ?price_usd=
    GET  /api/breakeven          one machine (hashrisk breakeven)
    GET  /api/next-adjustment    the next difficulty adjustment
    POST /api/simulate           one price shock through the simulator (capped size, time limit)
    GET  /api/flows              institutional flows: pension rebalancing, treasury buying vs miners' selling
    GET  /                       the dashboard; /static/... its files and plotly.js (from the plotly package)

Safety: the CLI binds to 127.0.0.1 by default; request bodies are capped (:data:`MAX_BODY_BYTES`); the
simulation size is capped (paths, horizon, paths x days) and it runs in a worker thread with a time limit
and at most :data:`MAX_CONCURRENT_SIMS` at once; no request names a file; every error is JSON
(:class:`~hashrisk.web.models.ErrorOut`) naming the field, the value and what is allowed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from hashrisk import __version__
from hashrisk._json import jsonable
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.economics.catalog import find_model
from hashrisk.economics.cost import CostCurve, ProductionCost, cost_curve, production_cost
from hashrisk.economics.fleet import FleetSpec, build_fleet
from hashrisk.economics.machine import (
    breakeven_power_price_usd_per_kwh,
    breakeven_price_usd,
    daily_profit_usd,
)
from hashrisk.economics.revenue import hashprice_usd_per_ph_day
from hashrisk.errors import DataError, HashriskError, InputError, UnknownNameError
from hashrisk.report.adjustment import next_adjustment
from hashrisk.sim.arrays import SERIES
from hashrisk.sim.engine import simulate
from hashrisk.sim.scenario import Scenario
from hashrisk.web.models import (
    MAX_PRICE_USD,
    AdjustmentOut,
    BreakevenOut,
    CostCurveOut,
    CostOut,
    CurvePoint,
    ErrorOut,
    Fan,
    FlowsOut,
    SimulateIn,
    SimulateOut,
    SnapshotOut,
)

MAX_BODY_BYTES = 16 * 1024
"""Largest request body accepted [bytes]."""
MAX_PATH_DAYS = 200_000
"""Largest ``paths x horizon_days`` of one simulation (about a second with the numpy kernel)."""
SIM_TIMEOUT_S = 20.0
"""Time limit of one simulation [s]."""
MAX_CONCURRENT_SIMS = 2
STATIC = "hashrisk.web"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "A request body that is not valid JSON."},
    404: {
        "model": ErrorOut,
        "description": "Nothing stored for the date, a name not in the catalog (with the closest names), "
        "or an unknown route.",
    },
    422: {"model": ErrorOut, "description": "Invalid input: the field, the value and what is allowed."},
}


def _safe_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def _error(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    body = ErrorOut(error=error, message=message, **extra).model_dump(exclude_none=True)
    return JSONResponse(status_code=status, content=body)


class BodySizeLimit:
    """ASGI middleware: refuse request bodies above `max_bytes` with a 413 JSON error."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _reject(self, send: Send) -> None:
        resp = _error(
            413,
            "too large",
            f"request body larger than {self.max_bytes:,} bytes",
            field="body",
            allowed=f"at most {self.max_bytes:,} bytes",
        )
        await send({"type": "http.response.start", "status": 413, "headers": resp.raw_headers})
        await send({"type": "http.response.body", "body": resp.body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.max_bytes + 1
                if declared > self.max_bytes:
                    await self._reject(send)
                    return
        received = 0
        started = False
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if too_large:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, limited_receive, tracked_send)
        if too_large and not started:
            await self._reject(send)


def _static_text(name: str) -> str:
    return resources.files(STATIC).joinpath(f"static/{name}").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _plotly_js() -> bytes:
    return resources.files("plotly").joinpath("package_data/plotly.min.js").read_bytes()


def create_app(
    home: str | Path | None = None,
    *,
    sim_timeout_s: float = SIM_TIMEOUT_S,
    max_path_days: int = MAX_PATH_DAYS,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """The API + dashboard application.

    Parameters
    ----------
    home : path, optional
        Data folder for ``?date=`` lookups (default ``$HASHRISK_HOME`` or the user data dir). Read only.
    sim_timeout_s : float
        Time limit of one simulation [s]; past it the request gets a 504 (the worker finishes in the
        background, bounded by the size caps).
    max_path_days : int
        Cap on ``paths x horizon_days`` of one simulation.
    max_body_bytes : int
        Cap on the request body [bytes].
    """
    app = FastAPI(
        title="hashrisk API",
        version=__version__,
        description="Bitcoin mining economics: production cost, cost curve, breakevens, next difficulty "
        "adjustment, price-shock simulation. Every error is JSON naming the field, the value and what is "
        "allowed.",
        docs_url=None,  # Swagger UI and ReDoc load their assets from a CDN: the spec is at /openapi.json
        redoc_url=None,
    )
    executor = ThreadPoolExecutor(max_workers=MAX_CONCURRENT_SIMS, thread_name_prefix="hashrisk-sim")
    slots = threading.BoundedSemaphore(MAX_CONCURRENT_SIMS)
    fleet_spec = FleetSpec.default()

    # ------------------------------------------------------------------ errors as JSON
    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        unknown = isinstance(exc, UnknownNameError)  # a well-formed name that is not in the catalog
        return _error(
            404 if unknown else 422,
            "not found" if unknown else "invalid input",
            str(exc),
            field=exc.field,
            value=_safe_value(exc.value),
            allowed=exc.allowed,
            hint=exc.hint,
        )

    @app.exception_handler(DataError)
    async def _data_error(request: Request, exc: DataError) -> JSONResponse:
        return _error(404, "not found", str(exc))

    @app.exception_handler(HashriskError)
    async def _other_error(request: Request, exc: HashriskError) -> JSONResponse:
        return _error(400, "bad request", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        first = errs[0] if errs else {"loc": (), "msg": "invalid request"}
        loc = [str(p) for p in first.get("loc", ())]
        field = ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else "request")
        where = loc[0] if loc else "request"
        return _error(
            422,
            "invalid input",
            f"{field} ({where}): {first.get('msg', 'invalid')}",
            field=field,
            value=_safe_value(first.get("input")),
            allowed=str(first.get("msg", "")),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI's "There was an error parsing the body"
            return _error(400, "invalid input", f"body: {exc.detail}", field="body", allowed="a JSON object")
        resp = _error(
            exc.status_code, "not found" if exc.status_code == 404 else "http error", str(exc.detail)
        )
        resp.headers.update(exc.headers or {})  # e.g. Allow on a 405 (RFC 9110)
        return resp

    # ------------------------------------------------------------------ shared helpers
    @lru_cache(maxsize=32)
    def stored_snapshot(day: dt.date) -> NetworkSnapshot:
        return NetworkSnapshot.from_store(day, home=home)

    def snapshot_for(date: dt.date | None, price_usd: float | None = None) -> NetworkSnapshot:
        snap = NetworkSnapshot.embedded() if date is None else stored_snapshot(date)
        return snap if price_usd is None else snap.override(source="request", price_usd=price_usd)

    @lru_cache(maxsize=64)
    def cost_for(date: dt.date | None, price_usd: float | None, power_price: float) -> ProductionCost:
        snap = snapshot_for(date, price_usd)
        return production_cost(snap, build_fleet(fleet_spec, snap.hashrate_ths), power_price)

    @lru_cache(maxsize=32)
    def curve_for(date: dt.date | None) -> CostCurve:
        snap = snapshot_for(date)
        fleet = build_fleet(fleet_spec, snap.hashrate_ths)
        return cost_curve(fleet, snap.difficulty, snap.subsidy_btc, snap.fees_btc_per_block)

    def finite(x: float) -> float | None:
        return x if math.isfinite(x) else None

    price_q = Query(
        None,
        gt=0,
        le=MAX_PRICE_USD,
        allow_inf_nan=False,
        description="BTC price [USD] (default: snapshot's).",
    )
    date_q = Query(None, description="Use the stored snapshot of this day (default: the embedded one).")

    # ------------------------------------------------------------------ API
    @app.get("/api/snapshot", response_model=SnapshotOut, responses=ERRORS, tags=["data"])
    def get_snapshot(date: dt.date | None = date_q) -> SnapshotOut:
        """The network snapshot, with the source of every field."""
        return SnapshotOut.model_validate(snapshot_for(date).to_dict())

    @app.get("/api/cost", response_model=CostOut, responses=ERRORS, tags=["economics"])
    def get_cost(
        price_usd: float | None = price_q,
        power_price_usd_per_kwh: float = Query(
            0.05, ge=0, le=5, allow_inf_nan=False, description="Uniform power price [USD/kWh]."
        ),
        date: dt.date | None = date_q,
    ) -> CostOut:
        """Production cost per BTC: electricity-only (fleet, CBECI-style bounds), all-in, cost curve."""
        c = cost_for(date, price_usd, power_price_usd_per_kwh)
        s = c.summary()
        curve = s["cost_curve"]
        return CostOut(
            date=c.date,
            price_usd=c.price_usd,
            power_price_usd_per_kwh=c.power_price_usd_per_kwh,
            hashprice_usd_per_ph_day=c.hashprice_usd_per_ph_day,
            electricity_basket_usd_per_btc={
                k: s["electricity_only_usd_per_btc"][k] for k in ("lower", "best_guess", "upper")
            },
            electricity_fleet_usd_per_btc=c.electricity_fleet_usd_per_btc,
            electricity_usd_per_btc_per_cent_per_kwh=c.electricity_per_cent_usd_per_btc,
            all_in_usd_per_btc=dict(c.all_in),
            breakeven_p10_usd=curve["breakeven_p10_usd"],
            breakeven_p50_usd=curve["breakeven_p50_usd"],
            breakeven_p90_usd=curve["breakeven_p90_usd"],
            marginal_cost_usd=finite(curve["marginal_cost_usd"]),
            share_unprofitable=s["share_unprofitable"],
            share_within_10pct_of_breakeven=s["share_within_10pct_of_breakeven"],
            fleet_label=c.fleet.label,
        )

    @app.get("/api/cost-curve", response_model=CostCurveOut, responses=ERRORS, tags=["economics"])
    def get_cost_curve(price_usd: float | None = price_q, date: dt.date | None = date_q) -> CostCurveOut:
        """The cost curve (cohorts by breakeven) and the share of hashrate underwater at the price."""
        snap = snapshot_for(date, price_usd)
        price = snap.price_usd
        curve = curve_for(date)
        frame = curve.to_frame()
        summ = curve.summary(price)
        return CostCurveOut(
            date=snap.date,
            price_usd=price,
            hashprice_usd_per_ph_day=float(
                hashprice_usd_per_ph_day(snap.difficulty, snap.subsidy_btc, snap.fees_btc_per_block, price)
            ),
            share_unprofitable=summ["share_unprofitable"],
            share_within_10pct=summ["share_within_10pct"],
            marginal_cost_usd=finite(summ["marginal_cost_usd"]),
            breakeven_p50_usd=summ["breakeven_p50_usd"],
            mean_breakeven_usd=summ["mean_breakeven_usd"],
            points=[
                CurvePoint(breakeven_price_usd=b, hashrate_ths=h, cum_share=s)
                for b, h, s in zip(
                    frame["breakeven_price_usd"], frame["hashrate_ths"], frame["cum_share"], strict=True
                )
            ],
        )

    @app.get("/api/breakeven", response_model=BreakevenOut, responses=ERRORS, tags=["economics"])
    def get_breakeven(
        model: str = Query(
            ..., min_length=1, max_length=100, description='ASIC catalog model, e.g. "Antminer S19j Pro".'
        ),
        power_price_usd_per_kwh: float = Query(0.06, ge=0, le=5, allow_inf_nan=False),
        pue: float = Query(1.0, ge=1, le=3, allow_inf_nan=False, description="Facility overhead (PUE)."),
        price_usd: float | None = price_q,
        date: dt.date | None = date_q,
    ) -> BreakevenOut:
        """One machine: revenue, daily profit, breakeven power price and breakeven BTC price."""
        snap = snapshot_for(date, price_usd)
        row = find_model(model)
        d, s, f = snap.difficulty, snap.subsidy_btc, snap.fees_btc_per_block
        hp = float(hashprice_usd_per_ph_day(d, s, f, snap.price_usd))
        eff = float(row["efficiency_j_per_th"])
        return BreakevenOut(
            model=str(row["model"]),
            maker=str(row["maker"]),
            hashrate_ths=float(row["hashrate_ths"]),
            power_w=float(row["power_w"]),
            efficiency_j_per_th=eff,
            source=str(row["source"]),
            date=snap.date,
            price_usd=snap.price_usd,
            power_price_usd_per_kwh=power_price_usd_per_kwh,
            pue=pue,
            hashprice_usd_per_ph_day=hp,
            daily_revenue_usd=float(row["hashrate_ths"]) * hp / 1000.0,
            daily_profit_usd=float(
                daily_profit_usd(row["hashrate_ths"], row["power_w"], hp, power_price_usd_per_kwh, pue)
            ),
            breakeven_power_price_usd_per_kwh=float(breakeven_power_price_usd_per_kwh(eff, hp, pue)),
            breakeven_price_usd=float(breakeven_price_usd(eff, power_price_usd_per_kwh, d, s, f, pue)),
        )

    @app.get("/api/next-adjustment", response_model=AdjustmentOut, responses=ERRORS, tags=["chain"])
    def get_next_adjustment(date: dt.date | None = date_q) -> AdjustmentOut:
        """The next difficulty adjustment: the estimate, what is known and what is assumed."""
        return AdjustmentOut.model_validate(next_adjustment(snapshot_for(date)).summary())

    def run_simulation(req: SimulateIn) -> SimulateOut:
        from hashrisk.sim.stress import stress_scenario, stress_summary

        snap = snapshot_for(req.date, req.price_usd)
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
                **{
                    q: res.fans[name][:, j].tolist()
                    for j, q in enumerate(("p05", "p25", "p50", "p75", "p95"))
                }
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

    @app.post(
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
    async def post_simulate(req: SimulateIn) -> SimulateOut | JSONResponse:
        """One price shock through the Monte-Carlo simulator (``hashrisk stress`` for one shock).

        Size caps: paths <= 2,000, horizon <= 365 days and paths x horizon_days <= the server's cap
        (200,000 by default); time limit 20 s by default.
        """
        if req.paths * req.horizon_days > max_path_days:
            raise InputError(
                "paths",
                req.paths,
                f"paths x horizon_days <= {max_path_days:,} (got {req.paths:,} x {req.horizon_days})",
            )
        if not slots.acquire(blocking=False):
            return _error(503, "busy", f"{MAX_CONCURRENT_SIMS} simulations are running; retry shortly")
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(executor, run_simulation, req)
        future.add_done_callback(lambda _: slots.release())
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout=sim_timeout_s)
        except TimeoutError:
            return _error(
                504, "timeout", f"the simulation ran past the {sim_timeout_s:g} s limit; use fewer paths"
            )

    @lru_cache(maxsize=1)
    def pensions_summary() -> dict[str, Any]:
        from hashrisk.flows.pensions import PensionInputs, pension_flows

        out: dict[str, Any] = jsonable(pension_flows(PensionInputs.packaged()).summary())
        return out

    @app.get("/api/flows", response_model=FlowsOut, responses=ERRORS, tags=["flows"])
    def get_flows(price_usd: float | None = price_q, date: dt.date | None = date_q) -> FlowsOut:
        """Institutional flows: US DB pension rebalancing (JPMorgan's framework, packaged June-2026 inputs)
        and treasury buying against miners' selling at the snapshot (``hashrisk flows pensions|btc``)."""
        from hashrisk.flows.btc import BtcFlowInputs, btc_flows

        snap = snapshot_for(date, price_usd)
        flows = btc_flows(BtcFlowInputs.packaged(), snap, cost_for(date, price_usd, 0.05))
        return FlowsOut(pensions=pensions_summary(), btc=jsonable(flows.summary()))

    # ------------------------------------------------------------------ dashboard
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def dashboard() -> HTMLResponse:
        return HTMLResponse(_static_text("index.html"))

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        return Response(
            _plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"}
        )

    @app.get("/static/dashboard.js", include_in_schema=False)
    def dashboard_js() -> Response:
        return Response(_static_text("dashboard.js"), media_type="text/javascript")

    @app.get("/static/dashboard.css", include_in_schema=False)
    def dashboard_css() -> Response:
        return Response(_static_text("dashboard.css"), media_type="text/css")

    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    return app
