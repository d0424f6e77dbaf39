"""The contract between the engine and the kernels: inputs, random numbers and outputs as arrays.

The three kernels (:mod:`hashrisk.sim.kernel_numpy`, the reference, :mod:`hashrisk.sim.kernel_numba` and
the optional :mod:`hashrisk.sim.kernel_jax`) read a :class:`KernelSetup` (the prepared scenario: scalars
and per-cohort arrays), a :class:`ChunkRandoms` (every random number of a chunk of paths, drawn by the
engine) and write a :class:`ChunkOutputs`. Same inputs, same outputs: the tests compare them to 1e-9
relative, integers exactly (tests/sim/test_sim_kernels.py, tests/sim/test_sim_kernel_jax.py).

Compiled code cannot take a dataclass, so each of the three has a named-tuple twin whose fields are derived
from the dataclass's (:data:`KernelParams`, :data:`RandomsRecord`, :data:`OutputsRecord`; :func:`record`
converts); the model reads ``setup.price0_usd`` whichever it gets. :func:`convert_setup` converts each field
of a :class:`KernelSetup` by its declared type (float, int, bool or array) for numba and JAX alike; fields
marked ``static`` fix shapes or code paths (JAX compiles one function per value).

Units: prices [USD/BTC], hashrate [TH/s], cash [USD], costs [USD/(TH/s)/day], time [s] relative to the
start, heights [blocks], nBits as integers.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, get_type_hints

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ByteArray = npt.NDArray[np.uint8]

UNEXPLAINED_STEP_DAYS = 1
"""Days between steps of the unexplained hashrate walk (its log-sd is given per 14 days)."""
UNEXPLAINED_SD_DAYS = 14
"""The unexplained walk's log-sd is per this many days: one retarget period at the target pace."""

SERIES = ("price_usd", "hashrate_ths", "difficulty", "sold_btc", "offline_share")
"""Daily per-path series the kernels write, in this order."""

# per-path float scalars (columns of ChunkOutputs.path_f)
PF_SOLD_BTC = 0  # BTC sold over the horizon
PF_FORCED_BTC = 1  # of which treasury BTC sold to meet cash needs (beyond the routine share of production)
PF_FEES_BTC = 2  # fees received
PF_VOL = 3  # annualised volatility of daily log price returns, feedback on
PF_MDD = 4  # maximum drawdown of the price, feedback on
PF_VOL_EXO = 5  # same, exogenous price (feedback off)
PF_MDD_EXO = 6
PF_RETIRED_SHARE = 7  # retired capacity / all capacity ever installed, at the end
PF_BTC_END = 8  # miners' BTC at the end
PF_CASH_END = 9  # miners' cash at the end [USD]
PF_OFFLINE_MAX = 10  # largest daily share of installed hashrate offline
PF_HASHRATE_MIN = 11  # lowest daily online hashrate / day-0 online hashrate
N_PF = 12

# per-path, per-owner float scalars (last axis of ChunkOutputs.owner_f), totals over the horizon
OF_PRODUCED_BTC = 0  # BTC mined
OF_SOLD_PRODUCTION_BTC = 1  # routine sales: share_sold of production
OF_DRAWN_BTC = 2  # treasury BTC sold to keep cash at the floor
OF_RAISED_USD = 3  # cash raised (net of costs) to keep cash at the floor
OF_RAISE_COST_USD = 4  # issuance cost of that capital
OF_NEED_USD = 5  # cash paid out (power, other costs, interest, principal, capex) less scheduled inflows
OF_ROUTINE_USD = 6  # cash from the routine sales
OF_BTC_END = 7
OF_CASH_END = 8  # [USD]
N_OF = 9

# per-path integer scalars (columns of ChunkOutputs.path_i)
PI_SUBSIDY_SATS = 0  # subsidy received [sats], exact
PI_TIP = 1  # height of the last block at the end
PI_N_RETARGETS = 2  # retargets within the horizon
PI_DROP_DAY = 3  # first day the hashrate is below its day-0 value (-1: never)
PI_RECOVERY_DAY = 4  # first day after that with hashrate >= day-0 value (-1: never)
N_PI = 5


@dataclass(frozen=True)
class KernelSetup:
    """The prepared scenario (identical for every path).

    Attributes
    ----------
    n_days : int
        Horizon [days].
    price0_usd : float
        Start price [USD/BTC].
    fees_level_btc : float
        Mean fees per block at the start price [BTC/block].
    fees_elasticity : float
        ``fees = level * (P / P0)^elasticity * noise`` (0: level, 1: proportional).
    hysteresis : float
        Off below ``1 - hysteresis``, back on above ``1 + hysteresis`` (revenue / cash cost).
    on_lag_days : int
        Consecutive days above the band before an offline cohort restarts.
    retire_after_days : int
        Consecutive days underwater before retirement (0: never).
    lead_time_days : int
        Order-to-hashing delay [days] (>= 1).
    deploy_cohort : int
        Index of the new-deployments cohort (-1: none).
    growth_per_day : float
        Cap on daily orders as a share of installed hashrate [1/day].
    full_margin : float
        Margin at which orders reach the cap.
    deploy_allin_usd_per_ths_day : float
        All-in cost of new machines [USD/(TH/s)/day].
    orders0_ths_per_day : float
        Orders in the pipeline at the start, per day [TH/s/day].
    raise_cost0, raise_elasticity, raise_cost_max : float
        Issuance cost ``min(0.95, raise_cost0 * (P0 / P)^raise_elasticity)``; raise-first owners sell BTC
        first above `raise_cost_max`.
    impact_k, impact_sigma_daily, impact_volume_usd : float
        Square-root law ``k * sigma * sign(net) * sqrt(|net_usd| / volume)`` (k = 0: feedback off).
    baseline_sold_btc : float
        Net mechanical sales already in the exogenous price [BTC/day].
    buy_usd_per_day : float
        Mechanical buying netted against the sales (treasuries, ETFs) [USD/day].
    tip0 : int
        Height of the last block at the start.
    bits0 : int
        nBits in force at the start.
    epoch_first_time0 : int
        Time of the current period's first block [s, relative to the start].
    max_retargets : int
        Retargets recorded per path (later ones are applied but not recorded).
    cap0_ths, online0, cost_usd_per_ths_day, retirable, owner : ndarray (C,)
        Per cohort: installed hashrate, online flag, cash cost, whether it can retire, and its owner's index.
    btc0, cash0_usd, cash_floor_usd, share_sold, raise_first : ndarray (O,)
        Per owner (the last one is the rest of the network): BTC, cash, the cash floor, the share of
        production sold each day, and whether it raises capital before selling BTC.
    scheduled_usd : ndarray (O, D)
        Per owner and day: scheduled cash flows (+ in, - out: other costs, interest, principal, capex,
        lease revenue) [USD].
    """

    n_days: int = field(metadata={"static": True})
    price0_usd: float
    fees_level_btc: float
    fees_elasticity: float
    hysteresis: float
    on_lag_days: int
    retire_after_days: int
    lead_time_days: int = field(metadata={"static": True})
    deploy_cohort: int = field(metadata={"static": True})
    growth_per_day: float
    full_margin: float
    deploy_allin_usd_per_ths_day: float
    orders0_ths_per_day: float
    raise_cost0: float
    raise_elasticity: float
    raise_cost_max: float
    impact_k: float
    impact_sigma_daily: float
    impact_volume_usd: float
    baseline_sold_btc: float
    buy_usd_per_day: float
    tip0: int
    bits0: int
    epoch_first_time0: int
    max_retargets: int = field(metadata={"static": True})
    cap0_ths: FloatArray
    online0: ByteArray
    cost_usd_per_ths_day: FloatArray
    retirable: ByteArray
    owner: IntArray
    btc0: FloatArray
    cash0_usd: FloatArray
    cash_floor_usd: FloatArray
    share_sold: FloatArray
    raise_first: ByteArray
    scheduled_usd: FloatArray

    @property
    def n_cohorts(self) -> int:
        """Number of cohorts C."""
        return int(self.cap0_ths.size)

    @property
    def n_owners(self) -> int:
        """Number of owners O (the listed ones and the rest)."""
        return int(self.btc0.size)


@dataclass
class ChunkRandoms:
    """Every random number of a chunk of paths (rows: paths, columns: days).

    Attributes
    ----------
    log_return : ndarray (P, D) float64
        Exogenous daily log returns (day t -> t+1).
    u_blocks : ndarray (P, D) float64
        Uniforms in [0, 1) inverted through the Poisson CDF of the day's expected blocks.
    fee_mult : ndarray (P, D) float64
        Mean-one lognormal fee noise.
    hash_mult : ndarray (P, D) float64
        ``exp(z_t)``: the hashrate moves no price explains, ``z`` a random walk from ``z_0 = 0`` that
        steps every :data:`UNEXPLAINED_STEP_DAYS` days (all ones when the scenario has none).
    """

    log_return: FloatArray
    u_blocks: FloatArray
    fee_mult: FloatArray
    hash_mult: FloatArray

    @property
    def n_paths(self) -> int:
        """Rows P."""
        return int(self.log_return.shape[0])


@dataclass
class ChunkOutputs:
    """What a kernel writes for a chunk of P paths over D days (R recorded retargets).

    Attributes
    ----------
    price_usd, hashrate_ths, difficulty, sold_btc, offline_share : ndarray (P, D), float64 (float32 works too)
        Daily series: price, online hashrate, difficulty in force, BTC sold, share of installed (not
        retired) hashrate offline. Day t is the state during day t.
    path_f : ndarray (P, N_PF) float64
        Per-path float scalars (``PF_*`` columns).
    path_i : ndarray (P, N_PI) int64
        Per-path integer scalars (``PI_*`` columns).
    retarget_day : ndarray (P, R) int32
        Day of each retarget (-1 past the last one).
    retarget_bits : ndarray (P, R) int64
        nBits after each retarget.
    owner_f : ndarray (P, O, N_OF) float64
        Per path and owner: totals over the horizon and end state (``OF_*``).
    """

    price_usd: npt.NDArray[np.floating]
    hashrate_ths: npt.NDArray[np.floating]
    difficulty: npt.NDArray[np.floating]
    sold_btc: npt.NDArray[np.floating]
    offline_share: npt.NDArray[np.floating]
    path_f: FloatArray
    path_i: IntArray
    retarget_day: npt.NDArray[np.int32]
    retarget_bits: IntArray
    owner_f: FloatArray

    @classmethod
    def empty(
        cls, n_paths: int, n_days: int, max_retargets: int, dtype: type = np.float64, n_owners: int = 1
    ) -> ChunkOutputs:
        """Allocate outputs (series in `dtype`)."""

        def series() -> npt.NDArray[np.floating]:
            out: npt.NDArray[np.floating] = np.zeros((n_paths, n_days), dtype=dtype)
            return out

        return cls(
            price_usd=series(),
            hashrate_ths=series(),
            difficulty=series(),
            sold_btc=series(),
            offline_share=series(),
            path_f=np.zeros((n_paths, N_PF)),
            path_i=np.zeros((n_paths, N_PI), dtype=np.int64),
            retarget_day=np.full((n_paths, max_retargets), -1, dtype=np.int32),
            retarget_bits=np.zeros((n_paths, max_retargets), dtype=np.int64),
            owner_f=np.zeros((n_paths, n_owners, N_OF)),
        )

    def head(self, n_paths: int) -> ChunkOutputs:
        """Views of the first `n_paths` rows."""
        return ChunkOutputs(*(getattr(self, f.name)[:n_paths] for f in fields(self)))

    def series(self, name: str) -> npt.NDArray[np.floating]:
        """One daily series by name (see :data:`SERIES`)."""
        if name not in SERIES:
            raise KeyError(name)
        out: npt.NDArray[np.floating] = getattr(self, name)
        return out


# ------------------------------------------------------------------------------- named-tuple twins (kernels)
def _record_type(cls: type, name: str) -> Any:
    """A named tuple with the fields of dataclass `cls`, in order (module level, so numba can cache it)."""
    return collections.namedtuple(name, [f.name for f in fields(cls)])


KernelParams = _record_type(KernelSetup, "KernelParams")
"""Named-tuple twin of :class:`KernelSetup` (built by :func:`convert_setup`)."""
RandomsRecord = _record_type(ChunkRandoms, "RandomsRecord")
"""Named-tuple twin of :class:`ChunkRandoms`."""
OutputsRecord = _record_type(ChunkOutputs, "OutputsRecord")
"""Named-tuple twin of :class:`ChunkOutputs` (the same arrays: kernels write through it)."""

_SETUP_TYPES: dict[str, Any] = get_type_hints(KernelSetup)
SCALAR_TYPES: dict[str, type] = {
    f.name: _SETUP_TYPES[f.name] for f in fields(KernelSetup) if _SETUP_TYPES[f.name] in (float, int, bool)
}
"""Declared type of each scalar field of :class:`KernelSetup` (the others are per-cohort arrays)."""
STATIC_FIELDS: frozenset[str] = frozenset(f.name for f in fields(KernelSetup) if f.metadata.get("static"))
"""Fields that fix shapes or code paths (horizon, lead time, deployment cohort, recorded retargets)."""


def convert_setup(
    setup: KernelSetup, scalar: Callable[[type, Any], Any], array: Callable[[Any], Any]
) -> dict[str, Any]:
    """Every field of `setup` by name, scalars through ``scalar(declared_type, value)`` and arrays through
    ``array(value)``."""
    return {
        f.name: (scalar(SCALAR_TYPES[f.name], v) if f.name in SCALAR_TYPES else array(v))
        for f in fields(setup)
        for v in (getattr(setup, f.name),)
    }


def record(obj: KernelSetup | ChunkRandoms | ChunkOutputs) -> Any:
    """The named-tuple twin of `obj` for compiled code (setup scalars as their declared types, arrays
    C-contiguous; outputs are the same arrays, written in place)."""
    if isinstance(obj, KernelSetup):
        return KernelParams(**convert_setup(obj, lambda t, v: t(v), np.ascontiguousarray))
    cls = RandomsRecord if isinstance(obj, ChunkRandoms) else OutputsRecord
    return cls(*(getattr(obj, f.name) for f in fields(obj)))
