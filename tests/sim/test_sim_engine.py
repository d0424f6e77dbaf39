"""Model sanity: retargets by hand, halvings, the sign of the feedback, recovery, summaries."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest

from hashrisk.chain.pow import (
    bits_to_difficulty,
    difficulty_to_target,
    hashrate_ths_from_difficulty,
    next_bits,
    target_to_bits,
)
from hashrisk.chain.subsidy import block_subsidy_sats
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.economics.fleet import FleetSpec, build_fleet
from hashrisk.errors import InputError, UnknownNameError
from hashrisk.sim import Scenario, kernel_numba, simulate
from hashrisk.sim.arrays import PI_SUBSIDY_SATS, PI_TIP, UNEXPLAINED_STEP_DAYS, ChunkOutputs, ChunkRandoms
from hashrisk.sim.engine import aggregate_cohorts, draw_hash_mult, prepare
from hashrisk.sim.kernel_numpy import run_chunk as numpy_chunk
from hashrisk.sim.poisson import INV_K, poisson_inv

SNAP = NetworkSnapshot.embedded()
BITS0 = target_to_bits(difficulty_to_target(SNAP.difficulty))
IMPLIED_THS = float(hashrate_ths_from_difficulty(bits_to_difficulty(BITS0)))


def constant_fleet(ratio: float, paths: int, days: int, **extra: Any) -> Scenario:
    """Flat price, no behaviour (no switching, retirement or deployment), no fee noise, no feedback."""
    params: dict[str, Any] = {
        "paths": paths,
        "horizon_days": days,
        "start.hashrate_ths": ratio * IMPLIED_THS,
        "price.model": "path",
        "price.prices_usd": [SNAP.price_usd] * days,
        "fees.sigma": 0.0,
        "fleet.initial_online": "all",
        "fleet.hysteresis": 0.99,
        "fleet.retire_after_days": None,
        "fleet.deploy.enabled": False,
        "fleet.unexplained_log_sd": 0.0,
        "impact.enabled": False,
    }
    params.update(extra)
    return Scenario().with_params(params)


@pytest.mark.parametrize("ratio", [1.0, 1.1])
def test_first_retarget_by_hand_with_median_blocks(ratio: float) -> None:
    """u = 0.5 every day: n = Poisson median of lam blocks per day, block times evenly spaced -> exact nBits."""
    days = 20
    prep = prepare(constant_fleet(ratio, 1, days))
    lam = ratio * 144.0
    n = poisson_inv(0.5, lam, INV_K)
    rnd = ChunkRandoms(np.zeros((1, days)), np.full((1, days), 0.5), np.ones((1, days)), np.ones((1, days)))
    out = ChunkOutputs.empty(
        1, days, prep.setup.max_retargets, dtype=np.float64, n_owners=prep.setup.n_owners
    )
    kernel_numba.run_chunk(prep.setup, rnd, out)
    # the period's first block (951,552) is the start's last block, at t = 0; its last is 2015 blocks later
    day, i = divmod(2015, n)
    if i == 0:
        day, i = day - 1, n
    last_time = day * 86_400 + (i * 86_400) // n
    want = next_bits(BITS0, 0, last_time)
    assert out.retarget_day[0, 0] == day
    assert out.retarget_bits[0, 0] == want
    change = bits_to_difficulty(want) / bits_to_difficulty(BITS0) - 1
    assert change == pytest.approx(ratio * 2016 / 2015 - 1, abs=0.003)


@pytest.mark.parametrize("ratio", [1.0, 1.1])
def test_first_retarget_statistically(ratio: float) -> None:
    """Hashrate at the difficulty-implied level: median change ~ 2016/2015 - 1; 10% above: ~ +10%."""
    res = simulate(constant_fleet(ratio, 3_000, 18, seed=3))
    median = float(np.nanmedian(res.first_change))
    assert median == pytest.approx(ratio * 2016 / 2015 - 1, abs=0.002)
    first = res.retargets.iloc[0]
    assert first["height"] == 953_568
    assert first["change_pct_p50"] == pytest.approx(100 * median, abs=0.1)
    assert res.retargets.iloc[0]["share_of_paths"] == 1.0


def test_unexplained_moves_act_as_hashrate() -> None:
    """A fleet at the implied hashrate with exp(z) = 1.1 every day retargets exactly as a fleet 10% above
    it (the by-hand case above), on both kernel forms."""
    days = 20
    want_prep = prepare(constant_fleet(1.1, 1, days))
    prep = prepare(constant_fleet(1.0, 1, days))
    for mult, p in ((1.0, want_prep), (1.1, prep)):
        rnd = ChunkRandoms(
            np.zeros((1, days)), np.full((1, days), 0.5), np.ones((1, days)), np.full((1, days), mult)
        )
        for kernel in (kernel_numba.run_chunk, numpy_chunk):
            out = ChunkOutputs.empty(
                1, days, p.setup.max_retargets, dtype=np.float64, n_owners=p.setup.n_owners
            )
            kernel(p.setup, rnd, out)
            if mult == 1.0:
                want = (int(out.retarget_day[0, 0]), int(out.retarget_bits[0, 0]))
            else:
                assert (int(out.retarget_day[0, 0]), int(out.retarget_bits[0, 0])) == want
                np.testing.assert_allclose(out.hashrate_ths[0], 1.1 * prep.setup.cap0_ths.sum(), rtol=1e-12)
                assert out.offline_share[0].max() == 0.0  # the fleet itself is all online


def test_unexplained_walk_by_hand() -> None:
    """exp(z): 1 on day 0, then daily log steps N(0, sd^2 / 14): sd over 14 days."""
    assert UNEXPLAINED_STEP_DAYS == 1
    out = np.empty((20_000, 29))
    draw_hash_mult(0.05, np.random.default_rng(1), out)
    z = np.log(out)
    assert np.all(z[:, 0] == 0.0)
    steps = np.diff(z, axis=1)
    assert float(np.std(steps)) == pytest.approx(0.05 / math.sqrt(14), rel=0.01)
    assert abs(float(np.mean(steps))) < 1e-4
    assert float(np.std(z[:, 14])) == pytest.approx(0.05, rel=0.02)
    assert float(np.std(z[:, 28])) == pytest.approx(0.05 * math.sqrt(2), rel=0.02)
    draw_hash_mult(0.0, np.random.default_rng(1), out)
    assert np.all(out == 1.0)


def test_unexplained_moves_widen_the_band_not_the_median() -> None:
    """Second retarget of a flat fleet: the median stays, the 90% band widens."""
    narrow = simulate(constant_fleet(1.0, 4_000, 32, seed=7)).retargets.iloc[1]
    wide = simulate(
        constant_fleet(1.0, 4_000, 32, seed=7, **{"fleet.unexplained_log_sd": 0.1})
    ).retargets.iloc[1]
    assert wide["difficulty_p50"] == pytest.approx(narrow["difficulty_p50"], rel=0.01)
    width = wide["difficulty_p95"] / wide["difficulty_p05"]
    assert width > 1.2 * narrow["difficulty_p95"] / narrow["difficulty_p05"]


def test_halving_at_1_050_000_halves_the_subsidy() -> None:
    start = 1_049_000
    res_s = constant_fleet(1.0, 50, 14, **{"start.height": start})
    prep = prepare(res_s)
    assert prep.start.subsidy_btc == 3.125
    from hashrisk.sim.engine import draw_randoms

    rnd = draw_randoms(prep, 0, 50)
    out = ChunkOutputs.empty(50, 14, prep.setup.max_retargets, dtype=np.float64, n_owners=prep.setup.n_owners)
    kernel_numba.run_chunk(prep.setup, rnd, out)
    for p in range(50):
        tip = int(out.path_i[p, PI_TIP])
        assert tip > 1_050_000
        exact = sum(block_subsidy_sats(h) for h in range(start + 1, tip + 1))
        assert out.path_i[p, PI_SUBSIDY_SATS] == exact
        n = tip - start
        assert exact == (1_050_000 - start - 1) * 312_500_000 + (tip - 1_050_000 + 1) * 156_250_000
        assert exact < n * 312_500_000


def test_halving_pushes_cohorts_offline() -> None:
    base = {"start.height": 1_049_400, "price.vol": 0.0, "fees.sigma": 0.0, "fleet.deploy.enabled": False}
    res = simulate(Scenario(paths=20, horizon_days=10).with_params(base))
    h = res.fans["hashrate_ths"][:, 2]
    assert h[-1] < 0.8 * h[0]  # revenue per TH/s halves: the expensive half of the fleet switches off


def test_sales_feedback_lowers_prices() -> None:
    s = Scenario(paths=400, horizon_days=90, seed=9).with_params(
        {
            "price.shock": {"total_return": -0.3, "days": 30},
            "impact.baseline": "none",
            "treasury.initial_cash_days_of_opex": 0.0,
        }
    )
    on, off = simulate(s), simulate(s.with_params({"impact.enabled": False}))
    assert np.all(on.fans["price_usd"][-1] < off.fans["price_usd"][-1])
    assert np.all(on.fans["price_usd"][1:, 2] <= off.fans["price_usd"][1:, 2])
    amp = on.summary()["amplification"]
    assert amp["max_drawdown_on"]["p50"] > amp["max_drawdown_off"]["p50"]
    # feedback off: the price is the exogenous one, so on/off statistics coincide
    amp_off = off.summary()["amplification"]
    assert amp_off["max_drawdown_on"]["p50"] == amp_off["max_drawdown_off"]["p50"]
    assert amp_off["vol_ratio_mean"] == pytest.approx(1.0)


def test_v_shaped_price_hashrate_drops_and_recovers() -> None:
    p0 = SNAP.price_usd
    down = list(p0 * np.exp(np.linspace(0, math.log(0.6), 21)))
    path = down + down[::-1][1:] + [p0] * 40
    s = Scenario(paths=50, horizon_days=len(path)).with_params(
        {
            "price.model": "path",
            "price.prices_usd": path,
            "impact.enabled": False,
            "fleet.deploy.enabled": False,
            "fleet.unexplained_log_sd": 0.0,  # the price's V alone (no moves no price explains)
        }
    )
    res = simulate(s)
    rec = res.summary()["hashrate_recovery"]
    assert rec["share_paths_dropped"] == 1.0
    assert rec["share_recovered"] == 1.0
    assert 20 < rec["days_from_start"]["p50"] < len(path)
    assert res.summary()["hashrate_min_ratio"]["p50"] < 0.9


def test_summary_and_frames() -> None:
    res = simulate(Scenario(paths=200, horizon_days=45, seed=1))
    frame = res.to_frame()
    assert list(frame.index[:2]) == [np.datetime64("2026-06-01"), np.datetime64("2026-06-02")]
    assert {
        "price_usd_p05",
        "price_usd_p95",
        "hashrate_ths_p50",
        "offline_share_mean",
        "sold_btc_p75",
    } <= set(frame)
    assert (frame["price_usd_p05"] <= frame["price_usd_p50"]).all()
    assert (frame["price_usd_p50"] <= frame["price_usd_p95"]).all()
    assert frame["price_usd_p50"].iloc[0] == SNAP.price_usd  # exact: clamped to the day's min/max
    s = res.summary()
    assert s["paths"] == 200 and s["horizon_days"] == 45
    assert {"height", "date_p50", "difficulty_p05", "difficulty_p50", "difficulty_p95"} <= set(
        s["retargets"][0]
    )
    assert s["retargets"][0]["height"] == 953_568
    p = s["difficulty_drop"]
    assert p["p_any_retarget"]["5"] >= p["p_first_retarget"]["5"]
    assert 0 <= p["p_first_retarget"]["0"] <= 1
    assert s["miner_btc_sold"]["total_btc"]["p50"] > 0
    assert len(res.path_frame()) == 200
    assert res.prob_difficulty_drop(50.0, "any") == 0.0


def test_histogram_quantiles_match_exact_quantiles() -> None:
    from hashrisk.sim.arrays import SERIES

    s = Scenario(paths=2_000, horizon_days=20, seed=6)
    res = simulate(s)
    prep = prepare(s)
    from hashrisk.sim.engine import draw_randoms

    out = ChunkOutputs.empty(
        2_000, 20, prep.setup.max_retargets, dtype=np.float64, n_owners=prep.setup.n_owners
    )
    kernel_numba.run_chunk(prep.setup, draw_randoms(prep, 0, 2_000), out)
    for name in SERIES:
        exact = np.quantile(out.series(name)[:, -1], [0.05, 0.5, 0.95])
        got = res.fans[name][-1, [0, 2, 4]]
        np.testing.assert_allclose(got, exact, rtol=0.004, atol=0.003, err_msg=name)


def test_cohort_aggregation_conserves_hashrate_and_sorts_costs() -> None:
    fleet = build_fleet(FleetSpec.default(), 1.0)
    coh = aggregate_cohorts(fleet, 32)
    assert coh.hashrate_share.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(coh.hashrate_share, 1 / 32)
    assert np.all(np.diff(coh.cash_cost_usd_per_ths_day) >= 0)
    from hashrisk.sim.engine import cash_cost_usd_per_ths_day

    mean_cost = np.average(cash_cost_usd_per_ths_day(fleet), weights=fleet.hashrate_ths)
    assert np.average(coh.cash_cost_usd_per_ths_day, weights=coh.hashrate_share) == pytest.approx(mean_cost)


def test_start_state_matches_snapshot() -> None:
    prep = prepare(Scenario(paths=10, horizon_days=5))
    assert prep.start.bits == BITS0 == 0x1702068F
    assert prep.setup.cap0_ths[prep.setup.online0.astype(bool)].sum() == pytest.approx(SNAP.hashrate_ths)
    assert prep.start.epoch_first_time_s == 0
    mid = prepare(Scenario(paths=10, horizon_days=5).with_params({"start.height": 951_552 + 1008}))
    assert mid.start.epoch_first_time_s == pytest.approx(-1008 * 600 * IMPLIED_THS / SNAP.hashrate_ths, abs=1)


def test_start_date_needs_a_snapshot() -> None:
    s = Scenario(paths=10, horizon_days=5).with_params({"start.start_date": "2025-06-01"})
    with pytest.raises(InputError) as err:
        simulate(s)
    assert err.value.field == "start.start_date"
    other = SNAP.override(date=dt.date(2025, 6, 1), price_usd=100_000.0)
    assert simulate(s, other).start.price_usd == 100_000.0


def test_run_errors_name_the_field() -> None:
    with pytest.raises(UnknownNameError) as err:
        simulate(
            Scenario(paths=10, horizon_days=5).with_params({"fleet.deploy.hardware_class": "Antminer S99"})
        )
    assert err.value.field == "fleet.deploy.hardware_class"
    with pytest.raises(InputError) as err2:
        simulate(
            Scenario(paths=10, horizon_days=50).with_params(
                {"price.model": "path", "price.prices_usd": [1e5] * 10}
            )
        )
    assert err2.value.field == "price.prices_usd"
    with pytest.raises(InputError) as err3:
        simulate(Scenario(paths=10, horizon_days=5).with_params({"start.price_usd": 1_000.0}))
    assert err3.value.field == "fleet.initial_online"
    with pytest.raises(InputError) as err4:
        simulate(Scenario(paths=10, horizon_days=5), backend="gpu")  # type: ignore[arg-type]
    assert err4.value.field == "backend"
    with pytest.raises(InputError) as err5:
        simulate(
            Scenario(paths=10, horizon_days=5).with_params({"price.model": "path", "price.csv": "x.csv"})
        )
    assert err5.value.field == "price.csv"
