"""The JAX kernel: the reference step in ``jax.numpy``, one ``lax.scan`` over days, vectorised over paths.

The model is the one of the reference :mod:`hashrisk.sim.kernel_numpy` (read its docstring); this module
ports it line by line to JAX so that it runs, jitted, on whatever device JAX sees (GPU or TPU when present,
the CPU otherwise). It consumes the same pre-drawn random arrays (:class:`~hashrisk.sim.arrays.ChunkRandoms`)
and writes the same :class:`~hashrisk.sim.arrays.ChunkOutputs` (copied back from the device), so it equals
the reference to 1e-9 relative on the same random numbers (tests/sim/test_sim_kernel_jax.py).

Everything runs in 64 bits (``jax.enable_x64`` around the call, so the user's global JAX setting is left
alone): float64 money and prices, int64 heights, times and nBits. Like :mod:`hashrisk.sim.kernel_numba` the
module holds ``jax.numpy`` copies of library formulas, each tested against the library function it copies:

=============================  ====================================================================
jnp copy                       library function
=============================  ====================================================================
:func:`subsidy_sats`           :func:`hashrisk.chain.subsidy.block_subsidy_sats`
:func:`bits_to_difficulty`     :func:`hashrisk.chain.pow.bits_to_difficulty` (bit for bit)
:func:`next_bits`              :func:`hashrisk.chain.pow.next_bits` (the int64 port of the numba kernel)
=============================  ====================================================================

(``expected_blocks`` and ``revenue_usd_per_ths_day`` are written inline in the library's operation order.)

Compilation: one jitted function per shape (paths, days, cohorts, lead time, recorded retargets) and
policy switches (deployments, fee elasticity, price impact, sell-to-cover); JAX caches it for the process.
The scenario's numbers are traced arguments, so a sweep over them does not recompile.

The two searches of a day are ``lax.while_loop`` over all paths at once, as in the reference: the Poisson
inversion (the same sequential partial sums, :data:`POISSON_UNROLL` terms per loop trip to cut the trips
on accelerators) and the walk over retarget boundaries crossed by the day's blocks.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array, lax
from jax.scipy.special import gammaln

from hashrisk.chain.pow import (
    HASHES_PER_DIFFICULTY,
    POW_LIMIT_BITS,
    RETARGET_INTERVAL_BLOCKS,
    TARGET_TIMESPAN_S,
)
from hashrisk.chain.subsidy import HALVING_INTERVAL_BLOCKS, INITIAL_SUBSIDY_SATS
from hashrisk.constants import SECONDS_PER_DAY
from hashrisk.sim.arrays import (
    PF_BTC_END,
    PF_CASH_END,
    PF_FEES_BTC,
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
    PI_SUBSIDY_SATS,
    PI_TIP,
    ChunkOutputs,
    ChunkRandoms,
    KernelSetup,
)

_F64 = jnp.float64
_I64 = jnp.int64
_HASHES_PER_DIFF = float(HASHES_PER_DIFFICULTY)
_DAY_S = float(SECONDS_PER_DAY)
_DAY_S_INT = int(SECONDS_PER_DAY)
_TIMESPAN = int(TARGET_TIMESPAN_S)
_INTERVAL = int(RETARGET_INTERVAL_BLOCKS)
_HALVING = int(HALVING_INTERVAL_BLOCKS)
_SUBSIDY0 = int(INITIAL_SUBSIDY_SATS)
_POW_LIMIT_BITS = int(POW_LIMIT_BITS)
_POW_LIMIT_BITLEN = 224  # powLimit = 2^224 - 1
_DAYS_PER_YEAR = 365.0

POISSON_UNROLL = 8
"""Poisson terms summed per ``while_loop`` trip (the same terms in the same order; fewer trips)."""

_FLOAT_PARAMS = (
    "price0_usd",
    "fees_level_btc",
    "fees_elasticity",
    "hysteresis",
    "growth_per_day",
    "full_margin",
    "deploy_allin_usd_per_ths_day",
    "orders0_ths_per_day",
    "share_sold",
    "forced_share",
    "impact_k",
    "impact_sigma_daily",
    "impact_volume_usd",
    "baseline_sold_btc",
)
_INT_PARAMS = ("on_lag_days", "retire_after_days", "tip0", "bits0", "epoch_first_time0")


# ------------------------------------------------------------------------------------- formulas (jnp copies)
def _bitlen(x: Array) -> Array:
    """Bit length of non-negative int64 values (0 for 0)."""
    return 64 - lax.clz(x)


def subsidy_sats(height: Array) -> Array:
    """Block subsidy [sats]: ``(50 * COIN) >> (height // 210000)``, zero after 64 halvings."""
    halvings = height // _HALVING
    return jnp.where(halvings >= 64, 0, jnp.right_shift(jnp.int64(_SUBSIDY0), jnp.minimum(halvings, 63)))


def subsidy_range_sats(first: Array, n: Array) -> Array:
    """Sum of subsidies of heights ``first .. first + n - 1`` [sats] (``0 <= n < 210,000``)."""
    last = first + n - 1
    boundary = (first // _HALVING + 1) * _HALVING
    split = last >= boundary
    total = jnp.where(
        split,
        (boundary - first) * subsidy_sats(first) + (last - boundary + 1) * subsidy_sats(boundary),
        n * subsidy_sats(first),
    )
    return jnp.where(n > 0, total, 0)


def bits_to_difficulty(bits: Array) -> Array:
    """``GetDifficulty``: ``0xffff / mantissa * 2^(8 (29 - size))``.

    The power of two is built from its IEEE-754 bits, so the product is exact and equals Core's loop of
    multiplications by 256 (and :func:`hashrisk.chain.pow.bits_to_difficulty`) bit for bit.
    """
    exponent = 8 * (29 - ((bits >> 24) & 0xFF))
    scale = lax.bitcast_convert_type((exponent + 1023) << 52, _F64)
    return 65535.0 / (bits & 0x00FFFFFF).astype(_F64) * scale


def _compact_small(value: Array) -> Array:
    """``GetCompact`` of targets below 2^32."""
    size = (_bitlen(value) + 7) // 8
    compact = jnp.where(
        size <= 3,
        value << (8 * jnp.maximum(3 - size, 0)),
        value >> (8 * jnp.maximum(size - 3, 0)),
    )
    carry = (compact & 0x00800000) != 0
    return jnp.where(carry, compact >> 8, compact) | (jnp.where(carry, size + 1, size) << 24)


def next_bits(bits: Array, first_time: Array, last_time: Array) -> Array:
    """``CalculateNextWorkRequired`` in int64 for targets up to powLimit, element-wise.

    The branch-free form of :func:`hashrisk.sim.kernel_numba.next_bits` (its module docstring derives the
    integer-exact method): ``timespan = clamp(last - first, 302400, 4838400)``;
    ``target' = min(target * timespan // 1209600, powLimit)``; returns ``GetCompact(target')``. Every
    intermediate stays below 2^63; shifts are clamped to non-negative amounts in the unused branches.
    """
    span = jnp.clip(last_time - first_time, _TIMESPAN // 4, _TIMESPAN * 4)
    size = bits >> 24
    word = bits & 0x007FFFFF
    small_size = size <= 3
    a = word * span  # < 2^46
    e = 8 * (size - 3)
    d = _bitlen(a) - _bitlen(jnp.int64(_TIMESPAN))
    up = jnp.int64(_TIMESPAN) << jnp.maximum(d, 0)
    down = a << jnp.maximum(-d, 0)
    j0 = jnp.where(d >= 0, jnp.where(up <= a, d, d - 1), jnp.where(down >= _TIMESPAN, d, d - 1))
    n = j0 + e + 1
    new_size = (n + 7) // 8
    small_new = new_size <= 3
    value = jnp.where(
        small_size,
        ((word >> (8 * jnp.maximum(3 - size, 0))) * span) // _TIMESPAN,
        (a << jnp.maximum(e, 0)) // _TIMESPAN,
    )
    compact_small = _compact_small(jnp.where(small_size | small_new, value, 0))
    j = e - 8 * (new_size - 3)
    mant = jnp.where(
        j >= 0,
        (a << jnp.clip(j, 0, 62)) // _TIMESPAN,
        a // (jnp.int64(_TIMESPAN) << jnp.clip(-j, 0, 40)),
    )
    carry = (mant & 0x00800000) != 0
    large = jnp.where(carry, mant >> 8, mant) | (jnp.where(carry, new_size + 1, new_size) << 24)
    out = jnp.where(small_new, compact_small, large)
    out = jnp.where(n > _POW_LIMIT_BITLEN, _POW_LIMIT_BITS, out)
    out = jnp.where(n <= 0, 0, out)
    return jnp.where(small_size, compact_small, out)


def poisson_inv(u: Array, lam: Array) -> Array:
    """Inverse Poisson CDF per element, the search of :func:`hashrisk.sim.kernel_numpy.poisson_inv_vec`.

    Starts at ``kl = floor(lam - 7 sqrt(lam) - 2)`` with ``p(kl) = exp(-lam + kl log(lam) - lgamma(kl + 1))``
    and adds ``p(k) = p(k-1) * (lam * (1/k))`` until the cdf reaches `u` or ``k = floor(lam + 10 sqrt(lam)
    + 20)``; 0 where ``lam <= 0``.
    """
    pos = lam > 0.0
    lam_s = jnp.where(pos, lam, 1.0)
    root = jnp.sqrt(lam_s)
    k = jnp.floor(lam_s - 7.0 * root - 2.0)
    low = k <= 0.0
    k = jnp.where(low, 0.0, k)
    log_p = -lam_s + k * jnp.log(lam_s) - gammaln(k + 1.0)
    p = jnp.where(low, jnp.exp(-lam_s), jnp.exp(jnp.where(low, 0.0, log_p)))
    k_int = k.astype(_I64)
    k_max = (lam_s + 10.0 * root + 20.0).astype(_I64)
    active = pos & (u > p) & (k_int < k_max)

    def body(state: tuple[Array, Array, Array, Array]) -> tuple[Array, Array, Array, Array]:
        k_i, p_k, cdf, act = state
        for _ in range(POISSON_UNROLL):
            k_i = jnp.where(act, k_i + 1, k_i)
            p_k = jnp.where(act, p_k * (lam_s * (1.0 / k_i.astype(_F64))), p_k)
            cdf = jnp.where(act, cdf + p_k, cdf)
            act = act & (u > cdf) & (k_i < k_max)
        return k_i, p_k, cdf, act

    k_int, _, _, _ = lax.while_loop(lambda s: jnp.any(s[3]), body, (k_int, p, p, active))
    return jnp.where(pos, k_int, 0)


# ------------------------------------------------------------------------------------- the kernel
class _State(NamedTuple):
    """Carry of the scan over days (P paths, C cohorts, L lead days, R recorded retargets)."""

    cap: Array  # (P, C) installed [TH/s]
    online: Array  # (P, C) bool
    retired: Array  # (P, C) bool
    under: Array  # (P, C) days underwater
    streak: Array  # (P, C) days above the restart band while off
    btc: Array  # (P, C)
    cash: Array  # (P, C)
    ring: Array  # (L, P) orders arriving by slot
    ever: Array  # capacity ever installed
    price: Array
    price_exo: Array
    peak: Array
    peak_exo: Array
    mdd: Array
    mdd_exo: Array
    s1: Array
    s2: Array
    e1: Array
    e2: Array
    bits: Array
    diff: Array
    tip: Array
    t_first: Array
    n_ret: Array
    h_start: Array
    h_min: Array
    off_max: Array
    drop_day: Array
    rec_day: Array
    tot_sold: Array
    tot_forced: Array
    tot_fees: Array
    tot_sub: Array
    rt_day: Array  # (P, R) int32
    rt_bits: Array  # (P, R)


_UNROLL_COHORTS = 64
"""Up to this many cohorts the ordered sums are unrolled (fused); above, a scan keeps compile time flat."""
_Walk = tuple[Array, Array, Array, Array, Array, Array, Array]
"""Retarget walk state: boundary height, nBits, period start time, count, records (day, bits), active."""


def _sum_cohorts(x: Array) -> Array:
    """Sum over cohorts (last axis) one cohort after the other: the reference's summation order.

    Unrolled up to :data:`_UNROLL_COHORTS` cohorts; a ``lax.scan`` over cohorts (same order) above, so that
    1,000 cohorts compile in seconds rather than a quarter of a minute.
    """
    total = jnp.zeros(x.shape[:-1], x.dtype)
    if x.shape[-1] <= _UNROLL_COHORTS:
        for c in range(x.shape[-1]):
            total = total + x[..., c]
        return total
    total, _ = lax.scan(lambda acc, col: (acc + col, None), total, jnp.moveaxis(x, -1, 0))
    return total


@partial(
    jax.jit,
    static_argnames=("lead", "deploy_cohort", "elastic", "impact", "sell_to_cover"),
)
def _run(
    fp: dict[str, Array],
    ip: dict[str, Array],
    cohorts: dict[str, Array],
    log_return: Array,
    u_blocks: Array,
    fee_mult: Array,
    rt_day0: Array,
    rt_bits0: Array,
    *,
    lead: int,
    deploy_cohort: int,
    elastic: bool,
    impact: bool,
    sell_to_cover: bool,
) -> tuple[tuple[Array, ...], dict[str, Array]]:
    n_p, n_days = log_return.shape
    n_c = cohorts["cap0"].shape[0]
    n_rt = rt_day0.shape[1]
    rows = jnp.arange(n_p)
    cost = cohorts["cost"]
    inv_cost = cohorts["inv_cost"]
    retirable = cohorts["retirable"][None, :]
    retire_after = ip["retire_after_days"]
    band = fp["hysteresis"]
    price0 = fp["price0_usd"]

    cap0 = jnp.broadcast_to(cohorts["cap0"], (n_p, n_c))
    zeros = jnp.zeros(n_p, _F64)
    price = jnp.full(n_p, price0, _F64)
    bits = jnp.full(n_p, ip["bits0"], _I64)
    init = _State(
        cap=cap0,
        online=jnp.broadcast_to(cohorts["online0"], (n_p, n_c)),
        retired=jnp.zeros((n_p, n_c), bool),
        under=jnp.zeros((n_p, n_c), _I64),
        streak=jnp.zeros((n_p, n_c), _I64),
        btc=jnp.broadcast_to(cohorts["btc0"], (n_p, n_c)),
        cash=jnp.broadcast_to(cohorts["cash0"], (n_p, n_c)),
        ring=jnp.full((lead, n_p), fp["orders0_ths_per_day"], _F64),
        ever=_sum_cohorts(cap0),
        price=price,
        price_exo=price,
        peak=price,
        peak_exo=price,
        mdd=zeros,
        mdd_exo=zeros,
        s1=zeros,
        s2=zeros,
        e1=zeros,
        e2=zeros,
        bits=bits,
        diff=bits_to_difficulty(bits),
        tip=jnp.full(n_p, ip["tip0"], _I64),
        t_first=jnp.full(n_p, ip["epoch_first_time0"], _I64),
        n_ret=jnp.zeros(n_p, _I64),
        h_start=zeros,
        h_min=jnp.full(n_p, jnp.inf, _F64),
        off_max=zeros,
        drop_day=jnp.full(n_p, -1, _I64),
        rec_day=jnp.full(n_p, -1, _I64),
        tot_sold=zeros,
        tot_forced=zeros,
        tot_fees=zeros,
        tot_sub=jnp.zeros(n_p, _I64),
        rt_day=rt_day0,
        rt_bits=rt_bits0,
    )

    def day(s: _State, xs: tuple[Array, Array, Array, Array]) -> tuple[_State, tuple[Array, ...]]:
        t, r, u, fee_noise = xs
        price, diff, tip = s.price, s.diff, s.tip
        # 1-2: fees and revenue per TH/s
        fee = fp["fees_level_btc"] * fee_noise
        if elastic:
            fee = fee * (price / price0) ** fp["fees_elasticity"]
        subsidy_btc = subsidy_sats(tip + 1).astype(_F64) / 1e8
        rev = _DAY_S * 1e12 / (diff * _HASHES_PER_DIFF) * (subsidy_btc + fee) * price
        # 3: deployments arrive
        slot = t % lead
        cap, ever = s.cap, s.ever
        if deploy_cohort >= 0:
            arriving = s.ring[slot]
            cap = cap.at[:, deploy_cohort].add(arriving)
            ever = ever + arriving
        # 4: cohorts
        live = ~s.retired
        ratio = rev[:, None] * inv_cost[None, :]
        under = jnp.where(live, jnp.where(ratio < 1.0, s.under + 1, 0), s.under)
        retire_now = live & retirable & (retire_after > 0) & (under >= retire_after)
        retired = s.retired | retire_now
        online = s.online & ~retire_now
        cap = jnp.where(retire_now, 0.0, cap)
        live = live & ~retire_now
        switch_off = live & online & (ratio < 1.0 - band)
        off_branch = live & ~online
        streak = jnp.where(off_branch, jnp.where(ratio >= 1.0 + band, s.streak + 1, 0), s.streak)
        switch_on = off_branch & (streak >= ip["on_lag_days"])
        online = (online & ~switch_off) | switch_on
        streak = jnp.where(switch_off | switch_on, 0, streak)
        installed = _sum_cohorts(jnp.where(live, cap, 0.0))
        hashrate = _sum_cohorts(jnp.where(live & online, cap, 0.0))
        # 5: orders
        ring = s.ring
        if deploy_cohort >= 0:
            x = jnp.clip((1.0 - fp["deploy_allin_usd_per_ths_day"] / rev) / fp["full_margin"], 0.0, 1.0)
            ring = ring.at[slot].set(installed * fp["growth_per_day"] * x)
        has_installed = installed > 0.0
        off = jnp.where(has_installed, 1.0 - hashrate / jnp.where(has_installed, installed, 1.0), 0.0)
        first_day = t == 0
        h_start = jnp.where(first_day, hashrate, s.h_start)
        newly_dropped = ~first_day & (s.drop_day < 0) & (hashrate < h_start)
        recovered = ~first_day & (s.drop_day >= 0) & (s.rec_day < 0) & (hashrate >= h_start)
        rec_day = jnp.where(recovered, t, s.rec_day)
        drop_day = jnp.where(newly_dropped, t, s.drop_day)
        # 6: blocks, halvings, retargets
        lam = hashrate * 1e12 * _DAY_S / (diff * _HASHES_PER_DIFF)
        n = poisson_inv(u, lam)
        sub = subsidy_range_sats(tip + 1, n)
        day_start = t * _DAY_S_INT
        n_safe = jnp.maximum(n, 1)
        b0 = (tip // _INTERVAL + 1) * _INTERVAL

        def retarget(c: _Walk) -> _Walk:
            b, bits, t_first, n_ret, rt_day, rt_bits, act = c
            now = act & (b - 1 >= tip + 1)  # the period's last block is mined today
            new = next_bits(bits, t_first, day_start + (b - 1 - tip) * _DAY_S_INT // n_safe)
            bits = jnp.where(now, new, bits)
            slot_r = jnp.where(now & (n_ret < n_rt), n_ret, n_rt)  # n_rt: dropped
            rt_day = rt_day.at[rows, slot_r].set(t.astype(jnp.int32), mode="drop")
            rt_bits = rt_bits.at[rows, slot_r].set(new, mode="drop")
            n_ret = n_ret + now
            starts = act & (b <= tip + n)  # the next period's first block is mined today
            t_first = jnp.where(starts, day_start + (b - tip) * _DAY_S_INT // n_safe, t_first)
            b = b + _INTERVAL
            return b, bits, t_first, n_ret, rt_day, rt_bits, act & (b - 1 <= tip + n)

        _, bits, t_first, n_ret, rt_day, rt_bits, _ = lax.while_loop(
            lambda c: jnp.any(c[-1]),
            retarget,
            (b0, s.bits, s.t_first, s.n_ret, s.rt_day, s.rt_bits, b0 - 1 <= tip + n),
        )
        n_f = n.astype(_F64)
        reward = sub.astype(_F64) / 1e8 + n_f * fee
        # 7: treasuries
        has_hash = hashrate > 0.0
        inv_h = jnp.where(has_hash, 1.0 / jnp.where(has_hash, hashrate, 1.0), 0.0)
        prod = jnp.where(online, reward[:, None] * (cap * inv_h[:, None]), 0.0)
        spend = cohorts["debt"][None, :] + jnp.where(online, cap * cost[None, :], 0.0)
        routine = fp["share_sold"] * prod
        b_c = s.btc + (prod - routine)
        cash_c = s.cash + routine * price[:, None] - spend
        neg = cash_c < 0.0
        tot_forced = s.tot_forced
        if sell_to_cover:
            extra = jnp.where(neg, jnp.minimum(-cash_c / price[:, None], b_c), 0.0)
        else:
            extra = jnp.where(neg, fp["forced_share"] * b_c, 0.0)
            tot_forced = tot_forced + _sum_cohorts(extra)
        btc = jnp.where(neg, b_c - extra, b_c)
        cash = jnp.where(neg, cash_c + extra * price[:, None], cash_c)
        sold = _sum_cohorts(routine + extra)
        # 8: next day's price (not after the last day)
        if impact:
            net = jnp.maximum(sold - fp["baseline_sold_btc"], 0.0)
            lr = r - fp["impact_k"] * fp["impact_sigma_daily"] * jnp.sqrt(
                net * price / fp["impact_volume_usd"]
            )
        else:
            lr = r
        more = t < n_days - 1
        new_price = price * jnp.exp(lr)
        peak = jnp.maximum(s.peak, new_price)
        new_exo = s.price_exo * jnp.exp(r)
        peak_exo = jnp.maximum(s.peak_exo, new_exo)

        def step(old: Array, new: Array) -> Array:
            return jnp.where(more, new, old)

        new_state = _State(
            cap=cap,
            online=online,
            retired=retired,
            under=under,
            streak=streak,
            btc=btc,
            cash=cash,
            ring=ring,
            ever=ever,
            price=step(price, new_price),
            price_exo=step(s.price_exo, new_exo),
            peak=step(s.peak, peak),
            peak_exo=step(s.peak_exo, peak_exo),
            mdd=step(s.mdd, jnp.maximum(s.mdd, 1.0 - new_price / peak)),
            mdd_exo=step(s.mdd_exo, jnp.maximum(s.mdd_exo, 1.0 - new_exo / peak_exo)),
            s1=step(s.s1, s.s1 + lr),
            s2=step(s.s2, s.s2 + lr * lr),
            e1=step(s.e1, s.e1 + r),
            e2=step(s.e2, s.e2 + r * r),
            bits=bits,
            diff=bits_to_difficulty(bits),
            tip=tip + n,
            t_first=t_first,
            n_ret=n_ret,
            h_start=h_start,
            h_min=jnp.minimum(s.h_min, hashrate),
            off_max=jnp.maximum(s.off_max, off),
            drop_day=drop_day,
            rec_day=rec_day,
            tot_sold=s.tot_sold + sold,
            tot_forced=tot_forced,
            tot_fees=s.tot_fees + n_f * fee,
            tot_sub=s.tot_sub + sub,
            rt_day=rt_day,
            rt_bits=rt_bits,
        )
        return new_state, (price, hashrate, diff, sold, off)

    xs = (jnp.arange(n_days, dtype=_I64), log_return.T, u_blocks.T, fee_mult.T)
    s, daily = lax.scan(day, init, xs)
    series = tuple(d.T for d in daily)

    m = n_days - 1
    live_cap = _sum_cohorts(s.cap)
    has_ever = s.ever > 0.0
    has_start = s.h_start > 0.0
    scalars = {
        "mdd": s.mdd,
        "mdd_exo": s.mdd_exo,
        "tot_sold": s.tot_sold,
        "tot_forced": s.tot_forced,
        "tot_fees": s.tot_fees,
        "retired_share": jnp.where(has_ever, (s.ever - live_cap) / jnp.where(has_ever, s.ever, 1.0), 0.0),
        "off_max": s.off_max,
        "h_min": jnp.where(has_start, s.h_min / jnp.where(has_start, s.h_start, 1.0), 1.0),
        "btc_end": _sum_cohorts(s.btc),
        "cash_end": _sum_cohorts(s.cash),
        "tot_sub": s.tot_sub,
        "tip": s.tip,
        "n_ret": s.n_ret,
        "drop_day": s.drop_day,
        "rec_day": s.rec_day,
        "rt_day": s.rt_day,
        "rt_bits": s.rt_bits,
    }
    if m > 1:
        scalars["vol"] = jnp.sqrt(jnp.maximum(s.s2 - s.s1 * s.s1 / m, 0.0) / (m - 1) * _DAYS_PER_YEAR)
        scalars["vol_exo"] = jnp.sqrt(jnp.maximum(s.e2 - s.e1 * s.e1 / m, 0.0) / (m - 1) * _DAYS_PER_YEAR)
    return series, scalars


def run_chunk(setup: KernelSetup, rnd: ChunkRandoms, out: ChunkOutputs) -> None:
    """Simulate the chunk of paths of `rnd` into the first rows of `out` on JAX's default device.

    Parameters
    ----------
    setup : KernelSetup
        The prepared scenario.
    rnd : ChunkRandoms
        The chunk's random numbers, shape ``(P, n_days)`` each.
    out : ChunkOutputs
        Outputs with at least P rows; the first P are written (retargets only where recorded, as the
        reference does).
    """
    n_p = rnd.n_paths
    o = out.head(n_p)
    with jax.enable_x64(True):
        fp = {name: jnp.asarray(float(getattr(setup, name)), _F64) for name in _FLOAT_PARAMS}
        ip = {name: jnp.asarray(int(getattr(setup, name)), _I64) for name in _INT_PARAMS}
        cohorts = {
            "cap0": jnp.asarray(setup.cap0_ths, _F64),
            "online0": jnp.asarray(setup.online0.astype(bool)),
            "cost": jnp.asarray(setup.cost_usd_per_ths_day, _F64),
            "inv_cost": jnp.asarray(1.0 / setup.cost_usd_per_ths_day, _F64),
            "btc0": jnp.asarray(setup.btc0, _F64),
            "cash0": jnp.asarray(setup.cash0_usd, _F64),
            "debt": jnp.asarray(setup.debt_usd_per_day, _F64),
            "retirable": jnp.asarray(setup.retirable.astype(bool)),
        }
        series, scalars = _run(
            fp,
            ip,
            cohorts,
            jnp.asarray(rnd.log_return, _F64),
            jnp.asarray(rnd.u_blocks, _F64),
            jnp.asarray(rnd.fee_mult, _F64),
            jnp.asarray(o.retarget_day, jnp.int32),
            jnp.asarray(o.retarget_bits, _I64),
            lead=int(setup.lead_time_days),
            deploy_cohort=int(setup.deploy_cohort),
            elastic=setup.fees_elasticity != 0.0,
            impact=setup.impact_k > 0.0,
            sell_to_cover=bool(setup.sell_to_cover),
        )
        series, sc = jax.device_get((series, scalars))
    o.price_usd[:], o.hashrate_ths[:], o.difficulty[:], o.sold_btc[:], o.offline_share[:] = series
    if "vol" in sc:
        o.path_f[:, PF_VOL] = sc["vol"]
        o.path_f[:, PF_VOL_EXO] = sc["vol_exo"]
    for col, key in (
        (PF_MDD, "mdd"),
        (PF_MDD_EXO, "mdd_exo"),
        (PF_SOLD_BTC, "tot_sold"),
        (PF_FORCED_BTC, "tot_forced"),
        (PF_FEES_BTC, "tot_fees"),
        (PF_RETIRED_SHARE, "retired_share"),
        (PF_OFFLINE_MAX, "off_max"),
        (PF_HASHRATE_MIN, "h_min"),
        (PF_BTC_END, "btc_end"),
        (PF_CASH_END, "cash_end"),
    ):
        o.path_f[:, col] = sc[key]
    for col, key in (
        (PI_SUBSIDY_SATS, "tot_sub"),
        (PI_TIP, "tip"),
        (PI_N_RETARGETS, "n_ret"),
        (PI_DROP_DAY, "drop_day"),
        (PI_RECOVERY_DAY, "rec_day"),
    ):
        o.path_i[:, col] = sc[key]
    o.retarget_day[:] = np.asarray(sc["rt_day"])
    o.retarget_bits[:] = np.asarray(sc["rt_bits"])
