"""Pools and coinbase flows measured on the user's node: pure aggregations over the stored frames.

Inputs are the frames of `hashrisk.data.coinbase.read_onchain` (``block_pools``, ``outputs``, ``spends``);
days are UTC calendar days of the block times.

* `pool_daily` — blocks, subsidy and fees per pool per day.
* `pool_distribution` — each pool's share of the window's blocks, which estimates its share of the hashrate
  (blocks are Bernoulli trials won with probability equal to the hashrate share), with a **Wilson score
  interval** (`scipy.stats.binomtest(...).proportion_ci(method="wilson")`).
* `spent_within` — for each day's mined coinbase BTC, the share spent within 1, 7 and 30 days, per pool and
  in total (``pool == "all"``). A coinbase output can move only after 100 confirmations (coinbase maturity,
  about 16.7 hours), so the 1-day share counts spends in the first ~7 hours after maturity. A share is NaN
  while it cannot be known yet: when the newest scanned block is earlier than the day's end plus the window.
* `first_hop` — the spending transactions of coinbase outputs per day and pool: how many outputs and how much
  BTC, split into consolidation (to addresses of the same pool) and movement out.
* `moved_vs_mined` — coinbase BTC moved out per day against BTC mined, and `beside_disclosed_sales` sets it
  next to the listed miners' disclosed quarterly sales (`hashrisk.flows.listed.quarterly_sales` totals).
* `onchain_view` — the tables the CLI (``hashrisk miners onchain``), the report and ``/api/onchain`` show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from hashrisk.constants import SATS_PER_BTC
from hashrisk.errors import InputError

__all__ = [
    "ALL",
    "OnchainView",
    "beside_disclosed_sales",
    "first_hop",
    "moved_vs_mined",
    "onchain_view",
    "pool_daily",
    "pool_distribution",
    "spent_within",
]

ALL = "all"
"""Pool label of the totals over every pool."""
WINDOWS_DAYS: tuple[int, ...] = (1, 7, 30)


def _day(times: pd.Series) -> pd.Series:
    return pd.to_datetime(times, utc=True).dt.floor("D")


def pool_daily(block_pools: pd.DataFrame) -> pd.DataFrame:
    """Blocks, subsidy [BTC] and fees [BTC] per pool and UTC day.

    Parameters
    ----------
    block_pools : pandas.DataFrame
        Columns ``time``, ``pool``, ``subsidy_sats``, ``fees_sats``.

    Returns
    -------
    pandas.DataFrame
        Columns date, pool, blocks, subsidy_btc, fees_btc (sorted by date, then blocks descending).
    """
    frame = block_pools.assign(date=_day(block_pools["time"]))
    out = (
        frame.groupby(["date", "pool"], sort=True)
        .agg(blocks=("pool", "size"), subsidy_sats=("subsidy_sats", "sum"), fees_sats=("fees_sats", "sum"))
        .reset_index()
    )
    out["subsidy_btc"] = out.pop("subsidy_sats") / SATS_PER_BTC
    out["fees_btc"] = out.pop("fees_sats") / SATS_PER_BTC
    return out.sort_values(["date", "blocks"], ascending=[True, False], kind="stable").reset_index(drop=True)


def pool_distribution(block_pools: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    r"""Each pool's share of the window's blocks: the implied hashrate share, with a Wilson interval.

    With :math:`k` of :math:`n` blocks, the share is :math:`\hat p = k/n` and the interval is the Wilson score
    interval at `confidence` (Wilson 1927), from `scipy.stats.binomtest`. ``unknown`` blocks are a row of
    their own (never spread over pools).

    Returns
    -------
    pandas.DataFrame
        Columns pool, blocks, share, share_low, share_high, subsidy_btc, fees_btc; by blocks, descending.
    """
    n = len(block_pools)
    cols = ["pool", "blocks", "share", "share_low", "share_high", "subsidy_btc", "fees_btc"]
    if n == 0:
        return pd.DataFrame(columns=cols)
    grouped = block_pools.groupby("pool").agg(
        blocks=("pool", "size"), subsidy_sats=("subsidy_sats", "sum"), fees_sats=("fees_sats", "sum")
    )
    rows = []
    for pool, rec in grouped.iterrows():
        k = int(rec["blocks"])
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
        rows.append(
            {
                "pool": pool,
                "blocks": k,
                "share": k / n,
                "share_low": float(ci.low),
                "share_high": float(ci.high),
                "subsidy_btc": rec["subsidy_sats"] / SATS_PER_BTC,
                "fees_btc": rec["fees_sats"] / SATS_PER_BTC,
            }
        )
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["blocks", "pool"], ascending=[False, True], kind="stable").reset_index(drop=True)


def spent_within(
    outputs: pd.DataFrame,
    spends: pd.DataFrame,
    last_time: pd.Timestamp | None,
    windows_days: Sequence[int] = WINDOWS_DAYS,
) -> pd.DataFrame:
    """Share of each day's mined coinbase BTC spent within each window, per pool and in total.

    Parameters
    ----------
    outputs : pandas.DataFrame
        Coinbase outputs: ``txid``, ``vout``, ``value_sats``, ``pool``, ``time`` (block time).
    spends : pandas.DataFrame
        Their spends: ``txid``, ``vout``, ``time`` (spending block's time).
    last_time : pandas.Timestamp or None
        Time of the newest scanned block; a window not yet over at that time gives NaN.

    Returns
    -------
    pandas.DataFrame
        Columns date, pool (``"all"`` for the totals), mined_btc, and per window N: spent_{N}d_btc,
        share_{N}d (spent / mined, NaN while the window is still open).
    """
    out = outputs[["txid", "vout", "value_sats", "pool", "time"]].copy()
    out["date"] = _day(out["time"])
    sp = spends[["txid", "vout", "time"]].rename(columns={"time": "spent_time"})
    merged = out.merge(sp, on=["txid", "vout"], how="left")
    age = (
        pd.to_datetime(merged["spent_time"], utc=True) - pd.to_datetime(merged["time"], utc=True)
    ).dt.total_seconds()
    value_cols = ["mined"]
    merged["mined"] = merged["value_sats"].astype("float64")
    for n in windows_days:
        col = f"spent_{n}d"
        merged[col] = np.where(age.notna() & (age <= n * 86_400), merged["value_sats"], 0).astype("float64")
        value_cols.append(col)
    per_pool = merged.groupby(["date", "pool"], sort=True)[value_cols].sum().reset_index()
    total = merged.groupby("date", sort=True)[value_cols].sum().reset_index().assign(pool=ALL)
    table = pd.concat([per_pool, total], ignore_index=True)
    table["mined_btc"] = table.pop("mined") / SATS_PER_BTC
    end = table["date"] + pd.Timedelta(days=1)
    for n in windows_days:
        spent = table.pop(f"spent_{n}d") / SATS_PER_BTC
        known = (
            end + pd.Timedelta(days=n) <= last_time
            if last_time is not None
            else pd.Series(False, index=table.index)  # nothing scanned: no window is over
        )
        table[f"spent_{n}d_btc"] = spent.where(known)
        table[f"share_{n}d"] = (spent / table["mined_btc"]).where(known)
    table = table.sort_values(["date", "pool"], kind="stable").reset_index(drop=True)
    return table[
        ["date", "pool", "mined_btc", *[c for n in windows_days for c in (f"spent_{n}d_btc", f"share_{n}d")]]
    ]


def _per_tx(spends: pd.DataFrame) -> pd.DataFrame:
    """One row per (spending transaction, pool): its outputs summary counted once."""
    return spends.drop_duplicates(["spend_txid", "pool"]).assign(date=lambda f: _day(f["time"]))


def first_hop(spends: pd.DataFrame) -> pd.DataFrame:
    """The first hop of coinbase spends per UTC day (of the spend) and pool, and in total (``"all"``).

    A spending transaction is counted once per pool whose coinbase outputs it spends.

    Returns
    -------
    pandas.DataFrame
        Columns date, pool, spending_txs, coinbase_spent_btc, outputs, btc_out, outputs_consolidation,
        btc_consolidation (to addresses of the same pool), outputs_out, btc_out_moved (to anyone else).
    """
    cols = [
        "date",
        "pool",
        "spending_txs",
        "coinbase_spent_btc",
        "outputs",
        "btc_out",
        "outputs_consolidation",
        "btc_consolidation",
        "outputs_out",
        "btc_out_moved",
    ]
    if spends.empty:
        return pd.DataFrame(columns=cols)
    spent = spends.assign(date=_day(spends["time"])).groupby(["date", "pool"])["value_sats"].sum()
    tx = _per_tx(spends)
    tx = tx.assign(
        outputs_out=tx["n_outputs"] - tx["n_to_pool"],
        out_moved=tx["value_out_sats"] - tx["value_to_pool_sats"],
    )
    agg = {
        "spending_txs": ("spend_txid", "size"),
        "outputs": ("n_outputs", "sum"),
        "btc_out": ("value_out_sats", "sum"),
        "outputs_consolidation": ("n_to_pool", "sum"),
        "btc_consolidation": ("value_to_pool_sats", "sum"),
        "outputs_out": ("outputs_out", "sum"),
        "btc_out_moved": ("out_moved", "sum"),
    }
    per_pool = tx.groupby(["date", "pool"]).agg(**agg)
    per_pool["coinbase_spent_btc"] = spent.reindex(per_pool.index)
    total = tx.drop_duplicates("spend_txid").groupby("date").agg(**agg)
    total["coinbase_spent_btc"] = spent.groupby(level="date").sum().reindex(total.index)
    total = total.reset_index().assign(pool=ALL)
    table = pd.concat([per_pool.reset_index(), total], ignore_index=True)
    for col in ("coinbase_spent_btc", "btc_out", "btc_consolidation", "btc_out_moved"):
        table[col] = table[col] / SATS_PER_BTC
    return table.sort_values(["date", "pool"], kind="stable").reset_index(drop=True)[cols]


def moved_vs_mined(block_pools: pd.DataFrame, spends: pd.DataFrame) -> pd.DataFrame:
    """Coinbase BTC moved out per UTC day against BTC mined that day (all pools).

    Returns
    -------
    pandas.DataFrame
        Indexed by date: mined_btc (coinbase outputs claimed: subsidy + fees), moved_out_btc (first-hop
        value sent to addresses outside the spending pool), consolidated_btc, moved_share (moved / mined).
    """
    mined = block_pools.assign(date=_day(block_pools["time"])).groupby("date")["coinbase_sats"].sum()
    if spends.empty:
        moved = pd.Series(0.0, index=mined.index)
        consolidated = moved
    else:
        tx = _per_tx(spends)
        moved = (tx["value_out_sats"] - tx["value_to_pool_sats"]).groupby(tx["date"]).sum()
        consolidated = tx["value_to_pool_sats"].groupby(tx["date"]).sum()
    index = mined.index.union(moved.index)
    out = pd.DataFrame(
        {
            "mined_btc": mined.reindex(index, fill_value=0) / SATS_PER_BTC,
            "moved_out_btc": moved.reindex(index, fill_value=0) / SATS_PER_BTC,
            "consolidated_btc": consolidated.reindex(index, fill_value=0) / SATS_PER_BTC,
        }
    )
    out.index.name = "date"
    out["moved_share"] = out["moved_out_btc"] / out["mined_btc"].where(out["mined_btc"] > 0)
    return out


def beside_disclosed_sales(moved: pd.DataFrame, sales_totals: pd.DataFrame) -> pd.DataFrame:
    """Per calendar quarter: on-chain coinbase BTC moved out vs listed miners' disclosed sales.

    Parameters
    ----------
    moved : pandas.DataFrame
        `moved_vs_mined` output.
    sales_totals : pandas.DataFrame
        Totals of `hashrisk.flows.listed.quarterly_sales` (columns quarter like ``"2026Q1"``, btc_sold,
        btc_produced).

    Returns
    -------
    pandas.DataFrame
        Columns quarter, days_scanned, mined_btc, moved_out_btc, disclosed_sold_btc, disclosed_produced_btc;
        only quarters with scanned days. Listed miners are a subset of all miners, and their sales are not
        all on-chain moves of coinbase coins: the two are set side by side, not equated.
    """
    if moved.empty:
        return pd.DataFrame(
            columns=[
                "quarter",
                "days_scanned",
                "mined_btc",
                "moved_out_btc",
                "disclosed_sold_btc",
                "disclosed_produced_btc",
            ]
        )
    idx = pd.DatetimeIndex(moved.index)
    quarter = [f"{d.year}Q{(d.month - 1) // 3 + 1}" for d in idx]
    q = (
        moved.assign(quarter=quarter)
        .groupby("quarter")
        .agg(
            days_scanned=("mined_btc", "size"),
            mined_btc=("mined_btc", "sum"),
            moved_out_btc=("moved_out_btc", "sum"),
        )
    )
    sales = sales_totals.set_index(sales_totals["quarter"].astype(str))
    q["disclosed_sold_btc"] = sales["btc_sold"].reindex(q.index) if "btc_sold" in sales else np.nan
    q["disclosed_produced_btc"] = (
        sales["btc_produced"].reindex(q.index) if "btc_produced" in sales else np.nan
    )
    return q.reset_index()


@dataclass
class OnchainView:
    """What the CLI, the report and the web API show of the coinbase flows (`onchain_view`).

    Attributes
    ----------
    distribution : pandas.DataFrame
        `pool_distribution` over the window (all pools; with a pool filter, that pool's row, its share still
        of every block of the window).
    moved : pandas.DataFrame
        `moved_vs_mined` per UTC day (of the pool, when filtered), ``date`` as a column.
    first_hop : pandas.DataFrame
        `first_hop` rows (of the pool, when filtered; else every pool and ``"all"``).
    spent : pandas.DataFrame
        `spent_within` rows (of the pool, when filtered; else ``"all"``).
    beside_sales : pandas.DataFrame
        `beside_disclosed_sales` per quarter (empty without sales totals).
    blocks : int
        Blocks in the window (all pools) [blocks].
    first_time, last_time : pandas.Timestamp or None
        Oldest and newest block of the window (UTC).
    pool : str or None
        The pool filter.
    """

    distribution: pd.DataFrame
    moved: pd.DataFrame
    first_hop: pd.DataFrame
    spent: pd.DataFrame
    beside_sales: pd.DataFrame
    blocks: int
    first_time: pd.Timestamp | None
    last_time: pd.Timestamp | None
    pool: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings, NaN as None)."""

        def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
            out = []
            for rec in frame.to_dict(orient="records"):
                clean: dict[str, Any] = {}
                for k, v in rec.items():
                    if isinstance(v, pd.Timestamp):
                        clean[str(k)] = v.date().isoformat()
                    elif isinstance(v, float | np.floating) and not np.isfinite(v):
                        clean[str(k)] = None
                    elif isinstance(v, np.integer):
                        clean[str(k)] = int(v)
                    elif isinstance(v, np.floating):
                        clean[str(k)] = float(v)
                    else:
                        clean[str(k)] = v
                out.append(clean)
            return out

        return {
            "pool": self.pool,
            "blocks": self.blocks,
            "first_time": None if self.first_time is None else self.first_time.isoformat(),
            "last_time": None if self.last_time is None else self.last_time.isoformat(),
            "distribution": rows(self.distribution),
            "moved_vs_mined": rows(self.moved),
            "first_hop": rows(self.first_hop),
            "spent_within": rows(self.spent),
            "beside_disclosed_sales": rows(self.beside_sales),
        }


def onchain_view(
    data: Mapping[str, Any],
    pool: str | None = None,
    sales_totals: pd.DataFrame | None = None,
    confidence: float = 0.95,
) -> OnchainView:
    """The tables shown of the coinbase flows, from the frames of `hashrisk.data.coinbase.read_onchain`.

    Parameters
    ----------
    data : mapping
        ``block_pools``, ``outputs``, ``spends`` and ``last_time`` (as `read_onchain` returns them).
    pool : str, optional
        Only this pool (matched case-insensitively; the distribution keeps every block as denominator).
    sales_totals : pandas.DataFrame, optional
        Totals of `hashrisk.flows.listed.quarterly_sales`, for `beside_disclosed_sales` (all pools only).
    """
    bp: pd.DataFrame = data["block_pools"]
    outputs: pd.DataFrame = data["outputs"]
    spends: pd.DataFrame = data["spends"]
    last_time = data.get("last_time")
    dist = pool_distribution(bp, confidence)
    name = None
    if pool is not None:
        names = {str(p).casefold(): str(p) for p in bp["pool"].unique()}
        name = names.get(pool.casefold(), pool)
        dist = dist[dist["pool"] == name].reset_index(drop=True)
        bp_sel = bp[bp["pool"] == name]
        outputs = outputs[outputs["pool"] == name]
        spends = spends[spends["pool"] == name]
    else:
        bp_sel = bp
    moved = (
        moved_vs_mined(bp_sel, spends) if len(bp_sel) else moved_vs_mined(bp_sel.iloc[:0], spends.iloc[:0])
    )
    hop = first_hop(spends)
    spent = spent_within(outputs, spends, last_time)
    keep = name if name is not None else ALL
    hop = hop[hop["pool"] == keep].reset_index(drop=True) if len(hop) else hop
    spent = spent[spent["pool"] == keep].reset_index(drop=True)
    beside = (
        beside_disclosed_sales(moved, sales_totals)
        if sales_totals is not None and name is None
        else beside_disclosed_sales(moved.iloc[:0], pd.DataFrame({"quarter": []}))
    )
    times = pd.to_datetime(bp["time"], utc=True) if len(bp) else None
    return OnchainView(
        distribution=dist,
        moved=moved.reset_index(),
        first_hop=hop,
        spent=spent,
        beside_sales=beside,
        blocks=len(bp),
        first_time=None if times is None else times.min(),
        last_time=None if times is None else times.max(),
        pool=name,
    )


def requested_onchain_view(
    data: Mapping[str, Any],
    *,
    since: Any,
    pool: str | None,
    sales_totals: pd.DataFrame | None,
    since_field: str = "since",
    pool_field: str = "pool",
) -> OnchainView:
    """`onchain_view` of what a user asked for (a window from `since`, maybe one `pool`), or why it is empty.

    For stored flows (``data["last_time"]`` set): the shells name their own fields (``--since``/``since``).

    Raises
    ------
    InputError
        No scanned block from `since` on (naming `since_field`), or no block of `pool` in the window (naming
        `pool_field`, with the pools that have blocks).
    """
    bp: pd.DataFrame = data["block_pools"]
    if bp.empty:
        raise InputError(
            since_field, str(since), f"a day on or before the newest scanned block ({data['last_time']})"
        )
    view = onchain_view(data, pool=pool, sales_totals=sales_totals)
    if pool is not None and view.distribution.empty:
        known = sorted(str(p) for p in bp["pool"].unique())
        raise InputError(pool_field, pool, "a pool with blocks in the window: " + ", ".join(known[:20]))
    return view
