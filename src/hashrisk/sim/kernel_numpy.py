"""The reference kernel: the daily step in plain numpy, vectorised over paths.

This is the specification of the model; :mod:`hashrisk.sim.kernel_numba` must give the same numbers
(tests: 1e-9 relative on the same random numbers). It calls the library's own consensus and economics
functions (``next_bits``, ``block_subsidy_sats``, ``expected_blocks``, ``revenue_usd_per_ths_day``).

One day ``t`` of one path (state at the start of the day: price ``P``, nBits, tip height, per cohort
installed hashrate, on/off, counters, BTC and cash):

1. **Fees** ``f = level * noise_t * (P / P0)^elasticity`` [BTC/block].
2. **Revenue** per TH/s ``rev = 86,400e12 / (D * 2^32) * (subsidy(tip + 1) + f) * P`` [USD/(TH/s)/day].
3. **Deployments** ordered ``lead`` days ago arrive in the new-deployments cohort.
4. **Cohorts**: ``r = rev * (1 / cash_cost)``. Underwater counter: ``+1`` if ``r < 1`` else ``0``; retire when it
   reaches ``retire_after_days`` (retirable cohorts). Online: off if ``r < 1 - h``. Offline: a streak of
   days with ``r >= 1 + h``; back on when the streak reaches ``on_lag_days``.
   Online hashrate ``H = sum cap (online)``; installed ``I = sum cap (not retired)``.
5. **Orders** ``I * growth_per_day * clip((1 - allin / rev) / full_margin, 0, 1)``, arriving in ``lead`` days.
6. **Blocks** ``n = F^-1_Poisson(u_t; H * 1e12 * 86,400 / (D * 2^32))``, heights ``tip+1 .. tip+n`` mined
   at times ``t * 86,400 + floor(i * 86,400 / n)``, ``i = 1..n`` (uniform within the day). Subsidy summed
   exactly per height (halvings). When height ``2016 k + 2015`` is mined the new nBits is
   ``next_bits(bits, time(2016 k), time(2016 k + 2015))``; it applies from the next day (the rest of the
   day's blocks were drawn at the day's rate).
7. **Treasuries** per cohort: production ``(subsidy + n f) * (cap * (1 / H))`` (online cohorts); sell
   ``share_sold`` of it; pay ``cap * cash_cost`` (online) and debt service; if cash < 0 sell BTC to cover
   (or lenders force-sell ``forced_share`` of the BTC).
8. **Price** ``P' = P * exp(r_t - k * sigma * sqrt(max(0, sold - baseline) * P / volume))``.

Recorded per day: ``P``, ``H``, difficulty (in force during the day), BTC sold, ``1 - H / I``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

from hashrisk.chain.pow import RETARGET_INTERVAL_BLOCKS, expected_blocks, next_bits
from hashrisk.chain.subsidy import HALVING_INTERVAL_BLOCKS, block_subsidy_sats
from hashrisk.constants import SECONDS_PER_DAY
from hashrisk.economics.revenue import revenue_usd_per_ths_day
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

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
DAYS_PER_YEAR = 365.0


def bits_to_difficulty_vec(bits: npt.ArrayLike) -> FloatArray:
    """Vectorised ``GetDifficulty``: ``ldexp(0xffff / mantissa, 8 (29 - size))``.

    Multiplying by 256 is exact in binary floating point, so this equals Core's loop (and
    :func:`hashrisk.chain.pow.bits_to_difficulty`) bit for bit for normal numbers.
    """
    b = np.asarray(bits, dtype=np.int64)
    out: FloatArray = np.ldexp(65535.0 / (b & 0x00FFFFFF).astype(float), 8 * (29 - ((b >> 24) & 0xFF)))
    return out


def subsidy_sats_vec(heights: IntArray) -> IntArray:
    """:func:`hashrisk.chain.subsidy.block_subsidy_sats` over an array of heights [sats]."""
    eras, inverse = np.unique(heights // HALVING_INTERVAL_BLOCKS, return_inverse=True)
    per_era = np.array([block_subsidy_sats(int(e) * HALVING_INTERVAL_BLOCKS) for e in eras], dtype=np.int64)
    out: IntArray = per_era[inverse.reshape(heights.shape)]
    return out


def subsidy_range_sats_vec(first: IntArray, n: IntArray) -> IntArray:
    """Sum of subsidies of heights ``first .. first + n - 1`` per element [sats] (n < 210,000)."""
    last = first + n - 1
    boundary = (first // HALVING_INTERVAL_BLOCKS + 1) * HALVING_INTERVAL_BLOCKS
    s_first = subsidy_sats_vec(first)
    s_next = subsidy_sats_vec(boundary)
    split = last >= boundary
    out: IntArray = np.where(
        split, (boundary - first) * s_first + (last - boundary + 1) * s_next, n * s_first
    )
    return np.where(n > 0, out, 0)


def poisson_inv_vec(u: FloatArray, lam: FloatArray) -> IntArray:
    """Vectorised Poisson inversion, the same search as :func:`hashrisk.sim.kernel_numba.poisson_inv`."""
    lam = np.asarray(lam, dtype=float)
    pos = lam > 0.0
    lam_s = np.where(pos, lam, 1.0)
    root = np.sqrt(lam_s)
    k = np.floor(lam_s - 7.0 * root - 2.0)
    low = k <= 0.0
    k = np.where(low, 0.0, k)
    log_p = -lam_s + k * np.log(lam_s) - special.gammaln(k + 1.0)
    p = np.where(low, np.exp(-lam_s), np.exp(np.where(low, 0.0, log_p)))
    k_int = k.astype(np.int64)
    k_max = (lam_s + 10.0 * root + 20.0).astype(np.int64)
    cdf = p.copy()
    active = pos & (u > cdf) & (k_int < k_max)
    while active.any():
        k_int = np.where(active, k_int + 1, k_int)
        p = np.where(active, p * (lam_s * (1.0 / np.maximum(k_int, 1))), p)
        cdf = np.where(active, cdf + p, cdf)
        active = active & (u > cdf) & (k_int < k_max)
    return np.where(pos, k_int, 0)


def run_chunk(setup: KernelSetup, rnd: ChunkRandoms, out: ChunkOutputs) -> None:
    """Simulate the chunk of paths of `rnd` into the first rows of `out` (reference implementation).

    Parameters
    ----------
    setup : KernelSetup
        The prepared scenario.
    rnd : ChunkRandoms
        The chunk's random numbers, shape ``(P, n_days)`` each.
    out : ChunkOutputs
        Outputs with at least P rows.
    """
    n_p, n_days = rnd.log_return.shape
    o = out.head(n_p)
    n_c = setup.n_cohorts
    s = setup
    cap = np.tile(s.cap0_ths, (n_p, 1))
    inv_cost = 1.0 / s.cost_usd_per_ths_day
    online = np.tile(s.online0.astype(bool), (n_p, 1))
    retired = np.zeros((n_p, n_c), dtype=bool)
    under = np.zeros((n_p, n_c), dtype=np.int64)
    streak = np.zeros((n_p, n_c), dtype=np.int64)
    btc = np.tile(s.btc0, (n_p, 1))
    cash = np.tile(s.cash0_usd, (n_p, 1))
    ring = np.full((n_p, s.lead_time_days), s.orders0_ths_per_day)
    retirable = np.broadcast_to(s.retirable.astype(bool), (n_p, n_c))
    ever = np.zeros(n_p)
    for c in range(n_c):
        ever = ever + cap[:, c]

    price = np.full(n_p, s.price0_usd)
    price_exo = price.copy()
    peak, peak_exo = price.copy(), price.copy()
    mdd, mdd_exo = np.zeros(n_p), np.zeros(n_p)
    s1, s2, e1, e2 = (np.zeros(n_p) for _ in range(4))
    bits = np.full(n_p, s.bits0, dtype=np.int64)
    diff = bits_to_difficulty_vec(bits)
    tip = np.full(n_p, s.tip0, dtype=np.int64)
    t_first = np.full(n_p, s.epoch_first_time0, dtype=np.int64)
    n_ret = np.zeros(n_p, dtype=np.int64)
    h_start = np.zeros(n_p)
    h_min = np.full(n_p, np.inf)
    off_max = np.zeros(n_p)
    drop_day = np.full(n_p, -1, dtype=np.int64)
    rec_day = np.full(n_p, -1, dtype=np.int64)
    tot_sold, tot_forced, tot_fees = np.zeros(n_p), np.zeros(n_p), np.zeros(n_p)
    tot_sub = np.zeros(n_p, dtype=np.int64)
    rows = np.arange(n_p)

    for t in range(n_days):
        # 1-2: fees and revenue per TH/s
        fee = s.fees_level_btc * rnd.fee_mult[:, t]
        if s.fees_elasticity != 0.0:
            fee = fee * (price / s.price0_usd) ** s.fees_elasticity
        rev = revenue_usd_per_ths_day(diff, subsidy_sats_vec(tip + 1) / 1e8, fee, price)
        # 3: deployments arrive
        slot = t % s.lead_time_days
        if s.deploy_cohort >= 0:
            arriving = ring[:, slot].copy()
            cap[:, s.deploy_cohort] += arriving
            ever = ever + arriving
        # 4: cohorts
        live = ~retired
        ratio = rev[:, None] * inv_cost[None, :]
        under = np.where(live, np.where(ratio < 1.0, under + 1, 0), under)
        retire_now = live & retirable & (s.retire_after_days > 0) & (under >= s.retire_after_days)
        retired |= retire_now
        online &= ~retire_now
        cap = np.where(retire_now, 0.0, cap)
        live &= ~retire_now
        switch_off = live & online & (ratio < 1.0 - s.hysteresis)
        off_branch = live & ~online
        streak = np.where(off_branch, np.where(ratio >= 1.0 + s.hysteresis, streak + 1, 0), streak)
        switch_on = off_branch & (streak >= s.on_lag_days)
        online = (online & ~switch_off) | switch_on
        streak = np.where(switch_off | switch_on, 0, streak)
        hashrate, installed = np.zeros(n_p), np.zeros(n_p)
        for c in range(n_c):  # cohort by cohort: the same summation order as the compiled kernel
            installed = installed + np.where(live[:, c], cap[:, c], 0.0)
            hashrate = hashrate + np.where(live[:, c] & online[:, c], cap[:, c], 0.0)
        # 5: orders
        if s.deploy_cohort >= 0:
            x = np.clip((1.0 - s.deploy_allin_usd_per_ths_day / rev) / s.full_margin, 0.0, 1.0)
            ring[:, slot] = installed * s.growth_per_day * x
        o.price_usd[:, t] = price
        o.hashrate_ths[:, t] = hashrate
        o.difficulty[:, t] = diff
        off = np.where(
            installed > 0.0,
            1.0 - np.divide(hashrate, installed, out=np.zeros(n_p), where=installed > 0.0),
            0.0,
        )
        o.offline_share[:, t] = off
        off_max = np.maximum(off_max, off)
        h_min = np.minimum(h_min, hashrate)
        if t == 0:
            h_start = hashrate.copy()
        else:
            newly_dropped = (drop_day < 0) & (hashrate < h_start)
            recovered = (drop_day >= 0) & (rec_day < 0) & (hashrate >= h_start)
            rec_day = np.where(recovered, t, rec_day)
            drop_day = np.where(newly_dropped, t, drop_day)
        # 6: blocks, halvings, retargets
        lam = expected_blocks(hashrate, diff, float(SECONDS_PER_DAY))
        n = poisson_inv_vec(rnd.u_blocks[:, t], lam)
        sub = subsidy_range_sats_vec(tip + 1, n)
        boundary = (tip // RETARGET_INTERVAL_BLOCKS + 1) * RETARGET_INTERVAL_BLOCKS
        for p in rows[boundary - 1 <= tip + n]:
            tp, np_, b = int(tip[p]), int(n[p]), int(boundary[p])
            day_start = t * SECONDS_PER_DAY
            while b - 1 <= tp + np_:
                if b - 1 >= tp + 1:
                    new = next_bits(
                        int(bits[p]), int(t_first[p]), day_start + (b - 1 - tp) * SECONDS_PER_DAY // np_
                    )
                    bits[p] = new
                    if n_ret[p] < s.max_retargets:
                        o.retarget_day[p, n_ret[p]] = t
                        o.retarget_bits[p, n_ret[p]] = new
                    n_ret[p] += 1
                if b <= tp + np_:
                    t_first[p] = day_start + (b - tp) * SECONDS_PER_DAY // np_
                b += RETARGET_INTERVAL_BLOCKS
        tip = tip + n
        tot_sub = tot_sub + sub
        reward = sub / 1e8 + n * fee
        tot_fees = tot_fees + n * fee
        # 7: treasuries
        inv_h = np.divide(1.0, hashrate, out=np.zeros(n_p), where=hashrate > 0.0)
        prod = np.where(online, reward[:, None] * (cap * inv_h[:, None]), 0.0)
        spend = s.debt_usd_per_day[None, :] + np.where(online, cap * s.cost_usd_per_ths_day[None, :], 0.0)
        routine = s.share_sold * prod
        b_c = btc + (prod - routine)
        cash_c = cash + routine * price[:, None] - spend
        neg = cash_c < 0.0
        if s.sell_to_cover:
            extra = np.where(neg, np.minimum(-cash_c / price[:, None], b_c), 0.0)
        else:
            extra = np.where(neg, s.forced_share * b_c, 0.0)
            for c in range(n_c):
                tot_forced = tot_forced + extra[:, c]
        btc = np.where(neg, b_c - extra, b_c)
        cash = np.where(neg, cash_c + extra * price[:, None], cash_c)
        sold = np.zeros(n_p)
        for c in range(n_c):
            sold = sold + (routine[:, c] + extra[:, c])
        o.sold_btc[:, t] = sold
        tot_sold = tot_sold + sold
        # 8: next day's price
        if t < n_days - 1:
            r = rnd.log_return[:, t]
            if s.impact_k > 0.0:
                net = np.maximum(sold - s.baseline_sold_btc, 0.0)
                impact = s.impact_k * s.impact_sigma_daily * np.sqrt(net * price / s.impact_volume_usd)
            else:
                impact = np.zeros(n_p)
            lr = r - impact
            price = price * np.exp(lr)
            s1, s2 = s1 + lr, s2 + lr * lr
            peak = np.maximum(peak, price)
            mdd = np.maximum(mdd, 1.0 - price / peak)
            price_exo = price_exo * np.exp(r)
            e1, e2 = e1 + r, e2 + r * r
            peak_exo = np.maximum(peak_exo, price_exo)
            mdd_exo = np.maximum(mdd_exo, 1.0 - price_exo / peak_exo)
        diff = bits_to_difficulty_vec(bits)

    m = n_days - 1
    if m > 1:
        o.path_f[:, PF_VOL] = np.sqrt(np.maximum(s2 - s1 * s1 / m, 0.0) / (m - 1) * DAYS_PER_YEAR)
        o.path_f[:, PF_VOL_EXO] = np.sqrt(np.maximum(e2 - e1 * e1 / m, 0.0) / (m - 1) * DAYS_PER_YEAR)
    o.path_f[:, PF_MDD] = mdd
    o.path_f[:, PF_MDD_EXO] = mdd_exo
    o.path_f[:, PF_SOLD_BTC] = tot_sold
    o.path_f[:, PF_FORCED_BTC] = tot_forced
    o.path_f[:, PF_FEES_BTC] = tot_fees
    btc_end, cash_end, live_cap = np.zeros(n_p), np.zeros(n_p), np.zeros(n_p)
    for c in range(n_c):
        btc_end, cash_end, live_cap = btc_end + btc[:, c], cash_end + cash[:, c], live_cap + cap[:, c]
    o.path_f[:, PF_RETIRED_SHARE] = np.divide(ever - live_cap, ever, out=np.zeros(n_p), where=ever > 0.0)
    o.path_f[:, PF_OFFLINE_MAX] = off_max
    o.path_f[:, PF_HASHRATE_MIN] = np.divide(h_min, h_start, out=np.ones(n_p), where=h_start > 0.0)
    o.path_f[:, PF_BTC_END] = btc_end
    o.path_f[:, PF_CASH_END] = cash_end
    o.path_i[:, PI_SUBSIDY_SATS] = tot_sub
    o.path_i[:, PI_TIP] = tip
    o.path_i[:, PI_N_RETARGETS] = n_ret
    o.path_i[:, PI_DROP_DAY] = drop_day
    o.path_i[:, PI_RECOVERY_DAY] = rec_day
