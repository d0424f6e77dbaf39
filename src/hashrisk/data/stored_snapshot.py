"""The network snapshot of a stored UTC day, built from the DuckDB store: :func:`snapshot_for_date`.

:class:`~hashrisk.data.snapshot.NetworkSnapshot` is a value object that knows nothing of the store; the
shells (CLI, report, web) call :func:`snapshot_for_date` when the user asks for a stored day, and
:func:`latest_snapshot` by default (the newest complete stored day, else the embedded snapshot), with an
:class:`AsOf` that says which day, from which source and how old.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass
from typing import Any

import pandas as pd

from hashrisk.chain.subsidy import GENESIS_DATE
from hashrisk.constants import RETARGET_INTERVAL_BLOCKS
from hashrisk.data.schema import SOURCE_PREFERENCE, as_date
from hashrisk.data.snapshot import EMBEDDED_SOURCES, NetworkSnapshot
from hashrisk.data.store import Store, store_path
from hashrisk.errors import DataError, InputError, StoreDamagedError

FETCH_HINT = "`hashrisk data import FILE` or `hashrisk data fetch --source coinmetrics`"
"""How to get daily data into the store (named in the errors)."""


def snapshot_for_date(
    date: str | dt.date,
    home: str | os.PathLike[str] | None = None,
    height: int | None = None,
) -> NetworkSnapshot:
    """The network snapshot of a stored UTC day.

    Rules (daily rows come from the preferred source of each day, see :meth:`~hashrisk.data.store.Store.daily_frame`):

    - ``price_usd`` [USD/BTC]: that day's price.
    - ``difficulty``: that day's (mean) difficulty; if absent, the stored retarget in force.
    - ``hashrate_ths`` [TH/s]: mean of the stored daily hashrates over the 7 days ending at `date`.
    - ``fees_btc_per_block`` [BTC/block]: ``fees_btc / blocks`` of that day (over the 7 days when that
      day has no blocks or no fees).
    - ``height``: `height` if given; else the highest stored block mined by the end of that day; else the
      cumulative sum of daily ``blocks`` of a source whose series starts at genesis (2009-01-03) with no
      missing day (the genesis block is not counted by the daily counts, so the sum is the height).

    Parameters
    ----------
    date : date or ISO string
        The UTC day.
    home : path-like, optional
        Data folder (see :func:`hashrisk.data.store.default_home`).
    height : int, optional
        Block height to use instead of the estimate.

    Returns
    -------
    NetworkSnapshot
        With ``sources`` saying ``store: <source> <date>`` per field.

    Raises
    ------
    InputError
        If `date` is not a day or is before the genesis block (2009-01-03).
    DataError
        If nothing usable is stored for that day (the message says what is stored and how to get data)
        or the height cannot be estimated.
    """
    day = as_date(date)
    if day < GENESIS_DATE:
        raise InputError("date", day.isoformat(), f"a UTC day on or after {GENESIS_DATE} (the genesis block)")
    with Store(home, read_only=True) as store:
        week = store.daily_frame(start=day - dt.timedelta(days=6), end=day)
        row = week.loc[week.index == pd.Timestamp(day, tz="UTC")]
        if row.empty or pd.isna(row["price_usd"].iloc[0]):
            raise DataError(_nothing_stored(store, day))
        today = row.iloc[0]
        src = str(today["source"])
        iso = day.isoformat()
        sources: dict[str, str] = {"date": f"store: {src} {iso}", "price_usd": f"store: {src} {iso}"}

        difficulty = float(today["difficulty"]) if pd.notna(today["difficulty"]) else math.nan
        sources["difficulty"] = f"store: {src} {iso} (mean difficulty of the day)"
        if not math.isfinite(difficulty):
            difficulty, note = _retarget_difficulty(store, day)
            sources["difficulty"] = note

        rates = week["hashrate_ths"].dropna()
        if rates.empty:
            raise DataError(
                f"no hashrate stored for the 7 days to {iso} in {store.path}; "
                f"import or fetch daily data with {FETCH_HINT}"
            )
        first_day = rates.index.min().date().isoformat()
        used = ",".join(sorted(set(week.loc[rates.index, "source"].astype(str))))
        sources["hashrate_ths"] = f"store: {used} {first_day}..{iso} ({len(rates)}-day mean)"

        fees, blocks = today["fees_btc"], today["blocks"]
        if pd.notna(fees) and pd.notna(blocks) and int(blocks) > 0:
            fees_per_block = float(fees) / int(blocks)
            sources["fees_btc_per_block"] = f"store: {src} {iso} (fees_btc / blocks)"
        else:
            ok = week[["fees_btc", "blocks"]].dropna()
            total_blocks = int(ok["blocks"].sum()) if len(ok) else 0
            if total_blocks <= 0:
                raise DataError(
                    f"no fees and block counts stored for the 7 days to {iso} in "
                    f"{store.path}; import or fetch daily data with {FETCH_HINT}"
                )
            fees_per_block = float(ok["fees_btc"].sum()) / total_blocks
            sources["fees_btc_per_block"] = f"store: {src} {first_day}..{iso} (7-day fees / blocks)"

        if height is None:
            height, sources["height"] = _estimate_height(store, day)
        else:
            sources["height"] = "given"
    return NetworkSnapshot(
        date=day,
        price_usd=float(today["price_usd"]),
        difficulty=difficulty,
        hashrate_ths=float(rates.mean()),
        fees_btc_per_block=fees_per_block,
        height=int(height),
        sources=sources,
    )


def _nothing_stored(store: Store, day: dt.date) -> str:
    status = store.status(gaps_cap=0)["tables"]["daily"]["sources"]
    if status:
        have = "; ".join(f"{s}: {v['min']}..{v['max']}" for s, v in status.items())
        what = f"stored daily data: {have}"
    else:
        what = "the store holds no daily data"
    return f"no daily price for {day.isoformat()} in {store.path} ({what}); get data with {FETCH_HINT}"


def _retarget_difficulty(store: Store, day: dt.date) -> tuple[float, str]:
    found = store.retarget_in_force(day)
    if found is None:
        raise DataError(
            f"no difficulty stored for {day.isoformat()} in {store.path}; "
            f"import or fetch daily data with {FETCH_HINT}"
        )
    h, difficulty, source = found
    return difficulty, f"store: {source} retarget at height {h} (in force on {day.isoformat()})"


def _estimate_height(store: Store, day: dt.date) -> tuple[int, str]:
    last = store.last_block_by(day)
    if last is not None:
        return last[0], f"store: {last[1]} blocks, last block before the end of {day.isoformat()}"
    rank = {s: i for i, s in enumerate(SOURCE_PREFERENCE)}
    full_days = (day - GENESIS_DATE).days + 1
    for cov in sorted(store.daily_coverage(day), key=lambda c: (rank.get(c.source, 99), c.source)):
        if cov.first == GENESIS_DATE and cov.days == full_days and cov.days_with_blocks == full_days:
            return cov.blocks, (
                f"store: {cov.source} cumulative daily blocks {GENESIS_DATE.isoformat()}..{day.isoformat()}"
            )
    raise DataError(
        f"cannot estimate the block height on {day.isoformat()} from {store.path}: no blocks stored and no "
        f"daily block counts from genesis ({GENESIS_DATE.isoformat()}) without gaps; import the full daily "
        "history (e.g. the Coin Metrics CSV from 2009-01-03) or pass the height explicitly"
    )


# ------------------------------------------------------------------------------------ the latest day by default
STALE_AFTER_DAYS = 2
"""Data more than this many days older than today (UTC) is stale: the shells warn (labelled choice)."""
LATEST_TRIES = 7
"""How many of the newest complete stored days `latest_snapshot` tries before the embedded snapshot."""
EMBEDDED_SOURCE = "embedded snapshot"
UPDATE_HINT = "`hashrisk update`"


@dataclass(frozen=True)
class AsOf:
    """Which day a figure describes, where it comes from, and how old it is.

    Attributes
    ----------
    day : datetime.date
        The UTC day of the snapshot.
    source : str
        ``"store: <source>"`` (the preferred stored source of that day) or ``"embedded snapshot"``.
    age_days : int
        Whole days from `day` to today (UTC).
    stale : bool
        ``age_days > STALE_AFTER_DAYS``.
    """

    day: dt.date
    source: str
    age_days: int
    stale: bool

    @property
    def stored(self) -> bool:
        """Whether the day comes from the store (not the embedded snapshot)."""
        return self.source != EMBEDDED_SOURCE

    def to_dict(self) -> dict[str, Any]:
        """``{day, source, age_days, stale}`` (JSON-ready)."""
        return {
            "day": self.day.isoformat(),
            "source": self.source,
            "age_days": self.age_days,
            "stale": self.stale,
        }

    def line(self) -> str:
        """One line: ``as of 2026-11-28 (store: coinmetrics), 1 day old``."""
        unit = "day" if abs(self.age_days) == 1 else "days"
        return f"as of {self.day.isoformat()} ({self.source}), {self.age_days} {unit} old"

    def warning(self) -> str | None:
        """The stale-data warning (None when fresh)."""
        if not self.stale:
            return None
        return (
            f"data is {self.age_days} days old ({self.day.isoformat()}, {self.source}); "
            f"bring the store up to date with {UPDATE_HINT}"
        )


def utc_today() -> dt.date:
    """Today's UTC day."""
    return dt.datetime.now(dt.UTC).date()


def as_of(snapshot: NetworkSnapshot, today: dt.date | None = None) -> AsOf:
    """The `AsOf` of a snapshot: its day, its source (from ``sources["date"]``) and its age."""
    label = snapshot.sources.get("date", "")
    if label.startswith("store: "):
        source = "store: " + label.removeprefix("store: ").split(" ")[0]
    elif label == EMBEDDED_SOURCES["date"]:
        source = EMBEDDED_SOURCE
    else:
        source = label or "given"
    age = ((today or utc_today()) - snapshot.date).days
    return AsOf(snapshot.date, source, age, age > STALE_AFTER_DAYS)


def complete_days(store: Store, since: dt.date | None = None) -> list[dt.date]:
    """Stored days that are *complete*, newest first.

    A day is complete when its preferred stored row (:meth:`~hashrisk.data.store.Store.daily_frame`) has a
    price and a hashrate, and a difficulty either on that row or from a stored retarget in force that day:
    the fields a snapshot cannot do without. (Fees and the height are looked up by `snapshot_for_date`,
    which may still refuse a complete day; `latest_snapshot` then tries the previous one.)
    """
    frame = store.daily_frame(start=since)
    ok = frame.loc[frame["price_usd"].notna() & frame["hashrate_ths"].notna()]
    days: list[dt.date] = []
    for stamp, difficulty in zip(ok.index[::-1], ok["difficulty"].iloc[::-1], strict=True):
        day = pd.Timestamp(stamp).date()
        if pd.notna(difficulty) or store.retarget_in_force(day) is not None:
            days.append(day)
    return days


def latest_snapshot(
    home: str | os.PathLike[str] | None = None, today: dt.date | None = None
) -> tuple[NetworkSnapshot, AsOf]:
    """The snapshot the commands use by default, and its `AsOf`.

    The newest complete stored day (`complete_days`) that is at least as new as the embedded snapshot
    (2026-06-01) and that `snapshot_for_date` can build (the newest :data:`LATEST_TRIES` are tried); else the
    embedded snapshot. Nothing is created when there is no store.

    Raises
    ------
    StoreDamagedError
        If the store file exists but cannot be read (never "nothing stored").
    """
    embedded = NetworkSnapshot.embedded()
    if store_path(home).exists():
        with Store(home, read_only=True) as store:
            days = complete_days(store, since=embedded.date)
        for day in days[:LATEST_TRIES]:
            try:
                snap = snapshot_for_date(day, home=home)
            except StoreDamagedError:
                raise
            except DataError:
                continue
            return snap, as_of(snap, today)
    return embedded, as_of(embedded, today)


def stored_epoch(store: Store, snapshot: NetworkSnapshot) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The stored blocks of the difficulty period in progress at `snapshot`, and every stored retarget.

    What :func:`hashrisk.analytics.adjustment.next_adjustment` needs to estimate the next adjustment from real
    block times and nBits (``None`` for what the store does not hold).
    """
    h0 = snapshot.height - snapshot.height % RETARGET_INTERVAL_BLOCKS
    blocks = store.blocks_frame(start=h0, end=snapshot.height)
    retargets = store.retargets_frame()
    return (blocks if len(blocks) else None), (retargets if len(retargets) else None)
