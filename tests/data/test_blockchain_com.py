"""blockchain.com charts connector against a local server serving the documented JSON shape (127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from servers import Reply, RouteServer

from hashrisk.data import blockchain_com
from hashrisk.data.http import HttpOptions, RetryPolicy
from hashrisk.data.store import Store
from hashrisk.data.sync import fetch
from hashrisk.errors import DataError, InputError

DAY = 86_400
T0 = 1_780_272_000  # 2026-06-01 00:00:00 UTC
DAYS = [T0 - 2 * DAY, T0 - DAY, T0]


def chart(name: str, unit: str, ys: list[Any], xs: list[int] = DAYS) -> dict[str, Any]:
    return {
        "status": "ok",
        "name": name,
        "unit": unit,
        "period": "day",
        "description": f"{name} chart",
        "values": [{"x": x, "y": y} for x, y in zip(xs, ys, strict=True)],
    }


CHARTS = {
    "hash-rate": chart("Hash Rate", "Hash Rate TH/s", [9.1e8, 9.505933618644534e8, 9.13e8]),
    "difficulty": chart("Difficulty", "Difficulty", [1.389e14, 1.389e14, 1.39e14]),
    "market-price": chart("Market Price (USD)", "USD", [70_000.0, 70_500.0, 7.1329e4]),
    "transaction-fees": chart("Total Transaction Fees (BTC)", "BTC", [3.1, 3.4, 3.3]),
    "n-blocks-total": chart("Total Blocks", "Blocks", [952_300, 952_446, 952_590]),
}
FAST = HttpOptions(timeout_s=2.0, sleep=lambda s: None)


@pytest.fixture()
def srv() -> Iterator[RouteServer]:
    with RouteServer() as server:
        for name, body in CHARTS.items():
            server.json(f"/charts/{name}", body)
        yield server


def test_chart_request_and_parse(srv: RouteServer) -> None:
    frame, meta = blockchain_com.get_chart("hash-rate", "30days", base_url=srv.url, options=FAST)
    assert srv.hits("/charts/hash-rate")[0].query == {
        "timespan": ["30days"],
        "format": ["json"],
        "sampled": ["false"],
    }
    assert frame["value"].iloc[1] == pytest.approx(9.505933618644534e8)
    assert frame.index[0] == pd.Timestamp("2026-05-30", tz="UTC")
    assert meta["chart"]["unit"] == "Hash Rate TH/s" and meta["source"] == "blockchain"


def test_daily_columns_and_units(srv: RouteServer) -> None:
    frame, meta = blockchain_com.get_daily(base_url=srv.url, options=FAST)
    assert list(frame.columns) == ["hashrate_ths", "difficulty", "price_usd", "fees_btc", "blocks"]
    assert frame.loc["2026-06-01", "hashrate_ths"] == pytest.approx(9.13e8)
    assert frame.loc["2026-06-01", "price_usd"] == 71_329.0
    assert frame["blocks"].tolist()[1:] == [146, 144]
    assert pd.isna(frame["blocks"].iloc[0])  # no previous day to difference against
    assert len(meta["urls"]) == 5 and meta["skipped"] == []


@pytest.mark.parametrize(
    ("unit", "factor"), [("Hash Rate GH/s", 1e-3), ("EH/s", 1e6), ("Hash Rate TH/s", 1.0)]
)
def test_hashrate_unit_is_read(srv: RouteServer, unit: str, factor: float) -> None:
    srv.json("/charts/hash-rate", chart("Hash Rate", unit, [1.0, 2.0, 3.0]))
    frame, _ = blockchain_com.get_daily(charts=["hash-rate"], base_url=srv.url, options=FAST)
    assert frame["hashrate_ths"].tolist() == pytest.approx([factor, 2 * factor, 3 * factor])


def test_unknown_hashrate_unit_is_refused(srv: RouteServer) -> None:
    srv.json("/charts/hash-rate", chart("Hash Rate", "Hashes", [1.0, 2.0, 3.0]))
    with pytest.raises(DataError, match="at unit: expected a hash-rate unit"):
        blockchain_com.get_daily(charts=["hash-rate"], base_url=srv.url, options=FAST)


def test_fees_in_satoshis_are_converted(srv: RouteServer) -> None:
    srv.json("/charts/transaction-fees", chart("Fees", "Satoshis", [3.1e8, 3.4e8, 3.3e8]))
    frame, _ = blockchain_com.get_daily(charts=["transaction-fees"], base_url=srv.url, options=FAST)
    assert frame["fees_btc"].tolist() == pytest.approx([3.1, 3.4, 3.3])


def test_several_points_a_day_keep_the_last(srv: RouteServer) -> None:
    srv.json("/charts/market-price", chart("Price", "USD", [1.0, 2.0, 3.0], xs=[T0, T0 + 3600, T0 + DAY]))
    frame, _ = blockchain_com.get_daily(charts=["market-price"], base_url=srv.url, options=FAST)
    assert frame["price_usd"].tolist() == [2.0, 3.0]


def test_missing_optional_chart_is_skipped(srv: RouteServer) -> None:
    srv.route("/charts/n-blocks-total", Reply(404, b"Chart not found"))
    frame, meta = blockchain_com.get_daily(base_url=srv.url, options=FAST)
    assert "blocks" not in frame.columns and meta["skipped"] == ["n-blocks-total"]
    srv.route("/charts/difficulty", Reply(404, b"Chart not found"))
    with pytest.raises(DataError, match="HTTP 404"):
        blockchain_com.get_daily(base_url=srv.url, options=FAST)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"status": "error", "error": "Unknown chart"}, "at status: expected 'ok'"),
        ({"status": "ok", "values": None}, "at values: expected a JSON array"),
        ({"status": "ok", "values": [[1, 2]]}, r"values\[0\]: expected a JSON object"),
        ({"status": "ok", "values": [{"x": "monday", "y": 1}]}, r"values\[0\]\.x: expected a number"),
        ({"status": "ok", "values": [{"x": 1, "y": [3]}]}, r"values\[0\]\.y: expected a number"),
        ({"status": "ok", "unit": 5, "values": []}, "unit: expected a string"),
    ],
)
def test_wrong_shapes_are_data_errors(srv: RouteServer, body: Any, where: str) -> None:
    srv.json("/charts/difficulty", body)
    with pytest.raises(DataError, match=where) as err:
        blockchain_com.get_chart("difficulty", base_url=srv.url, options=FAST)
    assert f"{srv.url}/charts/difficulty" in str(err.value)


def test_scientific_notation_strings_are_numbers(srv: RouteServer) -> None:
    srv.route("/charts/difficulty", Reply(200, b'{"status":"ok","values":[{"x":1442534400,"y":1.46277E7}]}'))
    frame, _ = blockchain_com.get_chart("difficulty", base_url=srv.url, options=FAST)
    assert frame["value"].iloc[0] == 14_627_700.0


def test_bad_arguments() -> None:
    with pytest.raises(InputError):
        blockchain_com.get_chart("hash rate; drop", options=FAST)
    with pytest.raises(InputError):
        blockchain_com.get_chart("hash-rate", "forever", options=FAST)
    with pytest.raises(InputError):
        blockchain_com.get_daily(charts=["pools"], options=FAST)


def test_retries_then_timeout(srv: RouteServer) -> None:
    sleeps: list[float] = []
    srv.route(
        "/charts/difficulty",
        Reply(429, b"", {"Retry-After": "1"}),
        Reply(503, b"busy"),
        Reply(200, CHARTS["difficulty"]),
    )
    opts = HttpOptions(sleep=sleeps.append, retry=RetryPolicy(backoff_base_s=0.1))
    frame, _ = blockchain_com.get_chart("difficulty", base_url=srv.url, options=opts)
    assert len(frame) == 3 and sleeps == [1.0, 0.2]
    srv.route("/charts/difficulty", Reply(200, CHARTS["difficulty"], delay_s=0.5))
    slow = HttpOptions(timeout_s=0.1, sleep=lambda s: None, retry=RetryPolicy(max_attempts=2))
    with pytest.raises(DataError, match="timed out"):
        blockchain_com.get_chart("difficulty", base_url=srv.url, options=slow)


def test_fetch_writes_the_store(srv: RouteServer, hashrisk_home: Path) -> None:
    report = fetch("blockchain", base_url=srv.url, options=FAST)
    assert report["daily"] == {"rows": 3, "changed": 3, "first": "2026-05-30", "last": "2026-06-01"}
    with Store(read_only=True) as store:
        daily = store.daily_frame(source="blockchain")
    assert daily["blocks"].tolist()[1:] == [146, 144]
    assert daily.loc["2026-06-01", "fees_btc"] == 3.3
    # incremental: asks from the day before the last stored day (to difference the block totals)
    fetch("blockchain", base_url=srv.url, options=FAST)
    query = srv.hits("/charts/n-blocks-total")[-1].query
    assert query["start"] == ["2026-05-31"] and query["timespan"][0].endswith("days")
    with Store(read_only=True) as store:
        assert store.daily_frame(source="blockchain").loc["2026-06-01", "blocks"] == 144


def test_truncated_chart_leaves_the_store_untouched(srv: RouteServer, hashrisk_home: Path) -> None:
    fetch("blockchain", base_url=srv.url, options=FAST)
    with Store(read_only=True) as store:
        before = store.daily_frame()
    srv.route("/charts/market-price", Reply(200, b'{"status":"ok","values":[{"x":1780272000,"y":99'))
    with pytest.raises(DataError, match="truncated"):
        fetch("blockchain", since="2026-05-30", base_url=srv.url, options=FAST)
    with Store(read_only=True) as store:
        pd.testing.assert_frame_equal(store.daily_frame(), before)
