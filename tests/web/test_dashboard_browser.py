"""The dashboard in real headless Chromium (Debian `chromium` driven by Playwright): load it, move the price
slider, check that the numbers change to the library's values, that nothing leaves 127.0.0.1 and that the
console has no errors; save a screenshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import watch_page
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.economics.cost import cost_curve
from hashrisk.economics.fleet import FleetSpec, build_fleet

TIMEOUT_MS = 60_000


def js_pct(x: float) -> str:
    """The dashboard's percentage format: (100 x).toFixed(1) + "%"."""
    return f"{100 * x:.1f}%"


def share_underwater(price_usd: float) -> float:
    snap = NetworkSnapshot.embedded()
    fleet = build_fleet(FleetSpec.default(), snap.hashrate_ths)
    curve = cost_curve(fleet, snap.difficulty, snap.subsidy_btc, snap.fees_btc_per_block)
    return float(curve.share_unprofitable(price_usd))


def test_slider_updates_cost_curve_share_and_stress_fan(
    live_server: str, chromium: Any, tmp_path: Path
) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    problems, requests = watch_page(page)

    page.goto(live_server + "/")
    start = "71300"  # the embedded price rounded to the slider's $100 step
    page.wait_for_selector(f'body[data-curve-price="{start}"][data-sim-price="{start}"]', timeout=TIMEOUT_MS)
    before = {k: page.text_content(f"#{k}") for k in ("share-underwater", "first-retarget", "offline")}
    assert before["share-underwater"] == js_pct(share_underwater(71_300))

    page.fill("#price-slider", "55000")  # sets the value and fires `input`, as a drag does
    page.wait_for_selector('body[data-curve-price="55000"][data-sim-price="55000"]', timeout=TIMEOUT_MS)
    after = {k: page.text_content(f"#{k}") for k in ("share-underwater", "first-retarget", "offline")}

    assert page.text_content("#price-value") == "$55,000"
    assert after["share-underwater"] == js_pct(share_underwater(55_000))
    assert after["share-underwater"] != before["share-underwater"]
    assert after["first-retarget"] != before["first-retarget"] and after["offline"] != before["offline"]
    # a 23% fall takes more hashrate offline and lowers the first retarget further than no move
    assert float(after["offline"].rstrip("%")) > float(before["offline"].rstrip("%"))  # type: ignore[union-attr]
    assert float(after["first-retarget"].rstrip("%")) < float(before["first-retarget"].rstrip("%"))  # type: ignore[union-attr]
    fan = page.evaluate("document.getElementById('fan-chart').data.length")
    curve_title = page.evaluate("document.getElementById('curve-chart').layout.title.text")
    price_line = page.evaluate("document.getElementById('curve-chart').layout.shapes[0].y0")
    assert fan == 4 and "$55,000" in curve_title and price_line == 55_000

    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    page.close()

    assert problems == []
    assert requests and all(u.startswith(live_server) or u.startswith("data:") for u in requests), requests


def test_stress_panel_shows_who_is_forced_to_sell(live_server: str, chromium: Any) -> None:
    """The panel fills from POST /api/stress: one row per shock and owner, the split adding up, runway, the
    AI/HPC capex's BTC (0 with today's owners, and said so) and the amplification with and without feedback."""
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    problems, requests = watch_page(page)
    page.goto(live_server + "/")
    page.wait_for_selector('body[data-stress="2026-06-01|300"]', timeout=TIMEOUT_MS)
    rows = page.evaluate(
        "Array.from(document.querySelectorAll('#stress-owners tbody tr'))"
        ".map((tr) => Array.from(tr.children).map((td) => td.textContent))"
    )
    owners = [r[1] for r in rows]
    assert len(rows) == 3 * len(set(owners)) and "rest of the network" in owners and "MARA Holdings" in owners
    assert [r[0] for r in rows[:: len(set(owners))]] == ["-10%", "-20%", "-30%"]
    for r in rows:
        sold, production = (float(x.replace(",", "")) for x in (r[2], r[3]))
        drawn = float(r[4].split(" ")[0].replace(",", ""))
        assert abs(sold - production - drawn) <= 1.5  # whole BTC, rounded each
        assert r[5].startswith("$") and r[6]
    mara = page.get_attribute('#stress-owners tr[data-owner="MARA Holdings"] td:nth-child(2)', "title")
    assert mara is not None and "btc: fact:" in mara
    loop = page.evaluate(
        "Array.from(document.querySelectorAll('#stress-loop tbody tr'))"
        ".map((tr) => Array.from(tr.children).map((td) => td.textContent))"
    )
    assert [r[0] for r in loop] == ["-10%", "-20%", "-30%"] and all(r[1] == "0" for r in loop)
    assert all(r[2].endswith("%") and r[3].endswith("%") for r in loop)
    note = page.text_content("#stress-note") or ""
    assert "no AI/HPC contract" in note and "hashrisk flows btc" in note and "feedback off" in note
    page.close()
    assert problems == []
    assert requests and all(u.startswith(live_server) or u.startswith("data:") for u in requests), requests
