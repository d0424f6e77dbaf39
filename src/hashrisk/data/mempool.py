"""mempool.space REST API (or a self-hosted mempool backend): mining history, difficulty, blocks, prices.

Every ``get_*`` function returns ``(frame, meta)``: a DataFrame with a UTC index and unit-suffixed columns,
and a provenance dict (`hashrisk.data.http.source_meta`). Field names and units follow mempool's backend
sources (``backend/src/api/mining/mining-routes.ts`` and the repositories it calls):

==========================================  =================================================================
endpoint                                    shape → columns
==========================================  =================================================================
``/v1/mining/hashrate/:period``             ``{hashrates: [{timestamp s, avgHashrate H/s}], difficulty: [...],
                                            currentHashrate, currentDifficulty}`` → ``hashrate_ths`` (parsed
                                            by `parse_mempool_hashrate`, also for saved files)
``/v1/mining/difficulty-adjustments``       ``[[time s, height, difficulty, adjustment ratio], ...]`` (newest
                                            first) → ``height``, ``difficulty``, ``adjustment``
``/v1/difficulty-adjustment``               ``{progressPercent, difficultyChange %, estimatedRetargetDate ms,
                                            remainingBlocks, remainingTime ms, previousRetarget %,
                                            nextRetargetHeight, timeAvg ms, ...}`` → one row
``/v1/blocks/:height``                      up to 15 blocks ending at height, newest first, each
                                            ``{id, height, timestamp s, mediantime s, bits, difficulty,
                                            tx_count, extras: {totalFees sats, reward sats, ...}}``
``/v1/mining/blocks/fees/:period``          ``[{avgHeight, timestamp s, avgFees sats, USD}]`` → averages over
                                            mempool's buckets (per block, not per day)
``/v1/historical-price``                    ``{prices: [{time s, USD, EUR, ...}], exchangeRates}`` (newest
                                            first) → ``price_usd`` (+ ``price_eur``...)
==========================================  =================================================================

The default base URL is ``https://mempool.space/api``; point `base_url` at a self-hosted backend's ``/api``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from hashrisk.constants import HASHES_PER_TH, SATS_PER_BTC
from hashrisk.data.http import (
    HttpClient,
    HttpOptions,
    PayloadError,
    fetch_frame,
    field_float,
    field_int,
    require_list,
    require_mapping,
)
from hashrisk.data.schema import RETARGETS, Column, coerce_frame
from hashrisk.errors import InputError

__all__ = [
    "DEFAULT_BASE_URL",
    "PERIODS",
    "get_block_fees",
    "get_blocks",
    "get_difficulty_adjustment",
    "get_difficulty_adjustments",
    "get_hashrate",
    "get_historical_price",
    "parse_block_fees",
    "parse_blocks",
    "parse_difficulty_adjustment",
    "parse_difficulty_adjustments",
    "parse_historical_price",
    "parse_mempool_hashrate",
]

SOURCE = "mempool"
DEFAULT_BASE_URL = "https://mempool.space/api"
PERIODS = ("24h", "3d", "1w", "1m", "3m", "6m", "1y", "2y", "3y", "all")
"""Periods mempool accepts in ``:period`` / ``:interval`` path segments (``all`` = whole history)."""
LICENSE = "mempool.space API data (see mempool.space terms of service)"
_MS = 1_000.0


def _check_period(period: str) -> str:
    if period not in PERIODS:
        raise InputError("period", period, f"one of {', '.join(PERIODS)}")
    return period


def _utc(seconds: list[float] | list[int]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(seconds, unit="s", utc=True))


def parse_mempool_hashrate(payload: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse a mempool.space ``/api/v1/mining/hashrate/:period`` response.

    Parameters
    ----------
    payload : mapping
        ``{"hashrates": [{"timestamp": unix s, "avgHashrate": H/s}, ...],
        "difficulty": [{"time": unix s, "height", "difficulty", "adjustment": ratio}, ...], ...}``.
        The first hashrate point may carry the genesis time (2009-01-03 18:15:05); timestamps are floored
        to their UTC day. An ``adjustment`` of 0 (mempool's value for height 0) means none.

    Returns
    -------
    daily : pandas.DataFrame
        Index ``date`` (UTC days), column ``hashrate_ths`` [TH/s] = avgHashrate / 1e12.
    retargets : pandas.DataFrame
        Columns ``height`` (first height of the period), ``time`` (UTC), ``difficulty``, ``adjustment``
        [new / previous difficulty]; empty when the payload has no ``difficulty`` list.

    Raises
    ------
    InputError
        If the shape is wrong or a value is invalid (naming the list, the entry and the value).
    """
    if not isinstance(payload, Mapping) or not isinstance(payload.get("hashrates"), list):
        keys = sorted(payload) if isinstance(payload, Mapping) else type(payload).__name__
        raise InputError("mempool payload", keys, "an object with a 'hashrates' list (mining/hashrate API)")
    label = "mempool hashrates"
    points = pd.DataFrame.from_records(payload["hashrates"])
    for needed in ("timestamp", "avgHashrate"):
        if len(points) and needed not in points.columns:
            raise InputError(f"{label}[].{needed}", sorted(points.columns), "timestamp and avgHashrate")
    if points.empty:
        points = pd.DataFrame({"timestamp": pd.Series(dtype="float64"), "avgHashrate": []})
    stamp = Column("timestamp", "timestamp", "unix seconds (UTC)", "TIMESTAMP", None)
    rate = Column("hashrate_hs", "float", "a finite hashrate >= 0 [H/s]", "DOUBLE")
    parsed = coerce_frame(points, "timestamp", stamp, {"avgHashrate": rate}, label=f"{label}[].")
    days = parsed["timestamp"].dt.floor("D")
    keyed = Column("date", "date", "one point per UTC day", "DATE", None)
    daily = coerce_frame(
        pd.DataFrame({"date": days, "v": parsed["hashrate_hs"] / HASHES_PER_TH}),
        "date",
        keyed,
        {"v": Column("hashrate_ths", "float", "", "DOUBLE")},
        label=f"{label}[].",
    )
    daily = daily.set_index(pd.DatetimeIndex(daily.pop("date")).tz_localize("UTC").rename("date"))

    records = payload.get("difficulty") or []
    if not isinstance(records, list):
        raise InputError("mempool difficulty", type(records).__name__, "a list of adjustment records")
    adj = pd.DataFrame.from_records(records)
    if adj.empty:
        return daily, pd.DataFrame(columns=["height", "time", "difficulty", "adjustment"])
    missing = [c for c in ("time", "height", "difficulty") if c not in adj.columns]
    if missing:
        raise InputError(
            f"mempool difficulty[].{missing[0]}",
            sorted(adj.columns),
            "records with time, height and difficulty",
        )
    if "adjustment" in adj.columns:
        ratio = pd.to_numeric(adj["adjustment"], errors="coerce")
        adj["adjustment"] = adj["adjustment"].where(ratio.ne(0), None)
    cols = {n: RETARGETS.column(n) for n in ("time", "difficulty", "adjustment") if n in adj.columns}
    retargets = coerce_frame(adj, "height", RETARGETS.key, cols, label="mempool difficulty[].")
    return daily, retargets


def _fetch(
    path: str,
    parse: Callable[[Any, str, HttpClient], pd.DataFrame],
    *,
    base_url: str,
    client: HttpClient | None,
    options: HttpOptions | None,
    params: Mapping[str, Any] | None = None,
    units: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    return fetch_frame(
        SOURCE,
        path,
        parse,
        base_url=base_url,
        client=client,
        options=options,
        params=params,
        license=LICENSE,
        units=dict(units or {}),
    )


# -- hashrate ------------------------------------------------------------------------------------------------
def get_hashrate(
    period: str = "all",
    *,
    base_url: str = DEFAULT_BASE_URL,
    client: HttpClient | None = None,
    options: HttpOptions | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Daily network hashrate estimated by mempool, ``/v1/mining/hashrate/:period``.

    Parameters
    ----------
    period : str, optional
        One of `PERIODS`.
    base_url : str, optional
        mempool API root.
    client : HttpClient, optional
        An existing client (its base URL is used).
    options : HttpOptions, optional
        HTTP options for a new client.

    Returns
    -------
    frame : pandas.DataFrame
        UTC daily index ``date``; ``hashrate_ths`` [TH/s] (mempool's ``avgHashrate`` is in H/s, divided by
        1e12), parsed by `parse_mempool_hashrate`. The payload's ``difficulty`` list
        (daily-grouped retargets) is left out: `get_difficulty_adjustments` gives the raw retargets.
    meta : dict
        Provenance.
    """

    def parse(payload: Any, url: str, http: HttpClient) -> pd.DataFrame:
        try:
            daily, _ = parse_mempool_hashrate(payload)
        except (InputError, TypeError, ValueError, KeyError, AttributeError) as exc:
            # the parser (shared with file imports) names the list, entry and value; add the source and URL
            raise PayloadError(SOURCE, url, "hashrates", str(exc)) from None
        return daily

    return _fetch(
        f"/v1/mining/hashrate/{_check_period(period)}",
        parse,
        base_url=base_url,
        client=client,
        options=options,
        units={"hashrate_ths": "TH/s (mempool avgHashrate H/s / 1e12)"},
    )


# -- difficulty adjustments -------------------------------------------------------------------------------
def parse_difficulty_adjustments(payload: Any, url: str = "<payload>") -> pd.DataFrame:
    """Parse ``/v1/mining/difficulty-adjustments``: rows ``[time s, height, difficulty, adjustment]``.

    Returns
    -------
    pandas.DataFrame
        Index ``time`` (UTC, time of the retarget block), sorted ascending; columns ``height`` [blocks],
        ``difficulty`` [dimensionless], ``adjustment`` [ratio new/previous difficulty].

    Raises
    ------
    PayloadError
        Not an array of 4-element numeric rows (the record names the row).
    """
    rows = require_list(payload, SOURCE, url, "<body>")
    times: list[float] = []
    heights: list[int] = []
    diffs: list[float] = []
    adjs: list[float] = []
    for i, row in enumerate(rows):
        record = f"[{i}]"
        cells = require_list(row, SOURCE, url, record)
        if len(cells) < 4:
            raise PayloadError(
                SOURCE, url, record, f"expected [time, height, difficulty, adjustment], got {row!r}"
            )
        obj = dict(zip(("time", "height", "difficulty", "adjustment"), cells[:4], strict=True))
        t = field_float(obj, "time", SOURCE, url, record)
        h = field_int(obj, "height", SOURCE, url, record)
        d = field_float(obj, "difficulty", SOURCE, url, record)
        a = field_float(obj, "adjustment", SOURCE, url, record)
        if t is None or h is None or d is None:
            raise PayloadError(SOURCE, url, record, f"null time, height or difficulty in {row!r}")
        times.append(t)
        heights.append(h)
        diffs.append(d)
        adjs.append(math.nan if a is None else a)
    frame = pd.DataFrame(
        {"height": pd.array(heights, dtype="int64"), "difficulty": diffs, "adjustment": adjs},
        index=_utc(times).rename("time"),
    )
    return frame.sort_values("height", kind="stable")


def get_difficulty_adjustments(
    *,
    base_url: str = DEFAULT_BASE_URL,
    client: HttpClient | None = None,
    options: HttpOptions | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Every difficulty adjustment mempool has indexed, ``/v1/mining/difficulty-adjustments``.

    Returns
    -------
    frame, meta
        See `parse_difficulty_adjustments`.
    """
    return _fetch(
        "/v1/mining/difficulty-adjustments",
        lambda payload, url, _: parse_difficulty_adjustments(payload, url),
        base_url=base_url,
        client=client,
        options=options,
        units={"adjustment": "ratio new/previous difficulty"},
    )


def parse_difficulty_adjustment(payload: Any, url: str = "<payload>", *, as_of_s: float) -> pd.DataFrame:
    """Parse ``/v1/difficulty-adjustment`` (the current epoch's progress and estimate).

    mempool reports ``estimatedRetargetDate``, ``remainingTime``, ``timeAvg`` and ``timeOffset`` in
    milliseconds and ``previousTime`` in seconds; they are converted here.

    Parameters
    ----------
    payload : Any
        The decoded JSON object.
    url : str
        Where it came from (for error messages).
    as_of_s : float
        Unix time of the request [s]: the row's index.

    Returns
    -------
    pandas.DataFrame
        One row indexed by the request time (UTC): ``progress_pct`` [%], ``difficulty_change_pct`` [%],
        ``estimated_retarget_time`` (UTC), ``remaining_blocks`` [blocks], ``remaining_time_s`` [s],
        ``previous_retarget_pct`` [%], ``next_retarget_height`` [blocks], ``time_avg_s`` [s/block],
        ``previous_time`` (UTC, when reported), ``adjusted_time_avg_s`` [s/block, when reported],
        ``expected_blocks`` [blocks, when reported].
    """
    obj = require_mapping(payload, SOURCE, url, "<body>")
    rec = "<body>"

    def req(key: str) -> float:
        value = field_float(obj, key, SOURCE, url, rec)
        if value is None:
            raise PayloadError(SOURCE, url, f"{rec}.{key}", "is null")
        return value

    def opt(key: str) -> float:
        value = field_float(obj, key, SOURCE, url, rec, optional=True)
        return math.nan if value is None else value

    previous_time = opt("previousTime")
    row = {
        "progress_pct": req("progressPercent"),
        "difficulty_change_pct": req("difficultyChange"),
        "estimated_retarget_time": pd.Timestamp(req("estimatedRetargetDate") / _MS, unit="s", tz="UTC"),
        "remaining_blocks": int(req("remainingBlocks")),
        "remaining_time_s": req("remainingTime") / _MS,
        "previous_retarget_pct": req("previousRetarget"),
        "next_retarget_height": int(req("nextRetargetHeight")),
        "time_avg_s": req("timeAvg") / _MS,
        "previous_time": (
            pd.NaT if math.isnan(previous_time) else pd.Timestamp(previous_time, unit="s", tz="UTC")
        ),
        "adjusted_time_avg_s": opt("adjustedTimeAvg") / _MS,
        "expected_blocks": opt("expectedBlocks"),
    }
    return pd.DataFrame([row], index=_utc([as_of_s]).rename("as_of"))


def get_difficulty_adjustment(
    *,
    base_url: str = DEFAULT_BASE_URL,
    client: HttpClient | None = None,
    options: HttpOptions | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The current epoch's progress and estimated next adjustment, ``/v1/difficulty-adjustment``.

    Returns
    -------
    frame, meta
        See `parse_difficulty_adjustment`.
    """
    return _fetch(
        "/v1/difficulty-adjustment",
        lambda payload, url, http: parse_difficulty_adjustment(payload, url, as_of_s=http.wall_clock()),
        base_url=base_url,
        client=client,
        options=options,
        units={"*_s": "seconds (from mempool's milliseconds)"},
    )


# -- blocks -----------------------------------------------------------------------------------------------
def parse_blocks(payload: Any, url: str = "<payload>") -> pd.DataFrame:
    """Parse ``/v1/blocks/:height``: a list of block objects with mempool's ``extras``.

    Returns
    -------
    pandas.DataFrame
        Index ``time`` (UTC block timestamp), sorted by height; columns ``height``, ``hash``,
        ``mediantime`` (UTC), ``bits`` [compact, int], ``difficulty``, ``tx_count``, ``fees_sats`` [sats]
        (``extras.totalFees``), ``reward_sats`` [sats] (``extras.reward``: subsidy + fees),
        ``subsidy_sats`` [sats] (reward - fees), ``pool`` (``extras.pool.slug`` when present).
    """
    rows = require_list(payload, SOURCE, url, "<body>")
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "time",
            "height",
            "hash",
            "mediantime",
            "bits",
            "difficulty",
            "tx_count",
            "fees_sats",
            "reward_sats",
            "pool",
        )
    }
    for i, item in enumerate(rows):
        rec = f"[{i}]"
        block = require_mapping(item, SOURCE, url, rec)
        extras = require_mapping(block.get("extras", {}), SOURCE, url, f"{rec}.extras")
        pool = extras.get("pool")
        values: dict[str, Any] = {
            "time": field_int(block, "timestamp", SOURCE, url, rec),
            "height": field_int(block, "height", SOURCE, url, rec),
            "hash": block.get("id"),
            "mediantime": field_int(block, "mediantime", SOURCE, url, rec, optional=True),
            "bits": field_int(block, "bits", SOURCE, url, rec),
            "difficulty": field_float(block, "difficulty", SOURCE, url, rec),
            "tx_count": field_int(block, "tx_count", SOURCE, url, rec),
            "fees_sats": field_int(extras, "totalFees", SOURCE, url, f"{rec}.extras", optional=True),
            "reward_sats": field_int(extras, "reward", SOURCE, url, f"{rec}.extras", optional=True),
            "pool": pool.get("slug") if isinstance(pool, Mapping) else None,
        }
        if not isinstance(values["hash"], str):
            raise PayloadError(
                SOURCE, url, f"{rec}.id", f"expected a block hash string, got {values['hash']!r}"
            )
        for key in ("time", "height", "bits", "difficulty", "tx_count"):
            if values[key] is None:
                raise PayloadError(SOURCE, url, f"{rec}.{key}", "is null")
        for key, value in values.items():
            cols[key].append(value)
    fees = pd.Series(cols["fees_sats"], dtype="Int64")
    reward = pd.Series(cols["reward_sats"], dtype="Int64")
    frame = pd.DataFrame(
        {
            "height": pd.array(cols["height"], dtype="int64"),
            "hash": cols["hash"],
            "mediantime": pd.to_datetime(pd.array(cols["mediantime"], dtype="Int64"), unit="s", utc=True),
            "bits": pd.array(cols["bits"], dtype="int64"),
            "difficulty": pd.array(cols["difficulty"], dtype="float64"),
            "tx_count": pd.array(cols["tx_count"], dtype="int64"),
            "fees_sats": fees.to_numpy(),
            "reward_sats": reward.to_numpy(),
            "subsidy_sats": (reward - fees).to_numpy(),
            "pool": cols["pool"],
        },
        index=_utc(cols["time"]).rename("time"),
    )
    return frame.sort_values("height", kind="stable")


def get_blocks(
    height: int | None = None,
    *,
    base_url: str = DEFAULT_BASE_URL,
    client: HttpClient | None = None,
    options: HttpOptions | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Up to 15 blocks ending at `height` (the tip when None), ``/v1/blocks[/:height]``.

    Returns
    -------
    frame, meta
        See `parse_blocks`.
    """
    if height is not None and (isinstance(height, bool) or height < 0):
        raise InputError("height", height, "a block height >= 0")
    path = "/v1/blocks" if height is None else f"/v1/blocks/{int(height)}"
    return _fetch(
        path,
        lambda payload, url, _: parse_blocks(payload, url),
        base_url=base_url,
        client=client,
        options=options,
        units={"*_sats": "satoshis"},
    )


# -- fees -------------------------------------------------------------------------------------------------
def parse_block_fees(payload: Any, url: str = "<payload>") -> pd.DataFrame:
    """Parse ``/v1/mining/blocks/fees/:period``: ``[{avgHeight, timestamp s, avgFees sats, USD}]``.

    mempool groups blocks into buckets whose width depends on the period (from single blocks for 24h to
    several days for ``all``) and reports the *average fees per block* of each bucket.

    Returns
    -------
    pandas.DataFrame
        Index ``time`` (UTC, mean timestamp of the bucket's blocks); columns ``avg_height`` [blocks],
        ``avg_fees_sats`` [sats/block], ``avg_fees_btc`` [BTC/block], ``price_usd`` [USD/BTC, when given].
    """
    rows = require_list(payload, SOURCE, url, "<body>")
    times: list[float] = []
    heights: list[int] = []
    fees: list[float] = []
    prices: list[float] = []
    for i, item in enumerate(rows):
        rec = f"[{i}]"
        obj = require_mapping(item, SOURCE, url, rec)
        t = field_float(obj, "timestamp", SOURCE, url, rec)
        h = field_int(obj, "avgHeight", SOURCE, url, rec)
        f = field_float(obj, "avgFees", SOURCE, url, rec)
        p = field_float(obj, "USD", SOURCE, url, rec, optional=True)
        if t is None or h is None or f is None:
            raise PayloadError(SOURCE, url, rec, f"null timestamp, avgHeight or avgFees in {obj!r}")
        times.append(t)
        heights.append(h)
        fees.append(f)
        prices.append(math.nan if p is None or p <= 0 else p)
    frame = pd.DataFrame(
        {
            "avg_height": pd.array(heights, dtype="int64"),
            "avg_fees_sats": fees,
            "avg_fees_btc": [f / SATS_PER_BTC for f in fees],
            "price_usd": prices,
        },
        index=_utc(times).rename("time"),
    )
    return frame.sort_index(kind="stable")


def get_block_fees(
    period: str = "1m",
    *,
    base_url: str = DEFAULT_BASE_URL,
    client: HttpClient | None = None,
    options: HttpOptions | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Average fees per block over time, ``/v1/mining/blocks/fees/:period``.

    Returns
    -------
    frame, meta
        See `parse_block_fees`.
    """
    return _fetch(
        f"/v1/mining/blocks/fees/{_check_period(period)}",
        lambda payload, url, _: parse_block_fees(payload, url),
        base_url=base_url,
        client=client,
        options=options,
        units={"avg_fees_sats": "sats per block (bucket average)"},
    )


# -- prices -----------------------------------------------------------------------------------------------
def parse_historical_price(payload: Any, url: str = "<payload>") -> pd.DataFrame:
    """Parse ``/v1/historical-price``: ``{prices: [{time s, USD, EUR, ...}], exchangeRates: {...}}``.

    Entries with a USD price <= 0 (mempool's "no price" markers, -1 or 0) are dropped.

    Returns
    -------
    pandas.DataFrame
        Index ``time`` (UTC), ascending; ``price_usd`` [USD/BTC] and one ``price_<ccy>`` column per other
        currency present [<ccy>/BTC].
    """
    obj = require_mapping(payload, SOURCE, url, "<body>")
    rows = require_list(obj.get("prices"), SOURCE, url, "prices")
    times: list[float] = []
    records: list[dict[str, float]] = []
    for i, item in enumerate(rows):
        rec = f"prices[{i}]"
        entry = require_mapping(item, SOURCE, url, rec)
        t = field_float(entry, "time", SOURCE, url, rec)
        usd = field_float(entry, "USD", SOURCE, url, rec)
        if t is None:
            raise PayloadError(SOURCE, url, f"{rec}.time", "is null")
        if usd is None or usd <= 0:
            continue
        values = {"price_usd": usd}
        for key in entry:
            if key not in ("time", "USD") and isinstance(key, str) and key.isalpha() and key.isupper():
                v = field_float(entry, key, SOURCE, url, rec)
                values[f"price_{key.lower()}"] = math.nan if v is None or v <= 0 else v
        times.append(t)
        records.append(values)
    frame = pd.DataFrame(records, index=_utc(times).rename("time"))
    if frame.empty:
        frame = pd.DataFrame({"price_usd": pd.Series(dtype="float64")}, index=_utc([]).rename("time"))
    return frame.sort_index(kind="stable")


def get_historical_price(
    currency: str | None = None,
    *,
    base_url: str = DEFAULT_BASE_URL,
    client: HttpClient | None = None,
    options: HttpOptions | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """BTC price history from mempool's price index, ``/v1/historical-price[?currency=CCY]``.

    Returns
    -------
    frame, meta
        See `parse_historical_price`. mempool's history mixes granularities (daily in early years, finer
        later); `hashrisk.data.sync` keeps each UTC day's last price as that day's close.
    """
    return _fetch(
        "/v1/historical-price",
        lambda payload, url, _: parse_historical_price(payload, url),
        base_url=base_url,
        client=client,
        options=options,
        params={"currency": currency} if currency else None,
        units={"price_usd": "USD/BTC"},
    )
