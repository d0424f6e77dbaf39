"""Fleet cohorts, the CBECI basket, the cost curve and production cost."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pytest

from hashrisk.economics.catalog import load_catalog
from hashrisk.economics.cost import CostCurve, all_in_cost_usd_per_btc, cost_curve, production_cost
from hashrisk.economics.fleet import FleetSpec, build_fleet, profitable_basket
from hashrisk.economics.machine import breakeven_power_price_usd_per_kwh, breakeven_price_usd
from hashrisk.economics.revenue import hashprice_usd_per_ph_day, revenue_btc_per_ths_day
from hashrisk.errors import InputError

D, S, F, P = 138_955_357_012_247.0, 3.125, 0.023, 71_329.0

TWO_COHORTS = """
label = "two cohorts"
[costs]
depreciation_days = 1000
other_opex_share_of_power = 0.5
[[classes]]
name = "efficient"
efficiency_j_per_th = 15.0
share = 0.75
hardware_usd_per_th = 10.0
[[classes]]
name = "old"
efficiency_j_per_th = 30.0
share = 0.25
hardware_usd_per_th = 2.0
[power_price]
distribution = "buckets"
values_usd_per_kwh = [0.05]
shares = [1.0]
[overhead]
pue = [1.0]
share = [1.0]
"""


@dataclass
class State:
    date: dt.date = dt.date(2026, 6, 1)
    price_usd: float = P
    difficulty: float = D
    hashrate_ths: float = 0.98e9
    fees_btc_per_block: float = F
    subsidy_btc: float = S


def test_default_fleet_sums_to_network_hashrate() -> None:
    fleet = build_fleet(FleetSpec.default(), 0.98e9)
    assert fleet.total_hashrate_ths == pytest.approx(0.98e9, rel=1e-12)
    assert fleet.hashrate_ths.size == 5 * 12 * 3
    assert set(np.unique(fleet.pue)) == {1.01, 1.10, 1.20}
    # lognormal buckets: the hashrate-weighted median power price is the assumption's median
    order = np.argsort(fleet.power_price_usd_per_kwh)
    cum = np.cumsum(fleet.hashrate_ths[order]) / fleet.total_hashrate_ths
    assert fleet.power_price_usd_per_kwh[order][np.searchsorted(cum, 0.5)] == pytest.approx(0.045, rel=0.1)


def test_two_cohort_fleet_by_hand() -> None:
    fleet = build_fleet(FleetSpec.from_toml_text(TWO_COHORTS), 1000.0)
    np.testing.assert_allclose(fleet.hashrate_ths, [750.0, 250.0])
    assert fleet.mean_efficiency_j_per_th == pytest.approx(18.75)
    curve = cost_curve(fleet, D, S, F)
    be15, be30 = (float(breakeven_price_usd(e, 0.05, D, S, F)) for e in (15.0, 30.0))
    np.testing.assert_allclose(curve.breakeven_price_usd, [be15, be30])
    assert be30 == pytest.approx(2 * be15)
    # at a price between the two breakevens, the old 25% is underwater
    mid = (be15 + be30) / 2
    assert float(curve.share_unprofitable(mid)) == pytest.approx(0.25)
    assert float(curve.share_unprofitable(be30 * 1.01)) == 0.0
    assert float(curve.share_unprofitable(be15 * 0.99)) == 1.0
    assert curve.marginal_cost_usd(mid) == pytest.approx(be15)
    assert np.isnan(curve.marginal_cost_usd(be15 * 0.5))
    # within 10% of breakeven: only cohorts with P(1-0.1) < breakeven <= P
    assert float(curve.share_within(be30 * 1.05, 0.10)) == pytest.approx(0.25)
    assert float(curve.share_within(be30 * 1.20, 0.10)) == 0.0
    # all-in by hand: electricity 18.75 J/TH, +50% other opex, depreciation 0.75x10 + 0.25x2 = 8 $/TH over 1000 d
    parts = all_in_cost_usd_per_btc(fleet, 0.05, D, S, F)
    elec = float(breakeven_price_usd(18.75, 0.05, D, S, F))
    dep = 8.0 / 1000 / float(revenue_btc_per_ths_day(D, S, F))
    assert float(parts["electricity"]) == pytest.approx(elec)
    assert float(parts["total"]) == pytest.approx(1.5 * elec + dep)


def test_share_unprofitable_is_monotone_and_vectorised() -> None:
    fleet = build_fleet(FleetSpec.default(), 0.98e9)
    curve = cost_curve(fleet, D, S, F)
    prices = np.linspace(10_000, 200_000, 50)
    shares = curve.share_unprofitable(prices)
    assert shares.shape == (50,)
    assert np.all(np.diff(shares) <= 0) and shares[0] == 1.0 and shares[-1] == 0.0
    assert curve.quantile(0.5) <= curve.quantile(0.9)


def test_electricity_cost_is_linear_in_power_price() -> None:
    fleet = build_fleet(FleetSpec.default(), 0.98e9)
    c = [float(all_in_cost_usd_per_btc(fleet, p, D, S, F)["electricity"]) for p in (0.04, 0.05, 0.06)]
    assert c[2] - c[1] == pytest.approx(c[1] - c[0])
    assert c[1] / c[0] == pytest.approx(0.05 / 0.04)


def test_cbeci_basket_bounds() -> None:
    hp = float(hashprice_usd_per_ph_day(D, S, F, P))
    basket = profitable_basket(
        hashprice_usd_per_ph_day=hp,
        power_price_usd_per_kwh=0.05,
        difficulty=D,
        subsidy_btc=S,
        fees_btc_per_block=F,
        released_by="2026-06",
    )
    lo, best, hi = basket["lower"], basket["best_guess"], basket["upper"]
    assert (lo.pue, best.pue, hi.pue) == (1.01, 1.10, 1.20)
    assert lo.efficiency_j_per_th <= best.efficiency_j_per_th <= hi.efficiency_j_per_th
    assert (
        lo.electricity_cost_usd_per_btc < best.electricity_cost_usd_per_btc < hi.electricity_cost_usd_per_btc
    )
    # every basket model is profitable at its bound's PUE, and every model left out is not
    cat = load_catalog("2026-06")
    for b in (lo, best, hi):
        be = breakeven_power_price_usd_per_kwh(cat["efficiency_j_per_th"], hp, b.pue)
        assert set(cat["model"][be >= 0.05]) == set(b.models)
    # a profitable machine's electricity cost cannot exceed the price
    assert hi.electricity_cost_usd_per_btc <= P


def test_basket_with_nothing_profitable() -> None:
    with pytest.raises(InputError, match="power_price_usd_per_kwh"):
        profitable_basket(
            hashprice_usd_per_ph_day=1.0,
            power_price_usd_per_kwh=0.5,
            difficulty=D,
            subsidy_btc=S,
            fees_btc_per_block=F,
        )


def test_production_cost_summary() -> None:
    fleet = build_fleet(FleetSpec.default(), 0.98e9)
    result = production_cost(State(), fleet, 0.05)
    s = result.summary()
    assert s["electricity_only_usd_per_btc"]["lower"] < s["electricity_only_usd_per_btc"]["upper"]
    shares = list(s["share_unprofitable"].values())
    assert shares == sorted(shares)  # a lower price puts more hashrate underwater
    assert s["all_in_usd_per_btc"]["total"] > s["electricity_only_fleet_usd_per_btc"]
    per_cent = s["electricity_usd_per_btc_per_cent_per_kwh"]
    assert s["electricity_only_fleet_usd_per_btc"] == pytest.approx(5 * per_cent)
    assert len(result.to_frame()) == fleet.hashrate_ths.size


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (("share = 0.75", "share = 0.7"), "classes"),
        (("efficiency_j_per_th = 15.0", 'model = "Antminer S99"'), "model"),
        (("pue = [1.0]", "pue = [0.9]"), "overhead"),
        (("depreciation_days = 1000", "depreciation_days = -1"), "costs.depreciation_days"),
        (("[costs]", "[costs]\nbogus = 1"), "costs.bogus"),
        (('distribution = "buckets"', 'distribution = "normal"'), "power_price.distribution"),
        (("label", "label = = "), "fleet"),
    ],
)
def test_bad_fleet_files_name_the_field(edit: tuple[str, str], field: str) -> None:
    with pytest.raises(InputError) as info:
        FleetSpec.from_toml_text(TWO_COHORTS.replace(*edit, 1))
    assert info.value.field == field


def test_cost_curve_rejects_bad_price() -> None:
    curve = CostCurve(np.array([1.0, 2.0]), np.array([1.0, 1.0]), np.array(["a", "b"]))
    with pytest.raises(InputError, match="price_usd"):
        curve.share_unprofitable(-1.0)
