"""Revenue, hashprice and per-machine breakevens against published figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hashrisk.economics.machine import (
    breakeven_power_price_usd_per_kwh,
    breakeven_price_usd,
    daily_profit_usd,
    energy_kwh_per_ths_day,
)
from hashrisk.economics.revenue import (
    hashprice_sats_per_th_day,
    hashprice_usd_per_ph_day,
    revenue_btc_per_ths_day,
    revenue_usd_per_ths_day,
)
from hashrisk.errors import InputError


def test_block_730000_subsidy_only_hashprice() -> None:
    """Difficulty 28,587,155,782,195.14 and 6.25 BTC give 439.8 sats/TH/day."""
    assert float(hashprice_sats_per_th_day(28_587_155_782_195.14, 6.25)) == pytest.approx(439.8, abs=0.05)


def test_hashprice_units_agree() -> None:
    d, s, f, p = 138_955_357_012_247.0, 3.125, 0.023, 71_329.0
    btc = float(revenue_btc_per_ths_day(d, s, f))
    assert float(revenue_usd_per_ths_day(d, s, f, p)) == pytest.approx(btc * p)
    assert float(hashprice_usd_per_ph_day(d, s, f, p)) == pytest.approx(1000 * btc * p)
    assert float(hashprice_sats_per_th_day(d, s, f)) == pytest.approx(1e8 * btc)
    # a hand computation: 86,400 s x 1e12 H / (d x 2^32) blocks per TH/s per day, times the reward
    assert btc == pytest.approx(86_400e12 / (d * 2**32) * (s + f), rel=1e-15)


def test_hayes_cost_of_production() -> None:
    """Hayes (2015): difficulty 60,883,825,480, $0.135/kWh, 0.75 W per GH/s, 12.5 BTC -> $588.36/BTC."""
    cost = breakeven_price_usd(750.0, 0.135, 60_883_825_480, 12.5)
    assert float(cost) == pytest.approx(588.36, abs=0.01)


@pytest.mark.parametrize(
    ("efficiency", "published"),
    [(17.5, 0.13), (21.5, 0.10), (29.5, 0.075), (34.0, 0.067)],  # S21, S19 XP, S19j Pro, M30S+
)
def test_hashrate_index_april_2024_breakevens(efficiency: float, published: float) -> None:
    """Luxor Hashrate Index, April 2024 halving: breakeven power prices at a $54.3/PH/day hashprice."""
    ours = float(breakeven_power_price_usd_per_kwh(efficiency, 54.3))
    assert ours == pytest.approx(published, abs=0.006)


def test_breakevens_are_consistent() -> None:
    """At the breakeven power price the machine's profit is zero, and the breakeven BTC price inverts it."""
    d, s, f, price = 1.2e14, 3.125, 0.03, 80_000.0
    hp = float(hashprice_usd_per_ph_day(d, s, f, price))
    p_kwh = float(breakeven_power_price_usd_per_kwh(17.5, hp, 1.1))
    assert float(daily_profit_usd(200.0, 3500.0, hp, p_kwh, 1.1)) == pytest.approx(0.0, abs=1e-9)
    assert float(breakeven_price_usd(17.5, p_kwh, d, s, f, 1.1)) == pytest.approx(price)


def test_daily_profit_by_hand() -> None:
    # 100 TH/s at $50/PH/day = $5.00; 3,000 W x 24 h x $0.05 = $3.60
    assert float(daily_profit_usd(100.0, 3000.0, 50.0, 0.05)) == pytest.approx(1.40)
    assert float(energy_kwh_per_ths_day(30.0)) == pytest.approx(0.72)


def test_vectorised_over_arrays_and_series() -> None:
    eff = np.array([[12.0], [17.5], [29.5]])
    prices = np.array([0.03, 0.05, 0.07, 0.09])
    out = breakeven_price_usd(eff, prices, 1.3e14, 3.125, 0.02)
    assert out.shape == (3, 4)
    assert np.all(np.diff(out, axis=0) > 0) and np.all(np.diff(out, axis=1) > 0)
    s = pd.Series([1e14, 2e14])
    np.testing.assert_allclose(revenue_btc_per_ths_day(s, 3.125)[1] * 2, revenue_btc_per_ths_day(s, 3.125)[0])


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: breakeven_price_usd(17.5, -0.01, 1e14, 3.125), "power_price_usd_per_kwh"),
        (lambda: breakeven_price_usd(17.5, float("nan"), 1e14, 3.125), "power_price_usd_per_kwh"),
        (lambda: hashprice_usd_per_ph_day(1e14, 3.125, 0.0, -5.0), "price_usd"),
        (lambda: hashprice_usd_per_ph_day(1e14, 3.125, 0.0, float("nan")), "price_usd"),
        (lambda: revenue_btc_per_ths_day(0.0, 3.125), "difficulty"),
        (lambda: breakeven_power_price_usd_per_kwh(17.5, 50.0, 0.9), "pue"),
        (lambda: breakeven_power_price_usd_per_kwh(0.0, 50.0), "efficiency_j_per_th"),
    ],
)
def test_bad_inputs_name_the_field(call: object, field: str) -> None:
    with pytest.raises(InputError) as info:
        call()  # type: ignore[operator]
    assert info.value.field == field
