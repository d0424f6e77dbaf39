"""Bitcoin Core over JSON-RPC: a small batched client and a resumable, reorg-safe block sync into the store.

`BitcoinRPC` talks to a node (``bitcoind``) with HTTP basic auth, either from the node's cookie file
(``<datadir>/.cookie``, one line ``__cookie__:<password>``) or from ``rpcuser``/``rpcpassword``. Every call is
sent as a JSON-RPC batch (a JSON array), which Bitcoin Core has always accepted: a batch is answered with
HTTP 200 and one result or error per call, so errors are read from the body and never confused with a failing
server (5xx, which the shared HTTP layer retries).

`sync_blocks` copies one row per block into the store's ``blocks`` table:

====================  ==========================================================  =====================
column                from                                                        unit
====================  ==========================================================  =====================
height                ``getblockheader.height``                                    blocks
hash                  ``getblockheader.hash``                                      hex
time, mediantime      ``getblockheader.time`` / ``.mediantime``                    UTC (from unix s)
bits                  ``getblockheader.bits`` (hex) as an integer                  compact nBits
difficulty            `hashrisk.chain.pow.bits_to_difficulty` of ``bits``           dimensionless
chainwork             ``getblockheader.chainwork`` (hex) as an integer              expected hashes
subsidy_sats          ``getblockstats.subsidy``                                    sats
fees_sats             ``getblockstats.totalfee``                                   sats
tx_count              ``getblockstats.txs`` (coinbase included)                   transactions
====================  ==========================================================  =====================

It resumes after ``store.last_block_height()``, checks that the node is on the expected chain, and handles
reorganisations: when the stored hash at a height differs from the node's, it walks back to the fork point,
rolls the store back with ``rollback_blocks(fork + 1)`` and continues from there.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from hashrisk.chain.pow import bits_to_difficulty
from hashrisk.data.http import HttpClient, HttpOptions, PayloadError, require_list, require_mapping
from hashrisk.errors import DataError, InputError

__all__ = [
    "BLOCKSTATS_FIELDS",
    "DEFAULT_RPC_URL",
    "BitcoinRPC",
    "BlockStore",
    "SyncReport",
    "default_cookie_path",
    "fetch_blocks",
    "read_cookie",
    "sync_blocks",
]

SOURCE = "bitcoind"
DEFAULT_RPC_URL = "http://127.0.0.1:8332"
"""Mainnet RPC endpoint of a local node (``rpcport`` 8332)."""
BLOCKSTATS_FIELDS = ("height", "blockhash", "time", "mediantime", "subsidy", "totalfee", "txs")
"""The ``getblockstats`` fields the sync asks for (only these are computed by the node)."""
BLOCK_COLUMNS = (
    "height",
    "hash",
    "time",
    "mediantime",
    "bits",
    "difficulty",
    "chainwork",
    "subsidy_sats",
    "fees_sats",
    "tx_count",
)


class BlockStore(Protocol):
    """What `sync_blocks` needs from the store (`hashrisk.data.store.Store` provides it)."""

    def last_block_height(self) -> int | None: ...

    def block_hash(self, height: int) -> str | None: ...

    def rollback_blocks(self, from_height: int) -> int: ...

    def upsert_blocks(self, frame: pd.DataFrame, source: str) -> int: ...


def default_cookie_path() -> Path:
    """Where a mainnet node writes its cookie by default (``$BITCOIN_DATADIR`` overrides the datadir).

    Linux: ``~/.bitcoin/.cookie``; macOS: ``~/Library/Application Support/Bitcoin/.cookie``; Windows:
    ``%LOCALAPPDATA%\\Bitcoin\\.cookie``.
    """
    env = os.environ.get("BITCOIN_DATADIR")
    if env:
        return Path(env) / ".cookie"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Bitcoin" / ".cookie"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "Bitcoin" / ".cookie"
    return Path.home() / ".bitcoin" / ".cookie"


def read_cookie(path: str | os.PathLike[str]) -> tuple[str, str]:
    """Credentials from a Bitcoin Core cookie file: one line ``__cookie__:<password>``.

    Raises
    ------
    DataError
        The file cannot be read or is not of that form.
    """
    cookie = Path(path)
    try:
        text = cookie.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(
            f"{SOURCE}: cannot read the RPC cookie file {cookie} ({exc.__class__.__name__}: {exc}); is the "
            "node running, and is this its data directory (or pass --rpc-user/--rpc-password)?"
        ) from None
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise DataError(f"{SOURCE}: cookie file {cookie} is not of the form '__cookie__:<password>'")
    return user, password


class BitcoinRPC:
    """A batched JSON-RPC client for Bitcoin Core.

    Parameters
    ----------
    url : str, optional
        RPC endpoint (``http://127.0.0.1:8332`` for mainnet).
    cookie_file : path, optional
        Cookie file to authenticate with (``<datadir>/.cookie``).
    user, password : str, optional
        ``rpcuser``/``rpcpassword`` credentials (instead of the cookie).
    jsonrpc : {"1.0", "2.0"}, optional
        Request version. Bitcoin Core >= 28 answers "2.0" requests in strict JSON-RPC 2.0 form (no ``error``
        member on success); older nodes treat both alike. Both answer shapes are accepted.
    options : HttpOptions, optional
        Timeout, retries and sleep of the shared HTTP layer.

    Notes
    -----
    With neither a cookie file nor a user, the default cookie (`default_cookie_path`) is used when it exists.
    """

    def __init__(
        self,
        url: str = DEFAULT_RPC_URL,
        *,
        cookie_file: str | os.PathLike[str] | None = None,
        user: str | None = None,
        password: str | None = None,
        jsonrpc: str = "1.0",
        options: HttpOptions | None = None,
    ) -> None:
        if jsonrpc not in ("1.0", "2.0"):
            raise InputError("jsonrpc", jsonrpc, '"1.0" or "2.0"')
        if cookie_file is not None and user is not None:
            raise InputError("rpc credentials", "cookie and user", "either a cookie file or a user/password")
        if (user is None) != (password is None):
            raise InputError("rpc credentials", "user without password", "both a user and a password")
        auth: tuple[str, str] | None
        if cookie_file is not None:
            auth = read_cookie(cookie_file)
        elif user is not None and password is not None:
            auth = (user, password)
        else:
            default = default_cookie_path()
            auth = read_cookie(default) if default.is_file() else None
        self.url = url
        self.jsonrpc = jsonrpc
        opts = options if options is not None else HttpOptions(timeout_s=120.0)
        self._http: HttpClient = opts.make(url, SOURCE, auth=auth)
        self._next_id = 0

    def __enter__(self) -> BitcoinRPC:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    @property
    def requests_made(self) -> int:
        """HTTP requests sent so far [requests]."""
        return self._http.requests_made

    # -- core ---------------------------------------------------------------------------------------------
    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Run `calls` (``(method, params)`` pairs) in one HTTP request; return their results in order.

        Raises
        ------
        DataError
            The node returned an error for any call (naming the method, the parameters, the code and the
            message), refused the credentials, or answered in a shape that is not JSON-RPC.
        """
        if not calls:
            return []
        first = self._next_id
        self._next_id += len(calls)
        body = [
            {"jsonrpc": self.jsonrpc, "id": first + i, "method": method, "params": list(params)}
            for i, (method, params) in enumerate(calls)
        ]
        answer = self._http.post_json("", body)
        url = self.url
        if isinstance(answer, Mapping):  # a whole-request error object (e.g. parse error)
            raise DataError(f"{SOURCE}: {url} rejected the batch: {answer.get('error')!r}")
        items = require_list(answer, SOURCE, url, "<batch>")
        by_id: dict[Any, Mapping[str, Any]] = {}
        for pos, item in enumerate(items):
            obj = require_mapping(item, SOURCE, url, f"[{pos}]")
            by_id[obj.get("id")] = obj
        results: list[Any] = []
        for i, (method, params) in enumerate(calls):
            found = by_id.get(first + i)
            if found is None:
                raise PayloadError(SOURCE, url, f"id {first + i}", f"no answer for {method}{tuple(params)!r}")
            obj = found
            error = obj.get("error")
            if error is not None:
                code = error.get("code") if isinstance(error, Mapping) else None
                message = error.get("message") if isinstance(error, Mapping) else error
                raise DataError(f"{SOURCE}: {method}{tuple(params)!r} failed: code {code}: {message}")
            if "result" not in obj:
                raise PayloadError(SOURCE, url, f"id {first + i}", "neither 'result' nor 'error'")
            results.append(obj["result"])
        return results

    def call(self, method: str, *params: Any) -> Any:
        """Run one RPC call (as a batch of one) and return its result."""
        return self.batch([(method, params)])[0]

    # -- typed helpers ------------------------------------------------------------------------------------
    def getblockchaininfo(self) -> Mapping[str, Any]:
        """``getblockchaininfo``: chain name, ``blocks`` (tip height), best block hash, difficulty..."""
        return require_mapping(self.call("getblockchaininfo"), SOURCE, self.url, "getblockchaininfo")

    def getblockhash(self, height: int) -> str:
        """Hash of the active-chain block at `height`."""
        return self.block_hashes([height])[0]

    def block_hashes(self, heights: Sequence[int]) -> list[str]:
        """Hashes of the active-chain blocks at `heights` (one batch)."""
        out = self.batch([("getblockhash", (h,)) for h in heights])
        for h, value in zip(heights, out, strict=True):
            if not isinstance(value, str):
                raise PayloadError(
                    SOURCE, self.url, f"getblockhash({h})", f"expected a hex string, got {value!r}"
                )
        return out

    def getblockheader(self, block_hash: str) -> Mapping[str, Any]:
        """``getblockheader <hash>`` (verbose): height, time, mediantime, bits, difficulty, chainwork..."""
        return self.block_headers([block_hash])[0]

    def block_headers(self, hashes: Sequence[str]) -> list[Mapping[str, Any]]:
        """Verbose headers of `hashes` (one batch)."""
        out = self.batch([("getblockheader", (h, True)) for h in hashes])
        return [
            require_mapping(v, SOURCE, self.url, f"getblockheader({h})")
            for h, v in zip(hashes, out, strict=True)
        ]

    def getblockstats(self, height: int, stats: Sequence[str] = BLOCKSTATS_FIELDS) -> Mapping[str, Any]:
        """``getblockstats <height> [stats]``: only the `stats` fields (sats for amounts)."""
        return self.block_stats([height], stats)[0]

    def block_stats(
        self, heights: Sequence[int], stats: Sequence[str] = BLOCKSTATS_FIELDS
    ) -> list[Mapping[str, Any]]:
        """``getblockstats`` for `heights` (one batch)."""
        out = self.batch([("getblockstats", (h, list(stats))) for h in heights])
        return [
            require_mapping(v, SOURCE, self.url, f"getblockstats({h})")
            for h, v in zip(heights, out, strict=True)
        ]


# -- sync ----------------------------------------------------------------------------------------------------
@dataclass
class SyncReport:
    """What one `sync_blocks` run did.

    Attributes
    ----------
    chain : str
        The node's chain (``"main"``).
    tip_height : int
        Node tip when the sync started [blocks].
    first_height, last_height : int or None
        Heights written, inclusive (None when nothing was written).
    blocks_written : int
        Rows upserted [blocks].
    rolled_back : int
        Stored rows removed by reorg handling [blocks].
    fork_heights : list of int
        Fork points found (last common height) for each reorg handled.
    seconds : float
        Wall time [s].
    requests : int
        HTTP requests sent [requests].
    """

    chain: str
    tip_height: int
    first_height: int | None = None
    last_height: int | None = None
    blocks_written: int = 0
    rolled_back: int = 0
    fork_heights: list[int] | None = None
    seconds: float = 0.0
    requests: int = 0

    @property
    def blocks_per_s(self) -> float:
        """Sync speed [blocks/s]."""
        return self.blocks_written / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for ``--json`` output)."""
        return {
            "source": SOURCE,
            "chain": self.chain,
            "tip_height": self.tip_height,
            "first_height": self.first_height,
            "last_height": self.last_height,
            "blocks_written": self.blocks_written,
            "rolled_back": self.rolled_back,
            "fork_heights": list(self.fork_heights or []),
            "seconds": round(self.seconds, 3),
            "blocks_per_s": round(self.blocks_per_s, 1),
            "requests": self.requests,
        }


@functools.lru_cache(maxsize=4096)
def _difficulty(bits: int) -> float:
    return bits_to_difficulty(bits)


def _as_int(obj: Mapping[str, Any], key: str, record: str, url: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise PayloadError(SOURCE, url, f"{record}.{key}", f"expected an integer, got {value!r}")
    return value


def _as_str(obj: Mapping[str, Any], key: str, record: str, url: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise PayloadError(SOURCE, url, f"{record}.{key}", f"expected a string, got {value!r}")
    return value


def fetch_blocks(rpc: BitcoinRPC, heights: Sequence[int]) -> tuple[pd.DataFrame, list[str | None]]:
    """Blocks at consecutive `heights` as a frame of the store's block columns, plus their parents' hashes.

    Two batched round trips: ``getblockstats`` by height (which also gives each hash), then
    ``getblockheader`` by hash, so header and stats always describe the same block.

    Returns
    -------
    frame : pandas.DataFrame
        Columns `BLOCK_COLUMNS`; ``time`` and ``mediantime`` as UTC timestamps.
    parents : list of str or None
        ``previousblockhash`` of each block (None for the genesis block).

    Raises
    ------
    DataError
        A call failed or a field has the wrong type (the record names the call and the field).
    """
    url = rpc.url
    stats = rpc.block_stats(heights)
    hashes = [
        _as_str(s, "blockhash", f"getblockstats({h})", url) for h, s in zip(heights, stats, strict=True)
    ]
    headers = rpc.block_headers(hashes)
    cols: dict[str, list[Any]] = {c: [] for c in BLOCK_COLUMNS}
    parents: list[str | None] = []
    for h, st, hd in zip(heights, stats, headers, strict=True):
        rec = f"getblockheader({h})"
        if _as_int(hd, "height", rec, url) != h:
            raise PayloadError(SOURCE, url, f"{rec}.height", f"expected {h}, got {hd.get('height')!r}")
        bits_hex = _as_str(hd, "bits", rec, url)
        try:
            bits = int(bits_hex, 16)
        except ValueError:
            raise PayloadError(SOURCE, url, f"{rec}.bits", f"expected hex nBits, got {bits_hex!r}") from None
        srec = f"getblockstats({h})"
        cols["height"].append(h)
        cols["hash"].append(_as_str(hd, "hash", rec, url))
        cols["time"].append(_as_int(hd, "time", rec, url))
        cols["mediantime"].append(_as_int(hd, "mediantime", rec, url))
        cols["bits"].append(bits)
        cols["difficulty"].append(_difficulty(bits))
        work_hex = _as_str(hd, "chainwork", rec, url)
        try:
            cols["chainwork"].append(int(work_hex, 16))
        except ValueError:
            raise PayloadError(SOURCE, url, f"{rec}.chainwork", f"expected hex, got {work_hex!r}") from None
        cols["subsidy_sats"].append(_as_int(st, "subsidy", srec, url))
        cols["fees_sats"].append(_as_int(st, "totalfee", srec, url))
        cols["tx_count"].append(_as_int(st, "txs", srec, url))
        prev = hd.get("previousblockhash")
        if prev is not None and not isinstance(prev, str):
            raise PayloadError(SOURCE, url, f"{rec}.previousblockhash", f"expected a string, got {prev!r}")
        parents.append(prev)
    frame = pd.DataFrame(
        {
            "height": pd.array(cols["height"], dtype="int64"),
            "hash": cols["hash"],
            "time": pd.to_datetime(cols["time"], unit="s", utc=True),
            "mediantime": pd.to_datetime(cols["mediantime"], unit="s", utc=True),
            "bits": pd.array(cols["bits"], dtype="int64"),
            "difficulty": pd.array(cols["difficulty"], dtype="float64"),
            "chainwork": cols["chainwork"],
            "subsidy_sats": pd.array(cols["subsidy_sats"], dtype="int64"),
            "fees_sats": pd.array(cols["fees_sats"], dtype="int64"),
            "tx_count": pd.array(cols["tx_count"], dtype="int64"),
        }
    )
    return frame, parents


def _find_fork(store: BlockStore, rpc: BitcoinRPC, height: int, tip: int) -> int:
    """Highest height <= `height` whose stored hash equals the node's (-1 when none).

    Walks back in windows that double in size (16, 32, ...), one ``getblockhash`` batch per window. A height
    with nothing stored counts as common ground (there is nothing to roll back there).
    """
    top = min(height, tip)
    window = 16
    while top >= 0:
        low = max(0, top - window + 1)
        heights = list(range(top, low - 1, -1))
        for h, node_hash in zip(heights, rpc.block_hashes(heights), strict=True):
            stored = store.block_hash(h)
            if stored is None or stored == node_hash:
                return h
        top = low - 1
        window *= 2
    return -1


def _progress_wanted(progress: bool | None, total: int) -> bool:
    if progress is not None:
        return progress
    return total >= 20_000 and sys.stderr.isatty()


def sync_blocks(
    store: BlockStore,
    rpc: BitcoinRPC,
    start: int | None = None,
    stop: int | None = None,
    batch: int = 2000,
    *,
    chain: str = "main",
    progress: bool | None = None,
    max_reorgs: int = 10,
) -> SyncReport:
    """Copy blocks from a Bitcoin Core node into the store, resumably and reorg-safely.

    Parameters
    ----------
    store : BlockStore
        An open, writable store (`hashrisk.data.store.Store`).
    rpc : BitcoinRPC
        Client of the node.
    start : int, optional
        First height to fetch [blocks]; default: ``store.last_block_height() + 1`` (0 for an empty store).
    stop : int, optional
        Last height to fetch, inclusive [blocks]; default and upper bound: the node's tip at the start.
    batch : int, optional
        Blocks per round trip and per store transaction [blocks], 1..50,000.
    chain : str, optional
        Chain the node must be on (``getblockchaininfo.chain``: ``"main"``, ``"test"``, ``"testnet4"``,
        ``"signet"``, ``"regtest"``).
    progress : bool, optional
        Show a rich progress bar on stderr; default: for syncs of 20,000 blocks or more on a terminal.
    max_reorgs : int, optional
        Give up (DataError) after handling this many reorganisations in one run.

    Returns
    -------
    SyncReport

    Raises
    ------
    DataError
        Wrong chain, refused credentials, unreachable node, malformed answers, or a chain that keeps
        reorganising.

    Notes
    -----
    Before fetching, the stored tip is compared with the node's block at that height; each batch's first
    parent hash is compared with the stored block below it. On a mismatch the fork point is searched
    (`_find_fork`), ``store.rollback_blocks(fork + 1)`` removes the stale branch and the sync continues from
    ``fork + 1``, so the store ends equal to the node's active chain.
    """
    if not 1 <= batch <= 50_000:
        raise InputError("batch", batch, "an integer number of blocks in [1, 50000]")
    if start is not None and start < 0:
        raise InputError("start", start, "a block height >= 0")
    t0 = time.perf_counter()
    requests0 = rpc.requests_made
    info = rpc.getblockchaininfo()
    node_chain = info.get("chain")
    if node_chain != chain:
        raise DataError(
            f"{SOURCE}: the node at {rpc.url} is on chain {node_chain!r}, expected {chain!r} "
            "(point --base-url at a node of that chain, or ask for its chain explicitly)"
        )
    tip = info.get("blocks")
    if not isinstance(tip, int) or isinstance(tip, bool):
        raise PayloadError(SOURCE, rpc.url, "getblockchaininfo.blocks", f"expected an integer, got {tip!r}")
    report = SyncReport(chain=chain, tip_height=tip, fork_heights=[])
    last_height = min(tip, stop) if stop is not None else tip

    def handle_reorg(from_height: int) -> int:
        fork = _find_fork(store, rpc, from_height, tip)
        removed = store.rollback_blocks(fork + 1)
        report.rolled_back += removed
        assert report.fork_heights is not None
        report.fork_heights.append(fork)
        if len(report.fork_heights) > max_reorgs:
            raise DataError(f"{SOURCE}: the chain reorganised more than {max_reorgs} times during one sync")
        return fork

    stored_tip = store.last_block_height()
    if stored_tip is not None:
        probe = min(stored_tip, tip)
        if store.block_hash(probe) != rpc.getblockhash(probe) or stored_tip > tip:
            fork = handle_reorg(stored_tip)
            stored_tip = fork if fork >= 0 else None
    height = start if start is not None else (stored_tip + 1 if stored_tip is not None else 0)

    total = max(0, last_height - height + 1)
    bar: Any = None
    task: Any = None
    if _progress_wanted(progress, total):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(
            TextColumn("bitcoind sync"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        bar.start()
        task = bar.add_task("blocks", total=total)
    try:
        prev_hash: str | None = store.block_hash(height - 1) if height > 0 else None
        refetches = 0
        while height <= last_height:
            heights = list(range(height, min(height + batch, last_height + 1)))
            frame, parents = fetch_blocks(rpc, heights)
            hashes = frame["hash"].tolist()
            # the node may reorganise between our two round trips: the batch must chain up by itself
            if any(parents[i] != hashes[i - 1] for i in range(1, len(heights))):
                refetches += 1  # the node's chain moved under us: fetch the batch again
                if refetches > 3:
                    raise DataError(
                        f"{SOURCE}: blocks {heights[0]}..{heights[-1]} from {rpc.url} do not link up "
                        "(each block's previousblockhash must be the hash of the block before it)"
                    )
                continue
            refetches = 0
            if height > 0 and prev_hash is not None and parents[0] != prev_hash:
                fork = handle_reorg(height - 1)
                height = fork + 1
                prev_hash = store.block_hash(fork) if fork >= 0 else None
                continue
            written = store.upsert_blocks(frame, SOURCE)
            report.blocks_written += written
            if report.first_height is None:
                report.first_height = heights[0]
            report.last_height = heights[-1]
            prev_hash = hashes[-1]
            height = heights[-1] + 1
            if bar is not None:
                bar.update(task, completed=min(total, height - (last_height - total + 1)))
    finally:
        if bar is not None:
            bar.stop()
    report.seconds = time.perf_counter() - t0
    report.requests = rpc.requests_made - requests0
    return report
