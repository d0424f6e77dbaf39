"""CLI commands for hashrisk.flows and hashrisk.hpc: `miners`, `hpc [site]`, `hpc progress`, `flows pensions|btc`.

Registered on the main app by :func:`register`. The shell reads the user's files, calls the pure library
functions and renders tables (or one JSON object with ``--json``).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import typer
from rich.table import Table
from typer.core import TyperGroup

if TYPE_CHECKING:
    from typer._click.core import Context

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
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.data.store import Store, store_path
from hashrisk.data.stored_snapshot import snapshot_for_date
from hashrisk.display import pct, signed_usd, usd, usd_bn, usd_m
from hashrisk.economics.cost import production_cost
from hashrisk.economics.fleet import FleetSpec, build_fleet
from hashrisk.errors import DataError, InputError
from hashrisk.flows.btc import BtcFlowInputs, btc_flows
from hashrisk.flows.calibration import (
    FIT_END,
    FIT_START,
    GOAL_REL_ERROR,
    TEST_QUARTER,
    Calibration,
    calibrate,
    parse_fit_window,
    quarter_days,
)
from hashrisk.flows.hpc_contracts import TOTAL, funding_gap_from_contracts, progress
from hashrisk.flows.listed import (
    complete_miners_data,
    coverage_text,
    dataset_overview,
    listed_miner_rows,
    load_listed_miners,
)
from hashrisk.flows.miners import MinersData, MinerStress, miner_stress, miners_format, miners_from_text
from hashrisk.flows.pensions import CASES, PensionInputs, pension_flows
from hashrisk.hpc import SiteSpec, evaluate_site, funding_gap, with_contracts_portfolio
from hashrisk.sim.result import Quantiles

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
NOT_DISCLOSED = "—"
"""How a value the company did not disclose is shown (never as 0)."""


def _num(x: Any, fmt: str = ",.0f", scale: float = 1.0) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return NOT_DISCLOSED
    return f"{float(x) / scale:{fmt}}"


def _money(x: Any) -> str:
    return NOT_DISCLOSED if x is None or not math.isfinite(float(x)) else usd_m(float(x))


def _print_stress(result: MinerStress, snap_date: str) -> None:
    table = Table(title=f"Miners at BTC {usd(result.price_usd)} (network of {snap_date})")
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


def _miners_file(file: Path, price: float | None, json_out: bool) -> None:
    data = _load_miners(file)
    snap = resolve_snapshot(price_usd=price)
    result = miner_stress(data, snap, price)
    if data.template:
        _warn(f"{file.name} is a TEMPLATE (template: true): its rows are illustrative, not company figures.")
    if json_out:
        emit_json({"file": str(file), "snapshot": snap.to_dict(), **result.summary()})
        return
    _print_stress(result, str(snap.date))
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


STRESS_BASIS = (
    "the stress model runs only on companies whose row has every required value (complete); a row with a "
    "missing value is shown in the disclosed figures and named with what it lacks, never filled in"
)


def _miners_dataset(period: str | None, price: float | None, json_out: bool) -> None:
    frame = load_listed_miners()
    try:
        overview = dataset_overview(period, frame)
    except ValueError as exc:
        raise InputError("period", period, str(exc)) from None
    data = complete_miners_data(listed_miner_rows(period, frame))
    snap = resolve_snapshot(price_usd=price)
    stress = None if data is None else miner_stress(data, snap, price)
    n_all = len(overview["companies"])
    n_done = 0 if data is None else len(data.rows)
    stress_note = f"{STRESS_BASIS}; {n_done} of {n_all} companies complete"
    if json_out:
        emit_json(
            {
                "source": f"packaged dataset hashrisk/flows/data/{overview['dataset']['file']}",
                "snapshot": snap.to_dict(),
                **overview,
                "stress": None if stress is None else stress.summary(),
                "stress_basis": stress_note,
            }
        )
        return
    companies: list[dict[str, Any]] = overview["companies"]
    table = Table(
        title=f"Listed miners' disclosed figures ({period or 'latest period per company'}; "
        f"{NOT_DISCLOSED} = not disclosed)"
    )
    cols = (
        "company",
        "period",
        "produced",
        "sold",
        "held",
        "EH/s",
        "J/TH",
        "$/kWh",
        "cash",
        "debt",
        "HPC rev",
    )
    for col in cols:
        table.add_column(col, justify="left" if col in ("company", "period") else "right")
    for c in companies:
        table.add_row(
            str(c["company"]),
            str(c["period"]),
            _num(c["btc_produced"]),
            _num(c["btc_sold"]),
            _num(c["btc_held"]),
            _num(c["hashrate_ths"], ",.1f", 1e6),
            _num(c["fleet_efficiency_j_per_th"], ",.1f"),
            _num(c["power_cost_usd_per_kwh"], ".3f"),
            _money(c["cash_usd"]),
            _money(c["debt_usd"]),
            _money(c["hpc_revenue_usd"]),
        )
    console.print(table)
    for c in companies:
        if c["missing"]:
            console.print(f"{c['company']} ({c['period']}) lacks: {', '.join(c['missing'])}", highlight=False)
        if c["notes"]:
            console.print(f"{c['company']}: {c['notes']}", highlight=False)
    if stress is None:
        console.print(
            f"Stress at BTC price P not run: no company has every required value ({stress_note}). "
            "Supply them in your own file: hashrisk miners FILE.",
            highlight=False,
        )
    else:
        _print_stress(stress, str(snap.date))
        console.print(stress_note, highlight=False)
    sales: dict[str, list[dict[str, Any]]] = overview["quarterly_sales"]
    qt = Table(title="BTC produced and sold per quarter (the dataset; nothing filled in)")
    for col in ("quarter", "company", "produced", "coverage", "sold", "coverage "):
        qt.add_column(col, justify="left" if col in ("quarter", "company") else "right")
    for r in sorted(sales["per_company"], key=lambda r: (r["quarter"], r["company"])):
        qt.add_row(
            str(r["quarter"]),
            str(r["company"]),
            _num(r["btc_produced"]),
            coverage_text(r["basis_produced"], r["months_produced"], r["missing_produced"]),
            _num(r["btc_sold"]),
            coverage_text(r["basis_sold"], r["months_sold"], r["missing_sold"]),
        )
    for r in sales["totals"]:
        partial = f", partial: {r['incomplete_companies']}" if r["incomplete_companies"] else ""
        qt.add_row(
            str(r["quarter"]),
            "TOTAL",
            _num(r["btc_produced"]),
            f"companies: {r['n_companies_produced']}{partial}",
            _num(r["btc_sold"]),
            f"companies: {r['n_companies_sold']}",
        )
    console.print(qt)
    ct = Table(title="Months of production that holdings cover (latest period with both figures)")
    for col in ("company", "period", "BTC held", "produced/month", "months covered"):
        ct.add_column(col, justify="left" if col in ("company", "period") else "right")
    for r in overview["holdings_cover_months"]:
        ct.add_row(
            str(r["company"]),
            str(r["period"] or NOT_DISCLOSED),
            _num(r["btc_held"]),
            _num(r["btc_produced_per_month"]),
            _num(r["cover_months"], ",.1f"),
        )
    console.print(ct)
    console.print(str(overview["published_comparison"]["text"]), highlight=False)
    console.print(
        "Share of production sold: " + str(overview["share_sold_evidence"]["text"]),
        highlight=False,
    )


@handle_errors
def miners(
    file: Path | None = typer.Argument(
        None,
        help="Your miners' data, YAML or CSV (schema: hashrisk.flows.miners); default: the packaged dataset of "
        "listed miners' disclosures.",
    ),
    period: str | None = typer.Option(
        None,
        "--period",
        help="Period of the packaged dataset (YYYY-MM or YYYYQn; default: each company's latest). Not with FILE.",
    ),
    price: float | None = PRICE_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Listed miners: disclosed figures, BTC produced vs sold per quarter, and cash cost per BTC, BTC to sell and
    runway at BTC price P (for complete rows)."""
    if file is not None:
        if period is not None:
            raise InputError(
                "period", period, "no --period with FILE (it selects a period of the packaged dataset)"
            )
        _miners_file(file, price, json_out)
    else:
        _miners_dataset(period, price, json_out)


# ------------------------------------------------------------------------------------------- miners calibrate
def _q(x: Quantiles | None) -> str:
    if x is None:
        return NOT_DISCLOSED
    return f"{_num(x.p50)} ({_num(x.p05)}-{_num(x.p95)})"


def _quarter_runs(quarters: list[str]) -> str:
    """``2024Q1, 2024Q2, 2024Q3, 2025Q2`` -> ``2024Q1-2024Q3, 2025Q2``."""
    keys = [int(q[:4]) * 4 + int(q[-1]) - 1 for q in quarters]
    runs: list[str] = []
    i = 0
    while i < len(keys):
        j = i
        while j + 1 < len(keys) and keys[j + 1] == keys[j] + 1:
            j += 1
        runs.append(quarters[i] if i == j else f"{quarters[i]}-{quarters[j]}")
        i = j + 1
    return ", ".join(runs)


def _missing_text(missing: list[str]) -> str:
    """The fit's missing entries grouped: quarters with no figure, without sold / produced, partial ones."""
    groups: dict[str, list[str]] = {}
    partial: list[str] = []
    for m in missing:
        q, _, rest = m.partition(" ")
        if ":" in rest:
            partial.append(m)
        else:
            groups.setdefault({"": "none", "sold": "no sold", "produced": "no produced"}[rest], []).append(q)
    parts = [f"{k}: {_quarter_runs(v)}" for k, v in groups.items()]
    return "; ".join([*parts, *partial]) or "none"


def _stored_daily(home: Path | None, day: dt.date) -> tuple[pd.DataFrame, NetworkSnapshot | None, str | None]:
    """The stored daily frame and the snapshot of `day` (None with the store's reason when it has none)."""
    if not store_path(home).exists():
        why = f"no store at {store_path(home)}"
        return pd.DataFrame(), None, why
    with Store(home, read_only=True) as store:
        daily = store.daily_frame()
    try:
        return daily, snapshot_for_date(day, home=home), None
    except DataError as exc:
        return daily, None, str(exc)


def _print_calibration(cal: Calibration) -> None:
    fit, test = cal.fit, cal.test
    ft = Table(title=f"Fit: share of production sold, disclosed periods inside {fit.start}:{fit.end}")
    for col in ("company", "produced", "sold", "share sold", "basis", "periods used", "missing"):
        ft.add_column(col, justify="right" if col in ("produced", "sold", "share sold") else "left")
    for r in fit.rows:
        ft.add_row(
            r.company,
            _num(r.produced_btc),
            _num(r.sold_btc, ",.2f"),
            pct(r.share_sold, 1),
            r.basis,
            ", ".join(r.periods) or NOT_DISCLOSED,
            _missing_text(r.missing),
        )
    console.print(ft)
    for line in (*fit.notes, fit.not_fitted):
        console.print(line, highlight=False)
    if test.status != "ran":
        m = test.missing
        console.print(
            f"Test quarter {test.quarter} ({test.first_day}..{test.last_day}) not run: the store lacks what it needs.",
            highlight=False,
        )
        if "price_days" in m:
            console.print(
                f"  daily closes missing for {m['price_days_count']} day(s): {', '.join(m['price_days'])}",
                highlight=False,
            )
        if "snapshot" in m:
            console.print(f"  {m['snapshot']}", highlight=False)
        console.print(f"  get them with {m['how_to_get']}; no price is made up.", highlight=False)
        return
    tt = Table(
        title=f"Test {test.quarter} on the realised prices from {test.start_day} ({test.paths:,} paths): "
        "BTC sold, p50 (p05-p95)"
    )
    for col in ("company", "share sold", "sold", "of which production", "treasury drawn", "disclosed sold"):
        tt.add_column(col, justify="left" if col == "company" else "right")
    for c in test.companies:
        tt.add_row(
            c.company,
            f"{pct(c.share_sold, 1)} ({c.share_sold_basis})",
            _q(c.sold_btc),
            _q(c.sold_production_btc),
            _q(c.treasury_drawn_btc),
            f"{_num(c.disclosed_sold_btc)} ({c.disclosed_coverage})",
        )
    pub = test.published
    tt.add_row(
        "TOTAL listed",
        "",
        _q(test.total_sold_btc),
        "",
        "",
        NOT_DISCLOSED if pub is None else f"{pub['qualifier']} {pub['value']:,.0f} (published)",
    )
    console.print(tt)
    if pub is not None:
        verdict = "within" if test.within_goal else "outside"
        console.print(
            f"median vs published: {test.rel_error_p50:+.1%}, {verdict} the {GOAL_REL_ERROR:.0%} goal "
            f"(published: {pub['qualifier']} {pub['value']:,.0f} BTC, a press figure; its source is in --json)",
            highlight=False,
        )
    console.print(
        f"covered: {', '.join(test.covered) or 'none'}; left out: "
        + ("; ".join(f"{k} ({v})" for k, v in test.left_out.items()) or "none"),
        highlight=False,
    )
    for line in test.notes:
        console.print(line, highlight=False)


@handle_errors
def miners_calibrate(
    fit: str = typer.Option(
        f"{FIT_START}:{FIT_END}", "--fit", help="Fit window START:END (YYYY-MM-DD), inside the default."
    ),
    test: str = typer.Option(TEST_QUARTER, "--test", help="Test quarter YYYYQn, after the fit window."),
    paths: int = typer.Option(1000, "--paths", min=1, help="Monte-Carlo paths of the test quarter."),
    home: Path | None = typer.Option(
        None, "--home", help="Data directory (default: $HASHRISK_HOME or the user data dir).", file_okay=False
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Calibrate the listed miners' selling: fit the share of production sold on the 2024-2025 disclosures, then
    run the test quarter on its stored realised prices and compare BTC sold with what was disclosed."""
    window = parse_fit_window(fit)
    first, _ = quarter_days(test)
    daily, snap, why = _stored_daily(home, first - dt.timedelta(days=1))
    result = calibrate(window, test, daily, snap, snapshot_problem=why, paths=paths)
    if json_out:
        emit_json(result.to_dict())
        return
    _print_calibration(result)


# ------------------------------------------------------------------------------------------- hpc
def default_group(default: str) -> type[TyperGroup]:
    """A typer group whose first argument, when it is not a subcommand name (a file, an option, nothing), goes to
    the `default` subcommand: ``hashrisk hpc [SITE.yaml]`` runs ``hpc site``, ``hashrisk miners [FILE]`` runs
    ``miners stress``, so the command lines of the single commands keep working (a file named like a subcommand:
    pass ``./progress``)."""

    class _DefaultGroup(TyperGroup):
        def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
            if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
                args = [default, *args]
            return super().parse_args(ctx, args)

    return _DefaultGroup


hpc_app = typer.Typer(
    cls=default_group("site"),
    help="AI/HPC: value one site (`hashrisk hpc [SITE.yaml]`, the default) or track the listed miners' "
    "contracts (`hashrisk hpc progress`).",
)


@hpc_app.command("site")
@handle_errors
def hpc(
    site: Path | None = typer.Argument(None, help="Site YAML (default: the packaged template site)."),
    price: float | None = PRICE_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Mine vs convert to AI/HPC vs both on one site (NPV, IRR, payback), and the industry funding gap (the
    default of `hashrisk hpc`). With the packaged template, the gap's leased MW and delivered share come from the
    contracts dataset (hashrisk/flows/data/hpc_contracts.csv); VanEck's ~$50bn / $221bn stay the comparison."""
    contracts_gap = None
    if site is None:
        contracts_gap = funding_gap_from_contracts()
        spec = with_contracts_portfolio(SiteSpec.packaged(), contracts_gap)
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
                "funding_gap_contracts": None if contracts_gap is None else contracts_gap.summary(),
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
        basis = (
            f"contracted in the contracts dataset as of {contracts_gap.as_of} (delivered: disclosed, a lower bound)"
            if contracts_gap is not None
            else "from the site file"
        )
        console.print(
            f"Industry funding gap: leased {inp['leased_it_mw']:,.0f} IT-MW {basis}, "
            f"{pct(inp['delivered_share'], 0)} delivered; pipeline {inp['pipeline_gross_mw']:,.0f} MW gross x "
            f"{inp['it_mw_per_gross_mw']:g} IT",
            highlight=False,
        )
        gt = Table()
        for col in (
            "capex case",
            "$/IT-MW",
            "short-term gap",
            "long-term need",
            "leased IT-MW for VanEck's gap",
        ):
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


@hpc_app.command("progress")
@handle_errors
def hpc_progress(
    as_of: str | None = typer.Option(
        None, "--as-of", help="Last date, YYYY-MM-DD (default: the newest announcement or disclosure)."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Listed miners' AI/HPC contracts: MW contracted against delivered over time, per company and in total,
    with the $ backlog and the delivered share beside VanEck's ~25% (packaged, cited contracts dataset)."""
    result = progress(as_of)
    s = result.summary()
    frame = result.to_frame()
    if json_out:
        emit_json({**s, "series": frame.to_dict("records")})
        return
    table = Table(
        title=f"AI/HPC contracts of listed miners as of {s['as_of']} ({NOT_DISCLOSED} = not disclosed)"
    )
    cols = (
        "company",
        "contracts",
        "contracted MW",
        "delivered MW",
        "delivered share",
        "contract value",
        "backlog",
    )
    for col in cols:
        table.add_column(col, justify="left" if col == "company" else "right")
    for name, f in [*s["by_company"].items(), (TOTAL, s["total"])]:
        table.add_row(
            name,
            f"{f['n_contracts']:.0f}",
            f"{f['contracted_mw']:,.0f}",
            _num(f["delivered_mw"]),
            pct(f["delivered_share_low"], 0),
            _num(f["delivered_share_disclosed"], ".0%"),
            usd_bn(f["contract_value_usd"]),
            usd_bn(f["backlog_usd"]),
        )
    console.print(table)
    tt = Table(title="Total over time (each announcement or delivery disclosure)")
    for col in ("date", "contracted MW", "delivered MW", "delivered share", "backlog"):
        tt.add_column(col, justify="left" if col == "date" else "right")
    for r in frame[frame["company"] == TOTAL].to_dict("records"):
        tt.add_row(
            str(r["date"]),
            f"{r['contracted_mw']:,.0f}",
            _num(r["delivered_mw"]),
            pct(r["delivered_share_low"], 0),
            usd_bn(r["backlog_usd"]),
        )
    console.print(tt)
    console.print(
        f"delivered share: delivered / contracted MW, undisclosed delivery counted as none (a lower bound); "
        f"VanEck put it at about {pct(s['vaneck_delivered_share'], 0)} ({s['vaneck_source']}). "
        f"Without a delivery disclosure: {', '.join(s['contracts_without_delivery_disclosure']) or 'none'}.",
        highlight=False,
    )
    for a in s["assumptions"]:
        console.print(a, highlight=False)


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


miners_app = typer.Typer(
    cls=default_group("stress"),
    help="Listed miners: disclosed figures and cash stress (`hashrisk miners [FILE]`, the default `miners stress`), "
    "calibration against the disclosed sales (`hashrisk miners calibrate`) or pools and coinbase flows measured on "
    "your own node (`hashrisk miners onchain`).",
)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main `app`: the `miners` group (default `miners stress`, and `miners
    onchain`), the `hpc` group (default `hpc site`) and `flows`."""
    from hashrisk.cli.onchain_cmd import miners_onchain

    miners_app.command("stress")(miners)
    miners_app.command("onchain")(miners_onchain)
    miners_app.command("calibrate")(miners_calibrate)
    app.add_typer(miners_app, name="miners")
    app.add_typer(hpc_app, name="hpc")
    app.add_typer(flows_app, name="flows")
