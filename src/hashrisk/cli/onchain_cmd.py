"""`hashrisk miners onchain`: pools and coinbase flows measured on the user's own Bitcoin Core node (issue 15).

A subcommand of the ``miners`` group (:mod:`hashrisk.cli.flows_cmd`), whose default ``miners stress`` keeps
``hashrisk miners [FILE]`` working (a file named ``onchain``: pass ``./onchain``). It opens the store
read-only, reads what ``hashrisk data fetch --source bitcoind --coinbase`` stored
(`hashrisk.data.coinbase.read_onchain`), and shows `hashrisk.analytics.onchain.requested_onchain_view`: the pool
distribution with Wilson intervals, BTC moved vs mined per day, the first hop of coinbase spends, and the
quarters beside the listed miners' disclosed sales.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from hashrisk.analytics.onchain import OnchainView, requested_onchain_view
from hashrisk.cli.common import JSON_OPTION, console, emit_json, handle_errors
from hashrisk.display import num_or_dash, pct_or_dash
from hashrisk.errors import DataError, InputError

HOME_OPTION = typer.Option(
    None, "--home", help="Data directory (default: $HASHRISK_HOME or the user data dir).", file_okay=False
)


def _day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError("--since", value, "a day YYYY-MM-DD") from None


def load_view(home: Path | None, since: dt.date | None, pool: str | None) -> OnchainView:
    """Read the stored coinbase flows (read-only) and build the view.

    Raises
    ------
    DataError
        No block scanned with ``--coinbase`` in the store (the message says how to get some), or none since
        `since`, or no block of `pool`.
    """
    from hashrisk.data.coinbase import read_onchain
    from hashrisk.data.store import Store
    from hashrisk.flows.listed import quarterly_sales

    with Store(home, read_only=True) as store:
        where = store.path
        data = read_onchain(store, since)
    if data["last_time"] is None:
        raise DataError(
            f"no pools or coinbase flows in the store {where}; scan your node with "
            "`hashrisk data fetch --source bitcoind --coinbase` (a Bitcoin Core node, RPC on 127.0.0.1:8332)"
        )
    view = requested_onchain_view(
        data,
        since=since,
        pool=pool,
        sales_totals=quarterly_sales()[1],
        since_field="--since",
        pool_field="--pool",
    )
    return view


@handle_errors
def miners_onchain(
    since: str | None = typer.Option(
        None, "--since", help="First day YYYY-MM-DD (UTC); default: all scanned."
    ),
    pool: str | None = typer.Option(None, "--pool", help='Only this pool (e.g. "Foundry USA", "unknown").'),
    home: Path | None = HOME_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Pools and coinbase flows from your own node: pool shares (95% Wilson interval), coinbase BTC moved vs
    mined per day, first hop (consolidation vs movement out), beside listed miners' disclosed sales."""
    view = load_view(home, _day(since), pool)
    if json_out:
        emit_json(view.to_dict())
        return
    _print(view)


def _print(view: OnchainView) -> None:
    span = f"{view.first_time:%Y-%m-%d %H:%M} to {view.last_time:%Y-%m-%d %H:%M} UTC"
    who = f" — {escape(view.pool)}" if view.pool else ""
    console.print(
        f"[bold]Pools and coinbase flows{who}[/bold]: {view.blocks:,} blocks, {span}", highlight=False
    )
    dist = Table(title="Pool distribution (share of blocks ≈ share of hashrate; 95% Wilson interval)")
    for col in ("pool", "blocks", "share", "95% interval", "subsidy BTC", "fees BTC"):
        dist.add_column(col, justify="left" if col == "pool" else "right")
    for r in view.distribution.itertuples():
        dist.add_row(
            escape(str(r.pool)),
            f"{r.blocks:,}",
            pct_or_dash(r.share),
            f"{pct_or_dash(r.share_low)} – {pct_or_dash(r.share_high)}",
            num_or_dash(r.subsidy_btc),
            num_or_dash(r.fees_btc, ",.3f"),
        )
    console.print(dist)
    moved = Table(title="Coinbase BTC moved out vs mined, per UTC day")
    for col in ("day", "mined BTC", "moved out BTC", "consolidated BTC", "moved / mined"):
        moved.add_column(col, justify="left" if col == "day" else "right")
    for r in view.moved.tail(31).itertuples():
        moved.add_row(
            f"{r.date:%Y-%m-%d}",
            num_or_dash(r.mined_btc),
            num_or_dash(r.moved_out_btc),
            num_or_dash(r.consolidated_btc),
            pct_or_dash(r.moved_share),
        )
    console.print(moved)
    if len(view.first_hop):
        hop = Table(title="First hop of coinbase spends, per UTC day of the spend")
        for col in (
            "day",
            "spending txs",
            "coinbase BTC spent",
            "to the pool (outputs / BTC)",
            "out (outputs / BTC)",
        ):
            hop.add_column(col, justify="left" if col == "day" else "right")
        for r in view.first_hop.tail(31).itertuples():
            hop.add_row(
                f"{r.date:%Y-%m-%d}",
                f"{r.spending_txs:,}",
                num_or_dash(r.coinbase_spent_btc),
                f"{r.outputs_consolidation:,} / {num_or_dash(r.btc_consolidation)}",
                f"{r.outputs_out:,} / {num_or_dash(r.btc_out_moved)}",
            )
        console.print(hop)
    else:
        console.print("No coinbase output spent in the window.", highlight=False)
    if len(view.beside_sales):
        side = Table(title="Per quarter: on-chain coinbase BTC moved out vs listed miners' disclosed sales")
        for col in (
            "quarter",
            "days scanned",
            "mined BTC",
            "moved out BTC",
            "disclosed sold BTC",
            "disclosed produced BTC",
        ):
            side.add_column(col, justify="left" if col == "quarter" else "right")
        for r in view.beside_sales.itertuples():
            side.add_row(
                str(r.quarter),
                f"{r.days_scanned:,}",
                num_or_dash(r.mined_btc),
                num_or_dash(r.moved_out_btc),
                num_or_dash(r.disclosed_sold_btc),
                num_or_dash(r.disclosed_produced_btc),
            )
        console.print(side)
        console.print(
            "Listed miners are a subset of all miners and not every sale is an on-chain move of coinbase coins: "
            "the two are set side by side, not equated.",
            highlight=False,
        )
