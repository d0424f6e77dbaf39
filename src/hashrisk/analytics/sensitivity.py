"""How sensitive is the network's hashrate to price? Measured on stored history, and from the cost curve.

Four measurements on one daily frame (as :meth:`hashrisk.data.store.Store.daily_frame` returns it), and a
verdict on the claim that "the network is more sensitive to price than in past cycles" (JPMorgan, 22 June
2026). Pure functions; no I/O.

1. Distributed-lag elasticities (:func:`measure_sensitivity`). Daily values are averaged over complete
   weeks (Monday-Sunday; a week with a missing day is dropped), and with ``y_t = Δlog H_t`` the weekly log
   change of hashrate and ``x_t = Δlog X_t`` that of the regressor X (the BTC price, or hashprice)::

       y_t = a + sum_{k=0..K} b_k * x_{t-k} + e_t          (K = 8 weeks by default)
       long-run elasticity  E = sum_k b_k

   E is the % change of hashrate, K weeks after a lasting 1% change of X. It is estimated by OLS with
   Newey-West (HAC, Bartlett kernel) standard errors, ``se(E) = sqrt(1' V_HAC 1)``, with the
   Newey-West (1994) lag rule ``L = floor(4 * (T / 100) ** (2 / 9))`` unless given; confidence intervals
   are normal, ``E ± z * se(E)``. It is estimated on the full sample, per halving cycle
   (:data:`hashrisk.analytics.history.CYCLES`; a week belongs to the cycle of its Sunday; lags may reach
   into the previous cycle), and over rolling windows.
2. Change between cycles. The current cycle c and a baseline B (one earlier cycle, or the earlier cycles
   since the first halving pooled) are fitted jointly, with one intercept per cycle and interaction terms
   ``d_t = 1[t in c]``::

       y_t = a_cycle(t) + sum_k b_k x_{t-k} + sum_k g_k d_t x_{t-k} + e_t,     ΔE = sum_k g_k

   with HAC standard errors over the joint sample (weeks in time order). ``ΔE`` equals the difference of
   the separate estimates; its test uses the joint covariance.
3. Difficulty after price drawdowns (:func:`drawdown_responses`): a drawdown starts on the first day the
   price is ``threshold`` or more below its trailing ``peak_window_days`` high (spells closer than
   ``min_gap_days`` merged); the response is the slowdown of difficulty growth, the log change of
   difficulty over the next h days minus that over the h days before (the trend under way is the control).
4. Mechanical sensitivity (:func:`mechanical_sensitivity`): at each week's last day, the share of hashrate
   whose electricity breakeven (:func:`hashrisk.economics.cost.cost_curve` of the fleet) lies within
   ``within_pct`` below that day's price, with that day's difficulty, subsidy and fees. The fleet is the
   **current default fleet assumption** (:meth:`hashrisk.economics.fleet.FleetSpec.default`) unless
   another is given: earlier dates are scored as if today's machines and power prices had mined then. With
   a fixed fleet, breakeven / price = c / hashprice for each cohort, so the share is a function of hashprice
   alone: it reads "how close that day's economics would put today's fleet to its breakeven".

Why these choices: weekly means remove most of the Poisson noise of a daily hashrate estimated from block
counts (about 8% a day) and the day-of-week pattern; log changes remove the exponential trend; eight weeks
of lags span four retargets, the time hardware needs to be switched off or plugged in; the price regression
is the cleaner one, because hashprice contains difficulty, which follows hashrate (a rise in hashrate
lowers hashprice two weeks later), which biases the hashprice elasticity down.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from hashrisk.analytics.history import (
    CYCLES,
    DAILY_COLUMNS,
    check_daily,
    cycle_labels,
    frame_records,
    hashprice_series,
    parse_day,
    spells,
    to_day,
    weekly_means,
)
from hashrisk.economics.cost import cost_curve
from hashrisk.economics.fleet import Fleet, FleetSpec, build_fleet
from hashrisk.economics.revenue import revenue_btc_per_ths_day
from hashrisk.errors import InputError

FloatArray = npt.NDArray[np.float64]

REGRESSORS = {"price": "price_usd", "hashprice": "hashprice_usd_per_ph_day"}
"""Regressor name -> daily column: the BTC price [USD/BTC] and hashprice [USD/(PH/s)/day]."""
POOLED_SINCE = CYCLES[1].start
"""The pooled baseline uses the cycles that began on or after the first halving (2012-11-28): the ASIC
era, which began in early 2013; the 2009-2012 CPU/GPU era is reported but not pooled."""
DRAWDOWN_HORIZONS = (28, 56, 84)
"""Days after a drawdown start at which the difficulty change is read (about 2, 4 and 6 retargets)."""


@dataclass(frozen=True)
class Elasticity:
    """A long-run elasticity ``E = sum_k b_k`` of hashrate to a regressor, on one sample.

    Attributes
    ----------
    regressor : str
        ``price`` or ``hashprice``.
    period : str
        ``all``, a cycle label (``2020-2024``) or ``window``.
    start, end : datetime.date
        First and last week (Sundays) of the sample.
    n_weeks : int
        Observations.
    long_run, se, ci_low, ci_high, p_value : float
        ``E``, its HAC standard error, the confidence interval and the two-sided p-value of ``E = 0``.
    lag_coefficients : tuple of float
        ``b_0 .. b_K``.
    hac_maxlags : int
        Newey-West truncation lag used.
    """

    regressor: str
    period: str
    start: dt.date
    end: dt.date
    n_weeks: int
    long_run: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    lag_coefficients: tuple[float, ...]
    hac_maxlags: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        out = asdict(self)
        out["start"], out["end"] = self.start.isoformat(), self.end.isoformat()
        out["lag_coefficients"] = list(self.lag_coefficients)
        return out


@dataclass(frozen=True)
class ElasticityDifference:
    """``ΔE = E(current) - E(baseline)`` from the joint interaction regression.

    Attributes
    ----------
    regressor : str
    current, baseline : str
        Cycle labels (the baseline may be ``"2012-2024 pooled"``).
    difference, se, ci_low, ci_high, p_value : float
        ``ΔE``, its HAC standard error, confidence interval and two-sided p-value of ``ΔE = 0``.
    n_weeks : int
    hac_maxlags : int
    """

    regressor: str
    current: str
    baseline: str
    difference: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n_weeks: int
    hac_maxlags: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


@dataclass(frozen=True)
class SensitivityResult:
    """Everything :func:`measure_sensitivity` measured, and the verdict.

    Attributes
    ----------
    params : dict
        Lags, windows, confidence, thresholds, the sample's first and last week.
    full_sample, cycles : tuple of Elasticity
        Per regressor; per regressor and halving cycle (cycles with too few weeks are left out).
    differences : tuple of ElasticityDifference
        Current cycle against each earlier cycle and against the pooled ASIC-era cycles, per regressor.
    rolling : pandas.DataFrame
        ``week``, ``regressor``, ``n_weeks``, ``long_run``, ``se``, ``ci_low``, ``ci_high`` per window end.
    drawdowns : pandas.DataFrame
        One row per price drawdown (see :func:`drawdown_responses`).
    mechanical : pandas.DataFrame
        Weekly mechanical sensitivity (see :func:`mechanical_sensitivity`).
    fleet_label : str
        The fleet the mechanical sensitivity used.
    verdict : dict
        ``answer`` (``supported`` / ``not supported`` / ``contradicted`` / ``not measurable``), ``claim``,
        ``test``, ``text`` and ``evidence`` (sentences with numbers).
    """

    params: dict[str, Any]
    full_sample: tuple[Elasticity, ...]
    cycles: tuple[Elasticity, ...]
    differences: tuple[ElasticityDifference, ...]
    rolling: pd.DataFrame
    drawdowns: pd.DataFrame
    mechanical: pd.DataFrame
    fleet_label: str
    verdict: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The elasticity table: full sample and per cycle, one row per (regressor, period)."""
        rows = [e.to_dict() for e in (*self.full_sample, *self.cycles)]
        frame = pd.DataFrame(rows)
        lags = pd.DataFrame(
            frame.pop("lag_coefficients").tolist(), columns=[f"b{k}" for k in range(self.params["lags"] + 1)]
        )
        return pd.concat([frame, lags], axis=1)

    def drawdown_summary(self) -> pd.DataFrame:
        """Per cycle: drawdowns counted and the mean difficulty changes before/after and slowdown per horizon."""
        if self.drawdowns.empty:
            return pd.DataFrame(columns=["cycle", "n"])
        cols = [c for c in self.drawdowns.columns if c.startswith("difficulty_")]
        g = self.drawdowns.groupby("cycle", sort=False)
        out = g[cols].mean()
        out.insert(0, "n", g.size())
        return out.reset_index()

    def summary(self) -> dict[str, Any]:
        """Verdict, elasticities, differences, rolling, drawdown and mechanical figures, JSON-ready."""
        return {
            "verdict": self.verdict,
            "params": self.params,
            "model": (
                "weekly means; Δlog hashrate_t = a + Σ_{k=0..K} b_k Δlog X_{t-k} + e_t; long-run elasticity "
                "E = Σ b_k with Newey-West (HAC) standard errors; per-cycle differences from a joint "
                "regression with cycle intercepts and interactions"
            ),
            "full_sample": [e.to_dict() for e in self.full_sample],
            "cycles": [e.to_dict() for e in self.cycles],
            "differences": [d.to_dict() for d in self.differences],
            "rolling": _rolling_summary(self.rolling),
            "drawdowns": {
                "definition": (
                    f"price {self.params['drawdown_threshold']:.0%} or more below its trailing "
                    f"{self.params['drawdown_peak_window_days']}-day high; difficulty change over the next "
                    "h days against the h days before (slowdown = log change after - log change before)"
                ),
                "per_cycle": frame_records(self.drawdown_summary()),
                "events": frame_records(self.drawdowns),
            },
            "mechanical": _mechanical_summary(self.mechanical, self.fleet_label, self.params["within_pct"]),
        }


# --------------------------------------------------------------------------------------- regressions
def newey_west_lags(n_obs: int) -> int:
    """Newey-West (1994) automatic truncation lag, ``floor(4 * (T / 100) ** (2 / 9))``."""
    return int(4.0 * (n_obs / 100.0) ** (2.0 / 9.0))  # int() floors a positive number


def _lag_frame(x: pd.Series, lags: int) -> pd.DataFrame:
    return pd.concat({f"b{k}": x.shift(k) for k in range(lags + 1)}, axis=1)


def _contrast(
    params: np.ndarray[Any, Any], cov: np.ndarray[Any, Any], r: np.ndarray[Any, Any], z: float
) -> tuple[float, float, float, float, float]:
    est = float(r @ params)
    se = float(math.sqrt(max(float(r @ cov @ r), 0.0)))
    p = float(2.0 * stats.norm.sf(abs(est) / se)) if se > 0 else float("nan")
    return est, se, est - z * se, est + z * se, p


def _ols_hac(y: np.ndarray[Any, Any], x: np.ndarray[Any, Any], maxlags: int) -> tuple[Any, Any]:
    res = sm.OLS(y, x).fit(cov_type="HAC", cov_kwds={"maxlags": maxlags})
    return np.asarray(res.params, dtype=float), np.asarray(res.cov_params(), dtype=float)


@dataclass(frozen=True)
class _Weekly:
    y: pd.Series  # Δlog hashrate, weekly
    lagged: dict[str, pd.DataFrame]  # regressor -> b0..bK columns
    cycle: pd.Series  # cycle label per week


def _weekly(d: pd.DataFrame, lags: int) -> _Weekly:
    daily = d.assign(hashprice_usd_per_ph_day=hashprice_series(d))
    w = weekly_means(daily, ["hashrate_ths", *REGRESSORS.values()])
    changes = pd.DataFrame(np.log(w.to_numpy()), index=w.index, columns=w.columns).diff()
    lagged = {name: _lag_frame(changes[col], lags) for name, col in REGRESSORS.items()}
    return _Weekly(changes["hashrate_ths"], lagged, cycle_labels(pd.DatetimeIndex(w.index)))


def _sample(wk: _Weekly, regressor: str, mask: pd.Series) -> pd.DataFrame:
    frame = pd.concat([wk.y.rename("y"), wk.lagged[regressor], wk.cycle.rename("cycle")], axis=1)
    return frame[mask.reindex(frame.index, fill_value=False).to_numpy(dtype=bool)].dropna()


def _elasticity(
    sample: pd.DataFrame, regressor: str, period: str, lags: int, hac: int | None, z: float
) -> Elasticity:
    cols = [f"b{k}" for k in range(lags + 1)]
    x = np.column_stack([np.ones(len(sample)), sample[cols].to_numpy()])
    maxlags = newey_west_lags(len(sample)) if hac is None else hac
    params, cov = _ols_hac(sample["y"].to_numpy(), x, maxlags)
    r = np.r_[0.0, np.ones(lags + 1)]
    est, se, lo, hi, p = _contrast(params, cov, r, z)
    idx = pd.DatetimeIndex(sample.index)
    return Elasticity(
        regressor=regressor,
        period=period,
        start=idx[0].date(),
        end=idx[-1].date(),
        n_weeks=len(sample),
        long_run=est,
        se=se,
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        lag_coefficients=tuple(float(b) for b in params[1:]),
        hac_maxlags=maxlags,
    )


def _difference(
    sample: pd.DataFrame,
    regressor: str,
    current: str,
    baseline: str,
    lags: int,
    hac: int | None,
    z: float,
) -> ElasticityDifference:
    cols = [f"b{k}" for k in range(lags + 1)]
    labels = sample["cycle"].to_numpy()
    cycles = list(dict.fromkeys(labels))
    dummies = np.column_stack([(labels == c).astype(float) for c in cycles])
    lagged = sample[cols].to_numpy()
    is_cur = (labels == current).astype(float)[:, None]
    x = np.column_stack([dummies, lagged, lagged * is_cur])
    maxlags = newey_west_lags(len(sample)) if hac is None else hac
    params, cov = _ols_hac(sample["y"].to_numpy(), x, maxlags)
    r = np.r_[np.zeros(len(cycles) + lags + 1), np.ones(lags + 1)]
    est, se, lo, hi, p = _contrast(params, cov, r, z)
    return ElasticityDifference(regressor, current, baseline, est, se, lo, hi, p, len(sample), maxlags)


def _rolling(
    wk: _Weekly,
    in_window: pd.Series,
    lags: int,
    window: int,
    step: int,
    min_weeks: int,
    hac: int | None,
    z: float,
) -> pd.DataFrame:
    weeks = pd.DatetimeIndex(_sample(wk, "price", in_window).index)  # weeks with y and every price lag
    rows: list[dict[str, Any]] = []
    ends = range(len(weeks) - 1, window - 2, -step) if len(weeks) >= window else range(0)
    for pos in sorted(ends):
        span = pd.Series(False, index=wk.y.index)
        span.loc[weeks[pos - window + 1] : weeks[pos]] = True
        for name in REGRESSORS:
            sample = _sample(wk, name, span)
            if len(sample) < min_weeks:
                continue
            e = _elasticity(sample, name, "window", lags, hac, z)
            rows.append(
                {
                    "week": pd.Timestamp(e.end),
                    "regressor": name,
                    "n_weeks": e.n_weeks,
                    "long_run": e.long_run,
                    "se": e.se,
                    "ci_low": e.ci_low,
                    "ci_high": e.ci_high,
                }
            )
    cols = ["week", "regressor", "n_weeks", "long_run", "se", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=cols)


def _rolling_summary(rolling: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, g in rolling.groupby("regressor", sort=False):
        g = g.sort_values("week")
        last = g.iloc[-1]
        values = g["long_run"].to_numpy()
        hi = g.iloc[int(np.argmax(values))]
        lo = g.iloc[int(np.argmin(values))]
        earlier = g["long_run"].iloc[:-1]
        out[str(name)] = {
            "windows": len(g),
            "latest": {
                "week": to_day(last["week"]),
                "long_run": float(last["long_run"]),
                "ci_low": float(last["ci_low"]),
                "ci_high": float(last["ci_high"]),
            },
            "share_of_earlier_windows_higher": float((earlier > last["long_run"]).mean())
            if len(earlier)
            else None,
            "max": {"week": to_day(hi["week"]), "long_run": float(hi["long_run"])},
            "min": {"week": to_day(lo["week"]), "long_run": float(lo["long_run"])},
            "series": [
                {"week": to_day(w), "long_run": float(e), "ci_low": float(lo_), "ci_high": float(hi_)}
                for w, e, lo_, hi_ in zip(g["week"], g["long_run"], g["ci_low"], g["ci_high"], strict=True)
            ],
        }
    return out


# --------------------------------------------------------------------------------------- drawdowns
def drawdown_responses(
    daily: pd.DataFrame,
    *,
    threshold: float = 0.20,
    peak_window_days: int = 90,
    min_gap_days: int = 30,
    horizons: Sequence[int] = DRAWDOWN_HORIZONS,
    start: str | dt.date | None = None,
) -> pd.DataFrame:
    """Difficulty growth after each price drawdown against its growth before (model 3 of the module docstring).

    ``dd_t = price_t / max(price_{t-W+1..t}) - 1`` with W = `peak_window_days`; a drawdown starts on the
    first day t of a spell with ``dd_t <= -threshold`` (spells separated by fewer than `min_gap_days` days
    merged). For each horizon h, with D the day's mean difficulty::

        difficulty_after_{h}d  = D_{t+h} / D_t - 1
        difficulty_before_{h}d = D_t / D_{t-h} - 1
        difficulty_slowdown_{h}d = log(D_{t+h} / D_t) - log(D_t / D_{t-h})     (log points)

    A negative slowdown means difficulty grew less (or fell more) after the drawdown than before it, the
    trend that was under way being the control (difficulty grows most in the bubbles that precede
    drawdowns, so a cycle-wide average would be the wrong baseline). ``price_after_{h}d`` gives the
    price's own path.

    Parameters
    ----------
    daily : pandas.DataFrame
        Daily ``price_usd`` and ``difficulty``.
    threshold : float
        Drawdown that starts an event (0.20 = 20% below the trailing high).
    peak_window_days : int
        Trailing window of the high [days].
    min_gap_days : int
        Spells closer than this merge [days].
    horizons : sequence of int
        Horizons [days].
    start : date-like, optional
        Only events from this day (earlier history still defines the trailing highs and the "before").

    Returns
    -------
    pandas.DataFrame
        One row per event: ``date``, ``cycle``, ``price_usd``, ``drawdown``, and per horizon
        ``price_after_{h}d``, ``difficulty_before_{h}d``, ``difficulty_after_{h}d``,
        ``difficulty_slowdown_{h}d`` (NaN beyond the data).
    """
    if not (0 < threshold < 1):
        raise InputError("drawdown_threshold", threshold, "a fraction between 0 and 1 (0.20 = 20%)")
    if peak_window_days < 2:
        raise InputError("peak_window_days", peak_window_days, "a whole number of days >= 2")
    d = check_daily(daily, ["price_usd", "difficulty"])
    price, diff = d["price_usd"], d["difficulty"]
    peak = price.rolling(peak_window_days, min_periods=1).max()
    dd = price / peak - 1.0
    events = pd.DatetimeIndex(spells((dd <= -threshold).where(dd.notna()), min_gap_days)["start"])
    if start is not None:
        events = events[events >= parse_day(start, "start")]
    labels = cycle_labels(pd.DatetimeIndex(d.index))
    log_d = np.log(diff)
    cols = ["date", "cycle", "price_usd", "drawdown"]
    out = pd.DataFrame(
        {
            "date": events,
            "cycle": labels.reindex(events).to_numpy(),
            "price_usd": price.reindex(events).to_numpy(),
            "drawdown": dd.reindex(events).to_numpy(),
        },
        columns=cols,
    )
    for h in horizons:
        after = (log_d.shift(-h) - log_d).reindex(events).to_numpy()
        before = (log_d - log_d.shift(h)).reindex(events).to_numpy()
        out[f"price_after_{h}d"] = (price.shift(-h) / price - 1.0).reindex(events).to_numpy()
        out[f"difficulty_before_{h}d"] = np.expm1(before)
        out[f"difficulty_after_{h}d"] = np.expm1(after)
        out[f"difficulty_slowdown_{h}d"] = after - before
    return out


# --------------------------------------------------------------------------------------- mechanical
_REF_DIFFICULTY = 1.0e12
"""Reference difficulty of :func:`fleet_margins` (any positive value gives the same result)."""
_REF_REWARD_BTC = 1.0
"""Reference reward per block of :func:`fleet_margins` [BTC/block] (any positive value)."""


def fleet_margins(
    fleet: Fleet,
    *,
    price_usd: npt.ArrayLike,
    difficulty: npt.ArrayLike,
    subsidy_btc: npt.ArrayLike,
    fees_btc_per_block: npt.ArrayLike,
    within_pct: float = 0.10,
) -> dict[str, FloatArray]:
    """Shares of a fleet's hashrate underwater and near breakeven on many days at once, from one cost curve.

    A cohort's electricity breakeven (:func:`hashrisk.economics.machine.breakeven_price_usd`) is
    ``c_j / r_t`` with ``c_j`` its electricity cost per TH/s per day and ``r_t`` the day's revenue
    [BTC/(TH/s)/day] (:func:`hashrisk.economics.revenue.revenue_btc_per_ths_day`). So one cost curve
    (:func:`hashrisk.economics.cost.cost_curve`) at a reference state ``r_ref`` serves every day: the
    day's price P_t is compared with the reference breakevens at the equivalent price
    ``P*_t = P_t * r_t / r_ref``, and the day's breakeven quantiles are the reference ones times
    ``r_ref / r_t``:

    - ``share_unprofitable_t`` = share of hashrate with breakeven > P_t,
    - ``share_within_t`` = share with ``P_t * (1 - within_pct) < breakeven <= P_t``,
    - ``breakeven_p50_usd_t`` = median breakeven [USD/BTC].

    Parameters
    ----------
    fleet : Fleet
        Cohorts (:func:`hashrisk.economics.fleet.build_fleet`); only their shares of hashrate matter.
    price_usd : array_like
        Prices [USD/BTC], > 0.
    difficulty : array_like
        Difficulties [-], > 0.
    subsidy_btc, fees_btc_per_block : array_like
        Reward parts [BTC/block].
    within_pct : float
        Margin band (0.10 = within 10% of breakeven).

    Returns
    -------
    dict of str to ndarray
        ``share_unprofitable``, ``share_within`` [-] and ``breakeven_p50_usd`` [USD/BTC], one per day.
    """
    curve = cost_curve(fleet, _REF_DIFFICULTY, _REF_REWARD_BTC, 0.0)
    r_ref = float(revenue_btc_per_ths_day(_REF_DIFFICULTY, _REF_REWARD_BTC, 0.0))
    scale = revenue_btc_per_ths_day(difficulty, subsidy_btc, fees_btc_per_block) / r_ref
    equivalent = np.asarray(price_usd, dtype=np.float64) * scale
    return {
        "share_unprofitable": np.asarray(curve.share_unprofitable(equivalent), dtype=np.float64),
        "share_within": np.asarray(curve.share_within(equivalent, within_pct), dtype=np.float64),
        "breakeven_p50_usd": float(curve.quantile(0.5)) / scale,
    }


def mechanical_sensitivity(
    daily: pd.DataFrame,
    *,
    fleet: FleetSpec | None = None,
    within_pct: float = 0.10,
    start: str | dt.date | None = None,
) -> tuple[pd.DataFrame, str]:
    """Weekly share of hashrate within `within_pct` of breakeven, from the cost curve (model 4).

    At each week's Sunday t with all inputs stored: cohorts of `fleet`
    (:func:`hashrisk.economics.fleet.build_fleet`), electricity breakevens at that day's difficulty,
    subsidy per block ``subsidy_btc / blocks`` and fees per block ``fees_btc / blocks``
    (:func:`hashrisk.economics.cost.cost_curve`), and at that day's price P:
    ``share_within = share of hashrate with P * (1 - within_pct) < breakeven <= P`` and
    ``share_unprofitable = share with breakeven > P``.

    Parameters
    ----------
    daily : pandas.DataFrame
        Daily history with the columns of :data:`hashrisk.analytics.history.DAILY_COLUMNS`.
    fleet : FleetSpec, optional
        Fleet mix; default the packaged **current** fleet assumption, applied to every date.
    within_pct : float
        Margin band (0.10 = within 10% of breakeven).
    start : date-like, optional
        First week.

    Returns
    -------
    (pandas.DataFrame, str)
        Frame indexed by ``week`` (Sunday) with ``price_usd``, ``hashprice_usd_per_ph_day``,
        ``breakeven_p50_usd``, ``share_unprofitable`` and ``share_within``; and the fleet's label.
    """
    if not (0 < within_pct < 1):
        raise InputError("within_pct", within_pct, "a fraction between 0 and 1 (0.10 = 10%)")
    d = check_daily(daily, DAILY_COLUMNS)
    spec = FleetSpec.default() if fleet is None else fleet
    sundays = d[pd.DatetimeIndex(d.index).day_of_week == 6]
    if start is not None:
        sundays = sundays[sundays.index >= parse_day(start, "start")]
    ok = sundays.notna().all(axis=1) & (sundays["blocks"] > 0)
    sundays = sundays[ok]
    hp = hashprice_series(d).reindex(sundays.index)
    cols = [
        "price_usd",
        "hashprice_usd_per_ph_day",
        "breakeven_p50_usd",
        "share_unprofitable",
        "share_within",
    ]
    if sundays.empty:
        return pd.DataFrame(columns=cols, index=pd.DatetimeIndex([], name="week")), spec.label
    # cohort shares of hashrate do not depend on the network total: build the fleet once
    cohorts = build_fleet(spec, float(sundays["hashrate_ths"].iloc[-1]))
    blocks = sundays["blocks"].to_numpy()
    margins = fleet_margins(
        cohorts,
        price_usd=sundays["price_usd"].to_numpy(),
        difficulty=sundays["difficulty"].to_numpy(),
        subsidy_btc=sundays["subsidy_btc"].to_numpy() / blocks,
        fees_btc_per_block=sundays["fees_btc"].to_numpy() / blocks,
        within_pct=within_pct,
    )
    frame = pd.DataFrame(
        {
            "price_usd": sundays["price_usd"].to_numpy(),
            "hashprice_usd_per_ph_day": hp.to_numpy(),
            "breakeven_p50_usd": margins["breakeven_p50_usd"],
            "share_unprofitable": margins["share_unprofitable"],
            "share_within": margins["share_within"],
        },
        index=pd.DatetimeIndex(sundays.index, name="week"),
    )
    return frame, spec.label


def _mechanical_summary(mech: pd.DataFrame, label: str, within_pct: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "fleet": label,
        "within_pct": within_pct,
        "note": (
            "the fleet mix is the current default assumption applied to every date (today's machines and power "
            "prices scored at each date's price, difficulty and fees), so the share is a function of that "
            "date's hashprice alone; it is not the historical fleet"
        ),
    }
    if mech.empty:
        return out
    s = mech["share_within"]
    last_t = pd.Timestamp(mech.index[-1])
    by_cycle = s.groupby(cycle_labels(pd.DatetimeIndex(mech.index)), sort=False).mean()
    out.update(
        {
            "latest": {
                "week": to_day(last_t),
                "share_within": float(s.iloc[-1]),
                "share_unprofitable": float(mech["share_unprofitable"].iloc[-1]),
                "hashprice_usd_per_ph_day": float(mech["hashprice_usd_per_ph_day"].iloc[-1]),
                "breakeven_p50_usd": float(mech["breakeven_p50_usd"].iloc[-1]),
            },
            "share_of_weeks_below_latest": float((s < s.iloc[-1]).mean()),
            "max": {"week": to_day(s.idxmax()), "share_within": float(s.max())},
            "mean_share_within_by_cycle": {str(k): float(v) for k, v in by_cycle.items()},
        }
    )
    return out


# --------------------------------------------------------------------------------------- verdict
def _fmt(e: Elasticity | ElasticityDifference, conf: float) -> str:
    value = e.long_run if isinstance(e, Elasticity) else e.difference
    return f"{value:+.2f} [{conf:.0%} CI {e.ci_low:+.2f}, {e.ci_high:+.2f}]"


def _verdict(
    cycles: Sequence[Elasticity],
    diffs: Sequence[ElasticityDifference],
    rolling: pd.DataFrame,
    drawdowns: pd.DataFrame,
    mech: dict[str, Any],
    conf: float,
) -> dict[str, Any]:
    claim = "the network's hashrate is more sensitive to price than in past cycles"
    test = (
        "long-run price elasticity of hashrate in the current halving cycle minus that of the previous cycle "
        f"(joint distributed-lag regression, HAC); supported if the {conf:.0%} CI lies above 0, contradicted "
        "if it lies below 0, not supported otherwise"
    )
    price_cycles = [e for e in cycles if e.regressor == "price"]
    evidence: list[str] = []
    if price_cycles:
        evidence.append(
            "price elasticity by cycle: " + "; ".join(f"{e.period} {_fmt(e, conf)}" for e in price_cycles)
        )
    hp_cycles = [e for e in cycles if e.regressor == "hashprice"]
    if hp_cycles:
        evidence.append(
            "hashprice elasticity by cycle: " + "; ".join(f"{e.period} {_fmt(e, conf)}" for e in hp_cycles)
        )
    for dd in diffs:
        evidence.append(
            f"{dd.regressor} elasticity, {dd.current} minus {dd.baseline}: {_fmt(dd, conf)}, p = {dd.p_value:.2f}"
        )
    price_roll = rolling[rolling["regressor"] == "price"].sort_values("week")
    if len(price_roll) > 1:
        last = price_roll.iloc[-1]
        higher = float((price_roll["long_run"].iloc[:-1] > last["long_run"]).mean())
        evidence.append(
            f"rolling price elasticity, window ending {to_day(last['week'])}: {last['long_run']:+.2f} "
            f"[{last['ci_low']:+.2f}, {last['ci_high']:+.2f}]; {higher:.0%} of earlier windows were higher"
        )
    if not drawdowns.empty:
        h = DRAWDOWN_HORIZONS[1]
        per = drawdowns.groupby("cycle", sort=False)[f"difficulty_slowdown_{h}d"].agg(["mean", "count"])
        evidence.append(
            f"difficulty growth in the {h} days after a price drawdown minus the {h} days before (mean, log "
            "points): "
            + "; ".join(
                f"{k} {v['mean']:+.3f} (n={int(v['count'])})" if np.isfinite(v["mean"]) else f"{k} n/a"
                for k, v in per.iterrows()
            )
        )
    if "latest" in mech:
        lt = mech["latest"]
        evidence.append(
            f"mechanical (cost curve, current fleet assumption): {lt['share_within']:.0%} of hashrate within "
            f"{mech['within_pct']:.0%} of breakeven on {lt['week']} (higher than on "
            f"{mech['share_of_weeks_below_latest']:.0%} of weeks scored with the same fleet); this is a "
            "statement about today's hashprice, not a measured change in behaviour"
        )
    primary = next(
        (
            d
            for d in diffs
            if d.regressor == "price" and not d.baseline.endswith("pooled") and _is_previous(d)
        ),
        None,
    )
    if primary is None:
        return {
            "answer": "not measurable",
            "claim": claim,
            "test": test,
            "text": "the window holds too few weeks of the current cycle or of the previous one to compare them",
            "evidence": evidence,
        }
    if primary.ci_low > 0:
        answer = "supported"
        why = "the current cycle's elasticity is higher and the confidence interval of the difference lies above 0"
    elif primary.ci_high < 0:
        answer = "contradicted"
        why = "the current cycle's elasticity is lower and the confidence interval of the difference lies below 0"
    else:
        answer = "not supported"
        why = "the difference is not distinguishable from zero at this confidence"
    cur = next(e for e in price_cycles if e.period == primary.current)
    prev = next(e for e in price_cycles if e.period == primary.baseline)
    text = (
        f"{answer}: long-run price elasticity of hashrate {cur.period} {_fmt(cur, conf)} vs {prev.period} "
        f"{_fmt(prev, conf)}; difference {_fmt(primary, conf)} (p = {primary.p_value:.2f}): {why}"
    )
    return {"answer": answer, "claim": claim, "test": test, "text": text, "evidence": evidence}


def _is_previous(d: ElasticityDifference) -> bool:
    labels = [c.label for c in CYCLES]
    return labels.index(d.current) - labels.index(d.baseline) == 1


# --------------------------------------------------------------------------------------- entry point
def measure_sensitivity(
    daily: pd.DataFrame,
    *,
    lags: int = 8,
    window_weeks: int = 104,
    step_weeks: int = 4,
    confidence: float = 0.95,
    hac_maxlags: int | None = None,
    start: str | dt.date | None = None,
    fleet: FleetSpec | None = None,
    within_pct: float = 0.10,
    drawdown_threshold: float = 0.20,
    drawdown_peak_window_days: int = 90,
) -> SensitivityResult:
    """Elasticities of hashrate to price and hashprice, their change across cycles, and the verdict.

    See the module docstring for the models and formulas.

    Parameters
    ----------
    daily : pandas.DataFrame
        Daily history indexed by UTC day with the columns of
        :data:`hashrisk.analytics.history.DAILY_COLUMNS` (``Store().daily_frame()``).
    lags : int
        K, the number of weekly lags (0..K are used) [weeks].
    window_weeks : int
        Length of the rolling windows [weeks].
    step_weeks : int
        Spacing of the rolling windows' ends [weeks] (the last window always ends on the last week).
    confidence : float
        Level of every confidence interval (0.95).
    hac_maxlags : int, optional
        Newey-West truncation lag; default the automatic rule :func:`newey_west_lags`.
    start : date-like, optional
        First week of the samples (earlier history still feeds the lags, trailing highs and averages).
    fleet : FleetSpec, optional
        Fleet of the mechanical sensitivity (default: the packaged current fleet assumption).
    within_pct : float
        Band of the mechanical sensitivity (0.10 = within 10% of breakeven).
    drawdown_threshold : float
        Price drawdown that starts a drawdown event (0.20 = 20%).
    drawdown_peak_window_days : int
        Trailing window of the price high for drawdowns [days].

    Returns
    -------
    SensitivityResult

    Raises
    ------
    InputError
        Bad frame (see :func:`~hashrisk.analytics.history.check_daily`), bad parameters, or fewer complete
        weeks of price and hashrate than ``4 * (lags + 2)`` in the window.
    """
    if isinstance(lags, bool) or not isinstance(lags, int) or not 0 <= lags <= 26:
        raise InputError("lags", lags, "a whole number of weeks from 0 to 26")
    if not (0.5 <= confidence < 1):
        raise InputError("confidence", confidence, "a level between 0.5 and 1 (0.95 = 95%)")
    if hac_maxlags is not None and (isinstance(hac_maxlags, bool) or hac_maxlags < 0):
        raise InputError(
            "hac_maxlags", hac_maxlags, "a whole number of weeks >= 0, or None for the automatic rule"
        )
    if step_weeks < 1:
        raise InputError("step_weeks", step_weeks, "a whole number of weeks >= 1")
    min_weeks = 4 * (lags + 2)
    if window_weeks < min_weeks:
        raise InputError(
            "window_weeks", window_weeks, f"at least {min_weeks} weeks (4 per parameter with {lags} lags)"
        )
    d = check_daily(daily, DAILY_COLUMNS)
    first = parse_day(start, "start") if start is not None else None
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    wk = _weekly(d, lags)
    weeks = pd.DatetimeIndex(wk.y.index)
    in_window = pd.Series(True if first is None else weeks >= first, index=weeks)
    price_all = _sample(wk, "price", in_window)
    if len(price_all) < min_weeks:
        span = f"{to_day(price_all.index[0])}..{to_day(price_all.index[-1])}" if len(price_all) else "none"
        raise InputError(
            "daily",
            f"{len(price_all)} complete weeks of price and hashrate ({span})",
            f"at least {min_weeks} complete weeks for {lags} weekly lags",
            hint="import more history (hashrisk data import FILE) or move --start earlier",
        )
    full: list[Elasticity] = []
    per_cycle: list[Elasticity] = []
    samples: dict[tuple[str, str], pd.DataFrame] = {}
    for name in REGRESSORS:
        s_all = _sample(wk, name, in_window)
        if len(s_all) >= min_weeks:
            full.append(_elasticity(s_all, name, "all", lags, hac_maxlags, z))
        for label, s in s_all.groupby("cycle", sort=False):
            if len(s) >= min_weeks:
                samples[(name, str(label))] = s
                per_cycle.append(_elasticity(s, name, str(label), lags, hac_maxlags, z))
    current = str(price_all["cycle"].iloc[-1])
    labels = [c.label for c in CYCLES]
    diffs: list[ElasticityDifference] = []
    for name in REGRESSORS:
        if (name, current) not in samples:
            continue
        earlier = [lab for lab in labels[: labels.index(current)] if (name, lab) in samples]
        for lab in reversed(earlier):
            joint = pd.concat([samples[(name, lab)], samples[(name, current)]]).sort_index()
            diffs.append(_difference(joint, name, current, lab, lags, hac_maxlags, z))
        pooled = [lab for lab in earlier if next(c for c in CYCLES if c.label == lab).start >= POOLED_SINCE]
        if len(pooled) > 1:
            joint = pd.concat(
                [samples[(name, lab)] for lab in pooled] + [samples[(name, current)]]
            ).sort_index()
            base = f"{pooled[0].split('-')[0]}-{current.split('-')[0]} pooled"
            diffs.append(_difference(joint, name, current, base, lags, hac_maxlags, z))
    rolling = _rolling(wk, in_window, lags, window_weeks, step_weeks, min_weeks, hac_maxlags, z)
    drawdowns = drawdown_responses(
        d, threshold=drawdown_threshold, peak_window_days=drawdown_peak_window_days, start=first
    )
    mech, fleet_label = mechanical_sensitivity(d, fleet=fleet, within_pct=within_pct, start=first)
    params: dict[str, Any] = {
        "lags": lags,
        "window_weeks": window_weeks,
        "step_weeks": step_weeks,
        "confidence": confidence,
        "hac_maxlags": "Newey-West rule floor(4 (T/100)^(2/9))" if hac_maxlags is None else hac_maxlags,
        "min_weeks": min_weeks,
        "first_week": to_day(price_all.index[0]),
        "last_week": to_day(price_all.index[-1]),
        "current_cycle": current,
        "within_pct": within_pct,
        "drawdown_threshold": drawdown_threshold,
        "drawdown_peak_window_days": drawdown_peak_window_days,
        "halving_days": [c.start.isoformat() for c in CYCLES[1:]],
    }
    mech_summary = _mechanical_summary(mech, fleet_label, within_pct)
    verdict = _verdict(per_cycle, diffs, rolling, drawdowns, mech_summary, confidence)
    return SensitivityResult(
        params=params,
        full_sample=tuple(full),
        cycles=tuple(per_cycle),
        differences=tuple(diffs),
        rolling=rolling,
        drawdowns=drawdowns,
        mechanical=mech,
        fleet_label=fleet_label,
        verdict=verdict,
    )
