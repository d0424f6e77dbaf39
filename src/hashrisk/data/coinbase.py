"""The coinbase ledger: pools and coinbase flows from the user's node, kept in the store (issue 15).

An orchestrator beside `hashrisk.data.sync`: it holds an open `hashrisk.data.store.Store` and implements
`hashrisk.data.bitcoind.CoinbaseSink` over the tables of migration 3 (``block_pools``, ``coinbase_outputs``,
``coinbase_spends``; see `hashrisk.data.schema.ONCHAIN_TABLES`). Each batch of blocks is written in one
transaction together with its ``blocks`` rows; a rollback removes, in one transaction, the blocks at and above
a height and every coinbase output created and every spend recorded at those heights, so that an orphaned
block leaves no trace.

Rows carry ``source`` (``bitcoind``) and ``fetched_at`` (UTC) like every stored row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

import pandas as pd

from hashrisk.data.store import Store

__all__ = ["CoinbaseLedger", "read_onchain"]


class OnchainBatch(Protocol):
    """What `CoinbaseLedger.write_batch` reads of `hashrisk.data.bitcoind.OnchainBatch` (a protocol, so that
    reading the ledger, as the report and the web app do, does not import the node connector)."""

    blocks: pd.DataFrame
    block_pools: pd.DataFrame
    outputs: pd.DataFrame
    spends: pd.DataFrame


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _naive_utc(values: pd.Series) -> pd.Series:
    out = pd.to_datetime(values, utc=True)
    return out.dt.tz_localize(None)


class CoinbaseLedger:
    """`hashrisk.data.bitcoind.CoinbaseSink` over a writable store.

    Parameters
    ----------
    store : Store
        An open, writable store (schema version >= 3).
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- BlockStore, delegated ---------------------------------------------------------------------------
    def last_block_height(self) -> int | None:
        return self.store.last_block_height()

    def block_hash(self, height: int) -> str | None:
        return self.store.block_hash(height)

    # -- CoinbaseSink ------------------------------------------------------------------------------------
    def rollback_blocks(self, from_height: int) -> int:
        """Delete blocks, pools, coinbase outputs and spends at heights >= `from_height` (one transaction)."""
        with self.store.transaction():
            for table in ("coinbase_spends", "coinbase_outputs", "block_pools"):
                self.store.con.execute(f"DELETE FROM {table} WHERE height >= ?", [int(from_height)])
            return self.store.rollback_blocks(from_height)

    def spent_outputs(self, inputs: pd.DataFrame) -> pd.DataFrame:
        """Stored coinbase outputs spent by `inputs` (columns ``txid``, ``vout``, ``i``)."""
        con = self.store.con
        con.register("_hashrisk_inputs", inputs)
        try:
            return con.execute(
                "SELECT i.i, o.txid, o.vout, o.pool FROM _hashrisk_inputs i "
                "JOIN coinbase_outputs o ON o.txid = i.txid AND o.vout = i.vout ORDER BY i.i"
            ).df()
        finally:
            con.unregister("_hashrisk_inputs")

    def address_pools(self, addresses: Sequence[str]) -> pd.DataFrame:
        """Distinct (address, pool) of stored coinbase outputs paying one of `addresses`."""
        con = self.store.con
        con.register("_hashrisk_addresses", pd.DataFrame({"address": list(addresses)}))
        try:
            return con.execute(
                "SELECT DISTINCT o.address, o.pool FROM coinbase_outputs o "
                "JOIN _hashrisk_addresses a ON a.address = o.address"
            ).df()
        finally:
            con.unregister("_hashrisk_addresses")

    def write_batch(self, batch: OnchainBatch, source: str) -> int:
        """Write `batch` (blocks, pools, coinbase outputs, spends) in one transaction; blocks changed."""
        store = self.store
        now = _now()
        with store.transaction():
            changed = store.upsert_blocks(batch.blocks, source)
            for table, frame in (
                ("block_pools", batch.block_pools),
                ("coinbase_outputs", batch.outputs),
                ("coinbase_spends", batch.spends),
            ):
                if not len(frame):
                    continue
                out = frame.copy()
                if "time" in out.columns:
                    out["time"] = _naive_utc(out["time"])
                out["source"] = source
                out["fetched_at"] = now
                cols = ", ".join(out.columns)
                store.con.register("_hashrisk_rows", out)
                try:
                    store.con.execute(
                        f"INSERT OR REPLACE INTO {table} ({cols}) SELECT {cols} FROM _hashrisk_rows"
                    )
                finally:
                    store.con.unregister("_hashrisk_rows")
        return changed


def read_onchain(store: Store, since: dt.date | None = None) -> dict[str, Any]:
    """The stored coinbase-flow tables as frames (UTC times), from blocks mined on or after `since`.

    Returns
    -------
    dict
        ``block_pools`` (joined with ``blocks`` for ``subsidy_sats`` and ``fees_sats``), ``outputs``
        (coinbase outputs with their block ``time``) and ``spends`` (with the spent output's ``value_sats``,
        ``pool`` and creation ``time`` as ``mined_time``), and ``last_time`` (newest scanned block, or None).
    """
    cond, params = ("WHERE p.time >= ?", [dt.datetime.combine(since, dt.time())]) if since else ("", [])
    con = store.con
    pools = con.execute(
        "SELECT p.height, p.time, p.pool, p.coinbase_tag, p.coinbase_sats, b.subsidy_sats, b.fees_sats "
        f"FROM block_pools p LEFT JOIN blocks b USING (height) {cond} ORDER BY p.height",
        params,
    ).df()
    outputs = con.execute(
        "SELECT o.txid, o.vout, o.height, o.value_sats, o.address, o.pool, p.time "
        f"FROM coinbase_outputs o JOIN block_pools p USING (height) {cond} ORDER BY o.height, o.vout",
        params,
    ).df()
    spends = con.execute(
        "SELECT s.txid, s.vout, s.spend_txid, s.height, s.time, s.n_outputs, s.value_out_sats, s.n_to_pool, "
        "s.value_to_pool_sats, o.value_sats, o.pool, p.time AS mined_time "
        "FROM coinbase_spends s JOIN coinbase_outputs o USING (txid, vout) "
        f"JOIN block_pools p ON p.height = o.height {cond} ORDER BY s.height",
        params,
    ).df()
    for frame, col in ((pools, "time"), (outputs, "time"), (spends, "time"), (spends, "mined_time")):
        frame[col] = pd.to_datetime(frame[col]).dt.tz_localize("UTC")
    last = con.execute("SELECT max(time) FROM block_pools").fetchone()
    last_time = None if last is None or last[0] is None else pd.Timestamp(last[0]).tz_localize("UTC")
    return {"block_pools": pools, "outputs": outputs, "spends": spends, "last_time": last_time}
