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

import pandas as pd
from fastapi import Request

from hashrisk._json import jsonable
from hashrisk.analytics.adjustment import AdjustmentInfo, next_adjustment
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.data.store import Store, store_path
from hashrisk.data.stored_snapshot import latest_snapshot, snapshot_for_date, stored_epoch
from hashrisk.economics.cost import CostCurve, ProductionCost, cost_curve, production_cost
from hashrisk.economics.fleet import FleetSpec, build_fleet, dated_fleet_spec
from hashrisk.errors import DataError, HashriskError, InputError

MAX_PATH_DAYS = 200_000
"""Largest ``paths x horizon_days`` of one simulation (about a second with the numpy kernel)."""
SIM_TIMEOUT_S = 20.0
"""Time limit of one simulation [s]."""
MAX_CONCURRENT_SIMS = 2
HISTORY_YEARS = 2
"""Default window of ``/api/history``: this many years before the last day."""
CHANGES_DAYS = 30
"""Default look-back of ``/api/changes`` [days]."""
FIRST_DAY = dt.date(2009, 1, 3)
LAST_DAY = dt.date(2100, 12, 31)
StoreState = tuple[int, int, int, int]
"""(mtime_ns, size) of the store file and of its write-ahead log: a new state after every write."""


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
        # the canned stress shocks (POST /api/stress) run one at a time on their own thread, so the dashboard's
        # stress panel never takes the slider's simulation slots
        self.stress_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hashrisk-stress")
        self.stress_slots = threading.BoundedSemaphore(1)
        self.stored_snapshot = lru_cache(maxsize=32)(self._stored_snapshot)
        self._cost_cached = lru_cache(maxsize=64)(self._cost_for)
        self._curve_cached = lru_cache(maxsize=32)(self._curve_for)
        self._latest = lru_cache(maxsize=1)(self._latest_for)
        self._adjustment = lru_cache(maxsize=32)(self._adjustment_for)
        self.pensions_summary = lru_cache(maxsize=1)(self._pensions_summary)
        self._frames = lru_cache(maxsize=1)(self._frames_for)
        self._history_json = lru_cache(maxsize=64)(self._history_json_for)
        self._changes_json = lru_cache(maxsize=64)(self._changes_json_for)

    def _stored_snapshot(self, day: dt.date) -> NetworkSnapshot:
        return snapshot_for_date(day, home=self.home)

    def _latest_for(self, state: StoreState | None) -> NetworkSnapshot:
        return latest_snapshot(self.home)[0]

    def adjustment_for(self, date: dt.date | None) -> AdjustmentInfo:
        """The next adjustment of the day's snapshot, from the stored blocks of its period when there are any."""
        return self._adjustment(date, self._default_key(date))

    def _adjustment_for(self, date: dt.date | None, state: StoreState | None) -> AdjustmentInfo:
        snap = self.snapshot_for(date)
        if self.store_state() is None:
            return next_adjustment(snap)
        with Store(self.home, read_only=True) as store:
            blocks, retargets = stored_epoch(store, snap)
        return next_adjustment(snap, blocks, retargets)

    def latest_snapshot(self) -> NetworkSnapshot:
        """The newest complete stored day, else the embedded snapshot (cached per store state)."""
        return self._latest(self.store_state())

    def _default_key(self, date: dt.date | None) -> StoreState | None:
        """What the default day depends on: the store's state when no `date` is given."""
        return self.store_state() if date is None else None

    def snapshot_for(self, date: dt.date | None, price_usd: float | None = None) -> NetworkSnapshot:
        """The latest stored snapshot (else the embedded one), or the stored one of `date`; at `price_usd`."""
        snap = self.latest_snapshot() if date is None else self.stored_snapshot(date)
        return snap if price_usd is None else snap.override(source="request", price_usd=price_usd)

    def cost_for(self, date: dt.date | None, price_usd: float | None, power_price: float) -> ProductionCost:
        """`production_cost` of the day's snapshot and fleet (cached; the default day per store state)."""
        return self._cost_cached(date, price_usd, power_price, self._default_key(date))

    def curve_for(self, date: dt.date | None) -> CostCurve:
        """The cost curve of the day (cached; the default day per store state)."""
        return self._curve_cached(date, self._default_key(date))

    def fleet_for(self, date: dt.date | None) -> FleetSpec:
        """The default fleet, or the vintage fleet of a stored `date` (the machines of its time)."""
        return dated_fleet_spec(date, self.fleet_spec)

    def _cost_for(
        self, date: dt.date | None, price_usd: float | None, power_price: float, _key: StoreState | None
    ) -> ProductionCost:
        snap = self.snapshot_for(date, price_usd)
        return production_cost(snap, build_fleet(self.fleet_for(date), snap.hashrate_ths), power_price)

    def _curve_for(self, date: dt.date | None, _key: StoreState | None) -> CostCurve:
        snap = self.snapshot_for(date)
        fleet = build_fleet(self.fleet_for(date), snap.hashrate_ths)
        return cost_curve(fleet, snap.difficulty, snap.subsidy_btc, snap.fees_btc_per_block)

    # ------------------------------------------------------------------ history (cached per store state)
    def store_state(self) -> StoreState | None:
        """The store file's state (None when there is no store): every cached history is keyed by it."""
        path = store_path(self.home)
        try:
            st = path.stat()
        except OSError:
            return None
        try:
            wal = Path(str(path) + ".wal").stat()
            w = (wal.st_mtime_ns, wal.st_size)
        except OSError:
            w = (0, 0)
        return (st.st_mtime_ns, st.st_size, *w)

    def _frames_for(self, state: StoreState | None) -> tuple[pd.DataFrame, pd.DataFrame]:
        if state is None:
            return pd.DataFrame(), pd.DataFrame()
        with Store(self.home, read_only=True) as store:
            return store.daily_frame(), store.retargets_frame()

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The stored daily frame and retargets (empty frames when nothing is stored)."""
        return self._frames(self.store_state())

    def coverage(self) -> dict[str, Any]:
        """First and last stored day and the number of days."""
        daily, _ = self.frames()
        if not len(daily):
            return {"stored": False, "first_day": None, "last_day": None, "days": 0}
        idx = pd.DatetimeIndex(daily.index)
        return {
            "stored": True,
            "first_day": idx.min().date(),
            "last_day": idx.max().date(),
            "days": len(daily),
        }

    def window(
        self, since: dt.date | None, until: dt.date | None, default_days: int | None
    ) -> tuple[dt.date, dt.date]:
        """Resolve a window: `until` defaults to the newest stored day (and is capped there), `since` to
        :data:`HISTORY_YEARS` years (or `default_days` days) before it.

        Raises
        ------
        DataError
            Nothing stored.
        InputError
            A day out of range, or `since` after `until`.
        """
        for name, day in (("since", since), ("until", until)):
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                raise InputError(name, day.isoformat(), f"a day from {FIRST_DAY} to {LAST_DAY}")
        cov = self.coverage()
        if not cov["stored"]:
            raise DataError(
                "no daily history is stored: import it with `hashrisk data import FILE` or `hashrisk update`"
            )
        end = min(until, cov["last_day"]) if until is not None else cov["last_day"]
        if since is None:
            if default_days is None:
                start = (pd.Timestamp(end) - pd.DateOffset(years=HISTORY_YEARS)).date()
            else:
                start = end - dt.timedelta(days=default_days)
        else:
            start = since
        if start > end:
            raise InputError(
                "since", start.isoformat(), f"a day on or before {end} (until, or the last stored day)"
            )
        return max(start, cov["first_day"]), end

    def history_json(self, since: dt.date, until: dt.date, max_points: int) -> bytes:
        """``/api/history``'s body (cached per store state and window)."""
        return self._history_json(self.store_state(), since, until, max_points)

    def changes_json(self, since: dt.date, until: dt.date) -> bytes:
        """``/api/changes``'s body (cached per store state and window)."""
        return self._changes_json(self.store_state(), since, until)

    def _tracking(self, state: StoreState | None, since: dt.date, until: dt.date) -> Any:
        from hashrisk.analytics.tracking import tracking_history

        daily, retargets = self._frames(state)
        return tracking_history(daily.loc[: pd.Timestamp(until, tz="UTC")], retargets, start=since, end=until)

    def _history_json_for(
        self, state: StoreState | None, since: dt.date, until: dt.date, max_points: int
    ) -> bytes:
        from hashrisk.web.models import HistoryOut

        hist = self._tracking(state, since, until)
        full = hist.frame
        shown = full if max_points == 0 else hist.thinned(max_points)
        series = {
            name: _floats(shown[name])
            for name in HistoryOut.model_fields["series"].annotation.model_fields  # type: ignore[union-attr]
        }
        rt = hist.retargets
        caps = hist.capitulations
        body = {
            "as_of": hist.as_of,
            "since": since,
            "until": until,
            "days": len(full),
            "points": len(shown),
            "thinned": len(shown) < len(full),
            "dates": [t.date() for t in pd.DatetimeIndex(shown.index)],
            "series": series,
            "capitulation": [bool(v) for v in shown["capitulation"].to_numpy()],
            "retargets": [
                {
                    "height": int(h),
                    "day": pd.Timestamp(d).date(),
                    "difficulty": float(df),
                    "change": _float(c),
                    "estimated_change": _float(e),
                }
                for h, d, df, c, e in zip(
                    rt["height"],
                    rt["day"],
                    rt["difficulty"],
                    rt["change"],
                    rt["estimated_change"],
                    strict=True,
                )
            ],
            "capitulations": [
                {
                    "start": pd.Timestamp(a).date(),
                    "end": None if pd.isna(b) else pd.Timestamp(b).date(),
                    "days": int(n),
                    "ongoing": bool(o),
                }
                for a, b, n, o in zip(caps["start"], caps["end"], caps["days"], caps["ongoing"], strict=True)
            ],
            "latest": hist.summary()["latest"],
            "sources": {str(k): str(v) for k, v in hist.sources.items()},
        }
        return HistoryOut.model_validate(body).model_dump_json().encode()

    def _changes_json_for(self, state: StoreState | None, since: dt.date, until: dt.date) -> bytes:
        from hashrisk.analytics.adjustment import next_adjustment
        from hashrisk.analytics.tracking import changes
        from hashrisk.web.models import ChangesOut

        hist = self._tracking(state, since - dt.timedelta(days=CHANGES_DAYS), until)
        try:
            nxt = (
                next_adjustment(self.stored_snapshot(until)) if until == self.coverage()["last_day"] else None
            )
        except HashriskError:
            nxt = None
        events = changes(hist, since, until, next_adjustment=nxt)
        body = {
            "since": since,
            "until": until,
            "as_of": hist.as_of,
            "count": len(events),
            "events": [jsonable(e.to_dict()) for e in events],
        }
        return ChangesOut.model_validate(body).model_dump_json().encode()

    def _pensions_summary(self) -> dict[str, Any]:
        from hashrisk.flows.pensions import PensionInputs, pension_flows

        out: dict[str, Any] = jsonable(pension_flows(PensionInputs.packaged()).summary())
        return out


def _float(v: Any) -> float | None:
    x = float(v) if v is not None and not pd.isna(v) else None
    return x if x is None or x == x else None


def _floats(col: pd.Series) -> list[float | None]:
    return [None if v != v else v for v in col.to_numpy(dtype=float).tolist()]


def services(request: Request) -> WebServices:
    """The application's :class:`WebServices` (a FastAPI dependency)."""
    svc: WebServices = request.app.state.services
    return svc
