"""CLI commands for hashrisk.flows and hashrisk.hpc: `miners`, `hpc`, `flows pensions`, `flows btc`.

Registered on the main app by :func:`register`. The shell reads the user's files, calls the pure library
functions and renders tables (or one JSON object with ``--json``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from hashrisk.cli.common import (
    JSON_OPTION,
    MAX_CSV_FILE_BYTES,
    MAX_TEXT_FILE_BYTES,
    console,
    emit_json,
    err_console,
    handle_errors,
    read_user_text,
    resolve_snapshot,
)
from hashrisk.display import pct, signed_usd, usd, usd_bn
from hashrisk.economics.cost import production_cost
from hashrisk.economics.fleet import FleetSpec, build_fleet
from hashrisk.errors import InputError
from hashrisk.flows.btc import BtcFlowInputs, btc_flows
from hashrisk.flows.miners import MinersData, miner_stress, miners_format, miners_from_text
from hashrisk.flows.pensions import CASES, PensionInputs, pension_flows
from hashrisk.hpc import SiteSpec, evaluate_site, funding_gap

flows_app = typer.Typer(
    help="Mechanical flows: US DB pension rebalancing, treasury buying vs miners' selling.",
    no_args_is_help=True,
)

PRICE_OPTION = typer.Option(None, "--price", help="BTC price [USD] (default: the embedded snapshot's).")


def _warn(text: str) -> None:
    err_console.print(f"[yellow]warning:[/] {text}", highlight=False, emoji=False)


def _load_miners(path: Path) -> MinersData:
    fmt = miners_format(path)
    limit = MAX_CSV_FILE_BYTES if fmt == "csv" else MAX_TEXT_FILE_BYTES
    return miners_from_text(
        read_user_text(path, "miners", f"{fmt.upper()} file", limit), fmt, origin=path.name
    )


# ------------------------------------------------------------------------------------------- miners
@handle_errors
def miners(
    file: Path = typer.Argument(..., help="Miners' data, YAML or CSV (schema: hashrisk.flows.miners)."),
    price: float | None = PRICE_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Listed miners at BTC price P: cash cost per BTC, BTC to sell, runway; aggregates."""
    data = _load_miners(file)
    snap = resolve_snapshot(price_usd=price)
    result = miner_stress(data, snap, price)
    if data.template:
        _warn(f"{file.name} is a TEMPLATE (template: true): its rows are illustrative, not company figures.")
    if json_out:
        emit_json({"file": str(file), "snapshot": snap.to_dict(), **result.summary()})
        return
    table = Table(title=f"Miners at BTC {usd(result.price_usd)} (network of {snap.date})")
    for col in ("company", "period", "cash cost/BTC", "BTC to sell/mo", "of production", "burn/mo", "runway"):
        table.add_column(col, justify="left" if col in ("company", "period") else "right")
    for name, r in result.companies.iterrows():
        runway = r["runway_months"]
        table.add_row(
            str(name),
            str(r["period"]),
            f"{usd(r['cash_cost_power_usd_per_btc'])} / {usd(r['cash_cost_all_usd_per_btc'])}",
            f"{r['btc_to_sell_per_month']:,.0f}",
            pct(r["share_of_production_to_sell"], 0),
            usd(r["net_burn_usd_per_month"]),
            "no burn" if not math.isfinite(runway) else f"{runway:,.1f} mo",
        )
    console.print(table)
    a = result.aggregates
    console.print(
        f"cash cost per BTC: power only / with other opex and interest. All {a['companies']} companies: "
        f"production {a['production_btc_per_month']:,.0f} BTC/month, must sell {a['btc_to_sell_per_month']:,.0f} "
        f"({pct(a['share_of_production_to_sell'], 0)}), of which {a['treasury_drawdown_btc_per_month']:,.0f} "
        f"from treasuries; {a['companies_with_burn']} burning cash.",
        highlight=False,
    )
    for rep in result.reported:
        compared = (
            "none of its companies is in the file"
            if rep["file_total"] is None
            else f"file total {rep['file_total']:,.0f}"
        )
        console.print(
            f"published: {rep['qualifier']} {rep['value']:,.0f} {rep['metric']} in {rep['period']} "
            f"({rep['source']}); {compared}",
            highlight=False,
        )


# ------------------------------------------------------------------------------------------- hpc
@handle_errors
def hpc(
    site: Path | None = typer.Argument(None, help="Site YAML (default: the packaged template site)."),
    price: float | None = PRICE_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Mine vs convert to AI/HPC vs both on one site (NPV, IRR, payback), and the industry funding gap."""
    if site is None:
        spec = SiteSpec.packaged()
    else:
        spec = SiteSpec.from_yaml_text(read_user_text(site, "site", "YAML file"), origin=str(site))
    snap = resolve_snapshot(price_usd=price)
    if price is not None:
        spec = spec.model_copy(update={"network": spec.network.model_copy(update={"price_usd": price})})
    valuation = evaluate_site(spec, snap)
    gap = funding_gap(spec.portfolio) if spec.portfolio is not None else None
    if spec.template:
        _warn(f"site '{spec.name}' is a TEMPLATE: an illustrative site; see the sources of each number.")
    if json_out:
        emit_json(
            {
                "snapshot": snap.to_dict(),
                **valuation.summary(),
                "funding_gap": None if gap is None else gap.summary(),
                "sources": spec.sources,
            }
        )
        return
    s = valuation.summary()
    pm = s["per_mw"]
    console.print(
        f"{spec.name}: {spec.site_mw:g} MW, {spec.horizon_years:g} years at {pct(spec.discount_rate)}; "
        f"BTC {usd(s['price_usd'])}, hashprice ${s['hashprice_usd_per_ph_day']:.2f}/PH/day",
        highlight=False,
    )
    console.print(
        f"per MW: mining revenue {usd(pm['mining_revenue_usd_per_mw_year'])}/yr, profit "
        f"{usd(pm['mining_profit_usd_per_mw_year_t0'])}/yr, capex {usd(pm['mining_capex_usd_per_mw'])}; "
        f"HPC lease {usd(pm['hpc_lease_usd_per_it_mw_year'])}/IT-MW/yr, NOI "
        f"{usd(pm['hpc_noi_usd_per_site_mw_year'])}/site-MW/yr, capex {usd(pm['hpc_capex_usd_per_site_mw'])}",
        highlight=False,
    )
    table = Table(title="Options")
    for col in ("option", "HPC share", "capex", "NPV", "IRR", "payback"):
        table.add_column(col, justify="left" if col == "option" else "right")
    for name, o in s["options"].items():
        payback = o["payback_years"]
        table.add_row(
            name,
            pct(o["hpc_share"], 0),
            usd_bn(o["capex_usd"]),
            usd_bn(o["npv_usd"]),
            pct(o["irr"]),
            "never" if not math.isfinite(payback) else f"{payback:.1f} yr",
        )
    console.print(table)
    if gap is not None:
        g = gap.summary()
        inp = g["inputs"]
        console.print(
            f"Industry funding gap: leased {inp['leased_it_mw']:,.0f} IT-MW, {pct(inp['delivered_share'], 0)} "
            f"delivered; pipeline {inp['pipeline_gross_mw']:,.0f} MW gross x {inp['it_mw_per_gross_mw']:g} IT",
            highlight=False,
        )
        gt = Table()
        for col in ("capex case", "$/IT-MW", "short-term gap", "long-term need", "leased IT-MW implied"):
            gt.add_column(col, justify="left" if col == "capex case" else "right")
        caps = {"point": inp["capex_usd_per_it_mw"]}
        if inp["capex_range_usd_per_it_mw"] is not None:
            caps = {
                "low": inp["capex_range_usd_per_it_mw"][0],
                **caps,
                "high": inp["capex_range_usd_per_it_mw"][1],
            }
        implied = g["implied_leased_it_mw_for_published_short_term_gap"]
        for k, c in caps.items():
            gt.add_row(
                k,
                usd(c),
                usd_bn(g["short_term_gap_usd"][k]),
                usd_bn(g["long_term_need_usd"][k]),
                f"{implied[k]:,.0f}" if k in implied else "n/a",
            )
        console.print(gt)
        pub = g["published"]
        if pub:
            console.print(
                "published (VanEck, June 2026): " + ", ".join(f"{k} {usd_bn(v)}" for k, v in pub.items()),
                highlight=False,
            )


# ------------------------------------------------------------------------------------------- flows pensions
@flows_app.command("pensions")
@handle_errors
def flows_pensions(
    case: str = typer.Option(
        next(iter(CASES)), "--case", help=f"Packaged case: {', '.join(CASES)} (ignored with --inputs)."
    ),
    inputs: Path | None = typer.Option(None, "--inputs", help="Your own inputs YAML (packaged layout)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """US DB pension rebalancing: drift, theoretical imbalance, expected flow, funded status."""
    if inputs is None:
        spec = PensionInputs.packaged(case)
    else:
        spec = PensionInputs.from_yaml_text(read_user_text(inputs, "inputs", "YAML file"), origin=str(inputs))
    result = pension_flows(spec)
    s = result.summary()
    if json_out:
        emit_json(s)
        return
    console.print(
        f"{s['label']}: {s['quarter_start']} to {s['as_of']}, assets {usd_bn(s['total_assets_usd'])}, QTD equities "
        f"{pct(s['returns_qtd']['equity'], 2)}, bonds {pct(s['returns_qtd']['bonds'], 2)}",
        highlight=False,
    )
    table = Table(title="Rebalancing into equities (negative = equity selling)")
    for col in (
        "segment",
        "assets",
        "equity in sleeve",
        "drift",
        "flow",
        "funded start",
        "funded end",
        "de-risk",
    ):
        table.add_column(col, justify="left" if col == "segment" else "right")
    for seg in s["segments"]:
        table.add_row(
            seg["name"],
            usd_bn(seg["assets_start_usd"]),
            pct(seg["equity_weight_in_sleeve"]),
            f"{100 * seg['drift']:+.2f} pp",
            usd_bn(seg["rebalancing_flow_usd"]),
            pct(seg["funded_ratio_start"]),
            pct(seg["funded_ratio_end"]),
            usd_bn(seg["derisking_flow_usd"]),
        )
    console.print(table)
    lo, hi = s["band_usd"]
    console.print(
        f"theoretical imbalance {usd_bn(s['theoretical_imbalance_usd'])} (band {usd_bn(lo)} .. {usd_bn(hi)} from the "
        f"stated input uncertainties); expected at {s['execution_ratio']:.2f} execution "
        f"{usd_bn(s['expected_flow_usd'])}",
        highlight=False,
    )
    pub: dict[str, Any] = s["published"]
    for key in ("theoretical_imbalance_usd", "expected_flow_usd"):
        if key in pub:
            p = pub[key]
            inside = "inside" if p.get("within_band") else "outside"
            console.print(
                f"published {key.replace('_usd', '').replace('_', ' ')}: {usd_bn(p['published'])}; the model gives "
                f"{p['model'] / p['published']:.0%} of it, the published figure is {inside} the band",
                highlight=False,
            )
    if "implied_equity_minus_bond_return" in pub:
        console.print(
            f"the published imbalance implies equities beat bonds by "
            f"{100 * pub['implied_equity_minus_bond_return']:.2f} pp QTD with these allocations "
            f"(inputs: {100 * s['equity_minus_bond_return']:.2f} pp)",
            highlight=False,
        )


# ------------------------------------------------------------------------------------------- flows btc
@flows_app.command("btc")
@handle_errors
def flows_btc(
    inputs: Path | None = typer.Option(None, "--inputs", help="Your own flows YAML (packaged layout)."),
    miners_file: Path | None = typer.Option(
        None, "--miners", help="Miners' data file: use its latest-period BTC sold / produced as share sold."
    ),
    share_sold: float | None = typer.Option(None, "--share-sold", help="Miners' share of production sold."),
    etf: float | None = typer.Option(None, "--etf", help="ETF net flow [BTC/day] (positive = inflow)."),
    price: float | None = PRICE_OPTION,
    power_price: float = typer.Option(
        0.05, "--power-price", help="Power price for the production cost [USD/kWh]."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Treasury purchases and ETF flows vs miners' production and sales: net flow per day and quarter."""
    if inputs is None:
        spec = BtcFlowInputs.packaged()
    else:
        spec = BtcFlowInputs.from_yaml_text(read_user_text(inputs, "inputs", "YAML file"), origin=str(inputs))
    if etf is not None:
        spec = spec.model_copy(update={"etf_net_btc_per_day": etf})
    basis = None
    if miners_file is not None and share_sold is None:
        data = _load_miners(miners_file)
        frame = data.frame()
        last = frame[frame["period"] == max(data.latest().values(), key=lambda r: r.period_obj).period]
        if last["btc_produced"].sum() <= 0:
            raise InputError("miners", str(miners_file), "a file whose latest period has BTC produced > 0")
        share_sold = float(last["btc_sold"].sum() / last["btc_produced"].sum())
        basis = f"miners file {miners_file.name}: BTC sold / produced in {last['period'].iloc[0]}"
        if data.template:
            _warn(f"{miners_file.name} is a TEMPLATE: its share sold is illustrative.")
    elif share_sold is not None:
        basis = "--share-sold"
    snap = resolve_snapshot(price_usd=price)
    cost = production_cost(snap, build_fleet(FleetSpec.default(), snap.hashrate_ths), power_price)
    result = btc_flows(spec, snap, cost, share_sold=share_sold, share_sold_basis=basis)
    s = result.summary()
    if json_out:
        emit_json(s)
        return
    console.print(
        f"{s['label']} (network of {s['date']}, BTC {usd(s['price_usd'])}): {s['blocks_per_day']:.1f} blocks/day x "
        f"{s['reward_btc_per_block']:.3f} BTC = {s['miner_production_btc_per_day']:,.1f} BTC/day produced; "
        f"miners sell {pct(s['miners_share_sold'], 0)} ({s['miners_share_sold_basis']})",
        highlight=False,
    )
    table = Table(title="Mechanical flows (buying +, selling -)")
    for col in ("flow", "BTC/day", "USD/day", "BTC/quarter", "USD/quarter"):
        table.add_column(col, justify="left" if col == "flow" else "right")
    for name, row in s["flows"].items():
        table.add_row(
            name,
            f"{row['btc_per_day']:+,.1f}",
            signed_usd(row["usd_per_day"]),
            f"{row['btc_per_quarter']:+,.0f}",
            usd_bn(row["usd_per_quarter"]),
        )
    console.print(table)
    costs = s["production_cost_usd_per_btc"]
    for p in s["purchases"]:
        console.print(
            f"{p['buyer']} {p['date']}: {p['btc']:,.0f} BTC for {usd(p['usd'])} = {usd(p['implied_price_usd'])}/BTC "
            f"({p['vs_spot']:+.1%} vs spot); production cost at ${costs['power_price_usd_per_kwh']}/kWh: "
            f"electricity {usd(costs['electricity_fleet'])}, all-in {usd(costs['all_in_fleet'])}"
            + "".join(
                f", {k.removeprefix('reference_')} {usd(v)}"
                for k, v in costs.items()
                if k.startswith("reference_")
            ),
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main `app`: `miners`, `hpc` and the `flows` group."""
    app.command("miners")(miners)
    app.command("hpc")(hpc)
    app.add_typer(flows_app, name="flows")
