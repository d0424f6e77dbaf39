"""Coin Metrics community data: the parser of CM daily metric columns, the CSV reader and the API v4 connector.

Coin Metrics (CM) community data is licensed CC BY-NC 4.0 (non-commercial, attribution).

CM metrics used, with their units:

=============  ============================  ===============================
CM metric      meaning [unit]                hashrisk daily column
=============  ============================  ===============================
``PriceUSD``   price [USD/BTC]               ``price_usd``
``HashRate``   mean hashrate [TH/s]          ``hashrate_ths``
``DiffMean``   mean difficulty of the day    ``difficulty``
``BlkCnt``     blocks in the UTC day         ``blocks``
``FeeTotNtv``  fees [BTC/day]                ``fees_btc``
``FeeTotUSD``  fees [USD/day]                (``fees_btc`` = FeeTotUSD / PriceUSD when FeeTotNtv is absent)
``IssTotNtv``  new issuance [BTC/day]        ``subsidy_btc`` (BTC issued per day, not per block)
``IssTotUSD``  new issuance [USD/day]        (``subsidy_btc`` = IssTotUSD / PriceUSD when IssTotNtv is absent)
=============  ============================  ===============================

Missing series are derived with the identities CM itself satisfies (checked on the reference data to
floating-point error)::

    HashRate = DiffMean * 2**32 * BlkCnt / 86400 / 1e12
    IssTotNtv = BlkCnt * subsidy (except on halving days)

``blocks`` comes from the hashrate identity when HashRate and DiffMean are there, else from issuance /
per-block subsidy on days whose subsidy era is known from the date alone (not halving days, and not
after :data:`ERA_DATES_VALID_TO`); then the missing one of ``difficulty`` / ``hashrate_ths`` follows from
the identity. Every derivation is counted in ``meta["derived"]``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
import pandas as pd

from hashrisk.chain.subsidy import HALVING_DATES, block_subsidy_sats
from hashrisk.constants import (
    HALVING_INTERVAL_BLOCKS,
    HASHES_PER_DIFFICULTY,
    HASHES_PER_TH,
    SATS_PER_BTC,
    SECONDS_PER_DAY,
)
from hashrisk.data.http import (
    COINMETRICS_COMMUNITY_RATE,
    HttpClient,
    HttpOptions,
    PayloadError,
    open_client,
    require_list,
    require_mapping,
    source_meta,
)
from hashrisk.data.input_file import read_input_file
from hashrisk.data.schema import DAILY, Column, as_date, coerce_frame, read_csv_records
from hashrisk.errors import InputError

SOURCE_NAME = "coinmetrics"
LICENCE = "Coin Metrics community data, CC BY-NC 4.0"
ERA_DATES_VALID_TO = dt.date(2027, 6, 30)
"""Last day the era-by-date table is trusted: height 1,050,000 cannot come sooner (about 931,000 at the
end of 2025, and fewer than 170 blocks a day on average)."""

_CM_COLUMNS: dict[str, Column] = {
    "PriceUSD": DAILY.column("price_usd"),
    "HashRate": DAILY.column("hashrate_ths"),
    "DiffMean": DAILY.column("difficulty"),
    "BlkCnt": DAILY.column("blocks"),
    "FeeTotNtv": DAILY.column("fees_btc"),
    "IssTotNtv": DAILY.column("subsidy_btc"),
    "FeeTotUSD": Column("fees_usd", "float", "finite fees >= 0 [USD/day], or empty", "DOUBLE"),
    "IssTotUSD": Column("issuance_usd", "float", "finite issuance >= 0 [USD/day], or empty", "DOUBLE"),
}
"""CM metric -> how it is parsed (and the intermediate column it becomes)."""
_DAY = Column("date", "date", "an ISO date or timestamp at 00:00 UTC", "DATE", None)
OUTPUT_COLUMNS = ("price_usd", "hashrate_ths", "difficulty", "blocks", "fees_btc", "subsidy_btc")


def era_subsidy_btc(days: pd.DatetimeIndex | pd.Series) -> np.ndarray:
    """Per-block subsidy of the era in force for the whole UTC day [BTC/block].

    NaN on halving days (two subsidies that day), and after :data:`ERA_DATES_VALID_TO`.

    Parameters
    ----------
    days : DatetimeIndex or Series of datetimes
        UTC days (tz-aware or naive UTC).

    Returns
    -------
    numpy.ndarray
        Subsidy [BTC/block] per day, float64.
    """
    dates = pd.DatetimeIndex(days)
    if dates.tz is not None:
        dates = dates.tz_convert("UTC").tz_localize(None)
    era = np.zeros(len(dates), dtype=np.int64)
    mixed = np.zeros(len(dates), dtype=bool)
    for day in HALVING_DATES.values():
        stamp = pd.Timestamp(day)
        era += (dates > stamp).astype(np.int64)
        mixed |= dates == stamp
    per_era = np.array(
        [
            block_subsidy_sats(e * HALVING_INTERVAL_BLOCKS) / SATS_PER_BTC
            for e in range(len(HALVING_DATES) + 1)
        ]
    )
    out = per_era[era]
    out[mixed | (dates > pd.Timestamp(ERA_DATES_VALID_TO))] = np.nan
    return out


def parse_coinmetrics_frame(
    df: pd.DataFrame,
    source: str = SOURCE_NAME,
    *,
    origin: str | None = None,
    line_offset: int | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Normalise a frame of Coin Metrics daily metrics to hashrisk's daily columns.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per day: a ``time`` or ``date`` column (ISO date or timestamp at 00:00 UTC), optionally
        ``asset`` (must be ``btc``), and any of the metrics in the module table, as numbers or numeric
        strings (CM's long decimals such as ``"934017374.016968059335586094582167936278"`` are fine).
        Other columns are ignored (listed in ``meta["ignored_columns"]``).
    source : str
        Provenance name to store the rows under (``meta["source"]``).
    origin : str, optional
        Where the rows were read (file path, URL), named in errors; defaults to `source`.
    line_offset : int, optional
        When the frame is a file as read, ``2`` makes errors cite file line numbers (header = line 1).

    Returns
    -------
    frame : pandas.DataFrame
        Index ``date`` (UTC DatetimeIndex, in input order); columns ``price_usd`` [USD/BTC],
        ``hashrate_ths`` [TH/s], ``difficulty``, ``blocks`` [blocks/day, Int64], ``fees_btc`` [BTC/day],
        ``subsidy_btc`` [BTC/day issued].
    meta : dict
        ``format``, ``source``, ``origin``, ``licence``, ``rows``, ``first``, ``last``, ``columns``
        (output column -> CM metric used), ``derived`` (output column -> rule and number of days),
        ``derived_mask`` (bool frame like `frame`, True where a cell was derived; pass it as
        ``Store.upsert_daily(frame, source, derived=meta["derived_mask"])`` so derived cells only fill
        gaps and never replace reported values), ``ignored_columns``.

    Raises
    ------
    InputError
        No date column, no known metric, a non-BTC asset, an unparseable date, a duplicated day or a
        negative / non-numeric value; the message names `origin`, the column, the day and the value.
    """
    label = f"{origin or source}: "
    date_col = next((c for c in ("time", "date") if c in df.columns), None)
    if date_col is None:
        raise InputError(f"{label}columns", [str(c) for c in df.columns], "a 'time' or 'date' column")
    metrics = {name: col for name, col in _CM_COLUMNS.items() if name in df.columns}
    if not metrics:
        raise InputError(
            f"{label}columns",
            [str(c) for c in df.columns],
            f"at least one Coin Metrics metric of {list(_CM_COLUMNS)}",
        )
    if "asset" in df.columns:
        assets = df["asset"].dropna().astype(str).str.lower()
        other = assets[assets.ne("btc")]
        if len(other):
            raise InputError(f"{label}asset", other.iloc[0], "btc (one asset per file)")
    raw = coerce_frame(df, date_col, _DAY, metrics, label=label, line_offset=line_offset)
    raw = raw.set_index(pd.DatetimeIndex(raw.pop("date")).tz_localize("UTC").rename("date"))
    frame, derived = _derive(raw)
    columns = {c.name: name for name, c in metrics.items() if c.name in OUTPUT_COLUMNS}
    ignored = [str(c) for c in df.columns if c not in metrics and c not in (date_col, "asset")]
    meta: dict[str, Any] = {
        "format": "coinmetrics",
        "source": source,
        "origin": origin or source,
        "licence": LICENCE,
        "rows": len(frame),
        "first": frame.index.min().date().isoformat() if len(frame) else None,
        "last": frame.index.max().date().isoformat() if len(frame) else None,
        "columns": columns,
        "derived": derived.rules,
        "derived_mask": derived.mask,
        "ignored_columns": ignored,
    }
    return frame, meta


@dataclass
class _Derived:
    """Which cells were derived (``mask``, True = computed here) and by which rule."""

    mask: pd.DataFrame
    rules: dict[str, str] = field(default_factory=dict)


def _fill(out: pd.DataFrame, column: str, values: pd.Series, rule: str, derived: _Derived) -> None:
    """Fill the missing cells of `column` from `values`; record the cells and the rule."""
    current = out[column] if column in out.columns else pd.Series(np.nan, index=out.index, dtype="float64")
    take = current.isna() & values.notna()
    n = int(take.sum())
    if n:
        out[column] = current.astype("float64").where(~take, values)
        derived.mask[column] = derived.mask[column] | take
        text = f"{rule} on {n} days"
        derived.rules[column] = f"{derived.rules[column]}; {text}" if column in derived.rules else text
    elif column not in out.columns:
        out[column] = current


def _derive(raw: pd.DataFrame) -> tuple[pd.DataFrame, _Derived]:
    """Native fees/issuance from USD, then blocks, difficulty and hashrate from the CM identities."""
    out = raw.copy()
    derived = _Derived(pd.DataFrame(False, index=out.index, columns=list(OUTPUT_COLUMNS)))
    price = out["price_usd"] if "price_usd" in out.columns else pd.Series(np.nan, index=out.index)
    priced = price.where(price > 0)
    if "fees_usd" in out.columns:
        _fill(out, "fees_btc", out["fees_usd"] / priced, "FeeTotUSD / PriceUSD", derived)
    if "issuance_usd" in out.columns:
        _fill(out, "subsidy_btc", out["issuance_usd"] / priced, "IssTotUSD / PriceUSD", derived)
    for column in OUTPUT_COLUMNS:
        if column not in out.columns:
            out[column] = pd.Series(np.nan, index=out.index, dtype="float64")
    blocks = out["blocks"].astype("float64")
    hashrate, difficulty = out["hashrate_ths"], out["difficulty"]
    from_rate = (hashrate * HASHES_PER_TH * SECONDS_PER_DAY / (difficulty * HASHES_PER_DIFFICULTY)).round()
    _fill(out, "blocks", from_rate, "round(HashRate * 1e12 * 86400 / (DiffMean * 2^32))", derived)
    blocks = out["blocks"].astype("float64")
    per_block = pd.Series(era_subsidy_btc(pd.DatetimeIndex(out.index)), index=out.index)
    from_issuance = (out["subsidy_btc"] / per_block).round()
    _fill(
        out,
        "blocks",
        from_issuance,
        "round(issuance / per-block subsidy of the era, halving days excluded)",
        derived,
    )
    blocks = out["blocks"].astype("float64")
    mined = blocks.where(blocks > 0)
    _fill(
        out,
        "difficulty",
        hashrate * HASHES_PER_TH * SECONDS_PER_DAY / (HASHES_PER_DIFFICULTY * mined),
        "HashRate * 1e12 * 86400 / (2^32 * blocks)",
        derived,
    )
    _fill(
        out,
        "hashrate_ths",
        out["difficulty"] * HASHES_PER_DIFFICULTY * blocks / SECONDS_PER_DAY / HASHES_PER_TH,
        "DiffMean * 2^32 * blocks / 86400 / 1e12",
        derived,
    )
    out["blocks"] = out["blocks"].astype("float64").round().astype("Int64")
    return out.loc[:, list(OUTPUT_COLUMNS)], derived


def read_coinmetrics(
    path_or_buffer: str | os.PathLike[str] | IO[str] | IO[bytes],
    source: str = SOURCE_NAME,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a Coin Metrics community CSV (any of its layouts) into hashrisk's daily columns.

    Parameters
    ----------
    path_or_buffer : path or file object
        The CSV (``time`` or ``date`` column plus CM metrics; a UTF-8 BOM is accepted). A path must be a
        regular file of at most :data:`~hashrisk.data.input_file.MAX_INPUT_BYTES`; the content must be whole
        (:func:`~hashrisk.data.schema.read_csv_records`).
    source : str
        Provenance name for the rows.

    Returns
    -------
    (pandas.DataFrame, dict)
        See :func:`parse_coinmetrics_frame`.
    """
    origin = str(getattr(path_or_buffer, "name", path_or_buffer))
    if isinstance(path_or_buffer, str | os.PathLike):
        content: str | bytes = read_input_file(path_or_buffer)
    else:
        content = path_or_buffer.read()
    df = read_csv_records(content, origin)
    return parse_coinmetrics_frame(df, source, origin=origin, line_offset=2)


# ---------------------------------------------------------------------------------------------- API v4
COMMUNITY_BASE_URL = "https://community-api.coinmetrics.io/v4"
"""Coin Metrics community API root (no key; CC BY-NC 4.0; 10 requests per 6 s per IP)."""
DEFAULT_API_METRICS = ("PriceUSD", "HashRate", "DiffMean", "BlkCnt", "FeeTotNtv", "IssTotNtv")
"""Metrics `get_coinmetrics` asks for by default (all in the community tier, see the module table)."""


def get_coinmetrics(
    metrics: Sequence[str] = DEFAULT_API_METRICS,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    base_url: str = COMMUNITY_BASE_URL,
    api_key: str | None = None,
    *,
    page_size: int = 10_000,
    max_pages: int = 1_000,
    client: HttpClient | None = None,
    options: HttpOptions | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Daily BTC metrics from the Coin Metrics API v4, parsed to hashrisk's daily columns.

    ``GET {base_url}/timeseries/asset-metrics?assets=btc&metrics=...&frequency=1d&page_size=...
    &paging_from=start[&start_time=...&end_time=...]``; the answer is
    ``{"data": [{"asset": "btc", "time": "2020-01-01T00:00:00.000000000Z", "PriceUSD": "7193.2", ...}],
    "next_page_url": "..."}`` with values as strings, and ``next_page_url`` (fetched unmodified) while more
    pages remain. The rows go through :func:`parse_coinmetrics_frame`.

    Parameters
    ----------
    metrics : sequence of str, optional
        CM metric ids (see the module table for those hashrisk maps).
    start, end : date or ISO string, optional
        Inclusive UTC days.
    base_url : str, optional
        API root: the community API, or ``https://api.coinmetrics.io/v4`` with an `api_key`.
    api_key : str, optional
        Pro API key (sent as the ``api_key`` query parameter; hidden in messages and metadata).
    page_size : int, optional
        Rows per page, 1..10,000.
    max_pages : int, optional
        Safety stop on the number of pages.
    client : HttpClient, optional
        Existing client (left open; carries its own key and rate limit).
    options : HttpOptions, optional
        Options of a new client. Without an `api_key` it is rate-limited to the community limit
        (10 requests per 6 s) unless ``options.rate_limit`` says otherwise.

    Returns
    -------
    frame : pandas.DataFrame
        UTC daily index ``date``; ``price_usd`` [USD/BTC], ``hashrate_ths`` [TH/s], ``difficulty``,
        ``blocks`` [blocks/day], ``fees_btc`` [BTC/day], ``subsidy_btc`` [BTC/day].
    meta : dict
        Provenance (URLs, pages, retrieval time, licence) and the parser's ``columns``/``derived``.

    Raises
    ------
    DataError
        HTTP failure (with the API's error message), a page that is not the documented shape, or values
        the parser rejects (the record names the page URL, the day and the metric).
    """
    names = [str(m) for m in metrics]
    if not names or any(not m.replace("_", "").replace("-", "").isalnum() for m in names):
        raise InputError("metrics", names, "one or more Coin Metrics metric ids such as 'PriceUSD'")
    if not 1 <= page_size <= 10_000:
        raise InputError("page_size", page_size, "an integer in [1, 10000]")
    params: dict[str, str] = {
        "assets": "btc",
        "metrics": ",".join(names),
        "frequency": "1d",
        "page_size": str(page_size),
        "paging_from": "start",
    }
    for key, value in (("start_time", start), ("end_time", end)):
        if value is not None:
            params[key] = as_date(value, key).isoformat()
    http, owned = open_client(
        SOURCE_NAME,
        base_url,
        client,
        options,
        params={"api_key": api_key} if api_key else None,
        default_rate_limit=None if api_key else COINMETRICS_COMMUNITY_RATE,
    )
    rows: list[Any] = []
    urls: list[str] = []
    try:
        next_url: str | None = "/timeseries/asset-metrics"
        query: dict[str, str] | None = params
        while next_url is not None:
            if len(urls) >= max_pages:
                raise PayloadError(SOURCE_NAME, urls[-1], "next_page_url", f"more than {max_pages} pages")
            url = http.url_for(next_url)
            urls.append(url)
            page = require_mapping(http.get_json(next_url, params=query), SOURCE_NAME, url, "<body>")
            if "error" in page:
                raise PayloadError(SOURCE_NAME, url, "error", repr(page["error"]))
            data = require_list(page.get("data"), SOURCE_NAME, url, "data")
            for i, row in enumerate(data):
                require_mapping(row, SOURCE_NAME, url, f"data[{i}]")
            rows.extend(data)
            link = page.get("next_page_url")
            if link is not None and not isinstance(link, str):
                raise PayloadError(SOURCE_NAME, url, "next_page_url", f"expected a URL string, got {link!r}")
            next_url, query = (link or None), None
        meta = source_meta(SOURCE_NAME, urls, http, pages=len(urls), metrics=names)
    finally:
        if owned:
            http.close()
    shown = meta["urls"][0]
    if not rows:
        empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in OUTPUT_COLUMNS})
        empty.index = pd.DatetimeIndex([], tz="UTC", name="date")
        meta.update(rows=0, licence=LICENCE)
        return empty, meta
    table = pd.DataFrame.from_records(rows)
    try:
        frame, parsed = parse_coinmetrics_frame(table, SOURCE_NAME, origin=shown)
    except InputError as exc:
        raise PayloadError(SOURCE_NAME, shown, "data", str(exc)) from None
    return frame.sort_index(), {**parsed, **meta}
