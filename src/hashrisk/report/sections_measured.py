"""Section builders over the measured history and the institutional models: sensitivity now versus past
cycles (:mod:`hashrisk.analytics`), AI/HPC conversion economics (:mod:`hashrisk.hpc`) and institutional flows
(:mod:`hashrisk.flows`). Like every builder they return a Section or a Skipped naming what is missing, and only
display what the library computed."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

from hashrisk.analytics.efficiency import MAX_STATE_GAP_DAYS, PUBLISHED_COSTS, efficiency_comparison
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.data.store import Store
from hashrisk.data.stored_snapshot import complete_days, snapshot_for_date
from hashrisk.display import num_or_dash, pct, usd, usd_bn, usd_m
from hashrisk.economics.fleet import Fleet, build_fleet, dated_fleet_spec
from hashrisk.errors import DataError
from hashrisk.report.charts import COST_COLOR, LAYOUT, PRICE_COLOR
from hashrisk.report.context import ReportContext
from hashrisk.report.model import Chart, Figures, KeyFigure, Paragraph, Section, Skipped, Table


def _fig(key: str, label: str, value: float, text: str, basis: str = "") -> KeyFigure:
    return KeyFigure(key=key, label=label, value=float(value), text=text, basis=basis)


def _ci(e: Any) -> str:
    return f"{e.long_run:+.2f} [{e.ci_low:+.2f}, {e.ci_high:+.2f}]"


def _sources_table(sources: dict[str, str], caption: str) -> Table:
    return Table(("input", "fact or assumption"), tuple(sorted(sources.items())), caption=caption)


# --------------------------------------------------------------------------------------------- sensitivity
def sensitivity_section(ctx: ReportContext) -> Section | Skipped:
    """Measured sensitivity of hashrate to price, now versus past cycles (needs stored history)."""
    title = "Sensitivity now versus past cycles"
    if not ctx.has_history or ctx.daily is None:
        return Skipped(
            "sensitivity",
            title,
            "no daily history is stored (import it with `hashrisk data import FILE` or "
            "`hashrisk data fetch --source coinmetrics`); the embedded snapshot is a single day",
        )
    try:
        from hashrisk.analytics import measure_sensitivity
    except ImportError as exc:  # pragma: no cover - the analytics layer ships with the package
        return Skipped("sensitivity", title, f"hashrisk.analytics is not available ({exc})")
    res = measure_sensitivity(ctx.daily, fleet=ctx.fleet_spec)
    v = res.verdict
    price_cycles = [e for e in res.cycles if e.regressor == "price"]
    hp_cycles = {e.period: e for e in res.cycles if e.regressor == "hashprice"}
    items: list[KeyFigure] = []
    blocks: list[Any] = [
        Paragraph(f"Is the network more sensitive to price than in past cycles? {v.get('text', '')}."),
        Paragraph(
            "Method: weekly means; Δlog hashrate regressed on Δlog price (and hashprice) with lags 0-"
            f"{res.params['lags']} weeks; the long-run elasticity is the sum of the lag coefficients, with "
            "Newey-West (HAC) confidence intervals; cycles are halving to halving. Hashprice contains "
            "difficulty, which follows hashrate, so the price elasticity is the primary test.",
            kind="note",
        ),
    ]
    if len(price_cycles) >= 2:
        cur, prev = price_cycles[-1], price_cycles[-2]
        items += [
            _fig(
                "sens_current_price_elasticity",
                f"price elasticity of hashrate, cycle {cur.period}",
                cur.long_run,
                _ci(cur),
                f"{cur.n_weeks} weeks, 95% CI",
            ),
            _fig(
                "sens_previous_price_elasticity",
                f"price elasticity of hashrate, cycle {prev.period}",
                prev.long_run,
                _ci(prev),
                f"{prev.n_weeks} weeks, 95% CI",
            ),
        ]
        diff = next(
            (
                d
                for d in res.differences
                if d.regressor == "price" and d.current == cur.period and d.baseline == prev.period
            ),
            None,
        )
        if diff is not None:
            items.append(
                _fig(
                    "sens_difference_vs_previous",
                    f"difference, {cur.period} minus {prev.period}",
                    diff.difference,
                    f"{diff.difference:+.2f} [{diff.ci_low:+.2f}, {diff.ci_high:+.2f}]",
                    f"p = {diff.p_value:.2f}; joint regression with cycle interactions",
                )
            )
    if len(res.mechanical):
        last = res.mechanical.iloc[-1]
        items.append(
            _fig(
                "sens_mechanical_share_within",
                f"hashrate within 10% of breakeven, week of {res.mechanical.index[-1].date()}",
                float(last["share_within"]),
                pct(float(last["share_within"])),
                f"cost curve of the fleet assumption ({res.fleet_label}) applied to that week",
            )
        )
    rows = tuple(
        (
            e.period,
            f"{e.n_weeks}",
            _ci(e),
            _ci(hp_cycles[e.period]) if e.period in hp_cycles else "n/a",
        )
        for e in price_cycles
    )
    fig = go.Figure()
    for name, cyc, color in (
        ("price", price_cycles, COST_COLOR),
        ("hashprice", list(hp_cycles.values()), "#888"),
    ):
        fig.add_trace(
            go.Scatter(
                x=[e.period for e in cyc],
                y=[e.long_run for e in cyc],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [e.ci_high - e.long_run for e in cyc],
                    "arrayminus": [e.long_run - e.ci_low for e in cyc],
                },
                mode="markers",
                marker={"size": 11, "color": color},
                name=f"elasticity to {name} (95% CI)",
            )
        )
    fig.add_hline(y=0, line={"color": "#333", "width": 1})
    fig.update_layout(
        **LAYOUT,
        title="Long-run elasticity of hashrate by halving cycle",
        yaxis_title="elasticity [-]",
        legend={"orientation": "h", "y": -0.2},
    )
    blocks.append(Chart("sens_cycles", "Elasticity by cycle", fig))
    roll = res.rolling[res.rolling["regressor"] == "price"]
    if len(roll):
        weeks = [w.date().isoformat() if hasattr(w, "date") else str(w) for w in roll["week"]]
        rf = go.Figure()
        rf.add_trace(
            go.Scatter(
                x=weeks + weeks[::-1],
                y=np.concatenate([roll["ci_high"].to_numpy(), roll["ci_low"].to_numpy()[::-1]]),
                fill="toself",
                fillcolor="rgba(31,119,180,0.15)",
                line={"width": 0},
                hoverinfo="skip",
                name="95% CI",
            )
        )
        rf.add_trace(
            go.Scatter(
                x=weeks, y=roll["long_run"], mode="lines", line={"color": COST_COLOR}, name="elasticity"
            )
        )
        rf.add_hline(y=0, line={"color": "#333", "width": 1})
        rf.update_layout(
            **LAYOUT,
            title=f"Rolling {res.params.get('window_weeks', 104)}-week price elasticity of hashrate",
            yaxis_title="elasticity [-]",
            legend={"orientation": "h", "y": -0.2},
        )
        blocks.append(Chart("sens_rolling", "Rolling elasticity", rf))
    if len(res.mechanical):
        mech = res.mechanical
        weeks = [w.date().isoformat() for w in mech.index]
        mf = go.Figure()
        mf.add_trace(
            go.Scatter(x=weeks, y=mech["share_within"], mode="lines", name="within 10% of breakeven")
        )
        mf.add_trace(
            go.Scatter(
                x=weeks,
                y=mech["share_unprofitable"],
                mode="lines",
                line={"color": PRICE_COLOR},
                name="underwater",
            )
        )
        mf.update_layout(
            **LAYOUT,
            title="Mechanical exposure: today's fleet assumption on each week's hashprice",
            yaxis_title="share of hashrate",
            yaxis_tickformat=".0%",
            legend={"orientation": "h", "y": -0.2},
        )
        blocks.append(Chart("sens_mechanical", "Mechanical exposure", mf))
    blocks.append(
        Table(
            ("cycle", "weeks", "price elasticity [95% CI]", "hashprice elasticity [95% CI]"),
            rows,
            caption="Long-run elasticities by halving cycle",
        )
    )
    if items:
        blocks.append(Figures(tuple(items)))
    evidence = v.get("evidence", [])
    if evidence:
        blocks.append(Table(("evidence",), tuple((str(e),) for e in evidence), caption="Evidence"))
    return Section("sensitivity", title, tuple(blocks))


# --------------------------------------------------------------------------------------------- hpc
def hpc_section(ctx: ReportContext) -> Section | Skipped:
    """AI/HPC conversion economics of a mining site, and the industry's funding gap."""
    title = "AI/HPC conversion economics"
    try:
        from hashrisk.flows.hpc_contracts import funding_gap_from_contracts
        from hashrisk.hpc import SiteSpec, evaluate_site, funding_gap, with_contracts_portfolio
        from hashrisk.report.sections_listed import hpc_progress_blocks
    except ImportError as exc:  # pragma: no cover - ships with the package
        return Skipped("hpc", title, f"hashrisk.hpc is not available ({exc})")
    contracts_gap = funding_gap_from_contracts()
    spec = with_contracts_portfolio(SiteSpec.packaged(), contracts_gap)
    val = evaluate_site(spec, ctx.snapshot)
    s = val.summary()
    pm = s["per_mw"]
    rows = []
    items = []
    for name, o in s["options"].items():
        pb = o["payback_years"]
        rows.append(
            (
                name,
                pct(o["hpc_share"], 0),
                usd_m(o["capex_usd"]),
                usd_m(o["npv_usd"]),
                pct(o["irr"]) if o["irr"] is not None and math.isfinite(o["irr"]) else "n/a",
                "never" if pb is None or not math.isfinite(pb) else f"{pb:.1f} yr",
            )
        )
        items.append(
            _fig(
                f"hpc_npv_{name}_usd",
                f"NPV of '{name}' ({spec.site_mw:g} MW, {spec.horizon_years:g} years at {pct(spec.discount_rate, 0)})",
                o["npv_usd"],
                usd_m(o["npv_usd"]),
                "template site (illustrative)" if spec.template else spec.name,
            )
        )
    items += [
        _fig(
            "hpc_mining_profit_usd_per_mw_year",
            "mining profit per MW per year at the snapshot",
            pm["mining_profit_usd_per_mw_year_t0"],
            usd(pm["mining_profit_usd_per_mw_year_t0"]),
            f"hashprice ${s['hashprice_usd_per_ph_day']:.2f}/PH/day",
        ),
        _fig(
            "hpc_noi_usd_per_site_mw_year",
            "HPC net operating income per site-MW per year",
            pm["hpc_noi_usd_per_site_mw_year"],
            usd(pm["hpc_noi_usd_per_site_mw_year"]),
            f"lease {usd(pm['hpc_lease_usd_per_it_mw_year'])} per IT-MW per year",
        ),
    ]
    frame = val.to_frame()
    t = frame.index.to_numpy()
    cf = go.Figure()
    for i, name in enumerate(val.options):
        cf.add_trace(
            go.Scatter(
                x=t,
                y=np.cumsum(frame[f"{name}_cash_flow_usd"].to_numpy()) / 1e6,
                mode="lines",
                name=name,
                line={"color": ("#7f7f7f", COST_COLOR, "#ff7f0e")[i % 3]},
            )
        )
    cf.add_hline(y=0, line={"color": "#333", "width": 1})
    cf.update_layout(
        **LAYOUT,
        title=f"Cumulative cash flow of the {spec.site_mw:g} MW site: mine, convert, or both",
        xaxis_title="years",
        yaxis_title="USD million (undiscounted)",
        legend={"orientation": "h", "y": -0.2},
    )
    blocks: list[Any] = [
        Paragraph(
            f"Mine, convert to AI/HPC, or both, on {'a TEMPLATE' if spec.template else 'the'} site '{spec.name}' "
            f"valued at the snapshot (BTC {usd(s['price_usd'])}): by NPV the best option is "
            f"'{s['best_option_by_npv']}'. Mining revenue follows the consensus subsidy, so the next halving "
            "cuts it on schedule; HPC revenue starts after the build and only on the capacity delivered."
        ),
        Chart("hpc_cash_flow", "Site cash flows", cf),
        Table(("option", "HPC share", "capex", "NPV", "IRR", "payback"), tuple(rows), caption="Site options"),
        Figures(tuple(items)),
        *hpc_progress_blocks(),
    ]
    if spec.portfolio is not None:
        gap = funding_gap(spec.portfolio).summary()
        inp = gap["inputs"]
        pub = gap["published"]
        gap_rows = tuple(
            (
                case,
                usd_bn(gap["short_term_gap_usd"][case]),
                usd_bn(gap["long_term_need_usd"][case]),
            )
            for case in gap["short_term_gap_usd"]
        )
        blocks.append(
            Table(
                ("capex case", "short-term gap", "long-term need"),
                gap_rows,
                caption=(
                    f"Industry funding gap: {inp['leased_it_mw']:,.0f} IT-MW contracted in the contracts dataset "
                    f"as of {contracts_gap.as_of}, {pct(inp['delivered_share'], 0)} delivered (disclosed, a lower "
                    f"bound); pipeline {inp['pipeline_gross_mw']:,.0f} MW gross"
                ),
            )
        )
        if pub:
            blocks.append(
                Paragraph(
                    "Published for comparison (VanEck, June 2026): "
                    + ", ".join(
                        f"{k.replace('_usd', '').replace('_', ' ')} {usd_bn(v)}" for k, v in pub.items()
                    )
                    + ". The leased capacity and delivered share above come from the listed miners' disclosed "
                    "contracts (hashrisk/flows/data/hpc_contracts.csv, hpc_deliveries.csv), not from VanEck; "
                    "the capex per MW is TeraWulf's guidance applied to every contract (an assumption).",
                    kind="note",
                )
            )
    blocks.append(_sources_table(spec.sources, "HPC site and portfolio inputs"))
    return Section("hpc", title, tuple(blocks))


# --------------------------------------------------------------------------------------------- flows
def flows_section(ctx: ReportContext) -> Section | Skipped:
    """Institutional flows: US DB pension rebalancing, and treasury buying against miners' selling."""
    title = "Institutional flows: pensions, treasuries versus miners"
    try:
        from hashrisk.flows.btc import BtcFlowInputs, btc_flows
        from hashrisk.flows.pensions import PensionInputs, pension_flows
    except ImportError as exc:  # pragma: no cover - ships with the package
        return Skipped("flows", title, f"hashrisk.flows is not available ({exc})")
    pin = PensionInputs.packaged()
    pf = pension_flows(pin).summary()
    bin_ = BtcFlowInputs.packaged()
    bf = btc_flows(bin_, ctx.snapshot, ctx.cost).summary()
    pub = pf["published"].get("theoretical_imbalance_usd", {})
    lo, hi = pf["band_usd"]
    items = [
        _fig(
            "pension_theoretical_imbalance_usd",
            "US DB pensions: theoretical equity imbalance",
            pf["theoretical_imbalance_usd"],
            usd_bn(pf["theoretical_imbalance_usd"]),
            f"band {usd_bn(lo)} to {usd_bn(hi)} from the stated input half-widths; negative = equity selling",
        ),
        _fig(
            "pension_expected_flow_usd",
            "US DB pensions: expected flow",
            pf["expected_flow_usd"],
            usd_bn(pf["expected_flow_usd"]),
            f"execution ratio {pf['execution_ratio']:.2f} x theoretical",
        ),
        _fig(
            "btc_miner_sales_btc_per_day",
            "miners' sales",
            bf["flows"]["miner_sales"]["btc_per_day"],
            f"{bf['flows']['miner_sales']['btc_per_day']:+,.0f} BTC/day",
            f"{pct(bf['miners_share_sold'], 0)} of {bf['miner_production_btc_per_day']:,.0f} BTC/day produced "
            f"({bf['miners_share_sold_basis']})",
        ),
        _fig(
            "btc_treasury_purchases_btc_per_day",
            "treasury purchases",
            bf["flows"]["treasury_purchases"]["btc_per_day"],
            f"{bf['flows']['treasury_purchases']['btc_per_day']:+,.0f} BTC/day",
            "disclosed purchases spread over their disclosure window",
        ),
        _fig(
            "btc_net_btc_per_day",
            "net mechanical flow",
            bf["net_btc_per_day"],
            f"{bf['net_btc_per_day']:+,.0f} BTC/day",
            f"{usd_bn(bf['net_usd_per_quarter'])} per quarter at BTC {usd(bf['price_usd'])}",
        ),
    ]
    comps = {k: v["btc_per_day"] for k, v in bf["flows"].items()}
    bar = go.Figure(
        go.Bar(
            x=list(comps),
            y=list(comps.values()),
            marker_color=[COST_COLOR if v >= 0 else PRICE_COLOR for v in comps.values()],
            hovertemplate="%{x}: %{y:+,.0f} BTC/day<extra></extra>",
        )
    )
    bar.update_layout(
        **LAYOUT,
        title=f"Mechanical BTC flows per day ({bf['label']})",
        yaxis_title="BTC/day (buying +, selling -)",
    )
    pen = go.Figure()
    pen.add_trace(
        go.Bar(
            x=["theoretical imbalance", "expected flow"],
            y=[pf["theoretical_imbalance_usd"] / 1e9, pf["expected_flow_usd"] / 1e9],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [(hi - pf["theoretical_imbalance_usd"]) / 1e9, 0],
                "arrayminus": [(pf["theoretical_imbalance_usd"] - lo) / 1e9, 0],
            },
            marker_color=COST_COLOR,
            name="hashrisk (band: stated input half-widths)",
        )
    )
    if pub.get("published") is not None:
        pen.add_trace(
            go.Scatter(
                x=["theoretical imbalance"],
                y=[pub["published"] / 1e9],
                mode="markers",
                marker={"symbol": "x", "size": 14, "color": "#333"},
                name="JPMorgan (published)",
            )
        )
    pen.update_layout(
        **LAYOUT,
        title="US DB pension rebalancing, quarter to date [USD bn; negative = equity selling]",
        yaxis_title="USD bn",
        legend={"orientation": "h", "y": -0.2},
    )
    purchase_rows = tuple(
        (
            str(p["buyer"]),
            str(p["date"]),
            f"{p['btc']:,.0f} BTC for {usd(p['usd'])}",
            usd(p["implied_price_usd"]),
            ", ".join(k for k, below in p.get("below_cost", {}).items() if below) or "none",
        )
        for p in bf["purchases"]
    )
    blocks: list[Any] = [
        Paragraph(
            "Two mechanical flows of the day. US defined-benefit pensions rebalance their equity/bond sleeve "
            f"after a quarter in which equities beat bonds by {pf['equity_minus_bond_return']:+.2%} (as "
            f"assumed, quarter to date): hashrisk gets {usd_bn(pf['theoretical_imbalance_usd'])} of theoretical "
            f"equity selling on {usd_bn(pf['total_assets_usd'])} of assets"
            + (f" against JPMorgan's {usd_bn(pub['published'])}" if pub.get("published") is not None else "")
            + ". In bitcoin, treasury buyers funded by capital markets buy while miners sell production to pay "
            "for power."
        ),
        Chart("pension_flows", "Pension rebalancing", pen),
        Chart("btc_flows", "BTC flows", bar),
        Figures(tuple(items)),
        Table(
            ("buyer", "date", "purchase", "implied price", "below these costs"),
            purchase_rows,
            caption="Treasury purchases against the production cost",
        ),
        _sources_table(pf["sources"], f"Pension inputs ({pf['label']})"),
        _sources_table(bf["sources"], f"BTC flow inputs ({bf['label']})"),
    ]
    return Section("flows", title, tuple(blocks))


# --------------------------------------------------------------------------------------------- efficiency
def _state_near(day: dt.date, home: Path | None, embedded: NetworkSnapshot) -> NetworkSnapshot | None:
    """The snapshot of the stored complete day nearest `day` (within MAX_STATE_GAP_DAYS, the nearer and then
    the earlier first); else the embedded snapshot when it lies that close; else None."""
    window = dt.timedelta(days=MAX_STATE_GAP_DAYS)
    if home is not None:
        with Store(home, read_only=True) as store:
            days = [d for d in complete_days(store, since=day - window) if d <= day + window]
        for near in sorted(days, key=lambda d: (abs((d - day).days), d)):
            try:
                return snapshot_for_date(near, home=home)
            except DataError:  # a complete day without fees or height: try the next nearest
                continue
    return embedded if abs((embedded.date - day).days) <= MAX_STATE_GAP_DAYS else None


def _j(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.1f} J/TH"


def efficiency_section(ctx: ReportContext) -> Section:
    """The fleet's efficiency against published production-cost series, and which assumption they support.

    Each reference date gets the network state of the nearest stored complete day within
    :data:`~hashrisk.analytics.efficiency.MAX_STATE_GAP_DAYS` (else the embedded snapshot when it is that
    close, else nothing) and the dated vintage fleet of that day; :func:`hashrisk.analytics.efficiency.
    efficiency_comparison` does the rest.
    """
    title = "Fleet efficiency against published costs"
    home = Path(ctx.store_path).parent if ctx.store_path is not None else None
    embedded = NetworkSnapshot.embedded()
    states: dict[str, NetworkSnapshot | None] = {}
    fleets: dict[str, Fleet | None] = {}
    for ref in PUBLISHED_COSTS:
        state = _state_near(ref.date, home, embedded)
        states[ref.key] = state
        fleets[ref.key] = (
            None if state is None else build_fleet(dated_fleet_spec(state.date), state.hashrate_ths)
        )
    comp = efficiency_comparison(states, fleets, PUBLISHED_COSTS)
    rows = []
    for r in comp.rows:
        ref, state = r.reference, states.get(r.reference.key)
        if state is None:
            day = f"none within {MAX_STATE_GAP_DAYS} days"
        else:
            origin = (
                "embedded snapshot" if state.sources.get("date") == embedded.sources["date"] else "stored"
            )
            day = f"{state.date.isoformat()} ({origin})"
        rows.append(
            (
                ref.publisher,
                ref.date.isoformat(),
                "—" if ref.cost_usd_per_btc is None else usd(ref.cost_usd_per_btc),
                "—" if ref.power_price_usd_per_kwh is None else f"${ref.power_price_usd_per_kwh:g}/kWh",
                f"{_j(r.published_efficiency_j_per_th)} ({r.efficiency_basis})",
                _j(r.hashrisk_wall_efficiency_j_per_th),
                usd(r.hashrisk_electricity_cost_usd_per_btc),
                num_or_dash(r.ratio_hashrisk_to_published, ".2f"),
                day,
            )
        )
    blocks: list[Any] = [
        Paragraph(
            "How efficient is the fleet hashrisk assumes, against the figures the desks publish? A published "
            "electricity-only cost at a stated power price implies the network's wall efficiency (J/TH "
            "including overhead): e_wall = cost × reward × 3.6·10^18 / (p_kWh × difficulty × 2^32), on the "
            "network state of the nearest stored day. hashrisk's column is the dated vintage fleet of that day "
            "(catalog machines of the preceding six years, weighted by age: an assumption) and its electricity "
            "cost at the same power price."
        ),
        Table(
            (
                "publisher",
                "date",
                "published cost",
                "power price",
                "published or implied efficiency",
                "hashrisk dated fleet",
                "hashrisk electricity cost",
                "ratio hashrisk/published",
                "network state used",
            ),
            tuple(rows),
            caption="Wall efficiency: published or implied by the published cost, against the dated fleet",
        ),
        Paragraph(comp.verdict),
        Paragraph(
            "Every figure is press reporting of the bank's or firm's note, not the note itself. Where the "
            "reporting does not state JPMorgan's power price, $0.05/kWh is assumed, as in the bank's later "
            "notes. The 2026 reference is dated 2026-06-22; without stored data for it the embedded snapshot of "
            f"2026-06-01 stands for it. Agreement means within {comp.stats['tolerance']:.0%} (the figures are "
            "rounded and the day's difficulty and fees behind them are not reported).",
            kind="note",
        ),
        Table(
            ("reference", "what it is", "source", "source date", "address"),
            tuple(
                (
                    f"{ref.publisher}, {ref.date.isoformat()}",
                    ref.note,
                    ref.source_title,
                    ref.source_date,
                    ref.source_url or "—",
                )
                for ref in sorted(PUBLISHED_COSTS, key=lambda ref: ref.date)
            ),
            caption="Published figures compared (as reported)",
        ),
    ]
    return Section("efficiency", title, tuple(blocks), data={"efficiency": comp.summary()})
