"""Coin Metrics API v4 connector against a local server serving the documented JSON shape (127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from servers import Reply, Request, RouteServer

from hashrisk.data.coinmetrics import get_coinmetrics
from hashrisk.data.http import HttpOptions
from hashrisk.data.store import Store
from hashrisk.data.sync import fetch
from hashrisk.errors import DataError, InputError

PATH = "/timeseries/asset-metrics"


def cm_row(day: str, price: str, blocks: str = "144") -> dict[str, Any]:
    """One row as the API returns it: every value a string, CM's long decimals included."""
    return {
        "asset": "btc",
        "time": f"{day}T00:00:00.000000000Z",
        "PriceUSD": price,
        "HashRate": "934017374.016968059335586094582167936278",
        "DiffMean": "138955357012247.0",
        "BlkCnt": blocks,
        "FeeTotNtv": "3.31",
        "IssTotNtv": str(int(blocks) * 3.125),
    }


PAGE1 = [cm_row("2026-05-30", "70000.5"), cm_row("2026-05-31", "70500.25")]
PAGE2 = [cm_row("2026-06-01", "71329.0", blocks="150")]


class Clock:
    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def opts(clock: Clock) -> HttpOptions:
    return HttpOptions(timeout_s=2.0, sleep=clock.sleep, clock=clock, wall_clock=clock)


@pytest.fixture()
def srv() -> Iterator[RouteServer]:
    with RouteServer() as server:
        yield server


def paged(
    server: RouteServer, pages: list[list[dict[str, Any]]], broken: dict[int, Reply] | None = None
) -> None:
    """Serve `pages` in order, linked by next_page_url (absolute, as the API gives it)."""

    def handler(request: Request) -> Reply:
        token = request.query.get("next_page_token", ["0"])[0]
        index = int(token)
        if broken and index in broken:
            return broken[index]
        body: dict[str, Any] = {"data": pages[index]}
        if index + 1 < len(pages):
            body["next_page_token"] = str(index + 1)
            body["next_page_url"] = (
                f"{server.url}{PATH}?assets=btc&metrics=PriceUSD&frequency=1d&next_page_token={index + 1}"
            )
        return Reply(200, body)

    server.route(PATH, handler)


def test_paging_and_parsing(srv: RouteServer, opts: HttpOptions) -> None:
    paged(srv, [PAGE1, PAGE2])
    frame, meta = get_coinmetrics(start="2026-05-30", end="2026-06-01", base_url=srv.url, options=opts)
    first = srv.hits(PATH)[0].query
    assert first["assets"] == ["btc"] and first["frequency"] == ["1d"] and first["paging_from"] == ["start"]
    assert first["metrics"] == ["PriceUSD,HashRate,DiffMean,BlkCnt,FeeTotNtv,IssTotNtv"]
    assert first["start_time"] == ["2026-05-30"] and first["end_time"] == ["2026-06-01"]
    assert srv.hits(PATH)[1].query["next_page_token"] == ["1"]
    assert meta["pages"] == 2 and meta["source"] == "coinmetrics" and len(meta["urls"]) == 2
    assert "CC BY-NC" in meta["licence"]
    assert list(frame.index) == list(pd.date_range("2026-05-30", periods=3, tz="UTC"))
    assert frame.loc["2026-06-01", "price_usd"] == 71329.0
    assert frame["hashrate_ths"].iloc[0] == pytest.approx(934017374.016968)
    assert frame["blocks"].tolist() == [144, 144, 150]
    assert frame.loc["2026-06-01", "subsidy_btc"] == pytest.approx(468.75)
    assert frame["fees_btc"].iloc[0] == pytest.approx(3.31)


def test_community_rate_limit_is_applied(srv: RouteServer, clock: Clock, opts: HttpOptions) -> None:
    pages = [[cm_row(f"2026-05-{d:02d}", "70000")] for d in range(1, 26)]
    paged(srv, pages)
    frame, meta = get_coinmetrics(base_url=srv.url, options=opts)
    assert len(frame) == 25 and meta["pages"] == 25
    # 10 requests per 6 s: 25 requests need two full waits
    assert clock.t == pytest.approx(12.0)


def test_api_key_disables_the_community_limit_and_is_hidden(
    srv: RouteServer, clock: Clock, opts: HttpOptions
) -> None:
    paged(srv, [[cm_row(f"2026-05-{d:02d}", "70000")] for d in range(1, 16)])
    _, meta = get_coinmetrics(base_url=srv.url, api_key="KEY123", options=opts)
    assert clock.t == 0.0
    assert all(r.query["api_key"] == ["KEY123"] for r in srv.hits(PATH))
    assert "KEY123" not in repr(meta)


def test_429_with_retry_after_then_success(srv: RouteServer, clock: Clock, opts: HttpOptions) -> None:
    calls = {"n": 0}
    good = Reply(200, {"data": PAGE1})

    def handler(request: Request) -> Reply:
        calls["n"] += 1
        if calls["n"] == 1:
            return Reply(429, {"error": {"type": "too_many_requests"}}, {"Retry-After": "3"})
        return good

    srv.route(PATH, handler)
    frame, meta = get_coinmetrics(base_url=srv.url, options=opts)
    assert len(frame) == 2 and meta["retries"] == 1
    assert 3.0 in clock.sleeps


def test_500_on_the_second_page_is_retried(srv: RouteServer, opts: HttpOptions) -> None:
    state = {"failed": False}

    def handler(request: Request) -> Reply:
        if "next_page_token" in request.query and not state["failed"]:
            state["failed"] = True
            return Reply(500, b"internal error")
        body: dict[str, Any] = {"data": PAGE2 if "next_page_token" in request.query else PAGE1}
        if "next_page_token" not in request.query:
            body["next_page_url"] = f"{srv.url}{PATH}?next_page_token=1"
        return Reply(200, body)

    srv.route(PATH, handler)
    frame, _ = get_coinmetrics(base_url=srv.url, options=opts)
    assert len(frame) == 3


def test_api_error_message_is_shown(srv: RouteServer, opts: HttpOptions) -> None:
    srv.route(PATH, Reply(400, {"error": {"type": "bad_parameter", "message": "Bad parameter 'metrics'."}}))
    with pytest.raises(DataError, match="Bad parameter 'metrics'"):
        get_coinmetrics(metrics=["NoSuchMetric"], base_url=srv.url, options=opts)


def test_truncated_second_page_is_a_clear_error(srv: RouteServer, opts: HttpOptions) -> None:
    paged(srv, [PAGE1, PAGE2], broken={1: Reply(200, b'{"data": [{"asset": "btc", "time": "2026-06-0')})
    with pytest.raises(
        DataError, match=r"coinmetrics: malformed response from .*next_page_token=1.*truncated"
    ):
        get_coinmetrics(base_url=srv.url, options=opts)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"data": {"asset": "btc"}}, "at data: expected a JSON array"),
        ({"rows": []}, "at data: expected a JSON array, got null"),
        ({"data": ["btc"]}, r"at data\[0\]: expected a JSON object"),
        ({"data": [{**cm_row("2026-06-01", "71329"), "PriceUSD": "n/a"}]}, "PriceUSD|price_usd"),
        ({"data": [{**cm_row("2026-06-01", "71329"), "PriceUSD": {"v": 1}}]}, "PriceUSD|price_usd"),
        ({"data": PAGE1, "next_page_url": 7}, "next_page_url: expected a URL string"),
    ],
)
def test_wrong_shapes_and_types_are_data_errors(
    srv: RouteServer, opts: HttpOptions, body: dict[str, Any], where: str
) -> None:
    srv.json(PATH, body)
    with pytest.raises(DataError, match=where) as err:
        get_coinmetrics(base_url=srv.url, options=opts)
    assert srv.url in str(err.value)


def test_bad_arguments_are_input_errors(opts: HttpOptions) -> None:
    with pytest.raises(InputError):
        get_coinmetrics(metrics=[], options=opts)
    with pytest.raises(InputError):
        get_coinmetrics(metrics=["Price USD; drop"], options=opts)
    with pytest.raises(InputError):
        get_coinmetrics(page_size=0, options=opts)
    with pytest.raises(InputError):
        get_coinmetrics(start="yesterday", options=opts)


def test_empty_answer_is_an_empty_frame(srv: RouteServer, opts: HttpOptions) -> None:
    srv.json(PATH, {"data": []})
    frame, meta = get_coinmetrics(base_url=srv.url, options=opts)
    assert frame.empty and meta["rows"] == 0 and "price_usd" in frame.columns


def test_fetch_writes_the_store_and_resumes(srv: RouteServer, opts: HttpOptions, hashrisk_home: Path) -> None:
    paged(srv, [PAGE1, PAGE2])
    report = fetch("coinmetrics", base_url=srv.url, options=opts)
    assert report["daily"] == {"rows": 3, "changed": 3, "first": "2026-05-30", "last": "2026-06-01"}
    with Store(read_only=True) as store:
        stored = store.daily_frame(source="coinmetrics")
    assert stored["price_usd"].tolist() == [70000.5, 70500.25, 71329.0]
    # second run resumes from the last stored day (fetched again: it may have been provisional)
    srv.json(PATH, {"data": [cm_row("2026-06-01", "71400"), cm_row("2026-06-02", "72000")]})
    again = fetch("coinmetrics", base_url=srv.url, options=opts)
    assert srv.requests[-1].query["start_time"] == ["2026-06-01"]
    assert again["since"] == "2026-06-01" and again["daily"]["changed"] == 2
    with Store(read_only=True) as store:
        assert store.daily_frame(source="coinmetrics")["price_usd"].tolist() == [
            70000.5,
            70500.25,
            71400,
            72000,
        ]


def test_failed_fetch_leaves_the_store_untouched(
    srv: RouteServer, opts: HttpOptions, hashrisk_home: Path
) -> None:
    paged(srv, [PAGE1, PAGE2])
    fetch("coinmetrics", base_url=srv.url, options=opts)
    with Store(read_only=True) as store:
        before = store.daily_frame()
    srv.json(PATH, {"data": [cm_row("2026-06-01", "99999"), {**cm_row("2026-06-02", "1"), "BlkCnt": "-5"}]})
    with pytest.raises(DataError):
        fetch("coinmetrics", base_url=srv.url, options=opts)
    with Store(read_only=True) as store:
        pd.testing.assert_frame_equal(store.daily_frame(), before)


def test_fetched_derived_values_never_overwrite_reported_ones(
    srv: RouteServer, opts: HttpOptions, hashrisk_home: Path
) -> None:
    """A later answer without BlkCnt derives it (HashRate, DiffMean identity); the reported 150 stays."""
    paged(srv, [PAGE1, PAGE2])
    fetch("coinmetrics", base_url=srv.url, options=opts)
    no_blocks = {k: v for k, v in cm_row("2026-06-01", "71329.0", blocks="150").items() if k != "BlkCnt"}
    no_blocks["HashRate"] = "1000000000"  # implies 140.7 -> 141 blocks at this difficulty
    srv.json(PATH, {"data": [no_blocks]})
    fetch("coinmetrics", base_url=srv.url, options=opts, since="2026-06-01")
    with Store(read_only=True) as store:
        day = store.daily_frame(source="coinmetrics").loc["2026-06-01"]
    assert day["blocks"] == 150
