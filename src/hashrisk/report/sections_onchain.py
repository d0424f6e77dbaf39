"""Section builder over the pools and coinbase flows measured on the user's own node (issue 15).

The data is what ``hashrisk data fetch --source bitcoind --coinbase`` stored (`hashrisk.data.coinbase`),
loaded into ``ReportContext.onchain`` by `hashrisk.report.context.load_onchain`; the tables come from
`hashrisk.analytics.onchain.onchain_view`, set beside the listed miners' disclosed sales
(`hashrisk.flows.listed.quarterly_sales`). Like every builder it returns a Section, or a Skipped naming what
is missing, and only displays what the library computed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from hashrisk.display import num_or_dash, pct_or_dash
from hashrisk.report.charts import COST_COLOR, LAYOUT, PRICE_COLOR
from hashrisk.report.context import ONCHAIN_WINDOW_DAYS, ReportContext
from hashrisk.report.model import Chart, Figures, KeyFigure, Paragraph, Section, Skipped, Table

__all__ = ["onchain_section"]

KEY = "onchain"
TITLE = "Pools and coinbase flows on your node"


def onchain_section(ctx: ReportContext) -> Section | Skipped:
    """Pool distribution over the window, coinbase BTC moved per day against BTC mined, beside the listed
    miners' disclosed sales (needs blocks scanned with ``--coinbase``)."""
    data = getattr(ctx, "onchain", None)
    if not data or data.get("last_time") is None or data["block_pools"].empty:
        return Skipped(
            KEY,
            TITLE,
            "no blocks from your own node are stored with pools and coinbase flows (scan them with "
            "`hashrisk data fetch --source bitcoind --coinbase`)",
        )
    from hashrisk.analytics.onchain import onchain_view
    from hashrisk.flows.listed import quarterly_sales

    last: pd.Timestamp = data["last_time"]
    start = (last - pd.Timedelta(days=ONCHAIN_WINDOW_DAYS)).floor("D")
    bp = data["block_pools"]
    window = {
        "block_pools": bp[pd.to_datetime(bp["time"], utc=True) >= start],
        "outputs": data["outputs"][pd.to_datetime(data["outputs"]["time"], utc=True) >= start],
        "spends": data["spends"][pd.to_datetime(data["spends"]["mined_time"], utc=True) >= start],
        "last_time": last,
    }
    view = onchain_view(window, sales_totals=quarterly_sales()[1])
    dist = view.distribution
    moved = view.moved
    mined_btc = float(moved["mined_btc"].sum())
    moved_btc = float(moved["moved_out_btc"].sum())
    consolidated_btc = float(moved["consolidated_btc"].sum())
    days = len(moved)
    top = dist.iloc[0]
    unknown = dist[dist["pool"] == "unknown"]
    unknown_share = float(unknown["share"].iloc[0]) if len(unknown) else 0.0
    age_days = (pd.Timestamp(ctx.generated_at) - last).total_seconds() / 86_400
    items = [
        KeyFigure(
            "onchain_blocks",
            "blocks scanned in the window",
            float(view.blocks),
            f"{view.blocks:,}",
            f"{days} days",
        ),
        KeyFigure(
            "onchain_top_pool_share",
            f"largest pool: {top['pool']}",
            float(top["share"]),
            f"{pct_or_dash(top['share'])} [{pct_or_dash(top['share_low'])}, {pct_or_dash(top['share_high'])}]",
            "share of blocks, 95% Wilson interval",
        ),
        KeyFigure(
            "onchain_unknown_share", "blocks of no known pool", unknown_share, pct_or_dash(unknown_share), ""
        ),
        KeyFigure(
            "onchain_moved_share",
            "coinbase BTC moved out / mined",
            moved_btc / mined_btc if mined_btc > 0 else float("nan"),
            f"{num_or_dash(moved_btc)} of {num_or_dash(mined_btc)} BTC",
            "first hop to addresses outside the pool",
        ),
    ]
    fig = go.Figure()
    x = [f"{d:%Y-%m-%d}" for d in pd.to_datetime(moved["date"])]
    fig.add_trace(go.Bar(x=x, y=moved["mined_btc"], name="mined (coinbase outputs)", marker_color=COST_COLOR))
    fig.add_trace(
        go.Bar(x=x, y=moved["moved_out_btc"], name="moved out (first hop)", marker_color=PRICE_COLOR)
    )
    fig.update_layout(
        **LAYOUT,
        title="Coinbase BTC moved out per day against BTC mined",
        yaxis_title="BTC/day",
        barmode="group",
        legend={"orientation": "h", "y": -0.2},
    )
    dist_rows = tuple(
        (
            str(r.pool),
            f"{r.blocks:,}",
            pct_or_dash(r.share),
            f"{pct_or_dash(r.share_low)} – {pct_or_dash(r.share_high)}",
            num_or_dash(r.btc_mined),
        )
        for r in dist.assign(btc_mined=dist["subsidy_btc"] + dist["fees_btc"]).itertuples()
    )
    side_rows = tuple(
        (
            str(r.quarter),
            f"{r.days_scanned:,}",
            num_or_dash(r.mined_btc),
            num_or_dash(r.moved_out_btc),
            num_or_dash(r.disclosed_sold_btc),
            num_or_dash(r.disclosed_produced_btc),
        )
        for r in view.beside_sales.itertuples()
    )
    stale = f" (the newest scanned block is {age_days:.0f} days old)" if age_days > 2 else ""
    blocks: list[Any] = [
        Paragraph(
            f"From your own node, {view.blocks:,} blocks between {start:%Y-%m-%d} and {last:%Y-%m-%d %H:%M} "
            f"UTC{stale}: {top['pool']} mined the most ({pct_or_dash(top['share'])} of blocks), and of "
            f"{num_or_dash(mined_btc)} BTC paid out in coinbases, {num_or_dash(moved_btc)} BTC moved on to "
            f"addresses outside the paying pool and {num_or_dash(consolidated_btc)} BTC to the pool's own "
            "addresses at the first hop."
        ),
        Figures(tuple(items)),
        Chart("onchain_moved", "Coinbase BTC moved vs mined", fig),
        Table(
            ("pool", "blocks", "share", "95% interval", "BTC mined"),
            dist_rows,
            caption="Pool distribution over the window (share of blocks estimates share of hashrate)",
        ),
    ]
    if side_rows:
        blocks.append(
            Table(
                (
                    "quarter",
                    "days scanned",
                    "mined BTC",
                    "moved out BTC",
                    "disclosed sold BTC",
                    "disclosed produced BTC",
                ),
                side_rows,
                caption="Beside the listed miners' disclosed sales (hashrisk.flows.listed; packaged disclosures)",
            )
        )
    blocks.append(
        Paragraph(
            "Method: blocks are attributed by coinbase tag and payout address to the pool definitions of "
            'mempool/mining-pools (unmatched blocks stay "unknown"); a pool\'s share of blocks estimates its '
            'share of hashrate, with a Wilson score interval. "Moved out" is the first hop of a coinbase '
            "output to an address that is neither listed for nor paid by the same pool; it is not a sale. "
            "Listed miners are a subset of all miners and not every sale is an on-chain move of coinbase coins: "
            "the two are set side by side, not equated.",
            kind="note",
        )
    )
    return Section(
        KEY, TITLE, tuple(blocks), data={"onchain": view.to_dict(), "window_start": str(start.date())}
    )
