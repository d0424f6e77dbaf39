"""The tracking history and "what changed": hand-built cases on synthetic frames, and the real 2022 events.

Real data (../shared/data, read in place, skipped when absent): the Coin Metrics daily history and the
mempool.space retarget export, read with :func:`hashrisk.data.files.read_file`.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hashrisk.analytics.history import DAILY_COLUMNS
from hashrisk.analytics.indicators import compute_indicators, hash_ribbons
from hashrisk.analytics.tracking import (
    COST_COLUMNS,
    HISTORY_COLUMNS,
    ChangeRules,
    History,
    HistorySettings,
    changes,
    tracking_history,
)
from hashrisk.data.files import read_file
from hashrisk.economics.cost import cost_curve, production_cost
from hashrisk.economics.fleet import build_fleet, dated_fleet_spec, profitable_basket
from hashrisk.errors import InputError

CM_HISTORY = "btc_daily_coinmetrics_2009-01-03_to_2025-09-26.csv"
MEMPOOL = "btc_mempool_hashrate_difficulty_2009-01-03_to_2025-03-22.json"
DIFFICULTY = 80e12
BLOCKS = 144.0
SUBSIDY = 3.125
FEES_PER_BLOCK = 0.02


def synthetic(days: int, start: str = "2024-07-01", price: float = 60_000.0) -> pd.DataFrame:
    """A flat daily frame: constant difficulty, 144 blocks a day, subsidy 3.125 and fees 0.02 BTC/block."""
    index = pd.date_range(start, periods=days, freq="D", tz="UTC", name="date")
    return pd.DataFrame(
        {
            "price_usd": price,
            "hashrate_ths": 600e6,
            "difficulty": DIFFICULTY,
            "blocks": BLOCKS,
            "fees_btc": FEES_PER_BLOCK * BLOCKS,
            "subsidy_btc": SUBSIDY * BLOCKS,
        },
        index=index,
    )


def _of(events: list, rule: str) -> list:  # type: ignore[type-arg]
    return [e for e in events if e.rule == rule]


# ------------------------------------------------------------------------------------------ history
def test_frame_shape_calendar_and_columns() -> None:
    daily = synthetic(31).drop(pd.Timestamp("2024-07-10", tz="UTC"))
    h = tracking_history(daily, end=dt.date(2024, 8, 3))
    assert tuple(h.frame.columns) == HISTORY_COLUMNS
    assert isinstance(h.frame.index, pd.DatetimeIndex) and h.frame.index.tz is None
    assert len(h.frame) == 34 and h.frame.index.is_monotonic_increasing
    assert h.frame.loc["2024-07-10"].drop("capitulation").isna().all()  # a missing day is a NaN row
    assert h.as_of == dt.date(2024, 7, 31)  # the newest day with data, not the window's end
    assert h.frame["capitulation"].dtype == bool
    assert h.frame.loc["2024-07-07":"2024-07-09", "hashrate_7d_ths"].notna().all()
    assert np.isnan(h.frame.loc["2024-07-06", "hashrate_7d_ths"])  # 7-day SMA needs 7 days
    s = h.summary()
    assert s["as_of"] == "2024-07-31" and s["days"] == 34 and s["first_cost_day"] == "2024-07-01"
    thin = h.thinned(10)
    assert len(thin) <= 10 and thin.index[-1] == h.frame.index[-1]
    with pytest.raises(InputError):
        h.thinned(1)


def test_cost_columns_match_the_one_day_economics() -> None:
    """Each cost column equals what production_cost / profitable_basket / cost_curve give for that day."""
    h = tracking_history(synthetic(5))
    day = dt.date(2024, 7, 3)
    row = h.frame.loc[pd.Timestamp(day)]

    @dataclass(frozen=True)
    class State:
        date: dt.date
        price_usd: float
        difficulty: float
        hashrate_ths: float
        fees_btc_per_block: float
        subsidy_btc: float

    state = State(day, 60_000.0, DIFFICULTY, 600e6, FEES_PER_BLOCK, SUBSIDY)
    fleet = build_fleet(dated_fleet_spec(day), 600e6)
    pc = production_cost(state, fleet, 0.05)
    assert row["cost_all_in_usd_per_btc"] == pytest.approx(pc.all_in["total"], rel=1e-12)
    basket = profitable_basket(
        hashprice_usd_per_ph_day=pc.hashprice_usd_per_ph_day,
        power_price_usd_per_kwh=0.05,
        difficulty=DIFFICULTY,
        subsidy_btc=SUBSIDY,
        fees_btc_per_block=FEES_PER_BLOCK,
        released_by=pd.Period(day, freq="M"),
    )
    assert row["cost_electricity_lower_usd_per_btc"] == pytest.approx(
        basket["lower"].electricity_cost_usd_per_btc, rel=1e-12
    )
    assert row["cost_electricity_best_usd_per_btc"] == pytest.approx(
        basket["best_guess"].electricity_cost_usd_per_btc, rel=1e-12
    )
    assert row["cost_electricity_upper_usd_per_btc"] == pytest.approx(
        basket["upper"].electricity_cost_usd_per_btc, rel=1e-12
    )
    curve = cost_curve(fleet, DIFFICULTY, SUBSIDY, FEES_PER_BLOCK)
    assert row["share_underwater"] == pytest.approx(float(curve.share_unprofitable(60_000.0)), abs=1e-12)
    assert row["share_within_10pct"] == pytest.approx(float(curve.share_within(60_000.0, 0.10)), abs=1e-12)
    assert row["hashprice_usd_per_ph_day"] == pytest.approx(pc.hashprice_usd_per_ph_day, rel=1e-12)
    assert row["revenue_subsidy_usd"] == pytest.approx(SUBSIDY * BLOCKS * 60_000.0)
    assert row["revenue_fees_usd"] == pytest.approx(FEES_PER_BLOCK * BLOCKS * 60_000.0)


def test_costs_are_nan_before_the_catalog() -> None:
    h = tracking_history(synthetic(5, start="2011-03-01", price=1.0))
    assert h.frame[list(COST_COLUMNS)].isna().all().all()
    assert h.frame[["share_underwater", "share_within_10pct"]].isna().all().all()
    assert h.frame["hashprice_usd_per_ph_day"].notna().all()
    assert "NaN before" in h.sources["catalog"]
    assert h.summary()["first_cost_day"] is None


def test_bad_inputs_name_the_field() -> None:
    with pytest.raises(InputError) as info:
        tracking_history(synthetic(5), start=dt.date(2024, 7, 4), end=dt.date(2024, 7, 2))
    assert info.value.field == "end"
    with pytest.raises(InputError) as info:
        tracking_history(synthetic(5), settings=HistorySettings(power_price_usd_per_kwh=-1.0))
    assert info.value.field == "power_price_usd_per_kwh"
    with pytest.raises(InputError):
        tracking_history(synthetic(5).drop(columns="blocks"))


# ------------------------------------------------------------------------------------------ changes
def _all_in_cost(days: int = 31) -> float:
    costs = tracking_history(synthetic(days)).frame["cost_all_in_usd_per_btc"]
    assert costs.nunique() == 1  # one month, one fleet, one difficulty
    return float(costs.iloc[0])


def test_price_crossing_a_cost_line_gives_one_event_on_that_day() -> None:
    cost = _all_in_cost()
    daily = synthetic(31, price=1.2 * cost)
    daily.loc[daily.index >= pd.Timestamp("2024-07-10", tz="UTC"), "price_usd"] = 0.8 * cost
    h = tracking_history(daily)
    events = _of(changes(h, since=dt.date(2024, 7, 1)), "price_vs_cost_all_in")
    assert [(e.day, e.kind) for e in events] == [(dt.date(2024, 7, 10), "price_below_cost")]
    assert events[0].numbers["price_usd"] == pytest.approx(0.8 * cost)
    assert events[0].numbers["cost_usd_per_btc"] == pytest.approx(cost)
    # outside the asked window: nothing
    assert not _of(changes(h, since=dt.date(2024, 7, 11)), "price_vs_cost_all_in")
    assert not _of(changes(h, since=dt.date(2024, 7, 1), until=dt.date(2024, 7, 9)), "price_vs_cost_all_in")


def test_share_crossing_20pct_up_then_down_gives_two_events() -> None:
    cost = _all_in_cost()
    daily = synthetic(31, price=10 * cost)
    low = (daily.index >= pd.Timestamp("2024-07-05", tz="UTC")) & (
        daily.index < pd.Timestamp("2024-07-12", tz="UTC")
    )
    daily.loc[low, "price_usd"] = 0.3 * cost
    h = tracking_history(daily)
    assert (
        h.frame.loc["2024-07-05", "share_underwater"]
        > 0.5
        > 0.0
        == h.frame.loc["2024-07-04", "share_underwater"]
    )
    events = _of(changes(h, since=dt.date(2024, 7, 1)), "share_underwater_20pct")
    assert [(e.day, e.kind) for e in events] == [
        (dt.date(2024, 7, 5), "share_underwater_up"),
        (dt.date(2024, 7, 12), "share_underwater_down"),
    ]
    # a custom level list only fires its own levels
    rules = ChangeRules(share_underwater_levels=(0.5,))
    fired = {e.rule for e in changes(h, since=dt.date(2024, 7, 1), rules=rules) if e.kind.startswith("share")}
    assert fired == {"share_underwater_50pct"}


def test_gap_of_three_days_gives_one_event() -> None:
    daily = synthetic(20)
    gap = pd.date_range("2024-07-08", periods=3, freq="D", tz="UTC")
    daily = daily.drop(gap).drop(pd.Timestamp("2024-07-15", tz="UTC"))  # and a 1-day gap: below gap_days
    events = _of(changes(tracking_history(daily), since=dt.date(2024, 7, 1)), "gap_2d")
    assert len(events) == 1
    e = events[0]
    assert e.day == dt.date(2024, 7, 8) and e.kind == "data_gap"
    assert e.numbers == {"days": 3, "first": "2024-07-08", "last": "2024-07-10"}


def test_new_all_time_high_hashprice() -> None:
    daily = synthetic(400, start="2023-06-01")
    spike = pd.Timestamp("2024-06-20", tz="UTC")
    daily.loc[spike, "price_usd"] *= 2.0
    h = tracking_history(daily)
    events = [e for e in changes(h, since=dt.date(2023, 6, 1)) if e.kind.startswith("hashprice")]
    assert [(e.day, e.kind, e.rule) for e in events] == [
        (dt.date(2024, 6, 20), "hashprice_high", "hashprice_all_time")
    ]
    hp = float(h.frame.loc["2024-06-20", "hashprice_usd_per_ph_day"])
    assert events[0].numbers["hashprice_usd_per_ph_day"] == pytest.approx(hp)
    assert events[0].numbers["previous_record_usd_per_ph_day"] == pytest.approx(hp / 2.0)


def test_events_are_ordered_by_day_then_rule() -> None:
    cost = _all_in_cost()
    daily = synthetic(31, price=10 * cost)
    daily.loc[daily.index >= pd.Timestamp("2024-07-10", tz="UTC"), "price_usd"] = 0.3 * cost
    events = changes(tracking_history(daily), since=dt.date(2024, 7, 1))
    keys = [(e.day, e.rule) for e in events]
    assert keys == sorted(keys) and len(events) >= 4
    assert all(e.message and e.numbers for e in events)
    assert events[0].to_dict()["day"] == events[0].day.isoformat()


# ------------------------------------------------------------------------------------------ real data
@pytest.fixture(scope="module")
def real(shared_data: Path) -> tuple[pd.DataFrame, pd.DataFrame, History]:
    daily, _ = read_file(shared_data / CM_HISTORY)
    _, meta = read_file(shared_data / MEMPOOL)
    retargets = meta["tables"]["retargets"]
    t0 = time.perf_counter()
    history = tracking_history(daily, retargets)
    elapsed = time.perf_counter() - t0
    assert elapsed < 10.0, f"the whole history took {elapsed:.1f} s"
    return daily, retargets, history


def test_real_history_reaches_back_and_is_complete(real: tuple[pd.DataFrame, pd.DataFrame, History]) -> None:
    daily, _, h = real
    assert len(h.frame) == (daily.index[-1] - daily.index[0]).days + 1
    first_cost = pd.Timestamp(h.summary()["first_cost_day"])
    assert first_cost <= pd.Timestamp("2014-01-01")  # the dated fleet reaches back to 2014
    assert h.frame.loc[:first_cost, "cost_all_in_usd_per_btc"].iloc[:-1].isna().all()
    after = h.frame.loc["2016-01-01":, ["share_underwater", "cost_all_in_usd_per_btc"]].dropna()
    assert len(after) > 3000 and after["share_underwater"].between(0, 1).all()


def test_real_2022_capitulation_matches_the_indicators(
    real: tuple[pd.DataFrame, pd.DataFrame, History],
) -> None:
    daily, _, h = real
    events = changes(h, since=dt.date(2022, 5, 1), until=dt.date(2022, 12, 31))
    eps = hash_ribbons(daily).episodes
    ep = eps[(eps["start"] <= "2022-07-01") & (eps["end"] > "2022-07-01")].iloc[0]
    starts = [e.day for e in events if e.kind == "capitulation_start"]
    ends = [e for e in events if e.kind == "capitulation_end"]
    assert ep["start"].date() in starts
    assert [e.day for e in ends] == [ep["end"].date()]
    ind = compute_indicators(daily, start="2022-05-01", n_draws=10, rng=1)
    sig_start = [d.date() for d in ind.signals["capitulation_start"] if d.year == 2022]
    sig_end = [d.date() for d in ind.signals["capitulation_end"] if d.year == 2022]
    assert sig_start == starts
    assert [e.numbers["known_end"] for e in ends] == [d.isoformat() for d in sig_end]


def test_real_2022_retargets_match_the_stored_difficulties(
    real: tuple[pd.DataFrame, pd.DataFrame, History],
) -> None:
    _, retargets, h = real
    events = [
        e for e in changes(h, since=dt.date(2022, 5, 1), until=dt.date(2022, 12, 31)) if e.kind == "retarget"
    ]
    rt = retargets.set_index("height")["difficulty"]
    times = pd.to_datetime(retargets["time"])
    expected = retargets[(times >= "2022-05-01") & (times < "2023-01-01")]
    assert [e.numbers["height"] for e in events] == [int(x) for x in expected["height"]]
    for e in events:
        height = int(e.numbers["height"])  # type: ignore[arg-type]
        assert e.numbers["difficulty"] == rt[height]
        assert e.numbers["change"] == pytest.approx(rt[height] / rt[height - 2016] - 1.0, rel=1e-12)
        est = e.numbers["estimated_change"]
        assert est is not None and abs(float(est) - float(e.numbers["change"])) < 0.08  # type: ignore[arg-type]
    big = {e.numbers["height"]: e.numbers["change"] for e in events}
    assert big[758_016] == pytest.approx(0.1355, abs=5e-4)  # the +13.55% retarget of 10 October 2022


def test_synthetic_columns_cover_daily_columns() -> None:
    assert set(DAILY_COLUMNS) <= set(synthetic(1).columns)
