"""hashrisk.analytics.indicators on hand-made histories: every expected value is computed by hand here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from analytics_synth import network_frame

from hashrisk.analytics.indicators import (
    DIFFICULTY_RIBBON_WINDOWS,
    backtest_signals,
    compute_indicators,
    difficulty_ribbon,
    hash_ribbons,
    hashprice_history,
    miner_revenue,
    puell_multiple,
)
from hashrisk.errors import InputError

DAY0 = pd.Timestamp("2020-01-06")


def _day(i: int) -> pd.Timestamp:
    return DAY0 + pd.Timedelta(days=i)


def _ribbon_history() -> pd.DataFrame:
    """Hashrate 100 for days 0-89, 40 for days 90-109, 350 from day 110; price 1000 - t to day 120, then 2000.

    By hand (s = 30-day SMA, l = 60-day SMA):
    * day 90: s = (29*100 + 40)/30 = 98 < l = (59*100 + 40)/60 = 99 -> capitulation starts (both 100 before);
    * day t in 110..118, m = t - 109 days at 350: s >= l  <=>  (350 - 100) m >= 2000 - 20*40 = 1200, first at
      m = 5, day 114 (250*4 = 1000 < 1200 < 1250) -> the capitulation ends on day 114, 24 days long;
    * price falls to day 120, so the 10-day SMA stays below the 20-day one; on day 121 (price 2000)
      SMA10 = (9*1000 - (112+...+120) + 2000)/10 = 995.6 > SMA20 = (19*1000 - (102+...+120) + 2000)/20 = 944.55
      -> buy signal on day 121.
    """
    n = 200
    t = np.arange(n)
    rate = np.where(t < 90, 100.0, np.where(t < 110, 40.0, 350.0))
    price = np.where(t <= 120, 1000.0 - t, 2000.0)
    return network_frame(price, rate, start=DAY0.date().isoformat())


def test_hand_made_capitulation_and_buy_signal() -> None:
    rib = hash_ribbons(_ribbon_history())
    assert len(rib.episodes) == 1
    ep = rib.episodes.iloc[0]
    assert ep["start"] == _day(90) and ep["end"] == _day(114) and ep["days"] == 24
    assert not ep["ongoing"]
    assert ep["known_end"] == _day(114 + 7 - 1)  # the 7-day recovery rule confirms the end on day 120
    assert ep["buy_date"] == _day(121) and ep["signal_date"] == _day(121)
    assert ep["price_at_buy_usd"] == 2000.0
    frame = rib.frame
    assert frame["capitulation"].sum() == 24 and frame.loc[_day(113), "capitulation"]
    assert not frame.loc[_day(114), "capitulation"]
    assert frame["buy_signal"].sum() == 1 and frame.loc[_day(121), "buy_signal"]
    assert frame.loc[_day(121), "price_sma_fast_usd"] == pytest.approx(995.6)
    assert frame.loc[_day(121), "price_sma_slow_usd"] == pytest.approx(944.55)
    summary = rib.summary()
    assert summary["episodes"][0]["end"] == _day(114).date().isoformat()
    assert "Edwards" in summary["source"]


def test_a_recovery_shorter_than_the_rule_is_merged_and_an_unconfirmed_end_stays_ongoing() -> None:
    history = _ribbon_history().iloc[:117]  # the data stop 3 days into the recovery (day 116)
    rib = hash_ribbons(history)
    ep = rib.episodes.iloc[0]
    assert ep["ongoing"] and ep["end"] == _day(114) and pd.isna(ep["buy_date"])
    raw = hash_ribbons(history, min_recovery_days=1).episodes.iloc[0]
    assert not raw["ongoing"] and raw["known_end"] == _day(114)


def test_ribbon_parameters_are_checked() -> None:
    with pytest.raises(InputError) as info:
        hash_ribbons(_ribbon_history(), short_days=60, long_days=30)
    assert info.value.field == "short_days"
    with pytest.raises(InputError) as info:
        hash_ribbons(_ribbon_history().drop(columns="price_usd"))
    assert info.value.field == "daily.price_usd"
    with pytest.raises(InputError) as info:
        hash_ribbons(_ribbon_history(), min_recovery_days=0)
    assert info.value.field == "min_recovery_days"


def test_puell_multiple_by_hand() -> None:
    # issuance 900 BTC/day at $1 for 365 days, then $2: Puell = 1800 / ((364*900 + 1800)/365) = 2 * 365/366
    price = np.r_[np.ones(365), 2.0]
    frame = network_frame(price, np.full(366, 6e8), subsidy_per_block=6.25)
    out = puell_multiple(frame)
    assert out["puell_multiple"].iloc[:364].isna().all()
    assert out["puell_multiple"].iloc[364] == pytest.approx(1.0)
    assert out["puell_multiple"].iloc[365] == pytest.approx(2 * 365 / 366)
    assert out["issuance_usd"].iloc[365] == pytest.approx(2 * 900.0)


def test_difficulty_ribbon_by_hand() -> None:
    # difficulty D_t = 1000 + t: SMA_n at t is 1000 + t - (n - 1)/2
    n = 260
    frame = network_frame(np.full(n, 1.0), np.full(n, 1.0), difficulty=1000.0 + np.arange(n))
    out = difficulty_ribbon(frame)
    t = n - 1
    smas = np.array([1000 + t - (w - 1) / 2 for w in DIFFICULTY_RIBBON_WINDOWS])
    for w, expected in zip(DIFFICULTY_RIBBON_WINDOWS, smas, strict=True):
        assert out[f"difficulty_sma_{w}d"].iloc[-1] == pytest.approx(expected)
    assert out["ribbon_compression"].iloc[-1] == pytest.approx(smas.std() / smas.mean())
    assert np.isnan(out["ribbon_compression"].iloc[198]) and np.isfinite(out["ribbon_compression"].iloc[199])
    flat = difficulty_ribbon(network_frame(np.ones(210), np.full(210, 5.0)))
    assert flat["ribbon_compression"].iloc[-1] == pytest.approx(0.0, abs=1e-15)


def test_revenue_and_hashprice_by_hand() -> None:
    frame = network_frame([50_000.0], [6e8], subsidy_per_block=3.125, fees_per_block=0.25)
    rev = miner_revenue(frame).iloc[0]
    assert rev["revenue_btc"] == pytest.approx(144 * 3.375)
    assert rev["revenue_usd"] == pytest.approx(144 * 3.375 * 50_000)
    assert rev["fee_share"] == pytest.approx(0.25 / 3.375)
    hp = hashprice_history(frame).iloc[0]
    # revenue per TH/s per day = day revenue / hashrate (Coin Metrics identity)
    assert hp["hashprice_usd_per_ph_day"] == pytest.approx(144 * 3.375 * 50_000 / 6e8 * 1_000)
    assert hp["hashprice_sats_per_th_day"] == pytest.approx(144 * 3.375 * 1e8 / 6e8)


def test_backtest_by_hand() -> None:
    # price 100 + t on days 0..100: the h-day forward return on day t is h / (100 + t)
    idx = pd.date_range("2021-01-01", periods=101, freq="D")
    price = pd.Series(100.0 + np.arange(101), index=idx)
    eligible = pd.Series(True, index=idx)
    bt = backtest_signals(
        price,
        {"a": pd.DatetimeIndex([idx[0], idx[50], idx[90]]), "top": pd.DatetimeIndex([idx[0]])},
        {"a": eligible, "top": eligible},
        horizons=(30,),
        rng=7,
        n_draws=20_000,
    )
    row = bt.table.set_index("signal").loc["a"]
    assert row["n"] == 2  # day 90 has no price 30 days later
    assert row["mean_return"] == pytest.approx((30 / 100 + 30 / 150) / 2)
    assert row["share_positive"] == 1.0
    unconditional = 30 / (100 + np.arange(71))
    assert row["n_unconditional"] == 71
    assert row["mean_unconditional"] == pytest.approx(unconditional.mean())
    assert row["median_unconditional"] == pytest.approx(np.median(unconditional))
    assert row["excess_mean"] == pytest.approx(0.25 - unconditional.mean())
    # a single signal on the best day: a random day matches it with probability 1/71
    top = bt.table.set_index("signal").loc["top"]
    assert top["p_random_mean"] == pytest.approx(1 / 71, abs=0.004)
    events = bt.events[bt.events["signal"] == "a"]
    assert np.isnan(events["return_30d"].iloc[2])


def test_compute_indicators_window_signals_and_summary() -> None:
    history = _ribbon_history()
    out = compute_indicators(history, horizons=(30,), rng=0, n_draws=100)
    assert list(out.signals["hash_ribbon_buy"]) == [_day(121)]
    assert list(out.signals["capitulation_start"]) == [_day(90)]
    assert list(out.signals["capitulation_end"]) == [_day(120)]
    s = out.summary()
    assert s["hash_ribbons"]["episodes"][0]["buy_date"] == _day(121).date().isoformat()
    assert s["latest"]["price_usd"]["value"] == 2000.0
    late = compute_indicators(history, start=_day(130).date().isoformat(), horizons=(30,), rng=0, n_draws=10)
    assert late.frame.index[0] == _day(130) and len(late.signals["hash_ribbon_buy"]) == 0
    with pytest.raises(InputError) as info:
        compute_indicators(history, start="2031-01-01")
    assert info.value.field == "start"
    with pytest.raises(InputError) as info:
        compute_indicators(history, start="yesterday-ish")
    assert info.value.field == "start"


def test_too_short_a_history_for_the_ribbons_names_the_frame() -> None:
    with pytest.raises(InputError) as info:
        hash_ribbons(_ribbon_history().iloc[:59])
    assert info.value.field == "daily" and "60" in info.value.allowed
