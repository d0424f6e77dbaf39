"""Shared pieces of the history analytics: input checks, halving cycles, derived daily series, spells.

Everything here is pure: functions take a daily frame (as :meth:`hashrisk.data.store.Store.daily_frame`
returns it) and return new frames or series. No I/O.

The daily frame is indexed by UTC day and holds some of the columns ``price_usd`` [USD/BTC],
``hashrate_ths`` [TH/s], ``difficulty`` [-], ``blocks`` [blocks/day], ``fees_btc`` [BTC/day] and
``subsidy_btc`` [BTC/day issued, not per block]. :func:`check_daily` validates it and puts it on a complete
calendar (missing days become NaN rows), so that every rolling window below counts calendar days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hashrisk._json import jsonable
from hashrisk.chain.subsidy import GENESIS_DATE, HALVING_DATES
from hashrisk.economics.revenue import hashprice_usd_per_ph_day
from hashrisk.errors import InputError

DAILY_COLUMNS = ("price_usd", "hashrate_ths", "difficulty", "blocks", "fees_btc", "subsidy_btc")
"""Columns the analytics read from the store's daily frame."""
_POSITIVE = frozenset({"price_usd", "hashrate_ths", "difficulty"})
"""Columns that must be > 0 where present (the others must be >= 0)."""


@dataclass(frozen=True)
class Cycle:
    """One halving cycle: from a halving day (or genesis) to the day before the next halving.

    Attributes
    ----------
    label : str
        ``"2020-2024"`` style, or ``"2024-"`` for the cycle in progress.
    start : datetime.date
        First day (the halving's UTC day; the halving block of 2024 came at 00:09 UTC).
    end : datetime.date or None
        First day of the next cycle (exclusive); None for the cycle in progress.
    """

    label: str
    start: dt.date
    end: dt.date | None

    def contains(self, day: dt.date) -> bool:
        """True when `day` lies in ``[start, end)``."""
        return self.start <= day and (self.end is None or day < self.end)


def _cycles() -> tuple[Cycle, ...]:
    starts = [GENESIS_DATE, *sorted(HALVING_DATES.values())]
    out = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else None
        label = f"{start.year}-{end.year}" if end is not None else f"{start.year}-"
        out.append(Cycle(label, start, end))
    return tuple(out)


CYCLES: tuple[Cycle, ...] = _cycles()
"""Halving cycles, oldest first; days from ``hashrisk.chain.subsidy.HALVING_DATES`` (mainnet blocks
210,000 / 420,000 / 630,000 / 840,000)."""


def cycle_labels(index: pd.DatetimeIndex) -> pd.Series:
    """Label of the halving cycle of each date (a day belongs to the cycle that started on or before it).

    Parameters
    ----------
    index : DatetimeIndex
        Dates (tz-naive UTC or tz-aware).

    Returns
    -------
    pandas.Series
        Cycle labels (str), indexed like `index`.
    """
    dates = index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index
    starts = np.array([np.datetime64(c.start, "ns") for c in CYCLES])
    pos = np.searchsorted(starts, dates.to_numpy(dtype="datetime64[ns]"), side="right") - 1
    labels = np.array([c.label for c in CYCLES], dtype=object)
    return pd.Series(labels[np.clip(pos, 0, None)], index=index, dtype=object)


def check_daily(daily: pd.DataFrame, columns: Sequence[str], field: str = "daily") -> pd.DataFrame:
    """Validate a daily frame and return its `columns` as float64 on a complete calendar.

    Parameters
    ----------
    daily : pandas.DataFrame
        Indexed by UTC day (DatetimeIndex, tz-aware UTC or naive), one row per day, increasing.
    columns : sequence of str
        Columns needed (from :data:`DAILY_COLUMNS`).
    field : str
        Name of the frame in error messages.

    Returns
    -------
    pandas.DataFrame
        Index ``date`` (tz-naive UTC days, every calendar day from the first to the last row; days absent
        from `daily` are NaN rows); the requested columns as float64 (missing values NaN).

    Raises
    ------
    InputError
        Not a frame, no DatetimeIndex, a missing column, a time that is not midnight, unsorted or duplicated
        dates, an empty frame, or a value that is not a number, not finite, or out of range
        (``price_usd``, ``hashrate_ths``, ``difficulty`` > 0; ``blocks``, ``fees_btc``, ``subsidy_btc`` >= 0).
    """
    if not isinstance(daily, pd.DataFrame):
        raise InputError(field, type(daily).__name__, "a pandas DataFrame indexed by UTC day")
    index = daily.index
    if not isinstance(index, pd.DatetimeIndex):
        raise InputError(f"{field}.index", type(index).__name__, "a DatetimeIndex of UTC days")
    for name in columns:
        if name not in daily.columns:
            raise InputError(
                f"{field}.{name}",
                "missing",
                f"a frame with the columns {', '.join(columns)}",
                hint=f"the frame has {[str(c) for c in daily.columns]}",
            )
    if len(index) == 0:
        raise InputError(field, "0 rows", "at least one day of data")
    days = index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index
    if days.hasnans:
        raise InputError(f"{field}.index", "NaT", "a date on every row")
    odd = days[days != days.normalize()]
    if len(odd):
        raise InputError(f"{field}.index", odd[0].isoformat(), "UTC days at 00:00 (one row per day)")
    dup = days[days.duplicated()]
    if len(dup):
        raise InputError(f"{field}.index", dup[0].date().isoformat(), "unique dates (one row per UTC day)")
    step = np.diff(days.asi8)
    if (step < 0).any():
        bad = days[int(np.argmax(step < 0)) + 1]
        raise InputError(
            f"{field}.index",
            bad.date().isoformat(),
            "dates in increasing order",
            hint="sort the frame by date",
        )
    out = pd.DataFrame(index=pd.DatetimeIndex(days, name="date"))
    for name in columns:
        raw = daily[name]
        try:
            values = np.asarray(raw.astype("Float64").to_numpy(dtype="float64", na_value=np.nan))
        except (TypeError, ValueError):
            raise InputError(f"{field}.{name}", str(raw.dtype), "numbers (or missing values)") from None
        present = ~np.isnan(values)
        ok = np.isfinite(values) & (values > 0 if name in _POSITIVE else values >= 0)
        invalid = present & ~ok
        if invalid.any():
            i = int(np.argmax(invalid))
            allowed = "a finite number > 0" if name in _POSITIVE else "a finite number >= 0"
            raise InputError(
                f"{field}.{name}", float(values[i]), f"{allowed} or missing", hint=f"on {days[i].date()}"
            )
        out[name] = values
    calendar = pd.date_range(days[0], days[-1], freq="D", name="date")
    return out.reindex(calendar)


def hashprice_series(daily: pd.DataFrame) -> pd.Series:
    """Daily hashprice [USD/(PH/s)/day] from a checked daily frame.

    ``hashprice = hashprice_usd_per_ph_day(difficulty, subsidy_btc / blocks, fees_btc / blocks, price_usd)``
    (:func:`hashrisk.economics.revenue.hashprice_usd_per_ph_day`): the day's mean reward per block at the
    day's mean difficulty. By the Coin Metrics identity ``hashrate = difficulty * 2**32 * blocks / 86400``
    this equals the day's miner revenue in USD divided by its hashrate. NaN where an input is missing or
    no block was mined.

    Parameters
    ----------
    daily : pandas.DataFrame
        Output of :func:`check_daily` with ``price_usd``, ``difficulty``, ``blocks``, ``fees_btc`` and
        ``subsidy_btc``.
    """
    cols = daily[["price_usd", "difficulty", "blocks", "fees_btc", "subsidy_btc"]]
    ok = (cols.notna().all(axis=1) & (cols["blocks"] > 0)).to_numpy()
    out = np.full(len(daily), np.nan)
    if ok.any():
        sub = cols[ok]
        blocks = sub["blocks"].to_numpy()
        out[ok] = hashprice_usd_per_ph_day(
            sub["difficulty"].to_numpy(),
            sub["subsidy_btc"].to_numpy() / blocks,
            sub["fees_btc"].to_numpy() / blocks,
            sub["price_usd"].to_numpy(),
        )
    return pd.Series(out, index=daily.index, name="hashprice_usd_per_ph_day")


def spells(state: pd.Series, min_gap_days: int = 1) -> pd.DataFrame:
    """Runs of consecutive True days in a boolean daily series, merging runs split by short gaps.

    A gap (False or undefined days) of fewer than `min_gap_days` days between two runs is treated as noise
    and the runs are merged into one spell; ``min_gap_days=1`` merges nothing.

    Parameters
    ----------
    state : pandas.Series
        Daily values on a complete calendar: True, False, or NaN/None (undefined; counts as False).
    min_gap_days : int
        Shortest gap that separates two spells [days], >= 1.

    Returns
    -------
    pandas.DataFrame
        One row per spell: ``start`` (first True day), ``end`` (first day of the gap that ends the spell,
        NaT while the spell is still running on the last day), ``days`` (``end - start``, or up to the
        last day inclusive while running), ``ongoing`` (bool).
    """
    if min_gap_days < 1:
        raise InputError("min_gap_days", min_gap_days, "an integer >= 1")
    flags = state.astype("boolean").fillna(False).to_numpy(dtype=bool)
    index = pd.DatetimeIndex(state.index)
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)  # position of the first False day after each run (may be len)
    keep_start: list[int] = []
    keep_end: list[int] = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        if keep_end and s - keep_end[-1] < min_gap_days:
            keep_end[-1] = e
        else:
            keep_start.append(s)
            keep_end.append(e)
    n = len(flags)
    rows = []
    for s, e in zip(keep_start, keep_end, strict=True):
        ongoing = e >= n
        rows.append(
            {
                "start": index[s],
                "end": pd.NaT if ongoing else index[e],
                "days": (n - s) if ongoing else (e - s),
                "ongoing": ongoing,
            }
        )
    frame = pd.DataFrame(rows, columns=["start", "end", "days", "ongoing"])
    frame["start"] = pd.to_datetime(frame["start"])
    frame["end"] = pd.to_datetime(frame["end"])
    frame["days"] = frame["days"].astype("int64")
    frame["ongoing"] = frame["ongoing"].astype(bool)
    return frame


def weekly_means(daily: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Weekly means of `columns` over complete weeks (Monday to Sunday, labelled by the Sunday).

    A week's value is NaN unless all 7 days of that column are present, so partial weeks at the edges and
    weeks with missing days never enter a regression.

    Parameters
    ----------
    daily : pandas.DataFrame
        Output of :func:`check_daily`.
    columns : sequence of str
        Columns to average.
    """
    sub = daily[list(columns)]
    grouped = sub.resample("W-SUN")
    means = grouped.mean()
    counts = grouped.count()
    return means.where(counts == 7)


def to_day(value: Any) -> str | None:
    """ISO date of a timestamp or date (None for NaT/None)."""
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date().isoformat()


def parse_day(value: str | dt.date | pd.Timestamp, field: str) -> pd.Timestamp:
    """A day as a tz-naive midnight timestamp (UTC day); :class:`InputError` naming `field` if unreadable."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InputError(field, value, "an ISO date (YYYY-MM-DD)") from None
    if pd.isna(ts):
        raise InputError(field, value, "an ISO date (YYYY-MM-DD)")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.normalize()


def _jsonable(value: Any) -> Any:
    """Dates as ISO days (not date-times), everything else as :func:`hashrisk._json.jsonable`."""
    if isinstance(value, pd.Timestamp | dt.date) and value is not pd.NaT:
        return to_day(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return jsonable(value)


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of `frame` as JSON-ready dicts (dates as ISO days, NaN/NaT as None, numpy scalars as Python)."""
    return [{str(k): _jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
