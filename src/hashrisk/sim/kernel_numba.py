"""The compiled kernel: paths in parallel (``prange``), cohorts and days in a loop per path.

The step is the one of the reference :mod:`hashrisk.sim.kernel_numpy` (read its docstring for the model);
this module holds the **only** njit copies of library formulas, each tested against the library function
it copies (tests/sim/test_formulas.py):

============================  =====================================================================
njit copy                     library function
============================  =====================================================================
:func:`subsidy_sats`          :func:`hashrisk.chain.subsidy.block_subsidy_sats`
:func:`bits_to_difficulty`    :func:`hashrisk.chain.pow.bits_to_difficulty`
:func:`next_bits`             :func:`hashrisk.chain.pow.next_bits` (targets up to powLimit)
:func:`expected_blocks`       :func:`hashrisk.chain.pow.expected_blocks`
:func:`revenue_usd_per_ths_day`  :func:`hashrisk.economics.revenue.revenue_usd_per_ths_day`
============================  =====================================================================

Integer-exact retarget: a compact target is ``M * 256^(size-3)`` with ``M < 2^23``, so
``target * timespan // 1209600`` followed by ``GetCompact`` only needs ``A = M * timespan < 2^46`` and the
result's bit length; the new mantissa is ``floor(A * 2^(E - m) / 1209600)`` with ``E = 8 (size - 3)`` and
``m = 8 (size' - 3)`` (nested floors of positive integers collapse), all in int64.

Compiled with ``cache=True``: the first run compiles (tens of seconds), later runs load the cache.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from hashrisk.chain.pow import HASHES_PER_DIFFICULTY, POW_LIMIT_BITS, TARGET_TIMESPAN_S
from hashrisk.chain.subsidy import HALVING_INTERVAL_BLOCKS, INITIAL_SUBSIDY_SATS
from hashrisk.constants import SECONDS_PER_DAY
from hashrisk.sim.arrays import (
    N_PF,
    N_PI,
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

_HASHES_PER_DIFF = float(HASHES_PER_DIFFICULTY)
_DAY_S = float(SECONDS_PER_DAY)
_DAY_S_INT = int(SECONDS_PER_DAY)
_TIMESPAN = int(TARGET_TIMESPAN_S)
_MIN_SPAN = _TIMESPAN // 4
_MAX_SPAN = _TIMESPAN * 4
_INTERVAL = 2016
_SUBSIDY0 = int(INITIAL_SUBSIDY_SATS)
_HALVING = int(HALVING_INTERVAL_BLOCKS)
_POW_LIMIT_BITS = int(POW_LIMIT_BITS)
_POW_LIMIT_BITLEN = 224  # powLimit = 2^224 - 1
_DAYS_PER_YEAR = 365.0

# packed scalar parameters (indices into fpar / ipar)
_F_PRICE0, _F_FEES, _F_ELAST, _F_BAND, _F_GROWTH, _F_FULL, _F_ALLIN, _F_ORDERS0 = range(8)
_F_SHARE_SOLD, _F_FORCED, _F_K, _F_SIGMA, _F_VOLUME, _F_BASELINE = range(8, 14)
_I_DAYS, _I_LAG, _I_RETIRE, _I_LEAD, _I_DEPLOY, _I_COVER, _I_TIP0, _I_BITS0, _I_TFIRST0, _I_RMAX = range(10)


# ------------------------------------------------------------------------------------- formulas (njit copies)
@njit(cache=True)
def subsidy_sats(height: int) -> int:
    """Block subsidy [sats]: ``(50 * COIN) >> (height // 210000)``, zero after 64 halvings."""
    halvings = height // _HALVING
    if halvings >= 64:
        return 0
    return _SUBSIDY0 >> halvings


@njit(cache=True)
def subsidy_range_sats(first: int, last: int) -> int:
    """Sum of subsidies of heights ``first .. last`` inclusive [sats] (0 when ``last < first``)."""
    total = 0
    h = first
    while h <= last:
        era_end = (h // _HALVING + 1) * _HALVING - 1
        e = min(last, era_end)
        total += (e - h + 1) * subsidy_sats(h)
        h = e + 1
    return total


@njit(cache=True)
def bits_to_difficulty(bits: int) -> float:
    """``GetDifficulty``: ``0xffff / mantissa * 256^(29 - size)`` by repeated x/÷ 256, as Core."""
    shift = (bits >> 24) & 0xFF
    diff = 65535.0 / float(bits & 0x00FFFFFF)
    while shift < 29:
        diff *= 256.0
        shift += 1
    while shift > 29:
        diff /= 256.0
        shift -= 1
    return diff


@njit(cache=True)
def _bitlen(x: int) -> int:
    n = 0
    while x > 0:
        x >>= 1
        n += 1
    return n


@njit(cache=True)
def _compact_small(value: int) -> int:
    """``GetCompact`` of a target below 2^32."""
    size = (_bitlen(value) + 7) // 8
    compact = value << (8 * (3 - size)) if size <= 3 else value >> (8 * (size - 3))
    if compact & 0x00800000:
        compact >>= 8
        size += 1
    return compact | (size << 24)


@njit(cache=True)
def next_bits(bits: int, first_time: int, last_time: int) -> int:
    """``CalculateNextWorkRequired`` in int64 for targets up to powLimit (see the module docstring).

    ``timespan = clamp(last - first, 302400, 4838400)``; ``target' = min(target * timespan // 1209600,
    powLimit)``; returns ``GetCompact(target')``. `bits` must encode a positive target <= powLimit.
    """
    span = last_time - first_time
    if span < _MIN_SPAN:
        span = _MIN_SPAN
    elif span > _MAX_SPAN:
        span = _MAX_SPAN
    size = bits >> 24
    word = bits & 0x007FFFFF
    if size <= 3:
        return _compact_small(((word >> (8 * (3 - size))) * span) // _TIMESPAN)
    a = word * span  # < 2^46
    e = 8 * (size - 3)
    # j0 = largest j with T * 2^j <= a; the new target floor(a 2^e / T) then has bit length j0 + e + 1
    d = _bitlen(a) - _bitlen(_TIMESPAN)
    if d >= 0:  # noqa: SIM108 - the two shifts keep every intermediate below 2^63
        j0 = d if (_TIMESPAN << d) <= a else d - 1
    else:
        j0 = d if (a << (-d)) >= _TIMESPAN else d - 1
    n = j0 + e + 1
    if n <= 0:
        return 0
    if n > _POW_LIMIT_BITLEN:
        return _POW_LIMIT_BITS
    new_size = (n + 7) // 8
    if new_size <= 3:
        return _compact_small((a << e) // _TIMESPAN)
    j = e - 8 * (new_size - 3)
    mant = (a << j) // _TIMESPAN if j >= 0 else a // (_TIMESPAN << (-j))
    if mant & 0x00800000:
        mant >>= 8
        new_size += 1
    return mant | (new_size << 24)


@njit(cache=True)
def expected_blocks(hashrate_ths: float, difficulty: float, seconds: float) -> float:
    """``hashrate_ths * 1e12 * seconds / (difficulty * 2^32)`` [blocks]."""
    return hashrate_ths * 1e12 * seconds / (difficulty * _HASHES_PER_DIFF)


@njit(cache=True)
def revenue_usd_per_ths_day(
    difficulty: float, subsidy_btc: float, fees_btc: float, price_usd: float
) -> float:
    """``86,400e12 / (difficulty * 2^32) * (subsidy + fees) * price`` [USD/(TH/s)/day]."""
    return _DAY_S * 1e12 / (difficulty * _HASHES_PER_DIFF) * (subsidy_btc + fees_btc) * price_usd


INV_K = np.concatenate((np.zeros(1), 1.0 / np.arange(1, 4097, dtype=np.float64)))
"""``INV_K[k] = 1.0 / k`` (correctly rounded, so equal to computing it): the Poisson search multiplies."""


@njit(cache=True)
def poisson_start(lam: float) -> tuple[int, float, int]:
    """Start of the Poisson inversion for rate `lam`: ``(kl, p(kl), k_max)``.

    ``kl = floor(lam - 7 sqrt(lam) - 2)`` (the mass below it is < 1e-14) and
    ``p(kl) = exp(-lam + kl log(lam) - lgamma(kl + 1))`` (``exp(-lam)`` when ``kl <= 0``);
    ``k_max = floor(lam + 10 sqrt(lam) + 20)`` bounds the search.
    """
    root = math.sqrt(lam)
    k = math.floor(lam - 7.0 * root - 2.0)
    if k <= 0:
        k = 0
        p = math.exp(-lam)
    else:
        p = math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1.0))
    return k, p, int(lam + 10.0 * root + 20.0)


@njit(cache=True)
def poisson_search(u: float, lam: float, k: int, p: float, k_max: int, inv_k: np.ndarray) -> int:
    """Smallest ``k >= kl`` with ``cdf(k) >= u``, summing ``p(k) = p(k-1) * (lam * (1/k))`` from the start."""
    cdf = p
    n_inv = inv_k.shape[0]
    while u > cdf and k < k_max:
        k += 1
        p = p * (lam * (inv_k[k] if k < n_inv else 1.0 / k))
        cdf += p
    return k


@njit(cache=True)
def poisson_inv(u: float, lam: float, inv_k: np.ndarray) -> int:
    """Inverse Poisson CDF: smallest k with ``P(X <= k) >= u``, ``X ~ Poisson(lam)`` (0 when lam <= 0).

    Exact up to the neglected mass below the start (< 1e-14 in u). See :func:`poisson_start`.
    """
    if lam <= 0.0:
        return 0
    k, p, k_max = poisson_start(lam)
    return poisson_search(u, lam, k, p, k_max, inv_k)


@njit(cache=True)
def poisson_lookup(
    u: float,
    lam: float,
    k_start: int,
    k_max: int,
    cdf_tab: np.ndarray,
    n_tab: int,
    p_last: float,
    inv_k: np.ndarray,
) -> tuple[int, int, float]:
    """:func:`poisson_search` with memory: the cumulative sums already computed for this `lam` are kept in
    ``cdf_tab[:n_tab]`` (``cdf_tab[i]`` = cdf at ``k_start + i``, ``p_last`` the last term), so a rate
    that holds for several days costs a binary search. Same partial sums, same answer as the search.

    Returns
    -------
    k, n_tab, p_last : int, int, float
        The draw and the updated table state.
    """
    if u <= cdf_tab[n_tab - 1]:
        base = 0
        size = n_tab
        while size > 1:  # branch-free lower bound: leftmost i with u <= cdf_tab[i]
            half = size >> 1
            base = base + half if cdf_tab[base + half - 1] < u else base
            size -= half
        return k_start + base, n_tab, p_last
    k = k_start + n_tab - 1
    cdf = cdf_tab[n_tab - 1]
    p = p_last
    n_inv = inv_k.shape[0]
    while u > cdf and k < k_max:
        k += 1
        p = p * (lam * (inv_k[k] if k < n_inv else 1.0 / k))
        cdf += p
        cdf_tab[n_tab] = cdf
        n_tab += 1
    return k, n_tab, p


# ------------------------------------------------------------------------------------- the kernel
@njit(cache=True)
def _run_path(
    p: int,
    fpar: np.ndarray,
    ipar: np.ndarray,
    cap0: np.ndarray,
    online0: np.ndarray,
    cost: np.ndarray,
    btc0: np.ndarray,
    cash0: np.ndarray,
    debt: np.ndarray,
    retirable: np.ndarray,
    log_return: np.ndarray,
    u_blocks: np.ndarray,
    fee_mult: np.ndarray,
    o_price: np.ndarray,
    o_hash: np.ndarray,
    o_diff: np.ndarray,
    o_sold: np.ndarray,
    o_off: np.ndarray,
    path_f: np.ndarray,
    path_i: np.ndarray,
    rt_day: np.ndarray,
    rt_bits: np.ndarray,
    inv_k: np.ndarray,
) -> None:
    n_days = ipar[_I_DAYS]
    n_c = cap0.shape[0]
    price0 = fpar[_F_PRICE0]
    fees_level = fpar[_F_FEES]
    elast = fpar[_F_ELAST]
    band = fpar[_F_BAND]
    growth = fpar[_F_GROWTH]
    full_margin = fpar[_F_FULL]
    allin = fpar[_F_ALLIN]
    share_sold = fpar[_F_SHARE_SOLD]
    forced_share = fpar[_F_FORCED]
    k_imp = fpar[_F_K]
    sigma = fpar[_F_SIGMA]
    volume = fpar[_F_VOLUME]
    baseline = fpar[_F_BASELINE]
    lag = ipar[_I_LAG]
    retire_after = ipar[_I_RETIRE]
    lead = ipar[_I_LEAD]
    deploy = ipar[_I_DEPLOY]
    cover = ipar[_I_COVER] != 0
    r_max = ipar[_I_RMAX]

    cap = cap0.copy()
    inv_cost = 1.0 / cost
    online = online0.copy()
    retired = np.zeros(n_c, np.uint8)
    under = np.zeros(n_c, np.int64)
    streak = np.zeros(n_c, np.int64)
    btc = btc0.copy()
    cash = cash0.copy()
    ring = np.full(lead, fpar[_F_ORDERS0])
    ever_installed = 0.0
    for c in range(n_c):
        ever_installed += cap[c]

    price = price0
    price_exo = price0
    peak = price0
    peak_exo = price0
    mdd = 0.0
    mdd_exo = 0.0
    s1 = 0.0
    s2 = 0.0
    e1 = 0.0
    e2 = 0.0
    bits = ipar[_I_BITS0]
    diff = bits_to_difficulty(bits)
    bits_day = bits
    tip = ipar[_I_TIP0]
    t_first = ipar[_I_TFIRST0]
    n_ret = 0
    h_start = 0.0
    h_min = np.inf
    off_max = 0.0
    drop_day = -1
    rec_day = -1
    tot_sold = 0.0
    tot_forced = 0.0
    tot_fees = 0.0
    tot_sub = 0
    lam_prev = -1.0
    k_start = 0
    p_last = 0.0
    k_max = 0
    n_tab = 0
    cdf_tab = np.empty(256)
    slot = 0
    hashrate = 0.0
    installed = 0.0
    off_below = 1.0 - band
    on_above = 1.0 + band

    for t in range(n_days):
        fee = fees_level * fee_mult[p, t]
        if elast != 0.0:
            fee = fee * (price / price0) ** elast
        rev = revenue_usd_per_ths_day(diff, subsidy_sats(tip + 1) / 1e8, fee, price)
        changed = t == 0
        if deploy >= 0:
            arriving = ring[slot]
            if arriving != 0.0:
                cap[deploy] += arriving
                ever_installed += arriving
                changed = True

        # ---- cohorts switch off / on / retire on the day's expected revenue per TH/s
        for c in range(n_c):
            if retired[c]:
                continue
            ratio = rev * inv_cost[c]
            if ratio < 1.0:
                under[c] += 1
            else:
                under[c] = 0
            if retirable[c] and retire_after > 0 and under[c] >= retire_after:
                retired[c] = 1
                online[c] = 0
                cap[c] = 0.0
                changed = True
                continue
            if online[c]:
                if ratio < off_below:
                    online[c] = 0
                    streak[c] = 0
                    changed = True
            else:
                if ratio >= on_above:
                    streak[c] += 1
                else:
                    streak[c] = 0
                if streak[c] >= lag:
                    online[c] = 1
                    streak[c] = 0
                    changed = True
        if changed:  # otherwise the sums are yesterday's (same terms, same order, same result)
            hashrate = 0.0
            installed = 0.0
            for c in range(n_c):
                if not retired[c]:
                    installed += cap[c]
                    if online[c]:
                        hashrate += cap[c]

        if deploy >= 0:
            x = (1.0 - allin / rev) / full_margin
            if x < 0.0:
                x = 0.0
            elif x > 1.0:
                x = 1.0
            ring[slot] = installed * growth * x
        slot += 1
        if slot == lead:
            slot = 0

        o_price[p, t] = price
        o_hash[p, t] = hashrate
        o_diff[p, t] = diff
        off = 1.0 - hashrate / installed if installed > 0.0 else 0.0
        o_off[p, t] = off
        if off > off_max:
            off_max = off
        if hashrate < h_min:
            h_min = hashrate
        if t == 0:
            h_start = hashrate
        elif drop_day < 0:
            if hashrate < h_start:
                drop_day = t
        elif rec_day < 0 and hashrate >= h_start:
            rec_day = t

        # ---- blocks of the day, halvings, retargets
        lam = expected_blocks(hashrate, diff, _DAY_S)
        if lam <= 0.0:
            n = 0
        else:
            if lam != lam_prev:  # new rate: restart the table of cumulative probabilities
                k_start, p_last, k_max = poisson_start(lam)
                if k_max - k_start + 1 > cdf_tab.shape[0]:
                    cdf_tab = np.empty(2 * (k_max - k_start + 1))
                cdf_tab[0] = p_last
                n_tab = 1
                lam_prev = lam
            n, n_tab, p_last = poisson_lookup(
                u_blocks[p, t], lam, k_start, k_max, cdf_tab, n_tab, p_last, inv_k
            )
        sub = subsidy_range_sats(tip + 1, tip + n)
        day_start = t * _DAY_S_INT
        b = (tip // _INTERVAL + 1) * _INTERVAL
        while b - 1 <= tip + n:
            if b - 1 >= tip + 1:  # the period's last block is mined today: retarget
                bits = next_bits(bits, t_first, day_start + ((b - 1 - tip) * _DAY_S_INT) // n)
                if n_ret < r_max:
                    rt_day[p, n_ret] = t
                    rt_bits[p, n_ret] = bits
                n_ret += 1
            if b <= tip + n:  # the next period's first block is mined today
                t_first = day_start + ((b - tip) * _DAY_S_INT) // n
            b += _INTERVAL
        tip += n
        tot_sub += sub
        reward = sub / 1e8 + n * fee
        tot_fees += n * fee

        # ---- production, sales, treasuries
        sold = 0.0
        inv_h = 1.0 / hashrate if hashrate > 0.0 else 0.0
        for c in range(n_c):
            prod = 0.0
            spend = debt[c]
            if online[c]:
                prod = reward * (cap[c] * inv_h)
                spend += cap[c] * cost[c]
            routine = share_sold * prod
            b_c = btc[c] + (prod - routine)
            cash_c = cash[c] + routine * price - spend
            extra = 0.0
            if cash_c < 0.0:
                if cover:
                    extra = -cash_c / price
                    if extra > b_c:
                        extra = b_c
                else:
                    extra = forced_share * b_c
                    tot_forced += extra
                b_c -= extra
                cash_c += extra * price
            btc[c] = b_c
            cash[c] = cash_c
            sold += routine + extra
        o_sold[p, t] = sold
        tot_sold += sold

        # ---- next day's price: exogenous return minus the impact of today's net sales
        if t < n_days - 1:
            r = log_return[p, t]
            impact = 0.0
            if k_imp > 0.0:
                net = sold - baseline
                if net > 0.0:
                    impact = k_imp * sigma * math.sqrt(net * price / volume)
            lr = r - impact
            price = price * math.exp(lr)
            s1 += lr
            s2 += lr * lr
            if price > peak:
                peak = price
            dd = 1.0 - price / peak
            if dd > mdd:
                mdd = dd
            price_exo = price_exo * math.exp(r)
            e1 += r
            e2 += r * r
            if price_exo > peak_exo:
                peak_exo = price_exo
            dd = 1.0 - price_exo / peak_exo
            if dd > mdd_exo:
                mdd_exo = dd
        if bits != bits_day:
            diff = bits_to_difficulty(bits)
            bits_day = bits

    m = n_days - 1
    if m > 1:
        path_f[p, PF_VOL] = math.sqrt(max(s2 - s1 * s1 / m, 0.0) / (m - 1) * _DAYS_PER_YEAR)
        path_f[p, PF_VOL_EXO] = math.sqrt(max(e2 - e1 * e1 / m, 0.0) / (m - 1) * _DAYS_PER_YEAR)
    path_f[p, PF_MDD] = mdd
    path_f[p, PF_MDD_EXO] = mdd_exo
    path_f[p, PF_SOLD_BTC] = tot_sold
    path_f[p, PF_FORCED_BTC] = tot_forced
    path_f[p, PF_FEES_BTC] = tot_fees
    btc_end = 0.0
    cash_end = 0.0
    for c in range(n_c):
        btc_end += btc[c]
        cash_end += cash[c]
    live = 0.0
    for c in range(n_c):
        live += cap[c]
    retired_cap = ever_installed - live
    path_f[p, PF_RETIRED_SHARE] = retired_cap / ever_installed if ever_installed > 0.0 else 0.0
    path_f[p, PF_OFFLINE_MAX] = off_max
    path_f[p, PF_HASHRATE_MIN] = h_min / h_start if h_start > 0.0 else 1.0
    path_f[p, PF_BTC_END] = btc_end
    path_f[p, PF_CASH_END] = cash_end
    path_i[p, PI_SUBSIDY_SATS] = tot_sub
    path_i[p, PI_TIP] = tip
    path_i[p, PI_N_RETARGETS] = n_ret
    path_i[p, PI_DROP_DAY] = drop_day
    path_i[p, PI_RECOVERY_DAY] = rec_day


@njit(parallel=True, cache=True)
def _run_chunk(
    fpar: np.ndarray,
    ipar: np.ndarray,
    cap0: np.ndarray,
    online0: np.ndarray,
    cost: np.ndarray,
    btc0: np.ndarray,
    cash0: np.ndarray,
    debt: np.ndarray,
    retirable: np.ndarray,
    log_return: np.ndarray,
    u_blocks: np.ndarray,
    fee_mult: np.ndarray,
    o_price: np.ndarray,
    o_hash: np.ndarray,
    o_diff: np.ndarray,
    o_sold: np.ndarray,
    o_off: np.ndarray,
    path_f: np.ndarray,
    path_i: np.ndarray,
    rt_day: np.ndarray,
    rt_bits: np.ndarray,
    inv_k: np.ndarray,
) -> None:
    for p in prange(log_return.shape[0]):
        _run_path(
            p, fpar, ipar, cap0, online0, cost, btc0, cash0, debt, retirable,
            log_return, u_blocks, fee_mult, o_price, o_hash, o_diff, o_sold, o_off,
            path_f, path_i, rt_day, rt_bits, inv_k,
        )  # fmt: skip


def pack_params(setup: KernelSetup) -> tuple[np.ndarray, np.ndarray]:
    """Scalar parameters of `setup` as the kernel's ``(fpar float64, ipar int64)`` arrays."""
    fpar = np.array(
        [
            setup.price0_usd,
            setup.fees_level_btc,
            setup.fees_elasticity,
            setup.hysteresis,
            setup.growth_per_day,
            setup.full_margin,
            setup.deploy_allin_usd_per_ths_day,
            setup.orders0_ths_per_day,
            setup.share_sold,
            setup.forced_share,
            setup.impact_k,
            setup.impact_sigma_daily,
            setup.impact_volume_usd,
            setup.baseline_sold_btc,
        ],
        dtype=np.float64,
    )
    ipar = np.array(
        [
            setup.n_days,
            setup.on_lag_days,
            setup.retire_after_days,
            setup.lead_time_days,
            setup.deploy_cohort,
            int(setup.sell_to_cover),
            setup.tip0,
            setup.bits0,
            setup.epoch_first_time0,
            setup.max_retargets,
        ],
        dtype=np.int64,
    )
    return fpar, ipar


def run_chunk(setup: KernelSetup, rnd: ChunkRandoms, out: ChunkOutputs) -> None:
    """Simulate the chunk of paths of `rnd` into `out` (compiled, parallel over paths).

    Parameters
    ----------
    setup : KernelSetup
        The prepared scenario.
    rnd : ChunkRandoms
        The chunk's random numbers, shape ``(P, n_days)`` each.
    out : ChunkOutputs
        Outputs with at least P rows; the first P are written.
    """
    fpar, ipar = pack_params(setup)
    n = rnd.n_paths
    o = out.head(n)
    assert o.path_f.shape[1] == N_PF and o.path_i.shape[1] == N_PI
    _run_chunk(
        fpar, ipar, setup.cap0_ths, setup.online0, setup.cost_usd_per_ths_day, setup.btc0, setup.cash0_usd,
        setup.debt_usd_per_day, setup.retirable, rnd.log_return, rnd.u_blocks, rnd.fee_mult,
        o.price_usd, o.hashrate_ths, o.difficulty, o.sold_btc, o.offline_share, o.path_f, o.path_i,
        o.retarget_day, o.retarget_bits, INV_K,
    )  # fmt: skip


# ------------------------------------------------------------------------------------- summary histograms
AXIS_LOG_RATIO = 0
"""Bin ``log(v / ref)``."""
AXIS_LOG1P = 1
"""Bin ``log(1 + v)``."""
AXIS_LINEAR = 2
"""Bin ``v``."""


@njit(parallel=True, cache=True)
def accumulate_daily(
    values: np.ndarray,
    kind: int,
    ref: float,
    lo: float,
    inv_width: float,
    counts: np.ndarray,
    vmin: np.ndarray,
    vmax: np.ndarray,
    vsum: np.ndarray,
) -> None:
    """Add the per-path daily `values` ``(P, D)`` into per-day fixed-bin histograms ``counts (D, B)``.

    Day ``d``'s value goes to bin ``floor((x - lo) * inv_width)`` clipped to ``[0, B-1]``, with ``x`` the
    value transformed by `kind` (:data:`AXIS_LOG_RATIO`: ``log(v) - log(ref)``, :data:`AXIS_LOG1P`,
    :data:`AXIS_LINEAR`), logarithms taken in float32; the exact per-day minimum, maximum and sum are updated
    in float64. Parallel over days (each day's row belongs to one thread).
    """
    n_p, n_d = values.shape
    n_b = counts.shape[1]
    log_ref = math.log(ref)
    floor_x = -1e300
    for d in prange(n_d):
        mn = vmin[d]
        mx = vmax[d]
        acc = 0.0
        for p in range(n_p):
            v64 = float(values[p, d])
            v = np.float32(v64)  # float32 logarithms: twice as fast, ample for bins >= 1e-4 wide
            if kind == AXIS_LOG_RATIO:
                x = float(math.log(v)) - log_ref if v > 0 else floor_x
            elif kind == AXIS_LOG1P:
                x = float(math.log1p(v)) if v > -1 else floor_x
            else:
                x = v64
            f = (x - lo) * inv_width
            if f < 0:
                i = 0
            elif f >= n_b - 1:
                i = n_b - 1
            else:
                i = int(f)
            counts[d, i] += 1
            mn = min(mn, v64)
            mx = max(mx, v64)
            acc += v64
        vmin[d] = mn
        vmax[d] = mx
        vsum[d] += acc


@njit(cache=True)
def accumulate_retargets(
    day: np.ndarray,
    bits: np.ndarray,
    bits0: int,
    d0: float,
    level_lo: float,
    level_inv_width: float,
    change_lo: float,
    change_inv_width: float,
    reach: np.ndarray,
    day_counts: np.ndarray,
    level_counts: np.ndarray,
    change_counts: np.ndarray,
    extremes: np.ndarray,
    first_change: np.ndarray,
    min_change: np.ndarray,
) -> None:
    """Fold a chunk's recorded retargets (``day``, ``bits``: ``(P, R)``, day -1 = none) into histograms.

    Per retarget j: reach count, day histogram, histogram of ``log(difficulty / d0)`` and of
    ``log(new / old)``, and ``extremes[j] = (min level, max level, min change, max change)`` as ratios.
    Per path: ``first_change`` and ``min_change`` (fractions; left NaN without a retarget).
    """
    n_p, n_r = day.shape
    n_days = day_counts.shape[1]
    nl = level_counts.shape[1]
    nc = change_counts.shape[1]
    diff0 = bits_to_difficulty(bits0)
    for p in range(n_p):
        prev = diff0
        worst = np.inf
        for j in range(n_r):
            t = day[p, j]
            if t < 0:
                break
            dj = bits_to_difficulty(bits[p, j])
            level = dj / d0
            change = dj / prev
            prev = dj
            reach[j] += 1
            day_counts[j, min(max(t, 0), n_days - 1)] += 1
            i = math.floor((math.log(level) - level_lo) * level_inv_width)
            level_counts[j, min(max(i, 0), nl - 1)] += 1
            i = math.floor((math.log(change) - change_lo) * change_inv_width)
            change_counts[j, min(max(i, 0), nc - 1)] += 1
            extremes[j, 0] = min(extremes[j, 0], level)
            extremes[j, 1] = max(extremes[j, 1], level)
            extremes[j, 2] = min(extremes[j, 2], change)
            extremes[j, 3] = max(extremes[j, 3], change)
            if j == 0:
                first_change[p] = change - 1.0
            worst = min(worst, change)
        if worst < np.inf:
            min_change[p] = worst - 1.0
