"""Stores for the history tests: a synthetic one (stated formulas, no real data) and the real Coin Metrics
daily file imported into a private folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hashrisk.data.files import import_file
from hashrisk.data.store import Store

COINMETRICS_CSV = "btc_daily_coinmetrics_2009-01-03_to_2025-09-26.csv"


def synthetic_daily(start: str = "2021-01-01", days: int = 900, crash_day: int = 700) -> pd.DataFrame:
    """A daily frame shaped like ``Store.daily_frame()``: 144 blocks a day, 6.25 BTC subsidy per block,
    difficulty from hashrate by the Coin Metrics identity, a price that halves over 30 days from
    `crash_day` (so the share underwater rises through its levels) and hashrate that falls after it."""
    index = pd.date_range(start, periods=days, freq="D", tz="UTC", name="date")
    t = np.arange(days)
    price = 40_000.0 * np.exp(0.0004 * t)
    price = np.where(t >= crash_day, price * np.maximum(0.5, 1 - 0.5 * (t - crash_day) / 30), price)
    rate = 1.5e8 * np.exp(0.001 * t)
    rate = np.where(t >= crash_day + 20, rate * 0.8, rate)
    blocks = 144
    return pd.DataFrame(
        {
            "price_usd": price,
            "hashrate_ths": rate,
            "difficulty": rate * 1e12 * 86_400 / (2**32 * blocks),
            "blocks": pd.array([blocks] * days, dtype="Int64"),
            "fees_btc": np.full(days, 0.1 * blocks),
            "subsidy_btc": np.full(days, 6.25 * blocks),
        },
        index=index,
    )


def write_synthetic(home: Path, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Write `frame` (default :func:`synthetic_daily`) to the store in `home`; returns it."""
    daily = synthetic_daily() if frame is None else frame
    with Store(home) as store:
        store.upsert_daily(daily, source="synthetic")
    return daily


def import_real(home: Path, shared_data: Path) -> None:
    """Import the real Coin Metrics daily file into the store in `home`."""
    import_file(shared_data / COINMETRICS_CSV, home=home)
