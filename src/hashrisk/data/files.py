"""File imports into the store: format detection, dispatch to the parsers, and ``import_file``.

Each source's parser lives with its connector (:mod:`hashrisk.data.coinmetrics`,
:mod:`hashrisk.data.mempool`); hashrisk's own layout is parsed here.

Formats (``--format`` on ``hashrisk data import``; detected from the content when not given):

``coinmetrics-csv``
    A Coin Metrics community CSV: ``time`` or ``date`` plus CM metrics (``PriceUSD``, ``HashRate``,
    ``DiffMean``, ``BlkCnt``, ``FeeTotNtv``/``FeeTotUSD``, ``IssTotNtv``/``IssTotUSD``, ...). Parsed by
    :func:`hashrisk.data.coinmetrics.parse_coinmetrics_frame`. Default source ``coinmetrics``.
``hashrisk-csv``
    hashrisk's own layout, as written by ``hashrisk data export`` and by the merged reference file:
    daily ``date, price_usd [USD/BTC], hashrate_ths [TH/s], difficulty | difficulty_mean, blocks
    [blocks/day], fees_btc [BTC/day], subsidy_btc | issuance_btc [BTC/day issued]``; or a ``blocks`` or
    ``retargets`` export (``height`` plus the table's columns). A ``source`` column keeps each row's
    provenance; without one the source is ``file:<file name>``. ``fetched_at`` and unknown columns are
    ignored (listed in the meta).
``mempool-hashrate-json``
    The mempool.space ``/api/v1/mining/hashrate/:period`` response: daily ``hashrates`` (``avgHashrate``
    in H/s) to the ``daily`` table (``hashrate_ths`` only) and ``difficulty`` adjustments to the
    ``retargets`` table. Parsed by :func:`hashrisk.data.mempool.parse_mempool_hashrate`. Default source
    ``mempool``.
``parquet``
    A Parquet file in either the hashrisk layout or the Coin Metrics one.

Reading never touches the store; :func:`import_file` validates every batch before it writes, and writes
all of a file's batches in one transaction.

Bad input never reaches the store: the path must be a regular file of at most :data:`MAX_INPUT_BYTES`
(256 MiB; not a directory, a device such as ``/dev/zero`` or a FIFO), read once; a CSV must be whole (every
record as many fields as the header, the last line ending with a line break: see
:func:`hashrisk.data.schema.read_csv_records`), JSON and Parquet complete; numbers finite (``NaN``, ``inf``
are refused), days from the genesis block (2009-01-03) to today (UTC). Any error rejects the whole file.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any, Literal, cast, get_args

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hashrisk.constants import HASHES_PER_TH
from hashrisk.data import mempool
from hashrisk.data.coinmetrics import parse_coinmetrics_frame
from hashrisk.data.input_file import MAX_INPUT_BYTES as MAX_INPUT_BYTES  # re-exported: the import size limit
from hashrisk.data.input_file import read_input_file
from hashrisk.data.schema import (
    DAILY,
    SPECS,
    TableName,
    TableSpec,
    Where,
    check_unique,
    coerce_frame,
    loads_json,
    read_csv_records,
)
from hashrisk.data.store import Store
from hashrisk.errors import DataError, InputError

FileFormat = Literal["coinmetrics-csv", "hashrisk-csv", "mempool-hashrate-json", "parquet"]
FORMATS: tuple[str, ...] = get_args(FileFormat)

_CM_MARKERS = frozenset(
    {
        "PriceUSD",
        "HashRate",
        "DiffMean",
        "BlkCnt",
        "FeeTotNtv",
        "FeeTotUSD",
        "IssTotNtv",
        "IssTotUSD",
        "SplyCur",
        "CapMrktCurUSD",
    }
)
_DAILY_ALIASES = {"difficulty_mean": "difficulty", "issuance_btc": "subsidy_btc"}
_BOOKKEEPING = frozenset({"source", "fetched_at"})


# ---------------------------------------------------------------------------------------------- detection
def _csv_header(data: bytes) -> list[str]:
    first = data.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
    return [c.strip().strip('"') for c in first.strip().split(",")]


def _layout(columns: list[str]) -> Literal["coinmetrics", "daily", "blocks", "retargets"] | None:
    """Which layout a set of column names is, or None."""
    names = set(columns)
    if names & {"time", "date"} and names & _CM_MARKERS:
        return "coinmetrics"
    if "height" in names and "hash" in names:
        return "blocks"
    if "height" in names and names & {"target", "adjustment"}:
        return "retargets"
    daily = {c.name for c in DAILY.values} | set(_DAILY_ALIASES)
    if "date" in names and names & daily:
        return "daily"
    return None


def detect_format(path: str | os.PathLike[str]) -> FileFormat:
    """Guess the format of `path` from its first bytes and header.

    Raises
    ------
    InputError
        If the file is missing, not a regular file of at most :data:`MAX_INPUT_BYTES`, or in none of
        :data:`FORMATS`.
    """
    return _detect(read_input_file(path, head=_HEAD_BYTES), Path(path).name)


_HEAD_BYTES = 64 * 1024
"""Bytes read to detect a format (the header line must fit)."""


def _detect(head: bytes, name: str) -> FileFormat:
    """The format of a file whose first bytes are `head`."""
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.decode("utf-8-sig", errors="replace").lstrip()
    if text.startswith("{"):
        if '"hashrates"' in text or '"difficulty"' in text:
            return "mempool-hashrate-json"
        raise InputError(
            f"{name}: format",
            "JSON",
            f"one of {list(FORMATS)}",
            hint="JSON is read only in the mempool.space /api/v1/mining/hashrate shape",
        )
    header = _csv_header(head)
    layout = _layout(header)
    if layout == "coinmetrics":
        return "coinmetrics-csv"
    if layout is not None:
        return "hashrisk-csv"
    raise InputError(
        f"{name}: format",
        ",".join(header)[:200],
        f"one of {list(FORMATS)}",
        hint="a CSV needs a 'date' or 'time' column plus Coin Metrics metrics (PriceUSD, HashRate, ...) "
        "or hashrisk columns (price_usd, hashrate_ths, ...); pass --format to choose",
    )


# ---------------------------------------------------------------------------------------------- parsers
def parse_hashrisk_frame(
    df: pd.DataFrame, origin: str, line_offset: int | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Parse a frame in hashrisk's own layout (daily, blocks or retargets export).

    Parameters
    ----------
    df : pandas.DataFrame
        Columns of one store table (see :mod:`hashrisk.data.schema` for units); the daily aliases
        ``difficulty_mean`` and ``issuance_btc`` are accepted. ``source`` is kept per row.
    origin : str
        Where it was read (file name), named in errors.
    line_offset : int, optional
        ``2`` for a CSV as read, so errors cite file lines.

    Returns
    -------
    frame : pandas.DataFrame
        The table's key as a column (``date`` as UTC datetimes, or ``height``), converted value columns,
        and ``source`` when the file has one.
    meta : dict
        ``table``, ``rows``, ``first``, ``last``, ``columns``, ``ignored_columns``, ``renamed``.
    """
    layout = _layout([str(c) for c in df.columns])
    if layout is None or layout == "coinmetrics":
        raise InputError(
            f"{origin}: columns",
            [str(c) for c in df.columns],
            "hashrisk columns: date + price_usd/hashrate_ths/... or height + table columns",
        )
    table = "daily" if layout == "daily" else layout
    spec: TableSpec = SPECS[table]
    renamed = {a: b for a, b in _DAILY_ALIASES.items() if table == "daily" and a in df.columns}
    clash = [b for b in renamed.values() if b in df.columns]
    if clash:
        raise InputError(f"{origin}: columns", clash, "either the column or its alias, not both")
    frame_in = df.rename(columns=renamed)
    known = {c.name: c for c in spec.values}
    values = {name: known[name] for name in frame_in.columns if name in known}
    ignored = [
        str(c)
        for c in df.columns
        if renamed.get(c, c) not in known and c != spec.key.name and c not in _BOOKKEEPING
    ]
    has_source = "source" in frame_in.columns
    out = coerce_frame(
        frame_in,
        spec.key.name,
        spec.key,
        values,
        label=f"{origin}: ",
        line_offset=line_offset,
        unique=not has_source,
    )
    if has_source:  # the key is (key, source): one row per source
        src = frame_in["source"].reset_index(drop=True)
        missing = src.isna() | src.astype("string").str.strip().eq("")
        if missing.any():
            pos = int(np.flatnonzero(missing.to_numpy(dtype=bool))[0])
            where = f"line {pos + line_offset}" if line_offset is not None else f"row {pos}"
            raise InputError(f"{origin}: source", None, "a source name on every row", hint=where)
        out["source"] = src.astype(str).to_numpy()
        raw_keys = frame_in[spec.key.name].reset_index(drop=True)
        pairs = out[spec.key.name].astype(str) + "|" + out["source"]
        check_unique(
            pairs,
            Where(f"{origin}: {spec.key.name}", raw_keys, spec.key.name, " (with its source)", line_offset),
        )
    if table == "daily":
        out["date"] = out["date"].dt.tz_localize("UTC")
    key = out[spec.key.name]
    meta: dict[str, Any] = {
        "format": "hashrisk",
        "table": table,
        "rows": len(out),
        "first": _edge(key.min()) if len(out) else None,
        "last": _edge(key.max()) if len(out) else None,
        "columns": sorted(values),
        "renamed": renamed,
        "ignored_columns": ignored,
    }
    return out, meta


def _edge(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return int(value)


# ---------------------------------------------------------------------------------------------- read_file
def read_file(
    path: str | os.PathLike[str], format: FileFormat | str | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a data file into the frame of one store table, plus metadata.

    Parameters
    ----------
    path : path-like
        The file.
    format : str, optional
        One of :data:`FORMATS`; detected from the content when None.

    Returns
    -------
    frame : pandas.DataFrame
        Rows for ``meta["table"]`` (``daily``: index or column ``date`` in UTC, columns in the store's
        units; ``blocks``/``retargets``: column ``height``). May hold a ``source`` column (per-row
        provenance from a hashrisk export).
    meta : dict
        ``path``, ``format``, ``table``, ``source`` (default provenance name), ``rows``, ``first``,
        ``last``, ``derived`` and ``ignored_columns`` where they apply, and ``tables``: further
        ``{table: frame}`` batches from the same file (the mempool retargets).

    Raises
    ------
    InputError
        Not a regular file of at most :data:`MAX_INPUT_BYTES` (a directory, ``/dev/zero``, a FIFO), unknown
        format, a file cut short (a CSV record with missing fields, a last line without its line break,
        truncated JSON or Parquet), missing columns, unparseable, non-finite (NaN, inf) or out-of-range
        values, days outside genesis..today: the message names the file, the column, the line or date, the
        value and what is allowed.
    """
    file = Path(path)
    if format is not None and format not in FORMATS:
        raise InputError("format", format, f"one of {list(FORMATS)}")
    data = read_input_file(file)  # read once: what was detected is what is parsed
    fmt: str = format or _detect(data[:_HEAD_BYTES], file.name)
    name = file.name
    tables: dict[str, pd.DataFrame] = {}
    if fmt == "mempool-hashrate-json":
        try:
            payload = loads_json(data)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{name}: line {exc.lineno} column {exc.colno}",
                exc.msg,
                "complete, valid JSON",
                hint=f"char {exc.pos} of {len(data)}; a file cut short ends inside a value",
            ) from None
        except (UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"{name}: content", str(exc)[:120], "valid JSON with finite numbers") from None
        try:
            frame, retargets = mempool.parse_mempool_hashrate(payload)
        except InputError as exc:
            raise InputError(f"{name}: {exc.field}", exc.value, exc.allowed, exc.hint) from None
        tables["retargets"] = retargets
        meta = {
            "table": "daily",
            "source": mempool.SOURCE,
            "rows": len(frame),
            "first": _edge(frame.index.min()) if len(frame) else None,
            "last": _edge(frame.index.max()) if len(frame) else None,
            "retargets": len(retargets),
            "current_hashrate_ths": _number(payload.get("currentHashrate"), HASHES_PER_TH),
            "current_difficulty": _number(payload.get("currentDifficulty"), 1.0),
        }
    else:
        raw = _read_table(data, name, fmt)
        offset = 2 if fmt.endswith("-csv") else None
        layout = _layout([str(c) for c in raw.columns])
        if fmt == "coinmetrics-csv" or (fmt == "parquet" and layout == "coinmetrics"):
            frame, meta = parse_coinmetrics_frame(raw, origin=name, line_offset=offset)
            meta["table"] = "daily"
        else:
            frame, meta = parse_hashrisk_frame(raw, name, line_offset=offset)
            meta["source"] = f"file:{name}"
    meta.update({"path": str(file), "format": fmt, "tables": tables})
    return frame, meta


def _number(value: Any, scale: float) -> float | None:
    try:
        return float(value) / scale
    except (TypeError, ValueError):
        return None


def _read_table(data: bytes, name: str, fmt: str) -> pd.DataFrame:
    if fmt != "parquet":
        return read_csv_records(data, name)
    try:
        table = pq.read_table(io.BytesIO(data))
    except (ValueError, OSError, pa.ArrowException) as exc:
        raise InputError(
            f"{name}: content", str(exc)[:160], "a complete Parquet file", hint="truncated or damaged?"
        ) from None
    for column, values in zip(table.column_names, table.columns, strict=True):
        # NaN is a value in Parquet (not a null): refuse it like a NaN in a CSV
        if pa.types.is_floating(values.type) and pc.any(pc.is_nan(values)).as_py():
            raise InputError(
                f"{name}: {column}", "NaN", "a finite number or null", hint="nothing was written"
            )
    frame: pd.DataFrame = table.to_pandas()
    return frame


# ---------------------------------------------------------------------------------------------- import
def import_file(
    path: str | os.PathLike[str],
    format: FileFormat | str | None = None,
    source: str | None = None,
    home: str | os.PathLike[str] | None = None,
    store: Store | None = None,
    lock_timeout_s: float = 10.0,
) -> dict[str, Any]:
    """Read `path` and upsert its rows into the store, all batches in one transaction.

    Parameters
    ----------
    path : path-like
        The file.
    format : str, optional
        One of :data:`FORMATS` (detected when None).
    source : str, optional
        Provenance name for every row, overriding the file's (``coinmetrics``, ``mempool``, a per-row
        ``source`` column, or ``file:<name>``).
    home : path-like, optional
        Data folder (see :func:`hashrisk.data.store.default_home`); ignored when `store` is given.
    store : Store, optional
        An open writable store to use.
    lock_timeout_s : float
        Wait for another writer at most this long [s].

    Returns
    -------
    dict
        ``path``, ``format``, ``store``, ``rows_read``, ``rows_changed``, ``batches`` (one entry per
        table and source: ``table``, ``source``, ``rows``, ``changed``), ``first``, ``last``,
        ``derived``, ``ignored_columns``.

    Raises
    ------
    InputError
        On any bad value (nothing is written).
    DataError
        If the store is locked or the write fails (nothing is written).
    """
    frame, meta = read_file(path, format)
    batches: list[tuple[TableName, str, pd.DataFrame, pd.DataFrame | None]] = []
    parts: list[tuple[str, pd.DataFrame, pd.DataFrame | None]] = [
        (str(meta["table"]), frame, meta.get("derived_mask")),
        *((name, part, None) for name, part in meta["tables"].items()),
    ]
    for name_of_table, part, derived in parts:
        if name_of_table not in SPECS:
            raise DataError(f"reader returned rows for unknown table {name_of_table!r}")
        table = cast(TableName, name_of_table)
        if part.empty:
            continue
        if source is None and "source" in part.columns:
            for name, rows in part.groupby("source", sort=True):
                batches.append((table, str(name), rows.drop(columns="source"), None))
        else:
            rows = part.drop(columns="source", errors="ignore")
            batches.append((table, source or str(meta["source"]), rows, derived))
    if not batches:
        raise InputError(f"{Path(path).name}: rows", 0, "at least one data row")

    own = store is None
    target = store if store is not None else Store(home, lock_timeout_s=lock_timeout_s)
    report: list[dict[str, Any]] = []
    try:
        with target.transaction():
            for table, name, rows, derived in batches:
                changed = target.upsert(table, rows, name, origin=str(path), derived=derived)
                report.append({"table": table, "source": name, "rows": len(rows), "changed": changed})
        store_path = str(target.path)
    finally:
        if own:
            target.close()
    return {
        "path": str(path),
        "format": meta["format"],
        "store": store_path,
        "rows_read": sum(b["rows"] for b in report),
        "rows_changed": sum(b["changed"] for b in report),
        "batches": report,
        "first": meta.get("first"),
        "last": meta.get("last"),
        "derived": meta.get("derived", {}),
        "ignored_columns": meta.get("ignored_columns", []),
    }
