"""What the routes share: the data folder, the default fleet, cached snapshots and costs, the simulation pool.

One :class:`WebServices` per application (``app.state.services``); routes get it with
``Depends(services)``. Every figure is computed by the library; this module only caches and looks up.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request

from hashrisk._json import jsonable
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.data.stored_snapshot import snapshot_for_date
from hashrisk.economics.cost import CostCurve, ProductionCost, cost_curve, production_cost
from hashrisk.economics.fleet import FleetSpec, build_fleet, dated_fleet_spec

MAX_PATH_DAYS = 200_000
"""Largest ``paths x horizon_days`` of one simulation (about a second with the numpy kernel)."""
SIM_TIMEOUT_S = 20.0
"""Time limit of one simulation [s]."""
MAX_CONCURRENT_SIMS = 2


class WebServices:
    """Shared state of one application: see :func:`hashrisk.web.app.create_app` for the parameters."""

    def __init__(
        self,
        home: str | Path | None = None,
        *,
        sim_timeout_s: float = SIM_TIMEOUT_S,
        max_path_days: int = MAX_PATH_DAYS,
    ) -> None:
        self.home = home
        self.sim_timeout_s = sim_timeout_s
        self.max_path_days = max_path_days
        self.fleet_spec = FleetSpec.default()
        self.executor = ThreadPoolExecutor(max_workers=MAX_CONCURRENT_SIMS, thread_name_prefix="hashrisk-sim")
        self.slots = threading.BoundedSemaphore(MAX_CONCURRENT_SIMS)
        self.stored_snapshot = lru_cache(maxsize=32)(self._stored_snapshot)
        self.cost_for = lru_cache(maxsize=64)(self._cost_for)
        self.curve_for = lru_cache(maxsize=32)(self._curve_for)
        self.pensions_summary = lru_cache(maxsize=1)(self._pensions_summary)

    def _stored_snapshot(self, day: dt.date) -> NetworkSnapshot:
        return snapshot_for_date(day, home=self.home)

    def snapshot_for(self, date: dt.date | None, price_usd: float | None = None) -> NetworkSnapshot:
        """The embedded snapshot, or the stored one of `date`; at `price_usd` when given."""
        snap = NetworkSnapshot.embedded() if date is None else self.stored_snapshot(date)
        return snap if price_usd is None else snap.override(source="request", price_usd=price_usd)

    def fleet_for(self, date: dt.date | None) -> FleetSpec:
        """The default fleet, or the vintage fleet of a stored `date` (the machines of its time)."""
        return dated_fleet_spec(date, self.fleet_spec)

    def _cost_for(self, date: dt.date | None, price_usd: float | None, power_price: float) -> ProductionCost:
        snap = self.snapshot_for(date, price_usd)
        return production_cost(snap, build_fleet(self.fleet_for(date), snap.hashrate_ths), power_price)

    def _curve_for(self, date: dt.date | None) -> CostCurve:
        snap = self.snapshot_for(date)
        fleet = build_fleet(self.fleet_for(date), snap.hashrate_ths)
        return cost_curve(fleet, snap.difficulty, snap.subsidy_btc, snap.fees_btc_per_block)

    def _pensions_summary(self) -> dict[str, Any]:
        from hashrisk.flows.pensions import PensionInputs, pension_flows

        out: dict[str, Any] = jsonable(pension_flows(PensionInputs.packaged()).summary())
        return out


def services(request: Request) -> WebServices:
    """The application's :class:`WebServices` (a FastAPI dependency)."""
    svc: WebServices = request.app.state.services
    return svc
