"""Coinbase-flow aggregations (`hashrisk.analytics.onchain`) checked by hand on tiny frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hashrisk.analytics.onchain import (
    beside_disclosed_sales,
    first_hop,
    moved_vs_mined,
    onchain_view,
    pool_distribution,
    spent_within,
)

T0 = pd.Timestamp("2026-06-01 06:00", tz="UTC")
BTC = 100_000_000
MATURITY_S = 100 * 600  # 100 confirmations at the 10-minute target


def _blocks(pools: list[str], start: pd.Timestamp = T0) -> pd.DataFrame:
    n = len(pools)
    return pd.DataFrame(
        {
            "height": range(n),
            "time": [start + pd.Timedelta(minutes=10 * i) for i in range(n)],
            "pool": pools,
            "subsidy_sats": [312_500_000] * n,
            "fees_sats": [2_500_000] * n,
            "coinbase_sats": [315_000_000] * n,
        }
    )


def _wilson(k: int, n: int, z: float) -> tuple[float, float]:
    """Wilson (1927) score interval, written out."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_pool_shares_and_wilson_interval() -> None:
    bp = _blocks(["A"] * 5 + ["B"] * 3 + ["unknown"] * 2)
    dist = pool_distribution(bp).set_index("pool")
    assert dist["blocks"].to_dict() == {"A": 5, "B": 3, "unknown": 2}
    assert dist["share"].to_dict() == {"A": 0.5, "B": 0.3, "unknown": 0.2}
    assert list(dist.index) == ["A", "B", "unknown"]  # by blocks, descending
    z = stats.norm.ppf(0.975)
    for pool, k in (("A", 5), ("B", 3), ("unknown", 2)):
        ci = stats.binomtest(k, 10).proportion_ci(confidence_level=0.95, method="wilson")
        lo, hi = _wilson(k, 10, z)
        assert dist.loc[pool, "share_low"] == pytest.approx(ci.low, abs=1e-12) == pytest.approx(lo, abs=1e-9)
        assert (
            dist.loc[pool, "share_high"] == pytest.approx(ci.high, abs=1e-12) == pytest.approx(hi, abs=1e-9)
        )
    assert dist.loc["A", "share_low"] == pytest.approx(0.2365931, abs=1e-6)  # 5 of 10 (Wilson 1927)
    assert dist.loc["A", "share_high"] == pytest.approx(0.7634069, abs=1e-6)
    assert dist.loc["A", "subsidy_btc"] == pytest.approx(15.625) and dist.loc[
        "B", "fees_btc"
    ] == pytest.approx(0.075)
    assert pool_distribution(bp.iloc[:0]).empty


def _outputs(times: list[pd.Timestamp], pools: list[str], values: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "txid": [f"cb{i}" for i in range(len(times))],
            "vout": 0,
            "value_sats": values,
            "pool": pools,
            "time": times,
        }
    )


def test_spent_within_windows_at_the_boundaries() -> None:
    day = pd.Timestamp("2026-06-01", tz="UTC")
    t = day + pd.Timedelta(hours=1)
    outputs = _outputs([t, t, t, t], ["A", "A", "B", "B"], [1 * BTC, 2 * BTC, 4 * BTC, 8 * BTC])
    spends = pd.DataFrame(
        {
            "txid": ["cb0", "cb1", "cb2"],
            "vout": 0,
            "time": [
                t + pd.Timedelta(seconds=MATURITY_S),  # first moment it can move: within 1 day
                t + pd.Timedelta(days=1),  # exactly 1 day: within 1 day (<=)
                t + pd.Timedelta(days=1, seconds=1),  # just after: within 7 days only
            ],
        }
    )
    end = day + pd.Timedelta(days=1)
    last = end + pd.Timedelta(days=7)  # the 1- and 7-day windows are over, the 30-day one is not
    table = spent_within(outputs, spends, last).set_index("pool")
    assert table.loc["all", "mined_btc"] == 15
    assert table.loc["all", "spent_1d_btc"] == 3 and table.loc["all", "share_1d"] == pytest.approx(3 / 15)
    assert table.loc["all", "spent_7d_btc"] == 7 and table.loc["all", "share_7d"] == pytest.approx(7 / 15)
    assert math.isnan(table.loc["all", "share_30d"]) and math.isnan(table.loc["all", "spent_30d_btc"])
    assert table.loc["A", "share_1d"] == 1.0 and table.loc["B", "share_1d"] == 0.0
    assert table.loc["B", "share_7d"] == pytest.approx(4 / 12)
    # one second before the 7-day window closes, its share is not known yet
    early = spent_within(outputs, spends, last - pd.Timedelta(seconds=1)).set_index("pool")
    assert early.loc["all", "share_1d"] == pytest.approx(0.2) and math.isnan(early.loc["all", "share_7d"])
    assert spent_within(outputs, spends, None)["share_1d"].isna().all()


def _spends() -> pd.DataFrame:
    """Day 1: tx s1 spends two A coinbases (3 BTC) to A's address (2.9) and change out (0.0999);
    tx s2 spends one B coinbase (4 BTC) to two exchanges. Day 2: tx s3 spends an A coinbase (1 BTC) out."""
    d1 = pd.Timestamp("2026-06-02 12:00", tz="UTC")
    d2 = d1 + pd.Timedelta(days=1)
    return pd.DataFrame(
        {
            "txid": ["cb0", "cb1", "cb2", "cb3"],
            "vout": 0,
            "spend_txid": ["s1", "s1", "s2", "s3"],
            "time": [d1, d1, d1, d2],
            "n_outputs": [2, 2, 2, 1],
            "value_out_sats": [299_990_000, 299_990_000, 399_990_000, 99_990_000],
            "n_to_pool": [1, 1, 0, 0],
            "value_to_pool_sats": [290_000_000, 290_000_000, 0, 0],
            "value_sats": [1 * BTC, 2 * BTC, 4 * BTC, 1 * BTC],
            "pool": ["A", "A", "B", "A"],
        }
    )


def test_first_hop_consolidation_versus_out() -> None:
    hop = first_hop(_spends())
    day1 = hop[hop["date"] == pd.Timestamp("2026-06-02", tz="UTC")].set_index("pool")
    a = day1.loc["A"]
    assert a["spending_txs"] == 1  # one transaction spending two coinbase outputs counts once
    assert a["coinbase_spent_btc"] == pytest.approx(3.0)
    assert (a["outputs"], a["outputs_consolidation"], a["outputs_out"]) == (2, 1, 1)
    assert a["btc_consolidation"] == pytest.approx(2.9) and a["btc_out_moved"] == pytest.approx(0.0999)
    b = day1.loc["B"]
    assert (b["outputs_consolidation"], b["outputs_out"]) == (0, 2) and b["btc_out_moved"] == pytest.approx(
        3.9999
    )
    total = day1.loc["all"]
    assert total["spending_txs"] == 2 and total["coinbase_spent_btc"] == pytest.approx(7.0)
    assert total["btc_out_moved"] == pytest.approx(0.0999 + 3.9999)
    assert first_hop(_spends().iloc[:0]).empty


def test_moved_vs_mined_and_quarters() -> None:
    bp = _blocks(["A"] * 4, start=pd.Timestamp("2026-06-02 01:00", tz="UTC"))
    moved = moved_vs_mined(bp, _spends())
    d1 = moved.loc[pd.Timestamp("2026-06-02", tz="UTC")]
    assert d1["mined_btc"] == pytest.approx(4 * 3.15)
    assert d1["moved_out_btc"] == pytest.approx(0.0999 + 3.9999) and d1["consolidated_btc"] == pytest.approx(
        2.9
    )
    assert d1["moved_share"] == pytest.approx((0.0999 + 3.9999) / 12.6)
    d2 = moved.loc[pd.Timestamp("2026-06-03", tz="UTC")]
    assert (
        d2["mined_btc"] == 0 and np.isnan(d2["moved_share"]) and d2["moved_out_btc"] == pytest.approx(0.9999)
    )
    totals = pd.DataFrame({"quarter": ["2026Q2"], "btc_sold": [32_000.0], "btc_produced": [20_000.0]})
    side = beside_disclosed_sales(moved, totals).set_index("quarter")
    assert side.loc["2026Q2", "days_scanned"] == 2
    assert side.loc["2026Q2", "moved_out_btc"] == pytest.approx(0.0999 + 3.9999 + 0.9999)
    assert side.loc["2026Q2", "disclosed_sold_btc"] == 32_000.0


def test_view_filters_a_pool() -> None:
    bp = _blocks(["A", "B", "A", "A"], start=pd.Timestamp("2026-06-02 01:00", tz="UTC"))
    outputs = _outputs(list(bp["time"]), list(bp["pool"]), [315_000_000] * 4)
    data = {"block_pools": bp, "outputs": outputs, "spends": _spends(), "last_time": bp["time"].max()}
    view = onchain_view(data, pool="a")
    assert view.pool == "A" and view.blocks == 4
    assert view.distribution["share"].tolist() == [0.75]
    assert view.moved["mined_btc"].sum() == pytest.approx(3 * 3.15)
    assert set(view.first_hop["pool"]) == {"A"}
    out = view.to_dict()
    assert out["distribution"][0]["pool"] == "A" and isinstance(out["moved_vs_mined"][0]["date"], str)
