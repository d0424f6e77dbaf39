"""The store's schema: tables, columns, migrations, and the coercion and validation of frames.

Pure (no database, no I/O): :mod:`hashrisk.data.store` applies :data:`MIGRATIONS` and writes frames checked
by :func:`validate_frame`; connectors and file readers parse their inputs with :func:`coerce_frame` and the
table :class:`Column` definitions here, so every value is checked by one set of rules.

Tables (every row carries ``source`` and ``fetched_at``, the UTC time the row was last *changed*):

``daily`` — one row per (UTC day, source), primary key ``(date, source)``:

=============  =========  ==============================================================
column         type       meaning [unit]
=============  =========  ==============================================================
date           DATE       UTC calendar day
source         VARCHAR    where the row comes from (``coinmetrics``, ``blockchain``, ...)
price_usd      DOUBLE     BTC price [USD/BTC] (Coin Metrics ``PriceUSD``, the day's close)
hashrate_ths   DOUBLE     mean network hashrate of the day [TH/s]
difficulty     DOUBLE     mean difficulty of the day's blocks [dimensionless]
blocks         INTEGER    blocks mined that UTC day [blocks/day]
fees_btc       DOUBLE     transaction fees paid that day [BTC/day]
subsidy_btc    DOUBLE     new issuance (block subsidies) that day [BTC/day], *not* per block
fetched_at     TIMESTAMP  UTC time the row was written or last changed
=============  =========  ==============================================================

``blocks`` — one row per height: ``height`` BIGINT, ``hash`` (64 hex chars), ``time`` and
``mediantime`` (TIMESTAMP, UTC), ``bits`` (compact target, 8 hex chars), ``difficulty`` DOUBLE,
``chainwork`` (cumulative work, 64 hex chars, zero-padded), ``subsidy_sats`` and ``fees_sats`` [sats]
BIGINT, ``tx_count`` INTEGER, ``source``, ``fetched_at``.

``retargets`` — one row per difficulty period: ``height`` (first height of the period, a multiple of
2016), ``time`` (UTC time of that block), ``bits``, ``difficulty``, ``target`` (256-bit, 64 hex chars),
``adjustment`` (new difficulty / previous difficulty [ratio]), ``source``, ``fetched_at``.

256-bit integers (``chainwork``, ``target``) are stored as zero-padded 64-character lowercase hex strings,
so that text order is numeric order; frames read back hold them as Python ints. On input they may be
Python/NumPy ints, decimal strings, or ``0x``-prefixed hex strings (a string without ``0x`` is decimal;
Bitcoin Core's hex ``chainwork`` must be given as ``int(x, 16)`` or ``"0x" + x``).

Dates and times are chain dates: a day from the genesis block's (2009-01-03) to today (UTC), a time up to
two hours after now (the consensus limit on block times); :func:`coerce_column` refuses anything else, in
file imports and fetched batches alike (every write goes through :func:`validate_frame`). CSV files are
checked whole before they are parsed (:func:`read_csv_records`: no record cut short), JSON with
:func:`loads_json` (finite numbers only).

Source names understood by the preference order (:data:`SOURCE_PREFERENCE`): ``coinmetrics`` >
``blockchain`` > ``mempool`` > any other (alphabetical). File imports without a known source use
``file:<name>``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from hashrisk.chain.subsidy import GENESIS_DATE
from hashrisk.constants import RETARGET_INTERVAL_BLOCKS
from hashrisk.errors import InputError

TableName = Literal["daily", "blocks", "retargets", "miners"]
TABLES: tuple[TableName, ...] = ("daily", "blocks", "retargets", "miners")
SOURCE_PREFERENCE: tuple[str, ...] = ("coinmetrics", "blockchain", "mempool")
"""Preferred daily sources, best first; any other source ranks after these (alphabetically)."""
MAX_FUTURE_BLOCK_TIME_S = 2 * 60 * 60
"""A block's time may be at most this far after the network's time (consensus rule) [s]; the latest time a
stored timestamp may have, after now."""


# ---------------------------------------------------------------------------------------------- schema
@dataclass(frozen=True)
class Migration:
    """One schema step: applied in order, each in its own transaction, recorded in ``schema_version``."""

    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "daily, blocks and retargets tables",
        (
            """CREATE TABLE daily (
                date DATE NOT NULL,
                source VARCHAR NOT NULL,
                price_usd DOUBLE,
                hashrate_ths DOUBLE,
                difficulty DOUBLE,
                blocks INTEGER,
                fees_btc DOUBLE,
                subsidy_btc DOUBLE,
                fetched_at TIMESTAMP NOT NULL,
                PRIMARY KEY (date, source))""",
            """CREATE TABLE blocks (
                height BIGINT PRIMARY KEY,
                hash VARCHAR,
                time TIMESTAMP,
                mediantime TIMESTAMP,
                bits VARCHAR,
                difficulty DOUBLE,
                chainwork VARCHAR,
                subsidy_sats BIGINT,
                fees_sats BIGINT,
                tx_count INTEGER,
                source VARCHAR NOT NULL,
                fetched_at TIMESTAMP NOT NULL)""",
            """CREATE TABLE retargets (
                height BIGINT PRIMARY KEY,
                time TIMESTAMP,
                bits VARCHAR,
                difficulty DOUBLE,
                target VARCHAR,
                adjustment DOUBLE,
                source VARCHAR NOT NULL,
                fetched_at TIMESTAMP NOT NULL)""",
        ),
    ),
    Migration(
        2,
        "imports log (one row per written batch)",
        (
            """CREATE TABLE imports (
                imported_at TIMESTAMP NOT NULL,
                tbl VARCHAR NOT NULL,
                source VARCHAR NOT NULL,
                origin VARCHAR,
                rows_in BIGINT NOT NULL,
                rows_changed BIGINT NOT NULL)""",
        ),
    ),
    # issue 15: pool attribution and coinbase flows from the user's node (hashrisk.data.coinbase)
    Migration(
        3,
        "block_pools, coinbase_outputs and coinbase_spends tables (node's coinbase flows)",
        (
            """CREATE TABLE block_pools (
                height BIGINT PRIMARY KEY,
                hash VARCHAR NOT NULL,
                time TIMESTAMP NOT NULL,
                pool VARCHAR NOT NULL,
                coinbase_tag VARCHAR,
                coinbase_sats BIGINT NOT NULL,
                source VARCHAR NOT NULL,
                fetched_at TIMESTAMP NOT NULL)""",
            """CREATE TABLE coinbase_outputs (
                txid VARCHAR NOT NULL,
                vout INTEGER NOT NULL,
                height BIGINT NOT NULL,
                value_sats BIGINT NOT NULL,
                address VARCHAR,
                pool VARCHAR NOT NULL,
                source VARCHAR NOT NULL,
                fetched_at TIMESTAMP NOT NULL,
                PRIMARY KEY (txid, vout))""",
            """CREATE TABLE coinbase_spends (
                txid VARCHAR NOT NULL,
                vout INTEGER NOT NULL,
                spend_txid VARCHAR NOT NULL,
                height BIGINT NOT NULL,
                time TIMESTAMP NOT NULL,
                n_outputs INTEGER NOT NULL,
                value_out_sats BIGINT NOT NULL,
                n_to_pool INTEGER NOT NULL,
                value_to_pool_sats BIGINT NOT NULL,
                source VARCHAR NOT NULL,
                fetched_at TIMESTAMP NOT NULL,
                PRIMARY KEY (txid, vout))""",
        ),
    ),
    # issue 13: listed miners' XBRL facts from SEC EDGAR (hashrisk.data.edgar; spec MINERS below)
    Migration(
        4,
        "miners table (listed miners' SEC EDGAR XBRL facts)",
        (
            """CREATE TABLE miners (
                fact VARCHAR PRIMARY KEY,
                cik BIGINT,
                concept VARCHAR,
                period_end DATE,
                unit VARCHAR,
                value DOUBLE,
                form VARCHAR,
                filed DATE,
                fiscal_year INTEGER,
                fiscal_period VARCHAR,
                accession VARCHAR,
                frame VARCHAR,
                source VARCHAR NOT NULL,
                fetched_at TIMESTAMP NOT NULL)""",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1].version
ONCHAIN_TABLES: tuple[str, ...] = ("block_pools", "coinbase_outputs", "coinbase_spends")
"""Tables of the node's coinbase flows (migration 3; written and rolled back by `hashrisk.data.coinbase`):
``block_pools`` one row per scanned block (pool by coinbase tag/addresses, ``unknown`` when none matches);
``coinbase_outputs`` one row per coinbase output with a value (txid, vout, height, value_sats, address, pool);
``coinbase_spends`` one row per spent coinbase output (the spending txid, its height and time, and a summary of
its outputs: count, total, and the part sent to addresses of the same pool) [sats]."""


# ---------------------------------------------------------------------------------------------- columns
ColumnKind = Literal["date", "timestamp", "float", "int", "hash", "bits", "u256", "text"]


@dataclass(frozen=True)
class Column:
    """A typed, validated column of a store table.

    ``minimum`` is inclusive unless ``strict`` (then values must be > minimum).
    """

    name: str
    kind: ColumnKind
    allowed: str
    sql: str
    minimum: float | None = 0.0
    strict: bool = False
    multiple_of: int | None = None


@dataclass(frozen=True)
class TableSpec:
    """Key and value columns of a store table."""

    name: TableName
    key: Column
    values: tuple[Column, ...]
    source_in_key: bool
    nulls_keep_stored: bool = False
    """When True a missing value (NaN/None) in a batch never erases a stored one (merge semantics)."""

    @property
    def columns(self) -> tuple[Column, ...]:
        return (self.key, *self.values)

    def column(self, name: str) -> Column:
        return {c.name: c for c in self.columns}[name]


_TIMESTAMP = "a UTC date-time (ISO string, datetime or unix seconds)"
DAILY = TableSpec(
    "daily",
    Column(
        "date",
        "date",
        f"a UTC calendar day (ISO date, time 00:00 if given) from {GENESIS_DATE} (the genesis block) to today",
        "DATE",
        None,
    ),
    (
        Column("price_usd", "float", "a finite price > 0 [USD/BTC], or empty", "DOUBLE", 0.0, strict=True),
        Column("hashrate_ths", "float", "a finite hashrate >= 0 [TH/s], or empty", "DOUBLE"),
        Column("difficulty", "float", "a finite difficulty > 0, or empty", "DOUBLE", 0.0, strict=True),
        Column("blocks", "int", "a whole number >= 0 of blocks per UTC day, or empty", "INTEGER"),
        Column("fees_btc", "float", "finite fees >= 0 [BTC/day], or empty", "DOUBLE"),
        Column("subsidy_btc", "float", "finite issuance >= 0 [BTC/day], or empty", "DOUBLE"),
    ),
    source_in_key=True,
    nulls_keep_stored=True,
)
BLOCKS = TableSpec(
    "blocks",
    Column("height", "int", "a whole block height >= 0", "BIGINT"),
    (
        Column("hash", "hash", "a block hash of 64 hex characters", "VARCHAR"),
        Column("time", "timestamp", _TIMESTAMP, "TIMESTAMP", None),
        Column("mediantime", "timestamp", _TIMESTAMP, "TIMESTAMP", None),
        Column("bits", "bits", "a compact target (int or hex string of <= 8 hex digits)", "VARCHAR"),
        Column("difficulty", "float", "a finite difficulty > 0", "DOUBLE", 0.0, strict=True),
        Column("chainwork", "u256", "an integer 0 <= x < 2**256 (int, decimal or 0x-hex string)", "VARCHAR"),
        Column("subsidy_sats", "int", "a whole number of sats >= 0", "BIGINT"),
        Column("fees_sats", "int", "a whole number of sats >= 0", "BIGINT"),
        Column("tx_count", "int", "a whole number of transactions >= 0", "INTEGER"),
    ),
    source_in_key=False,
)
RETARGETS = TableSpec(
    "retargets",
    Column(
        "height",
        "int",
        "a retarget height: a whole multiple of 2016, >= 0",
        "BIGINT",
        multiple_of=RETARGET_INTERVAL_BLOCKS,
    ),
    (
        Column("time", "timestamp", _TIMESTAMP, "TIMESTAMP", None),
        Column("bits", "bits", "a compact target (int or hex string of <= 8 hex digits)", "VARCHAR"),
        Column("difficulty", "float", "a finite difficulty > 0", "DOUBLE", 0.0, strict=True),
        Column("target", "u256", "an integer 0 < x < 2**256 (int, decimal or 0x-hex string)", "VARCHAR"),
        Column(
            "adjustment",
            "float",
            "a finite ratio > 0 (new / previous difficulty)",
            "DOUBLE",
            0.0,
            strict=True,
        ),
    ),
    source_in_key=False,
)
_TEXT = "printable text of 1 to 200 characters"
MINERS = TableSpec(
    "miners",
    Column(
        "fact",
        "text",
        "an EDGAR fact id CIK:taxonomy:Concept:YYYY-MM-DD:unit (hashrisk.data.edgar.fact_id)",
        "VARCHAR",
        None,
    ),
    (
        Column("cik", "int", "a whole SEC Central Index Key >= 1", "BIGINT", 1.0),
        Column("concept", "text", f"an XBRL concept taxonomy:Name, {_TEXT}", "VARCHAR", None),
        Column("period_end", "date", "the UTC day the reported balance refers to", "DATE", None),
        Column("unit", "text", f"an XBRL unit (USD, BTC, ...), {_TEXT}", "VARCHAR", None),
        Column("value", "float", "a finite number, in `unit`", "DOUBLE", None),
        Column("form", "text", f"the SEC form (10-K, 10-Q, 20-F, 40-F, ...), {_TEXT}", "VARCHAR", None),
        Column("filed", "date", "the UTC day the filing was made", "DATE", None),
        Column("fiscal_year", "int", "a fiscal year (whole number), or empty", "INTEGER", 0.0),
        Column("fiscal_period", "text", f"FY, Q1, Q2, Q3, H1, ... ({_TEXT}), or empty", "VARCHAR", None),
        Column("accession", "text", f"an EDGAR accession number, {_TEXT}", "VARCHAR", None),
        Column("frame", "text", f"an XBRL frame (CY2024Q4I), {_TEXT}, or empty", "VARCHAR", None),
    ),
    source_in_key=False,
)
"""Listed miners' XBRL facts from SEC EDGAR company facts (:mod:`hashrisk.data.edgar`, migration 4): one row
per (cik, concept, period_end, unit), encoded in the single key ``fact`` so that `Store.upsert` applies as
for the other tables; the filing it was last reported in (``form``, ``filed``, ``accession``,
``fiscal_year``, ``fiscal_period``) is its provenance. Money in ``unit`` as filed (USD, CNY, ...), counts in
the filer's unit (BTC, ...)."""
SPECS: dict[str, TableSpec] = {s.name: s for s in (DAILY, BLOCKS, RETARGETS, MINERS)}


# ---------------------------------------------------------------------------------------------- validation
def _record(keys: pd.Series, key_name: str, pos: int, line_offset: int | None) -> str:
    where = f"line {pos + line_offset}" if line_offset is not None else f"row {pos}"
    key = keys.iloc[pos] if pos < len(keys) else None
    if key is None or key is pd.NaT or (isinstance(key, float) and math.isnan(key)):
        return where
    if isinstance(key, pd.Timestamp):
        key = key.date().isoformat() if key == key.floor("D") else key.isoformat()
    return f"{key_name}={key} ({where})"


@dataclass(frozen=True)
class Where:
    """How :func:`coerce_column` names a bad value: field, record key, and the batch it belongs to.

    ``keys`` holds one key per row (parsed or raw), ``key_name`` names it (``date``, ``height``),
    ``context`` is appended to the record (``" of source 'x'"``, ``" in file.csv"``) and
    ``line_offset``, when given, turns 0-based row positions into file line numbers.
    """

    field: str
    keys: pd.Series
    key_name: str
    context: str = ""
    line_offset: int | None = None


def _fail(col: Column, where: Where, raw: pd.Series, mask: Any, allowed: str | None = None) -> None:
    """Raise the InputError for the first True of `mask` (a boolean array), if any."""
    bad = np.flatnonzero(np.asarray(mask, dtype=bool))
    if bad.size == 0:
        return
    pos = int(bad[0])
    value = raw.iloc[pos]
    if isinstance(value, np.generic):
        value = value.item()
    extra = f"; {bad.size} bad values in all" if bad.size > 1 else ""
    record = _record(where.keys, where.key_name, pos, where.line_offset)
    raise InputError(
        where.field,
        value,
        allowed or col.allowed,
        hint=f"record {record}{where.context}{extra}; nothing was written",
    )


def chain_time_bounds(kind: Literal["date", "timestamp"]) -> tuple[pd.Timestamp, pd.Timestamp, str]:
    """First and last allowed value (naive UTC) of a stored day or time, and the rule in words.

    Days run from the genesis block's day (2009-01-03) to today (UTC); times from the start of that day to
    :data:`MAX_FUTURE_BLOCK_TIME_S` after now (the consensus limit on a block's time).
    """
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    first = pd.Timestamp(GENESIS_DATE)
    if kind == "date":
        last = now.floor("D")
        return first, last, f"a UTC day from {GENESIS_DATE} (the genesis block) to {last.date()} (today, UTC)"
    last = now + pd.Timedelta(seconds=MAX_FUTURE_BLOCK_TIME_S)
    return first, last, f"a UTC time from {GENESIS_DATE} (the genesis block) to 2 hours after now"


def _blank_to_na(raw: pd.Series) -> pd.Series:
    if raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype):
        blank = raw.astype("string").str.strip().eq("").fillna(False).to_numpy(dtype=bool)
        if blank.any():
            return raw.astype(object).where(~blank, None)
    return raw


def _to_utc_naive(values: pd.Series) -> pd.Series:
    """Convert to tz-naive UTC datetime64[us]; unparseable entries become NaT."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        out = pd.to_datetime(values.astype("float64"), unit="s", utc=True, errors="coerce")
    else:
        out = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    return out.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")


def _parse_u256(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, str):
        text = value.strip().lower()
        try:
            return int(text[2:], 16) if text.startswith("0x") else int(text, 10)
        except ValueError:
            return None
    return None


def _parse_bits(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip().lower().removeprefix("0x")
        if 0 < len(text) <= 8:
            try:
                return int(text, 16)
            except ValueError:
                return None
    return None


_HEX = frozenset("0123456789abcdef")


def _canonical(col: Column, value: Any) -> str | int | None:
    """Canonical form of a hash / bits (lowercase hex text) or 256-bit value (Python int); None if not allowed."""
    if col.kind == "text":
        text = value.strip() if isinstance(value, str) else ""
        return text if 0 < len(text) <= 200 and text.isprintable() else None
    if col.kind == "hash":
        text = value.strip().lower() if isinstance(value, str) else ""
        return text if len(text) == 64 and set(text) <= _HEX else None
    if col.kind == "bits":
        bits = _parse_bits(value)
        return f"{bits:08x}" if bits is not None and 0 <= bits < 2**32 else None
    number = _parse_u256(value)
    if number is None or not 0 <= number < 2**256 or (col.strict and number == 0):
        return None
    return number


def u256_hex(values: pd.Series) -> pd.Series:
    """Python ints -> zero-padded 64-digit lowercase hex text (the stored form)."""
    return pd.Series(
        [None if v is None else f"{v:064x}" for v in values.tolist()], dtype=object, index=values.index
    )


def coerce_column(col: Column, raw: pd.Series, where: Where) -> pd.Series:
    """Validate and convert one column to its canonical type.

    Parameters
    ----------
    col : Column
        Kind (``date``, ``timestamp``, ``float``, ``int``, ``hash``, ``bits``, ``u256``), bounds and the
        plain-language ``allowed`` text used in errors.
    raw : pandas.Series
        Values as read (numbers, numeric strings with any number of decimals, ISO dates, unix seconds for
        timestamps). Empty strings and NaN/None are missing values, which are always allowed; the text
        ``"NaN"`` or ``"inf"`` is a value, refused where a finite number is required. Dates and times must lie
        in :func:`chain_time_bounds` (genesis day .. today / now + 2 h).
    where : Where
        How to name a bad value in the error.

    Returns
    -------
    pandas.Series
        ``datetime64[us]`` (tz-naive UTC) for dates/timestamps, ``float64`` for floats, ``Int64`` for
        ints, Python ``str``/None (object) for hash and bits (8 hex digits), Python ``int``/None (object)
        for u256.

    Raises
    ------
    InputError
        For the first bad value: field, value, record and what is allowed.
    """
    raw = _blank_to_na(raw.reset_index(drop=True))
    present = raw.notna().to_numpy()
    if col.kind in ("date", "timestamp"):
        out = _to_utc_naive(raw)
        _fail(col, where, raw, present & out.isna().to_numpy())
        if col.kind == "date":
            _fail(col, where, raw, (out.notna() & out.ne(out.dt.floor("D"))).to_numpy())
        first, last, allowed = chain_time_bounds(col.kind)
        _fail(col, where, raw, (out.notna() & ((out < first) | (out > last))).to_numpy(), allowed)
        return out
    if col.kind in ("float", "int"):
        exact_ints = col.kind == "int" and pd.api.types.is_integer_dtype(raw.dtype)
        num = raw.astype("float64") if exact_ints else pd.to_numeric(raw, errors="coerce").astype("float64")
        arr = num.to_numpy()
        _fail(col, where, raw, present & ~np.isfinite(arr))
        if col.minimum is not None:
            with np.errstate(invalid="ignore"):
                low = arr <= col.minimum if col.strict else arr < col.minimum
            _fail(col, where, raw, present & low)
        if col.kind == "float":
            return num
        with np.errstate(invalid="ignore"):
            _fail(col, where, raw, present & (np.floor(arr) != arr))
            if col.multiple_of:
                _fail(col, where, raw, present & (np.mod(arr, col.multiple_of) != 0))
        return raw.astype("Int64") if exact_ints else num.round().astype("Int64")
    values = [_canonical(col, v) if ok else None for v, ok in zip(raw.tolist(), present, strict=True)]
    _fail(col, where, raw, present & np.array([v is None for v in values], dtype=bool))
    return pd.Series(values, dtype=object)


def validate_frame(frame: pd.DataFrame, table: TableName, source: str = "?") -> pd.DataFrame:
    """Check and normalise a batch for `table`, raising before anything is written.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows to write. The key (``date`` for daily, ``height`` otherwise) may be a column or the index.
        Columns must be a subset of the table's columns (see the module docstring for units); absent
        columns are left untouched on existing rows and empty on new ones.
    table : {"daily", "blocks", "retargets"}
        Target table.
    source : str
        Source name, used in error messages.

    Returns
    -------
    pandas.DataFrame
        Normalised columns in table order (key first), sorted by key, with a fresh RangeIndex.

    Raises
    ------
    InputError
        Unknown or missing columns, unparseable or out-of-range values, duplicate keys. The message
        names the field, the value, the record and what is allowed.
    """
    spec = SPECS[table]
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{table} frame", type(frame).__name__, "a pandas DataFrame")
    key = spec.key.name
    if key not in frame.columns and (frame.index.name == key or isinstance(frame.index, pd.DatetimeIndex)):
        frame = frame.reset_index(names=key)
    frame = frame.drop(columns=[c for c in ("source", "fetched_at") if c in frame.columns])
    known = [c.name for c in spec.columns]
    unknown = [str(c) for c in frame.columns if c not in known]
    if unknown:
        raise InputError(f"{table} columns", unknown, f"a subset of {known}", hint=f"source {source!r}")
    if key not in frame.columns:
        raise InputError(f"{table} columns", [str(c) for c in frame.columns], f"must include the key {key!r}")
    out = coerce_frame(
        frame,
        key,
        spec.key,
        {c.name: c for c in spec.values if c.name in frame.columns},
        label=f"{table}.",
        context=f" of source {source!r}",
    )
    return out.sort_values(key, kind="stable").reset_index(drop=True)


def coerce_frame(
    frame: pd.DataFrame,
    key: str,
    key_col: Column,
    values: dict[str, Column],
    *,
    label: str,
    context: str = "",
    line_offset: int | None = None,
    unique: bool = True,
) -> pd.DataFrame:
    """Convert the key and value columns of `frame` with :func:`coerce_column`; keys must be present.

    Parameters
    ----------
    frame : pandas.DataFrame
        Raw rows (for example a CSV as read).
    key : str
        Name of the key column in `frame`.
    key_col : Column
        How to parse the key; the output key column is named ``key_col.name``.
    values : dict[str, Column]
        Column of `frame` -> how to parse it; output columns are named ``Column.name``.
    label : str
        Prefix of the field named in errors (``"daily."``, ``"btc.csv: "``); the frame's column name follows.
    context, line_offset
        See :class:`Where`.
    unique : bool
        Require each key once (set False when the caller checks a compound key itself).

    Returns
    -------
    pandas.DataFrame
        Converted columns (key first), in the input row order, with a RangeIndex.
    """
    raw_keys = frame[key].reset_index(drop=True)
    where = Where(f"{label}{key}", raw_keys, key_col.name, context, line_offset)
    keys = coerce_column(key_col, raw_keys, where)
    _fail(key_col, where, raw_keys, keys.isna().to_numpy())
    if unique:
        check_unique(keys, where)
    out = pd.DataFrame({key_col.name: keys})
    for name, col in values.items():
        where = Where(f"{label}{name}", keys, key_col.name, context, line_offset)
        out[col.name] = coerce_column(col, frame[name], where)
    return out


def split_derived(
    frame: pd.DataFrame, derived: pd.DataFrame, spec: TableSpec
) -> list[tuple[pd.DataFrame, Literal["replace", "fill"]]]:
    """Split a batch into its measured cells (replace) and its derived cells (fill only).

    `derived` is a boolean frame with the index of `frame` (True = a cell computed from other values).
    """
    if not isinstance(derived, pd.DataFrame) or not derived.index.equals(frame.index):
        raise InputError(
            "derived", type(derived).__name__, "a boolean DataFrame with the same index as the frame"
        )
    values = [c for c in frame.columns if c in derived.columns and c != spec.key.name]
    mask = derived.loc[:, values].fillna(False).astype(bool)
    measured, filled = frame.copy(), frame.copy()
    measured[values] = frame[values].mask(mask)
    filled[values] = frame[values].where(mask)
    others = [
        c for c in frame.columns if c not in values and c not in (spec.key.name, "source", "fetched_at")
    ]
    return [(measured, "replace"), (filled.drop(columns=others), "fill")]


def check_unique(keys: pd.Series, where: Where) -> None:
    """Raise InputError naming the first duplicated key of `keys`."""
    dup = keys.duplicated().to_numpy()
    if dup.any():
        pos = int(np.flatnonzero(dup)[0])
        value = where.keys.iloc[pos]
        raise InputError(
            where.field,
            value.item() if isinstance(value, np.generic) else value,
            "unique keys (each appears once per batch)",
            hint=f"record {_record(where.keys, where.key_name, pos, where.line_offset)}{where.context} "
            "is duplicated; nothing was written",
        )


def check_source(source: str) -> str:
    """The stripped source name; InputError unless it is a non-empty printable name of <= 100 characters."""
    if not isinstance(source, str) or not source.strip() or len(source) > 100 or not source.isprintable():
        raise InputError("source", source, "a non-empty printable name of at most 100 characters")
    return source.strip()


def as_date(value: str | dt.date | dt.datetime | pd.Timestamp, field: str = "date") -> dt.date:
    """The UTC day of `value` (a date, a datetime, or an ISO string whose first 10 characters are a date).

    Raises
    ------
    InputError
        Naming `field` when `value` is not a day.
    """
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise InputError(field, value, "an ISO date YYYY-MM-DD") from None


# ---------------------------------------------------------------------------------------------- CSV records
def _preview(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_csv_records(data: bytes | str, origin: str) -> pd.DataFrame:
    """Parse a CSV file's content into a frame of text cells, after checking that every record is whole.

    A file cut short (a partial download, a full disk, a copy interrupted) must never reach the store: a
    value cut inside its field (a price of 64908.1 cut to 64) looks valid on its own. So:

    - every record has exactly as many fields as the header (a short row is named by its first missing
      field, a long one by its line);
    - the last line ends with a line break. A final line without one is refused even when it has all its
      fields, because the cut may have shortened its last field; if the line is complete, add the line break;
    - the text is UTF-8 without NUL bytes, quotes are closed, header names are unique.

    Cells are returned as text (``str``), an empty cell as missing; nothing else is read as missing, so that
    ``NaN``, ``inf`` or ``NA`` reach :func:`coerce_column` and are refused where a number is required.

    Parameters
    ----------
    data : bytes or str
        The file's content (a UTF-8 BOM is allowed).
    origin : str
        The file's name, for errors.

    Returns
    -------
    pandas.DataFrame
        One column per header name, one row per record (blank lines skipped), all cells ``str`` or NaN.

    Raises
    ------
    InputError
        Naming the file, the line and the field, with what is allowed; nothing is read past the error.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise InputError(
                f"{origin}: line {line}", data[exc.start : exc.start + 8], "UTF-8 text", hint=exc.reason
            ) from None
    else:
        text = data.removeprefix("\ufeff")
    text = text.rstrip(" \t")  # spaces after the last line break are no line
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise InputError(
            f"{origin}: line {line}",
            "a NUL byte",
            "CSV text without NUL bytes",
            hint="the file looks damaged",
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [c.strip() for c in next((r for r in reader if r), [])]
        if not header:
            raise InputError(f"{origin}: header", "", "a header line naming the columns")
        dup = next((c for c in header if header.count(c) > 1), None)
        if dup is not None:
            raise InputError(f"{origin}: header", dup, "unique column names", hint="line 1")
        _check_last_line(origin, text, header)
        for record in reader:
            if record and len(record) != len(header):
                _bad_record(origin, reader.line_num, header, record)
    except csv.Error as exc:
        raise InputError(
            f"{origin}: line {reader.line_num}", str(exc), "well-formed CSV (every quoted field closed)"
        ) from None
    return pd.read_csv(
        io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], skip_blank_lines=True
    )


def _check_last_line(origin: str, text: str, header: list[str]) -> None:
    """Raise the InputError for a file whose last data line has no line break (a file cut short)."""
    tail = text
    if not tail.rstrip().count("\n") + tail.rstrip().count("\r") or tail.endswith(("\n", "\r")):
        return  # a header alone, or a terminated last line
    start = max(tail.rfind("\n"), tail.rfind("\r")) + 1
    last = next(csv.reader([tail[start:]]), [])
    column = header[min(len(last), len(header)) - 1] if last else header[0]
    line = (tail.count("\n") or tail.count("\r")) + 1
    raise InputError(
        f"{origin}: line {line}, field {column}",
        last[-1] if last else "",
        "a complete last line, ending with a line break",
        hint=f"the file ends inside this line ({len(last)} of {len(header)} fields) and looks cut short; "
        "a cut can shorten the last field without a trace (64908.1 -> 64). If the line is complete, add a "
        "line break at the end; nothing was written",
    )


def _bad_record(origin: str, line: int, header: list[str], record: list[str]) -> None:
    """Raise the InputError for a record whose field count differs from the header's."""
    fields = f"{len(header)} fields like the header ({_preview(','.join(header), 120)})"
    shown = _preview(",".join(record))
    if len(record) > len(header):
        raise InputError(
            f"{origin}: line {line}",
            shown,
            f"a complete record of {fields}",
            hint=f"it has {len(record)} fields (an unquoted comma?); nothing was written",
        )
    raise InputError(
        f"{origin}: line {line}, field {header[len(record)]}",
        shown,
        f"a complete record of {fields}",
        hint=f"it has {len(record)}: the line is cut short; nothing was written",
    )


# ---------------------------------------------------------------------------------------------- JSON
def _json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _json_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} does not fit a finite double")
    return value


def loads_json(data: bytes | str) -> Any:
    """Parse JSON strictly: only finite numbers (``NaN``, ``Infinity`` and ``1e999`` are refused).

    Raises
    ------
    json.JSONDecodeError
        Malformed or truncated JSON (``msg``, ``pos``, ``lineno``, ``colno`` say where).
    ValueError
        A non-finite number.
    UnicodeDecodeError
        Bytes that are not UTF-8 (a UTF-8 BOM is allowed).
    """
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig")
    return json.loads(data, parse_constant=_json_constant, parse_float=_json_float)
