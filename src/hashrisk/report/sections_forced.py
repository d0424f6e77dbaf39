"""The report's "Who is forced to sell" section: the owners of the stress runs (``hashrisk stress``'s summary,
:func:`hashrisk.sim.stress.stress_summary`) and how each met its cash needs under the -10/-20/-30% shocks.

Every number comes from the stress runs of the context (one summary for the CLI, the report and the dashboard);
this module only lays them out, each with its unit.
"""

from __future__ import annotations

import math
from typing import Any

from hashrisk.display import pct, usd
from hashrisk.report.context import ReportContext
from hashrisk.report.model import Figures, KeyFigure, Paragraph, Section, Table
from hashrisk.sim.result import RUNWAY_CAP_MONTHS

TITLE = "Who is forced to sell"


def _label(shock: float) -> str:
    return f"{shock:+.0%}"


def _key(shock: float) -> str:
    return f"m{abs(round(shock * 100)):02d}"


def _btc(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:,.0f} BTC"


def _months(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f">= {RUNWAY_CAP_MONTHS:.0f} (cap)" if x >= RUNWAY_CAP_MONTHS else f"{x:,.1f}"


def _owner_row(label: str, o: dict[str, Any]) -> tuple[str, ...]:
    share = o["treasury_drawn_share_of_start_btc"]["mean"]
    return (
        label,
        o["owner"],
        _btc(o["sold_btc"]["mean"]),
        _btc(o["sold_production_btc"]["mean"]),
        _btc(o["treasury_drawn_btc"]["mean"]),
        pct(share) if math.isfinite(share) else "no BTC at the start",
        usd(o["capital_raised_usd"]["mean"]),
        usd(o["raise_cost_usd"]["mean"]),
        pct(o["forced_share_of_paths"], 0),
    )


def forced_selling_section(ctx: ReportContext) -> Section:
    """Per shock and owner: BTC sold split into production sold and treasury drawn down, capital raised and its
    cost, runway; the BTC the AI/HPC capex alone forces out; the amplification with and without the feedback."""
    runs = ctx.stress
    first = runs[0].summary
    nf = first["net_flows"]
    horizon = ctx.stress_horizon_days
    who_rows: list[tuple[str, ...]] = []
    items: list[KeyFigure] = []
    loop_rows: list[tuple[str, ...]] = []
    for r in runs:
        s, label, k = r.summary, _label(r.shock), _key(r.shock)
        who_rows.extend(_owner_row(label, o) for o in s["owners"])
        listed = [o for o in s["owners"] if o["listed"]]
        drawn = sum(o["treasury_drawn_btc"]["mean"] for o in listed)
        held = sum(o["btc_start"] for o in listed)
        items.append(
            KeyFigure(
                f"forced_{k}_listed_treasury_drawn_btc",
                f"{label}: listed miners' treasury BTC drawn down over {horizon} days (mean)",
                drawn,
                _btc(drawn),
                f"{pct(drawn / held) if held > 0 else 'n/a'} of the {held:,.0f} BTC they held at the start",
            )
        )
        hpc = s["ai_hpc_forced"]["treasury_drawn_btc"]
        amp = s["amplification"]
        items.append(
            KeyFigure(
                f"forced_{k}_ai_hpc_btc",
                f"{label}: BTC the AI/HPC capex alone forces onto the market (mean)",
                hpc["mean"],
                _btc(hpc["mean"]),
                "with the owners' AI/HPC flows minus without them, same shock and seed",
            )
        )
        items.append(
            KeyFigure(
                f"forced_{k}_amplification",
                f"{label}: max drawdown with / without the feedback (median ratio)",
                amp["max_drawdown_ratio_p50"],
                f"{amp['max_drawdown_ratio_p50']:.3f}",
                f"{pct(amp['max_drawdown_on_p50'])} with, {pct(amp['max_drawdown_off_p50'])} without",
            )
        )
        loop_rows.append(
            (
                label,
                f"{_btc(hpc['p50'])} / {_btc(hpc['mean'])}",
                usd(s["ai_hpc_forced"]["capital_raised_usd"]["mean"]),
                pct(amp["max_drawdown_on_p50"]),
                pct(amp["max_drawdown_off_p50"]),
                f"{amp['max_drawdown_ratio_p50']:.3f}",
                f"{amp['vol_ratio_mean']:.3f}",
            )
        )
    owners = [o["owner"] for o in first["owners"]]
    runway_rows = tuple(
        (
            name,
            *(
                " / ".join(_months(r.summary["owners"][i]["runway_months"][q]) for q in ("p05", "p50"))
                for r in runs
            ),
        )
        for i, name in enumerate(owners)
    )
    as_of = runs[0].result.start.date
    return Section(
        "forced_selling",
        TITLE,
        (
            Paragraph(
                "Mechanism: each listed miner pays its power, other cash costs, interest, principal at maturity "
                "and AI/HPC capex out of cash; below its cash floor it sells treasury BTC or raises capital, whose "
                "cost rises as BTC falls (mining equities move with BTC). The rest of the network sells its "
                "production. What they sell, net of corporate treasuries' buying, feeds back into the price."
            ),
            Paragraph(
                f"Owners: the listed miners with the cited datasets' latest periods on or before {as_of} (their "
                "balance sheets; each value's document, or 'assumption', is listed under Provenance), and the rest "
                f"of the network (labelled assumptions). Treasury buying netted in the feedback: "
                f"{usd(nf['treasury_buying_usd_per_day'])}/day, {nf['basis']}; ETF flows "
                f"{usd(nf['etf_usd_per_day'])}/day (assumption: 0 unless given).",
                kind="note",
            ),
            Table(
                (
                    "shock",
                    "owner",
                    f"BTC sold over {horizon} d [BTC]",
                    "of it production sold [BTC]",
                    "of it treasury drawn down [BTC]",
                    "drawdown, share of its BTC at the start",
                    "capital raised [USD]",
                    "its issuance cost [USD]",
                    "paths forced to draw or raise",
                ),
                tuple(who_rows),
                caption="Who is forced to sell: means over paths (production sold + treasury drawn = BTC sold)",
            ),
            Table(
                ("owner", *(f"{_label(r.shock)}: p05 / p50 [months]" for r in runs)),
                runway_rows,
                caption=f"Months of runway: liquidity at the start (cash above the floor + BTC at the median end "
                f"price) over the average net cash need; capped at {RUNWAY_CAP_MONTHS:.0f} months (also when "
                "routine sales cover the needs)",
            ),
            Table(
                (
                    "shock",
                    "BTC the AI/HPC capex forces out, p50 / mean",
                    "capital the AI/HPC capex forces to raise (mean) [USD]",
                    "max drawdown with feedback (p50)",
                    "max drawdown without feedback (p50)",
                    "amplification: drawdown ratio (p50)",
                    "price vol ratio with / without (mean)",
                ),
                tuple(loop_rows),
                caption="The AI/HPC capex's share of the forced selling, and the amplification of the price fall",
            ),
            Paragraph(
                f"AI/HPC: {first['ai_hpc_forced']['note'].rstrip('.')}. "
                f"Amplification: {first['amplification']['definition']}.",
                kind="note",
            ),
            Figures(tuple(items)),
        ),
    )
