"""`update`: bring the store up to date from every configured source (``hashrisk update``).

Sources come from the data folder's configuration (:mod:`hashrisk.data.config`). Each enabled source is asked
only for what is newer than the store holds, re-checking a small overlap for revised values
(:data:`hashrisk.data.sync.OVERLAP_DAYS` days, :data:`hashrisk.data.sync.OVERLAP_BLOCKS` blocks), through
:func:`hashrisk.data.sync.fetch`. Each source batch is fetched whole before it is written in one transaction,
so the store never holds half of one. One source failing does not stop the others.

Overall status (and the exit status of ``hashrisk update``): ``ok`` (0) when every source succeeded (an
endpoint a source lacks is noted, not a failure), ``partial`` (3) when some failed, ``failed`` (2) when all
failed (2 is also bad input, e.g. an invalid configuration).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from hashrisk.data.config import UpdateConfig
from hashrisk.data.http import HttpOptions
from hashrisk.data.store import Store
from hashrisk.data.sync import OVERLAP_BLOCKS, OVERLAP_DAYS, fetch, last_stored_day, mempool_recent_blocks
from hashrisk.errors import HashriskError

__all__ = ["EXIT_CODES", "SourceResult", "UpdateReport", "update"]

EXIT_CODES = {"ok": 0, "failed": 2, "partial": 3}
"""Exit status of ``hashrisk update`` per overall status."""


@dataclass
class SourceResult:
    """What one source did: rows changed, the newest day or height, or why it failed."""

    source: str
    ok: bool
    changed: int = 0
    newest: str | None = None
    missing: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        """One line for the terminal."""
        if not self.ok:
            return f"{self.source}: failed: {self.error}"
        text = f"{self.source}: {self.changed:,} rows added/changed, newest {self.newest or 'none'}"
        if self.missing:
            text += f"; missing: {', '.join(self.missing)}"
        return f"{text} ({self.seconds:.1f} s)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "ok": self.ok,
            "changed": self.changed,
            "newest": self.newest,
            "missing": self.missing,
            "error": self.error,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class UpdateReport:
    """The results of one update, source by source; `stopped` when a stop request skipped the rest."""

    results: list[SourceResult]
    stopped: bool = False

    @property
    def status(self) -> Literal["ok", "partial", "failed"]:
        good = sum(r.ok for r in self.results)
        if good == len(self.results):
            return "ok"
        return "partial" if good else "failed"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "stopped": self.stopped,
            "sources": [r.to_dict() for r in self.results],
        }


def _changed(report: dict[str, Any]) -> int:
    total = 0
    for key in ("daily", "retargets", "blocks"):
        if isinstance(report.get(key), dict):
            total += int(report[key].get("changed", 0))
    total += int(report.get("blocks_written", 0) or 0)
    return total


def _bitcoind_resume(home: str | os.PathLike[str] | None) -> int | None:
    """First height to ask the node for: after the last block *it* stored, less an overlap (blocks stored
    from mempool do not move the node's resume point)."""
    with Store(home, read_only=True) as store:
        row = store.con.execute("SELECT max(height) FROM blocks WHERE source = 'bitcoind'").fetchone()
        top_any = store.last_block_height()
    top = None if row is None or row[0] is None else int(row[0])
    if top is None:
        return 0 if top_any is not None else None
    return max(0, top + 1 - OVERLAP_BLOCKS) if top_any is not None and top_any > top else None


def _mempool_blocks(
    home: str | os.PathLike[str] | None, base_url: str, options: HttpOptions
) -> tuple[int, str | None, list[str]]:
    """Recent mempool blocks into ``blocks`` (one transaction): (changed, newest height, missing)."""
    with Store(home, read_only=True) as store:
        top = store.last_block_height()
    after = None if top is None else top - OVERLAP_BLOCKS
    frame, meta = mempool_recent_blocks(base_url, options, after=after)
    changed = 0
    if len(frame):
        with Store(home) as store:
            changed = store.upsert_blocks(frame, "mempool", origin=meta["urls"][0])
    newest = None if frame.empty else str(int(frame["height"].max()))
    return changed, newest, list(meta.get("missing", []))


def _one(
    name: str, config: UpdateConfig, home: str | os.PathLike[str] | None, options: HttpOptions
) -> SourceResult:
    t0 = time.perf_counter()
    src = getattr(config.sources, name)
    if name == "bitcoind":
        report = fetch(
            "bitcoind",
            since=_bitcoind_resume(home),
            base_url=src.rpc_url,
            home=home,
            chain=src.chain,
            batch=src.batch,
            progress=False,
            options=options,
            **src.credentials(),
        )
        newest = report.get("last_height")
        result = SourceResult(name, True, _changed(report), None if newest is None else str(newest))
    else:
        api_key = src.api_key() if name == "coinmetrics" else None
        with Store(home, read_only=True) as store:
            last = last_stored_day(store, name)
        since = None if last is None else last - dt.timedelta(days=OVERLAP_DAYS)  # revised values
        report = fetch(name, since=since, base_url=src.base_url, home=home, api_key=api_key, options=options)
        daily = report.get("daily") or {}
        result = SourceResult(
            name, True, _changed(report), daily.get("last"), list(report.get("missing", []))
        )
        if name == "mempool" and src.blocks and not config.sources.bitcoind.enabled:
            n, height, missing = _mempool_blocks(home, src.base_url, options)
            result.changed += n
            result.missing += missing
            if height is not None:
                result.newest = f"{result.newest or 'none'}, block {height}"
    result.detail = report
    result.seconds = time.perf_counter() - t0
    return result


def update(
    config: UpdateConfig,
    home: str | os.PathLike[str] | None = None,
    *,
    options: HttpOptions | None = None,
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[SourceResult], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> UpdateReport:
    """Update the store at `home` from every source enabled in `config`.

    Parameters
    ----------
    config : UpdateConfig
        Sources and HTTP settings (:func:`hashrisk.data.config.load_config`).
    home : path-like, optional
        Data folder.
    options : HttpOptions, optional
        HTTP knobs (default: ``HttpOptions(timeout_s=config.http.timeout_s)``).
    on_start, on_done : callable, optional
        Called before each source and with its result (progress display).
    stop : callable, optional
        Asked between sources: when it returns True the remaining sources are skipped (the source in
        progress always finishes its batch).

    Returns
    -------
    UpdateReport
        One `SourceResult` per source run; failures carry the error message (never a secret).
    """
    opts = options or HttpOptions(timeout_s=config.http.timeout_s)
    results: list[SourceResult] = []
    stopped = False
    for name in config.enabled():
        if stop is not None and stop():
            stopped = True
            break
        if on_start is not None:
            on_start(name)
        t0 = time.perf_counter()
        try:
            result = _one(name, config, home, opts)
        except HashriskError as exc:
            result = SourceResult(
                name, False, error=" ".join(str(exc).split()), seconds=time.perf_counter() - t0
            )
        results.append(result)
        if on_done is not None:
            on_done(result)
    return UpdateReport(results, stopped)
