"""The dashboard's "Pools & coinbase flows (your node)" panel in real headless Chromium: on a store holding a
small synthetic chain scanned from the JSON-RPC stand-in (and a synthetic daily history, so that the window
selector and date picker drive it), what the panel shows is what /api/onchain answers for the same window and
pool; with nothing scanned it says how to scan."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from history_store import synthetic_daily, write_synthetic

from conftest import serve, watch_page

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

from servers import ONCHAIN_POOLS, onchain_store

TIMEOUT_MS = 60_000
FIRST_DAY = "2022-01-01"
"""First day of the synthetic daily history (730 days, to 2023-12-31); the scanned chain is 2023-11-14..17."""


@pytest.fixture(scope="module")
def onchain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("web-onchain-home")
    onchain_store(home, 400)
    write_synthetic(home, synthetic_daily(start=FIRST_DAY, days=730))
    with serve(home) as url:
        yield url


def js_pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def wait_onchain(page: Any, since: str, pool: str) -> str:
    """Wait until the panel shows the answer for (`since`, `pool`); return what it stored (blocks or a word)."""
    page.wait_for_selector(f'body[data-onchain^="{since}|{pool}|"]', timeout=TIMEOUT_MS)
    return str(page.get_attribute("body", "data-onchain")).rsplit("|", 1)[1]


def check_panel(page: Any, api: httpx.Client, since: str, pool: str) -> dict[str, Any]:
    """Every figure of the panel against /api/onchain for the window and pool."""
    params = {"since": since} | ({"pool": pool} if pool else {})
    o = api.get("/api/onchain", params=params).json()
    assert o["stored"] is True
    assert wait_onchain(page, since, pool) == str(o["blocks"])
    rows = page.eval_on_selector_all(
        "#onchain-pools tbody tr",
        "els => els.map(e => [e.dataset.pool, +e.dataset.blocks, +e.dataset.share, +e.dataset.shareLow, "
        "+e.dataset.shareHigh, e.querySelector('.share').textContent])",
    )
    assert rows == [
        [
            d["pool"],
            d["blocks"],
            d["share"],
            d["share_low"],
            d["share_high"],
            f"{js_pct(d['share'])} ({js_pct(d['share_low'])} to {js_pct(d['share_high'])})",
        ]
        for d in o["distribution"]
    ]
    bars = page.evaluate(
        "(() => { const t = document.getElementById('onchain-share-chart').data[0];"
        " return [t.y, t.x, t.error_x.array, t.error_x.arrayminus]; })()"
    )
    dist = list(reversed(o["distribution"]))
    assert bars[0] == [d["pool"] for d in dist] and bars[1] == [d["share"] for d in dist]
    assert bars[2] == pytest.approx([d["share_high"] - d["share"] for d in dist], abs=1e-15)
    assert bars[3] == pytest.approx([d["share"] - d["share_low"] for d in dist], abs=1e-15)
    flows = page.evaluate("document.getElementById('onchain-flows-chart').data.map(t => [t.x, t.y])")
    days = [m["date"] for m in o["moved_vs_mined"]]
    for (x, y), key in zip(flows, ("mined_btc", "moved_out_btc", "consolidated_btc"), strict=True):
        assert x == days and y == [m[key] for m in o["moved_vs_mined"]]
    quarters = page.eval_on_selector_all(
        "#onchain-sales tbody tr[data-quarter]", "els => els.map(e => e.dataset.quarter)"
    )
    assert quarters == [q["quarter"] for q in o["beside_disclosed_sales"]]
    assert page.text_content("#onchain-note") == o["note"]
    assert page.is_visible("#onchain-share-chart") and not page.is_visible("#onchain-message")
    return o


def test_panel_follows_the_api_window_and_pool(onchain_server: str, chromium: Any) -> None:
    api = httpx.Client(base_url=onchain_server, timeout=60)
    page = chromium.new_page(viewport={"width": 1280, "height": 1400})
    problems, requests = watch_page(page)
    page.goto(onchain_server + "/")

    # default: the newest stored day (2023-12-31), two years back, clamped to the first stored day
    everything = check_panel(page, api, FIRST_DAY, "")
    assert everything["blocks"] == 400
    assert {d["pool"] for d in everything["distribution"]} == {p for _, _, p in ONCHAIN_POOLS}
    options = page.eval_on_selector_all("#onchain-pool option", "els => els.map(e => e.value)")
    assert options == [""] + [d["pool"] for d in everything["distribution"]]
    page.wait_for_selector('body[data-history="2022-01-01|2023-12-31"]', timeout=TIMEOUT_MS)  # still there

    # the pool dropdown filters
    page.select_option("#onchain-pool", "MARA Pool")
    mara = check_panel(page, api, FIRST_DAY, "MARA Pool")
    assert [d["pool"] for d in mara["distribution"]] == ["MARA Pool"]
    assert sum(m["mined_btc"] for m in mara["moved_vs_mined"]) < sum(
        m["mined_btc"] for m in everything["moved_vs_mined"]
    )

    # the date picker and window selector move the first day
    page.fill("#asof-date", "2023-12-16")
    page.wait_for_selector('body[data-panels-date="2023-12-16"]', timeout=TIMEOUT_MS)
    page.select_option("#window", "30d")
    later = check_panel(page, api, "2023-11-16", "MARA Pool")
    assert 0 < later["blocks"] < 400 and later["first_time"][:10] == "2023-11-16"
    page.select_option("#onchain-pool", "")
    check_panel(page, api, "2023-11-16", "")

    # a window after the newest scanned block: said in the panel, not an error of the page
    page.fill("#asof-date", "2023-12-31")
    assert wait_onchain(page, "2023-12-01", "") == "error"
    assert page.is_visible("#onchain-message") and not page.is_visible("#onchain-share-chart")
    assert "No scanned block in this window" in (page.text_content("#onchain-message") or "")
    page.close()

    # the 422 of that last window is the only console message (Chromium logs every failed response)
    assert all("status of 422" in p for p in problems), problems
    assert requests and all(u.startswith(onchain_server) or u.startswith("data:") for u in requests), requests


def test_panel_without_a_scan_says_how(live_server: str, chromium: Any) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    problems, _ = watch_page(page)
    page.goto(live_server + "/")
    page.wait_for_selector('body[data-onchain="||none"]', timeout=TIMEOUT_MS)
    assert page.is_visible("#onchain-message") and not page.is_visible("#onchain-share-chart")
    assert page.text_content("#onchain-message") == (
        "Scan your node: hashrisk data fetch --source bitcoind --coinbase"
    )
    assert page.text_content("#onchain-message code") == "hashrisk data fetch --source bitcoind --coinbase"
    page.wait_for_selector("body[data-panels-date]", timeout=TIMEOUT_MS)  # the other panels still load
    page.close()
    assert problems == []
