"""The dashboard's as-of date picker and window selector in real headless Chromium, on the real Coin Metrics
daily history (skips without ../shared/data): every panel follows them, and what the panels show is what
/api/history, /api/changes and /api/cost-curve answer for the same days."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from history_store import import_real

from conftest import serve, watch_page

TIMEOUT_MS = 90_000
LAST = "2025-09-26"


@pytest.fixture(scope="module")
def stored_server(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("web-history-home")
    import_real(home, shared_data)
    with serve(home) as url:
        yield url


def js_pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def last_value(values: list[float | None]) -> float:
    return next(v for v in reversed(values) if v is not None)


def check_panels(page: Any, api: httpx.Client, since: str, until: str) -> None:
    """The history figures, charts and change list against the API for the window."""
    h = api.get("/api/history", params={"since": since, "until": until}).json()
    ch = api.get("/api/changes", params={"since": since, "until": until}).json()
    price = last_value(h["series"]["price_usd"])
    assert float(page.get_attribute("#hist-price", "data-value")) == pytest.approx(price, rel=1e-12)
    assert page.text_content("#hist-price") == f"${round(price):,}"
    under = last_value(h["series"]["share_underwater"])
    assert page.text_content("#hist-underwater") == js_pct(under)
    allin = last_value(h["series"]["cost_all_in_usd_per_btc"])
    assert float(page.get_attribute("#hist-all-in", "data-value")) == pytest.approx(allin, rel=1e-12)
    x = page.evaluate("document.getElementById('hist-price-chart').data[3].x")
    y = page.evaluate("document.getElementById('hist-price-chart').data[3].y")
    assert x == h["dates"] and y == h["series"]["price_usd"]
    n_rt = page.evaluate("document.getElementById('hist-hashrate-chart').data[2].x.length")
    n_caps = page.evaluate("(document.getElementById('hist-ribbon-chart').layout.shapes || []).length")
    assert n_rt == len(h["retargets"]) and n_caps == len(h["capitulations"])
    items = page.eval_on_selector_all("#changes-list li[data-day]", "els => els.map(e => e.dataset.day)")
    newest_first = [e["day"] for e in reversed(ch["events"])][:50]
    assert items == newest_first


def test_date_picker_and_window_drive_every_panel(stored_server: str, chromium: Any) -> None:
    api = httpx.Client(base_url=stored_server, timeout=60)
    page = chromium.new_page(viewport={"width": 1280, "height": 1400})
    problems, requests = watch_page(page)

    page.goto(stored_server + "/")
    # default: the newest stored day, two years
    page.wait_for_selector(
        f'body[data-history="2023-09-26|{LAST}"][data-changes^="2023-09-26|{LAST}|"]', timeout=TIMEOUT_MS
    )
    page.wait_for_selector(f'body[data-panels-date="{LAST}"]', timeout=TIMEOUT_MS)
    assert page.input_value("#asof-date") == LAST
    check_panels(page, api, "2023-09-26", LAST)

    # move the window, then the date
    page.select_option("#window", "90d")
    page.wait_for_selector(f'body[data-changes^="2025-06-28|{LAST}|"]', timeout=TIMEOUT_MS)
    check_panels(page, api, "2025-06-28", LAST)
    page.fill("#asof-date", "2025-04-08")
    page.wait_for_selector(
        'body[data-changes^="2025-01-08|2025-04-08|"][data-panels-date="2025-04-08"]'
        '[data-curve-price][data-snapshot-date="2025-04-08"]',
        timeout=TIMEOUT_MS,
    )
    check_panels(page, api, "2025-01-08", "2025-04-08")
    snap = api.get("/api/snapshot", params={"date": "2025-04-08"}).json()
    slider = round(snap["price_usd"] / 100) * 100
    page.wait_for_selector(f'body[data-curve-price="{slider}"]', timeout=TIMEOUT_MS)
    curve = api.get("/api/cost-curve", params={"date": "2025-04-08", "price_usd": slider}).json()
    assert page.text_content("#share-underwater") == js_pct(curve["share_unprofitable"])
    assert "Snapshot 2025-04-08" in (page.text_content("#snapshot-line") or "")
    page.select_option("#window", "all")
    page.wait_for_selector('body[data-changes^="2009-01-03|2025-04-08|"]', timeout=TIMEOUT_MS)
    check_panels(page, api, "2009-01-03", "2025-04-08")
    page.close()

    assert problems == []
    assert requests and all(u.startswith(stored_server) or u.startswith("data:") for u in requests), requests
