"""The embedded DuckDB store: daily network series, blocks and retargets, with provenance per row.

One DuckDB file, ``<home>/hashrisk.duckdb``, where ``home`` is the ``home`` argument, else the
``HASHRISK_HOME`` environment variable, else ``platformdirs.user_data_dir("hashrisk")``.

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

Source names understood by the preference order of :meth:`Store.daily_frame`: ``coinmetrics`` >
``blockchain`` > ``mempool`` > any other (alphabetical). File imports without a known source use
``file:<name>``.

Writes are idempotent upserts, validated in full before anything is written, one transaction per batch.
DuckDB locks the file per process: while one process holds it open for writing, a second opener (writer
or reader) retries until ``lock_timeout_s`` and then raises :class:`~hashrisk.errors.DataError`; several
read-only processes may share it. Keep a writable :class:`Store` open only for the duration of a write.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import duckdb
import numpy as np
import pandas as pd
import platformdirs

from hashrisk._json import jsonable
from hashrisk.errors import DataError, InputError

if TYPE_CHECKING:
    from hashrisk.data.snapshot import NetworkSnapshot

log = logging.getLogger(__name__)

DB_FILENAME = "hashrisk.duckdb"
SOURCE_PREFERENCE: tuple[str, ...] = ("coinmetrics", "blockchain", "mempool")
"""Preferred daily sources, best first; any other source ranks after these (alphabetically)."""
GENESIS_DATE = dt.date(2009, 1, 3)
RETARGET_INTERVAL_BLOCKS = 2016
GAPS_CAP = 20
"""At most this many gap ranges are listed per table and source by :meth:`Store.status`."""
_FETCH_HINT = "`hashrisk data import FILE` or `hashrisk data fetch --source coinmetrics`"
TableName = Literal["daily", "blocks", "retargets"]
TABLES: tuple[TableName, ...] = ("daily", "blocks", "retargets")


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
)
SCHEMA_VERSION = MIGRATIONS[-1].version


# ---------------------------------------------------------------------------------------------- columns
ColumnKind = Literal["date", "timestamp", "float", "int", "hash", "bits", "u256"]


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
    Column("date", "date", "a UTC calendar day (ISO date, time 00:00 if given)", "DATE", None),
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
SPECS: dict[str, TableSpec] = {s.name: s for s in (DAILY, BLOCKS, RETARGETS)}


# ---------------------------------------------------------------------------------------------- paths
def default_home(home: str | os.PathLike[str] | None = None) -> Path:
    """The hashrisk data folder: `home` if given, else ``$HASHRISK_HOME``, else the user data dir.

    Parameters
    ----------
    home : path-like, optional
        Explicit folder (``--home DIR`` on the command line).

    Returns
    -------
    pathlib.Path
        The folder (not created here). The store file is ``<home>/hashrisk.duckdb``.
    """
    if home is not None and str(home) != "":
        return Path(home).expanduser()
    env = os.environ.get("HASHRISK_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("hashrisk"))


def store_path(home: str | os.PathLike[str] | None = None) -> Path:
    """Path of the DuckDB file inside :func:`default_home`."""
    return default_home(home) / DB_FILENAME


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


def _fail(col: Column, where: Where, raw: pd.Series, mask: Any) -> None:
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
        where.field, value, col.allowed, hint=f"record {record}{where.context}{extra}; nothing was written"
    )


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


def _u256_hex(values: pd.Series) -> pd.Series:
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
        timestamps). Empty strings and NaN/None are missing values, which are always allowed.
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


def _split_derived(
    frame: pd.DataFrame, derived: pd.DataFrame, spec: TableSpec
) -> list[tuple[pd.DataFrame, Literal["replace", "fill"]]]:
    """Split a batch into its measured cells (replace) and its derived cells (fill only)."""
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


def _check_source(source: str) -> str:
    if not isinstance(source, str) or not source.strip() or len(source) > 100 or not source.isprintable():
        raise InputError("source", source, "a non-empty printable name of at most 100 characters")
    return source.strip()


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _as_date(value: str | dt.date | dt.datetime | pd.Timestamp, field: str = "date") -> dt.date:
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise InputError(field, value, "an ISO date YYYY-MM-DD") from None


def _is_lock_error(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


def _retry_locked(
    open_fn: Callable[[], duckdb.DuckDBPyConnection], path: Path, timeout_s: float
) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + max(0.0, timeout_s)
    delay = 0.02
    while True:
        try:
            return open_fn()
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise DataError(f"cannot open store {path}: {exc}") from None
            if time.monotonic() >= deadline:
                raise DataError(
                    f"store {path} is locked by another hashrisk process; retry later "
                    f"(waited {timeout_s:g} s)"
                ) from None
            log.debug("store %s locked, retrying in %.2f s", path, delay)
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())) or 0.001)
            delay = min(delay * 2, 0.5)


# ---------------------------------------------------------------------------------------------- store
class Store:
    """The DuckDB store (one file), opened for reading or writing.

    Parameters
    ----------
    home : path-like, optional
        Data folder (see :func:`default_home`); the file is ``<home>/hashrisk.duckdb``.
    read_only : bool
        Open without taking the write lock. A missing file then reads as an empty store (nothing is
        created); a file with an older schema is migrated first by a short writing open.
    lock_timeout_s : float
        How long to retry while another process holds the file [s].

    Raises
    ------
    DataError
        If the file stays locked by another process past `lock_timeout_s`, is not a DuckDB file, or was
        written by a newer hashrisk (unknown schema version).

    Examples
    --------
    >>> with Store(home) as store:                               # doctest: +SKIP
    ...     store.upsert_daily(frame, source="coinmetrics")
    """

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        read_only: bool = False,
        lock_timeout_s: float = 10.0,
    ) -> None:
        self.home = default_home(home)
        self.path = self.home / DB_FILENAME
        self.read_only = read_only
        self.lock_timeout_s = lock_timeout_s
        self._con: duckdb.DuckDBPyConnection | None = None
        self._in_transaction = False
        self._exists = self.path.exists()
        if read_only and not self._exists:
            self._con = duckdb.connect(":memory:")
            self._migrate()
            return
        if not read_only:
            self.home.mkdir(parents=True, exist_ok=True)
        self._con = self._connect(read_only)
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            self.close()
            raise DataError(
                f"store {self.path} has schema version {version}, newer than this hashrisk understands "
                f"({SCHEMA_VERSION}); upgrade hashrisk"
            )
        if version < SCHEMA_VERSION:
            if read_only:  # migrate with a short writing open, then reopen read-only
                self.close()
                with Store(home, read_only=False, lock_timeout_s=lock_timeout_s):
                    pass
                self._con = self._connect(True)
            else:
                self._migrate()

    def _connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        path = str(self.path)

        def open_fn() -> duckdb.DuckDBPyConnection:
            try:
                return duckdb.connect(path, read_only=read_only)
            except duckdb.ConnectionException as exc:
                # this process already holds the file writable: share that instance instead
                if read_only and "different configuration" in str(exc):
                    return duckdb.connect(path, read_only=False)
                raise DataError(f"cannot open store {path}: {exc}") from None

        return _retry_locked(open_fn, self.path, self.lock_timeout_s)

    # ----------------------------------------------------------------------------- plumbing
    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The open DuckDB connection (raises DataError once closed)."""
        if self._con is None:
            raise DataError(f"store {self.path} is closed")
        return self._con

    def close(self) -> None:
        """Close the connection (idempotent); releases the file lock."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"Store({str(self.path)!r}, {mode})"

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()

    def _check_writable(self) -> None:
        if self.read_only:
            raise DataError(f"store {self.path} is open read-only")

    def schema_version(self) -> int:
        """Schema version of the open file (0 for an empty file)."""
        sql = "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
        tables = {r[0] for r in self._fetch(sql)}
        if "schema_version" not in tables:
            if tables & {"daily", "blocks", "retargets"}:
                raise DataError(f"{self.path} holds tables but no schema_version: not a hashrisk store")
            return 0
        row = self._fetch("SELECT max(version) FROM schema_version")[0]
        return int(row[0] or 0)

    def _migrate(self) -> None:
        con = self.con
        current = self.schema_version()
        if current == 0:
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMP)"
            )
        for step in MIGRATIONS:
            if step.version <= current:
                continue
            con.begin()
            try:
                for statement in step.statements:
                    con.execute(statement)
                con.execute(
                    "INSERT INTO schema_version VALUES (?, ?, ?)",
                    [step.version, step.description, _utc_now()],
                )
                con.commit()
            except Exception:
                con.rollback()
                raise
            log.info("store %s migrated to schema version %d", self.path, step.version)

    # ----------------------------------------------------------------------------- writes
    def upsert_daily(
        self, frame: pd.DataFrame, source: str, origin: str | None = None, derived: pd.DataFrame | None = None
    ) -> int:
        """Insert or update daily rows of one `source`; see :meth:`upsert`."""
        return self.upsert("daily", frame, source, origin, derived)

    def upsert_blocks(self, frame: pd.DataFrame, source: str, origin: str | None = None) -> int:
        """Insert or update blocks (keyed by height); see :meth:`upsert`."""
        return self.upsert("blocks", frame, source, origin)

    def upsert_retargets(self, frame: pd.DataFrame, source: str, origin: str | None = None) -> int:
        """Insert or update retarget periods (keyed by first height); see :meth:`upsert`."""
        return self.upsert("retargets", frame, source, origin)

    def upsert(
        self,
        table: TableName,
        frame: pd.DataFrame,
        source: str,
        origin: str | None = None,
        derived: pd.DataFrame | None = None,
    ) -> int:
        """Validate `frame` and write it to `table` in one transaction (all or nothing).

        Rows whose values already equal the stored ones are left untouched (``fetched_at`` included),
        so writing the same batch twice changes nothing. Columns absent from `frame` keep their stored
        values on existing rows. In ``daily`` a missing value (NaN/None) never erases a stored one, so a
        batch with fewer metrics (or a day a source could not derive) merges into what is there; in
        ``blocks`` and ``retargets`` the given columns replace the stored row's (a reorg replaces a block).

        Parameters
        ----------
        table : {"daily", "blocks", "retargets"}
            Target table.
        frame : pandas.DataFrame
            The batch; see :func:`validate_frame` and the module docstring for columns and units.
        source : str
            Provenance written on every changed row (``coinmetrics``, ``mempool``, ``bitcoind``, ...).
        origin : str, optional
            Free text recorded in the ``imports`` log (a file path or URL).
        derived : pandas.DataFrame of bool, optional
            Same index as `frame`, some of its value columns: True marks a cell computed from other
            values (``meta["derived_mask"]`` of the readers) rather than reported by the source. Derived
            cells only fill empty stored cells; they never replace a stored value, so a measured value
            wins whatever the import order.

        Returns
        -------
        int
            Number of rows inserted or changed.

        Raises
        ------
        InputError
            If any record is invalid (nothing is written).
        DataError
            If the store is read-only or the write fails (the transaction is rolled back).
        """
        self._check_writable()
        source = _check_source(source)
        spec = SPECS[table]
        steps: list[tuple[pd.DataFrame, Literal["replace", "fill"]]] = [(frame, "replace")]
        if derived is not None:
            steps = _split_derived(frame, derived, spec)
        cleaned = [(validate_frame(part, table, source), mode) for part, mode in steps]
        rows_in = len(cleaned[0][0])
        keys = [spec.key.name, "source"] if spec.source_in_key else [spec.key.name]
        con = self.con
        try:
            with self.transaction():
                # explicit types: DuckDB 2.0.0 miscounts DISTINCT on a `CREATE TABLE AS ... LIMIT 0` table
                key_types = ", ".join(
                    f"{k} {spec.key.sql if k == spec.key.name else 'VARCHAR'}" for k in keys
                )
                con.execute(f"CREATE OR REPLACE TEMP TABLE _hashrisk_touched ({key_types})")
                for clean, mode in cleaned:
                    self._write(spec, clean, source, mode)
                changed = int(
                    self._fetch(
                        f"SELECT count(*) FROM (SELECT DISTINCT {', '.join(keys)} FROM _hashrisk_touched)"
                    )[0][0]
                )
                con.execute(
                    "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?)",
                    [_utc_now(), table, source, origin, rows_in, changed],
                )
                con.execute("DROP TABLE _hashrisk_touched")
        except duckdb.Error as exc:
            raise DataError(
                f"writing {rows_in} {table} rows of {source!r} to {self.path} failed: {exc}"
            ) from None
        log.debug("upsert %s: committed %d changed rows", table, changed)
        return changed

    def _write(
        self, spec: TableSpec, clean: pd.DataFrame, source: str, mode: Literal["replace", "fill"]
    ) -> None:
        """Insert/update the changed rows of a validated batch (inside the caller's transaction)."""
        table = spec.name
        cols = list(clean.columns)
        data_cols = [c for c in cols if c != spec.key.name]
        keys = [spec.key.name, "source"] if spec.source_in_key else [spec.key.name]
        casts = ", ".join(f"CAST({c} AS {spec.column(c).sql}) AS {c}" for c in cols)
        join = " AND ".join(f"t.{k} = i.{k}" for k in keys)
        if mode == "fill":
            tests = [f"(t.{c} IS NULL AND i.{c} IS NOT NULL)" for c in data_cols]
            setters = [f"{c} = COALESCE({table}.{c}, excluded.{c})" for c in data_cols]
        elif spec.nulls_keep_stored:
            tests = [f"(i.{c} IS NOT NULL AND i.{c} IS DISTINCT FROM t.{c})" for c in data_cols]
            setters = [f"{c} = COALESCE(excluded.{c}, {table}.{c})" for c in data_cols]
        else:
            tests = [f"i.{c} IS DISTINCT FROM t.{c}" for c in data_cols]
            setters = [f"{c} = excluded.{c}" for c in data_cols]
        setters += [
            f"{c} = excluded.{c}" for c in ["fetched_at"] + ([] if spec.source_in_key else ["source"])
        ]
        new_row = f"t.{spec.key.name} IS NULL" + (
            f" AND ({' OR '.join(f'i.{c} IS NOT NULL' for c in data_cols) or 'TRUE'})"
            if mode == "fill"
            else ""
        )
        clean = clean.copy()
        for col in spec.values:
            if col.kind == "u256" and col.name in clean.columns:
                clean[col.name] = _u256_hex(clean[col.name])
        con = self.con
        con.register("_hashrisk_batch", clean)
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _hashrisk_changed AS "
                f"SELECT i.* FROM (SELECT {casts}, CAST(? AS VARCHAR) AS source FROM _hashrisk_batch) i "
                f"LEFT JOIN {table} t ON {join} WHERE ({new_row}) OR {' OR '.join(tests) or 'FALSE'}",
                [source],
            )
        finally:
            con.unregister("_hashrisk_batch")
        changed = int(self._fetch("SELECT count(*) FROM _hashrisk_changed")[0][0])
        log.debug("upsert %s (%s): writing %d of %d rows from %s", table, mode, changed, len(clean), source)
        if changed:
            insert_cols = [*cols, "source", "fetched_at"]
            con.execute(
                f"INSERT INTO {table} ({', '.join(insert_cols)}) "
                f"SELECT {', '.join(insert_cols[:-1])}, ? FROM _hashrisk_changed "
                f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(setters)}",
                [_utc_now()],
            )
            con.execute(f"INSERT INTO _hashrisk_touched SELECT {', '.join(keys)} FROM _hashrisk_changed")
        con.execute("DROP TABLE _hashrisk_changed")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """One transaction around several writes (all or nothing); nested uses join the outer one.

        Examples
        --------
        >>> with store.transaction():                                  # doctest: +SKIP
        ...     store.upsert_daily(daily, "mempool")
        ...     store.upsert_retargets(retargets, "mempool")
        """
        self._check_writable()
        if self._in_transaction:
            yield self
            return
        con = self.con
        con.begin()
        self._in_transaction = True
        try:
            yield self
            con.commit()
        except BaseException:
            con.rollback()
            raise
        finally:
            self._in_transaction = False

    def rollback_blocks(self, from_height: int) -> int:
        """Delete every block at height >= `from_height` in one transaction (reorg handling).

        Returns
        -------
        int
            Number of blocks deleted.
        """
        self._check_writable()
        if isinstance(from_height, bool) or not isinstance(from_height, int | np.integer) or from_height < 0:
            raise InputError("from_height", from_height, "a whole block height >= 0")
        with self.transaction():
            n = int(self._fetch("SELECT count(*) FROM blocks WHERE height >= ?", [int(from_height)])[0][0])
            self.con.execute("DELETE FROM blocks WHERE height >= ?", [int(from_height)])
        return n

    # ----------------------------------------------------------------------------- reads
    def daily_frame(
        self,
        source: str | None = None,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
    ) -> pd.DataFrame:
        """Daily rows as a frame indexed by UTC day.

        Parameters
        ----------
        source : str, optional
            Only this source. When None, one row per date from the best source available that day,
            in the order of :data:`SOURCE_PREFERENCE` (then alphabetical).
        start, end : date or ISO string, optional
            Inclusive bounds.

        Returns
        -------
        pandas.DataFrame
            Index ``date`` (UTC DatetimeIndex); columns ``source``, ``price_usd`` [USD/BTC],
            ``hashrate_ths`` [TH/s], ``difficulty``, ``blocks`` [blocks/day, Int64], ``fees_btc``
            [BTC/day], ``subsidy_btc`` [BTC/day issued], ``fetched_at`` (UTC).
        """
        where, params = self._date_where(start, end)
        if source is not None:
            where.append("source = ?")
            params.append(source)
        cond = f"WHERE {' AND '.join(where)}" if where else ""
        cols = "date, source, price_usd, hashrate_ths, difficulty, blocks, fees_btc, subsidy_btc, fetched_at"
        if source is not None:
            sql = f"SELECT {cols} FROM daily {cond} ORDER BY date"
        else:
            rank = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(SOURCE_PREFERENCE))
            sql = (
                f"SELECT {cols} FROM daily {cond} "
                f"QUALIFY row_number() OVER (PARTITION BY date ORDER BY "
                f"CASE source {rank} ELSE {len(SOURCE_PREFERENCE)} END, source) = 1 ORDER BY date"
            )
        out = self.con.execute(sql, params).df()
        out["date"] = _utc_index_values(out["date"])
        out["fetched_at"] = _utc_index_values(out["fetched_at"])
        out["blocks"] = out["blocks"].astype("Int64")
        out["source"] = out["source"].astype(object)
        return out.set_index("date")

    @staticmethod
    def _date_where(start: Any, end: Any) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if start is not None:
            where.append("date >= ?")
            params.append(_as_date(start, "start"))
        if end is not None:
            where.append("date <= ?")
            params.append(_as_date(end, "end"))
        return where, params

    def _height_frame(
        self, spec: TableSpec, start: int | None, end: int | None, source: str | None
    ) -> pd.DataFrame:
        where: list[str] = []
        params: list[Any] = []
        for op, bound in ((">=", start), ("<=", end)):
            if bound is not None:
                where.append(f"height {op} ?")
                params.append(int(bound))
        if source is not None:
            where.append("source = ?")
            params.append(source)
        cond = f"WHERE {' AND '.join(where)}" if where else ""
        out = self.con.execute(f"SELECT * FROM {spec.name} {cond} ORDER BY height", params).df()
        for col in spec.values:
            if col.kind == "timestamp":
                out[col.name] = _utc_index_values(out[col.name])
            elif col.kind == "u256":
                out[col.name] = pd.Series(
                    [
                        None
                        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
                        else int(v, 16)
                        for v in out[col.name].tolist()
                    ],
                    dtype=object,
                    index=out.index,
                )
            elif col.kind == "int":
                out[col.name] = out[col.name].astype("Int64")
        out["fetched_at"] = _utc_index_values(out["fetched_at"])
        out["height"] = out["height"].astype("int64")
        return out.set_index("height")

    def blocks_frame(
        self, start: int | None = None, end: int | None = None, source: str | None = None
    ) -> pd.DataFrame:
        """Stored blocks with heights in ``[start, end]`` (inclusive), indexed by ``height``.

        ``time``/``mediantime``/``fetched_at`` are UTC timestamps, ``chainwork`` a Python int,
        ``subsidy_sats``/``fees_sats`` [sats] and ``tx_count`` nullable Int64.
        """
        return self._height_frame(BLOCKS, start, end, source)

    def retargets_frame(
        self, start: int | None = None, end: int | None = None, source: str | None = None
    ) -> pd.DataFrame:
        """Stored retarget periods with first heights in ``[start, end]``, indexed by ``height``.

        ``target`` is a Python int, ``adjustment`` the ratio new/previous difficulty.
        """
        return self._height_frame(RETARGETS, start, end, source)

    def last_block_height(self) -> int | None:
        """Highest stored block height, or None when the blocks table is empty."""
        value = self._fetch("SELECT max(height) FROM blocks")[0][0]
        return None if value is None else int(value)

    def block_hash(self, height: int) -> str | None:
        """Stored hash of the block at `height` (lowercase hex), or None."""
        rows = self._fetch("SELECT hash FROM blocks WHERE height = ?", [int(height)])
        return None if not rows else rows[0][0]

    def sources(self, table: TableName = "daily") -> list[str]:
        """Distinct sources stored in `table`, sorted."""
        return [r[0] for r in self._fetch(f"SELECT DISTINCT source FROM {SPECS[table].name} ORDER BY 1")]

    # ----------------------------------------------------------------------------- status
    def status(self, gaps_cap: int = GAPS_CAP) -> dict[str, Any]:
        """Summary of what is stored: per table and source, rows, range and gaps.

        Returns
        -------
        dict
            ``{"path", "exists", "schema_version", "size_bytes", "tables": {table: {"rows",
            "sources": {source: {"rows", "min", "max", "missing", "gaps", "gaps_truncated"}}}},
            "last_import"}``. For ``daily`` the range is ISO dates and ``missing`` counts missing days;
            for ``blocks``/``retargets`` it is heights and missing heights (retargets step 2016).
            ``gaps`` lists at most `gaps_cap` inclusive ``[first, last]`` missing ranges.
        """
        tables: dict[str, Any] = {}
        for spec in (DAILY, BLOCKS, RETARGETS):
            key = spec.key.name
            step = str(spec.key.multiple_of or 1)  # DATE - DATE is a number of days
            per: dict[str, Any] = {}
            summary = self._fetch(
                f"SELECT source, count(*), min({key}), max({key}) FROM {spec.name} "
                "GROUP BY source ORDER BY source"
            )
            for source, rows, lo, hi in summary:
                gap_rows = self._fetch(
                    f"SELECT prev + {step} AS first, {key} - {step} AS last FROM ("
                    f"SELECT {key}, lag({key}) OVER (ORDER BY {key}) AS prev FROM {spec.name} "
                    f"WHERE source = ?) WHERE prev IS NOT NULL AND {key} - prev > {step} ORDER BY first",
                    [source],
                )
                if key == "date":
                    missing = (hi - lo).days + 1 - rows
                else:
                    missing = (hi - lo) // (spec.key.multiple_of or 1) + 1 - rows
                per[source] = {
                    "rows": int(rows),
                    "min": jsonable(lo),
                    "max": jsonable(hi),
                    "missing": int(missing),
                    "gaps": [[jsonable(a), jsonable(b)] for a, b in gap_rows[:gaps_cap]],
                    "gaps_truncated": len(gap_rows) > gaps_cap,
                }
            tables[spec.name] = {"rows": sum(v["rows"] for v in per.values()), "sources": per}
        last = self._fetch(
            "SELECT imported_at, tbl, source, origin, rows_in, rows_changed FROM imports "
            "ORDER BY imported_at DESC LIMIT 1"
        )
        last_import = None
        if last:
            at, tbl, source, origin, rows_in, changed = last[0]
            last_import = {
                "at": jsonable(at),
                "table": tbl,
                "source": source,
                "origin": origin,
                "rows_in": int(rows_in),
                "rows_changed": int(changed),
            }
        return {
            "path": str(self.path),
            "exists": self.path.exists(),
            "schema_version": self.schema_version(),
            "size_bytes": self.path.stat().st_size if self.path.exists() else 0,
            "tables": tables,
            "last_import": last_import,
        }

    # ----------------------------------------------------------------------------- export
    def export(self, table: TableName, out: str | os.PathLike[str], fmt: Literal["csv", "parquet"]) -> int:
        """Write a whole table to a CSV or Parquet file, sorted by key.

        Columns are the stored ones (module docstring), dates and times in UTC; 256-bit values are
        written as ``0x``-prefixed hex strings. ``hashrisk data import`` reads these files back.

        Returns
        -------
        int
            Rows written.
        """
        if table not in SPECS:
            raise InputError("table", table, f"one of {list(SPECS)}")
        if fmt not in ("csv", "parquet"):
            raise InputError("format", fmt, "csv or parquet")
        spec = SPECS[table]
        order = f"{spec.key.name}, source" if spec.source_in_key else spec.key.name
        target = str(Path(out)).replace("'", "''")
        options = "FORMAT CSV, HEADER true" if fmt == "csv" else "FORMAT PARQUET"
        # 256-bit values get their 0x prefix, so that a re-import reads them as hex, not decimal
        select = (
            ", ".join(f"'0x' || {c.name} AS {c.name}" if c.kind == "u256" else c.name for c in spec.columns)
            + ", source, fetched_at"
        )
        self.con.execute(f"COPY (SELECT {select} FROM {table} ORDER BY {order}) TO '{target}' ({options})")
        return int(self._fetch(f"SELECT count(*) FROM {table}")[0][0])


def _utc_index_values(values: pd.Series) -> pd.Series:
    out = pd.to_datetime(values)
    if getattr(out.dt, "tz", None) is None:
        out = out.dt.tz_localize("UTC")
    return out


# ---------------------------------------------------------------------------------------------- snapshot
def snapshot_for_date(
    date: str | dt.date,
    home: str | os.PathLike[str] | None = None,
    height: int | None = None,
) -> NetworkSnapshot:
    """The network snapshot of a stored UTC day.

    Rules (daily rows come from the preferred source of each day, see :meth:`Store.daily_frame`):

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
        Data folder (see :func:`default_home`).
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
    from hashrisk.data.snapshot import NetworkSnapshot

    day = _as_date(date)
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
                f"import or fetch daily data with {_FETCH_HINT}"
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
                    f"{store.path}; import or fetch daily data with {_FETCH_HINT}"
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
    return f"no daily price for {day.isoformat()} in {store.path} ({what}); get data with {_FETCH_HINT}"


def _retarget_difficulty(store: Store, day: dt.date) -> tuple[float, str]:
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    rows = store._fetch(
        "SELECT height, difficulty, source FROM retargets WHERE time < ? AND difficulty IS NOT NULL "
        "ORDER BY height DESC LIMIT 1",
        [end],
    )
    if not rows:
        raise DataError(
            f"no difficulty stored for {day.isoformat()} in {store.path}; "
            f"import or fetch daily data with {_FETCH_HINT}"
        )
    h, difficulty, source = rows[0]
    return float(difficulty), f"store: {source} retarget at height {h} (in force on {day.isoformat()})"


def _estimate_height(store: Store, day: dt.date) -> tuple[int, str]:
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    rows = store._fetch("SELECT max(height), any_value(source) FROM blocks WHERE time < ?", [end])
    if rows and rows[0][0] is not None:
        return int(rows[0][0]), f"store: {rows[0][1]} blocks, last block before the end of {day.isoformat()}"
    counts = store._fetch(
        "SELECT source, min(date), count(*), count(blocks), sum(blocks) FROM daily WHERE date <= ? "
        "GROUP BY source ORDER BY source",
        [day],
    )
    rank = {s: i for i, s in enumerate(SOURCE_PREFERENCE)}
    full_days = (day - GENESIS_DATE).days + 1
    for source, first, n, n_blocks, total in sorted(counts, key=lambda r: (rank.get(r[0], 99), r[0])):
        if first == GENESIS_DATE and n == full_days and n_blocks == full_days:
            return int(total), (
                f"store: {source} cumulative daily blocks {GENESIS_DATE.isoformat()}..{day.isoformat()}"
            )
    raise DataError(
        f"cannot estimate the block height on {day.isoformat()} from {store.path}: no blocks stored and no "
        f"daily block counts from genesis ({GENESIS_DATE.isoformat()}) without gaps; import the full daily "
        "history (e.g. the Coin Metrics CSV from 2009-01-03) or pass the height explicitly"
    )
