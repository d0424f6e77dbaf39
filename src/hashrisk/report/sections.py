"""Section builders of the desk report.

Each builder takes the shared :class:`~hashrisk.report.context.ReportContext` and returns a
:class:`~hashrisk.report.model.Section` or a :class:`~hashrisk.report.model.Skipped` with the reason. Builders
are independent (a failing or skipped section does not affect the others) and compute nothing themselves
beyond display: every number comes from the library (``production_cost``, ``estimate_next_adjustment``,
``simulate`` + ``hashrisk stress``'s summary, ``tornado``, ...).

The report follows the form of the desk notes the project started from: headline, mechanism (cost, cost
curve, difficulty, stress), counterpoints, what remains uncertain, provenance.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hashrisk import __version__
from hashrisk.chain.pow import bits_to_difficulty
from hashrisk.constants import TH_PER_EH
from hashrisk.display import eh_s, pct, usd
from hashrisk.economics.catalog import find_model
from hashrisk.economics.tornado import DEFAULT_RANGES, KNOBS, METRIC_LABELS, METRICS
from hashrisk.errors import HashriskError
from hashrisk.report import charts
from hashrisk.report.context import ReportContext, StressRun
from hashrisk.report.model import Chart as ChartBlock
from hashrisk.report.model import Figures, KeyFigure, Paragraph, Section, Skipped, Table
from hashrisk.report.sections_evaluation import evaluation_section
from hashrisk.report.sections_forced import forced_selling_section
from hashrisk.report.sections_listed import listed_section
from hashrisk.report.sections_measured import (
    efficiency_section,
    flows_section,
    hpc_section,
    sensitivity_section,
)
from hashrisk.report.sections_onchain import onchain_section
from hashrisk.report.sections_tracking import changes_section, history_section
from hashrisk.sim.scenario import field_descriptions

SectionBuilder = Callable[[ReportContext], Section | Skipped]

PUBLISHED_COST_USD = 78_000.0
PUBLISHED_COST_LABEL = "JPMorgan, production cost (June 2026)"
PUBLISHED_SOURCES: tuple[tuple[str, str, str], ...] = (
    (
        "JPMorgan: production cost ≈ $78,000 per BTC, BTC trading below it; mining network more sensitive "
        "to price swings",
        "CoinDesk, 2026-06-22",
        "https://www.coindesk.com/markets/2026/06/22/bitcoin-mining-network-becoming-more-sensitive-to-price-"
        "swings-jpmorgan-says",
    ),
    (
        "Public miners (MARA, CleanSpark, Riot, Cango, Core Scientific, Bitdeer) sold over 32,000 BTC in "
        "Q1 2026; VanEck: AI/HPC conversion needs ≈ $50bn short-term, up to $221bn long-term",
        "memeburn, June 2026",
        "https://memeburn.com/bitcoin-mining-is-near-a-breaking-point-jpmorgan-just-explained-why/",
    ),
    (
        "Miner costs, profitability and the AI/HPC transition, Q1 2026",
        "CoinShares, Bitcoin Mining Report Q1 2026",
        "https://coinshares.com/insights/research-data",
    ),
)
"""Published figures the report compares with (facts as reported; cited, not recomputed)."""

SHOCK_LABELS = {-0.10: "-10%", -0.20: "-20%", -0.30: "-30%"}


def _fig(key: str, label: str, value: float, text: str, basis: str = "") -> KeyFigure:
    return KeyFigure(key=key, label=label, value=float(value), text=text, basis=basis)


def _pp(x: float) -> str:
    return f"{x:+.2f}%"


def _val(v: object) -> str:
    """A parameter value for a provenance table: thousands separators, no float noise."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    return f"{int(v):,}" if v.is_integer() and abs(v) < 1e15 else f"{v:,.6g}"


def _shock_key(shock: float) -> str:
    return f"m{round(-100 * shock):d}"


# --------------------------------------------------------------------------------------------- headline
def headline(ctx: ReportContext) -> Section:
    """The figures a reader needs first, and one paragraph saying what they mean."""
    snap, cost = ctx.snapshot, ctx.cost
    s = cost.summary()
    pp = cost.power_price_usd_per_kwh
    allin = cost.all_in["total"]
    elec = cost.electricity_fleet_usd_per_btc
    share = float(cost.curve.share_unprofitable(snap.price_usd))
    within = float(cost.curve.share_within(snap.price_usd, 0.10))
    adj = ctx.adjustment.estimate
    rel_allin = "below" if snap.price_usd < allin else "above"
    rel_elec = "below" if snap.price_usd < elec else "above"
    text = (
        f"On {snap.date}, BTC at {usd(snap.price_usd)} is {rel_allin} the fleet's all-in cost of production "
        f"({usd(allin)} per BTC: power at ${pp:g}/kWh, other cash opex and hardware depreciation) and "
        f"{rel_elec} its electricity-only cost ({usd(elec)}). {pct(share)} of the network's hashrate does not "
        f"cover its own power bill at this price; a 10% fall would put another {pct(within)} underwater. "
        f"The next difficulty adjustment, at height {ctx.adjustment.retarget_height:,}, is estimated at "
        f"{_pp(adj.change_pct_p50)} (90% band {_pp(adj.change_pct_p05)} to {_pp(adj.change_pct_p95)})."
    )
    items = [
        _fig(
            "price_usd", "BTC price", snap.price_usd, usd(snap.price_usd), snap.sources.get("price_usd", "")
        ),
        _fig(
            "hashrate_ths",
            "network hashrate",
            snap.hashrate_ths,
            eh_s(snap.hashrate_ths),
            snap.sources.get("hashrate_ths", ""),
        ),
        _fig(
            "electricity_fleet_usd_per_btc",
            f"electricity-only cost per BTC, fleet, ${pp:g}/kWh",
            elec,
            usd(elec),
            f"fleet {cost.fleet.mean_wall_efficiency_j_per_th:.1f} J/TH at the wall (assumption)",
        ),
        _fig(
            "all_in_usd_per_btc",
            f"all-in cost per BTC, fleet, ${pp:g}/kWh",
            allin,
            usd(allin),
            "electricity + other cash opex + straight-line depreciation (assumptions)",
        ),
        _fig(
            "share_unprofitable",
            "hashrate underwater at the price",
            share,
            pct(share),
            "cost curve: electricity at each cohort's own power price and PUE; difficulty unchanged",
        ),
        _fig(
            "share_within_10pct",
            "hashrate within 10% of breakeven",
            within,
            pct(within),
            "underwater after a 10% fall",
        ),
        _fig(
            "next_change_pct_p50",
            f"next difficulty adjustment (height {ctx.adjustment.retarget_height:,})",
            adj.change_pct_p50,
            _pp(adj.change_pct_p50),
            f"median estimate, basis: {ctx.adjustment.basis}",
        ),
    ]
    paragraphs = [
        Paragraph(text),
        Paragraph(
            f"For comparison: JPMorgan put the production cost near {usd(PUBLISHED_COST_USD)} per BTC in "
            f"June 2026 (reported by CoinDesk, 2026-06-22), a figure that behaves like pure electricity "
            f"cost; hashrisk's electricity-only figures at ${pp:g}/kWh span "
            f"{usd(s['electricity_only_usd_per_btc']['lower'])} to "
            f"{usd(s['electricity_only_usd_per_btc']['upper'])} (CBECI-style bounds).",
            kind="note",
        ),
    ]
    return Section(
        "headline",
        f"Headline: Bitcoin mining economics on {snap.date}",
        (*paragraphs, Figures(tuple(items))),
    )


# --------------------------------------------------------------------------------------------- cost
def production_cost_section(ctx: ReportContext) -> Section:
    """Production cost per BTC with its bounds, against the price."""
    cost = ctx.cost
    s = cost.summary()
    el = s["electricity_only_usd_per_btc"]
    pp = cost.power_price_usd_per_kwh
    eff = el["basket_efficiency_j_per_th"]
    items = (
        _fig(
            "hashprice_usd_per_ph_day",
            "hashprice",
            cost.hashprice_usd_per_ph_day,
            f"${cost.hashprice_usd_per_ph_day:,.2f}/PH/day",
            "expected USD revenue of 1 PH/s per day (subsidy + fees)",
        ),
        _fig(
            "electricity_basket_lower_usd_per_btc",
            "electricity-only, CBECI-style lower bound",
            el["lower"],
            usd(el["lower"]),
            f"most efficient profitable model, {eff['lower']:.1f} J/TH, PUE 1.01, ${pp:g}/kWh",
        ),
        _fig(
            "electricity_basket_best_usd_per_btc",
            "electricity-only, CBECI-style best guess",
            el["best_guess"],
            usd(el["best_guess"]),
            f"mean of the profitable basket, {eff['best_guess']:.1f} J/TH, PUE 1.10, ${pp:g}/kWh",
        ),
        _fig(
            "electricity_basket_upper_usd_per_btc",
            "electricity-only, CBECI-style upper bound",
            el["upper"],
            usd(el["upper"]),
            f"least efficient profitable model, {eff['upper']:.1f} J/TH, PUE 1.20, ${pp:g}/kWh",
        ),
        _fig(
            "electricity_per_cent_usd_per_btc",
            "electricity-only cost per +$0.01/kWh",
            cost.electricity_per_cent_usd_per_btc,
            usd(cost.electricity_per_cent_usd_per_btc),
            "the cost is linear in the power price",
        ),
        _fig(
            "all_in_electricity_usd_per_btc",
            "all-in: electricity",
            cost.all_in["electricity"],
            usd(cost.all_in["electricity"]),
            "fleet wall efficiency at the uniform power price",
        ),
        _fig(
            "all_in_other_opex_usd_per_btc",
            "all-in: other cash opex",
            cost.all_in["other_opex"],
            usd(cost.all_in["other_opex"]),
            f"{cost.fleet.other_opex_share_of_power:.0%} of the power bill (assumption)",
        ),
        _fig(
            "all_in_depreciation_usd_per_btc",
            "all-in: hardware depreciation",
            cost.all_in["depreciation"],
            usd(cost.all_in["depreciation"]),
            f"straight line over {cost.fleet.depreciation_days:g} days (assumption)",
        ),
    )
    chart = charts.cost_vs_price(cost, published=((PUBLISHED_COST_LABEL, PUBLISHED_COST_USD),))
    return Section(
        "production_cost",
        "Production cost with bounds, against the price",
        (
            Paragraph(
                "Three views of what one BTC costs to mine at this difficulty and reward: (a) electricity "
                "only, at one uniform power price, for the fleet and for a CBECI-style basket of profitable "
                "machines (lower, best-guess and upper bounds); (b) the cost curve, below; (c) all-in: "
                "electricity plus other cash opex and hardware depreciation. Electricity cost per BTC = "
                "e × PUE × p_kWh × difficulty × 2^32 / (reward × 3.6·10^18)."
            ),
            ChartBlock("cost_vs_price", "Production cost vs price", chart),
            Figures(items),
        ),
    )


def cost_curve_section(ctx: ReportContext) -> Section:
    """The cost curve with the price line and the hashrate underwater."""
    curve, price = ctx.curve, ctx.snapshot.price_usd
    c = curve.summary(price)
    shares = curve.share_unprofitable([price * 0.9, price * 0.8, price * 0.7])
    items = [
        _fig(
            "curve_p10_usd",
            "breakeven below which 10% of hashrate lies",
            c["breakeven_p10_usd"],
            usd(c["breakeven_p10_usd"]),
        ),
        _fig(
            "curve_p50_usd",
            "median breakeven (cost curve)",
            c["breakeven_p50_usd"],
            usd(c["breakeven_p50_usd"]),
        ),
        _fig(
            "curve_p90_usd",
            "breakeven below which 90% of hashrate lies",
            c["breakeven_p90_usd"],
            usd(c["breakeven_p90_usd"]),
        ),
        _fig(
            "marginal_cost_usd",
            "marginal cost (most expensive cohort still running)",
            c["marginal_cost_usd"],
            usd(c["marginal_cost_usd"]),
        ),
    ]
    for move, share in zip((-0.10, -0.20, -0.30), shares, strict=True):
        items.append(
            _fig(
                f"share_unprofitable_{_shock_key(move)}",
                f"hashrate underwater after a {abs(move):.0%} fall",
                float(share),
                pct(float(share)),
                "difficulty unchanged (before any retarget)",
            )
        )
    return Section(
        "cost_curve",
        "The cost curve: who is underwater at the price",
        (
            Paragraph(
                f"Each step is a cohort of the fleet ({ctx.fleet.hashrate_ths.size} cohorts: hardware class × "
                "power-price bucket × PUE level, all labelled assumptions), ordered by its electricity "
                "breakeven at its own power price. Cohorts above the price line do not cover their power "
                "bill at the current difficulty; the dotted line is the price after a 10% fall."
            ),
            ChartBlock("cost_curve", "Cost curve", charts.cost_curve(curve, price)),
            Figures(tuple(items)),
        ),
    )


# --------------------------------------------------------------------------------------------- difficulty
def next_adjustment_section(ctx: ReportContext) -> Section:
    """The next difficulty adjustment: what is known, what is assumed, the estimate."""
    info = ctx.adjustment
    e = info.estimate
    days = info.days_to_lock_in()
    items = [
        _fig(
            "next_change_pct_p05",
            "difficulty change, 5% quantile",
            e.change_pct_p05,
            _pp(e.change_pct_p05),
        ),
        _fig("next_change_pct_median", "difficulty change, median", e.change_pct_p50, _pp(e.change_pct_p50)),
        _fig(
            "next_change_pct_p95",
            "difficulty change, 95% quantile",
            e.change_pct_p95,
            _pp(e.change_pct_p95),
        ),
        _fig(
            "next_retarget_difficulty_p50",
            "new difficulty, median",
            bits_to_difficulty(e.next_bits_p50),
            f"{bits_to_difficulty(e.next_bits_p50):,.0f}",
            f"nBits 0x{e.next_bits_p50:08x}",
        ),
        _fig(
            "blocks_remaining",
            "blocks still to mine in the period",
            e.blocks_remaining,
            f"{e.blocks_remaining:,}",
            f"{info.blocks_mined:,} of 2,016 mined",
        ),
        _fig(
            "days_to_retarget_p50",
            "days until the new difficulty is fixed (median)",
            days["p50"],
            f"{days['p50']:.1f} days",
            f"90% band {days['p05']:.1f} to {days['p95']:.1f} days from "
            + ("the latest stored block" if info.absolute_times else "the snapshot day"),
        ),
    ]
    blocks: list[Any] = [
        Paragraph(
            "Known: " + "; ".join(info.known) + ".",
        ),
        Paragraph("Assumed: " + "; ".join(info.assumed) + ".", kind="note"),
        ChartBlock("next_adjustment", "Next difficulty adjustment", charts.adjustment_chart(info)),
        Figures(tuple(items)),
    ]
    if info.absolute_times:
        s = info.summary()["lock_in_time_utc"]
        blocks.insert(
            2, Paragraph(f"The new difficulty is fixed around {s['p50']} UTC ({s['p05']} to {s['p95']}).")
        )
    return Section("next_adjustment", "The next difficulty adjustment", tuple(blocks))


# --------------------------------------------------------------------------------------------- stress
def stress_section(ctx: ReportContext) -> Section:
    """-10/-20/-30% price shocks through the simulator: fans of hashrate, difficulty and miners' selling."""
    runs: tuple[StressRun, ...] = ctx.stress
    labelled = [(SHOCK_LABELS.get(r.shock, f"{r.shock:+.0%}"), r.result) for r in runs]
    first = runs[0].result
    h0, d0 = first.start.hashrate_ths, first.start.difficulty
    rows = []
    items = []
    for r in runs:
        s = r.summary
        k = _shock_key(r.shock)
        label = SHOCK_LABELS.get(r.shock, f"{r.shock:+.0%}")
        rt = s["next_retargets"][0] if s["next_retargets"] else None
        off = s["hashrate_offline_vs_start_at_shock_end"]
        sold = s["btc_sold"]
        rows.append(
            (
                label,
                usd(s["price_at_shock_end_usd"]["p50"]),
                f"{pct(off['p05'])} / {pct(off['p50'])} / {pct(off['p95'])}",
                "n/a"
                if rt is None
                else f"{_pp(rt['change_pct_p05'])} / {_pp(rt['change_pct_p50'])} / {_pp(rt['change_pct_p95'])}",
                pct(s["p_first_retarget_drop"].get("10", math.nan)),
                f"{sold['during_shock_btc_per_day_mean']:,.0f} ({sold['baseline_btc_per_day']:,.0f})",
                f"{sold['total_btc']['p50']:,.0f}",
            )
        )
        items.append(
            _fig(
                f"stress_{k}_offline_p50",
                f"{label}: hashrate offline at the end of the shock (median)",
                off["p50"],
                pct(off["p50"]),
                f"vs the start, day {s['shock_days']}",
            )
        )
        if rt is not None:
            items.append(
                _fig(
                    f"stress_{k}_first_retarget_p50",
                    f"{label}: first retarget change (median)",
                    rt["change_pct_p50"],
                    _pp(rt["change_pct_p50"]),
                    f"height {rt['height']:,}, {pct(rt['share_of_paths'])} of paths reach it",
                )
            )
        items.append(
            _fig(
                f"stress_{k}_sold_btc_per_day",
                f"{label}: miners' BTC sold per day during the shock (mean)",
                sold["during_shock_btc_per_day_mean"],
                f"{sold['during_shock_btc_per_day_mean']:,.0f} BTC/day",
                f"baseline {sold['baseline_btc_per_day']:,.0f} BTC/day",
            )
        )
    vol = getattr(first.scenario.price, "vol", float("nan"))
    return Section(
        "stress",
        "Stress scenarios: -10%, -20%, -30%",
        (
            Paragraph(
                "Mechanism: when the price falls, cohorts whose revenue no longer covers their cash cost switch "
                "off; blocks slow down until the retarget lowers the difficulty, which raises the survivors' "
                "revenue per TH/s. Miners sell part of their production and, when cash runs short, their "
                "treasury; sales above the start day's feed back into the price (square-root impact)."
            ),
            Paragraph(
                f"Simulation: {ctx.stress_paths:,} paths per shock over {ctx.stress_horizon_days} days from "
                f"{first.start.date}; the shock is spread evenly over {ctx.stress_shock_days} days on a "
                f"zero-drift GBM with {vol:.0%} annual volatility (hashrisk stress's recipe, seed {ctx.seed}). "
                "Bands: p05-p95 and p25-p75 over paths; line: median.",
                kind="note",
            ),
            ChartBlock(
                "fan_hashrate",
                "Hashrate",
                charts.fan(
                    labelled, "hashrate_ths", TH_PER_EH, "EH/s", "Online hashrate [EH/s]", start_value=h0
                ),
            ),
            ChartBlock(
                "fan_difficulty",
                "Difficulty",
                charts.fan(labelled, "difficulty", 1e12, "T", "Difficulty [10^12]", start_value=d0),
            ),
            ChartBlock(
                "fan_sold",
                "Miner selling",
                charts.fan(labelled, "sold_btc", 1.0, "BTC/day", "Miners' BTC sold per day"),
            ),
            Table(
                (
                    "shock",
                    "price at shock end (p50)",
                    "hashrate offline, p05 / p50 / p95",
                    "first retarget, p05 / p50 / p95",
                    "P(first retarget <= -10%)",
                    "BTC sold/day in the shock (baseline)",
                    "BTC sold over the horizon (p50)",
                ),
                tuple(rows),
            ),
            Figures(tuple(items)),
        ),
    )


# --------------------------------------------------------------------------------------------- counterpoints
def counterpoints_section(ctx: ReportContext) -> Section:
    """The other side of the headline, from the same numbers."""
    cost, price = ctx.cost, ctx.snapshot.price_usd
    share = float(cost.curve.share_unprofitable(price))
    p50 = float(cost.curve.quantile(0.5))
    points = [
        f"Most hashrate still covers its power bill: {pct(1 - share)} of the network's hashrate has an "
        f"electricity breakeven below {usd(price)}, and the median cohort breaks even at {usd(p50)} "
        f"({pct(1 - p50 / price)} below the price).",
        f"A cost of production is not a floor: a miner keeps a machine running while the price covers its "
        f"cash cost, even below the all-in cost ({usd(cost.all_in['total'])}), because the hardware is "
        "already paid for; it is the cash cost (power, and in the simulator other cash opex) that decides "
        "who switches off.",
    ]
    try:
        runs = ctx.stress
    except HashriskError as exc:  # the stress section reports the failure itself
        runs = ()
        points.append(f"(stress-based counterpoints unavailable: {exc})")
    by = {r.shock: r.summary for r in runs}
    if -0.20 in by and by[-0.20]["next_retargets"]:
        s = by[-0.20]
        rt = s["next_retargets"][0]
        points.append(
            "Difficulty adjusts: after a 20% fall the simulated first retarget moves difficulty by "
            f"{_pp(rt['change_pct_p50'])} (median; p05 {_pp(rt['change_pct_p05'])}), which restores part of "
            "the survivors' revenue per TH/s. Capitulation thins the fleet; it does not stop the network."
        )
    if -0.30 in by:
        a = by[-0.30]["amplification"]
        points.append(
            "Miners' selling moves the price little in the model: with a 30% fall the median maximum "
            f"drawdown is {pct(a['max_drawdown_on_p50'])} with the sales feedback and "
            f"{pct(a['max_drawdown_off_p50'])} without it (square-root impact on "
            f"${ctx.base_scenario.impact.daily_volume_usd / 1e9:,.0f}bn of daily volume, an assumption)."
        )
    return Section(
        "counterpoints",
        "Counterpoints",
        tuple(Paragraph(p) for p in points),
    )


# --------------------------------------------------------------------------------------------- uncertainty
def uncertainty_section(ctx: ReportContext) -> Section:
    """What remains uncertain: tornado charts of the headline figures against each assumption."""
    t = ctx.tornado
    rows = []
    for b in t.bars:
        rows.append(
            (
                b.label,
                f"{b.base_value:g}" if math.isfinite(b.base_value) else "n/a",
                f"{b.low_value:g} .. {b.high_value:g}" + ("" if b.unit == "-" else f" {b.unit}"),
                f"{usd(b.low['all_in_usd_per_btc'])} .. {usd(b.high['all_in_usd_per_btc'])}",
                f"{usd(b.low['electricity_fleet_usd_per_btc'])} .. {usd(b.high['electricity_fleet_usd_per_btc'])}",
                f"{pct(b.low['share_unprofitable'])} .. {pct(b.high['share_unprofitable'])}",
                b.rationale,
            )
        )
    top = {m: t.ranked(m)[0] for m in METRICS}
    items = tuple(
        _fig(
            f"tornado_top_swing_{m}",
            f"largest swing: {METRIC_LABELS[m]}",
            top[m].swing(m),
            pct(top[m].swing(m)) if m == "share_unprofitable" else usd(top[m].swing(m)),
            f"from: {top[m].label}",
        )
        for m in METRICS
    )
    return Section(
        "uncertainty",
        "What remains uncertain",
        (
            Paragraph(
                "Nobody publishes the network's hardware mix, its power prices or its overheads: they are "
                "labelled assumptions. Each bar below moves one assumption to a low and a high setting, keeps "
                "the others at their base, and recomputes the headline figure with the same functions. "
                "Interactions are ignored (one at a time); the ranges are themselves assumptions."
            ),
            ChartBlock(
                "tornado_all_in",
                "Tornado: all-in cost",
                charts.tornado_chart(t, "all_in_usd_per_btc"),
            ),
            ChartBlock(
                "tornado_electricity",
                "Tornado: electricity-only cost",
                charts.tornado_chart(t, "electricity_fleet_usd_per_btc"),
            ),
            ChartBlock(
                "tornado_share",
                "Tornado: share underwater",
                charts.tornado_chart(t, "share_unprofitable", fmt=".0%", unit="share of hashrate underwater"),
            ),
            Table(
                (
                    "assumption",
                    "base",
                    "range tried",
                    "all-in cost",
                    "electricity-only cost",
                    "share underwater",
                    "why this range",
                ),
                tuple(rows),
            ),
            Figures(items),
            Paragraph(
                "Not covered by the bars: the snapshot's own measurement noise (the daily hashrate is estimated "
                "from block counts), how the fleet behaves under stress (switch-off hysteresis, retirement, "
                "treasury policies: see the simulation assumptions under provenance), and the published "
                "figures' undisclosed inputs (JPMorgan's electricity-cost assumption).",
                kind="note",
            ),
        ),
    )


# --------------------------------------------------------------------------------------------- provenance
_SIM_FIELDS = (
    "price.vol",
    "fees.sigma",
    "fleet.cohorts",
    "fleet.initial_online",
    "fleet.hysteresis",
    "fleet.on_lag_days",
    "fleet.retire_after_days",
    "fleet.deploy.lead_time_days",
    "fleet.deploy.max_growth_per_year",
    "treasury.initial_btc",
    "treasury.initial_cash_days_of_opex",
    "treasury.share_sold",
    "treasury.debt_service_usd_per_day",
    "financing.cost_at_start",
    "financing.price_elasticity",
    "financing.max_raise_cost",
    "net_flows.treasury_buying_usd_per_day",
    "net_flows.etf_usd_per_day",
    "impact.k",
    "impact.daily_volume_usd",
)


def _owner_sources(ctx: ReportContext) -> Table:
    """Each listed owner's balance-sheet values and the document (or 'assumption') each comes from."""
    scenario = ctx.stress_scenario
    rows = tuple((o.name, name, source) for o in scenario.owners or () for name, source in o.sources.items())
    return Table(
        ("owner", "field", "source"),
        rows or (("none", "-", "the scenario has no listed owners"),),
        caption=f"Simulation owners (listed miners) as of {ctx.snapshot.date}: cited documents and assumptions",
    )


def provenance_section(ctx: ReportContext) -> Section:
    """Every source and date, every assumption."""
    snap = ctx.snapshot
    fields = snap.to_dict()
    snap_rows = tuple((name, _val(fields[name]), src) for name, src in snap.sources.items() if name in fields)
    spec = ctx.fleet_spec
    class_rows = []
    for c in spec.classes:
        source = "explicit efficiency (assumption)"
        if c.model is not None:
            source = str(find_model(c.model)["source"])
        class_rows.append(
            (
                c.name,
                c.model or "-",
                f"{c.efficiency():g}",
                f"{c.share:.0%}",
                f"{c.hardware_usd_per_th:g}",
                source,
            )
        )
    pp = spec.power_price
    power_text = (
        f"lognormal, median ${pp.median_usd_per_kwh}/kWh, log-sd {pp.sigma}, {pp.buckets} equal-hashrate buckets"
        if pp.distribution == "lognormal"
        else f"buckets {pp.values_usd_per_kwh} USD/kWh with shares {pp.shares}"
    )
    fleet_rows = (
        ("fleet", spec.label, ctx.fleet_origin),
        ("power prices across hashrate", power_text, "assumption"),
        (
            "overhead (PUE) across hashrate",
            ", ".join(f"{p} ({s:.0%})" for p, s in zip(spec.overhead.pue, spec.overhead.share, strict=True)),
            "assumption (values: CBECI's lower / best-guess / upper PUE)",
        ),
        ("depreciation life", f"{spec.costs.depreciation_days:g} days", "assumption"),
        ("other cash opex", f"{spec.costs.other_opex_share_of_power:.0%} of the power bill", "assumption"),
        (
            "uniform power price (views a, c)",
            f"${ctx.power_price_usd_per_kwh:g}/kWh",
            "assumption (JPMorgan's reference is $0.05/kWh)",
        ),
    )
    blocks: list[Any] = [
        Table(("field", "value", "source"), snap_rows, caption=f"Snapshot of {snap.date}"),
        Table(
            (
                "hardware class",
                "model",
                "J/TH",
                "share (assumption)",
                "hardware USD per TH/s (assumption)",
                "spec source",
            ),
            tuple(class_rows),
            caption="Fleet: hardware classes (efficiencies are makers' specs from the ASIC catalog)",
        ),
        Table(("item", "value", "status"), fleet_rows, caption="Fleet and cost assumptions"),
    ]
    try:
        scenario = ctx.stress_scenario
        desc = field_descriptions() | field_descriptions(type(scenario.price), "price.")
        sim_rows = tuple((f, _val(scenario.get_param(f)), desc.get(f, "")) for f in _SIM_FIELDS)
        blocks.append(
            Table(("parameter", "value", "description"), sim_rows, caption="Simulation assumptions")
        )
        blocks.append(_owner_sources(ctx))
    except HashriskError as exc:
        blocks.append(Paragraph(f"Simulation assumptions unavailable: {exc}", kind="note"))
    blocks.append(
        Table(
            ("assumption", "low", "high", "rationale"),
            tuple(
                (KNOBS[r.name].label, f"{r.low:g}", f"{r.high:g}", r.rationale)
                for r in DEFAULT_RANGES
                if r.name in KNOBS
            ),
            caption="Tornado ranges",
        )
    )
    blocks.append(
        Table(("published figure", "where", "address"), PUBLISHED_SOURCES, caption="Published figures cited")
    )
    if ctx.store_path is None:
        store_text = (
            "No data store: the report uses the embedded snapshot only (nothing fetched, no network)."
        )
    elif ctx.daily is not None:
        srcs = ", ".join(sorted(set(ctx.daily["source"].astype(str))))
        store_text = (
            f"Data store {ctx.store_path}: {len(ctx.daily):,} stored days from {ctx.daily.index.min().date()} "
            f"to {ctx.daily.index.max().date()} (sources: {srcs})."
        )
    else:
        store_text = f"Data store {ctx.store_path}: no daily history up to {snap.date}."
    blocks.append(Paragraph(store_text))
    blocks.append(
        Paragraph(
            f"Generated by hashrisk {__version__} on {ctx.generated_at:%Y-%m-%d %H:%M} UTC; simulation backend "
            f"{ctx.backend}, seed {ctx.seed}. Methods and formulas: README (Methodology) and the module "
            "docstrings of hashrisk.economics.cost, hashrisk.chain.estimate, hashrisk.sim and "
            "hashrisk.economics.tornado.",
            kind="note",
        )
    )
    return Section("provenance", "Provenance: sources, dates and assumptions", tuple(blocks))


SECTIONS: tuple[tuple[str, str, SectionBuilder], ...] = (
    ("headline", "Headline", headline),
    ("changes", "What changed", changes_section),
    ("production_cost", "Production cost with bounds, against the price", production_cost_section),
    ("cost_curve", "The cost curve: who is underwater at the price", cost_curve_section),
    ("efficiency", "Fleet efficiency against published costs", efficiency_section),
    ("next_adjustment", "The next difficulty adjustment", next_adjustment_section),
    ("stress", "Stress scenarios: -10%, -20%, -30%", stress_section),
    ("forced_selling", "Who is forced to sell", forced_selling_section),
    ("history", "History", history_section),
    ("sensitivity", "Sensitivity now versus past cycles", sensitivity_section),
    ("evaluation", "How good is the model", evaluation_section),
    ("hpc", "AI/HPC conversion economics", hpc_section),
    ("listed", "Miners' BTC sales", listed_section),
    ("flows", "Institutional flows: pensions, treasuries versus miners", flows_section),
    ("onchain", "Pools and coinbase flows on your node", onchain_section),
    ("counterpoints", "Counterpoints", counterpoints_section),
    ("uncertainty", "What remains uncertain", uncertainty_section),
    ("provenance", "Provenance: sources, dates and assumptions", provenance_section),
)
"""The report's sections in order: (key, title, builder)."""
