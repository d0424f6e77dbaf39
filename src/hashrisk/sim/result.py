"""Streaming summaries of a run and the :class:`SimResult` they end in.

Memory choice (documented in the engine too): the kernels write per-path daily series for one chunk of
paths at a time; each chunk is folded into **fixed-bin histograms per day** (one per summary series) with
the exact per-day minimum, maximum and mean, then dropped. Histograms add up across chunks (and across
workers), so the fans use every path with bounded memory, whatever the number of paths: quantiles are
read off the cumulative counts with linear interpolation inside a bin and clamped to the exact min/max
(a flat series therefore gives its exact value). Resolution: 0.2% of price, 0.1% of hashrate and
difficulty, 0.2% of ``1 + BTC sold``, 0.001 of the offline share. Per-retarget distributions are
histograms too (day, difficulty level, change). Per-path scalars (BTC sold, drawdowns, first/worst
retarget change, recovery days, ...) are kept exactly for every path (a dozen float64 per path).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, astuple, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hashrisk.chain.pow import RETARGET_INTERVAL_BLOCKS, bits_to_difficulty
from hashrisk.constants import DAYS_PER_YEAR
from hashrisk.sim.arrays import (
    N_OF,
    N_PF,
    N_PI,
    OF_BTC_END,
    OF_CASH_END,
    OF_DRAWN_BTC,
    OF_NEED_USD,
    OF_PRODUCED_BTC,
    OF_RAISE_COST_USD,
    OF_RAISED_USD,
    OF_ROUTINE_USD,
    OF_SOLD_PRODUCTION_BTC,
    PF_FORCED_BTC,
    PF_HASHRATE_MIN,
    PF_MDD,
    PF_MDD_EXO,
    PF_OFFLINE_MAX,
    PF_RETIRED_SHARE,
    PF_SOLD_BTC,
    PF_VOL,
    PF_VOL_EXO,
    PI_DROP_DAY,
    PI_N_RETARGETS,
    PI_RECOVERY_DAY,
    SERIES,
    ChunkOutputs,
)
from hashrisk.sim.histograms import (
    AXIS_LINEAR,
    AXIS_LOG1P,
    AXIS_LOG_RATIO,
    accumulate_daily,
    accumulate_retargets,
)
from hashrisk.sim.scenario import Scenario

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
QUANTILES = (0.05, 0.25, 0.50, 0.75, 0.95)
Q_LABELS = ("p05", "p25", "p50", "p75", "p95")
DROP_THRESHOLDS_PCT = (0.0, 2.0, 5.0, 10.0, 15.0, 20.0)
"""Default difficulty-drop thresholds [%] reported by :meth:`SimResult.summary`."""


@dataclass(frozen=True)
class Axis:
    """Fixed bins of one summary series: ``n_bins`` equal bins of the transformed value over ``[lo, hi)``."""

    kind: int
    lo: float
    hi: float
    n_bins: int

    @property
    def width(self) -> float:
        """Bin width in transformed units."""
        return (self.hi - self.lo) / self.n_bins

    def inverse(self, x: FloatArray, ref: float) -> FloatArray:
        """Back from transformed units to values."""
        if self.kind == AXIS_LOG_RATIO:
            out: FloatArray = ref * np.exp(x)
            return out
        if self.kind == AXIS_LOG1P:
            return np.expm1(x)
        return x


AXES: dict[str, Axis] = {
    "price_usd": Axis(AXIS_LOG_RATIO, -6.0, 6.0, 6_000),
    "hashrate_ths": Axis(AXIS_LOG_RATIO, -5.0, 3.0, 8_000),
    "difficulty": Axis(AXIS_LOG_RATIO, -5.0, 3.0, 8_000),
    "sold_btc": Axis(AXIS_LOG1P, 0.0, 14.0, 7_000),
    "offline_share": Axis(AXIS_LINEAR, 0.0, 1.0, 1_000),
}
"""Bins of the daily fans (log ratios to the start value for price, hashrate and difficulty)."""
LEVEL_AXIS = Axis(AXIS_LOG_RATIO, -5.0, 3.0, 16_000)
"""Bins of a retarget's difficulty, ``log(difficulty / start difficulty)`` (0.05% wide)."""
CHANGE_AXIS = Axis(AXIS_LOG_RATIO, math.log(0.25) - 0.001, math.log(4.0) + 0.001, 27_746)
"""Bins of a retarget's change, ``log(new / old)`` over the consensus clamp [1/4, 4] (0.01% wide)."""


def hist_quantiles(
    counts: npt.NDArray[np.integer], axis: Axis, ref: float, vmin: FloatArray, vmax: FloatArray
) -> FloatArray:
    """Quantiles :data:`QUANTILES` of each row of `counts` (rows with no count give NaN).

    ``q``-quantile: the first bin ``b`` whose cumulative count reaches ``q N``, interpolated linearly inside
    it, transformed back, and clamped to the row's exact ``[vmin, vmax]``.
    """
    cum = np.cumsum(counts, axis=1, dtype=np.int64)
    total = cum[:, -1].astype(float)
    out = np.full((counts.shape[0], len(QUANTILES)), np.nan)
    ok = total > 0
    for j, q in enumerate(QUANTILES):
        target = q * total
        b = np.minimum((cum < target[:, None]).sum(axis=1), counts.shape[1] - 1)
        rows = np.arange(counts.shape[0])
        prev = np.where(b > 0, cum[rows, np.maximum(b - 1, 0)], 0).astype(float)
        width = counts[rows, b].astype(float)
        frac = np.clip(np.divide(target - prev, width, out=np.zeros_like(target), where=width > 0), 0.0, 1.0)
        x = axis.lo + (b + frac) * axis.width
        value = axis.inverse(x, ref)
        out[:, j] = np.where(ok, np.clip(value, vmin, vmax), np.nan)
    return out


@dataclass
class DailyHistogram:
    """Mergeable per-day summary of one series: fixed-bin counts, exact min, max and sum."""

    axis: Axis
    ref: float
    counts: npt.NDArray[np.int32]
    vmin: FloatArray
    vmax: FloatArray
    vsum: FloatArray
    n: int = 0

    @classmethod
    def empty(cls, axis: Axis, ref: float, n_days: int) -> DailyHistogram:
        """A histogram with no paths yet."""
        return cls(
            axis,
            ref,
            np.zeros((n_days, axis.n_bins), dtype=np.int32),
            np.full(n_days, np.inf),
            np.full(n_days, -np.inf),
            np.zeros(n_days),
        )

    def add(self, values: npt.NDArray[np.floating]) -> None:
        """Fold per-path daily values ``(P, D)`` in."""
        a = self.axis
        accumulate_daily(
            values, a.kind, self.ref, a.lo, 1.0 / a.width, self.counts, self.vmin, self.vmax, self.vsum
        )
        self.n += int(values.shape[0])

    def merge(self, other: DailyHistogram) -> None:
        """Add another histogram of the same series (other paths)."""
        self.counts += other.counts
        self.vmin = np.minimum(self.vmin, other.vmin)
        self.vmax = np.maximum(self.vmax, other.vmax)
        self.vsum += other.vsum
        self.n += other.n

    def quantiles(self) -> FloatArray:
        """``(D, 5)`` quantiles p05 .. p95."""
        return hist_quantiles(self.counts, self.axis, self.ref, self.vmin, self.vmax)

    def mean(self) -> FloatArray:
        """Exact per-day mean over paths."""
        out: FloatArray = self.vsum / max(self.n, 1)
        return out


@dataclass
class RetargetHistograms:
    """Mergeable distributions of the j-th retarget of the horizon, j = 0 .. R-1.

    ``extremes[j]`` holds the exact (min level, max level, min change, max change) as ratios (level to the
    start difficulty, change to the previous difficulty).
    """

    d0: float
    n_days: int
    reach: IntArray
    day_counts: IntArray
    level_counts: IntArray
    change_counts: IntArray
    extremes: FloatArray

    @classmethod
    def empty(cls, d0: float, n_days: int, max_retargets: int) -> RetargetHistograms:
        """No paths yet."""
        r = max_retargets
        extremes = np.empty((r, 4))
        extremes[:, 0::2] = np.inf
        extremes[:, 1::2] = -np.inf
        return cls(
            d0,
            n_days,
            np.zeros(r, dtype=np.int64),
            np.zeros((r, n_days), dtype=np.int64),
            np.zeros((r, LEVEL_AXIS.n_bins), dtype=np.int64),
            np.zeros((r, CHANGE_AXIS.n_bins), dtype=np.int64),
            extremes,
        )

    def add(self, day: npt.NDArray[np.int32], bits: IntArray, bits0: int) -> tuple[FloatArray, FloatArray]:
        """Fold a chunk's ``(P, R)`` retarget days and nBits in.

        Returns
        -------
        first_change, min_change : ndarray (P,)
            Per path: change of the first retarget and the most negative change [fraction] (NaN: none).
        """
        n_p = day.shape[0]
        first = np.full(n_p, np.nan)
        worst = np.full(n_p, np.nan)
        accumulate_retargets(
            day, bits, bits0, self.d0,
            LEVEL_AXIS.lo, 1.0 / LEVEL_AXIS.width, CHANGE_AXIS.lo, 1.0 / CHANGE_AXIS.width,
            self.reach, self.day_counts, self.level_counts, self.change_counts, self.extremes, first, worst,
        )  # fmt: skip
        return first, worst

    def merge(self, other: RetargetHistograms) -> None:
        """Add another set of retarget histograms (other paths)."""
        self.reach += other.reach
        self.day_counts += other.day_counts
        self.level_counts += other.level_counts
        self.change_counts += other.change_counts
        self.extremes[:, 0::2] = np.minimum(self.extremes[:, 0::2], other.extremes[:, 0::2])
        self.extremes[:, 1::2] = np.maximum(self.extremes[:, 1::2], other.extremes[:, 1::2])


def _discrete_quantiles(counts: IntArray) -> FloatArray:
    """Quantiles :data:`QUANTILES` of integer-valued rows (first value whose cumulative share reaches q)."""
    cum = np.cumsum(counts, axis=1)
    total = cum[:, -1].astype(float)
    out = np.full((counts.shape[0], len(QUANTILES)), np.nan)
    for j, q in enumerate(QUANTILES):
        idx = (cum < (q * total)[:, None]).sum(axis=1)
        out[:, j] = np.where(total > 0, idx, np.nan)
    return out


@dataclass(frozen=True)
class StartInfo:
    """The start state a run used.

    Attributes
    ----------
    date : datetime.date
        Day 0.
    price_usd : float
        Start price [USD/BTC].
    difficulty : float
        Difficulty in force (of `bits`) [-].
    bits : int
        nBits in force.
    hashrate_ths : float
        Online hashrate at the start [TH/s].
    fees_btc_per_block : float
        Mean fees [BTC/block].
    height : int
        Last block mined at the start.
    subsidy_btc : float
        Subsidy of the next block [BTC].
    epoch_first_time_s : int
        Time of the current period's first block [s relative to the start].
    sources : dict
        Where each snapshot field comes from.
    """

    date: dt.date
    price_usd: float
    difficulty: float
    bits: int
    hashrate_ths: float
    fees_btc_per_block: float
    height: int
    subsidy_btc: float
    epoch_first_time_s: int
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def first_retarget_height(self) -> int:
        """Height of the first block the simulation mines at a new difficulty, ``2016 * ((height + 1) // 2016
        + 1)`` (when the tip closes a period, the retarget of the next block is applied at the start)."""
        return ((self.height + 1) // RETARGET_INTERVAL_BLOCKS + 1) * RETARGET_INTERVAL_BLOCKS

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "date": self.date.isoformat(),
            "price_usd": self.price_usd,
            "difficulty": self.difficulty,
            "bits": f"0x{self.bits:08x}",
            "hashrate_ths": self.hashrate_ths,
            "fees_btc_per_block": self.fees_btc_per_block,
            "height": self.height,
            "subsidy_btc": self.subsidy_btc,
            "first_retarget_height": self.first_retarget_height,
            "sources": dict(self.sources),
        }


@dataclass
class SimAccumulator:
    """Everything a run keeps while chunks stream through; mergeable across adjacent path ranges."""

    first_path: int
    n_paths: int
    n_days: int
    daily: dict[str, DailyHistogram]
    retargets: RetargetHistograms
    bits0: int
    path_f: FloatArray
    path_i: IntArray
    first_change: FloatArray
    min_change: FloatArray
    owner_f: npt.NDArray[np.float32]
    retargets_overflow: int = 0
    filled: int = 0

    @classmethod
    def empty(
        cls,
        first_path: int,
        n_paths: int,
        n_days: int,
        refs: dict[str, float],
        bits0: int,
        max_retargets: int,
        n_owners: int = 1,
    ) -> SimAccumulator:
        """Accumulator for paths ``first_path .. first_path + n_paths - 1``; `refs` are the start values."""
        d0 = bits_to_difficulty(bits0)
        daily = {s: DailyHistogram.empty(AXES[s], refs.get(s, 1.0), n_days) for s in SERIES}
        return cls(
            first_path,
            n_paths,
            n_days,
            daily,
            RetargetHistograms.empty(d0, n_days, max_retargets),
            bits0,
            np.zeros((n_paths, N_PF)),
            np.zeros((n_paths, N_PI), dtype=np.int64),
            np.full(n_paths, np.nan),
            np.full(n_paths, np.nan),
            np.zeros(
                (n_paths, n_owners, N_OF), dtype=np.float32
            ),  # summaries only: float32 halves the memory
        )

    def add_chunk(self, offset: int, out: ChunkOutputs, n: int) -> None:
        """Fold the first `n` rows of a chunk's outputs in, as paths ``offset .. offset + n - 1`` of the range."""
        o = out.head(n)
        for name in SERIES:
            self.daily[name].add(o.series(name))
        first, worst = self.retargets.add(o.retarget_day, o.retarget_bits, self.bits0)
        sl = slice(offset, offset + n)
        self.path_f[sl] = o.path_f
        self.path_i[sl] = o.path_i
        self.first_change[sl] = first
        self.min_change[sl] = worst
        self.owner_f[sl] = o.owner_f
        self.retargets_overflow += int(np.sum(o.path_i[:, PI_N_RETARGETS] > o.retarget_day.shape[1]))
        self.filled += n

    def merge(self, other: SimAccumulator) -> SimAccumulator:
        """This range followed by the adjacent range of `other` (e.g. from another worker)."""
        if other.first_path != self.first_path + self.n_paths:
            raise ValueError("accumulators must cover adjacent path ranges, in order")
        for name in SERIES:
            self.daily[name].merge(other.daily[name])
        self.retargets.merge(other.retargets)
        return SimAccumulator(
            self.first_path,
            self.n_paths + other.n_paths,
            self.n_days,
            self.daily,
            self.retargets,
            self.bits0,
            np.concatenate([self.path_f, other.path_f]),
            np.concatenate([self.path_i, other.path_i]),
            np.concatenate([self.first_change, other.first_change]),
            np.concatenate([self.min_change, other.min_change]),
            np.concatenate([self.owner_f, other.owner_f]),
            self.retargets_overflow + other.retargets_overflow,
            self.filled + other.filled,
        )


@dataclass(frozen=True)
class Quantiles:
    """Quantiles over paths (p05 .. p95) and the mean of one figure, in the figure's unit."""

    p05: float
    p25: float
    p50: float
    p75: float
    p95: float
    mean: float

    @classmethod
    def of(cls, values: npt.ArrayLike) -> Quantiles:
        """Of the finite `values` (all NaN when there is none)."""
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        if v.size == 0:
            return cls(*([math.nan] * 6))
        return cls.from_row(np.quantile(v, QUANTILES), float(v.mean()))

    @classmethod
    def from_row(cls, row: npt.ArrayLike, mean: float) -> Quantiles:
        """From the five quantiles p05 .. p95 (one row of a fan) and the mean."""
        p05, p25, p50, p75, p95 = (float(x) for x in np.asarray(row, dtype=float))
        return cls(p05, p25, p50, p75, p95, float(mean))

    def scaled(self, factor: float) -> Quantiles:
        """Every value times `factor` (e.g. 100 for a fraction in percent)."""
        return Quantiles(*(factor * v for v in astuple(self)))

    def to_dict(self) -> dict[str, float]:
        """``{"p05": .., "p25": .., "p50": .., "p75": .., "p95": .., "mean": ..}``."""
        return asdict(self)


@dataclass(frozen=True)
class FirstRetarget:
    """The first retarget of the horizon: its height, the share of paths reaching it, its change [%]."""

    height: int
    share_of_paths: float
    change_pct: Quantiles


@dataclass(frozen=True)
class DifficultyDrop:
    """Probability of a difficulty drop of at least each threshold [%] (keys: the thresholds as ``"10"``)."""

    thresholds_pct: list[float]
    p_first_retarget: dict[str, float]
    p_any_retarget: dict[str, float]


RUNWAY_CAP_MONTHS = 120.0
"""Runways are capped at ten years (an owner whose routine sales cover its needs gets the cap)."""


@dataclass(frozen=True)
class OwnerOutcome:
    """One owner over the horizon (quantiles over paths): how it met its cash needs.

    ``runway_months``: months the owner's liquidity at the start (cash above its floor plus its BTC at the
    median end price) covers its average net cash need over the horizon (cash paid out less scheduled
    inflows and routine sales), capped at :data:`RUNWAY_CAP_MONTHS` (also when the routine sales cover it).
    """

    owner: str
    btc_start: float
    cash_usd_start: float
    produced_btc: Quantiles
    sold_production_btc: Quantiles
    treasury_drawn_btc: Quantiles
    treasury_drawn_share: Quantiles
    capital_raised_usd: Quantiles
    raise_cost_usd: Quantiles
    btc_end: Quantiles
    cash_usd_end: Quantiles
    runway_months: Quantiles


@dataclass(frozen=True)
class MinerSales:
    """Miners' BTC sold over the horizon [BTC]: total, and of it treasury BTC sold to meet cash needs
    ("forced": beyond the routine share of production) per path."""

    total_btc: Quantiles
    forced_btc: Quantiles
    per_day_btc_mean: float


@dataclass(frozen=True)
class OfflineShare:
    """Share of installed hashrate offline: on the last day, and each path's worst day."""

    end: Quantiles
    max_over_horizon: Quantiles


@dataclass(frozen=True)
class HashrateRecovery:
    """How often and how fast the online hashrate gets back to its day-0 value after falling below it."""

    definition: str
    share_paths_dropped: float
    share_recovered: float
    days_from_start: Quantiles
    days_from_drop: Quantiles


@dataclass(frozen=True)
class Amplification:
    """Price statistics with the miners'-sales feedback (on) versus the exogenous price (off)."""

    definition: str
    vol_annualised_on: Quantiles
    vol_annualised_off: Quantiles
    vol_ratio_mean: float
    max_drawdown_on: Quantiles
    max_drawdown_off: Quantiles
    max_drawdown_ratio_p50: float


@dataclass(frozen=True)
class SimSummary:
    """Headline figures of a run (:meth:`SimResult.figures`); :meth:`to_dict` is ``hashrisk simulate --json``.

    Every amount carries its unit in its name; ``retargets`` holds one JSON-ready row per retarget of the
    horizon (:meth:`SimResult.retargets_frame`), ``start`` the start state (:meth:`StartInfo.to_dict`).
    """

    scenario: str
    paths: int
    horizon_days: int
    seed: int
    price_model: str
    feedback: bool
    start: dict[str, Any]
    end_date: dt.date
    end: dict[str, Quantiles]
    retargets: list[dict[str, Any]]
    first_retarget: FirstRetarget
    difficulty_drop: DifficultyDrop
    miner_btc_sold: MinerSales
    offline_share: OfflineShare
    hashrate_min_ratio: Quantiles
    retired_share_end: Quantiles
    hashrate_recovery: HashrateRecovery
    amplification: Amplification
    owners: list[OwnerOutcome]
    meta: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, nested as the attributes (dates as ISO text)."""
        return {**asdict(self), "end_date": self.end_date.isoformat()}


@dataclass(frozen=True)
class SimResult:
    """The result of :func:`hashrisk.sim.engine.simulate`.

    Attributes
    ----------
    scenario : Scenario
        The scenario run.
    start : StartInfo
        The start state.
    dates : list of datetime.date
        Day 0 .. D-1.
    fans : dict[str, ndarray (D, 5)]
        Daily quantiles p05/p25/p50/p75/p95 of each series in :data:`hashrisk.sim.arrays.SERIES`.
    means : dict[str, ndarray (D,)]
        Exact daily means over all paths.
    retargets : pandas.DataFrame
        One row per retarget of the horizon reached by at least one path (see :meth:`retargets_frame`).
    path_f, path_i : ndarray
        Per-path scalars (``PF_*`` / ``PI_*`` columns of :mod:`hashrisk.sim.arrays`).
    first_change, min_change : ndarray (paths,)
        First retarget's change and the most negative retarget change per path [fraction]; NaN without one.
    cohorts : pandas.DataFrame
        The cohorts simulated (costs, shares, start state, owner).
    meta : dict
        Backend, chunking, timings, notes on the method.
    owners : pandas.DataFrame
        The owners and their start balance sheets (listed ones, then the rest).
    owner_f : ndarray (paths, O, N_OF) float32
        Per path and owner: totals and end state (``OF_*`` of :mod:`hashrisk.sim.arrays`), kept in float32
        (about 1e-7 relative: the summaries are quantiles; 1,000,000 paths x 5 owners is 180 MB).
    """

    scenario: Scenario
    start: StartInfo
    dates: list[dt.date]
    fans: dict[str, FloatArray]
    means: dict[str, FloatArray]
    retargets: pd.DataFrame
    path_f: FloatArray
    path_i: IntArray
    first_change: FloatArray
    min_change: FloatArray
    cohorts: pd.DataFrame
    meta: dict[str, Any]
    owners: pd.DataFrame = field(default_factory=pd.DataFrame)
    owner_f: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 0, N_OF), dtype=np.float32))

    @property
    def n_paths(self) -> int:
        """Number of paths."""
        return int(self.path_f.shape[0])

    @property
    def n_days(self) -> int:
        """Horizon [days]."""
        return len(self.dates)

    # ------------------------------------------------------------------ frames
    def to_frame(self) -> pd.DataFrame:
        """One row per day: ``{series}_{p05..p95}`` and ``{series}_mean`` for every series, indexed by date."""
        data: dict[str, Any] = {"day": np.arange(self.n_days)}
        for name in SERIES:
            for j, label in enumerate(Q_LABELS):
                data[f"{name}_{label}"] = self.fans[name][:, j]
            data[f"{name}_mean"] = self.means[name]
        frame = pd.DataFrame(data, index=pd.Index(pd.to_datetime(self.dates), name="date"))
        return frame

    def retargets_frame(self) -> pd.DataFrame:
        """One row per retarget: height, share of paths reaching it, date, difficulty and change quantiles."""
        return self.retargets.copy()

    def path_frame(self) -> pd.DataFrame:
        """One row per path: the per-path scalars (for calibration and custom statistics)."""
        return pd.DataFrame(
            {
                "sold_btc": self.path_f[:, PF_SOLD_BTC],
                "forced_sold_btc": self.path_f[:, PF_FORCED_BTC],
                "vol": self.path_f[:, PF_VOL],
                "vol_exo": self.path_f[:, PF_VOL_EXO],
                "max_drawdown": self.path_f[:, PF_MDD],
                "max_drawdown_exo": self.path_f[:, PF_MDD_EXO],
                "offline_share_max": self.path_f[:, PF_OFFLINE_MAX],
                "hashrate_min_ratio": self.path_f[:, PF_HASHRATE_MIN],
                "retired_share": self.path_f[:, PF_RETIRED_SHARE],
                "n_retargets": self.path_i[:, PI_N_RETARGETS],
                "first_change": self.first_change,
                "min_change": self.min_change,
                "drop_day": self.path_i[:, PI_DROP_DAY],
                "recovery_day": self.path_i[:, PI_RECOVERY_DAY],
            }
        )

    # ------------------------------------------------------------------ statistics
    def prob_difficulty_drop(self, pct: float, at: str = "first") -> float:
        """Probability that the difficulty falls by at least `pct` % at the first retarget (``at="first"``)
        or at any retarget within the horizon (``at="any"``); paths without a retarget count as no drop."""
        values = self.first_change if at == "first" else self.min_change
        if at not in ("first", "any"):
            raise ValueError("at must be 'first' or 'any'")
        return float(np.mean(np.nan_to_num(values, nan=np.inf) <= -pct / 100.0))

    def _end(self, name: str, day: int | None = None) -> Quantiles:
        d = self.n_days - 1 if day is None else min(day, self.n_days - 1)
        return Quantiles.from_row(self.fans[name][d], float(self.means[name][d]))

    def figures(self, drop_thresholds_pct: tuple[float, ...] = DROP_THRESHOLDS_PCT) -> SimSummary:
        """The headline figures as a typed object (see :class:`SimSummary`)."""
        pf, pi = self.path_f, self.path_i
        dropped = pi[:, PI_DROP_DAY] >= 0
        recovered = pi[:, PI_RECOVERY_DAY] >= 0
        rec_days = pi[recovered, PI_RECOVERY_DAY].astype(float)
        rec_since = (pi[recovered, PI_RECOVERY_DAY] - pi[recovered, PI_DROP_DAY]).astype(float)
        vol_on, vol_off = pf[:, PF_VOL], pf[:, PF_VOL_EXO]
        mdd_on, mdd_off = pf[:, PF_MDD], pf[:, PF_MDD_EXO]
        ret_rows = [
            {str(k): (v.isoformat() if isinstance(v, dt.date) else v) for k, v in row.items()}
            for row in self.retargets.to_dict(orient="records")
        ]
        return SimSummary(
            scenario=self.scenario.name,
            paths=self.n_paths,
            horizon_days=self.n_days,
            seed=self.scenario.seed,
            price_model=self.scenario.price_model,
            feedback=self.scenario.impact.enabled,
            start=self.start.to_dict(),
            end_date=self.dates[-1],
            end={name: self._end(name) for name in SERIES},
            retargets=ret_rows,
            first_retarget=FirstRetarget(
                height=self.start.first_retarget_height,
                share_of_paths=float(np.mean(np.isfinite(self.first_change))),
                change_pct=Quantiles.of(self.first_change).scaled(100.0),
            ),
            difficulty_drop=DifficultyDrop(
                thresholds_pct=list(drop_thresholds_pct),
                p_first_retarget={
                    f"{x:g}": self.prob_difficulty_drop(x, "first") for x in drop_thresholds_pct
                },
                p_any_retarget={f"{x:g}": self.prob_difficulty_drop(x, "any") for x in drop_thresholds_pct},
            ),
            miner_btc_sold=MinerSales(
                total_btc=Quantiles.of(pf[:, PF_SOLD_BTC]),
                forced_btc=Quantiles.of(pf[:, PF_FORCED_BTC]),
                per_day_btc_mean=float(pf[:, PF_SOLD_BTC].mean() / self.n_days),
            ),
            offline_share=OfflineShare(
                end=self._end("offline_share"), max_over_horizon=Quantiles.of(pf[:, PF_OFFLINE_MAX])
            ),
            hashrate_min_ratio=Quantiles.of(pf[:, PF_HASHRATE_MIN]),
            retired_share_end=Quantiles.of(pf[:, PF_RETIRED_SHARE]),
            hashrate_recovery=HashrateRecovery(
                definition="first day the online hashrate is back at >= its day-0 value after first "
                "falling below it",
                share_paths_dropped=float(dropped.mean()),
                share_recovered=float(recovered.sum() / max(dropped.sum(), 1)),
                days_from_start=Quantiles.of(rec_days),
                days_from_drop=Quantiles.of(rec_since),
            ),
            amplification=Amplification(
                definition="price statistics with the miners'-sales feedback (on) versus the exogenous "
                "price of the same random numbers (off)",
                vol_annualised_on=Quantiles.of(vol_on),
                vol_annualised_off=Quantiles.of(vol_off),
                vol_ratio_mean=float(np.mean(vol_on) / np.mean(vol_off))
                if np.mean(vol_off) > 1e-6  # a deterministic exogenous path has no volatility to amplify
                else math.nan,
                max_drawdown_on=Quantiles.of(mdd_on),
                max_drawdown_off=Quantiles.of(mdd_off),
                max_drawdown_ratio_p50=float(np.median(mdd_on) / np.median(mdd_off))
                if np.median(mdd_off) > 0
                else math.nan,
            ),
            owners=self.owner_outcomes(),
            meta=dict(self.meta),
        )

    def owner_outcomes(self) -> list[OwnerOutcome]:
        """Each owner's outcome over the horizon (see :class:`OwnerOutcome`)."""
        out: list[OwnerOutcome] = []
        p_end = float(self.fans["price_usd"][-1][2])
        months = self.n_days / (DAYS_PER_YEAR / 12.0)
        own = self.owners
        for i in range(len(own)):
            of = self.owner_f[:, i, :].astype(np.float64)
            name = str(own["owner"].iloc[i])
            btc0, cash0, floor = (
                float(own[c].to_numpy(dtype=float)[i])
                for c in ("btc_start", "cash_usd_start", "cash_floor_usd")
            )
            burn = (of[:, OF_NEED_USD] - of[:, OF_ROUTINE_USD]) / months
            liquid = max(cash0 - floor, 0.0) + btc0 * p_end
            runway = np.minimum(
                np.where(burn > 0.0, liquid / np.where(burn > 0.0, burn, 1.0), RUNWAY_CAP_MONTHS),
                RUNWAY_CAP_MONTHS,
            )
            out.append(
                OwnerOutcome(
                    owner=name,
                    btc_start=btc0,
                    cash_usd_start=cash0,
                    produced_btc=Quantiles.of(of[:, OF_PRODUCED_BTC]),
                    sold_production_btc=Quantiles.of(of[:, OF_SOLD_PRODUCTION_BTC]),
                    treasury_drawn_btc=Quantiles.of(of[:, OF_DRAWN_BTC]),
                    treasury_drawn_share=Quantiles.of(of[:, OF_DRAWN_BTC] / btc0)
                    if btc0 > 0
                    else Quantiles.of(np.full(len(of), np.nan)),
                    capital_raised_usd=Quantiles.of(of[:, OF_RAISED_USD]),
                    raise_cost_usd=Quantiles.of(of[:, OF_RAISE_COST_USD]),
                    btc_end=Quantiles.of(of[:, OF_BTC_END]),
                    cash_usd_end=Quantiles.of(of[:, OF_CASH_END]),
                    runway_months=Quantiles.of(runway),
                )
            )
        return out

    def summary(self, drop_thresholds_pct: tuple[float, ...] = DROP_THRESHOLDS_PCT) -> dict[str, Any]:
        """Headline figures, JSON-ready: ``figures(drop_thresholds_pct).to_dict()`` (``hashrisk simulate --json``)."""
        return self.figures(drop_thresholds_pct).to_dict()


def retarget_table(hist: RetargetHistograms, start: StartInfo, n_paths: int) -> pd.DataFrame:
    """The per-retarget distributions as a frame (rows: retargets reached by at least one path)."""
    reached = np.flatnonzero(hist.reach > 0)
    if reached.size == 0:
        return pd.DataFrame(
            columns=["retarget", "height", "share_of_paths", "date_p05", "date_p50", "date_p95"]
            + [f"difficulty_{q}" for q in Q_LABELS]
            + [f"change_pct_{q}" for q in Q_LABELS]
        )
    days = _discrete_quantiles(hist.day_counts[reached])
    ext = hist.extremes[reached]
    level = hist_quantiles(
        hist.level_counts[reached], LEVEL_AXIS, hist.d0, ext[:, 0] * hist.d0, ext[:, 1] * hist.d0
    )
    change = hist_quantiles(hist.change_counts[reached], CHANGE_AXIS, 1.0, ext[:, 2], ext[:, 3])
    rows: dict[str, Any] = {
        "retarget": reached + 1,
        "height": start.first_retarget_height + RETARGET_INTERVAL_BLOCKS * reached,
        "share_of_paths": hist.reach[reached] / max(n_paths, 1),
    }
    for j, q in ((0, "p05"), (2, "p50"), (4, "p95")):
        rows[f"date_{q}"] = [start.date + dt.timedelta(days=int(d)) for d in days[:, j]]
    for j, q in enumerate(Q_LABELS):
        rows[f"difficulty_{q}"] = level[:, j]
    for j, q in enumerate(Q_LABELS):
        rows[f"change_pct_{q}"] = 100.0 * (change[:, j] - 1.0)
    return pd.DataFrame(rows)
