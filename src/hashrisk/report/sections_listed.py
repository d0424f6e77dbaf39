"""Section builders over the packaged, cited datasets of listed miners: their BTC production against sales
(:mod:`hashrisk.flows.listed`) and the progress of their AI/HPC contracts (:mod:`hashrisk.flows.hpc_contracts`).

They need no store and no network: the datasets ship with the package, one source per value. A value a company
did not disclose is shown as not disclosed, never as 0, and nothing is filled in.
"""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go

from hashrisk.display import pct, usd_bn
from hashrisk.flows.listed import coverage_text
from hashrisk.report.charts import COST_COLOR, LAYOUT, PRICE_COLOR, SHOCK_COLORS
from hashrisk.report.context import ReportContext
from hashrisk.report.model import Block, Chart, Figures, KeyFigure, Paragraph, Section, Skipped, Table

NOT_DISCLOSED = "not disclosed"
TITLE = "Miners' BTC sales"


def _n(x: Any, fmt: str = ",.0f") -> str:
    if x is None or not math.isfinite(float(x)):
        return NOT_DISCLOSED
    return f"{float(x):{fmt}}"


def _sales_chart(per: list[dict[str, Any]], totals: list[dict[str, Any]]) -> go.Figure:
    quarters = [t["quarter"] for t in totals]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=quarters,
            y=[t["btc_produced"] for t in totals],
            name="produced (companies reporting)",
            marker_color=COST_COLOR,
            customdata=[[t["n_companies_produced"], t["incomplete_companies"] or "none"] for t in totals],
            hovertemplate="%{x}: %{y:,.0f} BTC produced by %{customdata[0]} companies; partial: "
            "%{customdata[1]}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            x=quarters,
            y=[t["btc_sold"] for t in totals],
            name="sold (companies reporting)",
            marker_color=PRICE_COLOR,
            customdata=[[t["n_companies_sold"]] for t in totals],
            hovertemplate="%{x}: %{y:,.0f} BTC sold by %{customdata[0]} companies<extra></extra>",
        )
    )
    companies = sorted({r["company"] for r in per})
    for i, c in enumerate(companies):
        rows = [r for r in per if r["company"] == c]
        fig.add_trace(
            go.Scatter(
                x=[r["quarter"] for r in rows],
                y=[r["btc_produced"] for r in rows],
                mode="markers",
                name=f"{c}: produced",
                marker={"color": SHOCK_COLORS[i % len(SHOCK_COLORS)], "symbol": "circle", "size": 9},
            )
        )
    fig.update_layout(
        **LAYOUT,
        barmode="group",
        title="BTC produced and sold per quarter, listed miners' disclosures (a missing bar = not disclosed)",
        xaxis_title="calendar quarter",
        yaxis_title="BTC",
        xaxis={"type": "category", "categoryorder": "category ascending"},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def _holdings_chart(holdings: list[dict[str, Any]]) -> go.Figure:
    fig = go.Figure()
    for i, c in enumerate(sorted({h["company"] for h in holdings})):
        rows = [h for h in holdings if h["company"] == c]
        fig.add_trace(
            go.Scatter(
                x=[h["period_end"] for h in rows],
                y=[h["btc_held"] for h in rows],
                mode="lines+markers",
                name=c,
                line={"color": SHOCK_COLORS[i % len(SHOCK_COLORS)]},
                hovertemplate="%{x}: %{y:,.0f} BTC held<extra>" + c + "</extra>",
            )
        )
    fig.update_layout(
        **LAYOUT,
        title="BTC held at period end, as disclosed",
        xaxis_title="period end",
        yaxis_title="BTC",
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def listed_section(ctx: ReportContext) -> Section | Skipped:
    """Listed miners' BTC production against sales per quarter, holdings, months of production they cover, and
    the published Q1-2026 figure with how far the packaged dataset reaches towards it."""
    del ctx  # the dataset is packaged: independent of the snapshot and the store
    from hashrisk.flows.listed import dataset_overview

    try:
        o = dataset_overview()
    except (OSError, ValueError) as exc:  # pragma: no cover - the dataset ships with the package
        return Skipped("listed", TITLE, f"the packaged listed-miners dataset could not be read ({exc})")
    per: list[dict[str, Any]] = o["quarterly_sales"]["per_company"]
    totals: list[dict[str, Any]] = o["quarterly_sales"]["totals"]
    comp: dict[str, Any] = o["published_comparison"]
    evidence: dict[str, Any] = o["share_sold_evidence"]
    ds = o["dataset"]
    blocks: list[Block] = [
        Paragraph(
            f"What listed miners disclosed about the BTC they mine, sell and hold: {ds['values']} values of "
            f"{len(ds['companies'])} companies ({', '.join(ds['companies'])}) over periods "
            f"{ds['periods'][0]} to {ds['periods'][-1]}, each read in the company's own release or filing "
            "(packaged dataset hashrisk/flows/data/listed_miners.csv, one source per value). A quarter sums the "
            "months a company reported when it gives no quarterly figure; nothing is estimated, and a value not "
            "found is shown as not disclosed, never as zero."
        ),
        Paragraph(str(comp["text"])),
    ]
    items = [
        KeyFigure(
            "listed_published_q1_2026_btc_sold",
            "BTC sold in 2026Q1 by six listed miners, published",
            float(comp["published"]["value"]),
            f"over {comp['published']['value']:,.0f} BTC",
            str(comp["published"]["source"]),
        ),
        KeyFigure(
            "listed_q1_2026_companies_with_figure",
            "companies of those six with a 2026Q1 sales figure in the dataset",
            float(comp["companies_with_figure"]),
            f"{comp['companies_with_figure']} of {comp['companies_named']}",
            "packaged dataset, matched by ticker",
        ),
        KeyFigure(
            "listed_q1_2026_dataset_btc_sold",
            "BTC sold in 2026Q1 by those companies, in the dataset",
            float(comp["dataset_btc_sold"]),
            _n(comp["dataset_btc_sold"]),
            f"share of the published figure: {pct(comp['share_of_published'], 0)}",
        ),
    ]
    blocks.append(Figures(tuple(items), caption="The published Q1-2026 figure and the dataset's reach"))
    if totals:
        blocks.append(Chart("listed_sales", "BTC produced and sold per quarter", _sales_chart(per, totals)))
    rows = tuple(
        (
            str(r["quarter"]),
            str(r["company"]),
            _n(r["btc_produced"]),
            coverage_text(r["basis_produced"], r["months_produced"], r["missing_produced"]),
            _n(r["btc_sold"]),
            coverage_text(r["basis_sold"], r["months_sold"], r["missing_sold"]),
        )
        for r in sorted(per, key=lambda r: (r["quarter"], r["company"]))
    ) + tuple(
        (
            str(t["quarter"]),
            "total",
            _n(t["btc_produced"]),
            f"companies: {t['n_companies_produced']}"
            + (f"; partial: {t['incomplete_companies']}" if t["incomplete_companies"] else ""),
            _n(t["btc_sold"]),
            f"companies: {t['n_companies_sold']}",
        )
        for t in totals
    )
    blocks.append(
        Table(
            ("quarter", "company", "produced [BTC]", "coverage", "sold [BTC]", "coverage"),
            rows,
            caption="Production against sales per quarter, per company and in total (totals over the "
            "companies that reported)",
        )
    )
    if o["holdings"]:
        blocks.append(Chart("listed_holdings", "BTC held over time", _holdings_chart(o["holdings"])))
    blocks.append(
        Table(
            ("company", "period", "BTC held", "produced per month [BTC]", "months covered"),
            tuple(
                (
                    str(r["company"]),
                    str(r["period"] or NOT_DISCLOSED),
                    _n(r["btc_held"]),
                    _n(r["btc_produced_per_month"]),
                    _n(r["cover_months"], ",.1f"),
                )
                for r in o["holdings_cover_months"]
            ),
            caption="Months of production that holdings cover: BTC held / BTC produced per month, on each "
            "company's latest period with both figures",
        )
    )
    blocks.append(
        Table(
            ("company", "period", "missing values"),
            tuple(
                (c, next(x["period"] for x in o["companies"] if x["company"] == c), ", ".join(m))
                for c, m in o["missing"].items()
            ),
            caption="Values of each company's latest period that the stress model needs and the dataset lacks "
            "(`hashrisk miners` runs the stress only on complete rows; supply them in your own file)",
        )
    )
    blocks.append(
        Paragraph(
            "Share of production sold in the simulator: the default (hashrisk.economics.fleet.MINERS_SHARE_SOLD, a "
            f"labelled assumption) is not derived from this dataset: {evidence['text']}.",
            kind="note",
        )
    )
    return Section("listed", TITLE, tuple(blocks), data={"overview": o})


# --------------------------------------------------------------------------------------------- hpc progress
def hpc_progress_blocks() -> list[Block]:
    """The AI/HPC section's progress blocks: contracted against delivered MW over time (chart), per company and
    in total at the latest date (table), beside VanEck's ~25% delivered share (cited)."""
    from hashrisk.flows.hpc_contracts import TOTAL, progress

    res = progress()
    s = res.summary()
    frame = res.to_frame()
    fig = go.Figure()
    total = frame[frame["company"] == TOTAL]
    fig.add_trace(
        go.Scatter(
            x=[d.isoformat() for d in total["date"]],
            y=total["contracted_mw"],
            mode="lines+markers",
            line={"shape": "hv", "color": COST_COLOR},
            name="contracted, all companies",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[d.isoformat() for d in total["date"]],
            y=total["delivered_mw"],
            mode="lines+markers",
            line={"shape": "hv", "color": PRICE_COLOR},
            name="delivered (disclosed), all companies",
            connectgaps=False,
        )
    )
    companies = sorted(c for c in set(frame["company"]) if c != TOTAL)
    for i, c in enumerate(companies):
        rows = frame[frame["company"] == c]
        fig.add_trace(
            go.Scatter(
                x=[d.isoformat() for d in rows["date"]],
                y=rows["contracted_mw"],
                mode="lines",
                line={"shape": "hv", "dash": "dot", "color": SHOCK_COLORS[(i + 1) % len(SHOCK_COLORS)]},
                name=f"{c}: contracted",
            )
        )
    fig.update_layout(
        **LAYOUT,
        title="AI/HPC critical-IT MW of listed miners: contracted against delivered",
        xaxis_title="date of announcement or disclosure",
        yaxis_title="MW (critical IT)",
        legend={"orientation": "h", "y": -0.25},
    )
    t = s["total"]
    table_rows = tuple(
        (
            name,
            f"{f['n_contracts']:.0f}",
            f"{f['contracted_mw']:,.0f}",
            _n(f["delivered_mw"]),
            pct(f["delivered_share_low"], 0),
            usd_bn(f["contract_value_usd"]),
            usd_bn(f["backlog_usd"]),
        )
        for name, f in [*s["by_company"].items(), ("total", t)]
    )
    items = (
        KeyFigure(
            "hpc_progress_contracted_mw",
            f"AI/HPC critical-IT MW contracted by listed miners, {s['as_of']}",
            t["contracted_mw"],
            f"{t['contracted_mw']:,.0f} MW",
            f"{t['n_contracts']:.0f} contracts, packaged dataset hpc_contracts.csv",
        ),
        KeyFigure(
            "hpc_progress_delivered_share",
            f"share of contracted AI/HPC MW delivered, {s['as_of']}",
            t["delivered_share_low"],
            pct(t["delivered_share_low"], 0),
            "lower bound: undisclosed delivery counted as none; VanEck: about "
            f"{pct(s['vaneck_delivered_share'], 0)} ({s['vaneck_source']})",
        ),
        KeyFigure(
            "hpc_progress_backlog_usd",
            f"contract value of AI/HPC capacity not yet delivered, {s['as_of']}",
            t["backlog_usd"],
            usd_bn(t["backlog_usd"]),
            "contract value x undelivered share (assumption)",
        ),
    )
    return [
        Paragraph(
            f"Progress of the listed miners' AI/HPC contracts to {s['as_of']} (the companies' own disclosures): "
            f"{t['contracted_mw']:,.0f} MW of critical IT contracted, {_n(t['delivered_mw'])} MW disclosed as "
            f"delivered ({pct(t['delivered_share_low'], 0)}, a lower bound), against VanEck's about "
            f"{pct(s['vaneck_delivered_share'], 0)} of leased capacity delivered. Contracts without a delivery "
            f"disclosure: {', '.join(s['contracts_without_delivery_disclosure']) or 'none'}."
        ),
        Chart("hpc_progress", "AI/HPC MW contracted against delivered", fig),
        Table(
            ("company", "contracts", "contracted MW", "delivered MW", "delivered share", "value", "backlog"),
            table_rows,
            caption=f"AI/HPC contracts as of {s['as_of']}",
        ),
        Figures(items),
        Paragraph("; ".join(s["assumptions"]) + ".", kind="note"),
    ]
