"""hashrisk.analytics.history: input checks, cycles, hashprice series, spells, weekly means."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from analytics_synth import network_frame

from hashrisk.analytics.history import (
    DAILY_COLUMNS,
    check_daily,
    cycle_labels,
    hashprice_series,
    spells,
    weekly_means,
)
from hashrisk.errors import InputError


def _frame(n: int = 10) -> pd.DataFrame:
    return network_frame(np.full(n, 60_000.0), np.full(n, 6e8))


# ------------------------------------------------------------------------------------- check_daily
def test_missing_column_is_named() -> None:
    with pytest.raises(InputError) as info:
        check_daily(_frame().drop(columns="hashrate_ths"), DAILY_COLUMNS)
    assert info.value.field == "daily.hashrate_ths"


def test_unsorted_dates_are_rejected_with_the_first_out_of_order_day() -> None:
    frame = _frame()
    swapped = frame.iloc[[0, 1, 3, 2, 4]]
    with pytest.raises(InputError) as info:
        check_daily(swapped, DAILY_COLUMNS)
    assert info.value.field == "daily.index"
    assert info.value.value == "2020-01-08"  # the 4th day comes back after the 5th


def test_duplicate_dates_are_rejected() -> None:
    frame = _frame()
    with pytest.raises(InputError) as info:
        check_daily(pd.concat([frame.iloc[:3], frame.iloc[2:4]]), DAILY_COLUMNS)
    assert info.value.field == "daily.index" and info.value.value == "2020-01-08"


@pytest.mark.parametrize(
    ("column", "value"), [("price_usd", 0.0), ("hashrate_ths", -1.0), ("fees_btc", np.inf)]
)
def test_out_of_range_values_name_the_column(column: str, value: float) -> None:
    frame = _frame()
    frame.loc[frame.index[4], column] = value
    with pytest.raises(InputError) as info:
        check_daily(frame, DAILY_COLUMNS)
    assert info.value.field == f"daily.{column}"


def test_non_frames_and_non_date_indexes_are_rejected() -> None:
    with pytest.raises(InputError) as info:
        check_daily([1, 2, 3], DAILY_COLUMNS)  # type: ignore[arg-type]
    assert info.value.field == "daily"
    with pytest.raises(InputError) as info:
        check_daily(_frame().reset_index(drop=True), DAILY_COLUMNS)
    assert info.value.field == "daily.index"


def test_missing_days_become_nan_rows_on_a_complete_calendar() -> None:
    frame = _frame(10).drop(index=_frame(10).index[[3, 4]])
    out = check_daily(frame, ["price_usd", "blocks"])
    assert len(out) == 10 and out.index.tz is None
    assert out["price_usd"].isna().sum() == 2 and out["blocks"].dtype == np.float64


# ------------------------------------------------------------------------------------- cycles
def test_cycle_labels_switch_on_halving_days() -> None:
    days = pd.DatetimeIndex(
        ["2012-11-27", "2012-11-28", "2020-05-10", "2020-05-11", "2024-04-19", "2024-04-20"]
    )
    assert list(cycle_labels(days)) == [
        "2009-2012",
        "2012-2016",
        "2016-2020",
        "2020-2024",
        "2020-2024",
        "2024-",
    ]


# ------------------------------------------------------------------------------------- hashprice
def test_hashprice_by_hand_and_equal_to_revenue_over_hashrate() -> None:
    # 144 blocks, subsidy 3.125 BTC and fees 0.1 BTC per block, price $60,000, hashrate 600 EH/s
    frame = network_frame([60_000.0], [6e8], fees_per_block=0.1)
    d = check_daily(frame, DAILY_COLUMNS)
    difficulty = 6e8 * 1e12 * 86_400 / (2**32 * 144)
    by_hand = 1_000 * 86_400e12 * (3.125 + 0.1) / (difficulty * 2**32) * 60_000
    revenue_usd_per_ph = (144 * (3.125 + 0.1) * 60_000) / (6e8 / 1_000)
    got = float(hashprice_series(d).iloc[0])
    assert got == pytest.approx(by_hand, rel=1e-12)
    assert got == pytest.approx(revenue_usd_per_ph, rel=1e-12)


def test_hashprice_is_nan_without_blocks_or_fees() -> None:
    frame = network_frame([60_000.0, 60_000.0], [6e8, 6e8])
    frame["fees_btc"] = [np.nan, 1.0]
    frame["blocks"] = pd.array([144, 0], dtype="Int64")
    assert hashprice_series(check_daily(frame, DAILY_COLUMNS)).isna().all()


# ------------------------------------------------------------------------------------- spells
def _bools(pattern: str) -> pd.Series:
    index = pd.date_range("2022-01-01", periods=len(pattern), freq="D")
    return pd.Series([c == "T" for c in pattern], index=index)


def test_spells_split_and_merge_by_gap_length() -> None:
    state = _bools("TTFTTFFFT")  # runs at 0-1, 3-4 (gap 1), 8 (gap 3, still running at the end)
    raw = spells(state, 1)
    assert list(raw["start"].dt.day) == [1, 4, 9]
    assert list(raw["days"]) == [2, 2, 1] and list(raw["ongoing"]) == [False, False, True]
    merged = spells(state, 2)  # the 1-day gap is noise, the 3-day gap is not
    assert list(merged["start"].dt.day) == [1, 9]
    assert merged["end"].iloc[0] == pd.Timestamp("2022-01-06") and merged["days"].iloc[0] == 5
    assert list(spells(state, 4)["start"].dt.day) == [1]


def test_spells_treat_undefined_days_as_false() -> None:
    state = pd.Series([None, True, True, None], index=pd.date_range("2022-01-01", periods=4), dtype=object)
    out = spells(state, 1)
    assert len(out) == 1 and out["start"].iloc[0] == pd.Timestamp("2022-01-02") and out["days"].iloc[0] == 2


# ------------------------------------------------------------------------------------- weekly means
def test_weekly_means_keep_only_complete_weeks() -> None:
    # 2020-01-06 is a Monday: two full weeks, then three days of a third
    frame = network_frame(np.arange(1.0, 18.0), np.full(17, 6e8))
    w = weekly_means(check_daily(frame, DAILY_COLUMNS), ["price_usd"])
    assert w["price_usd"].iloc[0] == pytest.approx(4.0) and w["price_usd"].iloc[1] == pytest.approx(11.0)
    assert np.isnan(w["price_usd"].iloc[2])
    assert w.index[0] == pd.Timestamp("2020-01-12")  # labelled by the Sunday
