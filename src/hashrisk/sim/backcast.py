"""Backcast and calibration: run the simulator from a past day on the real price path and score it.

Backcast
    From the stored state of day ``D`` (height at the start of ``D``, the difficulty period in force and the
    time its first block was mined), simulate with the actual daily prices from ``D`` on (a deterministic
    ``path`` price; the sales feedback is off because the real prices already contain whatever the miners
    did) and compare, at every retarget height reached, the simulated difficulty (p05/p50/p95 over paths:
    block arrivals are random) with the real one. Two baselines use only what was known on ``D``:

    - persistence: the difficulty in force on ``D`` stays unchanged;
    - trend: ``D_k = D_0 * exp(k * g)``, ``g`` the mean log adjustment of the `trend_lookback` retargets
      before ``D`` (the recent pace of growth, carried forward).

    Errors per retarget are ``100 * (forecast / real - 1)`` [%]; the scores are the mean absolute error,
    the root mean square of the log error (in %), the bias, and for the simulation the share of real values
    inside the p05-p95 band.

Calibration
    The fleet's behavioural parameters (switch-off hysteresis, restart lag, retirement, deployment response)
    are chosen on a grid to minimise the RMS log error of the simulated median difficulty over one or more
    backcast windows (e.g. the 2022 capitulation and the 2024 halving). Each grid point is one sweep point
    (:mod:`hashrisk.sim.sweep`), so a calibration runs on the same backends (local processes, Dask).

Pure: the caller passes the stored frames (the CLI reads them from the store).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.economics.fleet import vintage_fleet_spec
from hashrisk.errors import InputError
from hashrisk.sim.engine import Backend, simulate
from hashrisk.sim.scenario import Scenario
from hashrisk.sim.sweep import SweepBackend, SweepGrid, limit_numba_threads, run_sweep

TREND_LOOKBACK = 6
"""Retargets (~12 weeks) whose mean log adjustment is the trend baseline's pace."""
MIN_SHARE_OF_PATHS = 0.5
"""A simulated retarget is scored when at least this share of paths reached it within the horizon."""
MODELS = ("simulation", "persistence", "trend")

DEFAULT_WINDOWS: tuple[tuple[str, int], ...] = (("2022-05-15", 150), ("2024-03-01", 150))
"""Default calibration windows (start day, days): the 2022 capitulation (BTC fell from ~$30k to ~$19k in
June 2022; hash ribbons flagged capitulation into August) and the 2024 halving (height 840,000 on
2024-04-20)."""
DEFAULT_CALIBRATION_GRID: dict[str, list[Any]] = {
    "fleet.hysteresis": [0.0, 0.05, 0.15],
    "fleet.retire_after_days": [30, 90, 365],
    "fleet.deploy.max_growth_per_year": [0.25, 0.5, 1.0],
    "fleet.deploy.lead_time_days": [60, 120],
}
"""Behavioural parameters a calibration searches by default (54 points)."""


@dataclass(frozen=True)
class BackcastStart:
    """The stored state a backcast starts from (see :func:`backcast_start`)."""

    snapshot: NetworkSnapshot
    epoch_first_height: int
    epoch_first_time: pd.Timestamp | None
    prior_adjustments: list[float]


def backcast_start(
    snapshot: NetworkSnapshot, retargets: pd.DataFrame, height_at_start: int | None = None
) -> BackcastStart:
    """Align `snapshot` (day ``D``) with the stored retargets: the period in force and its start time.

    Parameters
    ----------
    snapshot : NetworkSnapshot
        The stored snapshot of ``D`` (its height is the tip at the end of ``D``).
    retargets : pandas.DataFrame
        Stored retargets indexed by ``height`` with ``difficulty`` and ``time`` (UTC) columns.
    height_at_start : int, optional
        The tip at the start of ``D`` (the end-of-day height minus that day's blocks); default the
        snapshot's height.

    Raises
    ------
    InputError
        If no stored retarget is at or below the start height.
    """
    height = snapshot.height if height_at_start is None else int(height_at_start)
    if "difficulty" not in retargets.columns or len(retargets) == 0:
        raise InputError("retargets", "none stored", "stored retargets (hashrisk data import / fetch)")
    known = retargets.loc[retargets.index <= height].sort_index()
    if known.empty:
        raise InputError(
            "retargets",
            f"first stored height {int(retargets.index.min()):,}",
            f"a retarget at or below {height:,}",
        )
    first_height = int(known.index[-1])
    row = known.iloc[-1]
    t = pd.Timestamp(row["time"]) if "time" in known.columns and pd.notna(row["time"]) else None
    diffs = known["difficulty"].to_numpy(dtype=np.float64)
    # consecutive periods only: the adjustments between stored neighbours 2016 blocks apart
    heights = known.index.to_numpy()
    ok = np.diff(heights) == 2016
    adjustments = np.log(diffs[1:] / diffs[:-1])[ok].tolist()
    snap = snapshot.override(
        source="store: retarget in force", difficulty=float(row["difficulty"]), height=height
    )
    return BackcastStart(snap, first_height, t, adjustments)


def with_price_path(scenario: Scenario, prices: pd.Series, start: dt.date, horizon_days: int) -> Scenario:
    """`scenario` with the deterministic price path ``prices[start : start + horizon_days]`` and no feedback.

    Raises
    ------
    InputError
        If the stored prices do not cover the window day by day with finite prices > 0.
    """
    idx = pd.DatetimeIndex(prices.index)
    day0 = pd.Timestamp(start, tz=idx.tz) if idx.tz is not None else pd.Timestamp(start)
    want = pd.date_range(day0, periods=horizon_days, freq="D")
    window = pd.Series(prices.to_numpy(dtype=np.float64), index=idx).reindex(want)
    missing = window.index[~np.isfinite(window.to_numpy()) | (window.to_numpy() <= 0)]
    if len(missing):
        raise InputError(
            "price path",
            f"{len(missing)} missing or non-positive days from {missing[0].date()}",
            f"a price for every day from {start} for {horizon_days} days",
        )
    return scenario.with_params(
        {
            "price.model": "path",
            "price.prices_usd": window.tolist(),
            "price.dates": [d.date() for d in want],
            "horizon_days": horizon_days,
            "impact.enabled": False,
        }
    )


@dataclass(frozen=True)
class BackcastResult:
    """Simulated versus real difficulty at each retarget, with the two baselines.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per scored retarget: ``retarget``, ``height``, ``date_real``, ``date_sim_p50``,
        ``difficulty_real``, ``sim_p05``, ``sim_p50``, ``sim_p95``, ``persistence``, ``trend``, and
        ``error_pct_<model>`` for each model.
    scores : dict
        Per model: ``mae_pct``, ``rmse_log_pct``, ``bias_pct``, ``n``; the simulation also ``band_coverage``.
    meta : dict
        Start day, height, difficulty, trend pace, paths, horizon.
    """

    frame: pd.DataFrame
    scores: dict[str, dict[str, float]]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The per-retarget table (a copy)."""
        return self.frame.copy()

    def summary(self) -> dict[str, Any]:
        """JSON-ready scores, meta and rows."""
        rows = self.frame.astype(object).where(self.frame.notna(), None)
        records = [
            {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in r.items()}
            for r in rows.to_dict(orient="records")
        ]
        return {"meta": self.meta, "scores": self.scores, "retargets": records}


def _scores(errors_pct: pd.Series) -> dict[str, float]:
    e = errors_pct.to_numpy(dtype=np.float64)
    if e.size == 0:
        return {"n": 0, "mae_pct": math.nan, "rmse_log_pct": math.nan, "bias_pct": math.nan}
    log_e = np.log1p(e / 100.0)
    return {
        "n": int(e.size),
        "mae_pct": float(np.mean(np.abs(e))),
        "rmse_log_pct": float(100.0 * math.sqrt(float(np.mean(log_e**2)))),
        "bias_pct": float(np.mean(e)),
    }


def backcast(
    scenario: Scenario,
    start: BackcastStart,
    retargets: pd.DataFrame,
    *,
    trend_lookback: int = TREND_LOOKBACK,
    backend: Backend = "numba",
) -> BackcastResult:
    """Run `scenario` (with its price path set, see :func:`with_price_path`) from `start` and score it.

    Parameters
    ----------
    scenario : Scenario
        The scenario to run; its ``start`` is set from `start` (difficulty in force, height, epoch time).
    start : BackcastStart
        From :func:`backcast_start`.
    retargets : pandas.DataFrame
        Stored retargets (index ``height``; ``difficulty``, optional ``time``): the truth.
    trend_lookback : int
        Retargets before the start whose mean log adjustment is the trend baseline's pace.

    Returns
    -------
    BackcastResult
    """
    if trend_lookback < 1:
        raise InputError("trend_lookback", trend_lookback, "a whole number of retargets >= 1")
    snap = start.snapshot
    params: dict[str, Any] = {"start.difficulty": snap.difficulty, "start.height": snap.height}
    if start.epoch_first_time is not None:
        t0 = pd.Timestamp(snap.date, tz=start.epoch_first_time.tz)
        offset = int((t0 - start.epoch_first_time).total_seconds())
        if offset >= 0:
            params["start.epoch_start_offset_s"] = offset
    res = simulate(scenario.with_params(params), snap, backend=backend)
    sim = res.retargets_frame()
    sim = sim[sim["share_of_paths"] >= MIN_SHARE_OF_PATHS]
    real = retargets.loc[retargets.index.isin(sim["height"].to_numpy())]
    scored = sim[sim["height"].isin(real.index)].copy()
    d0 = snap.difficulty
    prior = start.prior_adjustments[-trend_lookback:]
    pace = float(np.mean(prior)) if prior else 0.0
    k = scored["retarget"].to_numpy(dtype=np.float64)
    truth = real.loc[scored["height"].to_numpy(), "difficulty"].to_numpy(dtype=np.float64)
    frame = pd.DataFrame(
        {
            "retarget": scored["retarget"].to_numpy(),
            "height": scored["height"].to_numpy(),
            "date_real": (
                [pd.Timestamp(t).date() for t in real.loc[scored["height"].to_numpy(), "time"]]
                if "time" in real.columns
                else [None] * len(scored)
            ),
            "date_sim_p50": scored["date_p50"].to_numpy(),
            "difficulty_real": truth,
            "sim_p05": scored["difficulty_p05"].to_numpy(),
            "sim_p50": scored["difficulty_p50"].to_numpy(),
            "sim_p95": scored["difficulty_p95"].to_numpy(),
            "persistence": np.full(len(scored), d0),
            "trend": d0 * np.exp(pace * k),
        }
    )
    for name, col in (("simulation", "sim_p50"), ("persistence", "persistence"), ("trend", "trend")):
        frame[f"error_pct_{name}"] = 100.0 * (frame[col] / frame["difficulty_real"] - 1.0)
    scores = {name: _scores(frame[f"error_pct_{name}"]) for name in MODELS}
    inside = (frame["difficulty_real"] >= frame["sim_p05"]) & (frame["difficulty_real"] <= frame["sim_p95"])
    scores["simulation"]["band_coverage"] = float(inside.mean()) if len(frame) else math.nan
    meta = {
        "start_date": snap.date.isoformat(),
        "start_height": snap.height,
        "epoch_first_height": start.epoch_first_height,
        "difficulty_in_force": d0,
        "trend_pace_log_per_retarget": pace,
        "trend_lookback": len(prior),
        "paths": scenario.paths,
        "horizon_days": scenario.horizon_days,
        "fleet": (scenario.fleet.spec.label if scenario.fleet.spec is not None else "default fleet"),
    }
    return BackcastResult(frame, scores, meta)


# --------------------------------------------------------------------------------------------- calibration
@dataclass(frozen=True)
class Window:
    """One calibration window: its start and scenario (price path set) and the stored truth."""

    start: BackcastStart
    scenario: Scenario
    retargets: pd.DataFrame


def window_scenario(base: Scenario, start: BackcastStart, prices: pd.Series, horizon_days: int) -> Scenario:
    """`base` for a backcast from `start`: the real price path and a vintage fleet for that date
    (:func:`hashrisk.economics.fleet.vintage_fleet_spec`) unless `base` names its own fleet."""
    scenario = with_price_path(base, prices, start.snapshot.date, horizon_days)
    if scenario.fleet.spec is None:
        spec = vintage_fleet_spec(pd.Period(start.snapshot.date, freq="M"))
        scenario = scenario.with_params({"fleet.spec": spec.model_dump()})
    return scenario


def _window_point(
    window_index: int,
    windows: Sequence[Window],
    scenario: Scenario,
    snapshot: NetworkSnapshot | None,
    kernel: Backend,
    threads: int,
) -> dict[str, float]:
    """Sweep point function: score one parameter set on one window (picklable through functools.partial)."""
    limit_numba_threads(threads)
    w = windows[window_index]
    res = backcast(scenario, w.start, w.retargets, backend=kernel)
    s = res.scores["simulation"]
    return {
        "rmse_log_pct": s["rmse_log_pct"],
        "mae_pct": s["mae_pct"],
        "bias_pct": s["bias_pct"],
        "n": s["n"],
    }


@dataclass(frozen=True)
class CalibrationResult:
    """The grid, scored on every window, and the best point.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per grid point: the parameters, ``rmse_log_pct_<window start>`` per window and the mean
        ``loss`` (mean of the windows' RMS log errors [%]); sorted by loss.
    best : dict
        The parameters of the lowest loss.
    backcasts : dict
        Per window: the backcast scores with the default parameters and with the best ones (and the
        baselines).
    """

    frame: pd.DataFrame
    best: dict[str, Any]
    backcasts: dict[str, dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The scored grid (a copy)."""
        return self.frame.copy()

    def summary(self) -> dict[str, Any]:
        """JSON-ready: best parameters, per-window scores (default vs best vs baselines), top of the grid."""
        top = self.frame.head(10)
        return {
            "best": self.best,
            "windows": self.backcasts,
            "top": top.astype(object).where(top.notna(), None).to_dict(orient="records"),
            "meta": self.meta,
        }


def calibrate(
    windows: Sequence[Window],
    grid: Mapping[str, Sequence[Any]],
    *,
    backend: SweepBackend = "serial",
    workers: int = 2,
    scheduler: str | None = None,
    kernel: Backend = "numba",
) -> CalibrationResult:
    """Choose the behavioural parameters on `grid` that best reproduce the real retargets of `windows`.

    Loss of a point = mean over windows of the RMS log error [%] of the simulated median difficulty at the
    windows' retargets. Every window's base scenario keeps its seed, so points share random numbers.

    Raises
    ------
    InputError
        No windows, an empty grid, or a parameter path the scenario rejects.
    """
    if not windows:
        raise InputError("windows", "[]", "at least one backcast window")
    if not grid:
        raise InputError("grid", "{}", "at least one parameter with values")
    names = list(grid)
    points = SweepGrid(params={n: list(v) for n, v in grid.items()}).points()
    frame = pd.DataFrame(points)
    labels = []
    for i, w in enumerate(windows):
        label = w.start.snapshot.date.isoformat()
        labels.append(label)
        fn = functools.partial(_window_point, i, list(windows))
        res = run_sweep(
            w.scenario,
            points,
            w.start.snapshot,
            backend=backend,
            workers=workers,
            scheduler=scheduler,
            kernel=kernel,
            point_function=fn,
        )
        frame[f"rmse_log_pct_{label}"] = res.frame["rmse_log_pct"].to_numpy()
    frame["loss"] = frame[[f"rmse_log_pct_{lab}" for lab in labels]].mean(axis=1)
    frame = frame.sort_values("loss", kind="stable").reset_index(drop=True)
    best = {n: _plain(frame.loc[0, n]) for n in names}
    backcasts: dict[str, dict[str, Any]] = {}
    for label, w in zip(labels, windows, strict=True):
        default = backcast(w.scenario, w.start, w.retargets, backend=kernel)
        tuned = backcast(w.scenario.with_params(best), w.start, w.retargets, backend=kernel)
        backcasts[label] = {
            "horizon_days": w.scenario.horizon_days,
            "retargets_scored": default.scores["simulation"]["n"],
            "simulation_default": default.scores["simulation"],
            "simulation_calibrated": tuned.scores["simulation"],
            "persistence": default.scores["persistence"],
            "trend": default.scores["trend"],
        }
    meta = {"points": len(points), "windows": labels, "backend": backend, "paths": windows[0].scenario.paths}
    return CalibrationResult(frame, best, backcasts, meta)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
