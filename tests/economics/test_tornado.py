"""The tornado of the headline cost figures: each bar checked against a hand computation.

Hand formulas (Hayes 2015; README Methodology): electricity cost per BTC
``= e_wall * p_kwh * 24e-3 / (86,400e12 / (D * 2**32) * reward)`` with ``e_wall = sum(w e pue)`` [J/TH];
all-in ``= electricity * (1 + other) + sum(w hw) / days / btc_per_ths_day``.
"""

from __future__ import annotations

import pytest
from test_fleet_cost import TWO_COHORTS

from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.economics.cost import production_cost
from hashrisk.economics.fleet import FleetSpec, build_fleet
from hashrisk.economics.tornado import (
    DEFAULT_RANGES,
    METRICS,
    AssumptionRange,
    CostInputs,
    Tornado,
    TornadoBar,
    headline_metrics,
    tornado,
)
from hashrisk.errors import InputError

D, S, F = 138_955_357_012_247.0, 3.125, 0.023
BTC_PER_THS_DAY = 86_400e12 / (D * 2**32) * (S + F)
"""Expected BTC per TH/s per day at the embedded snapshot's difficulty and reward."""


def elec_usd_per_btc(e_wall_j_per_th: float, p_kwh: float, reward: float = S + F) -> float:
    """Electricity cost per BTC by hand: kWh per TH/s per day x price / BTC per TH/s per day."""
    kwh_per_ths_day = e_wall_j_per_th * 86_400 / 3.6e6
    return kwh_per_ths_day * p_kwh / (86_400e12 / (D * 2**32) * reward)


# The default fleet (fleet_default.toml): class shares and the makers' efficiencies of their models
# (S21 XP Hydro 12, S21 XP 13.5, S21 17.5, S19 XP 21.5, S19j Pro 29.5 J/TH), PUE mix 1.01/1.10/1.20 at
# 25/50/25 %, hardware 20/17/12/6/3 USD per TH/s, 1095 days, other opex 20 %.
SHARES = (0.10, 0.20, 0.30, 0.25, 0.15)
EFFS = (12.0, 13.5, 17.5, 21.5, 29.5)
HW = (20.0, 17.0, 12.0, 6.0, 3.0)
MEAN_EFF = sum(w * e for w, e in zip(SHARES, EFFS, strict=True))  # 18.95 J/TH
MEAN_PUE = 0.25 * 1.01 + 0.50 * 1.10 + 0.25 * 1.20  # 1.1025
MEAN_HW = sum(w * h for w, h in zip(SHARES, HW, strict=True))  # 10.95 USD per TH/s


@pytest.fixture(scope="module")
def snap() -> NetworkSnapshot:
    return NetworkSnapshot.embedded()


@pytest.fixture(scope="module")
def result(snap: NetworkSnapshot) -> Tornado:
    return tornado(snap, FleetSpec.default(), 0.05)


def bar(result: Tornado, name: str) -> TornadoBar:
    return next(b for b in result.bars if b.name == name)


def test_base_is_the_production_cost_of_the_cost_command(snap: NetworkSnapshot, result: Tornado) -> None:
    pc = production_cost(snap, build_fleet(FleetSpec.default(), snap.hashrate_ths), 0.05)
    assert result.base["electricity_fleet_usd_per_btc"] == pytest.approx(
        pc.electricity_fleet_usd_per_btc, rel=1e-12
    )
    assert result.base["all_in_usd_per_btc"] == pytest.approx(pc.all_in["total"], rel=1e-12)
    assert result.base["share_unprofitable"] == pytest.approx(
        float(pc.curve.share_unprofitable(snap.price_usd))
    )


def test_base_electricity_and_all_in_by_hand(result: Tornado) -> None:
    elec = elec_usd_per_btc(MEAN_EFF * MEAN_PUE, 0.05)
    assert result.base["electricity_fleet_usd_per_btc"] == pytest.approx(elec, rel=1e-9)
    all_in = elec * 1.20 + MEAN_HW / 1095 / BTC_PER_THS_DAY
    assert result.base["all_in_usd_per_btc"] == pytest.approx(all_in, rel=1e-9)


def test_uniform_power_price_bar_is_linear(result: Tornado) -> None:
    b = bar(result, "power_price_usd_per_kwh")
    assert b.low["electricity_fleet_usd_per_btc"] == pytest.approx(
        elec_usd_per_btc(MEAN_EFF * MEAN_PUE, 0.04)
    )
    assert b.high["electricity_fleet_usd_per_btc"] == pytest.approx(
        elec_usd_per_btc(MEAN_EFF * MEAN_PUE, 0.06)
    )
    # the cost curve uses each cohort's own power price: the uniform price does not move the share underwater
    assert b.low["share_unprofitable"] == b.high["share_unprofitable"] == result.base["share_unprofitable"]


def test_pue_bar_at_cbeci_bounds(result: Tornado) -> None:
    b = bar(result, "pue")
    assert (b.low_value, b.high_value) == (1.01, 1.20)
    assert b.base_value == pytest.approx(MEAN_PUE)
    assert b.low["electricity_fleet_usd_per_btc"] == pytest.approx(elec_usd_per_btc(MEAN_EFF * 1.01, 0.05))
    assert b.high["electricity_fleet_usd_per_btc"] == pytest.approx(elec_usd_per_btc(MEAN_EFF * 1.20, 0.05))
    assert b.low["share_unprofitable"] <= result.base["share_unprofitable"] <= b.high["share_unprofitable"]


def test_fleet_mix_moves_ten_points_between_oldest_and_newest(result: Tornado) -> None:
    b = bar(result, "fleet_mix_shift")
    newer = MEAN_EFF + 0.10 * (12.0 - 29.5)  # 10 points from the S19j Pro class to the S21 XP Hydro class
    older = MEAN_EFF - 0.10 * (12.0 - 29.5)
    assert b.high["electricity_fleet_usd_per_btc"] == pytest.approx(elec_usd_per_btc(newer * MEAN_PUE, 0.05))
    assert b.low["electricity_fleet_usd_per_btc"] == pytest.approx(elec_usd_per_btc(older * MEAN_PUE, 0.05))
    assert b.high["share_unprofitable"] < result.base["share_unprofitable"] < b.low["share_unprofitable"]


def test_fees_scale_changes_the_reward(result: Tornado) -> None:
    b = bar(result, "fees_scale")
    assert b.high["electricity_fleet_usd_per_btc"] == pytest.approx(
        elec_usd_per_btc(MEAN_EFF * MEAN_PUE, 0.05, reward=S + 2 * F)
    )
    assert b.low["electricity_fleet_usd_per_btc"] == pytest.approx(
        elec_usd_per_btc(MEAN_EFF * MEAN_PUE, 0.05, reward=S + 0.5 * F)
    )


def test_depreciation_and_hardware_only_move_the_all_in_cost(result: Tornado) -> None:
    elec = elec_usd_per_btc(MEAN_EFF * MEAN_PUE, 0.05)
    dep = bar(result, "depreciation_days")
    assert dep.low["all_in_usd_per_btc"] == pytest.approx(elec * 1.2 + MEAN_HW / 730 / BTC_PER_THS_DAY)
    assert dep.high["all_in_usd_per_btc"] == pytest.approx(elec * 1.2 + MEAN_HW / 1460 / BTC_PER_THS_DAY)
    hw = bar(result, "hardware_cost_scale")
    assert hw.high["all_in_usd_per_btc"] == pytest.approx(elec * 1.2 + 1.3 * MEAN_HW / 1095 / BTC_PER_THS_DAY)
    opex = bar(result, "other_opex_share_of_power")
    assert opex.low["all_in_usd_per_btc"] == pytest.approx(elec * 1.1 + MEAN_HW / 1095 / BTC_PER_THS_DAY)
    for b in (dep, hw, opex):
        assert b.swing("electricity_fleet_usd_per_btc") == 0.0
        assert b.swing("share_unprofitable") == 0.0


def test_cohort_power_price_scale_rescales_every_breakeven(snap: NetworkSnapshot, result: Tornado) -> None:
    # breakevens are linear in the power price: scaling every cohort's price by k is the base curve at P / k
    curve = build_fleet(FleetSpec.default(), snap.hashrate_ths)
    pc = production_cost(snap, curve, 0.05)
    b = bar(result, "cohort_power_price_scale")
    assert b.low["share_unprofitable"] == pytest.approx(
        float(pc.curve.share_unprofitable(snap.price_usd / 0.8))
    )
    assert b.high["share_unprofitable"] == pytest.approx(
        float(pc.curve.share_unprofitable(snap.price_usd / 1.2))
    )


def test_two_cohort_fleet_share_underwater_by_hand() -> None:
    """Two cohorts at $0.05/kWh, PUE 1: 15 J/TH (75%) and 30 J/TH (25%)."""
    spec = FleetSpec.from_toml_text(TWO_COHORTS)
    be_old = elec_usd_per_btc(30.0, 0.05)
    be_new = elec_usd_per_btc(15.0, 0.05)
    between = NetworkSnapshot.embedded().override(price_usd=(be_old + be_new) / 2)
    t = tornado(between, spec, 0.05)
    assert t.base["share_unprofitable"] == pytest.approx(0.25)
    # all 30 J/TH cohort moves to 15 J/TH when the shift is +0.25 or more (capped at its share)
    m = headline_metrics(between, CostInputs(spec, 0.05, F))
    assert m["share_unprofitable"] == pytest.approx(0.25)
    big = tornado(between, spec, 0.05, [AssumptionRange("fleet_mix_shift", -0.5, 0.5, "test")])
    assert big.bars[0].high["share_unprofitable"] == 0.0  # capped: the old class gives its whole 25%
    assert big.bars[0].low["share_unprofitable"] == pytest.approx(0.75)  # the efficient class gives 50 points
    assert all(b.name != "power_price_sigma" for b in t.bars)  # explicit buckets: no lognormal to spread


def test_ranked_by_swing_and_summary_is_jsonable(result: Tornado) -> None:
    import json

    for m in METRICS:
        swings = [b.swing(m) for b in result.ranked(m)]
        assert swings == sorted(swings, reverse=True)
    assert result.ranked("all_in_usd_per_btc")[0].name == "power_price_usd_per_kwh"
    json.dumps(result.summary(), allow_nan=False)
    frame = result.to_frame()
    assert len(frame) == len(result.bars) * len(METRICS)
    assert len(result.bars) == len(DEFAULT_RANGES)


def test_bad_ranges_name_the_field(snap: NetworkSnapshot) -> None:
    with pytest.raises(InputError, match=r"ranges\.name"):
        tornado(snap, FleetSpec.default(), ranges=[AssumptionRange("moon_phase", 0, 1, "")])
    with pytest.raises(InputError, match=r"ranges\.pue\.low"):
        tornado(snap, FleetSpec.default(), ranges=[AssumptionRange("pue", 0.5, 1.2, "")])
    with pytest.raises(InputError, match=r"^metric"):
        tornado(snap, FleetSpec.default()).ranked("nonsense")
