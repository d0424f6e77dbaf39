"""How good is the model: a rolling-origin evaluation of the simulator and of the next-adjustment estimate.

Rolling-origin backcast
    Every retarget in a window is an *origin*: the first block of a difficulty period (height ``H0``, time
    ``t0`` on UTC day ``D``). From each origin the simulator forecasts the difficulty of the next ``1..H``
    retargets (heights ``H0 + 2016 k``), which are then compared with the real ones. An origin uses only what
    was known at ``t0`` (:func:`origin_case` truncates the frames itself):

    - the start state: the retarget in force (its difficulty, height ``H0``, the period starting at the start),
      and the daily rows of the days *before* ``D`` (complete days): last close, 7-day mean hashrate, 7-day
      fees per block;
    - the fleet: the vintage fleet of ``D``'s month (:func:`hashrisk.economics.fleet.vintage_fleet_spec`,
      catalog models released by that month); origins before the catalog's first release (2016-06) are
      skipped and counted;
    - the behaviour: the scenario's. The defaults' two fitted parameters (deployment cap
      ``fleet.deploy.max_growth_per_year`` and unexplained moves ``fleet.unexplained_log_sd``) were fitted on
      the 2016-2021 origins only, so later origins are out of sample and earlier ones in sample; the rest
      are labelled assumptions (``hashrisk calibrate``'s 2022/2024 windows are not used: they would leak);
    - the trend baseline: the mean log adjustment of the last :data:`TREND_LOOKBACK` retargets up to ``H0``.

    Two modes:

    - ``conditional``: on the realised price path from ``D`` on (an input by design: "given the prices, how
      well does the model turn them into difficulty?"); the sales feedback is off;
    - ``unconditional``: on the price model: a moving-block bootstrap (10-day blocks, demeaned, drift 0) of
      the daily log returns of the :data:`BOOTSTRAP_LOOKBACK_DAYS` before ``D``, from the last known close.

Scores (by mode, regime and horizon ``k``; errors are log errors in %, ``100 ln(forecast / real)``)
    ``mae_log_pct`` and ``rmse_log_pct`` of the simulated median; ``bias_log_pct`` (mean log error);
    ``coverage50``/``coverage90``: share of real values inside the p25-p75 / p05-p95 band; ``crps_log_pct``:
    CRPS of the simulated ensemble of ``100 ln(D_k / D_0)`` (per-path retarget difficulties; scoringrules'
    ``crps_ensemble``, its default ``qd`` estimator); the baselines' MAE (persistence ``D_k = D_0``, trend
    ``D_k = D_0 exp(k g)``), and skills ``1 - MAE_sim / MAE_baseline`` (and ``1 - CRPS / MAE_persistence``: a
    point forecast's CRPS is its absolute error). ``pit`` per row (share of paths below the real value) gives
    the reliability diagram (:func:`reliability`).

Regimes (one per origin, from what is known at the origin, in this order of precedence)
    ``halving``: ``D`` within :data:`HALVING_WINDOW_DAYS` (±3 months) of a halving (the halving height is
    known in advance); ``drawdown``: the last close at least 20% below the highest close of the
    :data:`DRAWDOWN_LOOKBACK_DAYS` before ``D``; ``growth``: otherwise.

Next-adjustment estimate
    :func:`evaluate_adjustment_estimates` replays epochs of block times: at 10/25/50/75/90% of each epoch it
    runs :func:`hashrisk.chain.estimate.estimate_next_adjustment` (median and 90% band) and mempool.space's
    method (:func:`hashrisk.chain.estimate.mempool_difficulty_change_pct`) and compares them with the
    consensus outcome. :func:`synthetic_epochs` makes chains with a drifting hashrate for tests.

Findings (stored Coin Metrics and mempool.space history; fit on origins 2016-2021, test on 2022-2025-02)
    With the earlier defaults (cap 0.5/year, no unexplained moves) the median was biased low (too little
    hashrate growth: -2.7% at one retarget, -7.2% at six, conditional) and the bands held only block-arrival
    noise (90% bands covered about a third of the outcomes). Fitted on 2016-2021 only: the cap 1.0/year
    (minimum MAE at horizons 2-6, grid 0.5-1.5) and unexplained moves of 0.08 in log per 14 days, a model
    term (:func:`hashrisk.sim.engine.draw_hash_mult`; minimum mean CRPS of both modes, grid 0.04-0.12; the
    adaptive form, ``unexplained_scale`` times the origin's last year of adjustments, scored worse there).
    On the test years the 90% bands then over-cover (92-100%: calmer years than 2016-2021), the adaptive
    form covers 89% (conditional) / 97%; conditional skill against persistence at 1-6 retargets is -3, +8,
    +25, +36, +43, +43%.
Pure: the caller passes the stored frames (the CLI reads them from the store).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from hashrisk.chain.estimate import (
    estimate_next_adjustment,
    mempool_difficulty_change_pct,
    prior_interval_from_previous_epoch,
)
from hashrisk.chain.pow import RETARGET_INTERVAL_BLOCKS, bits_to_difficulty, next_bits
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.economics.fleet import VINTAGE_HALF_LIFE_YEARS, vintage_fleet_spec
from hashrisk.errors import InputError
from hashrisk.sim.arrays import ChunkOutputs
from hashrisk.sim.backcast import TREND_LOOKBACK, backcast_start
from hashrisk.sim.engine import Backend, simulate
from hashrisk.sim.scenario import Scenario
from hashrisk.sim.sweep import SweepBackend, limit_numba_threads, map_tasks

Mode = Literal["conditional", "unconditional"]
MODES: tuple[Mode, ...] = ("conditional", "unconditional")
REGIMES = ("drawdown", "halving", "growth")
MAX_HORIZONS = 12
DAYS_PER_RETARGET = 21
"""Days simulated per forecast retarget (a period at 1.5x the target time still lands inside)."""
MIN_SHARE_OF_PATHS = 0.5
"""A forecast of retarget k exists when at least this share of paths reached it within the horizon."""
HALVING_DATES = (
    dt.date(2012, 11, 28),
    dt.date(2016, 7, 9),
    dt.date(2020, 5, 11),
    dt.date(2024, 4, 20),
)
"""Days of the halvings at heights 210,000, 420,000, 630,000 and 840,000 (block times, UTC)."""
HALVING_WINDOW_DAYS = 91
"""An origin within this many days (about 3 months) before or after a halving is in the halving regime."""
DRAWDOWN_THRESHOLD = 0.20
DRAWDOWN_LOOKBACK_DAYS = 365
BOOTSTRAP_LOOKBACK_DAYS = 4 * 365
"""Daily returns the unconditional price model resamples (about one halving cycle before the origin)."""
BANDS = {"coverage50": (0.25, 0.75), "coverage90": (0.05, 0.95)}
RELIABILITY_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
ESTIMATE_FRACTIONS = (0.10, 0.25, 0.50, 0.75, 0.90)
RECENT_ADJUSTMENTS = 26
"""Retargets (about a year) whose log adjustments give an origin's recent variability (adaptive bands)."""

FloatArray = npt.NDArray[np.float64]


# ------------------------------------------------------------------------------------------------ origins
@dataclass(frozen=True)
class OriginCase:
    """One origin in one mode: everything its forecast may use (see :func:`origin_case`)."""

    height: int
    origin_time: pd.Timestamp
    day: dt.date
    difficulty: float
    snapshot: NetworkSnapshot
    trend_pace: float
    regime: str
    mode: Mode
    horizons: int
    scenario: Scenario
    recent_adjustment_sd: float = math.nan


def _utc_day(index: pd.DatetimeIndex, day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day, tz=index.tz) if index.tz is not None else pd.Timestamp(day)


def origin_snapshot(
    daily_known: pd.DataFrame, day: dt.date, height: int, difficulty: float
) -> NetworkSnapshot:
    """The start state of an origin on `day` from the daily rows before it.

    Price: the last close before `day`; hashrate: mean of the stored hashrates of the 7 days before `day`;
    fees: fees / blocks over those 7 days; difficulty and height: the retarget in force (``height`` is its
    first block).

    Raises
    ------
    InputError
        When the 7 days before `day` hold no price, hashrate or fees with blocks.
    """
    idx = pd.DatetimeIndex(daily_known.index)
    end = _utc_day(idx, day)
    week = daily_known.loc[(idx < end) & (idx >= end - pd.Timedelta(days=7))]
    prices = week["price_usd"].dropna()
    rates = week["hashrate_ths"].dropna()
    ok = week[["fees_btc", "blocks"]].dropna()
    blocks = float(ok["blocks"].sum()) if len(ok) else 0.0
    if prices.empty or rates.empty or blocks <= 0:
        raise InputError(
            "daily data",
            f"the 7 days before {day}",
            "a price, a hashrate and fees with blocks before the origin",
        )
    last = prices.index[-1].date().isoformat()
    return NetworkSnapshot(
        date=day,
        price_usd=float(prices.iloc[-1]),
        difficulty=float(difficulty),
        hashrate_ths=float(rates.mean()),
        fees_btc_per_block=float(ok["fees_btc"].sum()) / blocks,
        height=int(height),
        sources={
            "date": f"origin: retarget at height {height}",
            "price_usd": f"store: close of {last} (last day before the origin)",
            "difficulty": f"store: retarget at height {height}",
            "hashrate_ths": "store: mean of the 7 days before the origin",
            "fees_btc_per_block": "store: fees / blocks of the 7 days before the origin",
            "height": f"store: retarget at height {height}",
        },
    )


def classify_regime(prices_known: pd.Series, day: dt.date) -> str:
    """``halving``, ``drawdown`` or ``growth`` for an origin on `day` (see the module docstring).

    `prices_known` are the closes before `day` (nothing after it is read).
    """
    if any(abs((day - h).days) <= HALVING_WINDOW_DAYS for h in HALVING_DATES):
        return "halving"
    idx = pd.DatetimeIndex(prices_known.index)
    end = _utc_day(idx, day)
    year = prices_known.loc[(idx < end) & (idx >= end - pd.Timedelta(days=DRAWDOWN_LOOKBACK_DAYS))].dropna()
    if len(year) and float(year.iloc[-1]) <= (1.0 - DRAWDOWN_THRESHOLD) * float(year.max()):
        return "drawdown"
    return "growth"


def origin_case(
    base: Scenario,
    daily: pd.DataFrame,
    retargets: pd.DataFrame,
    height: int,
    *,
    mode: Mode,
    horizons: int = 6,
    paths: int = 500,
    bootstrap_lookback_days: int = BOOTSTRAP_LOOKBACK_DAYS,
    fleet_half_life_years: float = VINTAGE_HALF_LIFE_YEARS,
    unexplained_scale: float = 0.0,
) -> OriginCase:
    """The forecast set-up of the origin at retarget `height`, from frames it truncates itself.

    Reads retargets up to `height`, daily rows before the origin's UTC day, and, in ``conditional`` mode
    only, the realised closes from that day to the end of the horizon (the price path is an input by design).

    Raises
    ------
    InputError
        `height` is not a stored retarget with a time, the days before lack data, no catalog fleet exists
        for the month, or (conditional) no price on the origin's day.
    """
    if mode not in MODES:
        raise InputError("mode", mode, f"one of {', '.join(MODES)}")
    if not 1 <= horizons <= MAX_HORIZONS:
        raise InputError("horizons", horizons, f"a whole number of retargets in [1, {MAX_HORIZONS}]")
    rt_known = retargets.loc[retargets.index <= height].sort_index()
    t_raw: Any = rt_known.at[height, "time"] if height in rt_known.index else None
    if t_raw is None or pd.isna(t_raw):
        raise InputError("height", height, "a stored retarget height with a time")
    t0 = pd.Timestamp(t_raw)
    day = t0.date()
    d_raw: Any = rt_known.at[height, "difficulty"]
    d0 = float(d_raw)
    idx = pd.DatetimeIndex(daily.index)
    start_ts = _utc_day(idx, day)
    daily_known = daily.loc[idx < start_ts]
    snap = origin_snapshot(daily_known, day, height, d0)
    adjustments = backcast_start(snap, rt_known, height).prior_adjustments
    prior = adjustments[-TREND_LOOKBACK:]
    pace = float(np.mean(prior)) if prior else 0.0
    recent = np.asarray(adjustments[-RECENT_ADJUSTMENTS:], dtype=np.float64)
    recent_sd = float(np.std(recent, ddof=1)) if recent.size >= 3 else math.nan
    prices_known = daily_known["price_usd"].dropna()
    regime = classify_regime(prices_known, day)
    spec = vintage_fleet_spec(pd.Period(day, freq="M"), half_life_years=fleet_half_life_years)
    horizon_days = DAYS_PER_RETARGET * horizons
    params: dict[str, Any] = {
        "paths": paths,
        "impact.enabled": False,
        "fleet.spec": spec.model_dump(),
        "start.epoch_start_offset_s": 0,
    }
    if unexplained_scale > 0 and math.isfinite(recent_sd):
        params["fleet.unexplained_log_sd"] = min(1.0, unexplained_scale * recent_sd)
    if mode == "conditional":
        future = daily["price_usd"].loc[(idx >= start_ts)]
        want = pd.date_range(start_ts, periods=horizon_days, freq="D")
        path = future.reindex(want).to_numpy(dtype=np.float64)
        ok = np.isfinite(path) & (path > 0)
        n_ok = int(np.argmin(ok)) if not ok.all() else len(ok)
        if n_ok < 1:
            raise InputError("price path", f"no price on {day}", "a stored close on the origin's day")
        params.update(
            {
                "price.model": "path",
                "price.prices_usd": path[:n_ok].tolist(),
                "price.dates": [d.date() for d in want[:n_ok]],
                "horizon_days": n_ok,
            }
        )
    else:
        recent = prices_known.loc[
            pd.DatetimeIndex(prices_known.index) >= start_ts - pd.Timedelta(days=bootstrap_lookback_days + 1)
        ].to_numpy(dtype=np.float64)
        returns = np.diff(np.log(recent[recent > 0]))
        if returns.size < 30:
            raise InputError(
                "price history", f"{returns.size} returns before {day}", "at least 30 daily returns"
            )
        params.update(
            {"price.model": "bootstrap", "price.log_returns": returns.tolist(), "horizon_days": horizon_days}
        )
    scenario = base.with_params(params)
    return OriginCase(height, t0, day, d0, snap, pace, regime, mode, horizons, scenario, recent_sd)


def origin_heights(
    retargets: pd.DataFrame, since: dt.date | None = None, until: dt.date | None = None
) -> list[int]:
    """Stored retarget heights whose first block's UTC day is in ``[since, until]``."""
    rt = retargets.dropna(subset=["time"]).sort_index()
    days = pd.DatetimeIndex(rt["time"]).date
    keep = np.ones(len(rt), dtype=bool)
    if since is not None:
        keep &= days >= since
    if until is not None:
        keep &= days <= until
    return [int(h) for h in rt.index[keep] if int(h) % RETARGET_INTERVAL_BLOCKS == 0]


# ------------------------------------------------------------------------------------------------ forecast
def forecast_samples(case: OriginCase, kernel: Backend = "numba", threads: int = 0) -> dict[str, Any]:
    """Simulate `case`; per-path difficulty at retargets ``1..H`` (NaN where a path did not reach it).

    Returns
    -------
    dict
        ``samples`` (paths, H) [difficulty], ``note`` (what was relaxed, if anything).
    """
    limit_numba_threads(threads)
    h = case.horizons
    days: list[npt.NDArray[np.int32]] = []
    bits: list[npt.NDArray[np.int64]] = []

    def keep(first_path: int, out: ChunkOutputs, n: int) -> None:
        days.append(out.retarget_day[:n, :h].copy())
        bits.append(out.retarget_bits[:n, :h].copy())

    note = ""
    try:
        res = simulate(case.scenario, case.snapshot, backend=kernel, on_chunk=keep)
    except InputError as exc:
        if exc.field != "fleet.initial_online":
            raise
        # no cohort of the vintage fleet covers its cash cost at the start: the network ran anyway
        days.clear()
        bits.clear()
        note = "initial_online=all (no vintage cohort profitable at the start)"
        res = simulate(
            case.scenario.with_params({"fleet.initial_online": "all"}),
            case.snapshot,
            backend=kernel,
            on_chunk=keep,
        )
    first = res.start.first_retarget_height
    shift = (case.height + RETARGET_INTERVAL_BLOCKS - first) // RETARGET_INTERVAL_BLOCKS
    if shift != 0:  # the engine's first recorded retarget must be H0 + 2016
        raise InputError("start.height", case.height, f"a period's first block (engine retargets at {first})")
    day_arr = np.concatenate(days)
    bit_arr = np.concatenate(bits)
    samples = np.full(day_arr.shape, np.nan)
    reached = day_arr >= 0
    uniq, inv = np.unique(bit_arr[reached], return_inverse=True)
    samples[reached] = np.array([bits_to_difficulty(int(b)) for b in uniq])[inv]
    n_cols = int(np.shape(samples)[-1])
    if n_cols < h:
        samples = np.pad(samples, ((0, 0), (0, h - n_cols)), constant_values=np.nan)
    return {"samples": samples, "note": note}


def _forecast_task(case: OriginCase, kernel: Backend, threads: int) -> dict[str, Any]:
    return forecast_samples(case, kernel, threads)


# ------------------------------------------------------------------------------------------------ scoring
def crps_log_pct(truth: float, samples: FloatArray, d0: float) -> float:
    """CRPS of `samples` for `truth` on the scale ``100 ln(x / d0)`` [%] (scoringrules ``crps_ensemble``)."""
    import scoringrules as sr  # type: ignore[import-untyped]

    x = samples[np.isfinite(samples)]
    if x.size == 0:
        return math.nan
    return float(sr.crps_ensemble(100.0 * math.log(truth / d0), 100.0 * np.log(x / d0), backend="numpy"))


def score_case(
    case: OriginCase,
    samples: FloatArray,
    retargets: pd.DataFrame,
    note: str = "",
) -> list[dict[str, Any]]:
    """Rows ``(origin, horizon k)`` comparing the forecast with the stored truth (retargets without a
    stored difficulty are left out)."""
    rows: list[dict[str, Any]] = []
    d0 = case.difficulty
    for k in range(1, case.horizons + 1):
        target = case.height + RETARGET_INTERVAL_BLOCKS * k
        if target not in retargets.index:
            continue
        truth_raw: Any = retargets.at[target, "difficulty"]
        truth = float(truth_raw)
        t_real: Any = retargets.at[target, "time"] if "time" in retargets.columns else None
        x_all = samples[:, k - 1]
        x = x_all[np.isfinite(x_all)]
        share = x.size / max(x_all.size, 1)
        trend = d0 * math.exp(case.trend_pace * k)
        row: dict[str, Any] = {
            "origin_height": case.height,
            "origin_date": case.day.isoformat(),
            "mode": case.mode,
            "regime": case.regime,
            "horizon": k,
            "target_height": target,
            "target_date": pd.Timestamp(t_real).date().isoformat()
            if t_real is not None and pd.notna(t_real)
            else None,
            "difficulty_in_force": d0,
            "difficulty_real": truth,
            "share_reached": share,
            "persistence": d0,
            "trend": trend,
            "err_log_pct_persistence": 100.0 * math.log(d0 / truth),
            "err_log_pct_trend": 100.0 * math.log(trend / truth),
            "note": note,
        }
        if share >= MIN_SHARE_OF_PATHS:
            q = np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95])
            row.update(
                {
                    "sim_p05": q[0],
                    "sim_p25": q[1],
                    "sim_p50": q[2],
                    "sim_p75": q[3],
                    "sim_p95": q[4],
                    "err_log_pct_simulation": 100.0 * math.log(q[2] / truth),
                    "crps_log_pct": crps_log_pct(truth, x, d0),
                    "in_band50": bool(q[1] <= truth <= q[3]),
                    "in_band90": bool(q[0] <= truth <= q[4]),
                    "pit": float(np.mean(x < truth) + 0.5 * np.mean(x == truth)),
                }
            )
        else:
            row.update(
                {c: math.nan for c in ("sim_p05", "sim_p25", "sim_p50", "sim_p75", "sim_p95")}
                | {"err_log_pct_simulation": math.nan, "crps_log_pct": math.nan, "pit": math.nan}
                | {"in_band50": None, "in_band90": None}
            )
        rows.append(row)
    return rows


def _metrics(g: pd.DataFrame) -> dict[str, float]:
    ok = g[np.isfinite(g["err_log_pct_simulation"].astype(float))]
    e = ok["err_log_pct_simulation"].to_numpy(dtype=np.float64)
    ep = ok["err_log_pct_persistence"].to_numpy(dtype=np.float64)
    et = ok["err_log_pct_trend"].to_numpy(dtype=np.float64)
    n = int(e.size)
    nan = math.nan
    mae = float(np.mean(np.abs(e))) if n else nan
    mae_p = float(np.mean(np.abs(ep))) if n else nan
    mae_t = float(np.mean(np.abs(et))) if n else nan
    crps = float(ok["crps_log_pct"].astype(float).mean()) if n else nan
    return {
        "n": n,
        "n_missing": int(len(g) - n),
        "mae_log_pct": mae,
        "rmse_log_pct": float(math.sqrt(np.mean(e**2))) if n else nan,
        "bias_log_pct": float(np.mean(e)) if n else nan,
        "coverage50": float(ok["in_band50"].astype(bool).mean()) if n else nan,
        "coverage90": float(ok["in_band90"].astype(bool).mean()) if n else nan,
        "crps_log_pct": crps,
        "mae_log_pct_persistence": mae_p,
        "mae_log_pct_trend": mae_t,
        "skill_vs_persistence": 1.0 - mae / mae_p if n and mae_p > 0 else nan,
        "skill_vs_trend": 1.0 - mae / mae_t if n and mae_t > 0 else nan,
        "crps_skill_vs_persistence": 1.0 - crps / mae_p if n and mae_p > 0 else nan,
    }


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Scores by ``mode``, ``regime`` (``all`` plus each regime) and ``horizon`` (see the module docstring)."""
    out: list[dict[str, Any]] = []
    if rows.empty:
        return pd.DataFrame(columns=["mode", "regime", "horizon", *_metrics(rows.iloc[0:0]).keys()])
    for mode, by_mode in rows.groupby("mode", sort=False):
        for regime in ("all", *REGIMES):
            sub = by_mode if regime == "all" else by_mode[by_mode["regime"] == regime]
            for k, g in sub.groupby("horizon"):
                out.append({"mode": mode, "regime": regime, "horizon": int(cast(Any, k)), **_metrics(g)})
    return pd.DataFrame(out)


def reliability(rows: pd.DataFrame, levels: Sequence[float] = RELIABILITY_LEVELS) -> pd.DataFrame:
    """Observed coverage of the central ``level`` bands (from the rows' PIT), by mode: the reliability
    diagram (a calibrated forecast lies on the diagonal)."""
    out: list[dict[str, Any]] = []
    for mode, g in rows.groupby("mode", sort=False):
        pit = g["pit"].to_numpy(dtype=np.float64)
        pit = pit[np.isfinite(pit)]
        for lev in levels:
            inside = np.abs(pit - 0.5) <= lev / 2.0
            out.append(
                {
                    "mode": mode,
                    "nominal": float(lev),
                    "observed": float(inside.mean()) if pit.size else math.nan,
                }
            )
    return pd.DataFrame(out)


@dataclass(frozen=True)
class EvaluationResult:
    """A rolling-origin evaluation.

    Attributes
    ----------
    rows : pandas.DataFrame
        One row per (origin, mode, horizon) (see :func:`score_case`); what ``--out`` writes.
    table : pandas.DataFrame
        :func:`summarize` of the rows.
    meta : dict
        Window, origins evaluated and skipped (with reasons), paths, backend, elapsed seconds.
    """

    rows: pd.DataFrame
    table: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The per-(origin, mode, horizon) rows (a copy)."""
        return self.rows.copy()

    def summary(self) -> dict[str, Any]:
        """JSON-ready: the score table, the reliability diagram and the metadata."""
        table = self.table.astype(object).where(self.table.notna(), None)
        rel = reliability(self.rows) if len(self.rows) else pd.DataFrame()
        return {
            "scores": table.to_dict(orient="records"),
            "reliability": rel.to_dict(orient="records"),
            "meta": self.meta,
        }


def evaluate(
    base: Scenario,
    daily: pd.DataFrame,
    retargets: pd.DataFrame,
    *,
    since: dt.date | None = dt.date(2016, 1, 1),
    until: dt.date | None = None,
    horizons: int = 6,
    paths: int = 500,
    modes: Sequence[Mode] = MODES,
    backend: SweepBackend = "serial",
    workers: int = 2,
    scheduler: str | None = None,
    kernel: Backend = "numba",
    heights: Sequence[int] | None = None,
    unexplained_scale: float = 0.0,
    fleet_half_life_years: float = VINTAGE_HALF_LIFE_YEARS,
) -> EvaluationResult:
    """Rolling-origin evaluation of the simulator from every stored retarget in ``[since, until]``.

    Parameters
    ----------
    base : Scenario
        Behaviour and seed (its fleet, price, paths and horizon are set per origin).
    daily : pandas.DataFrame
        Stored daily rows (``price_usd``, ``hashrate_ths``, ``fees_btc``, ``blocks``), UTC day index.
    retargets : pandas.DataFrame
        Stored retargets (index ``height``; ``difficulty``, ``time``): origins and truth.
    heights : sequence of int, optional
        Origins to use instead of every retarget of the window.
    unexplained_scale : float
        Adaptive bands: each origin's ``fleet.unexplained_log_sd`` (the model's hashrate moves no price
        explains) becomes this multiple of the sd of its last :data:`RECENT_ADJUSTMENTS` log adjustments
        (known at the origin). 0: the scenario's value at every origin.
    fleet_half_life_years : float
        Age half-life of the vintage fleets (:func:`~hashrisk.economics.fleet.vintage_fleet_spec`; longer:
        older, less efficient fleets).

    Returns
    -------
    EvaluationResult

    Raises
    ------
    InputError
        A bad mode, horizon count or backend; no origin in the window.
    """
    for m in modes:
        if m not in MODES:
            raise InputError("mode", m, f"one of {', '.join(MODES)}")
    if paths < 1:
        raise InputError("paths", paths, "a whole number of paths >= 1")
    chosen = list(heights) if heights is not None else origin_heights(retargets, since, until)
    if not chosen:
        raise InputError(
            "--since/--until", f"{since}..{until}", "a window holding at least one stored retarget"
        )
    cases: list[OriginCase] = []
    skipped: dict[str, str] = {}
    for h in chosen:
        for m in modes:
            try:
                cases.append(
                    origin_case(
                        base,
                        daily,
                        retargets,
                        h,
                        mode=m,
                        horizons=horizons,
                        paths=paths,
                        fleet_half_life_years=fleet_half_life_years,
                        unexplained_scale=unexplained_scale,
                    )
                )
            except InputError as exc:
                skipped[f"{h}:{m}"] = f"{exc.field}: {exc.value}"
    t0 = time.perf_counter()
    threads = 0 if backend == "serial" and scheduler is None else 1
    n = len(cases)
    results = map_tasks(
        _forecast_task,
        cases,
        [kernel] * n,
        [threads] * n,
        backend=backend,
        workers=workers,
        scheduler=scheduler,
    )
    elapsed = time.perf_counter() - t0
    rows: list[dict[str, Any]] = []
    for case, res in zip(cases, results, strict=True):
        rows.extend(score_case(case, res["samples"], retargets, res["note"]))
    frame = pd.DataFrame(rows)
    meta = {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "origins": len({c.height for c in cases}),
        "cases": n,
        "rows": len(frame),
        "skipped": len(skipped),
        "skipped_reasons": dict(list(skipped.items())[:20]),
        "horizons": horizons,
        "paths": paths,
        "modes": list(modes),
        "backend": "dask" if scheduler else backend,
        "workers": 1 if backend == "serial" and scheduler is None else workers,
        "elapsed_s": elapsed,
        "unexplained_log_sd": base.fleet.unexplained_log_sd if unexplained_scale <= 0 else "adaptive",
        "unexplained_scale": unexplained_scale,
        "max_growth_per_year": base.fleet.deploy.max_growth_per_year,
        "fleet_half_life_years": fleet_half_life_years,
        "parameters": "the scenario's (defaults: fitted on the 2016-2021 origins; later origins are "
        "out of sample, earlier ones in sample)",
        "fleet": "vintage fleet of each origin's month",
        "halving_window_days": HALVING_WINDOW_DAYS,
        "drawdown": f">= {DRAWDOWN_THRESHOLD:.0%} below the {DRAWDOWN_LOOKBACK_DAYS}-day high",
    }
    return EvaluationResult(frame, summarize(frame), meta)


# ------------------------------------------------------------------------------------------------ estimator
@dataclass(frozen=True)
class EpochBlocks:
    """One complete epoch of block times and what was known before it.

    Attributes
    ----------
    height : int
        ``H0``, the epoch's first height (a multiple of 2016).
    bits : int
        nBits in force during the epoch.
    times : ndarray of int
        Header times of blocks ``H0 .. H0 + 2015`` [unix s].
    previous_times : ndarray of int, optional
        Header times of the previous epoch's last blocks (at least 504), for mempool's window.
    previous_timespan_s, previous_change_pct : float, optional
        The previous epoch's timespan [s] and the change of the retarget at ``H0`` [%].
    """

    height: int
    bits: int
    times: npt.NDArray[np.int64]
    previous_times: npt.NDArray[np.int64] | None = None
    previous_timespan_s: float | None = None
    previous_change_pct: float | None = None


def evaluate_adjustment_estimates(
    epochs: Sequence[EpochBlocks], fractions: Sequence[float] = ESTIMATE_FRACTIONS
) -> pd.DataFrame:
    """Replay `epochs`: at each fraction of the epoch, our estimate (median, 90% band) and mempool's.

    At fraction ``f`` the first ``n = round(f * 2016)`` blocks are known and `now` is the time of block
    ``n - 1`` (the moment it arrived). The outcome is the consensus change (:func:`next_bits` of the epoch's
    first and last block times). Errors in percentage points of change.

    Returns
    -------
    pandas.DataFrame
        ``height``, ``fraction``, ``blocks_mined``, ``realised_pct``, ``ours_p05``/``p50``/``p95``,
        ``mempool_pct``, ``err_ours_pp``, ``err_mempool_pp``, ``in_band90``.
    """
    rows: list[dict[str, Any]] = []
    d_old = None
    for ep in epochs:
        if len(ep.times) != RETARGET_INTERVAL_BLOCKS:
            raise InputError("times", len(ep.times), "the 2016 block times of a complete epoch")
        t = ep.times.astype(np.int64)
        d_old = bits_to_difficulty(ep.bits)
        realised = (bits_to_difficulty(next_bits(ep.bits, int(t[0]), int(t[-1]))) / d_old - 1.0) * 100.0
        prior = 600.0
        if ep.previous_timespan_s is not None and ep.previous_change_pct is not None:
            prior = prior_interval_from_previous_epoch(ep.previous_timespan_s, ep.previous_change_pct)
        for f in fractions:
            n = min(RETARGET_INTERVAL_BLOCKS - 1, max(2, round(f * RETARGET_INTERVAL_BLOCKS)))
            now = int(t[n - 1])
            est = estimate_next_adjustment(
                ep.bits, int(t[0]), n, max(now, int(t[0])), last_block_time=now, prior_interval_s=prior
            )
            window = None
            back = n - 1 - 504  # index of the block 504 below the tip
            if back >= 0:
                window = float(t[back])
            elif ep.previous_times is not None and len(ep.previous_times) >= -back:
                window = float(ep.previous_times[back])
            mp = mempool_difficulty_change_pct(
                float(t[0]),
                float(now),
                n - 1,
                window_start_time=window,
                previous_change_pct=ep.previous_change_pct or 0.0,
                last_block_time=float(now),
            )
            rows.append(
                {
                    "height": ep.height,
                    "fraction": f,
                    "blocks_mined": n,
                    "realised_pct": realised,
                    "ours_p05": est.change_pct_p05,
                    "ours_p50": est.change_pct_p50,
                    "ours_p95": est.change_pct_p95,
                    "mempool_pct": mp,
                    "err_ours_pp": est.change_pct_p50 - realised,
                    "err_mempool_pp": mp - realised,
                    "in_band90": bool(est.change_pct_p05 <= realised <= est.change_pct_p95),
                }
            )
    return pd.DataFrame(rows)


def summarize_estimates(rows: pd.DataFrame) -> pd.DataFrame:
    """By fraction: MAE and bias [pp] of our median and of mempool's estimate, our 90% coverage and band
    width, and the skill ``1 - MAE_ours / MAE_mempool``."""
    out = []
    for f, g in rows.groupby("fraction"):
        mae_o = float(g["err_ours_pp"].abs().mean())
        mae_m = float(g["err_mempool_pp"].abs().mean())
        out.append(
            {
                "fraction": float(cast(Any, f)),
                "n": len(g),
                "mae_ours_pp": mae_o,
                "mae_mempool_pp": mae_m,
                "bias_ours_pp": float(g["err_ours_pp"].mean()),
                "bias_mempool_pp": float(g["err_mempool_pp"].mean()),
                "coverage90_ours": float(g["in_band90"].mean()),
                "band90_width_pp": float((g["ours_p95"] - g["ours_p05"]).mean()),
                "skill_vs_mempool": 1.0 - mae_o / mae_m if mae_m > 0 else math.nan,
            }
        )
    return pd.DataFrame(out)


def synthetic_epochs(
    n_epochs: int,
    rng: int | np.random.Generator | None = None,
    *,
    bits: int = 0x17030ECD,
    growth_per_epoch_mean: float = 0.03,
    growth_per_epoch_sd: float = 0.04,
    t0: int = 1_700_000_000,
) -> list[EpochBlocks]:
    """A chain of epochs with Poisson block arrivals and a drifting hashrate (tests, demonstrations).

    The hashrate's log grows linearly within each epoch by ``g ~ N(mean, sd)``; each epoch starts at the
    interval implied by the previous epoch's outcome (``600 / (hashrate / difficulty)``, the difficulty
    retargeted in floating point with the consensus clamp). Every epoch is stated at the same `bits`
    (only relative changes matter to the estimators).
    """
    if n_epochs < 1:
        raise InputError("n_epochs", n_epochs, "a whole number of epochs >= 1")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    log_h, diff = 0.0, 1.0
    t = float(t0)
    epochs: list[EpochBlocks] = []
    prev_times: npt.NDArray[np.int64] | None = None
    prev_span: float | None = None
    prev_change: float | None = None
    steps = np.arange(RETARGET_INTERVAL_BLOCKS - 1) / (RETARGET_INTERVAL_BLOCKS - 1)
    for i in range(n_epochs + 1):
        g = float(gen.normal(growth_per_epoch_mean, growth_per_epoch_sd))
        mean_gap = 600.0 * diff / np.exp(log_h + g * steps)
        gaps = gen.exponential(mean_gap)
        times = np.concatenate([[t], t + np.cumsum(gaps)]).astype(np.int64)
        if i > 0:  # the first epoch only gives the history of the second
            epochs.append(EpochBlocks(2016 * (400 + i), bits, times, prev_times, prev_span, prev_change))
        span = float(times[-1] - times[0])
        ratio = min(4.0, max(0.25, 1_209_600.0 / max(span, 1.0)))
        prev_times, prev_span, prev_change = times, span, (ratio - 1.0) * 100.0
        diff *= ratio
        log_h += g
        t = float(times[-1]) + float(gen.exponential(600.0 * diff / math.exp(log_h)))
    return epochs


def _bits(raw: Any) -> int:
    return int(raw, 16) if isinstance(raw, str) else int(raw)


def epochs_from_blocks(blocks: pd.DataFrame, retargets: pd.DataFrame | None = None) -> list[EpochBlocks]:
    """Complete epochs in a stored blocks frame (index ``height``; ``time``, ``bits``)."""
    if blocks.empty:
        return []
    b = blocks.sort_index()
    secs = (pd.DatetimeIndex(b["time"]).as_unit("s").asi8).astype(np.int64)
    times = pd.Series(secs, index=b.index)
    out: list[EpochBlocks] = []
    first = int(-(-int(b.index.min()) // RETARGET_INTERVAL_BLOCKS) * RETARGET_INTERVAL_BLOCKS)
    for h0 in range(first, int(b.index.max()) - RETARGET_INTERVAL_BLOCKS + 2, RETARGET_INTERVAL_BLOCKS):
        hs = np.arange(h0, h0 + RETARGET_INTERVAL_BLOCKS)
        if not np.isin(hs, b.index).all():
            continue
        bits = _bits(b.at[h0, "bits"])
        prev_hs = np.arange(h0 - RETARGET_INTERVAL_BLOCKS, h0)
        prev = times.reindex(prev_hs)
        prev_times = prev.to_numpy(dtype=np.int64) if prev.notna().all() else None
        span = float(prev.iloc[-1] - prev.iloc[0]) if prev_times is not None else None
        change = None
        if prev_times is not None and h0 - RETARGET_INTERVAL_BLOCKS in b.index:
            bits_prev = _bits(b.at[h0 - RETARGET_INTERVAL_BLOCKS, "bits"])
            change = (bits_to_difficulty(bits) / bits_to_difficulty(bits_prev) - 1.0) * 100.0
        out.append(
            EpochBlocks(h0, bits, times.reindex(hs).to_numpy(dtype=np.int64), prev_times, span, change)
        )
    return out
