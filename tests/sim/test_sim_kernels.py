"""The compiled kernel is the uncompiled model exactly and equals the numpy reference; results depend only on
the seed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hashrisk.sim import Scenario, kernel_numba, kernel_numpy, model, simulate
from hashrisk.sim.arrays import OF_DRAWN_BTC, OF_RAISED_USD, SERIES, ChunkOutputs
from hashrisk.sim.engine import N_STREAMS, PATH_BLOCK, block_generators, draw_randoms, prepare
from hashrisk.sim.poisson import INV_K

HISTORY = list(np.random.default_rng(11).normal(0.0005, 0.03, 400))

OWNERS: list[dict[str, Any]] = [
    {
        "name": "A",
        "hashrate_ths": 60e6,
        "efficiency_j_per_th": 19.0,
        "power_price_usd_per_kwh": 0.04,
        "btc": 50_000.0,
        "cash_usd": 100e6,
        "cash_floor_usd": 50e6,
        "share_sold": 0.3,
        "policy": "raise_capital",
        "other_costs_usd_per_day": 500_000.0,
        "debt": [{"name": "notes", "principal_usd": 200e6, "annual_rate": 0.01, "maturity": "2026-06-20"}],
        "flows": [{"label": "capex", "start": "2026-06-05", "end": "2026-08-01", "usd": -900e6}],
    },
    {
        "name": "B",
        "hashrate_ths": 40e6,
        "efficiency_j_per_th": 26.0,
        "power_price_usd_per_kwh": 0.05,
        "btc": 3_000.0,
        "cash_usd": 20e6,
        "cash_floor_usd": 10e6,
        "share_sold": 1.0,
        "other_costs_usd_per_day": 300_000.0,
        "flows": [{"label": "lease", "start": "2026-07-01", "end": "2026-12-31", "usd": 50e6}],
    },
]
"""Two owners exercising every branch: raise-first and sell-first, debt maturing, capex, lease revenue."""

VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "jump-merton": {"price.model": "jump", "price.jump_rate_per_year": 40.0},
    "jump-student": {"price.model": "jump", "price.tails": "student_t", "price.df": 3.0},
    "bootstrap": {"price.model": "bootstrap", "price.log_returns": HISTORY, "price.block_days": 7},
    "shock-owners-proportional": {
        "price.shock": {"total_return": -0.4, "days": 20},
        "owners": OWNERS,
        "treasury.initial_cash_days_of_opex": 2.0,
        "treasury.initial_btc": 500.0,
        "treasury.debt_service_usd_per_day": 2e6,
        "financing.max_raise_cost": 0.08,
        "net_flows.treasury_buying_usd_per_day": 30e6,
        "fees.model": "proportional",
        "impact.baseline": "none",
        "impact.k": 3.0,
    },
    "no-owners-net-buying": {"owners": [], "net_flows.etf_usd_per_day": 200e6},
    "growth-and-retirement": {
        "start.price_usd": 140_000.0,
        "fleet.retire_after_days": 10,
        "fleet.deploy.lead_time_days": 7,
        "fleet.initial_online": "all",
        "price.vol": 0.9,
    },
    "mid-period-start": {"start.height": 952_000, "fleet.cohorts": 7, "fleet.deploy.enabled": False},
}


def _run_both(scenario: Scenario) -> tuple[ChunkOutputs, ChunkOutputs]:
    prep = prepare(scenario)
    rnd = draw_randoms(prep, 0, scenario.paths)
    outs = []
    for kernel in (kernel_numba.run_chunk, kernel_numpy.run_chunk):
        out = ChunkOutputs.empty(
            scenario.paths,
            scenario.horizon_days,
            prep.setup.max_retargets,
            dtype=np.float64,
            n_owners=prep.setup.n_owners,
        )
        kernel(prep.setup, rnd, out)
        outs.append(out)
    return outs[0], outs[1]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_numba_equals_numpy_reference(variant: str) -> None:
    scenario = Scenario(paths=120, horizon_days=150, seed=5).with_params(VARIANTS[variant])
    a, b = _run_both(scenario)
    for name in (*SERIES, "path_f", "owner_f"):
        x, y = getattr(a, name), getattr(b, name)
        np.testing.assert_allclose(
            x, y, rtol=1e-9, atol=1e-9 * max(1.0, float(np.nanmax(np.abs(y)))), err_msg=name
        )
    for name in ("path_i", "retarget_day", "retarget_bits"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.path_i[:, 2].max() >= 5  # retargets happened


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_compiled_kernel_is_the_uncompiled_model(variant: str) -> None:
    """The specification (plain-Python ``run_path``) and its numba compilation agree to the last bit."""
    scenario = Scenario(paths=60, horizon_days=120, seed=5).with_params(VARIANTS[variant])
    prep = prepare(scenario)
    rnd = draw_randoms(prep, 0, scenario.paths)
    compiled = ChunkOutputs.empty(
        scenario.paths, scenario.horizon_days, prep.setup.max_retargets, n_owners=prep.setup.n_owners
    )
    kernel_numba.run_chunk(prep.setup, rnd, compiled)
    plain = ChunkOutputs.empty(
        scenario.paths, scenario.horizon_days, prep.setup.max_retargets, n_owners=prep.setup.n_owners
    )
    rows = [0, 1, 29, 59]
    for p in rows:
        model.run_path(p, prep.setup, rnd, plain, INV_K)
    for name in (*SERIES, "path_f", "path_i", "retarget_day", "retarget_bits", "owner_f"):
        np.testing.assert_array_equal(getattr(plain, name)[rows], getattr(compiled, name)[rows], err_msg=name)


def test_variants_exercise_the_policies() -> None:
    a, _ = _run_both(
        Scenario(paths=60, horizon_days=150, seed=5).with_params(VARIANTS["shock-owners-proportional"])
    )
    assert a.path_f[:, 1].sum() > 0  # treasury BTC sold to meet cash needs
    assert (a.owner_f[:, 0, OF_RAISED_USD] > 0).all()  # owner A raised capital (raise first, then dearer)
    assert (a.owner_f[:, 0, OF_DRAWN_BTC] > 0).any()  # and sold BTC once capital cost more than its cap
    assert (a.owner_f[:, 1, OF_DRAWN_BTC] > 0).any()  # owner B sells BTC first
    g, _ = _run_both(
        Scenario(paths=60, horizon_days=150, seed=5).with_params(VARIANTS["growth-and-retirement"])
    )
    assert g.path_f[:, 7].max() > 0  # retirements
    assert g.hashrate_ths[:, -1].max() > g.hashrate_ths[:, 0].max()  # deployments arrived


def test_block_streams_are_spawned_seed_sequences() -> None:
    child = np.random.SeedSequence(99).spawn(3)[2].spawn(N_STREAMS)[4]
    want = np.random.default_rng(child).random(5)
    np.testing.assert_array_equal(block_generators(99, 2)[4].random(5), want)


def test_same_seed_same_result_and_different_seed_differs() -> None:
    s = Scenario(paths=300, horizon_days=60, seed=123)
    a, b = simulate(s), simulate(s)
    np.testing.assert_array_equal(a.path_f, b.path_f)
    pd_a, pd_b = a.to_frame(), b.to_frame()
    assert pd_a.equals(pd_b)
    c = simulate(s.with_params({"seed": 124}))
    assert not np.array_equal(a.path_f, c.path_f)


def test_chunk_size_does_not_change_results() -> None:
    s = Scenario(paths=2 * PATH_BLOCK + 300, horizon_days=40, seed=8)
    one = simulate(s, chunk_paths=10_000)
    many = simulate(s, chunk_paths=1)
    np.testing.assert_array_equal(one.path_f, many.path_f)
    np.testing.assert_array_equal(one.path_i, many.path_i)
    for name in SERIES:
        np.testing.assert_array_equal(one.fans[name], many.fans[name])
    assert one.retargets.equals(many.retargets)


def test_paths_are_prefix_stable() -> None:
    """A path's numbers do not depend on how many paths run with it."""
    small = simulate(Scenario(paths=500, horizon_days=30, seed=4))
    large = simulate(Scenario(paths=1_700, horizon_days=30, seed=4))
    np.testing.assert_array_equal(small.path_f, large.path_f[:500])


def test_numpy_backend_through_the_engine() -> None:
    s = Scenario(paths=150, horizon_days=45, seed=2)
    a, b = simulate(s, backend="numba"), simulate(s, backend="numpy")
    np.testing.assert_allclose(a.path_f, b.path_f, rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(a.path_i, b.path_i)


def test_path_ranges_merge_into_the_full_run() -> None:
    """Workers can run adjacent path ranges and merge them (the building block for distributed sweeps)."""
    import pickle

    from hashrisk.sim.engine import finalize, run_paths

    s = Scenario(paths=2 * PATH_BLOCK + 500, horizon_days=30, seed=12)
    prep = pickle.loads(pickle.dumps(prepare(s)))
    first = run_paths(prep, 0, 2 * PATH_BLOCK)
    second = run_paths(prep, 2 * PATH_BLOCK, 500)
    merged = finalize(prep, pickle.loads(pickle.dumps(first)).merge(second))
    whole = simulate(s)
    np.testing.assert_array_equal(merged.path_f, whole.path_f)
    for name in SERIES:
        np.testing.assert_array_equal(merged.fans[name], whole.fans[name])
    assert merged.retargets.equals(whole.retargets)
    assert pickle.loads(pickle.dumps(whole)).summary()["paths"] == s.paths
    with pytest.raises(ValueError, match="adjacent"):
        second.merge(first)
