"""hashrisk.analytics.sensitivity on synthetic histories with a built-in elasticity (see analytics_synth)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from analytics_synth import distributed_lag_history, network_frame

from hashrisk.analytics.sensitivity import (
    drawdown_responses,
    measure_sensitivity,
    mechanical_sensitivity,
    newey_west_lags,
)
from hashrisk.economics.fleet import FleetSpec
from hashrisk.errors import InputError

HALVING_2024 = pd.Timestamp("2024-04-20")
# 2019-01-07 .. 2025-11: part of 2016-2020 (~70 weeks), all of 2020-2024 (~205), 2024- (~85)
N_WEEKS = 360


def _betas(old: list[float], new: list[float]) -> Callable[[pd.Timestamp], list[float]]:
    """Lag coefficients by week: `old` before the 2024 halving, `new` from it."""
    return lambda sunday: new if sunday >= HALVING_2024 else old


def test_newey_west_rule() -> None:
    assert newey_west_lags(100) == 4  # 4 * 1 ** (2/9)
    assert newey_west_lags(797) == 6  # 4 * 7.97 ** (2/9) = 6.34


def test_a_built_in_elasticity_is_recovered_within_its_confidence_interval() -> None:
    b = [0.15, 0.10, 0.10, 0.05]  # long-run elasticity 0.40, spread over lags 0-3
    daily = distributed_lag_history(N_WEEKS, _betas(b, b), seed=3)
    res = measure_sensitivity(daily)
    full = next(e for e in res.full_sample if e.regressor == "price")
    assert full.ci_low < 0.40 < full.ci_high
    assert full.long_run == pytest.approx(0.40, abs=0.03)
    assert full.n_weeks == N_WEEKS - 1 - 8  # one week lost to the first difference, 8 to the lags
    np.testing.assert_allclose(full.lag_coefficients[:4], b, atol=0.03)
    np.testing.assert_allclose(full.lag_coefficients[4:], 0.0, atol=0.03)
    assert [e.period for e in res.cycles if e.regressor == "price"] == ["2016-2020", "2020-2024", "2024-"]
    for e in res.cycles:
        if e.regressor == "price":
            assert e.ci_low < 0.40 < e.ci_high
    assert res.verdict["answer"] == "not supported"  # same elasticity before and after: no change to find
    frame = res.to_frame()
    assert {"regressor", "period", "long_run", "ci_low", "ci_high", "b0", "b8"} <= set(frame.columns)


def test_a_rise_in_elasticity_is_supported_and_its_size_recovered() -> None:
    daily = distributed_lag_history(N_WEEKS, _betas([0.1, 0.1], [0.3, 0.2, 0.1]), seed=5)
    res = measure_sensitivity(daily)
    prev = next(d for d in res.differences if d.regressor == "price" and d.baseline == "2020-2024")
    assert prev.current == "2024-" and prev.ci_low < 0.40 < prev.ci_high and prev.ci_low > 0
    assert res.verdict["answer"] == "supported"
    assert "2024-" in res.verdict["text"] and "2020-2024" in res.verdict["text"]
    # the interaction model's difference is exactly the difference of the separate cycle estimates
    cur = next(e for e in res.cycles if e.regressor == "price" and e.period == "2024-")
    old = next(e for e in res.cycles if e.regressor == "price" and e.period == "2020-2024")
    assert prev.difference == pytest.approx(cur.long_run - old.long_run, abs=1e-9)
    pooled = [d for d in res.differences if d.baseline.endswith("pooled")]
    assert [d.baseline for d in pooled if d.regressor == "price"] == ["2016-2024 pooled"]


def test_a_fall_in_elasticity_contradicts_the_claim() -> None:
    daily = distributed_lag_history(N_WEEKS, _betas([0.3, 0.3], [0.1]), seed=8)
    res = measure_sensitivity(daily)
    assert res.verdict["answer"] == "contradicted"


def test_rolling_windows_end_on_the_last_complete_week() -> None:
    b = [0.2, 0.1]
    daily = distributed_lag_history(N_WEEKS, _betas(b, b), seed=2)
    res = measure_sensitivity(daily, window_weeks=104, step_weeks=4)
    price = res.rolling[res.rolling["regressor"] == "price"]
    last_sunday = pd.Timestamp(daily.index[-1].tz_localize(None)).normalize()
    assert price["week"].iloc[-1] == last_sunday
    assert (price["n_weeks"] == 104).all()
    assert np.diff(price["week"].to_numpy()).astype("timedelta64[D]").astype(int).tolist() == [28] * (
        len(price) - 1
    )
    # 0.3 lies inside most windows' 95% intervals
    assert ((price["ci_low"] < 0.3) & (price["ci_high"] > 0.3)).mean() > 0.8


def test_too_little_history_and_bad_parameters_name_the_field() -> None:
    b = [0.2]
    short = distributed_lag_history(30, _betas(b, b), seed=1)
    with pytest.raises(InputError) as info:
        measure_sensitivity(short)
    assert info.value.field == "daily" and "40" in info.value.allowed
    daily = distributed_lag_history(120, _betas(b, b), seed=1)
    for kwargs, field in [
        ({"lags": -1}, "lags"),
        ({"window_weeks": 20}, "window_weeks"),
        ({"confidence": 1.5}, "confidence"),
        ({"within_pct": 2.0}, "within_pct"),
        ({"start": "not a day"}, "start"),
    ]:
        with pytest.raises(InputError) as info:
            measure_sensitivity(daily, **kwargs)  # type: ignore[arg-type]
        assert info.value.field == field
    with pytest.raises(InputError) as info:
        measure_sensitivity(daily.drop(columns="fees_btc"))
    assert info.value.field == "daily.fees_btc"


def test_drawdown_response_by_hand() -> None:
    # price 100 for days 0-99, 70 from day 100 (30% below the 90-day high); difficulty grows 1%/day to
    # day 100, then stays flat: over 28 days, before = 1.01**28 - 1, after = 0, slowdown = -28 ln 1.01
    t = np.arange(200)
    price = np.where(t < 100, 100.0, 70.0)
    difficulty = 1e12 * 1.01 ** np.minimum(t, 100)
    frame = network_frame(price, np.full(200, 1.0), start="2021-01-01", difficulty=difficulty)
    out = drawdown_responses(frame, horizons=(28,))
    assert len(out) == 1
    row = out.iloc[0]
    assert row["date"] == pd.Timestamp("2021-01-01") + pd.Timedelta(days=100)
    assert row["drawdown"] == pytest.approx(-0.30)
    assert row["difficulty_before_28d"] == pytest.approx(1.01**28 - 1)
    assert row["difficulty_after_28d"] == pytest.approx(0.0, abs=1e-12)
    assert row["difficulty_slowdown_28d"] == pytest.approx(-28 * np.log(1.01))
    assert row["price_after_28d"] == pytest.approx(0.0)
    assert row["cycle"] == "2020-2024"


ONE_CLASS_FLEET = textwrap.dedent(
    """
    label = "one class, one price (test)"
    [costs]
    depreciation_days = 1000
    other_opex_share_of_power = 0.0
    [[classes]]
    name = "20 J/TH"
    efficiency_j_per_th = 20.0
    share = 1.0
    hardware_usd_per_th = 10.0
    [power_price]
    distribution = "buckets"
    values_usd_per_kwh = [0.05]
    shares = [1.0]
    [overhead]
    pue = [1.0]
    share = [1.0]
    """
)


def test_mechanical_sensitivity_by_hand() -> None:
    # breakeven = electricity per TH-day / BTC per TH-day = (20 J/TH * 86400 s / 3.6e6 J/kWh * $0.05)
    #             / (86400e12 * (3.125 + 0.1) / (D * 2**32))
    spec = FleetSpec.from_toml_text(ONE_CLASS_FLEET)
    n = 21  # three Mondays-to-Sundays from 2024-06-03
    rate = np.full(n, 6e8)
    difficulty = 6e8 * 1e12 * 86_400 / (2**32 * 144)
    cost = 20 * 86_400 / 3.6e6 * 0.05
    btc = 86_400e12 * 3.225 / (difficulty * 2**32)
    breakeven = cost / btc
    # week 1: price 5% above breakeven (within 10%); week 2: 50% above; week 3: below breakeven
    price = np.repeat([breakeven * 1.05, breakeven * 1.5, breakeven * 0.9], 7)
    frame = network_frame(price, rate, start="2024-06-03")
    mech, label = mechanical_sensitivity(frame, fleet=spec, within_pct=0.10)
    assert label == "one class, one price (test)"
    assert list(mech.index) == list(pd.DatetimeIndex(["2024-06-09", "2024-06-16", "2024-06-23"]))
    assert list(mech["share_within"]) == [1.0, 0.0, 0.0]
    assert list(mech["share_unprofitable"]) == [0.0, 0.0, 1.0]
    np.testing.assert_allclose(mech["breakeven_p50_usd"], breakeven, rtol=1e-12)


def test_a_window_inside_one_cycle_cannot_answer_the_question() -> None:
    b = [0.2]
    daily = distributed_lag_history(150, _betas(b, b), start="2021-01-04", seed=6)
    res = measure_sensitivity(daily)
    assert [e.period for e in res.cycles if e.regressor == "price"] == ["2020-2024"]
    assert res.differences == () and res.verdict["answer"] == "not measurable"
