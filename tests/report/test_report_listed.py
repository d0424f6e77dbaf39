"""The "Miners' BTC sales" section and the AI/HPC progress blocks: built with no store, from the packaged
datasets; missing facts shown as not disclosed, never 0; rendered to HTML and Markdown."""

from __future__ import annotations

import math

import pytest

from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.flows.hpc_contracts import funding_gap_from_contracts, progress
from hashrisk.flows.listed import published_sales_comparison, quarterly_sales
from hashrisk.report.context import ReportContext
from hashrisk.report.model import Report, Section, Table
from hashrisk.report.render import to_html, to_markdown
from hashrisk.report.sections_listed import listed_section
from hashrisk.report.sections_measured import hpc_section


@pytest.fixture(scope="module")
def ctx() -> ReportContext:
    return ReportContext(snapshot=NetworkSnapshot.embedded())  # no store, no history


def test_listed_section_builds_without_a_store(ctx: ReportContext) -> None:
    assert ctx.daily is None
    sec = listed_section(ctx)
    assert isinstance(sec, Section) and sec.key == "listed"
    assert [c.key for c in sec.charts] == ["listed_sales", "listed_holdings"]
    f = sec.figures
    comp = published_sales_comparison()
    assert f["listed_published_q1_2026_btc_sold"].value == 32_000
    assert "Bitcoin Mining in the Red" in f["listed_published_q1_2026_btc_sold"].basis
    assert f["listed_q1_2026_companies_with_figure"].value == comp["companies_with_figure"]
    sold = f["listed_q1_2026_dataset_btc_sold"]
    if comp["companies_with_figure"] == 0:
        assert math.isnan(sold.value) and sold.text == "not disclosed"  # never shown as 0


def test_listed_tables_show_missing_as_not_disclosed(ctx: ReportContext) -> None:
    sec = listed_section(ctx)
    assert isinstance(sec, Section)
    sales = next(b for b in sec.blocks if isinstance(b, Table) and b.caption.startswith("Production against"))
    per, totals = quarterly_sales()
    assert len(sales.rows) == len(per) + len(totals)
    for row in sales.rows:
        company, sold, coverage = row[1], row[4], row[5]
        if coverage == "not disclosed" and company != "total":
            assert sold == "not disclosed"
    for t in totals.itertuples():
        if t.n_companies_sold == 0:
            row = next(r for r in sales.rows if r[0] == t.quarter and r[1] == "total")
            assert row[4] == "not disclosed"


def test_hpc_section_shows_progress_and_contract_gap(ctx: ReportContext) -> None:
    sec = hpc_section(ctx)
    assert isinstance(sec, Section)
    assert "hpc_progress" in [c.key for c in sec.charts]
    lib = progress().summary()["total"]
    assert sec.figures["hpc_progress_contracted_mw"].value == lib["contracted_mw"]
    assert sec.figures["hpc_progress_delivered_share"].value == pytest.approx(lib["delivered_share_low"])
    gap = funding_gap_from_contracts()
    table = next(
        b for b in sec.blocks if isinstance(b, Table) and b.caption.startswith("Industry funding gap")
    )
    assert f"{gap.contracted_mw:,.0f} IT-MW contracted" in table.caption
    assert table.rows[1][1] == f"${gap.short_term_gap_usd['point'] / 1e9:,.1f}bn"


def test_sections_render_to_html_and_markdown(ctx: ReportContext) -> None:
    sections = (listed_section(ctx), hpc_section(ctx))
    report = Report("t", "s", sections)
    html = to_html(report)
    assert "BTC sales" in html and "32,000" in html and "not disclosed" in html
    md, images = to_markdown(report, "img")
    assert "## Miners' BTC sales" in md and "| total |" in md
    assert {c.key for c, _ in images} >= {"listed_sales", "listed_holdings", "hpc_progress"}
    summary = report.summary()
    assert summary["figures"]["listed_published_q1_2026_btc_sold"] == 32_000
    if published_sales_comparison()["companies_with_figure"] == 0:
        assert summary["figures"]["listed_q1_2026_dataset_btc_sold"] is None  # null, not 0
