"""`hashrisk data ...` commands (import, fetch, status, export)."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from hashrisk.cli.common import JSON_OPTION, console, emit_json, handle_errors
from hashrisk.data.files import import_file
from hashrisk.data.store import Store
from hashrisk.errors import InputError

data_app = typer.Typer(help="Import, fetch and inspect the local data store.", no_args_is_help=True)

HOME_OPTION = typer.Option(
    None, "--home", help="Data directory (default: $HASHRISK_HOME or the user data dir).", file_okay=False
)


class ImportFormat(enum.StrEnum):
    """File formats `hashrisk data import` reads (see hashrisk.data.files)."""

    coinmetrics_csv = "coinmetrics-csv"
    hashrisk_csv = "hashrisk-csv"
    mempool_hashrate_json = "mempool-hashrate-json"
    parquet = "parquet"


class ExportFormat(enum.StrEnum):
    """File formats `hashrisk data export` writes."""

    csv = "csv"
    parquet = "parquet"


class TableChoice(enum.StrEnum):
    """Store tables."""

    daily = "daily"
    blocks = "blocks"
    retargets = "retargets"


@data_app.command("import")
@handle_errors
def import_cmd(
    file: Path = typer.Argument(..., help="File to import.", dir_okay=False),
    format: ImportFormat | None = typer.Option(
        None, "--format", help="File format (default: detected from the content)."
    ),
    source: str | None = typer.Option(
        None, "--source", help="Provenance name for the rows (default: from the format or the file)."
    ),
    home: Path | None = HOME_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Import a data file into the store (idempotent: importing it again changes nothing)."""
    report = import_file(file, format=format.value if format else None, source=source, home=home)
    if json_out:
        emit_json(report)
        return
    table = Table(title=f"Imported {escape(file.name)} ({report['format']})")
    for name in ("table", "source", "rows", "changed"):
        table.add_column(name, justify="right" if name in ("rows", "changed") else "left")
    for batch in report["batches"]:
        table.add_row(batch["table"], escape(batch["source"]), f"{batch['rows']:,}", f"{batch['changed']:,}")
    console.print(table)
    console.print(
        f"range {report['first']} .. {report['last']}; store {escape(report['store'])}", highlight=False
    )
    for column, rule in report["derived"].items():
        console.print(f"derived {column}: {escape(rule)}", highlight=False)


@data_app.command("status")
@handle_errors
def status_cmd(home: Path | None = HOME_OPTION, json_out: bool = JSON_OPTION) -> None:
    """Show what the store holds: rows, date or height range, and gaps, per table and source."""
    with Store(home, read_only=True) as store:
        status = store.status()
    if json_out:
        emit_json(status)
        return
    if not status["exists"]:
        console.print(
            f"no store yet at {escape(status['path'])}; import data with "
            "`hashrisk data import FILE` or `hashrisk data fetch`",
            highlight=False,
        )
        return
    size_mb = status["size_bytes"] / 1e6
    console.print(
        f"store {escape(status['path'])} (schema {status['schema_version']}, {size_mb:.1f} MB)",
        highlight=False,
    )
    table = Table()
    for name in ("table", "source", "rows", "first", "last", "missing"):
        table.add_column(name, justify="right" if name in ("rows", "missing") else "left", no_wrap=True)
    table.add_column("gaps", overflow="fold")
    for table_name, info in status["tables"].items():
        if not info["sources"]:
            table.add_row(table_name, "-", "0", "", "", "", "")
        for source, s in info["sources"].items():
            table.add_row(
                table_name,
                escape(source),
                f"{s['rows']:,}",
                str(s["min"]),
                str(s["max"]),
                f"{s['missing']:,}",
                _gaps_text(s),
            )
    console.print(table)
    last = status["last_import"]
    if last:
        console.print(
            f"last write {last['at']}: {last['table']} from {escape(str(last['source']))} "
            f"({last['rows_changed']:,} of {last['rows_in']:,} rows changed)",
            highlight=False,
        )


def _gaps_text(entry: dict[str, Any], shown: int = 3) -> str:
    gaps = entry["gaps"]
    parts = [str(a) if a == b else f"{a}..{b}" for a, b in gaps[:shown]]
    if len(gaps) > shown or entry["gaps_truncated"]:
        parts.append("...")
    return ", ".join(parts)


@data_app.command("export")
@handle_errors
def export_cmd(
    format: ExportFormat = typer.Option(..., "--format", help="Output format."),
    out: Path = typer.Option(..., "--out", help="Output file.", dir_okay=False),
    table: TableChoice = typer.Option(TableChoice.daily, "--table", help="Table to export."),
    home: Path | None = HOME_OPTION,
) -> None:
    """Export a store table to CSV or Parquet (readable again by `hashrisk data import`)."""
    if not out.parent.is_dir():
        raise InputError("--out", str(out), "a file in an existing folder")
    with Store(home, read_only=True) as store:
        rows = store.export(table.value, out, format.value)
    console.print(f"wrote {rows:,} {table.value} rows to {escape(str(out))}", highlight=False)


# fetch: see part B


@data_app.command("fetch")
@handle_errors
def fetch_cmd(
    source: str = typer.Option(
        ...,
        "--source",
        help="coinmetrics, mempool, blockchain, bitcoind (a Bitcoin Core node), edgar (listed miners' SEC facts) "
        "or pools (mining-pool definitions, mempool/mining-pools pools-v2.json).",
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        help="First day YYYY-MM-DD (a block height for bitcoind); default: resume from the store.",
    ),
    base_url: str | None = typer.Option(
        None, "--base-url", help="API root or RPC URL (default: the public API / http://127.0.0.1:8332)."
    ),
    home: Path | None = HOME_OPTION,
    rpc_cookie: Path | None = typer.Option(
        None, "--rpc-cookie", help="Bitcoin Core cookie file (<datadir>/.cookie).", dir_okay=False
    ),
    rpc_user: str | None = typer.Option(None, "--rpc-user", help="Bitcoin Core rpcuser."),
    rpc_password: str | None = typer.Option(
        None, "--rpc-password", help="Bitcoin Core rpcpassword.", envvar="HASHRISK_RPC_PASSWORD"
    ),
    api_key: str | None = typer.Option(
        None, "--api-key", help="Coin Metrics Pro API key.", envvar="COINMETRICS_API_KEY"
    ),
    chain: str = typer.Option("main", "--chain", help="Chain the node must be on (bitcoind)."),
    batch: int = typer.Option(2000, "--batch", help="Blocks per RPC round trip and transaction (bitcoind)."),
    coinbase: bool = typer.Option(
        False,
        "--coinbase",
        help="bitcoind: also attribute blocks to pools and track coinbase outputs and their spends (reads whole "
        "blocks; use a small --batch, e.g. 25); see `hashrisk miners onchain`.",
    ),
    company: list[str] | None = typer.Option(
        None,
        "--company",
        help="edgar: a listed miner's ticker (MARA, RIOT, ...) or CIK; repeatable; default all.",
    ),
    user_agent: str | None = typer.Option(
        None,
        "--user-agent",
        help='edgar: your name and e-mail, sent as User-Agent ("Jane Doe jane@example.com"); required by the SEC.',
        envvar="HASHRISK_SEC_USER_AGENT",
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Fetch a network source into the store (incremental; a failed fetch leaves the store as it was)."""
    from hashrisk.data.sync import fetch

    if source != "bitcoind" and (rpc_cookie or rpc_user or rpc_password):
        raise InputError("--rpc-cookie/--rpc-user/--rpc-password", source, "only with --source bitcoind")
    if source != "edgar" and company:
        raise InputError("--company", company, "only with --source edgar")
    if source != "bitcoind" and coinbase:
        raise InputError("--coinbase", source, "only with --source bitcoind")
    report = fetch(
        source,
        since=since,
        base_url=base_url,
        home=home,
        api_key=api_key,
        rpc_cookie=rpc_cookie,
        rpc_user=rpc_user,
        rpc_password=rpc_password,
        chain=chain,
        batch=batch,
        companies=company or None,
        user_agent=user_agent,
        coinbase=coinbase,
    )
    if json_out:
        emit_json(report)
        return
    if source == "pools":
        console.print(
            f"{report['pools']:,} pool definitions from {escape(str(report['url']))} into "
            f"{escape(str(report['file']))}",
            highlight=False,
        )
        return
    table = Table(title=f"Fetched {escape(source)}")
    table.add_column("table")
    for name in ("rows", "changed", "first", "last"):
        table.add_column(name, justify="right")
    if source == "bitcoind":
        table.add_row(
            "blocks",
            f"{report['blocks_written']:,}",
            f"{report['blocks_written']:,}",
            str(report["first_height"]),
            str(report["last_height"]),
        )
    for name in ("daily", "retargets", "miners"):
        if name in report:
            part = report[name]
            table.add_row(
                name,
                f"{part['rows']:,}",
                f"{part['changed']:,}",
                str(part.get("first")),
                str(part.get("last")),
            )
    console.print(table)
    if source == "bitcoind":
        console.print(
            f"node tip {report['tip_height']:,} on {report['chain']}; rolled back {report['rolled_back']} "
            f"(forks at {report['fork_heights']}); {report['blocks_per_s']:,.0f} blocks/s",
            highlight=False,
        )
        if coinbase:
            console.print(
                f"coinbase outputs {report['coinbase_outputs']:,}, spends {report['coinbase_spends']:,} "
                "(see `hashrisk miners onchain`)",
                highlight=False,
            )
    if source == "edgar":
        _print_edgar(report)
    console.print(f"store {escape(str(report['store']))}", highlight=False)


def _print_edgar(report: dict[str, Any]) -> None:
    """Per company: concepts found and missing (missing is not zero), then the production-update links."""
    companies = Table(title="SEC EDGAR company facts (missing: not tagged, never zero)")
    for name in ("ticker", "cik", "facts", "found", "missing"):
        companies.add_column(name, justify="right" if name in ("cik", "facts") else "left", overflow="fold")
    for c in report["companies"]:
        short = [str(x).split(":")[-1] for x in c["missing"]]
        companies.add_row(
            escape(str(c["ticker"] or "-")),
            str(c["cik"]),
            f"{c['facts']:,}",
            escape(", ".join(str(x).split(":")[-1] for x in c["found"]) or "-"),
            escape(", ".join(short) or "-"),
        )
    console.print(companies)
    links = Table(title="Recent 8-K / 6-K filings (production updates: read the exhibit)")
    for name in ("ticker", "form", "filed", "accession", "exhibit 99.1 / document"):
        links.add_column(name, overflow="fold")
    for c in report["companies"]:
        for link in c["links"]:
            url = link["exhibit_99_1_url"] or link["primary_document_url"]
            links.add_row(
                escape(str(c["ticker"] or c["cik"])), link["form"], link["filed"], link["accession"], url
            )
    console.print(links)
