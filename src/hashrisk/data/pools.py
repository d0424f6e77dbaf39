"""Mining-pool definitions and the attribution of a block to a pool by its coinbase transaction.

The definitions are those of mempool.space, kept in the public repository ``mempool/mining-pools``
(``pools-v2.json``, MIT licence, Copyright (c) 2019 btc.com): one JSON record per pool with ``id``, ``name``,
``addresses`` (payout addresses seen in its coinbase transactions), ``tags`` (regular expressions matched
against the coinbase scriptSig as text) and ``link``. A dated copy ships with the package
(``pools_2026-02-24.json``, provenance in ``pools_2026-02-24.toml``: repository, commit, date, licence);
``hashrisk data fetch --source pools`` downloads the current file into the data folder, where it overrides the
packaged copy.

Attribution (`PoolDefinitions.attribute`) follows mempool.space's own rule (``matchBlockMiner`` in its
backend): the pools are taken in file order and the block goes to the *first* pool that either lists one of the
coinbase's output addresses or has a tag that matches the scriptSig (as a case-insensitive regular expression
over the scriptSig's bytes decoded as UTF-8, undecodable bytes replaced). A block matching no pool is
``"unknown"`` (`UNKNOWN`): nothing is guessed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from hashrisk.data.http import HttpClient, HttpOptions, PayloadError
from hashrisk.errors import DataError

__all__ = [
    "DEFAULT_POOLS_URL",
    "PACKAGED_POOLS",
    "POOLS_FILENAME",
    "UNKNOWN",
    "Pool",
    "PoolDefinitions",
    "download_pools",
    "load_pools",
    "parse_pools",
]

SOURCE = "pools"
UNKNOWN = "unknown"
"""Pool name of a block that no definition matches."""
PACKAGED_POOLS = "pools_2026-02-24.json"
"""The packaged snapshot of ``pools-v2.json`` (commit 6abbdc8 of mempool/mining-pools, 2026-02-24)."""
POOLS_FILENAME = "pools-v2.json"
"""Name of a downloaded definitions file in the data folder (overrides the packaged snapshot)."""
DEFAULT_POOLS_URL = "https://raw.githubusercontent.com/mempool/mining-pools/master/pools-v2.json"


@dataclass(frozen=True)
class Pool:
    """One pool definition (a record of ``pools-v2.json``)."""

    id: int
    name: str
    link: str
    addresses: tuple[str, ...]
    tags: tuple[str, ...]


def _compile(tag: str) -> re.Pattern[str]:
    try:
        return re.compile(tag, re.IGNORECASE)
    except re.error:  # a JavaScript-only construct: match the text literally
        return re.compile(re.escape(tag), re.IGNORECASE)


class PoolDefinitions:
    """Parsed pool definitions, ready to attribute coinbase transactions.

    Parameters
    ----------
    pools : sequence of Pool
        In file order (the order decides between two matching pools).
    origin : str
        Where the definitions come from (a file path or URL), for provenance.
    """

    def __init__(self, pools: Sequence[Pool], origin: str = "?") -> None:
        self.pools = tuple(pools)
        self.origin = origin
        self._by_address: dict[str, int] = {}
        for i, pool in enumerate(self.pools):
            for address in pool.addresses:
                self._by_address.setdefault(address, i)
        self._tags = [[_compile(t) for t in pool.tags] for pool in self.pools]
        self.by_name = {p.name: p for p in self.pools}

    def __len__(self) -> int:
        return len(self.pools)

    def address_pool(self, address: str | None) -> str | None:
        """Name of the first pool listing `address`, or None."""
        if address is None:
            return None
        i = self._by_address.get(address)
        return None if i is None else self.pools[i].name

    def attribute(self, scriptsig_hex: str, addresses: Iterable[str | None]) -> str:
        """Pool name of a block from its coinbase scriptSig (hex) and output addresses; `UNKNOWN` if none.

        The first pool in file order that lists one of `addresses` or whose tag matches the scriptSig text.
        """
        best = len(self.pools)
        for address in addresses:
            if address is not None:
                i = self._by_address.get(address)
                if i is not None and i < best:
                    best = i
        text = coinbase_text(scriptsig_hex)
        for i in range(best):
            if any(rx.search(text) for rx in self._tags[i]):
                best = i
                break
        return self.pools[best].name if best < len(self.pools) else UNKNOWN


def coinbase_text(scriptsig_hex: str) -> str:
    """The coinbase scriptSig as text (UTF-8, undecodable bytes replaced); '' for bad hex."""
    try:
        return bytes.fromhex(scriptsig_hex).decode("utf-8", errors="replace")
    except ValueError:
        return ""


def parse_pools(data: bytes | str | Sequence[Any], origin: str) -> PoolDefinitions:
    """Parse a ``pools-v2.json`` document (a JSON array of pool records).

    Raises
    ------
    DataError
        Not a JSON array of records with an integer ``id``, a string ``name``, and lists of strings
        ``addresses`` and ``tags`` (the message names the record and the field).
    """
    try:
        records = json.loads(data) if isinstance(data, bytes | str) else data
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{SOURCE}: {origin} is not valid JSON ({exc})") from None
    if not isinstance(records, list) or not records:
        raise DataError(f"{SOURCE}: {origin} must be a non-empty JSON array of pool records")
    pools: list[Pool] = []
    for pos, rec in enumerate(records):
        where = f"{origin}: record {pos}"
        if not isinstance(rec, Mapping):
            raise DataError(f"{SOURCE}: {where} is not an object")
        pid, name = rec.get("id"), rec.get("name")
        if not isinstance(pid, int) or isinstance(pid, bool):
            raise DataError(f"{SOURCE}: {where}: 'id' must be an integer, got {pid!r}")
        if not isinstance(name, str) or not name:
            raise DataError(f"{SOURCE}: {where}: 'name' must be a non-empty string, got {name!r}")
        lists: dict[str, tuple[str, ...]] = {}
        for key in ("addresses", "tags"):
            value = rec.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise DataError(f"{SOURCE}: {where} ({name}): '{key}' must be a list of strings")
            lists[key] = tuple(value)
        link = rec.get("link", "")
        pools.append(
            Pool(pid, name, link if isinstance(link, str) else "", lists["addresses"], lists["tags"])
        )
    return PoolDefinitions(pools, origin)


def packaged_provenance() -> dict[str, Any]:
    """The packaged snapshot's provenance (source repository, commit, date, licence)."""
    text = resources.files("hashrisk.data").joinpath(PACKAGED_POOLS.replace(".json", ".toml")).read_text()
    out = dict(tomllib.loads(text))
    for key, value in out.items():
        if isinstance(value, dt.date):
            out[key] = value.isoformat()
    return out


def load_pools(home: str | Path | None = None) -> PoolDefinitions:
    """Pool definitions: ``<home>/pools-v2.json`` when downloaded there, else the packaged snapshot."""
    if home is not None:
        path = Path(home) / POOLS_FILENAME
        if path.is_file():
            return parse_pools(path.read_bytes(), str(path))
    return _packaged()


_PACKAGED: PoolDefinitions | None = None


def _packaged() -> PoolDefinitions:
    global _PACKAGED
    if _PACKAGED is None:
        data = resources.files("hashrisk.data").joinpath(PACKAGED_POOLS).read_bytes()
        _PACKAGED = parse_pools(data, f"hashrisk.data/{PACKAGED_POOLS}")
    return _PACKAGED


def download_pools(url: str = DEFAULT_POOLS_URL, options: HttpOptions | None = None) -> tuple[bytes, int]:
    """Download a ``pools-v2.json`` file; return its bytes (checked by `parse_pools`) and the pool count.

    Raises
    ------
    DataError
        The download failed or the document is not a pools-v2 definitions file.
    """
    opts = options if options is not None else HttpOptions()
    client: HttpClient = opts.make(url, SOURCE)
    try:
        response = client.request("GET", url)
    finally:
        client.close()
    body = response.content
    try:
        defs = parse_pools(body, url)
    except DataError as exc:
        raise PayloadError(SOURCE, url, "<body>", str(exc)) from None
    return body, len(defs)
