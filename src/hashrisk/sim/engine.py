"""Orchestration: scenario -> prepared arrays -> chunks of paths through a kernel -> :class:`SimResult`.

Seeding (same seed, same result, whatever the chunk size; the three kernels agree to 1e-9)
    Paths are grouped in fixed blocks of :data:`PATH_BLOCK` paths. Block ``b`` draws random variable ``v``
    (0-2: price, 3: blocks, 4: fees, 5: unexplained hashrate moves) from
    ``numpy.random.default_rng(SeedSequence(seed, spawn_key=(b, v)))``, i.e.
    ``SeedSequence(seed).spawn(n_blocks)[b].spawn(6)[v]``. Draws are made row by row, so a path's
    numbers depend only on the seed, its index and the horizon. Chunks are whole blocks.

Memory (the 1,000,000 paths x 365 days goal is < 1 GB)
    A chunk holds its random numbers (4 float64 per path-day) and its per-path daily series (5 float64 per
    path-day: one compiled kernel serves the engine and the exactness tests); the default chunk is sized to
    ~256 MB. After the kernel, the chunk is folded into per-day fixed-bin histograms (see
    :mod:`hashrisk.sim.result`; ~30,000 int32 bins per day in all) and per-path scalars are copied (~15
    numbers per path); then it is dropped. Full paths can be streamed out through `on_chunk` (the CLI writes
    them to Parquet) and are never held whole. Measured: 1,000,000 paths x 365 days peak at ~0.7 GiB RSS.

Kernels
    ``backend="numba"`` (default, compiled, parallel over paths), ``"numpy"`` (the reference, vectorised
    over paths) or ``"jax"`` (optional, jitted for accelerators; the ``gpu`` extra). All consume the same
    random arrays.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from hashrisk._yaml import load_yaml
from hashrisk.chain.pow import (
    RETARGET_INTERVAL_BLOCKS,
    TARGET_SPACING_S,
    bits_to_difficulty,
    difficulty_to_target,
    expected_blocks,
    hashrate_ths_from_difficulty,
    next_bits,
    target_to_bits,
)
from hashrisk.chain.subsidy import COIN_SATS, block_subsidy_sats
from hashrisk.constants import DAYS_PER_YEAR, SECONDS_PER_DAY
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.economics.fleet import Fleet, FleetSpec, build_fleet
from hashrisk.economics.machine import energy_kwh_per_ths_day
from hashrisk.economics.revenue import revenue_usd_per_ths_day
from hashrisk.errors import InputError, UnknownNameError
from hashrisk.sim import kernel_numba, kernel_numpy
from hashrisk.sim.arrays import (
    UNEXPLAINED_SD_DAYS,
    UNEXPLAINED_STEP_DAYS,
    ChunkOutputs,
    ChunkRandoms,
    KernelSetup,
)
from hashrisk.sim.prices import N_PRICE_STREAMS, PreparedPrice, draw_log_returns, prepare_price
from hashrisk.sim.result import SimAccumulator, SimResult, StartInfo, retarget_table
from hashrisk.sim.scenario import OwnerSpec, Scenario

FloatArray = npt.NDArray[np.float64]
Backend = Literal["numba", "numpy", "jax"]
BACKENDS: tuple[Backend, ...] = ("numba", "numpy", "jax")
PATH_BLOCK = 1_000
"""Paths per random-stream block (part of the reproducibility contract: do not change lightly)."""
STREAM_BLOCKS = N_PRICE_STREAMS
STREAM_FEES = N_PRICE_STREAMS + 1
STREAM_HASH = N_PRICE_STREAMS + 2
N_STREAMS = N_PRICE_STREAMS + 3
CHUNK_BYTES = 256 * 2**20
"""Target size of one chunk's random numbers and series [bytes] (sets the default chunk)."""
MAX_CHUNK_PATHS = 50_000

ChunkCallback = Callable[[int, ChunkOutputs, int], None]
"""``on_chunk(first_path, outputs, n)``: called after each chunk with its outputs (first `n` rows valid)."""
ProgressCallback = Callable[[int, int], None]
"""``progress(paths_done, paths_total)``."""


# ------------------------------------------------------------------------------------------- cohorts
@dataclass(frozen=True)
class Cohorts:
    """Equal-hashrate cost cohorts (plus the new-deployments cohort when enabled).

    Attributes
    ----------
    label : ndarray of str
    hashrate_share : ndarray
        Share of the fleet's hashrate [-] (0 for the new-deployments cohort).
    efficiency_j_per_th, pue, power_price_usd_per_kwh, hardware_usd_per_th : ndarray
        Hashrate-weighted means of the members.
    cash_cost_usd_per_ths_day : ndarray
        Power and other cash opex per TH/s per day, ``energy_kwh_per_ths_day(e, pue) * p_kwh * (1 + other)``.
    """

    label: npt.NDArray[np.str_]
    hashrate_share: FloatArray
    efficiency_j_per_th: FloatArray
    pue: FloatArray
    power_price_usd_per_kwh: FloatArray
    hardware_usd_per_th: FloatArray
    cash_cost_usd_per_ths_day: FloatArray


def cash_cost(
    efficiency_j_per_th: npt.ArrayLike,
    pue: npt.ArrayLike,
    power_price_usd_per_kwh: npt.ArrayLike,
    other: float,
) -> FloatArray:
    """Cash cost [USD/(TH/s)/day]: power at the wall, ``energy_kwh_per_ths_day(e, pue) * p_kwh``, times
    ``1 + other`` (other cash opex as a share of power)."""
    power: FloatArray = energy_kwh_per_ths_day(efficiency_j_per_th, pue) * np.asarray(power_price_usd_per_kwh)
    return power * (1.0 + other)


def cash_cost_usd_per_ths_day(fleet: Fleet) -> FloatArray:
    """Cash cost of each fleet cohort [USD/(TH/s)/day] (:func:`cash_cost` of its members)."""
    return cash_cost(
        fleet.efficiency_j_per_th, fleet.pue, fleet.power_price_usd_per_kwh, fleet.other_opex_share_of_power
    )


def aggregate_cohorts(fleet: Fleet, n_cohorts: int) -> Cohorts:
    """Cut `fleet` into `n_cohorts` equal-hashrate groups along its cash-cost curve.

    The fleet's cohorts are sorted by cash cost; the cumulative hashrate share is cut at ``k / n``
    (splitting members across a cut); each group's cost, efficiency, PUE, power price and hardware cost is
    the hashrate-weighted mean of the parts it holds. Its label is the hardware class holding most of it.
    """
    cost = cash_cost_usd_per_ths_day(fleet)
    order = np.argsort(cost, kind="stable")
    w = fleet.hashrate_ths[order] / fleet.hashrate_ths.sum()
    hi = np.cumsum(w)
    hi[-1] = 1.0
    lo = np.concatenate([[0.0], hi[:-1]])
    edges = np.arange(n_cohorts + 1) / n_cohorts
    overlap = np.clip(
        np.minimum(hi[None, :], edges[1:, None]) - np.maximum(lo[None, :], edges[:-1, None]), 0, None
    )
    share = overlap.sum(axis=1)

    def mean(x: FloatArray) -> FloatArray:
        out: FloatArray = overlap @ x[order] / share
        return out

    classes = fleet.hardware_class[order]
    label = np.array(
        [f"{k + 1:03d} {classes[np.argmax(overlap[k])]}" for k in range(n_cohorts)],
        dtype=str,
    )
    return Cohorts(
        label=label,
        hashrate_share=share / share.sum(),
        efficiency_j_per_th=mean(fleet.efficiency_j_per_th),
        pue=mean(fleet.pue),
        power_price_usd_per_kwh=mean(fleet.power_price_usd_per_kwh),
        hardware_usd_per_th=mean(fleet.hardware_usd_per_th),
        cash_cost_usd_per_ths_day=mean(cost),
    )


# ------------------------------------------------------------------------------------------- preparation
@dataclass(frozen=True)
class PreparedRun:
    """A scenario resolved into what the kernels need (the same for every path).

    Attributes
    ----------
    scenario : Scenario
    start : StartInfo
    setup : KernelSetup
    price : PreparedPrice
    fee_sigma : float
        Log-sd of the fee noise.
    cohorts : pandas.DataFrame
        The simulated cohorts and their start state (with each one's owner).
    owners : pandas.DataFrame
        The owners (listed ones, then the rest) and their start balance sheets.
    """

    scenario: Scenario
    start: StartInfo
    setup: KernelSetup
    price: PreparedPrice
    fee_sigma: float
    cohorts: pd.DataFrame
    owners: pd.DataFrame


def _fleet_spec(scenario: Scenario) -> FleetSpec:
    fb = scenario.fleet
    if fb.spec is not None:
        return fb.spec
    if fb.file is not None:
        raise InputError("fleet.file", fb.file, "a fleet TOML loaded into fleet.spec (the CLI loads it)")
    return FleetSpec.default()


def _deploy_class(spec: FleetSpec, name: str | None) -> tuple[str, float, float]:
    """(name, efficiency [J/TH], hardware cost [USD/TH]) of the class new machines belong to."""
    classes = {c.name: c for c in spec.classes}
    if name is None:
        best = min(spec.classes, key=lambda c: c.efficiency())
        return best.name, best.efficiency(), best.hardware_usd_per_th
    if name not in classes:
        close = difflib.get_close_matches(name, list(classes), n=3, cutoff=0.3)
        hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else None
        raise UnknownNameError(
            "fleet.deploy.hardware_class", name, f"a class of the fleet: {sorted(classes)}", hint
        )
    c = classes[name]
    return c.name, c.efficiency(), c.hardware_usd_per_th


def _start_snapshot(scenario: Scenario, snapshot: NetworkSnapshot | None) -> NetworkSnapshot:
    st = scenario.start
    if snapshot is None:
        if st.start_date is not None:
            raise InputError(
                "start.start_date",
                st.start_date.isoformat(),
                "a start snapshot passed as simulate(scenario, snapshot=...) (the CLI resolves the date "
                "from the data store)",
            )
        snapshot = NetworkSnapshot.embedded()
    return snapshot.override(
        source="scenario start",
        price_usd=st.price_usd,
        difficulty=st.difficulty,
        hashrate_ths=st.hashrate_ths,
        fees_btc_per_block=st.fees_btc_per_block,
        height=st.height,
    )


def default_chunk_paths(n_days: int) -> int:
    """Default chunk: ~:data:`CHUNK_BYTES` of random numbers and series, whole blocks, at most 50,000 paths."""
    per_path = n_days * (4 * 8 + 5 * 8) + (n_days // 7 + 4) * 12
    blocks = max(1, CHUNK_BYTES // (per_path * PATH_BLOCK))
    return int(min(MAX_CHUNK_PATHS, blocks * PATH_BLOCK))


REST = "rest of the network"
"""Name of the owner of the fleet's cohorts and of new deployments (the miners outside ``owners``)."""
DEFAULT_OWNERS_FILE = "owners_default.yaml"


@cache
def default_owners() -> tuple[dt.date, tuple[OwnerSpec, ...]]:
    """The packaged listed owners and the day their balance sheets are as of
    (``hashrisk/sim/data/owners_default.yaml``, generated from the cited listed-miner datasets by
    ``scripts/build_default_owners.py``)."""
    res = resources.files("hashrisk.sim").joinpath("data", DEFAULT_OWNERS_FILE)
    doc = load_yaml(res.read_text(encoding="utf-8"), "owners", DEFAULT_OWNERS_FILE)
    day = dt.date.fromisoformat(str(doc["as_of"]))
    return day, tuple(OwnerSpec.model_validate(o) for o in doc.get("owners") or [])


def resolve_owners(scenario: Scenario, start: dt.date) -> tuple[OwnerSpec, ...]:
    """The scenario's owners; when ``owners`` is null, the packaged ones for a start on their day, and none
    for another start day (their balance sheets are dated: pass the owners of that day, e.g.
    :func:`hashrisk.flows.owners.listed_owner_specs`, as the CLI does for a stored day)."""
    if scenario.owners is not None:
        return tuple(scenario.owners)
    day, owners = default_owners()
    return owners if start == day else ()


def scheduled_cash_usd(owners: Sequence[OwnerSpec], start: dt.date, n_days: int) -> FloatArray:
    """Scheduled cash flows per owner and simulated day (O, D) [USD, + in, - out]: other costs, interest
    (``principal * rate / 365`` a day until maturity), principal on its maturity day, and each
    :class:`~hashrisk.sim.scenario.CashFlowSpec` spread evenly over its days (the part inside the horizon)."""
    out = np.zeros((len(owners), n_days))
    for i, o in enumerate(owners):
        out[i] -= o.other_costs_usd_per_day
        for debt in o.debt:
            last = n_days if debt.maturity is None else (debt.maturity - start).days
            if last < 0:
                continue  # matured before the start
            out[i, : min(last, n_days)] -= debt.principal_usd * debt.annual_rate / DAYS_PER_YEAR
            if last < n_days:
                out[i, last] -= debt.principal_usd
        for flow in o.flows:
            first = (flow.start - start).days
            end = ((flow.end or flow.start) - start).days
            per_day = flow.usd / (end - first + 1)
            a, b = max(first, 0), min(end + 1, n_days)
            if a < b:
                out[i, a:b] += per_day
    return out


def prepare(scenario: Scenario, snapshot: NetworkSnapshot | None = None) -> PreparedRun:
    """Resolve `scenario` (and the start `snapshot`, embedded by default) into kernel inputs.

    Raises
    ------
    InputError
        Naming the scenario field: unloaded files, a path too short for the horizon, an unknown
        deployment class, a fleet with no profitable cohort at the start, ...
    """
    snap = _start_snapshot(scenario, snapshot)
    n_days = scenario.horizon_days
    price = prepare_price(scenario.price, n_days)
    price0 = price.start_price_usd if price.start_price_usd is not None else snap.price_usd
    bits0 = target_to_bits(difficulty_to_target(snap.difficulty))
    d0 = bits_to_difficulty(bits0)
    h0 = snap.hashrate_ths
    tip0 = snap.height
    subsidy0 = block_subsidy_sats(tip0 + 1) / COIN_SATS
    fees_level = (
        scenario.fees.level_btc_per_block
        if scenario.fees.level_btc_per_block is not None
        else snap.fees_btc_per_block
    )
    in_period = tip0 % RETARGET_INTERVAL_BLOCKS
    if scenario.start.epoch_start_offset_s is not None:
        t_first = -scenario.start.epoch_start_offset_s
    else:
        interval_s = TARGET_SPACING_S * float(hashrate_ths_from_difficulty(d0)) / h0
        t_first = -round(in_period * interval_s)
    if in_period == RETARGET_INTERVAL_BLOCKS - 1:
        # the tip closes its period: the next block is mined at the new difficulty, computed now from the
        # period's first block and the tip (mined at the start, time 0); the kernel records the new
        # period's first time when it mines that block
        bits0 = next_bits(bits0, int(t_first), 0)
        d0 = bits_to_difficulty(bits0)
        t_first = 0

    # ---- cohorts
    fb = scenario.fleet
    spec = _fleet_spec(scenario)
    fleet = build_fleet(spec, 1.0)
    coh = aggregate_cohorts(fleet, fb.cohorts)
    rev0 = float(revenue_usd_per_ths_day(d0, subsidy0, fees_level, price0))
    cost = coh.cash_cost_usd_per_ths_day
    band = fb.hysteresis
    online = rev0 / cost >= 1.0 - band if fb.initial_online == "profitable" else np.ones(cost.size, bool)
    share_on = float(coh.hashrate_share[online].sum())
    if share_on <= 0.0:
        raise InputError(
            "fleet.initial_online",
            fb.initial_online,
            "a fleet with at least one cohort covering its cash cost at the start (or initial_online: all)",
            f"hashprice at the start is ${rev0 * 1000:.2f}/PH/day; the cheapest cohort costs "
            f"${cost.min() * 1000:.2f}/PH/day",
        )
    # ---- owners: one cohort each (their own efficiency and power price); the fleet's cohorts are the rest
    owners = resolve_owners(scenario, snap.date)
    n_listed = len(owners)
    o_eff = np.array([o.efficiency_j_per_th for o in owners])
    o_pue = np.array([o.pue for o in owners])
    o_pp = np.array([o.power_price_usd_per_kwh for o in owners])
    o_cost = cash_cost(o_eff, o_pue, o_pp, spec.costs.other_opex_share_of_power)
    o_cap = np.array([o.hashrate_ths for o in owners])
    o_online = rev0 / o_cost >= 1.0 - band if fb.initial_online == "profitable" else np.ones(n_listed, bool)
    h_rest = h0 - float(o_cap[o_online].sum())
    if h_rest <= 0.0:
        raise InputError(
            "owners",
            f"{float(o_cap[o_online].sum()) / 1e6:,.1f} EH/s online",
            f"listed owners' hashrate below the network's {h0 / 1e6:,.1f} EH/s at the start",
        )
    cap = np.concatenate([coh.hashrate_share * h_rest / share_on, o_cap])
    cost = np.concatenate([cost, o_cost])
    online = np.concatenate([online, o_online])
    labels = list(coh.label) + [o.name for o in owners]
    owner_of = np.concatenate([np.full(coh.label.size, n_listed), np.arange(n_listed)]).astype(np.int64)
    owner_names = [o.name for o in owners] + [REST]
    retirable = np.ones(cost.size, np.uint8)
    eff, pue, pp, hw = (
        np.concatenate([coh.efficiency_j_per_th, o_eff]),
        np.concatenate([coh.pue, o_pue]),
        np.concatenate([coh.power_price_usd_per_kwh, o_pp]),
        np.concatenate([coh.hardware_usd_per_th, np.full(n_listed, np.nan)]),
    )
    dep = fb.deploy
    deploy_cohort = -1
    allin = 0.0
    orders0 = 0.0
    growth = dep.max_growth_per_year / DAYS_PER_YEAR
    if dep.enabled:
        name, dep_eff, dep_hw = _deploy_class(spec, dep.hardware_class)
        dep_pp = (
            dep.power_price_usd_per_kwh
            if dep.power_price_usd_per_kwh is not None
            else float(np.median(fleet.power_price_usd_per_kwh))
        )
        dep_cost = float(cash_cost(dep_eff, dep.pue, dep_pp, spec.costs.other_opex_share_of_power))
        allin = dep_cost + dep_hw / spec.costs.depreciation_days
        deploy_cohort = cost.size
        labels.append(f"new deployments ({name})")
        cost = np.append(cost, dep_cost)
        cap = np.append(cap, 0.0)
        online = np.append(online, rev0 / dep_cost >= 1.0 - band)
        retirable = np.append(retirable, np.uint8(0))
        owner_of = np.append(owner_of, n_listed)  # new machines belong to the rest (assumption)
        eff, pue, pp, hw = (
            np.append(eff, dep_eff),
            np.append(pue, dep.pue),
            np.append(pp, dep_pp),
            np.append(hw, dep_hw),
        )
        orders0 = float(cap.sum()) * growth * min(max((1.0 - allin / rev0) / dep.full_margin, 0.0), 1.0)

    # ---- balance sheets: the listed owners', then the rest's (index n_listed)
    tr = scenario.treasury
    rest_opex0 = float(np.sum(np.where(online & (owner_of == n_listed), cap * cost, 0.0)))
    btc0 = np.array([o.btc for o in owners] + [tr.initial_btc])
    cash0 = np.array([o.cash_usd for o in owners] + [tr.initial_cash_days_of_opex * rest_opex0])
    floor = np.array([o.cash_floor_usd for o in owners] + [0.0])
    share_sold = np.array([o.share_sold for o in owners] + [tr.share_sold])
    raise_first = np.array([o.policy == "raise_capital" for o in owners] + [False], dtype=np.uint8)
    scheduled = scheduled_cash_usd(owners, snap.date, n_days)
    scheduled = np.vstack([scheduled, np.full((1, n_days), -tr.debt_service_usd_per_day)])

    imp = scenario.impact
    nf = scenario.net_flows
    buy_usd = nf.treasury_buying_usd_per_day + nf.etf_usd_per_day
    baseline = 0.0
    if imp.baseline == "start":  # the start day's expected routine net sales are in the exogenous price
        blocks0 = float(expected_blocks(h0, d0, SECONDS_PER_DAY))
        online_cap = np.where(online, cap, 0.0)
        share_by_owner = np.bincount(owner_of, weights=online_cap, minlength=n_listed + 1) / online_cap.sum()
        baseline = blocks0 * (subsidy0 + fees_level) * float(share_by_owner @ share_sold) - buy_usd / price0
    sigma = imp.sigma_daily if imp.sigma_daily is not None else price.sigma_daily

    setup = KernelSetup(
        n_days=n_days,
        price0_usd=float(price0),
        fees_level_btc=float(fees_level),
        fees_elasticity=1.0 if scenario.fees.model == "proportional" else 0.0,
        hysteresis=band,
        on_lag_days=fb.on_lag_days,
        retire_after_days=fb.retire_after_days or 0,
        lead_time_days=dep.lead_time_days,
        deploy_cohort=deploy_cohort,
        growth_per_day=growth,
        full_margin=dep.full_margin,
        deploy_allin_usd_per_ths_day=allin,
        orders0_ths_per_day=orders0,
        raise_cost0=scenario.financing.cost_at_start,
        raise_elasticity=scenario.financing.price_elasticity,
        raise_cost_max=scenario.financing.max_raise_cost,
        impact_k=imp.k if imp.enabled else 0.0,
        impact_sigma_daily=float(sigma),
        impact_volume_usd=imp.daily_volume_usd,
        baseline_sold_btc=baseline,
        buy_usd_per_day=buy_usd,
        tip0=tip0,
        bits0=bits0,
        epoch_first_time0=int(t_first),
        max_retargets=n_days // 7 + 4,
        cap0_ths=np.ascontiguousarray(cap, dtype=np.float64),
        online0=np.ascontiguousarray(online, dtype=np.uint8),
        cost_usd_per_ths_day=np.ascontiguousarray(cost, dtype=np.float64),
        retirable=np.ascontiguousarray(retirable, dtype=np.uint8),
        owner=np.ascontiguousarray(owner_of, dtype=np.int64),
        btc0=np.ascontiguousarray(btc0, dtype=np.float64),
        cash0_usd=np.ascontiguousarray(cash0, dtype=np.float64),
        cash_floor_usd=np.ascontiguousarray(floor, dtype=np.float64),
        share_sold=np.ascontiguousarray(share_sold, dtype=np.float64),
        raise_first=np.ascontiguousarray(raise_first, dtype=np.uint8),
        scheduled_usd=np.ascontiguousarray(scheduled, dtype=np.float64),
    )
    start = StartInfo(
        date=snap.date,
        price_usd=float(price0),
        difficulty=d0,
        bits=bits0,
        hashrate_ths=h0,
        fees_btc_per_block=float(fees_level),
        height=tip0,
        subsidy_btc=subsidy0,
        epoch_first_time_s=int(t_first),
        sources=dict(snap.sources),
    )
    cohorts = pd.DataFrame(
        {
            "cohort": labels,
            "efficiency_j_per_th": eff,
            "pue": pue,
            "power_price_usd_per_kwh": pp,
            "hardware_usd_per_th": hw,
            "cash_cost_usd_per_ph_day": cost * 1000.0,
            "breakeven_price_usd": cost / rev0 * price0,
            "hashrate_ths_start": cap,
            "online_start": online.astype(bool),
            "owner": [owner_names[i] for i in owner_of],
        }
    )
    owners_frame = pd.DataFrame(
        {
            "owner": owner_names,
            "hashrate_ths_start": np.bincount(owner_of, weights=cap, minlength=n_listed + 1),
            "btc_start": btc0,
            "cash_usd_start": cash0,
            "cash_floor_usd": floor,
            "share_sold": share_sold,
            "policy": [o.policy for o in owners] + ["sell_btc"],
            "scheduled_usd_horizon": scheduled.sum(axis=1),
        }
    )
    return PreparedRun(scenario, start, setup, price, scenario.fees.sigma, cohorts, owners_frame)


# ------------------------------------------------------------------------------------------- random numbers
def block_generators(seed: int, block: int) -> list[np.random.Generator]:
    """The :data:`N_STREAMS` generators of path block `block` (see the module docstring)."""
    return [
        np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block, v))) for v in range(N_STREAMS)
    ]


def _draw_block(prep: PreparedRun, rnd: ChunkRandoms, a: int, b: int, block: int) -> None:
    gens = block_generators(prep.scenario.seed, block)
    draw_log_returns(prep.price, gens[:N_PRICE_STREAMS], b - a, rnd.log_return[a:b])
    gens[STREAM_BLOCKS].random(out=rnd.u_blocks[a:b])
    fee = rnd.fee_mult[a:b]
    sigma = prep.fee_sigma
    gens[STREAM_FEES].standard_normal(out=fee)
    fee *= sigma
    fee -= 0.5 * sigma * sigma
    np.exp(fee, out=fee)
    draw_hash_mult(prep.scenario.fleet.unexplained_log_sd, gens[STREAM_HASH], rnd.hash_mult[a:b])


def draw_hash_mult(log_sd: float, gen: np.random.Generator, out: FloatArray) -> None:
    """Fill `out` (P, D) with ``exp(z_t)``: ``z_0 = 0``, then a step ``N(0, s^2)`` at each day that is a
    multiple of :data:`~hashrisk.sim.arrays.UNEXPLAINED_STEP_DAYS`, with
    ``s = log_sd * sqrt(UNEXPLAINED_STEP_DAYS / UNEXPLAINED_SD_DAYS)`` (so ``log_sd`` per 14 days): the
    hashrate moves no price explains.
    """
    if log_sd <= 0.0:
        out.fill(1.0)
        return
    n_p, n_days = out.shape
    step = UNEXPLAINED_STEP_DAYS
    n_steps = (n_days - 1) // step
    z = np.zeros((n_p, n_steps + 1))
    if n_steps:
        z[:, 1:] = gen.standard_normal((n_p, n_steps))
        z[:, 1:] *= log_sd * math.sqrt(step / UNEXPLAINED_SD_DAYS)
        np.cumsum(z, axis=1, out=z)
    np.exp(z, out=z)
    out[:] = z if step == 1 else np.repeat(z, step, axis=1)[:, :n_days]


def draw_randoms(
    prep: PreparedRun,
    first_path: int,
    n_paths: int,
    out: ChunkRandoms | None = None,
    threads: int = 1,
) -> ChunkRandoms:
    """Every random number of paths ``first_path .. first_path + n_paths - 1``.

    Blocks are drawn independently (in `threads` threads; numpy releases the GIL while filling arrays),
    so the result does not depend on `threads`.

    Raises
    ------
    ValueError
        If `first_path` is not at a block boundary.
    """
    if first_path % PATH_BLOCK:
        raise ValueError(f"first_path must be a multiple of PATH_BLOCK = {PATH_BLOCK}")
    n_days = prep.setup.n_days
    if out is None or out.log_return.shape[0] < n_paths:
        out = ChunkRandoms(*(np.empty((n_paths, n_days)) for _ in range(4)))
    rnd = ChunkRandoms(
        out.log_return[:n_paths], out.u_blocks[:n_paths], out.fee_mult[:n_paths], out.hash_mult[:n_paths]
    )
    tasks = [
        (a, min(n_paths, a + PATH_BLOCK), (first_path + a) // PATH_BLOCK)
        for a in range(0, n_paths, PATH_BLOCK)
    ]
    if threads > 1 and len(tasks) > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(lambda task: _draw_block(prep, rnd, *task), tasks))
    else:
        for task in tasks:
            _draw_block(prep, rnd, *task)
    return rnd


# ------------------------------------------------------------------------------------------- running
def _kernel(backend: str) -> Callable[[KernelSetup, ChunkRandoms, ChunkOutputs], None]:
    allowed = "numba, numpy, or jax (install the 'gpu' extra: pip install 'hashrisk[gpu]')"
    if backend == "numba":
        return kernel_numba.run_chunk
    if backend == "numpy":
        return kernel_numpy.run_chunk
    if backend == "jax":  # optional: imported only when asked for
        try:
            from hashrisk.sim import kernel_jax
        except ImportError as exc:
            if (exc.name or "").split(".")[0] not in ("jax", "jaxlib"):
                raise
            raise InputError("backend", backend, allowed) from exc
        return kernel_jax.run_chunk
    raise InputError("backend", backend, allowed)


def run_paths(
    prep: PreparedRun,
    first_path: int,
    n_paths: int,
    *,
    backend: Backend = "numba",
    chunk_paths: int | None = None,
    series_dtype: type = np.float64,
    progress: ProgressCallback | None = None,
    on_chunk: ChunkCallback | None = None,
) -> SimAccumulator:
    """Simulate paths ``first_path .. first_path + n_paths - 1`` (first_path on a block boundary).

    The building block of :func:`simulate`; a distributed sweep can run disjoint, adjacent ranges on workers
    and :meth:`SimAccumulator.merge` them in order.
    """
    kernel = _kernel(backend)
    threads = max(1, min(os.cpu_count() or 1, 8))
    s = prep.setup
    chunk = chunk_paths if chunk_paths is not None else default_chunk_paths(s.n_days)
    if chunk < 1:
        raise InputError("chunk_paths", chunk, "a positive number of paths")
    chunk = -(-chunk // PATH_BLOCK) * PATH_BLOCK  # whole blocks
    chunk = min(chunk, -(-n_paths // PATH_BLOCK) * PATH_BLOCK)
    refs = {
        "price_usd": s.price0_usd,
        "hashrate_ths": prep.start.hashrate_ths,
        "difficulty": prep.start.difficulty,
    }
    acc = SimAccumulator.empty(first_path, n_paths, s.n_days, refs, s.bits0, s.max_retargets, s.n_owners)
    outputs = ChunkOutputs.empty(
        min(chunk, n_paths), s.n_days, s.max_retargets, dtype=series_dtype, n_owners=s.n_owners
    )
    randoms: ChunkRandoms | None = None
    done = 0
    while done < n_paths:
        n = min(chunk, n_paths - done)
        randoms = draw_randoms(prep, first_path + done, n, randoms, threads=threads)
        outputs.retarget_day[:n] = -1
        kernel(s, randoms, outputs)
        acc.add_chunk(done, outputs, n)
        if on_chunk is not None:
            on_chunk(first_path + done, outputs, n)
        done += n
        if progress is not None:
            progress(done, n_paths)
    return acc


def finalize(prep: PreparedRun, acc: SimAccumulator, meta: dict[str, object] | None = None) -> SimResult:
    """Turn an accumulator covering all paths of `prep` into a :class:`SimResult`."""
    start = prep.start
    dates = [start.date + dt.timedelta(days=d) for d in range(prep.setup.n_days)]
    fans = {name: h.quantiles() for name, h in acc.daily.items()}
    means = {name: h.mean() for name, h in acc.daily.items()}
    info: dict[str, object] = {
        "cohorts": prep.setup.n_cohorts,
        "path_block": PATH_BLOCK,
        "retargets_recorded_per_path": prep.setup.max_retargets,
        "paths_with_unrecorded_retargets": acc.retargets_overflow,
        "summary_method": "per-day fixed-bin histograms over all paths (0.1-0.2% resolution), exact "
        "per-day min/max/mean; exact per-path scalars",
        "impact_sigma_daily": prep.setup.impact_sigma_daily,
        "impact_baseline_sold_btc_per_day": prep.setup.baseline_sold_btc,
        "deploy_orders_at_start_ths_per_day": prep.setup.orders0_ths_per_day,
    }
    info["owners"] = [str(x) for x in prep.owners["owner"]]
    if prep.scenario.owners is None:
        day, _ = default_owners()
        info["owners_basis"] = (
            f"packaged owners as of {day} (hashrisk/sim/data/{DEFAULT_OWNERS_FILE})"
            if start.date == day
            else f"no listed owners: the packaged ones are as of {day}; pass the owners of {start.date} "
            "(hashrisk.flows.owners.with_listed_owners, as the CLI does for a stored day)"
        )
    info.update(meta or {})
    return SimResult(
        scenario=prep.scenario,
        start=start,
        dates=dates,
        fans=fans,
        means=means,
        retargets=retarget_table(acc.retargets, start, acc.n_paths),
        path_f=acc.path_f,
        path_i=acc.path_i,
        first_change=acc.first_change,
        min_change=acc.min_change,
        cohorts=prep.cohorts,
        meta=info,
        owners=prep.owners,
        owner_f=acc.owner_f,
    )


def simulate(
    scenario: Scenario,
    snapshot: NetworkSnapshot | None = None,
    *,
    backend: Backend = "numba",
    chunk_paths: int | None = None,
    progress: ProgressCallback | None = None,
    on_chunk: ChunkCallback | None = None,
) -> SimResult:
    """Run `scenario` from `snapshot` (the embedded one by default) and summarise it.

    Parameters
    ----------
    scenario : Scenario
        The scenario (paths, horizon, seed, models, policies).
    snapshot : NetworkSnapshot, optional
        Start state; required when ``scenario.start.start_date`` is set (the caller resolves it).
    backend : {"numba", "numpy", "jax"}
        Compiled kernel (default), the numpy reference, or the optional JAX kernel (GPU/TPU when present).
    chunk_paths : int, optional
        Paths per chunk (rounded up to whole blocks of 1,000); default ~256 MB of working arrays.
        Results do not depend on it.
    progress : callable, optional
        ``progress(paths_done, paths_total)`` after each chunk.
    on_chunk : callable, optional
        ``on_chunk(first_path, outputs, n)`` after each chunk (e.g. to write full paths).

    Returns
    -------
    SimResult

    Raises
    ------
    InputError
        For any scenario value the run cannot use (the message names the field).

    Examples
    --------
    >>> from hashrisk.sim import Scenario, simulate
    >>> res = simulate(Scenario(paths=200, horizon_days=30))      # doctest: +SKIP
    >>> res.summary()["first_retarget"]["change_pct"]["p50"]      # doctest: +SKIP
    """
    t0 = time.perf_counter()
    prep = prepare(scenario, snapshot)
    acc = run_paths(
        prep,
        0,
        scenario.paths,
        backend=backend,
        chunk_paths=chunk_paths,
        progress=progress,
        on_chunk=on_chunk,
    )
    elapsed = time.perf_counter() - t0
    cpd = scenario.paths * scenario.horizon_days * prep.setup.n_cohorts
    return finalize(
        prep,
        acc,
        {
            "backend": backend,
            "chunk_paths": chunk_paths or default_chunk_paths(scenario.horizon_days),
            "elapsed_s": elapsed,
            "cohort_path_days_per_s": cpd / elapsed if elapsed > 0 else math.nan,
        },
    )
