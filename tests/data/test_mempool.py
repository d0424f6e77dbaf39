"""mempool.space connector against a local server serving the backend's real JSON shapes (127.0.0.1)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from servers import Reply, RouteServer

from hashrisk.data import mempool
from hashrisk.data.http import HttpOptions, RetryPolicy
from hashrisk.data.store import Store
from hashrisk.data.sync import fetch
from hashrisk.errors import DataError, InputError

DAY = 86_400
T0 = 1_780_272_000  # 2026-06-01 00:00:00 UTC

# /api/v1/mining/hashrate/:period (HashratesRepository.$getNetworkDailyHashrate + difficulty adjustments)
HASHRATE = {
    "hashrates": [
        {"timestamp": T0 - 2 * DAY, "avgHashrate": 9.60e20},
        {"timestamp": T0 - DAY, "avgHashrate": 9.75e20},
        {"timestamp": T0, "avgHashrate": 9.80e20},
    ],
    "difficulty": [
        {"time": T0 - 5 * DAY, "height": 951_552, "difficulty": 138955357012247.0, "adjustment": 0.9812},
    ],
    "currentHashrate": 9.9e20,
    "currentDifficulty": 138955357012247.0,
}
# /api/v1/mining/difficulty-adjustments: [time, height, difficulty, adjustment], newest first
ADJUSTMENTS = [
    [T0 - 5 * DAY, 951_552, 138955357012247.0, 0.9812],
    [T0 - 19 * DAY, 949_536, 141616925365784.4, 1.0213],
    [1_231_006_505, 0, 1.0, 0.0],
]
# /api/v1/difficulty-adjustment (difficulty-adjustment.ts; times in ms)
DA = {
    "progressPercent": 45.5,
    "difficultyChange": -1.25,
    "estimatedRetargetDate": (T0 + 7 * DAY) * 1000,
    "remainingBlocks": 1099,
    "remainingTime": 1099 * 607_000,
    "previousRetarget": -1.88,
    "previousTime": T0 - 5 * DAY,
    "nextRetargetHeight": 953_568,
    "timeAvg": 607_000,
    "adjustedTimeAvg": 606_500,
    "timeOffset": 0,
    "expectedBlocks": 910.2,
}


def block(height: int, fees: int, ts: int) -> dict[str, Any]:
    """One /api/v1/blocks entry (esplora block + mempool extras)."""
    return {
        "id": f"{height:064x}",
        "height": height,
        "version": 0x20000000,
        "timestamp": ts,
        "bits": 0x17022B91,
        "nonce": 12345,
        "difficulty": 138955357012247.0,
        "merkle_root": "ab" * 32,
        "tx_count": 3500,
        "size": 1_600_000,
        "weight": 3_990_000,
        "previousblockhash": f"{height - 1:064x}",
        "mediantime": ts - 3000,
        "extras": {
            "totalFees": fees,
            "medianFee": 2.1,
            "feeRange": [1, 2, 3],
            "reward": 312_500_000 + fees,
            "pool": {"id": 111, "name": "Foundry USA", "slug": "foundryusa"},
            "avgFee": 600,
            "avgFeeRate": 2,
        },
    }


BLOCKS = [block(952_600 - i, 2_000_000 + i, T0 - 600 * i) for i in range(15)]
FEES = [
    {"avgHeight": 952_000, "timestamp": T0 - DAY, "avgFees": 2_300_000, "USD": 70_500},
    {"avgHeight": 952_144, "timestamp": T0, "avgFees": 2_250_000, "USD": 71_329},
]
PRICES = {
    "prices": [
        {"time": T0 + 3600, "USD": 71_500, "EUR": 65_000},
        {"time": T0 - 3600, "USD": 71_329, "EUR": 64_900},
        {"time": T0 - 20 * 3600, "USD": 70_000, "EUR": 63_700},
        {"time": T0 - 3 * DAY, "USD": -1, "EUR": -1},
    ],
    "exchangeRates": {"USDEUR": 0.91},
}

FAST = HttpOptions(timeout_s=2.0, sleep=lambda s: None)


@pytest.fixture()
def srv() -> Iterator[RouteServer]:
    with RouteServer() as server:
        for period in mempool.PERIODS:
            server.json(f"/api/v1/mining/hashrate/{period}", HASHRATE)
        server.json("/api/v1/mining/difficulty-adjustments", ADJUSTMENTS)
        server.json("/api/v1/difficulty-adjustment", DA)
        server.json("/api/v1/blocks/952600", BLOCKS)
        server.json("/api/v1/mining/blocks/fees/1m", FEES)
        server.json("/api/v1/historical-price", PRICES)
        yield server


def base(server: RouteServer) -> str:
    return f"{server.url}/api"


def test_hashrate_is_converted_from_h_to_th(srv: RouteServer) -> None:
    frame, meta = mempool.get_hashrate("all", base_url=base(srv), options=FAST)
    assert frame["hashrate_ths"].tolist() == pytest.approx([9.60e8, 9.75e8, 9.80e8])
    assert frame.index[-1] == pd.Timestamp("2026-06-01", tz="UTC")
    assert meta["source"] == "mempool" and meta["urls"] == [f"{base(srv)}/v1/mining/hashrate/all"]


def test_difficulty_adjustments(srv: RouteServer) -> None:
    frame, _ = mempool.get_difficulty_adjustments(base_url=base(srv), options=FAST)
    assert frame["height"].tolist() == [0, 949_536, 951_552]
    assert frame.loc[frame["height"] == 951_552, "adjustment"].item() == 0.9812
    assert frame.index[-1] == pd.Timestamp(T0 - 5 * DAY, unit="s", tz="UTC")


def test_difficulty_adjustment_units(srv: RouteServer) -> None:
    frame, _ = mempool.get_difficulty_adjustment(base_url=base(srv), options=FAST)
    row = frame.iloc[0]
    assert row["time_avg_s"] == 607.0 and row["adjusted_time_avg_s"] == 606.5
    assert row["remaining_time_s"] == pytest.approx(1099 * 607.0)
    assert row["estimated_retarget_time"] == pd.Timestamp(T0 + 7 * DAY, unit="s", tz="UTC")
    assert row["previous_time"] == pd.Timestamp(T0 - 5 * DAY, unit="s", tz="UTC")
    assert row["next_retarget_height"] == 953_568 and row["difficulty_change_pct"] == -1.25


def test_difficulty_adjustment_without_newer_fields() -> None:
    old = {k: v for k, v in DA.items() if k not in ("previousTime", "adjustedTimeAvg", "expectedBlocks")}
    frame = mempool.parse_difficulty_adjustment(old, as_of_s=T0)
    assert pd.isna(frame["previous_time"].iloc[0]) and pd.isna(frame["expected_blocks"].iloc[0])


def test_blocks(srv: RouteServer) -> None:
    frame, _ = mempool.get_blocks(952_600, base_url=base(srv), options=FAST)
    assert frame["height"].tolist() == list(range(952_586, 952_601))
    last = frame.iloc[-1]
    assert last["fees_sats"] == 2_000_000 and last["subsidy_sats"] == 312_500_000
    assert last["pool"] == "foundryusa" and last["bits"] == 0x17022B91
    assert frame.index[-1] == pd.Timestamp(T0, unit="s", tz="UTC")


def test_block_fees(srv: RouteServer) -> None:
    frame, _ = mempool.get_block_fees("1m", base_url=base(srv), options=FAST)
    assert frame["avg_fees_btc"].tolist() == [0.023, 0.0225]
    assert frame["price_usd"].iloc[-1] == 71_329


def test_historical_price_drops_missing_and_sorts(srv: RouteServer) -> None:
    frame, _ = mempool.get_historical_price(base_url=base(srv), options=FAST)
    assert frame["price_usd"].tolist() == [70_000, 71_329, 71_500]
    assert "price_eur" in frame.columns
    frame, _ = mempool.get_historical_price("EUR", base_url=base(srv), options=FAST)
    assert srv.hits("/api/v1/historical-price")[-1].query == {"currency": ["EUR"]}


def test_bad_period_is_an_input_error() -> None:
    with pytest.raises(InputError, match="period"):
        mempool.get_hashrate("forever", options=FAST)


@pytest.mark.parametrize(
    ("path", "call", "body", "where"),
    [
        ("/api/v1/mining/difficulty-adjustments", "adjustments", [[1, 2, 3]], r"\[0\]"),
        ("/api/v1/mining/difficulty-adjustments", "adjustments", [[1, "x", 3, 1]], r"\[0\]\.height"),
        ("/api/v1/mining/difficulty-adjustments", "adjustments", {"a": 1}, "expected a JSON array"),
        ("/api/v1/difficulty-adjustment", "da", {**DA, "timeAvg": "fast"}, r"timeAvg"),
        ("/api/v1/blocks/952600", "blocks", [{**BLOCKS[0], "height": None}], r"\[0\]\.height"),
        ("/api/v1/blocks/952600", "blocks", [{**BLOCKS[0], "extras": []}], r"\[0\]\.extras"),
        ("/api/v1/historical-price", "price", {"prices": [{"time": 1, "USD": True}]}, r"prices\[0\]\.USD"),
        (
            "/api/v1/mining/hashrate/all",
            "hashrate",
            {"hashrates": [{"timestamp": "x", "avgHashrate": 1}]},
            "hash",
        ),
        ("/api/v1/mining/hashrate/all", "hashrate", [1, 2], "hashrates"),
    ],
)
def test_wrong_types_are_data_errors(srv: RouteServer, path: str, call: str, body: Any, where: str) -> None:
    srv.json(path, body)
    calls = {
        "adjustments": lambda: mempool.get_difficulty_adjustments(base_url=base(srv), options=FAST),
        "da": lambda: mempool.get_difficulty_adjustment(base_url=base(srv), options=FAST),
        "blocks": lambda: mempool.get_blocks(952_600, base_url=base(srv), options=FAST),
        "price": lambda: mempool.get_historical_price(base_url=base(srv), options=FAST),
        "hashrate": lambda: mempool.get_hashrate("all", base_url=base(srv), options=FAST),
    }
    with pytest.raises(DataError, match=where) as err:
        calls[call]()
    assert "mempool" in str(err.value) and srv.url in str(err.value)


def test_truncated_json(srv: RouteServer) -> None:
    srv.route("/api/v1/mining/difficulty-adjustments", Reply(200, b"[[1231006505, 0, 1.0, 0"))
    with pytest.raises(DataError, match="truncated"):
        mempool.get_difficulty_adjustments(base_url=base(srv), options=FAST)


def test_429_and_500_are_retried(srv: RouteServer) -> None:
    sleeps: list[float] = []
    srv.route(
        "/api/v1/difficulty-adjustment",
        Reply(429, b"Too Many Requests", {"Retry-After": "2"}),
        Reply(500, b"oops"),
        Reply(200, DA),
    )
    opts = HttpOptions(sleep=sleeps.append, retry=RetryPolicy(backoff_base_s=0.25))
    frame, meta = mempool.get_difficulty_adjustment(base_url=base(srv), options=opts)
    assert sleeps == [2.0, 0.5] and meta["retries"] == 2 and len(frame) == 1


def test_timeout_is_a_clear_error(srv: RouteServer) -> None:
    srv.route("/api/v1/difficulty-adjustment", Reply(200, DA, delay_s=0.5))
    opts = HttpOptions(timeout_s=0.1, sleep=lambda s: None, retry=RetryPolicy(max_attempts=2))
    with pytest.raises(DataError, match="timed out"):
        mempool.get_difficulty_adjustment(base_url=base(srv), options=opts)


def test_fetch_writes_daily_and_retargets(srv: RouteServer, hashrisk_home: Path) -> None:
    report = fetch("mempool", base_url=base(srv), options=FAST)
    assert report["daily"]["rows"] == 3 and report["retargets"] == {"rows": 3, "changed": 3}
    with Store(read_only=True) as store:
        daily = store.daily_frame(source="mempool")
        retargets = store.retargets_frame()
    # price: last mempool price of each UTC day (05-31 23:00 -> 71,329); hashrate H/s -> TH/s
    assert daily.loc["2026-05-31", "price_usd"] == 71_329
    assert daily.loc["2026-06-01", "price_usd"] == 71_500
    assert daily.loc["2026-06-01", "hashrate_ths"] == pytest.approx(9.8e8)
    assert retargets.index.tolist() == [0, 949_536, 951_552]
    assert pd.isna(retargets.loc[0, "adjustment"])  # mempool's 0 means "none"
    assert (retargets["source"] == "mempool").all()
    # incremental: resumes from the last stored day with the shortest period that covers it
    again = fetch("mempool", base_url=base(srv), options=FAST)
    assert again["since"] == "2026-06-01"
    assert again["daily"]["changed"] == 0
    if (dt.datetime.now(dt.UTC).date() - dt.date(2026, 6, 1)).days < 3 * 365:
        assert not again["urls"][0].endswith("/hashrate/all")  # a shorter period covers the gap


def test_fetch_failure_leaves_the_store_untouched(srv: RouteServer, hashrisk_home: Path) -> None:
    srv.json("/api/v1/mining/difficulty-adjustments", [[1, 2]])
    with pytest.raises(DataError):
        fetch("mempool", base_url=base(srv), options=FAST)
    with Store(read_only=True) as store:
        assert store.daily_frame().empty and store.retargets_frame().empty


def test_fetch_without_a_price_feed_stores_the_rest(srv: RouteServer, hashrisk_home: Path) -> None:
    """A self-hosted mempool without a price feed answers 404 on /historical-price: hashrate and retargets are
    stored and the report names the missing endpoint."""
    srv.route("/api/v1/historical-price", Reply(404, {"error": "not found"}))
    report = fetch("mempool", base_url=base(srv), options=FAST)
    assert report["missing"] == ["/v1/historical-price (HTTP 404)"]
    assert report["daily"]["rows"] == 3 and report["retargets"]["rows"] == 3
    with Store(read_only=True) as store:
        daily = store.daily_frame(source="mempool")
    assert daily["price_usd"].isna().all() and daily["hashrate_ths"].notna().all()


def test_other_http_errors_still_fail_whole(srv: RouteServer, hashrisk_home: Path) -> None:
    srv.route("/api/v1/historical-price", Reply(403, {"error": "forbidden"}))
    with pytest.raises(DataError):
        fetch("mempool", base_url=base(srv), options=FAST)
    with Store(read_only=True) as store:
        assert store.daily_frame().empty
