"""The shared context every section builder reads: the snapshot, the fleet, stored history, and the results
computed once and shared (production cost, tornado, stress runs, next-adjustment estimate).

:func:`load_context` is the only function here that does I/O (it reads the store); everything else is
computed lazily from what the context holds, so a section that is not built costs nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from hashrisk.analytics.adjustment import AdjustmentInfo, next_adjustment
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.data.store import Store
from hashrisk.data.stored_snapshot import latest_snapshot, snapshot_for_date, stored_epoch
from hashrisk.economics.cost import CostCurve, ProductionCost, cost_curve, production_cost
from hashrisk.economics.fleet import Fleet, FleetSpec, build_fleet
from hashrisk.economics.tornado import Tornado, tornado
from hashrisk.errors import InputError
from hashrisk.sim.engine import Backend, simulate
from hashrisk.sim.result import SimResult
from hashrisk.sim.scenario import Scenario
from hashrisk.sim.stress import CANNED_SHOCKS, run_stress, with_treasury_buying

if TYPE_CHECKING:
    from hashrisk.analytics.tracking import Event, History

HISTORY_YEARS = 2
"""Default window of the History section: this many years before the as-of day."""
CHANGES_DAYS = 30
"""Default look-back of "What changed" when there is no earlier run to compare with [days]."""
HISTORY_MAX_POINTS = 1_000
"""Most points per series drawn in the History charts (display only; every figure uses every day)."""

STRESS_SHOCKS: tuple[float, ...] = CANNED_SHOCKS
"""The report's price shocks (those of ``hashrisk stress``)."""
STRESS_PATHS = 2_000
"""Monte-Carlo paths per shock (``hashrisk stress``'s default, so the report reproduces its numbers)."""
STRESS_HORIZON_DAYS = 90
STRESS_SHOCK_DAYS = 30
MAX_REPORT_PATHS = 100_000


@dataclass(frozen=True)
class StressRun:
    """One shock of the stress section: the simulation and ``hashrisk stress``'s summary of it."""

    shock: float
    result: SimResult
    summary: dict[str, Any]


@dataclass(frozen=True)
class ReportContext:
    """Inputs of the report and the results shared between sections (computed on first use).

    Attributes
    ----------
    snapshot : NetworkSnapshot
        The network state reported on.
    fleet_spec : FleetSpec
        Fleet assumptions (the packaged default unless the user gives a file).
    fleet_origin : str
        Where the fleet spec comes from (for provenance).
    power_price_usd_per_kwh : float
        Uniform power price of the electricity-only and all-in views [USD/kWh].
    daily : pandas.DataFrame or None
        Stored daily history up to the snapshot's date (``Store.daily_frame``), None when nothing is stored.
    retargets : pandas.DataFrame or None
        Stored retargets (``Store.retargets_frame``), None when none.
    epoch_blocks : pandas.DataFrame or None
        Stored blocks of the difficulty period in progress at the snapshot's height, None when none.
    store_path : str or None
        The store file read, when it exists.
    stress_paths, stress_horizon_days, stress_shock_days, seed : int
        Simulation settings of the stress section.
    backend : {"numba", "numpy"}
        Simulation kernel.
    generated_at : datetime
        When the report was built (UTC).
    history_since : date, "all" or None
        First day of the History section: a date, ``"all"`` (everything stored) or None (the default,
        :data:`HISTORY_YEARS` years before the as-of day).
    changes_since : date or None
        First day of "What changed" (None: :data:`CHANGES_DAYS` days before the as-of day).
    changes_basis : str
        Why "What changed" starts where it does (shown in the report).
    """

    snapshot: NetworkSnapshot
    fleet_spec: FleetSpec = field(default_factory=FleetSpec.default)
    fleet_origin: str = "packaged default fleet (hashrisk/economics/data/fleet_default.toml)"
    power_price_usd_per_kwh: float = 0.05
    daily: pd.DataFrame | None = None
    retargets: pd.DataFrame | None = None
    epoch_blocks: pd.DataFrame | None = None
    store_path: str | None = None
    stress_paths: int = STRESS_PATHS
    stress_horizon_days: int = STRESS_HORIZON_DAYS
    stress_shock_days: int = STRESS_SHOCK_DAYS
    seed: int = 2026
    backend: Backend = "numpy"
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    history_since: dt.date | str | None = None
    changes_since: dt.date | None = None
    changes_basis: str = ""
    evaluation_file: str | None = None
    onchain: dict[str, Any] | None = None

    @cached_property
    def fleet(self) -> Fleet:
        """Cohorts of the fleet spec at the snapshot's hashrate."""
        return build_fleet(self.fleet_spec, self.snapshot.hashrate_ths)

    @cached_property
    def cost(self) -> ProductionCost:
        """``production_cost(snapshot, fleet, power_price)``: the numbers of ``hashrisk cost``."""
        return production_cost(self.snapshot, self.fleet, self.power_price_usd_per_kwh)

    @cached_property
    def curve(self) -> CostCurve:
        """The cost curve alone (``cost_curve`` of the fleet; needs no profitable catalog basket)."""
        snap = self.snapshot
        return cost_curve(self.fleet, snap.difficulty, snap.subsidy_btc, snap.fees_btc_per_block)

    @cached_property
    def tornado(self) -> Tornado:
        """One-at-a-time sensitivity of the headline figures (default assumption ranges)."""
        return tornado(self.snapshot, self.fleet_spec, self.power_price_usd_per_kwh)

    @cached_property
    def adjustment(self) -> AdjustmentInfo:
        """Next difficulty adjustment: from stored blocks when present, else from the snapshot."""
        return next_adjustment(self.snapshot, self.epoch_blocks, self.retargets)

    @cached_property
    def base_scenario(self) -> Scenario:
        """The stress runs' base scenario: the default scenario with the report's paths, horizon, seed
        and fleet."""
        params: dict[str, Any] = {
            "name": "report stress",
            "paths": self.stress_paths,
            "horizon_days": self.stress_horizon_days,
            "seed": self.seed,
        }
        if self.fleet_spec != FleetSpec.default():
            params["fleet.spec"] = self.fleet_spec.model_dump()
        return Scenario().with_params(params)

    @cached_property
    def treasury_buying_usd_per_day(self) -> float:
        """Corporate treasuries' BTC buying as ``hashrisk flows btc`` measures it: the packaged purchases per
        day x the snapshot's price [USD/day]."""
        from hashrisk.flows.btc import BtcFlowInputs, btc_flows

        flows = btc_flows(BtcFlowInputs.packaged(), self.snapshot, self.cost)
        return float(flows.components_btc_per_day["treasury_purchases"] * self.snapshot.price_usd)

    @cached_property
    def stress_scenario(self) -> Scenario:
        """:attr:`base_scenario` with the listed owners of the snapshot's day and, when it leaves it at 0, the
        measured treasury buying in ``net_flows`` (as ``hashrisk stress`` does by default)."""
        from hashrisk.flows.owners import with_listed_owners

        base = with_listed_owners(self.base_scenario, self.snapshot.date)
        return with_treasury_buying(base, self.treasury_buying_usd_per_day)

    @cached_property
    def stress(self) -> tuple[StressRun, ...]:
        """The −10/−20/−30% shocks of ``hashrisk stress`` (same scenario construction and summary)."""
        base = self.stress_scenario
        basis = (
            "measured by `hashrisk flows btc` (packaged treasury purchases per day x the snapshot's price)"
        )
        runs = []
        for shock in STRESS_SHOCKS:
            res, summary = run_stress(
                base,
                shock,
                self.stress_shock_days,
                None,
                lambda sc: simulate(sc, self.snapshot, backend=self.backend),
                net_flows_basis=basis,
            )
            runs.append(StressRun(shock, res, summary))
        return tuple(runs)

    @property
    def has_history(self) -> bool:
        """Whether daily history is stored up to the snapshot's date."""
        return self.daily is not None and len(self.daily) > 0

    @property
    def as_of(self) -> dt.date | None:
        """The newest stored day up to the snapshot's date (None when nothing is stored)."""
        if self.daily is None or not len(self.daily):
            return None
        return pd.Timestamp(self.daily.index.max()).date()

    @property
    def history_start(self) -> dt.date | None:
        """First day of the History window (None: from the first stored day)."""
        as_of = self.as_of
        if as_of is None or self.history_since == "all":
            return None
        if isinstance(self.history_since, dt.date):
            return self.history_since
        return (pd.Timestamp(as_of) - pd.DateOffset(years=HISTORY_YEARS)).date()

    @property
    def changes_start(self) -> dt.date | None:
        """First day of "What changed" (None when nothing is stored)."""
        as_of = self.as_of
        if as_of is None:
            return None
        return self.changes_since or as_of - dt.timedelta(days=CHANGES_DAYS)

    def _tracking(self, start: dt.date | None) -> History:
        from hashrisk.analytics.tracking import HistorySettings, tracking_history

        assert self.daily is not None
        settings = HistorySettings(power_price_usd_per_kwh=self.power_price_usd_per_kwh)
        return tracking_history(self.daily, self.retargets, start=start, end=self.as_of, settings=settings)

    @cached_property
    def history(self) -> History | None:
        """The tracked history over the History window (``tracking_history``), None when nothing is stored."""
        if not self.has_history:
            return None
        return self._tracking(self.history_start)

    @cached_property
    def events(self) -> list[Event] | None:
        """ "What changed": the events of ``changes`` from :attr:`changes_start` to the as-of day."""
        since = self.changes_start
        if since is None or self.history is None:
            return None
        if self.as_of is None or since > self.as_of:  # nothing stored after what the reader last saw
            return []
        from hashrisk.analytics.tracking import changes

        start = self.history_start
        # look a little further back than `since` so the rules see the days before it
        pad = since - dt.timedelta(days=CHANGES_DAYS)
        hist = self.history if start is None or start <= pad else self._tracking(pad)
        nxt = self.adjustment if self.snapshot.date == self.as_of else None
        return changes(hist, since, self.as_of, next_adjustment=nxt)


ONCHAIN_WINDOW_DAYS = 30
"""Days of blocks the on-chain section covers, ending at the newest scanned block (a labelled choice)."""


def load_onchain(store: Any, days: int = ONCHAIN_WINDOW_DAYS + 31) -> dict[str, Any] | None:
    """The stored coinbase flows of the last `days` days before the newest scanned block, or None.

    For ``build_context``: `store` is the open (read-only) `hashrisk.data.store.Store`. None when no block was
    scanned with ``--coinbase`` or the store predates the coinbase tables. The extra month beyond the window
    lets the 30-day spent-within shares of the window's first days be known.
    """
    import duckdb

    from hashrisk.data.coinbase import read_onchain

    try:
        row = store.con.execute("SELECT max(time) FROM block_pools").fetchone()
    except duckdb.Error:  # a store from before the coinbase tables
        return None
    if row is None or row[0] is None:
        return None
    since = (pd.Timestamp(row[0]) - pd.Timedelta(days=days)).date()
    return read_onchain(store, since)


def load_context(
    date: str | dt.date | None = None,
    home: str | Path | None = None,
    *,
    fleet_spec: FleetSpec | None = None,
    fleet_origin: str | None = None,
    power_price_usd_per_kwh: float = 0.05,
    stress_paths: int = STRESS_PATHS,
    seed: int = 2026,
    backend: Backend = "numpy",
    history_since: dt.date | str | None = None,
    changes_since: dt.date | None = None,
    changes_basis: str = "",
) -> ReportContext:
    """Build the report context: the snapshot (stored day `date`, else the embedded one) and stored history.

    Parameters
    ----------
    date : date or ISO string, optional
        Report on this stored day (:func:`~hashrisk.data.stored_snapshot.snapshot_for_date`).
        None: the newest complete stored day, else the embedded snapshot
        (:func:`~hashrisk.data.stored_snapshot.latest_snapshot`).
    home : path, optional
        Data folder (default ``$HASHRISK_HOME`` or the user data dir).
    fleet_spec : FleetSpec, optional
        Fleet assumptions (default: the packaged fleet).
    fleet_origin : str, optional
        Where `fleet_spec` comes from (provenance).
    power_price_usd_per_kwh : float
        Uniform power price [USD/kWh].
    stress_paths : int
        Monte-Carlo paths per stress shock.
    seed : int
        Random seed of the stress runs.
    backend : {"numpy", "numba"}
        Simulation kernel. numpy (the default) needs no compilation; for the report's 3 x 2,000 paths x 90
        days it takes about 3 s and gives the same numbers as numba (the kernels agree to ~1e-15).

    Raises
    ------
    DataError
        If `date` is given and nothing usable is stored for it (the message says what is stored).
    InputError
        For a malformed date or out-of-range settings.
    """
    if isinstance(history_since, str) and history_since != "all":
        raise InputError("--since", history_since, 'a date (YYYY-MM-DD) or "all"')
    if not 1 <= stress_paths <= MAX_REPORT_PATHS:
        raise InputError("paths", stress_paths, f"an integer in [1, {MAX_REPORT_PATHS:,}]")
    snapshot = latest_snapshot(home)[0] if date is None else snapshot_for_date(date, home=home)
    daily = retargets = blocks = None
    store_path = None
    with Store(home, read_only=True) as store:
        if store.path.exists():
            store_path = str(store.path)
        onchain = load_onchain(store)
        frame = store.daily_frame(end=snapshot.date)
        daily = frame if len(frame) else None
        blocks, retargets = stored_epoch(store, snapshot)
    return ReportContext(
        snapshot=snapshot,
        fleet_spec=fleet_spec or FleetSpec.default(),
        fleet_origin=fleet_origin or ReportContext.fleet_origin,
        power_price_usd_per_kwh=power_price_usd_per_kwh,
        daily=daily,
        retargets=retargets,
        epoch_blocks=blocks,
        store_path=store_path,
        onchain=onchain,
        stress_paths=stress_paths,
        seed=seed,
        backend=backend,
        history_since=history_since,
        changes_since=changes_since,
        changes_basis=changes_basis,
    )
