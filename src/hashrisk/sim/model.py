"""The simulation model, written once: the daily step of one path (:func:`run_path`) and the same step
vectorised over paths on an array namespace (:func:`run_xp`).

One day ``t`` of one path (state at the start of the day: price ``P``, nBits, tip height, per cohort
installed hashrate, on/off, counters, BTC and cash):

1. **Fees** ``f = level * noise_t * (P / P0)^elasticity`` [BTC/block].
2. **Revenue** per TH/s ``rev = 86,400e12 / (D * 2^32) * (subsidy(tip + 1) + f) * P`` [USD/(TH/s)/day].
3. **Deployments** ordered ``lead`` days ago arrive in the new-deployments cohort.
4. **Cohorts**: ``r = rev * (1 / cash_cost)``. Underwater counter: ``+1`` if ``r < 1`` else ``0``; retire when it
   reaches ``retire_after_days`` (retirable cohorts). Online: off if ``r < 1 - h``. Offline: a streak of
   days with ``r >= 1 + h``; back on when the streak reaches ``on_lag_days``.
   The fleet's online hashrate ``H_f = sum cap (online)``; installed ``I = sum cap (not retired)``, summed
   cohort by cohort in index order. The network's hashrate ``H = H_f * m_t``, with ``m_t = exp(z_t)`` the
   moves no price explains (exp of a daily random walk from 0 with log-sd ``fleet.unexplained_log_sd`` per 14
   days, drawn by the engine; 1 when off).
   Offline share ``1 - H_f / I``.
5. **Orders** ``I * growth_per_day * clip((1 - allin / rev) / full_margin, 0, 1)``, arriving in ``lead`` days.
6. **Blocks** ``n = F^-1_Poisson(u_t; H * 1e12 * 86,400 / (D * 2^32))`` (:mod:`hashrisk.sim.poisson`), heights
   ``tip+1 .. tip+n`` mined at times ``t * 86,400 + floor(i * 86,400 / n)``, ``i = 1..n`` (uniform within the
   day). Subsidy summed exactly per height (halvings). When height ``2016 k + 2015`` is mined the new nBits
   is ``next_bits(bits, time(2016 k), time(2016 k + 2015))``; it applies from the next day (the rest of the
   day's blocks were drawn at the day's rate).
7. **Owners** (listed miners or groups, each with its own cohort, and the rest of the network, last):
   production ``(subsidy + n f) * (cap * (1 / H_f))`` summed over each owner's online cohorts; the owner
   sells ``share_sold`` of it; its cash need is its power ``cap * cash_cost`` (online cohorts) minus its
   scheduled flows (other costs, interest, principal, capex out; lease revenue in). If cash ends below its
   floor, the shortfall is met by selling treasury BTC (up to all of it), then by raising capital at
   ``cost = min(0.95, c0 * (P0 / P)^g)`` (``x`` USD of cash costs ``x * cost / (1 - cost)``); a
   raise-first owner raises first while ``cost <= cost_max``.
8. **Price** ``P' = P * exp(r_t - k * sigma * sign(m) * sqrt(|m| * P / volume))`` with the net mechanical sales
   ``m = sold - buying_usd / P - baseline`` [BTC/day].

Recorded per day: ``P``, ``H``, difficulty (in force during the day), BTC sold, ``1 - H / I``; per path the
scalars of :mod:`hashrisk.sim.arrays` (``PF_*``, ``PI_*``) and the retargets.

The two forms
    :func:`run_path` is plain Python: called from Python on a :class:`~hashrisk.sim.arrays.KernelSetup` it
    is the executable specification (slow; tests run it on a few paths); :mod:`hashrisk.sim.kernel_numba`
    compiles the same function (``register_jitable``) inside its parallel loop over paths.
    :func:`run_xp` is the step over all paths at once, written against ``ops.xp`` (numpy or jax.numpy) with
    the backend's few differences in ``ops`` (:mod:`hashrisk.sim.xp`); :mod:`hashrisk.sim.kernel_numpy`
    (the reference) and :mod:`hashrisk.sim.kernel_jax` run it. The tests hold the forms equal (1e-9
    relative, integers exactly) on the same random numbers.

Consensus rules come from :mod:`hashrisk.chain` (their kernel forms, tested equal to the exact references);
the block draw from :mod:`hashrisk.sim.poisson`. A new behaviour changes both functions here, the
:class:`~hashrisk.sim.arrays.KernelSetup` field(s) it reads and :func:`hashrisk.sim.engine.prepare`.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from hashrisk.chain.pow import (
    HASHES_PER_DIFFICULTY,
    RETARGET_INTERVAL_BLOCKS,
    bits_to_difficulty_i64,
    bits_to_difficulty_xp,
    expected_blocks_unchecked,
    next_bits_i64,
    next_bits_xp,
)
from hashrisk.chain.subsidy import (
    block_subsidy_sats_i64,
    block_subsidy_sats_xp,
    subsidy_range_sats_i64,
    subsidy_range_sats_xp,
)
from hashrisk.constants import DAYS_PER_YEAR, HASHES_PER_TH, SATS_PER_BTC, SECONDS_PER_DAY
from hashrisk.sim.arrays import (
    N_OF,
    OF_BTC_END,
    OF_CASH_END,
    OF_DRAWN_BTC,
    OF_NEED_USD,
    OF_PRODUCED_BTC,
    OF_RAISE_COST_USD,
    OF_RAISED_USD,
    OF_ROUTINE_USD,
    OF_SOLD_PRODUCTION_BTC,
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
)
from hashrisk.sim.jit import register_jitable
from hashrisk.sim.poisson import poisson_inv_xp, poisson_lookup, poisson_start


@register_jitable
def revenue_usd_per_ths_day(difficulty: Any, subsidy_btc: Any, fees_btc: Any, price_usd: Any) -> Any:
    """``86,400e12 / (difficulty * 2^32) * (subsidy + fees) * price`` [USD/(TH/s)/day], scalars or arrays.

    :func:`hashrisk.economics.revenue.revenue_usd_per_ths_day` without validation, in its operation order
    (tested equal).
    """
    return (
        SECONDS_PER_DAY * HASHES_PER_TH / (difficulty * HASHES_PER_DIFFICULTY) * (subsidy_btc + fees_btc)
    ) * price_usd


# ------------------------------------------------------------------------------------- one path (numba)
@register_jitable
def _price_track(
    price: float, peak: float, mdd: float, m1: float, m2: float, lr: float
) -> tuple[float, float, float, float, float]:
    """One day of a price track: ``P' = P exp(lr)``, running peak and maximum drawdown, sums of ``lr`` and
    ``lr^2`` (for the volatility)."""
    price = price * math.exp(lr)
    if price > peak:
        peak = price
    dd = 1.0 - price / peak
    if dd > mdd:
        mdd = dd
    return price, peak, mdd, m1 + lr, m2 + lr * lr


@register_jitable
def run_path(p: int, s: Any, rnd: Any, out: Any, inv_k: Any) -> None:
    """Simulate path `p`: read row `p` of the random numbers `rnd`, write row `p` of `out`.

    Parameters
    ----------
    p : int
        Row.
    s : KernelSetup or KernelParams
        The prepared scenario (the dataclass from Python, its named-tuple twin when compiled).
    rnd : ChunkRandoms or RandomsRecord
        Random numbers ``(P, D)``.
    out : ChunkOutputs or OutputsRecord
        Outputs; row `p` is written.
    inv_k : ndarray
        :data:`hashrisk.sim.poisson.INV_K`.
    """
    n_days = s.n_days
    n_c = s.cap0_ths.shape[0]
    price0 = s.price0_usd
    elast = s.fees_elasticity
    retire_after = s.retire_after_days
    lead = s.lead_time_days
    deploy = s.deploy_cohort
    cost = s.cost_usd_per_ths_day
    retirable = s.retirable

    cap = s.cap0_ths.copy()
    inv_cost = 1.0 / cost
    online = s.online0.copy()
    retired = np.zeros(n_c, np.uint8)
    under = np.zeros(n_c, np.int64)
    streak = np.zeros(n_c, np.int64)
    owner = s.owner
    n_o = s.btc0.shape[0]
    btc = s.btc0.copy()
    cash = s.cash0_usd.copy()
    prod_o = np.zeros(n_o)
    spend_o = np.zeros(n_o)
    acc = np.zeros((n_o, N_OF))  # OF_* totals, written to out.owner_f at the end
    ring = np.full(lead, s.orders0_ths_per_day)
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
    bits = s.bits0
    diff = bits_to_difficulty_i64(bits)
    bits_day = bits
    tip = s.tip0
    t_first = s.epoch_first_time0
    n_ret = 0
    r_max = min(s.max_retargets, out.retarget_day.shape[1])
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
    h_fleet = 0.0
    hashrate = 0.0
    installed = 0.0
    off_below = 1.0 - s.hysteresis
    on_above = 1.0 + s.hysteresis

    for t in range(n_days):
        # 1-2: fees and revenue per TH/s
        fee = s.fees_level_btc * rnd.fee_mult[p, t]
        if elast != 0.0:
            fee = fee * (price / price0) ** elast
        rev = revenue_usd_per_ths_day(diff, block_subsidy_sats_i64(tip + 1) / SATS_PER_BTC, fee, price)
        # 3: deployments arrive
        changed = t == 0
        if deploy >= 0:
            arriving = ring[slot]
            if arriving != 0.0:
                cap[deploy] += arriving
                ever_installed += arriving
                changed = True
        # 4: cohorts switch off / on / retire on the day's expected revenue per TH/s
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
                if streak[c] >= s.on_lag_days:
                    online[c] = 1
                    streak[c] = 0
                    changed = True
        if changed:  # otherwise the sums are yesterday's (same terms, same order, same result)
            h_fleet = 0.0
            installed = 0.0
            for c in range(n_c):
                if not retired[c]:
                    installed += cap[c]
                    if online[c]:
                        h_fleet += cap[c]
        hashrate = h_fleet * rnd.hash_mult[p, t]
        # 5: orders
        if deploy >= 0:
            x = (1.0 - s.deploy_allin_usd_per_ths_day / rev) / s.full_margin
            if x < 0.0:
                x = 0.0
            elif x > 1.0:
                x = 1.0
            ring[slot] = installed * s.growth_per_day * x
        slot += 1
        if slot == lead:
            slot = 0

        out.price_usd[p, t] = price
        out.hashrate_ths[p, t] = hashrate
        out.difficulty[p, t] = diff
        off = 1.0 - h_fleet / installed if installed > 0.0 else 0.0
        out.offline_share[p, t] = off
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

        # 6: blocks of the day, halvings, retargets
        lam = expected_blocks_unchecked(hashrate, diff, float(SECONDS_PER_DAY))
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
                rnd.u_blocks[p, t], lam, k_start, k_max, cdf_tab, n_tab, p_last, inv_k
            )
        sub = subsidy_range_sats_i64(tip + 1, tip + n)
        day_start = t * SECONDS_PER_DAY
        b = (tip // RETARGET_INTERVAL_BLOCKS + 1) * RETARGET_INTERVAL_BLOCKS
        while b - 1 <= tip + n:
            if b - 1 >= tip + 1:  # the period's last block is mined today: retarget
                bits = next_bits_i64(bits, t_first, day_start + ((b - 1 - tip) * SECONDS_PER_DAY) // n)
                if n_ret < r_max:
                    out.retarget_day[p, n_ret] = t
                    out.retarget_bits[p, n_ret] = bits
                n_ret += 1
            if b <= tip + n:  # the next period's first block is mined today
                t_first = day_start + ((b - tip) * SECONDS_PER_DAY) // n
            b += RETARGET_INTERVAL_BLOCKS
        tip += n
        tot_sub += sub
        reward = sub / SATS_PER_BTC + n * fee
        tot_fees += n * fee

        # 7: owners' production, sales and cash
        inv_h = 1.0 / h_fleet if h_fleet > 0.0 else 0.0
        for o in range(n_o):
            prod_o[o] = 0.0
            spend_o[o] = 0.0
        for c in range(n_c):
            if online[c]:
                prod_o[owner[c]] += reward * (cap[c] * inv_h)
                spend_o[owner[c]] += cap[c] * cost[c]
        sold = 0.0
        raise_cost = -1.0  # computed on the first shortfall of the day
        for o in range(n_o):
            routine = s.share_sold[o] * prod_o[o]
            need = spend_o[o] - s.scheduled_usd[o, t]
            b_o = btc[o] + (prod_o[o] - routine)
            cash_o = cash[o] + routine * price - need
            short = s.cash_floor_usd[o] - cash_o
            drawn = 0.0
            raised = 0.0
            if short > 0.0:
                if raise_cost < 0.0:
                    raise_cost = min(0.95, s.raise_cost0 * (price0 / price) ** s.raise_elasticity)
                if not (s.raise_first[o] and raise_cost <= s.raise_cost_max):
                    drawn = short / price
                    if drawn > b_o:
                        drawn = b_o
                    b_o -= drawn
                    short -= drawn * price
                if short > 0.0:
                    raised = short
                    acc[o, OF_RAISE_COST_USD] += short * raise_cost / (1.0 - raise_cost)
                cash_o += drawn * price + raised
            btc[o] = b_o
            cash[o] = cash_o
            sold += routine + drawn
            tot_forced += drawn
            acc[o, OF_PRODUCED_BTC] += prod_o[o]
            acc[o, OF_SOLD_PRODUCTION_BTC] += routine
            acc[o, OF_DRAWN_BTC] += drawn
            acc[o, OF_RAISED_USD] += raised
            acc[o, OF_NEED_USD] += need
            acc[o, OF_ROUTINE_USD] += routine * price
        out.sold_btc[p, t] = sold
        tot_sold += sold

        # 8: next day's price: exogenous return minus the impact of today's net mechanical sales
        if t < n_days - 1:
            r = rnd.log_return[p, t]
            impact = 0.0
            if s.impact_k > 0.0:
                net = sold - s.buy_usd_per_day / price - s.baseline_sold_btc
                root = math.sqrt(abs(net) * price / s.impact_volume_usd)
                impact = s.impact_k * s.impact_sigma_daily * (root if net >= 0.0 else -root)
            price, peak, mdd, s1, s2 = _price_track(price, peak, mdd, s1, s2, r - impact)
            price_exo, peak_exo, mdd_exo, e1, e2 = _price_track(price_exo, peak_exo, mdd_exo, e1, e2, r)
        if bits != bits_day:
            diff = bits_to_difficulty_i64(bits)
            bits_day = bits

    m = n_days - 1
    pf = out.path_f
    pi = out.path_i
    if m > 1:
        pf[p, PF_VOL] = math.sqrt(max(s2 - s1 * s1 / m, 0.0) / (m - 1) * DAYS_PER_YEAR)
        pf[p, PF_VOL_EXO] = math.sqrt(max(e2 - e1 * e1 / m, 0.0) / (m - 1) * DAYS_PER_YEAR)
    pf[p, PF_MDD] = mdd
    pf[p, PF_MDD_EXO] = mdd_exo
    pf[p, PF_SOLD_BTC] = tot_sold
    pf[p, PF_FORCED_BTC] = tot_forced
    pf[p, PF_FEES_BTC] = tot_fees
    btc_end = 0.0
    cash_end = 0.0
    for o in range(n_o):
        btc_end += btc[o]
        cash_end += cash[o]
        acc[o, OF_BTC_END] = btc[o]
        acc[o, OF_CASH_END] = cash[o]
        for k in range(N_OF):
            out.owner_f[p, o, k] = acc[o, k]
    live = 0.0
    for c in range(n_c):
        live += cap[c]
    pf[p, PF_RETIRED_SHARE] = (ever_installed - live) / ever_installed if ever_installed > 0.0 else 0.0
    pf[p, PF_OFFLINE_MAX] = off_max
    pf[p, PF_HASHRATE_MIN] = h_min / h_start if h_start > 0.0 else 1.0
    pf[p, PF_BTC_END] = btc_end
    pf[p, PF_CASH_END] = cash_end
    pi[p, PI_SUBSIDY_SATS] = tot_sub
    pi[p, PI_TIP] = tip
    pi[p, PI_N_RETARGETS] = n_ret
    pi[p, PI_DROP_DAY] = drop_day
    pi[p, PI_RECOVERY_DAY] = rec_day


# ------------------------------------------------------------------------------------- all paths (xp)
class State(NamedTuple):
    """What :func:`run_xp` carries from day to day (P paths, C cohorts, L lead days, R recorded retargets)."""

    cap: Any  # (P, C) installed [TH/s]
    online: Any  # (P, C) bool
    retired: Any  # (P, C) bool
    under: Any  # (P, C) days underwater
    streak: Any  # (P, C) days above the restart band while off
    btc: Any  # (P, O)
    cash: Any  # (P, O)
    acc: Any  # (P, O, OF_BTC_END) owners' flow totals (OF_* columns before the end state)
    ring: Any  # (L, P) orders arriving by slot
    ever: Any  # capacity ever installed
    price: Any
    price_exo: Any
    peak: Any
    peak_exo: Any
    mdd: Any
    mdd_exo: Any
    s1: Any
    s2: Any
    e1: Any
    e2: Any
    bits: Any
    diff: Any
    tip: Any
    t_first: Any
    n_ret: Any
    h_start: Any
    h_min: Any
    off_max: Any
    drop_day: Any
    rec_day: Any
    tot_sold: Any
    tot_forced: Any
    tot_fees: Any
    tot_sub: Any
    rt_day: Any  # (P, R) int32
    rt_bits: Any  # (P, R)


def _safe_div(xp: Any, num: Any, den: Any, default: float) -> Any:
    """``num / den`` where ``den > 0``, `default` elsewhere (no division by zero evaluated)."""
    ok = den > 0.0
    return xp.where(ok, num / xp.where(ok, den, 1.0), default)


def run_xp(
    ops: Any,
    s: Any,
    log_return: Any,
    u_blocks: Any,
    fee_mult: Any,
    hash_mult: Any,
    rt_day: Any,
    rt_bits: Any,
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The model over all paths at once, on the backend `ops` (see the module docstring).

    Parameters
    ----------
    ops : NumpyOps or JaxOps
        The backend (``ops.xp`` is the array namespace).
    s : KernelSetup or KernelParams
        The prepared scenario, scalars and cohort arrays in the backend's types (``deploy_cohort`` and
        ``lead_time_days`` as Python ints).
    log_return, u_blocks, fee_mult, hash_mult : array (P, D)
        The random numbers.
    rt_day, rt_bits : array (P, R)
        Retarget records to fill (numpy fills them in place).

    Returns
    -------
    series, scalars
        The daily series in :data:`hashrisk.sim.arrays.SERIES` order, ``(P, D)`` each, and the per-path
        results by name (see :func:`store_xp_results`).
    """
    xp = ops.xp
    n_p, n_days = log_return.shape
    n_c = s.cap0_ths.shape[0]
    n_rt = rt_day.shape[1]
    f64, i64 = xp.float64, xp.int64
    rows = xp.arange(n_p)
    cost = s.cost_usd_per_ths_day
    inv_cost = 1.0 / cost
    retirable = s.retirable.astype(bool)[None, :]
    n_o = s.btc0.shape[0]
    of_owner = (s.owner[None, :] == xp.arange(n_o)[:, None]).astype(f64)[None, :, :]  # (1, O, C) one-hot
    band = s.hysteresis
    price0 = s.price0_usd
    lead = s.lead_time_days
    deploy = s.deploy_cohort

    cap0 = xp.tile(s.cap0_ths, (n_p, 1))
    zeros = xp.zeros(n_p, f64)
    price = xp.full(n_p, price0, f64)
    bits = xp.full(n_p, s.bits0, i64)
    init = State(
        cap=cap0,
        online=xp.tile(s.online0.astype(bool), (n_p, 1)),
        retired=xp.zeros((n_p, n_c), bool),
        under=xp.zeros((n_p, n_c), i64),
        streak=xp.zeros((n_p, n_c), i64),
        btc=xp.tile(s.btc0, (n_p, 1)),
        cash=xp.tile(s.cash0_usd, (n_p, 1)),
        acc=xp.zeros((n_p, n_o, OF_BTC_END), f64),  # the flow totals; the end state is appended at the end
        ring=xp.full((lead, n_p), s.orders0_ths_per_day, f64),
        ever=ops.sum_cohorts(cap0),
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
        diff=bits_to_difficulty_xp(xp, bits),
        tip=xp.full(n_p, s.tip0, i64),
        t_first=xp.full(n_p, s.epoch_first_time0, i64),
        n_ret=xp.zeros(n_p, i64),
        h_start=zeros,
        h_min=xp.full(n_p, xp.inf, f64),
        off_max=zeros,
        drop_day=xp.full(n_p, -1, i64),
        rec_day=xp.full(n_p, -1, i64),
        tot_sold=zeros,
        tot_forced=zeros,
        tot_fees=zeros,
        tot_sub=xp.zeros(n_p, i64),
        rt_day=rt_day,
        rt_bits=rt_bits,
    )

    def day(st: State, xs: tuple[Any, ...]) -> tuple[State, tuple[Any, ...]]:
        t, r, u, fee_noise, hash_mult = xs
        price, diff, tip = st.price, st.diff, st.tip
        # 1-2: fees and revenue per TH/s ((P/P0)^0 = 1 exactly: no switch needed)
        fee = s.fees_level_btc * fee_noise * (price / price0) ** s.fees_elasticity
        rev = revenue_usd_per_ths_day(diff, block_subsidy_sats_xp(xp, tip + 1) / SATS_PER_BTC, fee, price)
        # 3: deployments arrive
        slot = t % lead
        cap, ever = st.cap, st.ever
        if deploy >= 0:
            arriving = st.ring[slot]
            cap = ops.add_col(cap, deploy, arriving)
            ever = ever + arriving
        # 4: cohorts
        live = ~st.retired
        ratio = rev[:, None] * inv_cost[None, :]
        under = xp.where(live, xp.where(ratio < 1.0, st.under + 1, 0), st.under)
        retire_now = live & retirable & (s.retire_after_days > 0) & (under >= s.retire_after_days)
        retired = st.retired | retire_now
        online = st.online & ~retire_now
        cap = xp.where(retire_now, 0.0, cap)
        live = live & ~retire_now
        switch_off = live & online & (ratio < 1.0 - band)
        off_branch = live & ~online
        streak = xp.where(off_branch, xp.where(ratio >= 1.0 + band, st.streak + 1, 0), st.streak)
        switch_on = off_branch & (streak >= s.on_lag_days)
        online = (online & ~switch_off) | switch_on
        streak = xp.where(switch_off | switch_on, 0, streak)
        installed = ops.sum_cohorts(xp.where(live, cap, 0.0))
        h_fleet = ops.sum_cohorts(xp.where(live & online, cap, 0.0))
        hashrate = h_fleet * hash_mult
        # 5: orders
        ring = st.ring
        if deploy >= 0:
            x = xp.clip((1.0 - s.deploy_allin_usd_per_ths_day / rev) / s.full_margin, 0.0, 1.0)
            ring = ops.set_row(ring, slot, installed * s.growth_per_day * x)
        off = xp.where(installed > 0.0, 1.0 - _safe_div(xp, h_fleet, installed, 0.0), 0.0)
        first_day = t == 0
        h_start = xp.where(first_day, hashrate, st.h_start)
        newly_dropped = ~first_day & (st.drop_day < 0) & (hashrate < h_start)
        recovered = ~first_day & (st.drop_day >= 0) & (st.rec_day < 0) & (hashrate >= h_start)
        rec_day = xp.where(recovered, t, st.rec_day)
        drop_day = xp.where(newly_dropped, t, st.drop_day)
        # 6: blocks, halvings, retargets
        n = poisson_inv_xp(ops, u, expected_blocks_unchecked(hashrate, diff, float(SECONDS_PER_DAY)))
        sub = subsidy_range_sats_xp(xp, tip + 1, n)
        day_start = t * SECONDS_PER_DAY
        n_safe = xp.maximum(n, 1)
        b0 = (tip // RETARGET_INTERVAL_BLOCKS + 1) * RETARGET_INTERVAL_BLOCKS
        t_record = xp.asarray(t).astype(st.rt_day.dtype)

        def retarget(c: tuple[Any, ...]) -> tuple[Any, ...]:
            b, bits, t_first, n_ret, rt_day, rt_bits, act = c
            now = act & (b - 1 >= tip + 1)  # the period's last block is mined today
            new = next_bits_xp(xp, bits, t_first, day_start + (b - 1 - tip) * SECONDS_PER_DAY // n_safe)
            bits = xp.where(now, new, bits)
            col = xp.where(now & (n_ret < n_rt), n_ret, n_rt)  # n_rt: not recorded
            rt_day = ops.scatter(rt_day, rows, col, t_record)
            rt_bits = ops.scatter(rt_bits, rows, col, new)
            n_ret = n_ret + now
            starts = act & (b <= tip + n)  # the next period's first block is mined today
            t_first = xp.where(starts, day_start + (b - tip) * SECONDS_PER_DAY // n_safe, t_first)
            b = b + RETARGET_INTERVAL_BLOCKS
            return b, bits, t_first, n_ret, rt_day, rt_bits, act & (b - 1 <= tip + n)

        _, bits, t_first, n_ret, rt_day, rt_bits, _ = ops.while_loop(
            lambda c: xp.any(c[-1]),
            retarget,
            (b0, st.bits, st.t_first, st.n_ret, st.rt_day, st.rt_bits, b0 - 1 <= tip + n),
        )
        n_f = n.astype(f64)
        reward = sub / SATS_PER_BTC + n_f * fee
        # 7: owners (sums over each owner's cohorts in cohort order, as the per-path form)
        inv_h = _safe_div(xp, 1.0, h_fleet, 0.0)
        prod_c = xp.where(online, reward[:, None] * (cap * inv_h[:, None]), 0.0)
        spend_c = xp.where(online, cap * cost[None, :], 0.0)
        prod = ops.sum_cohorts(prod_c[:, None, :] * of_owner)  # (P, O)
        spend = ops.sum_cohorts(spend_c[:, None, :] * of_owner)
        routine = s.share_sold[None, :] * prod
        need = spend - s.scheduled_usd[:, t][None, :]
        b_o = st.btc + (prod - routine)
        cash_o = st.cash + routine * price[:, None] - need
        short = s.cash_floor_usd[None, :] - cash_o
        lacking = short > 0.0
        raise_cost = xp.minimum(0.95, s.raise_cost0 * (price0 / price) ** s.raise_elasticity)[:, None]
        capital_first = (s.raise_first.astype(bool)[None, :]) & (raise_cost <= s.raise_cost_max)
        drawn = xp.where(lacking & ~capital_first, xp.minimum(short / price[:, None], b_o), 0.0)
        b_o = b_o - drawn
        short = short - drawn * price[:, None]
        raised = xp.where(lacking & (short > 0.0), short, 0.0)
        btc = b_o
        cash = cash_o + (drawn * price[:, None] + raised)
        sold = ops.sum_cohorts(routine + drawn)
        tot_forced = st.tot_forced + ops.sum_cohorts(drawn)
        acc = st.acc + xp.stack(
            [
                prod,
                routine,
                drawn,
                raised,
                xp.where(raised > 0.0, raised * raise_cost / (1.0 - raise_cost), 0.0),
                need,
                routine * price[:, None],
            ],
            axis=-1,
        )
        # 8: next day's price (not after the last day): net mechanical sales
        k = s.impact_k
        net = sold - s.buy_usd_per_day / price - s.baseline_sold_btc
        volume = xp.where(k > 0.0, s.impact_volume_usd, 1.0)
        root = xp.sqrt(xp.abs(net) * price / volume)
        lr = r - xp.where(k > 0.0, k * s.impact_sigma_daily * xp.where(net >= 0.0, root, -root), 0.0)
        more = t < n_days - 1
        new_price = price * xp.exp(lr)
        peak = xp.maximum(st.peak, new_price)
        new_exo = st.price_exo * xp.exp(r)
        peak_exo = xp.maximum(st.peak_exo, new_exo)

        def step(old: Any, new: Any) -> Any:
            return xp.where(more, new, old)

        new_state = State(
            cap=cap,
            online=online,
            retired=retired,
            under=under,
            streak=streak,
            btc=btc,
            cash=cash,
            acc=acc,
            ring=ring,
            ever=ever,
            price=step(price, new_price),
            price_exo=step(st.price_exo, new_exo),
            peak=step(st.peak, peak),
            peak_exo=step(st.peak_exo, peak_exo),
            mdd=step(st.mdd, xp.maximum(st.mdd, 1.0 - new_price / peak)),
            mdd_exo=step(st.mdd_exo, xp.maximum(st.mdd_exo, 1.0 - new_exo / peak_exo)),
            s1=step(st.s1, st.s1 + lr),
            s2=step(st.s2, st.s2 + lr * lr),
            e1=step(st.e1, st.e1 + r),
            e2=step(st.e2, st.e2 + r * r),
            bits=bits,
            diff=bits_to_difficulty_xp(xp, bits),
            tip=tip + n,
            t_first=t_first,
            n_ret=n_ret,
            h_start=h_start,
            h_min=xp.minimum(st.h_min, hashrate),
            off_max=xp.maximum(st.off_max, off),
            drop_day=drop_day,
            rec_day=rec_day,
            tot_sold=st.tot_sold + sold,
            tot_forced=tot_forced,
            tot_fees=st.tot_fees + n_f * fee,
            tot_sub=st.tot_sub + sub,
            rt_day=rt_day,
            rt_bits=rt_bits,
        )
        return new_state, (price, hashrate, diff, sold, off)

    st, series = ops.scan_days(day, init, (log_return, u_blocks, fee_mult, hash_mult), n_days)

    m = n_days - 1
    scalars: dict[str, Any] = {
        "mdd": st.mdd,
        "mdd_exo": st.mdd_exo,
        "tot_sold": st.tot_sold,
        "tot_forced": st.tot_forced,
        "tot_fees": st.tot_fees,
        "retired_share": _safe_div(xp, st.ever - ops.sum_cohorts(st.cap), st.ever, 0.0),
        "off_max": st.off_max,
        "h_min": _safe_div(xp, st.h_min, st.h_start, 1.0),
        "btc_end": ops.sum_cohorts(st.btc),
        "cash_end": ops.sum_cohorts(st.cash),
        "owner_f": xp.concatenate([st.acc, st.btc[:, :, None], st.cash[:, :, None]], axis=-1),
        "tot_sub": st.tot_sub,
        "tip": st.tip,
        "n_ret": st.n_ret,
        "drop_day": st.drop_day,
        "rec_day": st.rec_day,
        "rt_day": st.rt_day,
        "rt_bits": st.rt_bits,
    }
    if m > 1:
        scalars["vol"] = xp.sqrt(xp.maximum(st.s2 - st.s1 * st.s1 / m, 0.0) / (m - 1) * DAYS_PER_YEAR)
        scalars["vol_exo"] = xp.sqrt(xp.maximum(st.e2 - st.e1 * st.e1 / m, 0.0) / (m - 1) * DAYS_PER_YEAR)
    return series, scalars


_XP_COLUMNS = (
    (PF_VOL, "vol"),
    (PF_VOL_EXO, "vol_exo"),
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
)
_XP_INT_COLUMNS = (
    (PI_SUBSIDY_SATS, "tot_sub"),
    (PI_TIP, "tip"),
    (PI_N_RETARGETS, "n_ret"),
    (PI_DROP_DAY, "drop_day"),
    (PI_RECOVERY_DAY, "rec_day"),
)


def store_xp_results(o: ChunkOutputs, series: tuple[Any, ...], scalars: dict[str, Any]) -> None:
    """Write :func:`run_xp`'s results (as numpy arrays) into the outputs `o` (same number of rows)."""
    o.price_usd[:], o.hashrate_ths[:], o.difficulty[:], o.sold_btc[:], o.offline_share[:] = series
    for col, key in _XP_COLUMNS:
        if key in scalars:  # volatility needs three days
            o.path_f[:, col] = scalars[key]
    for col, key in _XP_INT_COLUMNS:
        o.path_i[:, col] = scalars[key]
    o.retarget_day[:] = scalars["rt_day"]
    o.retarget_bits[:] = scalars["rt_bits"]
    o.owner_f[:] = scalars["owner_f"]
