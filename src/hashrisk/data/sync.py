"""`fetch`: pull one network source into the local store, incrementally.

One entry point for ``hashrisk data fetch``:

==============  ===================================================================  ====================
source          what is fetched                                                      store tables
==============  ===================================================================  ====================
``coinmetrics`` daily PriceUSD, HashRate, DiffMean, BlkCnt, FeeTotNtv, IssTotNtv     ``daily``
``mempool``     daily hashrate, daily closing price, every difficulty adjustment     ``daily``, ``retargets``
``blockchain``  daily hash-rate, difficulty, market-price, transaction-fees, blocks  ``daily``
``bitcoind``    one row per block from a Bitcoin Core node (`sync_blocks`)           ``blocks``
``edgar``       listed miners' XBRL crypto assets, cash and debt (SEC EDGAR)         ``miners``
==============  ===================================================================  ====================

Incremental: without ``since``, a daily source resumes from the last day it has stored (that day is fetched
again, since its value may have been provisional; ``hashrisk update`` re-checks :data:`OVERLAP_DAYS`) and ``bitcoind``
from the last stored height (with reorg checks). Everything is fetched and parsed before the store is opened
for writing, and all the tables of one source's batch are written in one transaction, so a failed fetch
leaves the store untouched. A mempool endpoint that answers 404 (a self-hosted backend without a price feed)
is skipped: the rest is stored and ``missing`` names it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any

import pandas as pd

from hashrisk.constants import RETARGET_INTERVAL_BLOCKS
from hashrisk.data import blockchain_com, edgar, mempool
from hashrisk.data.bitcoind import DEFAULT_RPC_URL, BitcoinRPC, sync_blocks
from hashrisk.data.coinbase import CoinbaseLedger
from hashrisk.data.coinmetrics import COMMUNITY_BASE_URL, get_coinmetrics
from hashrisk.data.http import HttpOptions, HttpStatusError, open_client
from hashrisk.data.pools import DEFAULT_POOLS_URL, POOLS_FILENAME, download_pools, load_pools
from hashrisk.data.schema import BLOCKS, as_date
from hashrisk.data.store import Store, default_home
from hashrisk.errors import InputError

__all__ = ["SOURCES", "fetch", "last_stored_day"]

SOURCES = ("coinmetrics", "mempool", "blockchain", "bitcoind", "edgar", "pools")
"""Source names accepted by `fetch` (the daily ones are also the store's provenance names)."""
DEFAULT_URLS = {
    "coinmetrics": COMMUNITY_BASE_URL,
    "mempool": mempool.DEFAULT_BASE_URL,
    "blockchain": blockchain_com.DEFAULT_BASE_URL,
    "bitcoind": DEFAULT_RPC_URL,
    "pools": DEFAULT_POOLS_URL,
    "edgar": edgar.DEFAULT_BASE_URL,
}
OVERLAP_DAYS = 3
"""Days before the last stored one that an incremental fetch asks for again (revised values; labelled choice)."""
OVERLAP_BLOCKS = 6
"""Blocks below the last stored one that an incremental block fetch asks for again (short reorgs)."""
_MEMPOOL_PERIOD_DAYS = (
    ("1w", 7),
    ("1m", 30),
    ("3m", 90),
    ("6m", 180),
    ("1y", 365),
    ("2y", 730),
    ("3y", 1095),
)


def last_stored_day(store: Store, source: str) -> dt.date | None:
    """Last UTC day stored for `source` in the ``daily`` table, or None."""
    info = store.status(gaps_cap=0)["tables"]["daily"]["sources"].get(source)
    return None if info is None else dt.date.fromisoformat(str(info["max"])[:10])


def _trim(frame: pd.DataFrame, since: dt.date | None) -> pd.DataFrame:
    """Rows from `since` on, without rows that are entirely empty."""
    if since is not None and len(frame):
        frame = frame.loc[frame.index >= pd.Timestamp(since, tz="UTC")]
    return frame.dropna(how="all")


def _span(frame: pd.DataFrame) -> tuple[str | None, str | None]:
    if frame.empty:
        return None, None
    index = pd.DatetimeIndex(frame.index)
    return index.min().date().isoformat(), index.max().date().isoformat()


def _mempool_period(since: dt.date | None, today: dt.date) -> str:
    if since is None:
        return "all"
    days = (today - since).days + 2
    return next((name for name, span in _MEMPOOL_PERIOD_DAYS if days <= span), "all")


def _optional(call: Callable[[], pd.DataFrame], path: str, missing: list[str]) -> pd.DataFrame | None:
    """`call()`, or None when the endpoint answers 404 (noted in `missing`; other errors propagate)."""
    try:
        return call()
    except HttpStatusError as exc:
        if exc.status != 404:
            raise
        missing.append(f"{path} (HTTP 404)")
        return None


def mempool_recent_blocks(
    base_url: str, options: HttpOptions, after: int | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Recent blocks from mempool for the ``blocks`` table: the tip's 15 (``/v1/blocks``) and the first 15 of
    the difficulty period in progress (``/v1/blocks/:h0+14``), so that the next adjustment can use real times
    and nBits. No store access.

    Parameters
    ----------
    after : int, optional
        Only blocks above this height (the stored tip less :data:`OVERLAP_BLOCKS`).

    Returns
    -------
    frame, meta
        Columns of the ``blocks`` table (``time``, ``height``, ``hash``, ``mediantime``, ``bits``, ``difficulty``,
        ``tx_count``, ``fees_sats``, ``subsidy_sats``); ``meta["urls"]``, and ``meta["missing"]`` for 404s.
    """
    http, _ = open_client("mempool", base_url, None, options)
    missing: list[str] = []
    try:
        tip = _optional(lambda: mempool.get_blocks(client=http)[0], "/v1/blocks", missing)
        parts = [] if tip is None else [tip]
        if tip is not None and len(tip):
            top = int(tip["height"].max())
            h0 = top - top % RETARGET_INTERVAL_BLOCKS
            if h0 < int(tip["height"].min()) and (after is None or after < h0 + 14):
                path = f"/v1/blocks/{min(h0 + 14, top)}"
                first = _optional(
                    lambda: mempool.get_blocks(min(h0 + 14, top), client=http)[0], path, missing
                )
                if first is not None:
                    parts.append(first)
        urls = [http.url_for("/v1/blocks")]
    finally:
        http.close()
    frame = pd.concat(parts) if parts else mempool.parse_blocks([])  # no block: the parser's empty frame
    frame = frame.reset_index().drop_duplicates("height").sort_values("height")
    if after is not None:
        frame = frame.loc[frame["height"] > after]
    meta: dict[str, Any] = {"urls": urls}
    if missing:
        meta["missing"] = missing
    cols = [
        c.name for c in BLOCKS.columns if c.name in frame.columns
    ]  # the blocks table's, as mempool has them
    return frame.loc[:, cols].reset_index(drop=True), meta


def _fetch_daily(
    source: str,
    since: dt.date | None,
    base_url: str,
    options: HttpOptions,
    api_key: str | None,
) -> tuple[pd.DataFrame, pd.DataFrame | None, dict[str, Any]]:
    """(daily frame, retargets frame or None, meta) for a daily source; no store access."""
    today = dt.datetime.now(dt.UTC).date()
    if source == "coinmetrics":
        daily, meta = get_coinmetrics(start=since, base_url=base_url, api_key=api_key, options=options)
        return daily, None, meta
    if source == "blockchain":
        if since is None:
            daily, meta = blockchain_com.get_daily("all", base_url=base_url, options=options)
        else:  # one day earlier, so that the first day's block count (a difference) is defined
            first = since - dt.timedelta(days=1)
            span = f"{(today - first).days + 1}days"
            daily, meta = blockchain_com.get_daily(span, start=first, base_url=base_url, options=options)
        return daily, None, meta
    # mempool: three endpoints over one client
    http, _ = open_client("mempool", base_url, None, options)
    try:
        period = _mempool_period(since, today)
        rates, meta_rates = mempool.get_hashrate(period, client=http)
        missing: list[str] = []
        # a self-hosted mempool without a price feed answers 404 here: store the rest and say what is missing
        prices = _optional(
            lambda: mempool.get_historical_price(client=http)[0], "/v1/historical-price", missing
        )
        adjustments = _optional(
            lambda: mempool.get_difficulty_adjustments(client=http)[0],
            "/v1/mining/difficulty-adjustments",
            missing,
        )
        urls = [
            http.url_for(p)
            for p in (
                f"/v1/mining/hashrate/{period}",
                "/v1/historical-price",
                "/v1/mining/difficulty-adjustments",
            )
        ]
        meta = {**meta_rates, "urls": urls, "requests": http.requests_made, "retries": http.retries_made}
        if missing:
            meta["missing"] = missing
    finally:
        http.close()
    if prices is None:
        prices = pd.DataFrame({"price_usd": pd.Series(dtype="float64")}, index=pd.DatetimeIndex([], tz="UTC"))
    if adjustments is None:
        adjustments = pd.DataFrame(
            {"height": [], "difficulty": [], "adjustment": []},
            index=pd.DatetimeIndex([], tz="UTC", name="time"),
        )
    close = prices["price_usd"].groupby(pd.DatetimeIndex(prices.index).floor("D")).last()
    daily = pd.DataFrame({"hashrate_ths": rates["hashrate_ths"]}).join(close.rename("price_usd"), how="outer")
    daily.index = pd.DatetimeIndex(daily.index, name="date")
    retargets = adjustments.reset_index()
    retargets = retargets.loc[
        retargets["height"] % RETARGET_INTERVAL_BLOCKS == 0
    ]  # mainnet retarget heights only
    retargets = retargets.assign(adjustment=retargets["adjustment"].where(retargets["adjustment"] > 0))
    if since is not None:
        retargets = retargets.loc[retargets["time"] >= pd.Timestamp(since, tz="UTC")]
    meta["price_rule"] = "price_usd = last mempool price of each UTC day (close)"
    return daily, retargets.loc[:, ["height", "time", "difficulty", "adjustment"]], meta


def _fetch_edgar(
    since: dt.date | None,
    base_url: str,
    home: str | os.PathLike[str] | None,
    companies: list[str] | None,
    user_agent: str | None,
    options: HttpOptions,
    lock_timeout_s: float,
) -> dict[str, Any]:
    """SEC EDGAR: fetch every company first (no store access), then write ``miners`` in one transaction."""
    rows, meta = edgar.get_edgar(
        companies, user_agent=user_agent, since=since, base_url=base_url, options=options
    )
    out: dict[str, Any] = {"source": "edgar", "since": None if since is None else since.isoformat()}
    with Store(home, lock_timeout_s=lock_timeout_s) as store:
        origin = meta["urls"][0] if meta.get("urls") else base_url
        changed = store.upsert("miners", rows, "edgar", origin=origin) if len(rows) else 0
        ends = rows["period_end"] if len(rows) else pd.Series([], dtype=object)
        out["miners"] = {
            "rows": len(rows),
            "changed": changed,
            "first": None if ends.empty else str(ends.min()),
            "last": None if ends.empty else str(ends.max()),
        }
        out["store"] = str(store.path)
    out.update({k: meta[k] for k in ("urls", "retrieved_at", "requests", "retries", "license", "companies")})
    return out


def fetch(
    source: str,
    since: str | dt.date | int | None = None,
    base_url: str | None = None,
    home: str | os.PathLike[str] | None = None,
    *,
    api_key: str | None = None,
    rpc_cookie: str | os.PathLike[str] | None = None,
    rpc_user: str | None = None,
    rpc_password: str | None = None,
    chain: str = "main",
    batch: int = 2000,
    progress: bool | None = None,
    options: HttpOptions | None = None,
    lock_timeout_s: float = 10.0,
    companies: list[str] | None = None,
    user_agent: str | None = None,
    coinbase: bool = False,
) -> dict[str, Any]:
    """Fetch `source` into the store at `home` and report what changed.

    Parameters
    ----------
    source : {"coinmetrics", "mempool", "blockchain", "bitcoind"}
        What to fetch.
    since : date, ISO string or int, optional
        First UTC day to fetch (daily sources), or first block height (``bitcoind``). Default: resume
        from the store (the last stored day again; the height after the last stored block).
    base_url : str, optional
        API root or RPC URL (defaults: `DEFAULT_URLS`).
    home : path-like, optional
        Data folder (``$HASHRISK_HOME`` or the user data dir by default).
    api_key : str, optional
        Coin Metrics Pro key.
    rpc_cookie, rpc_user, rpc_password
        Bitcoin Core credentials (cookie file, or user and password).
    chain : str, optional
        Chain the node must be on (``bitcoind``).
    batch : int, optional
        Blocks per RPC round trip and per transaction (``bitcoind``).
    progress : bool, optional
        Progress bar for long block syncs.
    options : HttpOptions, optional
        Timeouts, retries and sleep of the HTTP layer.
    lock_timeout_s : float, optional
        How long to wait for the store's write lock [s].
    companies : list of str, optional
        ``edgar``: tickers of the packaged table or CIKs (default: every packaged listed miner).
    user_agent : str, optional
        ``edgar``: descriptive User-Agent, name and e-mail (default ``$HASHRISK_SEC_USER_AGENT``; required).

    Returns
    -------
    dict
        ``source``, ``store``, ``since``, per-table ``rows`` fetched and ``changed``, ``first``/``last``
        day or height, ``urls`` and request counts; for ``bitcoind`` the `SyncReport` fields.

    Raises
    ------
    InputError
        Unknown source or bad `since`.
    DataError
        Any fetch, payload or store failure (the store is left as it was for daily sources).
    """
    if source not in SOURCES:
        raise InputError("source", source, f"one of {', '.join(SOURCES)}")
    url = base_url or DEFAULT_URLS[source]
    opts = options or HttpOptions()
    if source == "pools":  # mining-pool definitions (pools-v2.json) into the data folder (issue 15)
        body, count = download_pools(url, opts)
        folder = default_home(home)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / (POOLS_FILENAME + ".tmp")).write_bytes(body)
        (folder / (POOLS_FILENAME + ".tmp")).replace(folder / POOLS_FILENAME)
        return {"source": source, "url": url, "pools": count, "file": str(folder / POOLS_FILENAME)}
    if source == "bitcoind":
        if isinstance(since, str) and not since.strip().isdigit():
            raise InputError("since", since, "a block height for --source bitcoind (e.g. 840000)")
        start = None if since is None else int(str(since))
        rpc = BitcoinRPC(url, cookie_file=rpc_cookie, user=rpc_user, password=rpc_password, options=opts)
        with rpc, Store(home, lock_timeout_s=lock_timeout_s) as store:
            ledger = CoinbaseLedger(store) if coinbase else None  # issue 15: pools and coinbase flows
            report = sync_blocks(
                store,
                rpc,
                start=start,
                batch=batch,
                chain=chain,
                progress=progress,
                coinbase=ledger,
                pools=load_pools(store.home) if coinbase else None,
            )
            return {**report.to_dict(), "store": str(store.path), "since": start}
    if source == "edgar":  # listed miners' XBRL facts -> miners (hashrisk.data.edgar)
        facts_since = None if since is None else as_date(str(since), "since")
        return _fetch_edgar(facts_since, url, home, companies, user_agent, opts, lock_timeout_s)
    if isinstance(since, int):
        raise InputError("since", since, "an ISO date YYYY-MM-DD for a daily source")
    day = None if since is None else as_date(since, "since")
    if day is None:
        with Store(home, read_only=True, lock_timeout_s=lock_timeout_s) as store:
            day = last_stored_day(store, source)
    daily, retargets, meta = _fetch_daily(source, day, url, opts, api_key)
    daily = _trim(daily, day)
    out: dict[str, Any] = {"source": source, "since": None if day is None else day.isoformat()}
    with Store(home, lock_timeout_s=lock_timeout_s) as store, store.transaction():
        origin = meta["urls"][0] if meta.get("urls") else url
        # derived cells (Coin Metrics identities) only fill gaps, never overwrite reported values
        mask = meta.get("derived_mask")
        derived = (
            None if mask is None else mask.reindex(index=daily.index, columns=daily.columns, fill_value=False)
        )
        changed = store.upsert_daily(daily, source, origin=origin, derived=derived) if len(daily) else 0
        first, last = _span(daily)
        out["daily"] = {"rows": len(daily), "changed": changed, "first": first, "last": last}
        if retargets is not None:
            n = store.upsert_retargets(retargets, source, origin=origin) if len(retargets) else 0
            out["retargets"] = {"rows": len(retargets), "changed": n}
        out["store"] = str(store.path)
    out.update({k: meta[k] for k in ("urls", "retrieved_at", "requests", "retries") if k in meta})
    for key in ("licence", "license", "derived", "skipped", "missing"):
        if meta.get(key):
            out[key] = meta[key]
    return out
