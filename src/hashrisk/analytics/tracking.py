"""Tracking: the daily history a desk lives with, and "what changed" between two days.

Pure functions of DataFrames (the store's daily frame and retargets, passed in by the shells); no I/O.

:func:`tracking_history` -> :class:`History`
    One row per UTC day over ``[start, end]`` (a complete calendar; days without data are NaN rows) with
    the market, the network, miners' revenue, the production-cost measures of the machines of that day,
    the share of the dated fleet near or under breakeven, hash ribbons and the Puell multiple. Moving
    averages are computed on the whole frame passed in, then cut to the window, so the first days of a
    window are warmed up.
:func:`changes` -> list of :class:`Event`
    The events between two days, each with the rule (:class:`ChangeRules`) that fired and its numbers.

Cost measures (all at one uniform power price ``p`` = ``HistorySettings.power_price_usd_per_kwh``, a
labelled assumption, JPMorgan's reference $0.05/kWh; ``r_t`` = revenue of 1 TH/s on day t [BTC/day] with
that day's difficulty and mean subsidy and fees per block, ``hashprice_t = 1000 * r_t * price_t``):

``cost_electricity_{lower,best,upper}_usd_per_btc``
    CBECI-style bounds (Cambridge Bitcoin Electricity Consumption Index methodology, as
    :func:`hashrisk.economics.fleet.profitable_basket` computes them for one day), vectorised: each bound
    has its PUE (1.01 / 1.10 / 1.20, :data:`hashrisk.economics.fleet.CBECI_PUE`); the basket of day t is
    every catalog model released by t's month whose breakeven power price at that PUE is at least p.
    ``lower`` = the most efficient released model, ``best`` = the equal-weighted mean efficiency of the
    basket, ``upper`` = the least efficient model of the basket; the cost is
    ``e * pue * p * 0.024 / r_t`` (:func:`hashrisk.economics.machine.breakeven_price_usd`). When no model
    is profitable (the price is below even the best machine's cost), the basket is the most efficient
    model alone, so the three bounds use that machine (``profitable_basket`` raises instead).
``cost_all_in_usd_per_btc``
    The all-in cost of the dated fleet (:func:`hashrisk.economics.fleet.dated_fleet_spec`, i.e.
    :func:`~hashrisk.economics.fleet.vintage_fleet_spec` of the month), as
    :func:`hashrisk.economics.cost.production_cost` states it
    (:func:`hashrisk.economics.cost.all_in_cost_usd_per_btc`): electricity at p and the fleet's
    hashrate-weighted ``e * pue``, other opex, and hardware depreciation. Every part is a cost per
    TH/s per day divided by ``r_t``, so it is computed once per month at a reference state and rescaled:
    ``cost_t = cost_ref * r_ref / r_t``.
``share_underwater``, ``share_within_10pct``
    Share of the dated fleet's hashrate (its cohorts at their own power prices and PUEs: the cash cost
    curve, :func:`hashrisk.economics.cost.cost_curve`) with electricity breakeven above the price, and
    with ``price * (1 - within_pct) < breakeven <= price``
    (:func:`hashrisk.analytics.sensitivity.fleet_margins`).

The dated fleet changes by month; it is built once per month and broadcast over the month's days. Before
the ASIC catalog's first model, every cost and share column is NaN (``sources["catalog"]`` says from when).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hashrisk.analytics.adjustment import AdjustmentInfo
from hashrisk.analytics.history import (
    DAILY_COLUMNS,
    check_daily,
    frame_records,
    parse_day,
    spells,
    to_day,
)
from hashrisk.analytics.indicators import (
    DEFAULT_MIN_RECOVERY_DAYS,
    HASH_RIBBON_SOURCE,
    PUELL_SOURCE,
    hash_ribbons,
    hashprice_history,
    puell_multiple,
)
from hashrisk.analytics.sensitivity import fleet_margins
from hashrisk.chain.estimate import estimate_next_adjustment, prior_interval_from_previous_epoch
from hashrisk.chain.pow import difficulty_to_target, target_to_bits
from hashrisk.constants import RETARGET_INTERVAL_BLOCKS, SECONDS_PER_DAY, TARGET_SPACING_S
from hashrisk.economics.catalog import load_catalog
from hashrisk.economics.cost import all_in_cost_usd_per_btc
from hashrisk.economics.fleet import (
    CBECI_PUE,
    VINTAGE_HALF_LIFE_YEARS,
    VINTAGE_HARDWARE_USD_PER_TH,
    VINTAGE_MAX_AGE_YEARS,
    FleetSpec,
    build_fleet,
    vintage_fleet_spec,
)
from hashrisk.economics.machine import breakeven_power_price_usd_per_kwh, breakeven_price_usd
from hashrisk.economics.revenue import revenue_btc_per_ths_day
from hashrisk.errors import InputError

FloatArray = npt.NDArray[np.float64]

COST_COLUMNS = (
    "cost_electricity_lower_usd_per_btc",
    "cost_electricity_best_usd_per_btc",
    "cost_electricity_upper_usd_per_btc",
    "cost_all_in_usd_per_btc",
)
"""The cost measures the price is compared with (see the module docstring)."""
HISTORY_COLUMNS = (
    "price_usd",
    "hashrate_ths",
    "hashrate_7d_ths",
    "difficulty",
    "hashprice_usd_per_ph_day",
    "revenue_subsidy_usd",
    "revenue_fees_usd",
    *COST_COLUMNS,
    "share_underwater",
    "share_within_10pct",
    "ribbon_fast_ths",
    "ribbon_slow_ths",
    "capitulation",
    "puell_multiple",
    "hashprice_prior_high_1y_usd_per_ph_day",
    "hashprice_prior_low_1y_usd_per_ph_day",
    "hashprice_prior_high_all_usd_per_ph_day",
    "hashprice_prior_low_all_usd_per_ph_day",
)
"""Columns of :attr:`History.frame`, in order. The ``hashprice_prior_*`` columns are the highest/lowest
hashprice over the 365 days before each day / over all days before it (NaN until a full year of hashprice
precedes the day); the record rules of :func:`changes` read them."""
RETARGET_COLUMNS = (
    "height",
    "time",
    "day",
    "difficulty",
    "previous_difficulty",
    "change",
    "estimated_change",
    "estimate_error",
)
"""Columns of :attr:`History.retargets`."""
CAPITULATION_COLUMNS = ("start", "end", "days", "ongoing", "known_end", "buy_date")
"""Columns of :attr:`History.capitulations` (as :func:`hashrisk.analytics.indicators.hash_ribbons`)."""
RECORD_HISTORY_DAYS = 365
"""Days of hashprice needed before a day can set a 1-year or all-time record [days]."""
_MIDPOINT_BLOCKS = RETARGET_INTERVAL_BLOCKS // 2
_REF_DIFFICULTY = 1.0e12
_REF_REWARD_BTC = 1.0


# --------------------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class HistorySettings:
    """Assumptions of the tracking history; every field is a labelled assumption the user may override.

    Attributes
    ----------
    power_price_usd_per_kwh : float
        Uniform power price of the cost measures [USD/kWh] (JPMorgan's reference, $0.05/kWh).
    within_pct : float
        Band of ``share_within_10pct`` (0.10 = within 10% of breakeven).
    hashrate_avg_days : int
        Window of ``hashrate_7d_ths`` [days] (a simple moving average including the day).
    ribbon_short_days, ribbon_long_days : int
        Hash-ribbon SMA lengths [days] (Edwards: 30 and 60).
    min_recovery_days : int
        Shortest recovery that ends a capitulation [days]
        (:data:`hashrisk.analytics.indicators.DEFAULT_MIN_RECOVERY_DAYS`, the ``hashrisk indicators``
        default, so the spans are the same).
    puell_window_days : int
        Moving-average window of the Puell multiple [days].
    vintage_max_age_years, vintage_half_life_years, hardware_usd_per_th : float
        The dated (vintage) fleet's age cut-off [years], half-life [years] and hardware cost
        [USD/(TH/s)] (:func:`hashrisk.economics.fleet.vintage_fleet_spec`).
    fleet_base : FleetSpec or None
        Power prices, overheads and cost settings of the dated fleet (default: the packaged fleet).
    """

    power_price_usd_per_kwh: float = 0.05
    within_pct: float = 0.10
    hashrate_avg_days: int = 7
    ribbon_short_days: int = 30
    ribbon_long_days: int = 60
    min_recovery_days: int = DEFAULT_MIN_RECOVERY_DAYS
    puell_window_days: int = 365
    vintage_max_age_years: float = VINTAGE_MAX_AGE_YEARS
    vintage_half_life_years: float = VINTAGE_HALF_LIFE_YEARS
    hardware_usd_per_th: float = VINTAGE_HARDWARE_USD_PER_TH
    fleet_base: FleetSpec | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (the base fleet by its label)."""
        out = asdict(self)
        out["fleet_base"] = self.fleet_base.label if self.fleet_base is not None else "packaged default fleet"
        return out


# --------------------------------------------------------------------------------------- result
@dataclass(frozen=True)
class History:
    """The tracking history over a window of days.

    Attributes
    ----------
    frame : pandas.DataFrame
        Indexed by UTC day (tz-naive DatetimeIndex named ``date``, every day of ``[start, end]``); the
        columns of :data:`HISTORY_COLUMNS` (units in the names; ``capitulation`` bool, the shares and
        ``puell_multiple`` dimensionless). See the module docstring for the definitions.
    retargets : pandas.DataFrame
        Retargets whose block came in the window: ``height`` (first height at the new difficulty),
        ``time`` (UTC), ``day``, ``difficulty``, ``previous_difficulty``, ``change``
        (``difficulty / previous_difficulty - 1``) and ``estimated_change`` (what
        :func:`hashrisk.chain.estimate.estimate_next_adjustment` gave at the epoch's midpoint; see
        :func:`tracking_history`), ``estimate_error`` (``change - estimated_change``).
    capitulations : pandas.DataFrame
        Hash-ribbon episodes overlapping the window (columns :data:`CAPITULATION_COLUMNS`), the same spans
        as ``hashrisk indicators``: ``end`` is NaT while ongoing.
    as_of : datetime.date
        Newest day of the window with a price or a hashrate.
    sources : dict of str to str
        What each group of columns is and where it comes from.
    settings : HistorySettings
    """

    frame: pd.DataFrame
    retargets: pd.DataFrame
    capitulations: pd.DataFrame
    as_of: dt.date
    sources: dict[str, str]
    settings: HistorySettings = field(default_factory=HistorySettings)

    def to_frame(self) -> pd.DataFrame:
        """The daily frame."""
        return self.frame

    def summary(self) -> dict[str, Any]:
        """Window, latest values (at :attr:`as_of`), first day with costs, retargets and capitulations."""
        f = self.frame
        latest: dict[str, Any] = {}
        if len(f):
            row = f.loc[pd.Timestamp(self.as_of)] if pd.Timestamp(self.as_of) in f.index else f.iloc[-1]
            for col in HISTORY_COLUMNS:
                v = row[col]
                latest[col] = bool(v) if col == "capitulation" else (None if pd.isna(v) else float(v))
        costs = f["cost_all_in_usd_per_btc"].dropna()
        return {
            "start": to_day(f.index[0]) if len(f) else None,
            "end": to_day(f.index[-1]) if len(f) else None,
            "as_of": self.as_of.isoformat(),
            "days": len(f),
            "days_with_price": int(f["price_usd"].notna().sum()),
            "first_cost_day": to_day(costs.index[0]) if len(costs) else None,
            "latest": latest,
            "retargets": len(self.retargets),
            "capitulations": frame_records(self.capitulations),
            "capitulation_now": bool(latest.get("capitulation", False)),
            "settings": self.settings.to_dict(),
            "sources": dict(self.sources),
        }

    def thinned(self, max_points: int) -> pd.DataFrame:
        """At most `max_points` rows, for display only: every k-th day (``k = ceil(days / max_points)``),
        each row the last day of its block of k days, with ``capitulation`` True when any day of the block
        was; the last day is always kept.
        """
        if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 2:
            raise InputError("max_points", max_points, "a whole number >= 2")
        n = len(self.frame)
        if n <= max_points:
            return self.frame.copy()
        k = math.ceil(n / max_points)
        block = np.arange(n) // k
        out = self.frame.groupby(block).tail(1).copy()
        out["capitulation"] = self.frame["capitulation"].groupby(block).any().to_numpy()
        return out


@dataclass(frozen=True)
class ChangeRules:
    """Thresholds of the rules of :func:`changes` (labelled settings, overridable).

    Attributes
    ----------
    share_underwater_levels : tuple of float
        Levels of ``share_underwater`` whose crossing (up or down) is an event.
    next_adjustment_alert : float
        An :class:`~hashrisk.analytics.adjustment.AdjustmentInfo` whose median change is this far from 0
        or farther (0.05 = ±5%) is an event.
    gap_days : int
        Runs of at least this many missing days are an event [days].
    gap_columns : tuple of str
        A day is missing when any of these columns is NaN.
    cross_band : float
        Hysteresis of the price-versus-cost crossings: the price must reach ``cost * (1 + band)`` to
        cross up and fall below ``cost * (1 - band)`` to cross down (0: every crossing of the line).
    share_band : float
        Hysteresis of the share crossings, in share points (0: every crossing).
    record_cooldown_days : int
        A hashprice record (1-year or all-time, high or low) within this many days after the previous
        record of the same rule is not repeated [days].
    """

    share_underwater_levels: tuple[float, ...] = (0.10, 0.20, 0.30, 0.50)
    next_adjustment_alert: float = 0.05
    gap_days: int = 2
    gap_columns: tuple[str, ...] = ("price_usd", "hashrate_ths", "difficulty")
    cross_band: float = 0.0
    share_band: float = 0.0
    record_cooldown_days: int = 7


@dataclass(frozen=True)
class Event:
    """One event of :func:`changes`.

    Attributes
    ----------
    day : datetime.date
        UTC day it happened (a crossing: the first day on the new side).
    kind : str
        ``retarget``, ``capitulation_start``, ``capitulation_end``, ``price_below_cost``,
        ``price_above_cost``, ``share_underwater_up``, ``share_underwater_down``, ``hashprice_high``,
        ``hashprice_low``, ``next_adjustment`` or ``data_gap``.
    rule : str
        The rule that fired, with its threshold (e.g. ``share_underwater_20pct``).
    message : str
        One sentence with the numbers.
    numbers : dict
        The numbers behind it (units in the keys).
    """

    day: dt.date
    kind: str
    rule: str
    message: str
    numbers: dict[str, float | int | str | None]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "day": self.day.isoformat(),
            "kind": self.kind,
            "rule": self.rule,
            "message": self.message,
            "numbers": dict(self.numbers),
        }


# --------------------------------------------------------------------------------------- costs
def _cbeci_bounds(
    month: npt.NDArray[np.int64],
    hashprice_usd_per_ph_day: FloatArray,
    difficulty: FloatArray,
    subsidy_btc: FloatArray,
    fees_btc_per_block: FloatArray,
    power_price_usd_per_kwh: float,
) -> dict[str, FloatArray]:
    """CBECI-style bounds for many days at once: day x model matrices (see the module docstring)."""
    cat = load_catalog()
    eff = cat["efficiency_j_per_th"].to_numpy(np.float64)
    released = np.asarray([p.ordinal for p in cat["release_month"]], dtype=np.int64)
    out: dict[str, FloatArray] = {}
    n = month.size
    known = released[None, :] <= month[:, None]  # day x model: released by the day's month
    any_known = known.any(axis=1)
    best_model = np.where(known, eff[None, :], np.inf).min(axis=1)
    for bound, pue in CBECI_PUE.items():
        hp = np.where(np.isfinite(hashprice_usd_per_ph_day), hashprice_usd_per_ph_day, 0.0)
        ok = known & (
            breakeven_power_price_usd_per_kwh(eff[None, :], hp[:, None], pue) >= power_price_usd_per_kwh
        )
        count = ok.sum(axis=1)
        if bound == "lower":
            pick = best_model
        elif bound == "best_guess":
            pick = np.where(ok, eff[None, :], 0.0).sum(axis=1) / np.maximum(count, 1)
        else:
            pick = np.where(ok, eff[None, :], -np.inf).max(axis=1)
        pick = np.where(count > 0, pick, best_model)
        valid = any_known & np.isfinite(hashprice_usd_per_ph_day)
        cost = np.full(n, np.nan)
        if valid.any():
            cost[valid] = breakeven_price_usd(
                pick[valid],
                power_price_usd_per_kwh,
                difficulty[valid],
                subsidy_btc[valid],
                fees_btc_per_block[valid],
                pue,
            )
        out[bound] = cost
    return out


def _fleet_columns(
    months: pd.PeriodIndex,
    price_usd: FloatArray,
    difficulty: FloatArray,
    subsidy_btc: FloatArray,
    fees_btc_per_block: FloatArray,
    settings: HistorySettings,
) -> dict[str, FloatArray]:
    """All-in cost and the shares of the dated fleet, one fleet per month broadcast over its days."""
    n = len(months)
    all_in = np.full(n, np.nan)
    under = np.full(n, np.nan)
    within = np.full(n, np.nan)
    valid = np.isfinite(price_usd) & np.isfinite(difficulty) & np.isfinite(subsidy_btc + fees_btc_per_block)
    valid &= (subsidy_btc + fees_btc_per_block) > 0
    first = load_catalog()["release_month"].min()
    codes = np.asarray(months.asi8, dtype=np.int64)
    r_ref = float(revenue_btc_per_ths_day(_REF_DIFFICULTY, _REF_REWARD_BTC, 0.0))
    for code in np.unique(codes[valid]):
        month = pd.Period(ordinal=int(code), freq="M")
        if month < first:
            continue
        try:
            spec = vintage_fleet_spec(
                month,
                max_age_years=settings.vintage_max_age_years,
                half_life_years=settings.vintage_half_life_years,
                hardware_usd_per_th=settings.hardware_usd_per_th,
                base=settings.fleet_base,
            )
        except InputError:  # no model young enough in the catalog
            continue
        fleet = build_fleet(spec, 1.0)
        rows = valid & (codes == code)
        d, s, f = difficulty[rows], subsidy_btc[rows], fees_btc_per_block[rows]
        ref = all_in_cost_usd_per_btc(
            fleet, settings.power_price_usd_per_kwh, _REF_DIFFICULTY, _REF_REWARD_BTC, 0.0
        )
        all_in[rows] = float(ref["total"]) * r_ref / revenue_btc_per_ths_day(d, s, f)
        margins = fleet_margins(
            fleet,
            price_usd=price_usd[rows],
            difficulty=d,
            subsidy_btc=s,
            fees_btc_per_block=f,
            within_pct=settings.within_pct,
        )
        under[rows] = margins["share_unprofitable"]
        within[rows] = margins["share_within"]
    return {"cost_all_in_usd_per_btc": all_in, "share_underwater": under, "share_within_10pct": within}


# --------------------------------------------------------------------------------------- retargets
def _retarget_table(retargets: pd.DataFrame | None, d: pd.DataFrame) -> pd.DataFrame:
    """All retargets with their change and the mid-epoch estimate (the window is cut by the caller)."""
    empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in RETARGET_COLUMNS})
    if retargets is None or len(retargets) == 0:
        return empty
    rt = retargets.reset_index() if "height" not in retargets.columns else retargets.copy()
    for col in ("height", "time", "difficulty"):
        if col not in rt.columns:
            raise InputError(
                f"retargets.{col}", "missing", "a retargets frame with height, time and difficulty"
            )
    rt = rt.dropna(subset=["height", "time", "difficulty"])
    rt = rt.assign(height=rt["height"].astype("int64")).sort_values("height").drop_duplicates("height")
    time = pd.to_datetime(rt["time"], utc=True)
    height = rt["height"].to_numpy(np.int64)
    diff = rt["difficulty"].to_numpy(np.float64)
    consecutive = np.r_[False, np.diff(height) == RETARGET_INTERVAL_BLOCKS]
    prev = np.r_[np.nan, diff[:-1]]
    prev = np.where(consecutive, prev, np.nan)
    change = diff / prev - 1.0
    if "adjustment" in rt.columns:  # a retarget without its predecessor: the stored ratio, if any
        adj = pd.to_numeric(rt["adjustment"], errors="coerce").to_numpy(np.float64)
        fill = ~consecutive & np.isfinite(adj)
        change = np.where(fill, adj - 1.0, change)
        prev = np.where(fill, diff / adj, prev)
    secs = pd.DatetimeIndex(time).as_unit("s").asi8.astype(np.int64)
    estimated = _midpoint_estimates(height, secs, prev, change, consecutive, d)
    return pd.DataFrame(
        {
            "height": height,
            "time": time.to_numpy(),
            "day": pd.DatetimeIndex(time).tz_localize(None).normalize(),
            "difficulty": diff,
            "previous_difficulty": prev,
            "change": change,
            "estimated_change": estimated,
            "estimate_error": change - estimated,
        }
    ).reset_index(drop=True)


def _midpoint_estimates(
    height: npt.NDArray[np.int64],
    secs: npt.NDArray[np.int64],
    prev: FloatArray,
    change: FloatArray,
    consecutive: npt.NDArray[np.bool_],
    d: pd.DataFrame,
) -> FloatArray:
    """For the retarget at ``H``: :func:`estimate_next_adjustment` as of the epoch's midpoint block.

    The epoch ``[H - 2016, H)`` starts at the stored time of ``H - 2016``; the midpoint (1,008 blocks
    mined) is dated by the daily block counts, spread evenly over each UTC day (block times within a
    day are not in the daily frame, so this is approximate); the prior pace is the previous epoch's
    (:func:`hashrisk.chain.estimate.prior_interval_from_previous_epoch`) when it is stored, else 600 s.
    """
    out = np.full(height.size, np.nan)
    blocks = d["blocks"].fillna(0.0).to_numpy(np.float64)
    day_start = pd.DatetimeIndex(d.index).as_unit("s").asi8.astype(np.float64)
    if blocks.size == 0:
        return out
    edges = np.r_[day_start, day_start[-1] + SECONDS_PER_DAY]
    cum = np.r_[0.0, np.cumsum(blocks)]  # blocks mined before each day edge
    for i in range(1, height.size):
        if not consecutive[i] or not np.isfinite(prev[i]):
            continue
        t0 = float(secs[i - 1])
        if t0 < edges[0] or float(secs[i]) > edges[-1]:
            continue
        target = float(np.interp(t0, edges, cum)) + (_MIDPOINT_BLOCKS - 1)
        t_mid = float(np.interp(target, cum, edges))
        if not t0 < t_mid < float(secs[i]):
            continue
        prior = float(TARGET_SPACING_S)
        if i >= 2 and consecutive[i - 1] and np.isfinite(change[i - 1]):
            span = (
                float(secs[i - 1] - secs[i - 2]) * (RETARGET_INTERVAL_BLOCKS - 1) / RETARGET_INTERVAL_BLOCKS
            )
            try:
                prior = prior_interval_from_previous_epoch(span, float(change[i - 1]) * 100.0)
            except InputError:
                prior = float(TARGET_SPACING_S)
        bits = target_to_bits(difficulty_to_target(float(prev[i])))
        est = estimate_next_adjustment(
            bits,
            int(t0),
            _MIDPOINT_BLOCKS,
            int(t_mid),
            epoch_start_height=int(height[i - 1]),
            prior_interval_s=prior,
        )
        out[i] = est.change_pct_p50 / 100.0
    return out


# --------------------------------------------------------------------------------------- history
def _day(value: dt.date | str | pd.Timestamp | None, default: pd.Timestamp, name: str) -> pd.Timestamp:
    return default if value is None else parse_day(value, name)


def tracking_history(
    daily: pd.DataFrame,
    retargets: pd.DataFrame | None = None,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    settings: HistorySettings = HistorySettings(),
) -> History:
    """The tracking history of the days ``[start, end]`` (see the module docstring for every column).

    Parameters
    ----------
    daily : pandas.DataFrame
        Daily history indexed by UTC day with the columns of
        :data:`hashrisk.analytics.history.DAILY_COLUMNS` (``Store().daily_frame()``). Moving averages and
        records use all of it, also before `start`.
    retargets : pandas.DataFrame, optional
        Stored retargets (``Store().retargets_frame()``, indexed by height, or a frame with a ``height``
        column) with ``time`` (UTC) and ``difficulty``; ``adjustment`` (new / previous) is used for a
        retarget whose predecessor is missing.
    start, end : datetime.date, optional
        The window (default: the first and last day of `daily`); `end` may lie after the data (those days
        are NaN rows).
    settings : HistorySettings
        Assumptions.

    Returns
    -------
    History

    Raises
    ------
    InputError
        A bad frame (see :func:`~hashrisk.analytics.history.check_daily`), a bad setting, ``end`` before
        ``start``, or a window without any price or hashrate.

    Notes
    -----
    Retarget estimate: for the retarget at height H, :func:`hashrisk.chain.estimate.estimate_next_adjustment`
    (the estimator of ``hashrisk adjustment``) fed with the epoch's first block time (stored), 1,008 blocks
    mined and the time of the 1,008th block dated from the daily block counts, with the previous epoch's
    pace as prior: the median change it gave half-way through the epoch.
    """
    if not 0 < settings.within_pct < 1:
        raise InputError("within_pct", settings.within_pct, "a fraction between 0 and 1 (0.10 = 10%)")
    pp = settings.power_price_usd_per_kwh
    if not (math.isfinite(pp) and pp > 0):
        raise InputError("power_price_usd_per_kwh", pp, "a finite power price > 0 [USD/kWh]")
    if settings.hashrate_avg_days < 1:
        raise InputError("hashrate_avg_days", settings.hashrate_avg_days, "a whole number of days >= 1")
    d = check_daily(daily, DAILY_COLUMNS)
    first = _day(start, d.index[0], "start")
    last = _day(end, d.index[-1], "end")
    if last < first:
        raise InputError("end", to_day(last), f"a day on or after start ({to_day(first)})")
    calendar = pd.date_range(min(first, d.index[0]), max(last, d.index[-1]), freq="D", name="date")
    d = d.reindex(calendar)
    window = (calendar >= first) & (calendar <= last)

    hp = hashprice_history(d)["hashprice_usd_per_ph_day"]
    price = d["price_usd"]
    blocks = d["blocks"].where(d["blocks"] > 0)
    frame = pd.DataFrame(index=calendar)
    frame["price_usd"] = price
    frame["hashrate_ths"] = d["hashrate_ths"]
    w = settings.hashrate_avg_days
    frame["hashrate_7d_ths"] = d["hashrate_ths"].rolling(w, min_periods=w).mean()
    frame["difficulty"] = d["difficulty"]
    frame["hashprice_usd_per_ph_day"] = hp
    frame["revenue_subsidy_usd"] = d["subsidy_btc"] * price
    frame["revenue_fees_usd"] = d["fees_btc"] * price

    # costs and shares only on the window's days
    sub = d[window]
    sub_blocks = blocks[window].to_numpy(np.float64)
    subsidy_pb = sub["subsidy_btc"].to_numpy(np.float64) / sub_blocks
    fees_pb = sub["fees_btc"].to_numpy(np.float64) / sub_blocks
    diff = sub["difficulty"].to_numpy(np.float64)
    months = pd.PeriodIndex(sub.index, freq="M")
    codes = np.asarray(months.asi8, dtype=np.int64)
    bounds = _cbeci_bounds(codes, hp[window].to_numpy(np.float64), diff, subsidy_pb, fees_pb, pp)
    fleet_cols = _fleet_columns(
        months, sub["price_usd"].to_numpy(np.float64), diff, subsidy_pb, fees_pb, settings
    )
    for col, values in (
        ("cost_electricity_lower_usd_per_btc", bounds["lower"]),
        ("cost_electricity_best_usd_per_btc", bounds["best_guess"]),
        ("cost_electricity_upper_usd_per_btc", bounds["upper"]),
        ("cost_all_in_usd_per_btc", fleet_cols["cost_all_in_usd_per_btc"]),
        ("share_underwater", fleet_cols["share_underwater"]),
        ("share_within_10pct", fleet_cols["share_within_10pct"]),
    ):
        frame[col] = np.nan
        frame.loc[window, col] = values

    try:
        rib = hash_ribbons(
            d,
            short_days=settings.ribbon_short_days,
            long_days=settings.ribbon_long_days,
            min_recovery_days=settings.min_recovery_days,
        )
        frame["ribbon_fast_ths"] = rib.frame["hashrate_sma_short_ths"]
        frame["ribbon_slow_ths"] = rib.frame["hashrate_sma_long_ths"]
        frame["capitulation"] = rib.frame["capitulation"].astype(bool)
        episodes = rib.episodes
    except InputError as exc:
        if exc.field != "daily":
            raise
        frame["ribbon_fast_ths"] = np.nan
        frame["ribbon_slow_ths"] = np.nan
        frame["capitulation"] = False
        episodes = pd.DataFrame(columns=list(CAPITULATION_COLUMNS))
    frame["puell_multiple"] = puell_multiple(d, settings.puell_window_days)["puell_multiple"]

    enough = np.arange(len(hp)) - _first_valid_position(hp) >= RECORD_HISTORY_DAYS
    frame["hashprice_prior_high_1y_usd_per_ph_day"] = (
        hp.rolling(RECORD_HISTORY_DAYS, min_periods=1).max().shift(1).where(enough)
    )
    frame["hashprice_prior_low_1y_usd_per_ph_day"] = (
        hp.rolling(RECORD_HISTORY_DAYS, min_periods=1).min().shift(1).where(enough)
    )
    frame["hashprice_prior_high_all_usd_per_ph_day"] = hp.cummax().ffill().shift(1).where(enough)
    frame["hashprice_prior_low_all_usd_per_ph_day"] = hp.cummin().ffill().shift(1).where(enough)

    out = frame.loc[window, list(HISTORY_COLUMNS)]
    out.index.name = "date"
    has_data = out["price_usd"].notna() | out["hashrate_ths"].notna()
    if not has_data.any():
        raise InputError(
            "start", f"{to_day(first)}..{to_day(last)}", "a window with at least one day of price or hashrate"
        )
    as_of = pd.Timestamp(out.index[has_data.to_numpy()][-1]).date()

    rt = _retarget_table(retargets, d)
    if len(rt):
        rt = rt[(rt["day"] >= first) & (rt["day"] <= last)].reset_index(drop=True)
    caps = episodes.reindex(columns=list(CAPITULATION_COLUMNS))
    if len(caps):
        overlaps = (caps["start"] <= last) & (caps["end"].isna() | (caps["end"] >= first))
        caps = caps[overlaps.to_numpy(dtype=bool)].reset_index(drop=True)
    catalog_first = load_catalog()["release_month"].min()
    first_cost = out["cost_all_in_usd_per_btc"].dropna()
    sources = {
        "price_usd, hashrate_ths, difficulty": "the daily frame passed in (e.g. the store's Coin Metrics rows)",
        "hashrate_7d_ths": f"SMA_{w}(hashrate_ths), NaN until {w} consecutive days",
        "hashprice_usd_per_ph_day": "hashrisk.analytics.indicators.hashprice_history (Luxor's definition)",
        "revenue_subsidy_usd, revenue_fees_usd": "subsidy_btc * price_usd, fees_btc * price_usd per day",
        "cost_electricity_*": (
            f"CBECI-style profitable-hardware basket at ${pp:g}/kWh (assumption), PUE 1.01/1.10/1.20: lower = "
            "most efficient released model, best = mean efficiency of the profitable models, upper = least "
            "efficient profitable model (the most efficient alone when none is profitable)"
        ),
        "cost_all_in_usd_per_btc": (
            f"hashrisk.economics.cost.all_in_cost_usd_per_btc of the month's vintage fleet at ${pp:g}/kWh: "
            "electricity + other opex + depreciation (assumptions of the fleet file)"
        ),
        "share_underwater, share_within_10pct": (
            "cash-cost curve of the month's vintage fleet (its power-price buckets and PUEs), "
            f"within = breakeven in (price * {1 - settings.within_pct:g}, price]"
        ),
        "catalog": (
            f"ASIC catalog (makers' specs, a source per row) from {catalog_first}; cost and share columns are "
            "NaN before its first model"
            + (f" (first day with costs here: {to_day(first_cost.index[0])})" if len(first_cost) else "")
        ),
        "dated fleet": (
            f"vintage fleet per month: catalog models of the last {settings.vintage_max_age_years:g} years, "
            f"share ∝ 2^(-age / {settings.vintage_half_life_years:g} years) (assumption)"
        ),
        "ribbons, capitulation": HASH_RIBBON_SOURCE,
        "puell_multiple": PUELL_SOURCE,
        "retargets": (
            "the retargets frame passed in; change = difficulty / previous difficulty - 1; estimated_change = "
            "hashrisk.chain.estimate at the epoch's midpoint (1,008th block dated from daily block counts)"
            if retargets is not None
            else "no retargets frame given"
        ),
    }
    return History(
        frame=out,
        retargets=rt.reindex(columns=list(RETARGET_COLUMNS)),
        capitulations=caps,
        as_of=as_of,
        sources=sources,
        settings=settings,
    )


def _first_valid_position(series: pd.Series) -> int:
    valid = np.flatnonzero(series.notna().to_numpy())
    return int(valid[0]) if valid.size else len(series)


# --------------------------------------------------------------------------------------- changes
def _crossings(value: pd.Series, level: pd.Series | float, band_up: float, band_down: float) -> pd.Series:
    """Days a series crosses a level (Schmitt trigger): +1 crossing up, -1 crossing down, 0 otherwise.

    The state is "above" from the first day with ``value >= level + band_up`` and "below" from the first
    day with ``value < level - band_down``; between the two it keeps its last state; NaN days keep it
    too. A crossing is a change of state (the first state is not a crossing).
    """
    hi = value >= level + band_up
    lo = value < level - band_down
    raw = pd.Series(np.where(hi, 1.0, np.where(lo, -1.0, np.nan)), index=value.index)
    state = raw.ffill()
    prev = state.shift(1)
    crossed = state.notna() & prev.notna() & (state != prev)
    return state.where(crossed, 0.0).fillna(0.0).astype(int)


def _records(flags: pd.Series, cooldown_days: int) -> pd.Series:
    """Record days not preceded by a record of the same rule within `cooldown_days` days."""
    f = flags.fillna(False).astype(bool)
    if cooldown_days <= 0:
        return f
    before = f.astype(float).shift(1).rolling(cooldown_days, min_periods=1).max().fillna(0.0) > 0
    return f & ~before


def _rows(frame: pd.DataFrame) -> list[Any]:
    """Rows as attribute records (``row.column``), values typed Any."""
    return [_Row(rec) for rec in frame.to_dict(orient="records")]


class _Row:
    def __init__(self, record: dict[Any, Any]) -> None:
        self.__dict__.update({str(k): v for k, v in record.items()})

    def __getattr__(self, name: str) -> Any:  # for mypy: every column is an attribute
        raise AttributeError(name)


def _nonzero(cross: pd.Series) -> list[tuple[pd.Timestamp, int]]:
    """(day, sign) of the non-zero days of a crossing series."""
    values = cross.to_numpy()
    index = pd.DatetimeIndex(cross.index)
    return [(index[int(i)], int(values[i])) for i in np.flatnonzero(values != 0)]


def _num(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


_COST_NAMES = {
    "cost_electricity_lower_usd_per_btc": "electricity cost, lower bound",
    "cost_electricity_best_usd_per_btc": "electricity cost, best guess",
    "cost_electricity_upper_usd_per_btc": "electricity cost, upper bound",
    "cost_all_in_usd_per_btc": "all-in cost of the dated fleet",
}


def changes(
    history: History,
    since: dt.date,
    until: dt.date | None = None,
    rules: ChangeRules = ChangeRules(),
    next_adjustment: AdjustmentInfo | None = None,
) -> list[Event]:
    """Events on the days ``since <= day <= until`` (default: to the history's last day), by day then rule.

    Rules (thresholds in :class:`ChangeRules`):

    ``retarget``
        Each retarget in the range: its change ``difficulty / previous - 1`` against the mid-epoch
        estimate (:attr:`History.retargets`).
    ``hash_ribbon``
        Capitulation start (first day of a span) and end (first day of the lasting recovery), the spans of
        :attr:`History.capitulations`; an ongoing span has no end event.
    ``price_vs_<measure>``
        The price crossing each cost measure (:data:`COST_COLUMNS`) down (``price_below_cost``) or up
        (``price_above_cost``), on the first day on the new side, with ``cross_band`` hysteresis.
    ``share_underwater_<N>pct``
        ``share_underwater`` crossing each level up (``>= level``) or down (``< level``).
    ``hashprice_all_time`` / ``hashprice_1y``
        Hashprice above every earlier day's (all-time high) or below (all-time low), or above/below every
        day of the previous 365 (1-year, only when not also all-time); needs
        :data:`RECORD_HISTORY_DAYS` of earlier hashprice; repeats within ``record_cooldown_days`` dropped.
    ``next_adjustment_<N>pct``
        `next_adjustment`'s median change at least ``next_adjustment_alert`` from 0, dated at its
        reference time (stored blocks) or the history's ``as_of`` (snapshot).
    ``gap_<N>d``
        A run of at least ``gap_days`` days with any of ``gap_columns`` missing, dated at its first day.

    Returns
    -------
    list of Event
    """
    lo_day = parse_day(since, "since")
    f = history.frame
    hi_day = parse_day(until, "until") if until is not None else (f.index[-1] if len(f) else lo_day)
    if hi_day < lo_day:
        raise InputError("until", to_day(hi_day), f"a day on or after since ({to_day(lo_day)})")
    if rules.gap_days < 1:
        raise InputError("gap_days", rules.gap_days, "a whole number of days >= 1")
    events: list[Event] = []

    def inside(day: Any) -> bool:
        return day is not None and not pd.isna(day) and lo_day <= pd.Timestamp(day) <= hi_day

    def add(
        day: Any, kind: str, rule: str, message: str, numbers: dict[str, float | int | str | None]
    ) -> None:
        events.append(Event(pd.Timestamp(day).date(), kind, rule, message, numbers))

    # retargets
    for r in _rows(history.retargets):
        if not inside(r.day):
            continue
        mid = _num(r.estimated_change)
        ch = _num(r.change)
        est_txt = f" (mid-epoch estimate {mid:+.2%})" if mid is not None else ""
        ch_txt = f"{ch:+.2%}" if ch is not None else "change unknown"
        add(
            r.day,
            "retarget",
            "retarget",
            f"difficulty retarget at height {int(r.height):,}: {ch_txt}{est_txt}",
            {
                "height": int(r.height),
                "difficulty": _num(r.difficulty),
                "previous_difficulty": _num(r.previous_difficulty),
                "change": ch,
                "estimated_change": mid,
                "estimate_error": _num(r.estimate_error),
            },
        )
    # capitulations
    for c in _rows(history.capitulations):
        if inside(c.start):
            add(
                c.start,
                "capitulation_start",
                "hash_ribbon",
                "miner capitulation starts: 30-day hashrate SMA below the 60-day SMA",
                {"start": to_day(c.start), "ongoing": str(bool(c.ongoing))},
            )
        if not bool(c.ongoing) and inside(c.end):
            add(
                c.end,
                "capitulation_end",
                "hash_ribbon",
                f"miner capitulation ends after {int(c.days)} days: 30-day hashrate SMA back above the 60-day",
                {
                    "start": to_day(c.start),
                    "end": to_day(c.end),
                    "days": int(c.days),
                    "known_end": to_day(c.known_end),
                    "buy_date": to_day(c.buy_date),
                },
            )
    # price crossing each cost measure
    price = f["price_usd"]
    for col in COST_COLUMNS:
        ratio = price / f[col]
        cross = _crossings(ratio, 1.0, rules.cross_band, rules.cross_band)
        name = _COST_NAMES[col]
        rule = "price_vs_" + col.removesuffix("_usd_per_btc")
        for day, sign in _nonzero(cross):
            if not inside(day):
                continue
            p, cost = float(price[day]), float(f[col][day])
            word = "above" if sign > 0 else "below"
            add(
                day,
                "price_above_cost" if sign > 0 else "price_below_cost",
                rule,
                f"price ${p:,.0f} crosses {word} the {name} (${cost:,.0f}/BTC)",
                {"price_usd": p, "cost_usd_per_btc": cost, "measure": col, "ratio": p / cost},
            )
    # share underwater levels
    share = f["share_underwater"]
    for level in rules.share_underwater_levels:
        cross = _crossings(share, level, rules.share_band, rules.share_band)
        rule = f"share_underwater_{round(level * 100):d}pct"
        for day, sign in _nonzero(cross):
            if not inside(day):
                continue
            s = float(share[day])
            add(
                day,
                "share_underwater_up" if sign > 0 else "share_underwater_down",
                rule,
                f"share of the dated fleet's hashrate underwater {s:.1%}: {'above' if sign > 0 else 'below'} "
                f"{level:.0%}",
                {"share_underwater": s, "level": float(level), "price_usd": _num(price[day])},
            )
    # hashprice records
    hp = f["hashprice_usd_per_ph_day"]
    ath = hp > f["hashprice_prior_high_all_usd_per_ph_day"]
    atl = hp < f["hashprice_prior_low_all_usd_per_ph_day"]
    high_1y = (hp > f["hashprice_prior_high_1y_usd_per_ph_day"]) & ~ath
    low_1y = (hp < f["hashprice_prior_low_1y_usd_per_ph_day"]) & ~atl
    for flags, kind, rule, label, prior_col in (
        (
            ath,
            "hashprice_high",
            "hashprice_all_time",
            "all-time high",
            "hashprice_prior_high_all_usd_per_ph_day",
        ),
        (
            atl,
            "hashprice_low",
            "hashprice_all_time",
            "all-time low",
            "hashprice_prior_low_all_usd_per_ph_day",
        ),
        (high_1y, "hashprice_high", "hashprice_1y", "1-year high", "hashprice_prior_high_1y_usd_per_ph_day"),
        (low_1y, "hashprice_low", "hashprice_1y", "1-year low", "hashprice_prior_low_1y_usd_per_ph_day"),
    ):
        hits = _records(flags, rules.record_cooldown_days)
        for day in hits.index[hits.to_numpy()]:
            if not inside(day):
                continue
            v, prior = float(hp[day]), float(f[prior_col][day])
            add(
                day,
                kind,
                rule,
                f"hashprice ${v:,.2f}/PH/day: new {label} (previous ${prior:,.2f})",
                {"hashprice_usd_per_ph_day": v, "previous_record_usd_per_ph_day": prior, "record": label},
            )
    # next adjustment
    if next_adjustment is not None:
        nxt = next_adjustment.estimate
        p50 = nxt.change_pct_p50 / 100.0
        if abs(p50) >= rules.next_adjustment_alert:
            day = (
                pd.Timestamp(next_adjustment.now_s, unit="s").normalize()
                if next_adjustment.absolute_times
                else pd.Timestamp(history.as_of)
            )
            if inside(day):
                add(
                    day,
                    "next_adjustment",
                    f"next_adjustment_{round(rules.next_adjustment_alert * 100):d}pct",
                    f"next difficulty adjustment (height {next_adjustment.retarget_height:,}) estimated at "
                    f"{p50:+.1%} (90% band {nxt.change_pct_p05 / 100:+.1%} to {nxt.change_pct_p95 / 100:+.1%})",
                    {
                        "retarget_height": next_adjustment.retarget_height,
                        "change_p05": nxt.change_pct_p05 / 100.0,
                        "change_p50": p50,
                        "change_p95": nxt.change_pct_p95 / 100.0,
                        "blocks_mined": next_adjustment.blocks_mined,
                        "basis": next_adjustment.basis,
                    },
                )
    # gaps
    cols = [c for c in rules.gap_columns if c in f.columns]
    if cols and len(f):
        missing = f[cols].isna().any(axis=1)
        for g in _rows(spells(missing, 1)):
            if int(g.days) < rules.gap_days or not inside(g.start):
                continue
            last_missing = f.index[-1] if bool(g.ongoing) else pd.Timestamp(g.end) - pd.Timedelta(days=1)
            add(
                g.start,
                "data_gap",
                f"gap_{rules.gap_days:d}d",
                f"{int(g.days)} days without {', '.join(cols)} data from {to_day(g.start)} to {to_day(last_missing)}"
                + (" (to the end of the window)" if bool(g.ongoing) else ""),
                {"days": int(g.days), "first": to_day(g.start), "last": to_day(last_missing)},
            )
    events.sort(key=lambda e: (e.day, e.rule))
    return events
