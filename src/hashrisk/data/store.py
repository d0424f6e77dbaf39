"""The embedded DuckDB store: daily network series, blocks and retargets, with provenance per row.

One DuckDB file, ``<home>/hashrisk.duckdb``, where ``home`` is the ``home`` argument, else the
``HASHRISK_HOME`` environment variable, else ``platformdirs.user_data_dir("hashrisk")``.

The tables, their columns and units, the migrations and the validation of batches are in
:mod:`hashrisk.data.schema`; the network snapshot of a stored day is built by
:mod:`hashrisk.data.stored_snapshot`. This module holds the :class:`Store` (opening, migrating, locking,
writing and reading the file) and the location of the file.

Writes are idempotent upserts, validated in full before anything is written, one transaction per batch.
DuckDB locks the file per process: while one process holds it open for writing, a second opener (writer
or reader) retries until ``lock_timeout_s`` and then raises :class:`~hashrisk.errors.DataError`; several
read-only processes may share it. Keep a writable :class:`Store` open only for the duration of a write.

A damaged file is never "nothing stored": every :class:`Store` opens its file through one path
(``Store._open``) that refuses an empty, foreign or truncated file before or right after DuckDB opens it, and
every query turns DuckDB's errors on damage (checksum mismatches, short reads, serialization and internal
errors) into :class:`StoreDamagedError` (a :class:`~hashrisk.errors.DataError`) with the remedy in one line.
Writable opens and :meth:`Store.status` first read every stored value (:meth:`Store.verify`), so nothing is
written into a damaged file. Opening a damaged file never changes it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple

import duckdb
import numpy as np
import pandas as pd
import platformdirs

from hashrisk._json import jsonable
from hashrisk.data.schema import (
    BLOCKS,
    DAILY,
    MIGRATIONS,
    RETARGETS,
    SCHEMA_VERSION,
    SOURCE_PREFERENCE,
    SPECS,
    TableName,
    TableSpec,
    as_date,
    check_source,
    split_derived,
    u256_hex,
    validate_frame,
)
from hashrisk.errors import DataError, InputError
from hashrisk.errors import StoreDamagedError as StoreDamagedError  # re-exported: raised by Store

log = logging.getLogger(__name__)

DB_FILENAME = "hashrisk.duckdb"
GAPS_CAP = 20
"""At most this many gap ranges are listed per table and source by :meth:`Store.status`."""


class DailyCoverage(NamedTuple):
    """What one source holds in ``daily`` up to a day (see :meth:`Store.daily_coverage`)."""

    source: str
    first: dt.date
    """First stored day."""
    days: int
    """Stored days."""
    days_with_blocks: int
    """Stored days with a block count."""
    blocks: int
    """Sum of the stored daily block counts [blocks]."""


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


# ---------------------------------------------------------------------------------------------- helpers
def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()  # not just "lock": a damaged file's messages name a "block"
    return "could not set lock" in text or "conflicting lock" in text


# ---------------------------------------------------------------------------------------------- damage
DUCKDB_MAGIC = b"DUCK"
"""Bytes 8..12 of every DuckDB database file."""
DUCKDB_HEADER_BYTES = 3 * 4096
"""A DuckDB file starts with a main header and two database headers of 4 KiB each; blocks follow."""
_DAMAGE_TYPES: tuple[type[duckdb.Error], ...] = (
    duckdb.SerializationException,
    duckdb.InternalException,
    duckdb.FatalException,
)
_DAMAGE_WORDS = (
    "not a valid duckdb database file",
    "corrupt",
    "checksum",
    "could not read enough bytes",
    "invalidated",
    "serializ",
    "deserializ",
)


def _one_line(text: str, path: Path, limit: int = 160) -> str:
    line = " ".join(str(text).replace(f'"{path}"', "the file").replace(str(path), "the file").split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def damage_reason(exc: BaseException, path: Path) -> str | None:
    """One-line reason when `exc` (a DuckDB error) says the file at `path` is damaged, else None.

    Damage is a serialization, internal or fatal error, or an error naming a corrupt file, a checksum
    mismatch, a short read or an invalidated database. Lock conflicts and other errors (permissions, SQL) are
    not damage.
    """
    if not isinstance(exc, duckdb.Error) or _is_lock_error(exc):
        return None
    text = str(exc)
    lower = text.lower()
    if isinstance(exc, _DAMAGE_TYPES) or any(word in lower for word in _DAMAGE_WORDS):
        return _one_line(text, path)
    return None


def check_store_file(path: Path) -> None:
    """Raise :class:`StoreDamagedError` unless `path` (which exists) looks like a DuckDB file.

    Checked before DuckDB opens it, so that an empty or foreign file is never initialised as a new database:
    a regular file of at least :data:`DUCKDB_HEADER_BYTES` bytes with the DuckDB magic bytes.
    """
    if not path.is_file():
        raise StoreDamagedError(path, "not a regular file")
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise DataError(f"cannot read store {path}: {exc.strerror or exc}") from None
    if size == 0:
        raise StoreDamagedError(path, "0 bytes: empty")
    if head[8:12] != DUCKDB_MAGIC:
        raise StoreDamagedError(path, f"not a DuckDB database file: starts with {head[:12]!r}")
    if size < DUCKDB_HEADER_BYTES:
        raise StoreDamagedError(path, f"truncated: {size} bytes, less than a DuckDB header")


def _retry_locked(
    open_fn: Callable[[], duckdb.DuckDBPyConnection], path: Path, timeout_s: float
) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + max(0.0, timeout_s)
    delay = 0.02
    while True:
        try:
            return open_fn()
        except duckdb.Error as exc:
            reason = damage_reason(exc, path)
            if reason is not None:
                raise StoreDamagedError(path, reason) from None
            if not isinstance(exc, duckdb.IOException) or not _is_lock_error(exc):
                raise DataError(f"cannot open store {path}: {_one_line(str(exc), path)}") from None
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
    StoreDamagedError
        If the file exists but is damaged: empty, not a DuckDB file, shorter than its blocks in use, a block
        failing its checksum (for a writable open, anywhere in the file). The file is left as it was.
    DataError
        If the file stays locked by another process past `lock_timeout_s`, cannot be read (permissions), or
        was written by a newer hashrisk (unknown schema version).

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
        self._exists = self.path.exists() or self.path.is_symlink()
        if read_only and not self._exists:
            self._con = duckdb.connect(":memory:")
            self._migrate()
            return
        if not read_only:
            self.home.mkdir(parents=True, exist_ok=True)
        self._open(read_only)
        try:
            if not read_only:
                self.verify()  # never write (a migration, a batch) into a damaged file
            version = self.schema_version()
            if version > SCHEMA_VERSION:
                raise DataError(
                    f"store {self.path} has schema version {version}, newer than this hashrisk understands "
                    f"({SCHEMA_VERSION}); upgrade hashrisk"
                )
            if version < SCHEMA_VERSION and read_only:  # migrate with a short writing open, reopen read-only
                self.close()
                with Store(home, read_only=False, lock_timeout_s=lock_timeout_s):
                    pass
                self._open(True)
            elif version < SCHEMA_VERSION:
                self._migrate()
        except BaseException:
            self.close()
            raise

    def _open(self, read_only: bool) -> None:
        """Open the file: the one path every :class:`Store` takes to its DuckDB file.

        An existing file must look like a DuckDB file (:func:`check_store_file`) before DuckDB sees it, and be
        as long as its header says; DuckDB's errors on a damaged file become :class:`StoreDamagedError`, a
        lock held by another process is retried until `lock_timeout_s`. Opening never writes to a file that
        fails these checks.
        """
        if self.path.exists() or self.path.is_symlink():
            check_store_file(self.path)
        path = str(self.path)
        shared = False

        def open_fn() -> duckdb.DuckDBPyConnection:
            nonlocal shared
            try:
                return duckdb.connect(path, read_only=read_only)
            except duckdb.ConnectionException as exc:
                # this process already holds the file writable: share that instance instead
                if read_only and "different configuration" in str(exc):
                    shared = True
                    return duckdb.connect(path, read_only=False)
                raise DataError(f"cannot open store {path}: {_one_line(str(exc), self.path)}") from None

        self._con = _retry_locked(open_fn, self.path, self.lock_timeout_s)
        if not shared:  # a file shorter than its header says has lost blocks, whichever ones a query reads
            try:
                # used blocks only: DuckDB may cut free blocks off the end of the file and still count them
                block_size, blocks = self._fetch(
                    "SELECT block_size, used_blocks FROM pragma_database_size() "
                    "WHERE database_name = current_database()"
                )[0]
                size = self.path.stat().st_size
            except BaseException:
                self.close()
                raise
            expected = DUCKDB_HEADER_BYTES + int(blocks) * int(block_size)
            if size < expected:
                self.close()
                raise StoreDamagedError(
                    self.path, f"truncated: {size:,} bytes, its {blocks} blocks in use need {expected:,}"
                )

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

    @contextlib.contextmanager
    def _guarded(self) -> Iterator[None]:
        """Turn DuckDB's errors on a damaged file (checksums, short reads, ...) into StoreDamagedError."""
        try:
            yield
        except duckdb.Error as exc:
            reason = damage_reason(exc, self.path)
            if reason is None:
                raise
            raise StoreDamagedError(self.path, reason) from None

    def _sql(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Execute a statement (guarded)."""
        with self._guarded():
            self.con.execute(sql, list(params))

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query (guarded)."""
        with self._guarded():
            return self.con.execute(sql, list(params)).fetchall()

    def _frame(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """A query as a DataFrame (guarded)."""
        with self._guarded():
            return self.con.execute(sql, list(params)).df()

    def verify(self) -> None:
        """Read every stored value once, so that DuckDB checks the checksum of every block in use.

        Raises
        ------
        StoreDamagedError
            If a block fails its checksum or cannot be read.
        """
        tables = [r[0] for r in self._fetch("SELECT table_name FROM duckdb_tables() WHERE NOT temporary")]
        for table in tables:
            name = str(table).replace('"', '""')
            self._fetch(f'SELECT count(*), bit_xor(hash(COLUMNS(*))) FROM "{name}"')

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
        current = self.schema_version()
        if current == 0:
            self._sql(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMP)"
            )
        for step in MIGRATIONS:
            if step.version <= current:
                continue
            with self._atomic():
                for statement in step.statements:
                    self._sql(statement)
                self._sql(
                    "INSERT INTO schema_version VALUES (?, ?, ?)",
                    [step.version, step.description, _utc_now()],
                )
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
            The batch; see :func:`hashrisk.data.schema.validate_frame` and :mod:`hashrisk.data.schema`
            for columns and units.
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
        source = check_source(source)
        spec = SPECS[table]
        steps: list[tuple[pd.DataFrame, Literal["replace", "fill"]]] = [(frame, "replace")]
        if derived is not None:
            steps = split_derived(frame, derived, spec)
        cleaned = [(validate_frame(part, table, source), mode) for part, mode in steps]
        rows_in = len(cleaned[0][0])
        keys = [spec.key.name, "source"] if spec.source_in_key else [spec.key.name]
        try:
            with self.transaction():
                # explicit types: DuckDB 2.0.0 miscounts DISTINCT on a `CREATE TABLE AS ... LIMIT 0` table
                key_types = ", ".join(
                    f"{k} {spec.key.sql if k == spec.key.name else 'VARCHAR'}" for k in keys
                )
                self._sql(f"CREATE OR REPLACE TEMP TABLE _hashrisk_touched ({key_types})")
                for clean, mode in cleaned:
                    self._write(spec, clean, source, mode)
                changed = int(
                    self._fetch(
                        f"SELECT count(*) FROM (SELECT DISTINCT {', '.join(keys)} FROM _hashrisk_touched)"
                    )[0][0]
                )
                self._sql(
                    "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?)",
                    [_utc_now(), table, source, origin, rows_in, changed],
                )
                self._sql("DROP TABLE _hashrisk_touched")
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
                clean[col.name] = u256_hex(clean[col.name])
        con = self.con
        con.register("_hashrisk_batch", clean)
        try:
            self._sql(
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
            self._sql(
                f"INSERT INTO {table} ({', '.join(insert_cols)}) "
                f"SELECT {', '.join(insert_cols[:-1])}, ? FROM _hashrisk_changed "
                f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(setters)}",
                [_utc_now()],
            )
            self._sql(f"INSERT INTO _hashrisk_touched SELECT {', '.join(keys)} FROM _hashrisk_changed")
        self._sql("DROP TABLE _hashrisk_changed")

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
        with self._atomic():
            yield self

    @contextlib.contextmanager
    def _atomic(self) -> Iterator[None]:
        """BEGIN ... COMMIT (ROLLBACK on any error); joins the transaction already open."""
        if self._in_transaction:
            yield
            return
        con = self.con
        with self._guarded():
            con.begin()
        self._in_transaction = True
        try:
            yield
            with self._guarded():
                con.commit()
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # the error that got us here is the one to report
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
            self._sql("DELETE FROM blocks WHERE height >= ?", [int(from_height)])
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
        out = self._frame(sql, params)
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
            params.append(as_date(start, "start"))
        if end is not None:
            where.append("date <= ?")
            params.append(as_date(end, "end"))
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
        out = self._frame(f"SELECT * FROM {spec.name} {cond} ORDER BY height", params)
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

    def retarget_in_force(self, day: str | dt.date) -> tuple[int, float, str] | None:
        """The last stored retarget with a difficulty whose block came before the end of UTC `day`.

        Returns
        -------
        tuple of (int, float, str) or None
            ``(height, difficulty, source)`` of that retarget, or None when none is stored.
        """
        rows = self._fetch(
            "SELECT height, difficulty, source FROM retargets WHERE time < ? AND difficulty IS NOT NULL "
            "ORDER BY height DESC LIMIT 1",
            [_end_of_day(day)],
        )
        return None if not rows else (int(rows[0][0]), float(rows[0][1]), str(rows[0][2]))

    def last_block_by(self, day: str | dt.date) -> tuple[int, str] | None:
        """Height and source of the highest stored block mined before the end of UTC `day`, or None."""
        rows = self._fetch(
            "SELECT height, source FROM blocks WHERE time < ? ORDER BY height DESC LIMIT 1",
            [_end_of_day(day)],
        )
        return None if not rows else (int(rows[0][0]), str(rows[0][1]))

    def daily_coverage(self, up_to: str | dt.date) -> list[DailyCoverage]:
        """Per source, what ``daily`` holds on days up to `up_to` (inclusive), sorted by source."""
        rows = self._fetch(
            "SELECT source, min(date), count(*), count(blocks), coalesce(sum(blocks), 0) FROM daily "
            "WHERE date <= ? GROUP BY source ORDER BY source",
            [as_date(up_to, "up_to")],
        )
        return [DailyCoverage(str(s), first, int(n), int(nb), int(total)) for s, first, n, nb, total in rows]

    # ----------------------------------------------------------------------------- status
    def status(self, gaps_cap: int = GAPS_CAP) -> dict[str, Any]:
        """Summary of what is stored: per table and source, rows, range and gaps.

        Reads every stored value first (:meth:`verify`), so a damaged block anywhere is reported.

        Returns
        -------
        dict
            ``{"path", "exists", "schema_version", "size_bytes", "tables": {table: {"rows",
            "sources": {source: {"rows", "min", "max", "missing", "gaps", "gaps_truncated"}}}},
            "last_import"}``. For ``daily`` the range is ISO dates and ``missing`` counts missing days;
            for ``blocks``/``retargets`` it is heights and missing heights (retargets step 2016).
            ``gaps`` lists at most `gaps_cap` inclusive ``[first, last]`` missing ranges.
        """
        self.verify()
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

        Columns are the stored ones (:mod:`hashrisk.data.schema`), dates and times in UTC; 256-bit values are
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
        self._sql(f"COPY (SELECT {select} FROM {table} ORDER BY {order}) TO '{target}' ({options})")
        return int(self._fetch(f"SELECT count(*) FROM {table}")[0][0])


def _end_of_day(day: str | dt.date) -> dt.datetime:
    """The first instant after UTC `day` (naive UTC, as stored)."""
    return dt.datetime.combine(as_date(day) + dt.timedelta(days=1), dt.time())


def _utc_index_values(values: pd.Series) -> pd.Series:
    out = pd.to_datetime(values)
    if getattr(out.dt, "tz", None) is None:
        out = out.dt.tz_localize("UTC")
    return out
