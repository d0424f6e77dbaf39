"""blockchain.com charts API: daily hashrate, difficulty, price, fees and block counts.

``GET https://api.blockchain.info/charts/{name}?timespan=...&start=...&format=json&sampled=false`` answers

.. code-block:: json

    {"status": "ok", "name": "Hash Rate", "unit": "Hash Rate TH/s", "period": "day",
     "description": "...", "values": [{"x": 1771286400, "y": 1032365847.42}, ...]}

``x`` is a Unix time [s] (00:00 UTC for daily charts) and ``y`` the value, possibly in scientific notation.
``sampled=false`` asks for every point instead of a ~1.5k-point sample (blockchain.com's charts API docs).

Charts used and the unit each must declare (checked, so a silent unit change cannot slip through):

=====================  ==========================  ===================================================
chart                  column                      unit check
=====================  ==========================  ===================================================
``hash-rate``          ``hashrate_ths`` [TH/s]     ``unit`` names H/s with a prefix (``TH/s`` today);
                                                   converted to TH/s
``difficulty``         ``difficulty``              none (dimensionless)
``market-price``       ``price_usd`` [USD/BTC]     ``unit`` mentions USD
``transaction-fees``   ``fees_btc`` [BTC/day]      ``unit`` mentions BTC (or satoshis, converted)
``n-blocks-total``     ``blocks`` [blocks/day]     cumulative count; blocks of day D = total(D) -
                                                   total(D - 1), only between consecutive days
=====================  ==========================  ===================================================
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hashrisk.constants import SATS_PER_BTC
from hashrisk.data.http import (
    HttpClient,
    HttpOptions,
    HttpStatusError,
    PayloadError,
    fetch_frame,
    field_float,
    field_str,
    open_client,
    require_list,
    require_mapping,
    source_meta,
)
from hashrisk.errors import InputError

__all__ = [
    "DAILY_CHARTS",
    "DEFAULT_BASE_URL",
    "get_chart",
    "get_daily",
    "hashrate_unit_to_ths",
    "parse_chart",
]

SOURCE = "blockchain"
DEFAULT_BASE_URL = "https://api.blockchain.info"
LICENSE = "blockchain.com charts API (see blockchain.com terms of service)"
DAILY_CHARTS: dict[str, str] = {
    "hash-rate": "hashrate_ths",
    "difficulty": "difficulty",
    "market-price": "price_usd",
    "transaction-fees": "fees_btc",
    "n-blocks-total": "blocks",
}
"""Chart name -> daily column written by `get_daily`."""
_PREFIX_TO_THS = {"": 1e-12, "K": 1e-9, "M": 1e-6, "G": 1e-3, "T": 1.0, "P": 1e3, "E": 1e6, "Z": 1e9}
_HASH_UNIT = re.compile(r"\b([KMGTPEZ]?)H/s\b", re.IGNORECASE)
_TIMESPAN = re.compile(r"^(all|\d+(minute|hour|day|week|month|year)s?)$")


def hashrate_unit_to_ths(unit: str | None, url: str = "<payload>") -> float:
    """Factor that turns a blockchain.com hash-rate ``unit`` into TH/s.

    ``"Hash Rate TH/s"`` -> 1.0; ``"GH/s"`` -> 1e-3; ``"EH/s"`` -> 1e6.

    Raises
    ------
    PayloadError
        The unit does not name a hash rate (so the values cannot be trusted).
    """
    match = _HASH_UNIT.search(unit or "")
    if match is None:
        raise PayloadError(SOURCE, url, "unit", f"expected a hash-rate unit such as 'TH/s', got {unit!r}")
    return _PREFIX_TO_THS[match.group(1).upper()]


def parse_chart(payload: Any, url: str = "<payload>") -> tuple[pd.Series, dict[str, Any]]:
    """Parse one charts-API JSON document.

    Returns
    -------
    series : pandas.Series
        Values ``y`` indexed by UTC time of ``x``, sorted, float.
    info : dict
        ``name``, ``unit``, ``period``, ``description`` as given (None when absent).

    Raises
    ------
    PayloadError
        ``status`` other than ``"ok"``, no ``values`` array, or a point without numeric ``x``/``y``.
    """
    obj = require_mapping(payload, SOURCE, url, "<body>")
    status = obj.get("status")
    if status is not None and status != "ok":
        raise PayloadError(SOURCE, url, "status", f"expected 'ok', got {status!r} ({obj.get('error', '')})")
    points = require_list(obj.get("values"), SOURCE, url, "values")
    xs = np.empty(len(points), dtype="float64")
    ys = np.empty(len(points), dtype="float64")
    for i, item in enumerate(points):
        rec = f"values[{i}]"
        point = require_mapping(item, SOURCE, url, rec)
        x = field_float(point, "x", SOURCE, url, rec)
        y = field_float(point, "y", SOURCE, url, rec)
        if x is None:
            raise PayloadError(SOURCE, url, f"{rec}.x", "is null")
        xs[i] = x
        ys[i] = math.nan if y is None else y
    info = {k: field_str(obj, k, SOURCE, url, "<body>", optional=True) for k in ("name", "unit", "period")}
    info["description"] = obj.get("description") if isinstance(obj.get("description"), str) else None
    index = pd.DatetimeIndex(pd.to_datetime(xs, unit="s", utc=True), name="time")
    series = pd.Series(ys, index=index, name=str(info.get("name") or "value")).sort_index(kind="stable")
    return series, info


def _chart_params(timespan: str, start: str | dt.date | None) -> dict[str, str]:
    if not _TIMESPAN.match(timespan):
        raise InputError("timespan", timespan, "'all' or a duration such as '30days', '2years', '8weeks'")
    params = {"timespan": timespan, "format": "json", "sampled": "false"}
    if start is not None:
        params["start"] = start.isoformat() if isinstance(start, dt.date) else str(start)
    return params


def get_chart(
    name: str,
    timespan: str = "all",
    start: str | dt.date | None = None,
    *,
    base_url: str = DEFAULT_BASE_URL,
    client: HttpClient | None = None,
    options: HttpOptions | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One chart, unsampled: ``/charts/{name}?timespan=...&start=...&format=json&sampled=false``.

    Parameters
    ----------
    name : str
        Chart name (``hash-rate``, ``difficulty``, ``market-price``, ``transaction-fees``...).
    timespan : str, optional
        ``all`` or a duration (``30days``, ``2years``).
    start : date or ISO string, optional
        First day (UTC).
    base_url, client, options
        Where and how to connect (see `hashrisk.data.http.fetch_frame`).

    Returns
    -------
    frame : pandas.DataFrame
        Column ``value`` (in the chart's own unit), UTC index ``time``.
    meta : dict
        Provenance plus the chart's ``name``, ``unit``, ``period`` and ``description``.
    """
    if not re.fullmatch(r"[a-z0-9-]+", name):
        raise InputError("chart", name, "a blockchain.com chart name such as 'hash-rate'")
    info: dict[str, Any] = {}

    def parse(payload: Any, url: str, _: HttpClient) -> pd.DataFrame:
        series, chart_info = parse_chart(payload, url)
        info.update(chart_info)
        return series.rename("value").to_frame()

    frame, meta = fetch_frame(
        SOURCE,
        f"/charts/{name}",
        parse,
        base_url=base_url,
        client=client,
        options=options,
        params=_chart_params(timespan, start),
        license=LICENSE,
    )
    meta.update(chart=info)
    return frame, meta


def _daily_last(series: pd.Series) -> pd.Series:
    """One value per UTC day: the day's last point, indexed by the day (00:00 UTC)."""
    days = pd.DatetimeIndex(series.index).floor("D")
    return series.groupby(days).last()


def _blocks_per_day(total: pd.Series) -> pd.Series:
    """Daily block counts from a cumulative total (only between points exactly one day apart)."""
    daily = _daily_last(total)
    step = daily.index.to_series().diff() == pd.Timedelta(days=1)
    counts = daily.diff().where(step)
    return counts.where(counts >= 0)


def _column(chart: str, series: pd.Series, unit: str | None, url: str) -> pd.Series:
    """Convert one chart to its daily column (unit checks and conversions)."""
    text = (unit or "").lower()
    if chart == "hash-rate":
        return _daily_last(series * hashrate_unit_to_ths(unit, url))
    if chart == "market-price":
        if unit is not None and "usd" not in text:
            raise PayloadError(SOURCE, url, "unit", f"expected a USD price, got {unit!r}")
        return _daily_last(series)
    if chart == "transaction-fees":
        if "sat" in text:
            return _daily_last(series / SATS_PER_BTC)
        if unit is not None and "btc" not in text:
            raise PayloadError(SOURCE, url, "unit", f"expected fees in BTC, got {unit!r}")
        return _daily_last(series)
    if chart == "n-blocks-total":
        return _blocks_per_day(series)
    return _daily_last(series)


def get_daily(
    timespan: str = "all",
    start: str | dt.date | None = None,
    charts: Sequence[str] = tuple(DAILY_CHARTS),
    *,
    base_url: str = DEFAULT_BASE_URL,
    client: HttpClient | None = None,
    options: HttpOptions | None = None,
    optional: Sequence[str] = ("n-blocks-total",),
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Daily network series from several charts, in the store's daily columns.

    Parameters
    ----------
    timespan, start
        See `get_chart`.
    charts : sequence of str, optional
        Keys of `DAILY_CHARTS`.
    base_url, client, options
        Where and how to connect.
    optional : sequence of str, optional
        Charts that may be missing (HTTP 404): they are skipped and named in ``meta["skipped"]``.

    Returns
    -------
    frame : pandas.DataFrame
        UTC daily index ``date``; the columns of the charts asked for: ``hashrate_ths`` [TH/s],
        ``difficulty``, ``price_usd`` [USD/BTC], ``fees_btc`` [BTC/day], ``blocks`` [blocks/day, Int64].
        A day is the last point of that UTC day.
    meta : dict
        Provenance with ``charts`` (name -> the chart's name/unit/period).
    """
    unknown = [c for c in charts if c not in DAILY_CHARTS]
    if unknown:
        raise InputError("charts", unknown, f"a subset of {list(DAILY_CHARTS)}")
    params = _chart_params(timespan, start)
    http, owned = open_client(SOURCE, base_url, client, options)
    columns: dict[str, pd.Series] = {}
    chart_info: dict[str, Mapping[str, Any]] = {}
    urls: list[str] = []
    skipped: list[str] = []
    try:
        for chart in charts:
            path = f"/charts/{chart}"
            url = http.url_for(path)
            try:
                payload = http.get_json(path, params=params)
            except HttpStatusError as exc:
                if exc.status == 404 and chart in optional:
                    skipped.append(chart)
                    continue
                raise
            urls.append(url)
            series, info = parse_chart(payload, url)
            chart_info[chart] = info
            columns[DAILY_CHARTS[chart]] = _column(chart, series, info.get("unit"), url)
        meta = source_meta(SOURCE, urls, http, license=LICENSE, charts=chart_info, skipped=skipped)
    finally:
        if owned:
            http.close()
    frame = pd.DataFrame(columns)
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    if "blocks" in frame.columns:
        frame["blocks"] = frame["blocks"].round().astype("Int64")
    return frame.sort_index(), meta
