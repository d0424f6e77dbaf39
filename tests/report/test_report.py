"""The desk report: built on the embedded snapshot, written as HTML and Markdown, read back, and every
number compared with the library function (and, where there is one, a hand computation or a consensus
test vector)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from reportparse import ParsedHtml, parse_html, parse_markdown

from hashrisk.analytics.adjustment import next_adjustment
from hashrisk.chain.estimate import estimate_next_adjustment
from hashrisk.chain.pow import bits_to_difficulty, difficulty_to_target, target_to_bits
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.economics.cost import ProductionCost, production_cost
from hashrisk.economics.fleet import FleetSpec, build_fleet
from hashrisk.economics.tornado import tornado
from hashrisk.errors import DataError, InputError
from hashrisk.flows.owners import with_listed_owners
from hashrisk.report import Report, Section, Skipped, build_report, load_context, write_report
from hashrisk.report.render import find_chrome
from hashrisk.report.sections import SECTIONS
from hashrisk.sim.engine import simulate
from hashrisk.sim.scenario import Scenario
from hashrisk.sim.stress import stress_scenario, stress_summary, with_treasury_buying

PATHS = 300
"""Paths per shock in these tests (the report's default is 2,000; the recipe is the same)."""
CORE = ("headline", "production_cost", "cost_curve", "next_adjustment", "stress", "counterpoints")
ALWAYS_BUILT = (*CORE, "forced_selling", "hpc", "listed", "flows", "uncertainty", "provenance")


def usd(x: float) -> str:
    return f"${x:,.0f}"


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


@pytest.fixture(scope="module")
def empty_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("report-home")


@pytest.fixture(scope="module")
def report(empty_home: Path) -> Report:
    return build_report(load_context(home=empty_home, stress_paths=PATHS))


@pytest.fixture(scope="module")
def html(report: Report, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, ParsedHtml]:
    path = tmp_path_factory.mktemp("out") / "report.html"
    assert write_report(report, path) == [path]
    text = path.read_text(encoding="utf-8")
    return text, parse_html(text)


@pytest.fixture(scope="module")
def library() -> ProductionCost:
    """What `hashrisk cost` computes on the embedded snapshot (independently of the report)."""
    snap = NetworkSnapshot.embedded()
    return production_cost(snap, build_fleet(FleetSpec.default(), snap.hashrate_ths), 0.05)


# ------------------------------------------------------------------------------------------- structure
def test_every_section_present_in_order(html: tuple[str, ParsedHtml]) -> None:
    _, parsed = html
    assert [k for k, _ in parsed.sections] == [k for k, _, _ in SECTIONS]
    status = dict(parsed.sections)
    for key in ALWAYS_BUILT:
        assert status[key] == "built", key


def test_sections_without_inputs_are_skipped_with_the_reason(html: tuple[str, ParsedHtml]) -> None:
    _, parsed = html
    status = dict(parsed.sections)
    # nothing is stored: the measured sensitivity has no history to measure
    assert status["sensitivity"] == "skipped"
    assert "no daily history is stored" in parsed.skipped_reasons["sensitivity"]
    for key, st in status.items():
        if st == "skipped":
            assert (
                parsed.skipped_reasons[key].startswith("Skipped: ") and len(parsed.skipped_reasons[key]) > 20
            )


def test_headline_equals_the_cost_command(html: tuple[str, ParsedHtml], library: ProductionCost) -> None:
    _, parsed = html
    f = parsed.figures
    price = 71_329.0
    expected = {
        "price_usd": (price, "$71,329"),
        "electricity_fleet_usd_per_btc": (library.electricity_fleet_usd_per_btc, None),
        "all_in_usd_per_btc": (library.all_in["total"], None),
        "share_unprofitable": (float(library.curve.share_unprofitable(price)), None),
        "share_within_10pct": (float(library.curve.share_within(price, 0.10)), None),
    }
    for key, (value, text) in expected.items():
        assert f[key][0] == pytest.approx(value, rel=1e-12), key
        shown = text or (pct(value) if key.startswith("share") else usd(value))
        assert f[key][1] == shown, key
    # hand check of the electricity-only figure: fleet wall efficiency 18.95 J/TH x PUE 1.1025 (the default
    # fleet's class and PUE mixes) at $0.05/kWh, difficulty 138,955,357,012,247, reward 3.125 + 0.023 BTC
    e_wall = 18.95 * 1.1025
    btc_per_ths_day = 86_400e12 / (138_955_357_012_247.0 * 2**32) * 3.148
    assert f["electricity_fleet_usd_per_btc"][0] == pytest.approx(e_wall * 0.024 * 0.05 / btc_per_ths_day)
    # the basket bounds bracket the fleet figure, and the all-in figure exceeds it (same power price)
    assert f["electricity_basket_lower_usd_per_btc"][0] < f["electricity_fleet_usd_per_btc"][0]
    assert f["all_in_usd_per_btc"][0] > f["electricity_fleet_usd_per_btc"][0]


def test_cost_section_equals_the_library(html: tuple[str, ParsedHtml], library: ProductionCost) -> None:
    f = html[1].figures
    s = library.summary()
    for key, value in {
        "hashprice_usd_per_ph_day": library.hashprice_usd_per_ph_day,
        "electricity_basket_lower_usd_per_btc": s["electricity_only_usd_per_btc"]["lower"],
        "electricity_basket_best_usd_per_btc": s["electricity_only_usd_per_btc"]["best_guess"],
        "electricity_basket_upper_usd_per_btc": s["electricity_only_usd_per_btc"]["upper"],
        "electricity_per_cent_usd_per_btc": library.electricity_per_cent_usd_per_btc,
        "all_in_depreciation_usd_per_btc": library.all_in["depreciation"],
        "curve_p50_usd": s["cost_curve"]["breakeven_p50_usd"],
        "marginal_cost_usd": s["cost_curve"]["marginal_cost_usd"],
        "share_unprofitable_m20": s["share_unprofitable"]["-20%"],
    }.items():
        assert f[key][0] == pytest.approx(value, rel=1e-12), key
    # the hashprice as Luxor defines it: 1,000 x BTC per TH/s per day x price
    assert f["hashprice_usd_per_ph_day"][1] == f"${library.hashprice_usd_per_ph_day:,.2f}/PH/day"
    # the per-cent figure is the fleet figure at $0.01/kWh (linear in the power price)
    assert f["electricity_per_cent_usd_per_btc"][0] == pytest.approx(
        f["electricity_fleet_usd_per_btc"][0] / 5
    )


def test_next_adjustment_equals_the_estimator(html: tuple[str, ParsedHtml]) -> None:
    f = html[1].figures
    d = 138_955_357_012_247.0
    bits = target_to_bits(difficulty_to_target(d))
    # the embedded snapshot's height 951,552 is a period's first block; the pace is the 7-day hashrate's
    interval = bits_to_difficulty(bits) * 2**32 / (0.98e9 * 1e12)
    now = int(dt.datetime(2026, 6, 1, tzinfo=dt.UTC).timestamp())
    est = estimate_next_adjustment(bits, now, 1, now, epoch_start_height=951_552, prior_interval_s=interval)
    assert est.retarget_height == 953_568
    assert f["next_change_pct_median"][0] == pytest.approx(est.change_pct_p50, rel=1e-12)
    assert f["next_change_pct_p05"][0] == pytest.approx(est.change_pct_p05, rel=1e-12)
    assert f["next_change_pct_p95"][0] == pytest.approx(est.change_pct_p95, rel=1e-12)
    assert f["next_change_pct_p50"][1] == f"{est.change_pct_p50:+.2f}%"
    assert f["blocks_remaining"][0] == 2015
    # a hashrate 1.5% below what the difficulty implies at 600 s slows blocks: the median change is negative
    assert f["next_change_pct_median"][0] < 0 < f["next_change_pct_p95"][0]


def test_stress_equals_the_stress_command_recipe(html: tuple[str, ParsedHtml]) -> None:
    f = html[1].figures
    snap = NetworkSnapshot.embedded()
    base = Scenario().with_params({"paths": PATHS, "horizon_days": 90, "seed": 2026, "name": "report stress"})
    # as `hashrisk stress`: the day's listed owners, and the treasury buying `hashrisk flows btc` measures
    # (the packaged 520 BTC over 7 days x the snapshot's price)
    base = with_treasury_buying(with_listed_owners(base, snap.date), 520 / 7 * snap.price_usd)
    for shock, key in ((-0.10, "m10"), (-0.20, "m20"), (-0.30, "m30")):
        res = simulate(stress_scenario(base, shock, 30, None), snap, backend="numpy")
        s = stress_summary(res, shock, 30)
        listed = [o for o in s["owners"] if o["listed"]]
        assert f[f"forced_{key}_listed_treasury_drawn_btc"][0] == pytest.approx(
            sum(o["treasury_drawn_btc"]["mean"] for o in listed), rel=1e-12
        )
        assert f[f"forced_{key}_ai_hpc_btc"][0] == 0.0
        assert f[f"forced_{key}_amplification"][0] == pytest.approx(
            s["amplification"]["max_drawdown_ratio_p50"], rel=1e-12
        )
        assert f[f"stress_{key}_first_retarget_p50"][0] == pytest.approx(
            s["next_retargets"][0]["change_pct_p50"], rel=1e-12
        )
        assert f[f"stress_{key}_offline_p50"][0] == pytest.approx(
            s["hashrate_offline_vs_start_at_shock_end"]["p50"], rel=1e-12
        )
        assert f[f"stress_{key}_sold_btc_per_day"][0] == pytest.approx(
            s["btc_sold"]["during_shock_btc_per_day_mean"], rel=1e-12
        )
    # deeper shocks take more hashrate offline and lower the first retarget further
    assert f["stress_m10_offline_p50"][0] < f["stress_m20_offline_p50"][0] < f["stress_m30_offline_p50"][0]
    assert (
        f["stress_m10_first_retarget_p50"][0]
        > f["stress_m20_first_retarget_p50"][0]
        > f["stress_m30_first_retarget_p50"][0]
    )


def test_uncertainty_equals_the_tornado(html: tuple[str, ParsedHtml]) -> None:
    text, parsed = html
    t = tornado(NetworkSnapshot.embedded(), FleetSpec.default(), 0.05)
    for m in ("all_in_usd_per_btc", "share_unprofitable"):
        top = t.ranked(m)[0]
        assert parsed.figures[f"tornado_top_swing_{m}"][0] == pytest.approx(top.swing(m), rel=1e-12)
    for key in ("tornado_all_in", "tornado_electricity", "tornado_share"):
        assert key in parsed.charts
    assert "CBECI" in text  # the PUE range's source


def test_html_is_self_contained(report: Report, html: tuple[str, ParsedHtml]) -> None:
    text, parsed = html
    assert all(s.get("src") is None for s in parsed.scripts), "a <script src=...> was written"
    assert parsed.links == [], "a <link> (stylesheet or other resource) was written"
    assert not any(s.lower().startswith(("http:", "https:", "//")) for s in parsed.srcs)
    assert parsed.inline_script_chars > 3_000_000  # plotly.js (~4.8 MB) is inline
    assert text.count("window.PlotlyConfig") == 1  # embedded once, not per chart
    expected = [c.key for s in report.sections if isinstance(s, Section) for c in s.charts]
    assert parsed.charts == expected and len(expected) >= 9
    for key in expected:  # each chart's div is drawn by a Plotly.newPlot call naming it
        assert text.count(f'id="chart-{key}"') == 1
        assert f'"chart-{key}",' in text


def test_forced_selling_section_names_units_and_owner_sources(html: tuple[str, ParsedHtml]) -> None:
    import html as h

    from hashrisk.flows.owners import listed_owner_specs

    text = h.unescape(html[0])
    assert "Who is forced to sell" in text and "of it treasury drawn down [BTC]" in text
    assert "capital raised [USD]" in text and "[months]" in text
    assert "no AI/HPC contract" in text and "measured by `hashrisk flows btc`" in text
    # provenance: every listed owner's document or assumption
    for owner in listed_owner_specs(NetworkSnapshot.embedded().date).owners:
        for source in owner["sources"].values():
            assert source in text


def test_provenance_names_every_source_and_assumption(html: tuple[str, ParsedHtml]) -> None:
    import html as h

    text = h.unescape(html[0])
    snap = NetworkSnapshot.embedded()
    for source in snap.sources.values():
        assert source in text
    spec = FleetSpec.default()
    assert spec.label in text
    for c in spec.classes:
        assert c.name in text
    assert "https://www.coindesk.com/markets/2026/06/22/" in text
    for param in ("treasury.share_sold", "impact.daily_volume_usd", "fleet.hysteresis"):
        assert param in text
    assert "No data store" in text


def test_hpc_and_flows_equal_their_models(html: tuple[str, ParsedHtml], library: ProductionCost) -> None:
    from hashrisk.flows.btc import BtcFlowInputs, btc_flows
    from hashrisk.flows.pensions import PensionInputs, pension_flows
    from hashrisk.hpc import SiteSpec, evaluate_site

    f = html[1].figures
    snap = NetworkSnapshot.embedded()
    site = evaluate_site(SiteSpec.packaged(), snap)
    for option, value in site.options.items():
        assert f[f"hpc_npv_{option}_usd"][0] == pytest.approx(value.npv_usd, rel=1e-12)
    pensions = pension_flows(PensionInputs.packaged())
    assert f["pension_theoretical_imbalance_usd"][0] == pytest.approx(pensions.theoretical_imbalance_usd)
    assert (
        f["pension_theoretical_imbalance_usd"][1]
        == f"-${abs(pensions.theoretical_imbalance_usd) / 1e9:,.1f}bn"
    )
    flows = btc_flows(BtcFlowInputs.packaged(), snap, library)
    assert f["btc_net_btc_per_day"][0] == pytest.approx(flows.net_btc_per_day, rel=1e-12)
    # miners sell 80% of production: blocks/day at the snapshot x (3.125 + 0.023) BTC
    blocks = 0.98e9 * 1e12 * 86_400 / (138_955_357_012_247.0 * 2**32)
    assert f["btc_miner_sales_btc_per_day"][0] == pytest.approx(-0.8 * blocks * 3.148)


# ------------------------------------------------------------------------------------------- markdown
def test_markdown_report_with_svg_charts(
    report: Report, html: tuple[str, ParsedHtml], tmp_path: Path
) -> None:
    if find_chrome() is None:
        pytest.skip("no Chrome/Chromium for kaleido (Debian package `chromium`; CI installs it)")
    path = tmp_path / "desk.md"
    files = write_report(report, path, "md")
    assert files[0] == path and all(p.exists() for p in files)
    md = parse_markdown(path.read_text(encoding="utf-8"))
    assert md.headings == [s.title for s in report.sections]
    assert len(md.skipped) == sum(isinstance(s, Skipped) for s in report.sections)
    charts = [c.key for s in report.sections if isinstance(s, Section) for c in s.charts]
    assert md.images == [f"desk_files/{k}.svg" for k in charts]
    for rel in md.images:
        svg = (tmp_path / rel).read_text(encoding="utf-8")
        assert "<svg" in svg[:500]
    # the key figures read back from the Markdown tables show the same text as the HTML cells
    figures = report.figures
    for key in (
        "all_in_usd_per_btc",
        "share_unprofitable",
        "next_change_pct_p50",
        "stress_m20_first_retarget_p50",
    ):
        fig = figures[key]
        assert md.rows[fig.label][0] == html[1].figures[key][1]


def test_markdown_without_chrome_is_a_clear_error(
    report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chrome"))
    with pytest.raises(InputError) as info:
        write_report(report, tmp_path / "r.md")
    assert info.value.field == "--format" and "Chromium" in str(info.value)
    assert not (tmp_path / "r.md").exists()


# ------------------------------------------------------------------------------------------- inputs
def test_date_with_nothing_stored_is_a_clear_error(empty_home: Path) -> None:
    with pytest.raises(DataError, match="no daily price for 2026-06-01"):
        load_context("2026-06-01", home=empty_home)


def test_a_builder_error_becomes_a_skipped_section(empty_home: Path) -> None:
    ctx = load_context(home=empty_home, stress_paths=10)

    def bad(_: object) -> Section:
        raise InputError("power_price_usd_per_kwh", -1, "a finite number >= 0")

    rep = build_report(ctx, [("bad", "Bad section", bad), SECTIONS[0]])  # type: ignore[list-item]
    skipped = rep.section("bad")
    assert isinstance(skipped, Skipped) and "power_price_usd_per_kwh" in skipped.reason
    assert isinstance(rep.section("headline"), Section)

    def bug(_: object) -> Section:
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):  # bugs are not hidden as skipped sections
        build_report(ctx, [("bug", "Bug", bug)])  # type: ignore[list-item]


def test_adjustment_from_stored_blocks_is_consensus_exact() -> None:
    """Bitcoin Core's pow_tests vector: the period ending at height 32,255 (first block 30,240 at
    1261130161, last 1262152739, nBits 0x1d00ffff) retargets to 0x1d00d86a."""
    blocks = pd.DataFrame(
        {
            "time": pd.to_datetime([1261130161, 1262152739], unit="s", utc=True),
            "bits": ["1d00ffff", "1d00ffff"],
            "source": ["test", "test"],
        },
        index=pd.Index([30_240, 32_255], name="height"),
    )
    snap = NetworkSnapshot.embedded().override(height=32_255, difficulty=1.0)
    info = next_adjustment(snap, blocks)
    assert info.basis == "stored blocks" and info.estimate.locked_in
    assert info.estimate.next_bits_p50 == 0x1D00D86A
    assert info.retarget_height == 32_256 and info.blocks_mined == 2016


def test_adjustment_mid_period_from_stored_blocks() -> None:
    t0 = 1_700_000_000
    blocks = pd.DataFrame(
        {
            "time": pd.to_datetime([t0, t0 + 999 * 570], unit="s", utc=True),
            "bits": ["17053894", "17053894"],
            "source": ["test", "test"],
        },
        index=pd.Index([818_496, 819_495], name="height"),
    )
    snap = NetworkSnapshot.embedded().override(height=819_495)
    info = next_adjustment(snap, blocks)
    expected = estimate_next_adjustment(
        0x17053894, t0, 1000, t0 + 999 * 570, last_block_time=t0 + 999 * 570, epoch_start_height=818_496
    )
    assert info.basis == "stored blocks" and info.absolute_times
    assert info.estimate == expected
    assert info.estimate.change_pct_p50 > 0  # 570 s blocks: the difficulty rises


def test_report_on_a_stored_day(shared_data: Path, tmp_path: Path) -> None:
    """A store holding the Coin Metrics history: `--date` reports on that day, from the stored numbers."""
    from hashrisk.analytics import measure_sensitivity
    from hashrisk.data.files import import_file
    from hashrisk.data.store import Store

    name = "btc_daily_coinmetrics_2009-01-03_to_2025-09-26.csv"
    import_file(shared_data / name, home=tmp_path)
    rep = build_report(load_context("2025-09-26", home=tmp_path, stress_paths=50))
    with (shared_data / name).open(newline="", encoding="utf-8-sig") as fh:
        price = next(float(r["PriceUSD"]) for r in csv.DictReader(fh) if r["date"].startswith("2025-09-26"))
    assert rep.figures["price_usd"].value == price
    assert rep.meta["date"] == "2025-09-26"
    sens = rep.section("sensitivity")
    assert isinstance(sens, Section), sens
    with Store(tmp_path, read_only=True) as store:
        measured = measure_sensitivity(store.daily_frame(end="2025-09-26"))
    current = [e for e in measured.cycles if e.regressor == "price"][-1]
    assert current.period == "2024-"  # the cycle since the 2024-04-20 halving
    assert sens.figures["sens_current_price_elasticity"].value == pytest.approx(current.long_run, rel=1e-12)
    assert measured.verdict["text"] in sens.blocks[0].text  # type: ignore[union-attr]
    prov = rep.section("provenance")
    assert isinstance(prov, Section)
    assert any("6,111 stored days" in getattr(b, "text", "") for b in prov.blocks)
