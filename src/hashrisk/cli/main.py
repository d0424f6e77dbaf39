"""The `hashrisk` command: a thin shell over the library (parse, call, render)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.table import Table

from hashrisk import __version__
from hashrisk.chain.estimate import estimate_next_adjustment
from hashrisk.chain.pow import bits_to_difficulty, next_bits
from hashrisk.chain.subsidy import block_subsidy_sats, next_halving_height
from hashrisk.cli import analytics_cmd, changes_cmd, flows_cmd, report_cmd
from hashrisk.cli.common import (
    JSON_OPTION,
    OneLineErrorGroup,
    as_of_fields,
    as_of_line,
    console,
    emit_json,
    handle_errors,
    read_user_text,
    resolve_snapshot,
    unix_time,
)
from hashrisk.cli.config_cmd import config_app
from hashrisk.cli.data_cmd import data_app
from hashrisk.cli.evaluate_cmd import register_evaluate_commands
from hashrisk.cli.sim_cmd import register_sim_commands
from hashrisk.cli.sweep_cmd import register_sweep_commands
from hashrisk.cli.update_cmd import register_update_command
from hashrisk.constants import SATS_PER_BTC
from hashrisk.display import eh_s, pct, usd
from hashrisk.economics.catalog import load_catalog
from hashrisk.economics.cost import production_cost
from hashrisk.economics.fleet import FleetSpec, build_fleet, dated_fleet_spec
from hashrisk.economics.machine import machine_economics
from hashrisk.errors import InputError

app = typer.Typer(
    cls=OneLineErrorGroup,
    name="hashrisk",
    help="Bitcoin mining economics: production cost, cost curve, breakevens, consensus rules.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
chain_app = typer.Typer(
    help="Consensus rules: subsidy, retarget, next-adjustment estimate.", no_args_is_help=True
)
app.add_typer(chain_app, name="chain")
app.add_typer(data_app, name="data")
app.add_typer(config_app, name="config")
register_sim_commands(app)
register_sweep_commands(app)
register_update_command(app)
register_evaluate_commands(app)
analytics_cmd.register(app)
flows_cmd.register(app)
report_cmd.register(app)
changes_cmd.register(app)

SNAPSHOT_OPTION = typer.Option(
    None, "--snapshot", help="TOML file overriding snapshot fields.", dir_okay=False
)
PRICE_OPTION = typer.Option(None, "--price", help="BTC price [USD] (default: the snapshot's).")
DIFFICULTY_OPTION = typer.Option(None, "--difficulty", help="Difficulty (default: the snapshot's).")
HASHRATE_OPTION = typer.Option(
    None, "--hashrate-ths", help="Network hashrate [TH/s] (default: the snapshot's)."
)
FEES_OPTION = typer.Option(None, "--fees", help="Mean fees per block [BTC] (default: the snapshot's).")
DATE_OPTION = typer.Option(
    None,
    "--date",
    help="Use the stored snapshot of this day (YYYY-MM-DD); default: the newest complete stored day, else "
    "the embedded 2026-06-01 snapshot.",
)
HOME_OPTION = typer.Option(
    None, "--home", help="Data directory (default: $HASHRISK_HOME or the user data dir)."
)


def _version(value: bool) -> None:
    if value:
        console.print(f"hashrisk {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """hashrisk command-line interface."""


def _fleet_spec(path: Path | None) -> FleetSpec:
    if path is None:
        return FleetSpec.default()
    return FleetSpec.from_toml_text(read_user_text(path, "fleet", "TOML file"), origin=str(path))


@app.command()
@handle_errors
def cost(
    power_price: float = typer.Option(0.05, "--power-price", help="Uniform power price [USD/kWh]."),
    price: float | None = PRICE_OPTION,
    difficulty: float | None = DIFFICULTY_OPTION,
    hashrate_ths: float | None = HASHRATE_OPTION,
    fees: float | None = FEES_OPTION,
    snapshot: Path | None = SNAPSHOT_OPTION,
    fleet_file: Path | None = typer.Option(
        None, "--fleet", help="Fleet TOML (default: packaged assumptions)."
    ),
    date: str | None = DATE_OPTION,
    home: Path | None = HOME_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Production cost per BTC, cost curve and the share of hashrate underwater.

    With --date of a stored day, the fleet is the vintage fleet of that day (catalog machines of its time).
    """
    snap = resolve_snapshot(
        snapshot,
        date,
        home,
        price_usd=price,
        difficulty=difficulty,
        hashrate_ths=hashrate_ths,
        fees_btc_per_block=fees,
    )
    stored = date is not None and snap.date.isoformat() == date  # not the embedded fallback
    spec = _fleet_spec(fleet_file) if fleet_file is not None or not stored else dated_fleet_spec(snap.date)
    fleet = build_fleet(spec, snap.hashrate_ths)
    result = production_cost(snap, fleet, power_price)
    summary = result.summary()
    if json_out:
        emit_json({"snapshot": snap.to_dict(), **summary, **as_of_fields(snap)})
        return
    table = Table(title=f"Production cost of 1 BTC, {snap.date} (BTC {usd(snap.price_usd)})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("basis")
    table.add_row(
        "hashprice",
        f"${summary['hashprice_usd_per_ph_day']:.2f}/PH/day",
        f"difficulty {snap.difficulty:,.0f}, fees {snap.fees_btc_per_block} BTC/block",
    )
    for bound in ("lower", "best_guess", "upper"):
        b = result.basket[bound]
        table.add_row(
            f"electricity-only, {bound.replace('_', ' ')}",
            usd(b.electricity_cost_usd_per_btc),
            f"basket {b.efficiency_j_per_th:.1f} J/TH, PUE {b.pue}, ${power_price}/kWh",
        )
    table.add_row(
        "electricity-only, fleet",
        usd(summary["electricity_only_fleet_usd_per_btc"]),
        f"fleet {fleet.mean_wall_efficiency_j_per_th:.1f} J/TH at the wall (assumption)",
    )
    table.add_row("  per +$0.01/kWh", usd(summary["electricity_usd_per_btc_per_cent_per_kwh"]), "linear")
    table.add_row(
        "all-in (fleet)",
        usd(summary["all_in_usd_per_btc"]["total"]),
        "electricity + other opex + depreciation (assumptions)",
    )
    curve = summary["cost_curve"]
    table.add_row(
        "cost curve median", usd(curve["breakeven_p50_usd"]), "cohorts' own power prices (assumption)"
    )
    table.add_row("marginal cost", usd(curve["marginal_cost_usd"]), "most expensive running cohort")
    for move, share in summary["share_unprofitable"].items():
        table.add_row(f"hashrate unprofitable at {move}", pct(share), "difficulty unchanged")
    table.add_row(
        "hashrate within 10% of breakeven",
        pct(summary["share_within_10pct_of_breakeven"]),
        "underwater after a 10% fall",
    )
    console.print(table)
    console.print(f"network {eh_s(snap.hashrate_ths)}; fleet: {fleet.label}", highlight=False)
    console.print(as_of_line(snap), highlight=False)


@app.command()
@handle_errors
def breakeven(
    model: str = typer.Option(..., "--model", help='Catalog model, e.g. "Antminer S19j Pro".'),
    power_price: float = typer.Option(0.06, "--power-price", help="Power price [USD/kWh]."),
    pue: float = typer.Option(1.0, "--pue", help="Power usage effectiveness (facility overhead)."),
    price: float | None = PRICE_OPTION,
    difficulty: float | None = DIFFICULTY_OPTION,
    hashrate_ths: float | None = HASHRATE_OPTION,
    fees: float | None = FEES_OPTION,
    snapshot: Path | None = SNAPSHOT_OPTION,
    date: str | None = DATE_OPTION,
    home: Path | None = HOME_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """One machine: daily profit, breakeven power price and breakeven BTC price."""
    snap = resolve_snapshot(
        snapshot,
        date,
        home,
        price_usd=price,
        difficulty=difficulty,
        hashrate_ths=hashrate_ths,
        fees_btc_per_block=fees,
    )
    econ = machine_economics(model, snap, power_price, pue)
    if json_out:
        emit_json({**econ.to_dict(), **as_of_fields(snap)})
        return
    table = Table(title=f"{econ.model} at ${power_price}/kWh, PUE {pue}, {snap.date}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row(
        "spec", f"{econ.hashrate_ths:g} TH/s, {econ.power_w:g} W, {econ.efficiency_j_per_th:g} J/TH"
    )
    table.add_row("hashprice", f"${econ.hashprice_usd_per_ph_day:.2f}/PH/day at BTC {usd(snap.price_usd)}")
    table.add_row("revenue per day", usd(econ.daily_revenue_usd, 2))
    table.add_row("profit per day", usd(econ.daily_profit_usd, 2))
    table.add_row("breakeven power price", f"${econ.breakeven_power_price_usd_per_kwh:.4f}/kWh")
    table.add_row("breakeven BTC price", usd(econ.breakeven_price_usd))
    console.print(table)
    console.print(f"spec source: {econ.source}", highlight=False)
    console.print(as_of_line(snap), highlight=False)


@app.command()
@handle_errors
def models(
    released_by: str | None = typer.Option(None, "--released-by", help="Only models released by YYYY-MM."),
    json_out: bool = JSON_OPTION,
) -> None:
    """List the ASIC catalog (makers' specs, with sources)."""
    frame = load_catalog(released_by)
    if json_out:
        records = frame.assign(release_month=frame["release_month"].astype(str)).to_dict(orient="records")
        emit_json({"count": len(records), "models": records})
        return
    table = Table(title=f"ASIC catalog ({len(frame)} models)")
    for col in ("maker", "model", "released", "TH/s", "W", "J/TH", "cooling"):
        table.add_column(col, justify="right" if col in ("TH/s", "W", "J/TH") else "left")
    for r in frame.itertuples():
        table.add_row(
            str(r.maker),
            str(r.model),
            str(r.release_month),
            f"{r.hashrate_ths:g}",
            f"{r.power_w:g}",
            f"{r.efficiency_j_per_th:g}",
            str(r.cooling),
        )
    console.print(table)


def _int(value: str, field: str) -> int:
    try:
        return int(value, 0)
    except ValueError:
        raise InputError(field, value, "an integer (decimal or 0x hex)") from None


@chain_app.command("next-bits")
@handle_errors
def chain_next_bits(
    bits: str = typer.Option(..., "--bits", help="nBits of the ending period, e.g. 0x1d00ffff."),
    first_time: str = typer.Option(
        ..., "--first-time", help="Time of the period's first block (unix s or ISO)."
    ),
    last_time: str = typer.Option(
        ..., "--last-time", help="Time of the period's last block (unix s or ISO)."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """New nBits after a retarget (Bitcoin Core CalculateNextWorkRequired)."""
    old = _int(bits, "bits")
    new = next_bits(old, unix_time(first_time, "--first-time"), unix_time(last_time, "--last-time"))
    if json_out:
        change = bits_to_difficulty(new) / bits_to_difficulty(old) - 1
        emit_json({"bits": f"0x{new:08x}", "difficulty": bits_to_difficulty(new), "change_pct": 100 * change})
        return
    console.print(f"0x{new:08x}", highlight=False)


@chain_app.command("subsidy")
@handle_errors
def chain_subsidy(
    height: int = typer.Argument(..., help="Block height."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Block subsidy at a height."""
    sats = block_subsidy_sats(height)
    out = {
        "height": height,
        "subsidy_sats": sats,
        "subsidy_btc": sats / SATS_PER_BTC,
        "next_halving_height": next_halving_height(height),
    }
    if json_out:
        emit_json(out)
        return
    console.print(
        f"height {height:,}: {sats / SATS_PER_BTC:.8f} BTC ({sats:,} sats); "
        f"next halving at {out['next_halving_height']:,}",
        highlight=False,
    )


@chain_app.command("estimate")
@handle_errors
def chain_estimate(
    bits: str = typer.Option(..., "--bits", help="nBits of the epoch in progress."),
    epoch_start_time: str = typer.Option(..., "--epoch-start-time", help="Time of the epoch's first block."),
    blocks_mined: int = typer.Option(
        ..., "--blocks-mined", help="Blocks of the epoch mined so far (1-2016)."
    ),
    now: str | None = typer.Option(None, "--now", help="Current time (default: now)."),
    last_block_time: str | None = typer.Option(None, "--last-block-time", help="Time of the latest block."),
    epoch_start_height: int | None = typer.Option(
        None, "--height", help="Height of the epoch's first block."
    ),
    prior_interval: float = typer.Option(600.0, "--prior-interval", help="Prior mean block interval [s]."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Estimate the next difficulty adjustment from an epoch in progress."""
    now_s = unix_time(now, "--now") if now is not None else int(dt.datetime.now(dt.UTC).timestamp())
    est = estimate_next_adjustment(
        _int(bits, "bits"),
        unix_time(epoch_start_time, "--epoch-start-time"),
        blocks_mined,
        now_s,
        last_block_time=None if last_block_time is None else unix_time(last_block_time, "--last-block-time"),
        epoch_start_height=epoch_start_height,
        prior_interval_s=prior_interval,
    )
    if json_out:
        emit_json(est.to_dict())
        return

    def when(t: float) -> str:
        return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")

    state = "locked in" if est.locked_in else f"{est.blocks_remaining} blocks to go"
    console.print(
        f"next retarget ({state}): {est.change_pct_p50:+.2f}% "
        f"[90% band {est.change_pct_p05:+.2f}% .. {est.change_pct_p95:+.2f}%], "
        f"difficulty fixed around {when(est.lock_in_time_p50)} "
        f"[{when(est.lock_in_time_p05)} .. {when(est.lock_in_time_p95)}]",
        highlight=False,
    )
