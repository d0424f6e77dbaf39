"""Hash ribbons on the real Coin Metrics history (../shared/data, read in place; skipped when absent).

Published check: Charles Edwards (@caprioleio), 20 August 2022: "The #Bitcoin miner capitulation has
officially ended today, making it the 3rd longest capitulation in history at 71 days. This capitulation
zone was longer than 2021, and just two days shorter than 2018's" (reported by u.today the same day).
So: end 2022-08-20, start about 2022-06-10 (71 days earlier), the 2018 episode about 73 days long, and the
2021 one shorter than 71 days. Edwards' hashrate source is not Coin Metrics', so dates may differ by a few
days; the tests allow three.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from hashrisk.analytics.indicators import hash_ribbons
from hashrisk.cli.main import app
from hashrisk.data.files import import_file
from hashrisk.data.store import Store

CM_HISTORY = "btc_daily_coinmetrics_2009-01-03_to_2025-09-26.csv"
PUBLISHED_END_2022 = pd.Timestamp("2022-08-20")
PUBLISHED_DAYS_2022 = 71
PUBLISHED_DAYS_2018 = 73
TOLERANCE_DAYS = 3


@pytest.fixture(scope="module")
def history_home(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("analytics-reference")
    import_file(shared_data / CM_HISTORY, home=home)
    return home


@pytest.fixture(scope="module")
def daily(history_home: Path) -> pd.DataFrame:
    with Store(history_home, read_only=True) as store:
        return store.daily_frame()


def _episode_containing(episodes: pd.DataFrame, day: str) -> pd.Series:
    t = pd.Timestamp(day)
    hit = episodes[(episodes["start"] <= t) & ((episodes["end"] > t) | episodes["end"].isna())]
    assert len(hit) == 1, f"no single capitulation episode contains {day}"
    return hit.iloc[0]


def test_2022_capitulation_ends_as_published(daily: pd.DataFrame) -> None:
    episodes = hash_ribbons(daily).episodes
    ep = _episode_containing(episodes, "2022-07-01")
    assert abs((ep["end"] - PUBLISHED_END_2022).days) <= TOLERANCE_DAYS
    assert abs(ep["days"] - PUBLISHED_DAYS_2022) <= TOLERANCE_DAYS
    published_start = PUBLISHED_END_2022 - pd.Timedelta(days=PUBLISHED_DAYS_2022)
    assert abs((ep["start"] - published_start).days) <= TOLERANCE_DAYS
    # Edwards announced the buy signal the same day: positive momentum at the end
    assert abs((ep["buy_date"] - PUBLISHED_END_2022).days) <= TOLERANCE_DAYS
    # one episode from June to August, as published: the July flicker of the daily estimate is merged
    assert ep["start"] < pd.Timestamp("2022-06-20") and ep["end"] > pd.Timestamp("2022-08-10")


def test_raw_crossings_split_the_published_2022_episode(daily: pd.DataFrame) -> None:
    """Without the minimum-recovery rule the noisy daily estimate breaks the 71 days into two episodes."""
    episodes = hash_ribbons(daily, min_recovery_days=1).episodes
    in_2022 = episodes[(episodes["start"] >= "2022-06-01") & (episodes["start"] < "2022-08-20")]
    assert len(in_2022) == 2
    assert abs((in_2022["end"].iloc[-1] - PUBLISHED_END_2022).days) <= TOLERANCE_DAYS


def test_2018_and_2021_lengths_as_published(daily: pd.DataFrame) -> None:
    episodes = hash_ribbons(daily).episodes
    ep2018 = _episode_containing(episodes, "2018-12-01")
    assert abs(ep2018["days"] - PUBLISHED_DAYS_2018) <= TOLERANCE_DAYS
    ep2021 = _episode_containing(episodes, "2021-07-01")
    assert ep2021["days"] < PUBLISHED_DAYS_2022


def test_indicators_command_on_the_real_store(history_home: Path, shared_data: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["indicators", "--json", "--home", str(history_home), "--start", "2022-01-01", "--end", "2022-12-31"],
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    ends = [e["end"] for e in summary["hash_ribbons"]["episodes"] if e["start"] and e["start"] < "2022-08-01"]
    assert any(abs((pd.Timestamp(e) - PUBLISHED_END_2022).days) <= TOLERANCE_DAYS for e in ends if e)
    # Puell multiple on 2022-12-31 from the file's own IssTotUSD column: that day over its 365-day mean
    with (shared_data / CM_HISTORY).open(newline="", encoding="utf-8-sig") as handle:
        rows = {r["date"][:10]: r["IssTotUSD"] for r in csv.DictReader(handle)}
    year = [float(rows[d.date().isoformat()]) for d in pd.date_range("2022-01-01", "2022-12-31")]
    assert len(year) == 365
    latest = summary["latest"]["puell_multiple"]
    assert latest["date"] == "2022-12-31"
    assert latest["value"] == pytest.approx(year[-1] / (sum(year) / 365), rel=1e-9)
