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

Coinbase flows (``sync_blocks(..., coinbase=ledger)``, issue 15): the blocks are then read with ``getblock
<hash> 2`` (every transaction decoded) instead of ``getblockheader``. `scan_blocks` attributes each block to a
pool (`hashrisk.data.pools`), records its coinbase outputs, and finds the inputs of the batch that spend a
tracked coinbase output (asking the ledger, which holds them, so memory is bounded by the batch and not by the
chain); each spend carries a summary of the spending transaction's outputs (count, total, and the part sent
to addresses of the same pool: its listed addresses or addresses that received its coinbase outputs). The
ledger (`hashrisk.data.coinbase.CoinbaseLedger`) writes blocks and coinbase rows of a batch in one transaction
and rolls both back together on a reorganisation.
"""

from __future__ import annotations

import dataclasses
import functools
import http.client
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import numpy as np
import orjson
import pandas as pd

from hashrisk.chain.pow import bits_to_difficulty
from hashrisk.data.http import HttpClient, HttpOptions, PayloadError, require_list, require_mapping
from hashrisk.errors import DataError, InputError

__all__ = [
    "BLOCKSTATS_FIELDS",
    "DEFAULT_RPC_URL",
    "BitcoinRPC",
    "BlockStore",
    "CoinbaseSink",
    "OnchainBatch",
    "SyncReport",
    "default_cookie_path",
    "fetch_blocks",
    "read_cookie",
    "scan_blocks",
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


class CoinbaseSink(Protocol):
    """Where `sync_blocks` keeps the coinbase flows (`hashrisk.data.coinbase.CoinbaseLedger` provides it)."""

    def rollback_blocks(self, from_height: int) -> int:
        """Remove blocks and coinbase rows at heights >= `from_height` (one transaction); blocks removed."""
        ...

    def spent_outputs(self, inputs: pd.DataFrame) -> pd.DataFrame:
        """Stored coinbase outputs among `inputs` (``txid``, ``vout``, ``i``): ``i``, ``txid``, ``vout``,
        ``pool``."""
        ...

    def address_pools(self, addresses: Sequence[str]) -> pd.DataFrame:
        """Distinct (``address``, ``pool``) pairs of stored coinbase outputs paying one of `addresses`."""
        ...

    def write_batch(self, batch: OnchainBatch, source: str) -> int:
        """Write the blocks and coinbase rows of `batch` in one transaction; return blocks changed."""
        ...


class PoolMatcher(Protocol):
    """What the scan needs from pool definitions (`hashrisk.data.pools.PoolDefinitions`)."""

    def attribute(self, scriptsig_hex: str, addresses: Iterable[str | None]) -> str: ...

    def address_pool(self, address: str | None) -> str | None: ...


@dataclass
class OnchainBatch:
    """Blocks of one batch with their pool, coinbase outputs and coinbase spends (store column names)."""

    blocks: pd.DataFrame
    block_pools: pd.DataFrame
    outputs: pd.DataFrame
    spends: pd.DataFrame


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


class _WholeBodyTransport(httpx.BaseTransport):
    """Plain-HTTP transport for the node: keep-alive `http.client` connections (a small pool: one per thread
    in use) whose answers are read whole, ``Content-Length`` bytes in one buffered read straight into one
    `bytes` (httpx reads in 64 KiB pieces and joins them: a third of the time of a 7.7 MB ``getblock <hash> 2``
    answer). Socket errors become httpx's, so the shared layer's retries and messages apply unchanged.
    """

    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._idle: list[tuple[tuple[str, int], http.client.HTTPConnection]] = []
        self._lock = threading.Lock()

    def _take(self, origin: tuple[str, int], timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            for k, (key, conn) in enumerate(self._idle):
                if key == origin:
                    del self._idle[k]
                    return conn, True
        return http.client.HTTPConnection(origin[0], origin[1], timeout=timeout), False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "http":
            raise httpx.UnsupportedProtocol(
                f"{url.scheme}:// is not served by this transport", request=request
            )
        timeouts = request.extensions.get("timeout") or {}
        timeout = timeouts.get("read") or self._timeout_s
        origin = (url.host, url.port or 80)
        body = request.read()
        headers = dict(request.headers)
        for attempt in (0, 1):
            conn, reused = self._take(origin, timeout)
            try:
                conn.request(request.method, url.raw_path.decode("ascii"), body=body, headers=headers)
                answer = conn.getresponse()
                content = answer.read()
            except TimeoutError as exc:
                conn.close()
                raise httpx.ReadTimeout(str(exc) or "timed out", request=request) from exc
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                conn.close()
                if reused and attempt == 0:
                    continue  # a keep-alive connection the node had closed meanwhile: once more on a new one
                raise httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}", request=request) from exc
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                error = httpx.ReadError if reused else httpx.ConnectError
                raise error(f"{type(exc).__name__}: {exc}", request=request) from exc
            if answer.will_close:
                conn.close()
            else:
                with self._lock:
                    self._idle.append((origin, conn))
            return httpx.Response(
                answer.status, headers=answer.getheaders(), content=content, request=request
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for _, conn in idle:
            conn.close()


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
        if opts.transport is None and url.startswith("http://"):
            opts = dataclasses.replace(opts, transport=_WholeBodyTransport(opts.timeout_s))
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
        first, raw = self.post_raw(calls)
        return self._results(calls, first, self._decode(raw))

    def post_raw(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> tuple[int, bytes]:
        """Send `calls` as one batch; return the id of the first call and the raw answer body (undecoded)."""
        first = self._next_id
        self._next_id += len(calls)
        body = [
            {"jsonrpc": self.jsonrpc, "id": first + i, "method": method, "params": list(params)}
            for i, (method, params) in enumerate(calls)
        ]
        response = self._http.request("POST", "", content=orjson.dumps(body))
        return first, response.content

    def _decode(self, raw: bytes) -> Any:
        """JSON body to Python objects (`orjson`, on the bytes; BTC amounts arrive as floats)."""
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise PayloadError(SOURCE, self.url, "<body>", f"not valid JSON ({exc}; truncated?)") from None

    def _results(self, calls: Sequence[tuple[str, Sequence[Any]]], first: int, answer: Any) -> list[Any]:
        """The results of `calls` from a decoded batch `answer` (errors raised, see `batch`)."""
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
    coinbase_outputs: int = 0
    coinbase_spends: int = 0

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
            "coinbase_outputs": self.coinbase_outputs,
            "coinbase_spends": self.coinbase_spends,
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
    return _block_frame(heights, stats, headers, url)


def _block_frame(
    heights: Sequence[int], stats: Sequence[Mapping[str, Any]], headers: Sequence[Mapping[str, Any]], url: str
) -> tuple[pd.DataFrame, list[str | None]]:
    """The store's block columns from ``getblockstats`` and header fields (``getblockheader``/``getblock``)."""
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


_OUTPUT_COLUMNS = ("txid", "vout", "height", "value_sats", "address", "pool")
_SPEND_COLUMNS = (
    "txid",
    "vout",
    "spend_txid",
    "height",
    "time",
    "n_outputs",
    "value_out_sats",
    "n_to_pool",
    "value_to_pool_sats",
)


def _sats(value: Any, record: str, url: str) -> int:
    """A JSON BTC amount (8 decimals) in sats."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise PayloadError(SOURCE, url, record, f"expected an amount >= 0 [BTC], got {value!r}")
    return round(value * 100_000_000)


def _address(vout: Mapping[str, Any]) -> str | None:
    """``scriptPubKey.address`` (Bitcoin Core >= 22), else the single entry of the older ``addresses``."""
    spk = vout.get("scriptPubKey")
    if not isinstance(spk, Mapping):
        return None
    address = spk.get("address")
    if isinstance(address, str):
        return address
    old = spk.get("addresses")
    if isinstance(old, list) and len(old) == 1 and isinstance(old[0], str):
        return old[0]
    return None


def _printable_tag(scriptsig_hex: str, limit: int = 100) -> str:
    """The printable ASCII runs of a coinbase scriptSig (for display), at most `limit` characters."""
    try:
        raw = bytes.fromhex(scriptsig_hex)
    except ValueError:
        return ""
    text = "".join(chr(b) if 32 <= b < 127 else " " for b in raw)
    return " ".join(text.split())[:limit]


_TX_START = re.compile(rb'\{"txid":"[0-9a-f]{64}","hash":')


class _Txs:
    """The transactions of one ``getblock <hash> 2`` answer, read lazily.

    Fast path (`from_raw`): the raw answer is split at each ``{"txid":"``, which in the compact key order
    Bitcoin Core writes (``TxToUniv``) starts either a transaction (``{"txid":..,"hash":``) or a non-coinbase
    input (``{"txid":..,"vout":n``); so every input's (txid, vout) comes out in one pass, without building
    Python objects for the ~4,000 transactions of a full block. A transaction is decoded (`orjson`) only when
    needed: the coinbase, and those spending a coinbase output. The split is trusted only when it accounts
    for every ``"txid"`` key of the answer (none in another layout, e.g. with spaces), finds exactly
    ``nTx`` transactions and no input before the second; otherwise (`from_parsed`) the whole answer is
    decoded. A ``{"txid":"`` inside a JSON string is impossible (quotes in strings are escaped).
    """

    def __init__(self, raw: bytes | None, parsed: list[Any] | None, n_tx: int) -> None:
        self.raw = raw
        self.parsed = parsed
        self.n_tx = n_tx
        self._starts: list[int] | None = None
        self.in_txid: list[str] = []
        self.in_vout: list[int] = []
        self.in_tx: list[int] = []

    @classmethod
    def from_raw(cls, raw: bytes, n_tx: int, block_hash: str) -> _Txs | None:
        if b'"hash":"' + block_hash.encode() + b'"' not in raw:
            return None
        parts = raw.split(b'{"txid":"')
        if len(parts) - 1 != raw.count(b'"txid"'):  # a "txid" key in another layout: decode everything
            return None
        out = cls(raw, None, n_tx)
        txids, vouts, txs = out.in_txid, out.in_vout, out.in_tx
        j = -1
        for part in parts[1:]:
            key = part[64:72]
            if key == b'","hash"':
                j += 1
            elif key == b'","vout"' and j >= 1:
                digits = part[73 : part.find(b",", 73)]
                if not digits.isdigit():  # vout last in its object, or not a number: another layout
                    return None
                txids.append(part[:64].decode())
                vouts.append(int(digits))
                txs.append(j)
            else:
                return None
        if j + 1 != n_tx:
            return None
        return out

    @classmethod
    def from_parsed(cls, txs: list[Any], url: str, rec: str) -> _Txs:
        out = cls(None, txs, len(txs))
        try:
            for j, tx in enumerate(txs[1:], start=1):
                for txin in tx["vin"]:
                    out.in_txid.append(txin["txid"])
                    out.in_vout.append(txin["vout"])
                    out.in_tx.append(j)
        except (KeyError, TypeError) as exc:
            raise PayloadError(SOURCE, url, f"{rec}.tx[].vin", f"missing or bad field {exc}") from None
        return out

    def tx(self, j: int) -> Any:
        """Transaction `j` of the block (decoded)."""
        if self.parsed is not None:
            return self.parsed[j]
        raw = self.raw
        assert raw is not None
        if j == 0:
            start = raw.find(b'{"txid":"')
            nxt = _TX_START.search(raw, start + 1)
            end = nxt.start() if nxt is not None and self.n_tx > 1 else None
        else:
            if self._starts is None:
                self._starts = [m.start() for m in _TX_START.finditer(raw)]
            start = self._starts[j]
            end = self._starts[j + 1] if j + 1 < len(self._starts) else None
        if end is None:  # the last transaction: decode up to its closing brace
            return json.JSONDecoder().raw_decode(raw[start:].decode())[0]
        return orjson.loads(raw[start:end].rstrip(b", \t\r\n"))


def scan_blocks(
    rpc: BitcoinRPC,
    heights: Sequence[int],
    sink: CoinbaseSink,
    pools: PoolMatcher,
    rpc_chunk: int = 5,
) -> tuple[OnchainBatch, list[str | None]]:
    """Read blocks at consecutive `heights` with ``getblock <hash> 2``: blocks, pools, coinbase flows.

    ``getblockstats`` gives each hash (and the subsidy and fees of the ``blocks`` table) and ``getblockheader``
    the header fields; each block is then read with ``getblock <hash> 2`` (one request per block, so memory
    holds one block's JSON at a time, times `rpc_chunk` blocks whose spends are matched together). The
    inputs are extracted from the raw answer in bulk (`_Txs`) and joined against the coinbase outputs
    (stored: one DuckDB join per chunk; of this batch: a dict); only the coinbase and the transactions that
    spend a coinbase output are decoded.

    Returns
    -------
    batch : OnchainBatch
        ``blocks`` (as `fetch_blocks`), ``block_pools`` (height, hash, time, pool, coinbase_tag,
        coinbase_sats), ``outputs`` (coinbase outputs with a value > 0: txid, vout, height, value_sats,
        address, pool) and ``spends`` (txid, vout of the spent coinbase output, spend_txid, height, time,
        n_outputs, value_out_sats, n_to_pool, value_to_pool_sats of the spending transaction) [sats].
    parents : list of str or None
        ``previousblockhash`` of each block.

    Notes
    -----
    An output of a spending transaction counts as sent "to the pool" when its address is listed for the
    spent output's pool in the definitions or has received a coinbase output attributed to that pool (stored,
    or earlier in this batch).
    """
    url = rpc.url
    stats = rpc.block_stats(heights)
    hashes = [
        _as_str(s, "blockhash", f"getblockstats({h})", url) for h, s in zip(heights, stats, strict=True)
    ]
    headers = rpc.block_headers(hashes)
    frame, parents = _block_frame(heights, stats, headers, url)
    times = [_as_int(hd, "time", f"getblockheader({h})", url) for h, hd in zip(heights, headers, strict=True)]
    n_txs = frame["tx_count"].tolist()
    bp: dict[str, list[Any]] = {
        c: [] for c in ("height", "hash", "time", "pool", "coinbase_tag", "coinbase_sats")
    }
    outs: dict[str, list[Any]] = {c: [] for c in _OUTPUT_COLUMNS}
    spends: dict[str, list[Any]] = {c: [] for c in _SPEND_COLUMNS}
    pending: dict[tuple[str, int], str] = {}  # coinbase outputs of this batch -> pool
    pending_addr: dict[str, set[str]] = {}  # their addresses -> pools
    chunk = max(1, rpc_chunk)

    def get_block(k: int) -> tuple[int, bytes]:
        return rpc.post_raw([("getblock", (hashes[k], 2))])

    # one block is fetched ahead on a worker thread (socket reads release the GIL), so the node's work and the
    # transfer overlap with the scan of the block before; meanwhile only that thread talks to the node
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hashrisk-getblock")
    ahead: Future[tuple[int, bytes]] | None = executor.submit(get_block, 0) if heights else None
    try:
        for lo in range(0, len(heights), chunk):
            scanned: list[tuple[_Txs, int, int]] = []  # (transactions, height, time)
            for k in range(lo, min(lo + chunk, len(heights))):
                h, block_hash, btime = heights[k], hashes[k], times[k]
                rec = f"getblock({h})"
                calls = [("getblock", (block_hash, 2))]
                assert ahead is not None
                first, raw = ahead.result()
                ahead = executor.submit(get_block, k + 1) if k + 1 < len(heights) else None
                txs = _Txs.from_raw(raw, n_txs[k], block_hash)
                if txs is None:  # an unusual layout, or an error: decode all and check
                    block = require_mapping(rpc._results(calls, first, rpc._decode(raw))[0], SOURCE, url, rec)
                    if _as_int(block, "height", rec, url) != h:
                        raise PayloadError(
                            SOURCE, url, f"{rec}.height", f"expected {h}, got {block.get('height')!r}"
                        )
                    tx_list = require_list(block.get("tx"), SOURCE, url, f"{rec}.tx")
                    if not tx_list:
                        raise PayloadError(
                            SOURCE, url, f"{rec}.tx", "a block has at least its coinbase transaction"
                        )
                    txs = _Txs.from_parsed(tx_list, url, rec)
                del raw
                cb = require_mapping(txs.tx(0), SOURCE, url, f"{rec}.tx[0]")
                cb_txid = _as_str(cb, "txid", f"{rec}.tx[0]", url)
                vin = require_list(cb.get("vin"), SOURCE, url, f"{rec}.tx[0].vin")
                script = vin[0].get("coinbase") if vin and isinstance(vin[0], Mapping) else None
                if not isinstance(script, str):
                    raise PayloadError(
                        SOURCE, url, f"{rec}.tx[0].vin[0].coinbase", "not a coinbase transaction"
                    )
                cb_outs = []
                for pos, vout in enumerate(require_list(cb.get("vout"), SOURCE, url, f"{rec}.tx[0].vout")):
                    vout = require_mapping(vout, SOURCE, url, f"{rec}.tx[0].vout[{pos}]")
                    n = _as_int(vout, "n", f"{rec}.tx[0].vout[{pos}]", url)
                    cb_outs.append(
                        (n, _sats(vout.get("value"), f"{rec}.tx[0].vout[{pos}].value", url), _address(vout))
                    )
                pool = pools.attribute(script, (a for _, _, a in cb_outs))
                bp["height"].append(h)
                bp["hash"].append(block_hash)
                bp["time"].append(btime)
                bp["pool"].append(pool)
                bp["coinbase_tag"].append(_printable_tag(script))
                bp["coinbase_sats"].append(sum(v for _, v, _ in cb_outs))
                for n, value, address in cb_outs:
                    if value <= 0:
                        continue  # the witness commitment and other zero-value outputs
                    outs["txid"].append(cb_txid)
                    outs["vout"].append(n)
                    outs["height"].append(h)
                    outs["value_sats"].append(value)
                    outs["address"].append(address)
                    outs["pool"].append(pool)
                    pending[(cb_txid, n)] = pool
                    if address is not None:
                        pending_addr.setdefault(address, set()).add(pool)
                scanned.append((txs, h, btime))
            _match_spends(sink, pools, scanned, pending, pending_addr, spends, url)
            del scanned
    finally:
        if ahead is not None:
            ahead.cancel()
        executor.shutdown(wait=True)
    block_pools = pd.DataFrame(bp)
    block_pools["time"] = pd.to_datetime(block_pools["time"], unit="s", utc=True)
    outputs = pd.DataFrame(outs, columns=list(_OUTPUT_COLUMNS))
    spend_frame = pd.DataFrame(spends, columns=list(_SPEND_COLUMNS))
    spend_frame["time"] = pd.to_datetime(spend_frame["time"], unit="s", utc=True)
    return OnchainBatch(frame, block_pools, outputs, spend_frame), parents


def _match_spends(
    sink: CoinbaseSink,
    pools: PoolMatcher,
    scanned: list[tuple[_Txs, int, int]],
    pending: dict[tuple[str, int], str],
    pending_addr: dict[str, set[str]],
    spends: dict[str, list[Any]],
    url: str,
) -> None:
    """Find the inputs of the `scanned` blocks spending coinbase outputs (stored or pending); add spend rows.

    Inputs are numbered across the chunk (``i``: block ``b`` and transaction ``j`` as ``b << 32 | j``); the
    stored outputs are found with one join in the store, the pending ones with dict look-ups.
    """
    in_txid: list[str] = []
    in_vout: list[int] = []
    in_key: list[int] = []
    for b, (txs, _, _) in enumerate(scanned):
        in_txid.extend(txs.in_txid)
        in_vout.extend(txs.in_vout)
        base = b << 32
        in_key.extend([base | j for j in txs.in_tx])
    if not in_txid:
        return
    matched: list[tuple[int, str, int, str]] = []
    if pending:
        get = pending.get
        for key, txid, vout in zip(in_key, in_txid, in_vout, strict=True):
            pool = get((txid, vout))
            if pool is not None:
                matched.append((key, txid, vout, pool))
    found = sink.spent_outputs(
        pd.DataFrame(
            {
                "txid": in_txid,
                "vout": np.asarray(in_vout, dtype="int64"),
                "i": np.asarray(in_key, dtype="int64"),
            }
        )
    )
    matched.extend(
        zip(
            found["i"].tolist(),
            found["txid"].tolist(),
            found["vout"].tolist(),
            found["pool"].tolist(),
            strict=True,
        )
    )
    if not matched:
        return
    decoded: dict[int, Mapping[str, Any]] = {}
    summaries: dict[int, list[tuple[str | None, int]]] = {}
    for key, *_ in matched:
        if key not in summaries:
            tx = scanned[key >> 32][0].tx(key & 0xFFFFFFFF)
            if not isinstance(tx, Mapping) or not isinstance(tx.get("vout"), list):
                raise PayloadError(SOURCE, url, "getblock.tx", f"expected a transaction, got {tx!r:.80}")
            decoded[key] = tx
            rec = f"tx {tx.get('txid')!r}"
            summaries[key] = [
                (_address(v), _sats(v.get("value"), f"{rec}.vout.value", url)) for v in tx["vout"]
            ]
    addresses = sorted({a for outs in summaries.values() for a, _ in outs if a is not None})
    known: dict[str, set[str]] = {}
    if addresses:
        pairs = sink.address_pools(addresses)
        for address, pool in zip(pairs["address"].tolist(), pairs["pool"].tolist(), strict=True):
            known.setdefault(address, set()).add(pool)
    for key, txid, vout, pool in sorted(matched):
        _, height, btime = scanned[key >> 32]
        tx = decoded[key]
        outs = summaries[key]
        to_pool = [
            v
            for a, v in outs
            if a is not None
            and (pools.address_pool(a) == pool or pool in known.get(a, ()) or pool in pending_addr.get(a, ()))
        ]
        spends["txid"].append(txid)
        spends["vout"].append(vout)
        spends["spend_txid"].append(tx["txid"])
        spends["height"].append(height)
        spends["time"].append(btime)
        spends["n_outputs"].append(len(outs))
        spends["value_out_sats"].append(sum(v for _, v in outs))
        spends["n_to_pool"].append(len(to_pool))
        spends["value_to_pool_sats"].append(sum(to_pool))


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
    coinbase: CoinbaseSink | None = None,
    pools: PoolMatcher | None = None,
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
    coinbase : CoinbaseSink, optional
        Also track pools and coinbase flows (`scan_blocks`) into this ledger, which then writes the blocks
        too and rolls both back together. Use a small `batch` (e.g. 25): full blocks are megabytes of JSON.
    pools : PoolMatcher, optional
        Pool definitions for the attribution (default: `hashrisk.data.pools.load_pools()`).

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

    if coinbase is not None and pools is None:
        from hashrisk.data.pools import load_pools

        pools = load_pools()

    def handle_reorg(from_height: int) -> int:
        fork = _find_fork(store, rpc, from_height, tip)
        removed = (coinbase if coinbase is not None else store).rollback_blocks(fork + 1)
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
            onchain: OnchainBatch | None = None
            if coinbase is not None:
                assert pools is not None
                onchain, parents = scan_blocks(rpc, heights, coinbase, pools)
                frame = onchain.blocks
            else:
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
            if coinbase is not None and onchain is not None:
                written = coinbase.write_batch(onchain, SOURCE)
                report.coinbase_outputs += len(onchain.outputs)
                report.coinbase_spends += len(onchain.spends)
            else:
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
