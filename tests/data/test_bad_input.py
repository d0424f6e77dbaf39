"""Nothing lost on bad input: files cut short, out-of-range rows, special files and damaged stores.

Every case is refused with one :class:`InputError` / :class:`DataError` whose one-line message names the field
(or the file) and what is allowed, and the store file is byte-identical afterwards (hashed), whatever the case.
Synthetic files only (the Coin Metrics layout with made-up rows), except the last test, which cuts the real
Coin Metrics history in ../shared/data (read in place, never copied; skipped when absent).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hashrisk.data.files import MAX_INPUT_BYTES, import_file
from hashrisk.data.schema import loads_json
from hashrisk.data.store import Store, StoreDamagedError, store_path
from hashrisk.data.stored_snapshot import snapshot_for_date
from hashrisk.errors import DataError, HashriskError, InputError

HEADER = "asset,date,AdrActCnt,BlkCnt,DiffMean,FeeTotUSD,HashRate,IssTotUSD,PriceUSD,TxCnt"
PRICE_0420 = "64907.9928366452"
ROWS = [
    # (day, BlkCnt, FeeTotUSD, IssTotUSD, PriceUSD): made-up values in the real file's shape
    ("2024-04-14", 144, "4500000.5", "57600000.0", "64000.0"),
    ("2024-04-15", 140, "4400000.25", "56000000.0", "63000.0"),
    ("2024-04-16", 150, "4300000.0", "60000000.0", "63500.0"),
    ("2024-04-17", 138, "4200000.75", "55200000.0", "61000.0"),
    ("2024-04-18", 146, "4100000.0", "58400000.0", "62000.5"),
    ("2024-04-19", 151, "5000000.0", "60400000.0", "63800.0"),
    ("2024-04-20", 130, "78309324.41788700159865488", "26368872.0898871125", PRICE_0420),
    ("2024-04-21", 145, "6000000.0", "29000000.0", "64900.0"),
]
DIFFICULTY = 86388558925171.02


def _line(day: str, blocks: int, fees: str, issuance: str, price: str) -> str:
    hashrate = repr(DIFFICULTY * 2**32 * blocks / 86_400 / 1e12)
    return f"btc,{day}T00:00:00.000000000Z,509709,{blocks},{DIFFICULTY},{fees},{hashrate},{issuance},{price},630654"


GOOD_CSV = "\n".join([HEADER, *(_line(*r) for r in ROWS)]) + "\n"
LINE_0420 = 1 + [r[0] for r in ROWS].index("2024-04-20") + 1  # header is line 1


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text, text
    return text


@pytest.fixture(scope="module")
def good_store_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A store holding the 8 synthetic days (built once; each test gets its own copy)."""
    folder = tmp_path_factory.mktemp("good")
    (folder / "good.csv").write_text(GOOD_CSV)
    import_file(folder / "good.csv", home=folder / "home")
    return store_path(folder / "home").read_bytes()


@pytest.fixture()
def home(tmp_path: Path, good_store_bytes: bytes) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    store_path(folder).write_bytes(good_store_bytes)
    return folder


def _price_0420(home: Path) -> float:
    with Store(home, read_only=True) as store:
        return float(store.daily_frame(source="coinmetrics").loc["2024-04-20", "price_usd"])


# ---------------------------------------------------------------------------------------------- bad files
def _text(name: str, text: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(text.encode())
        return path

    return make


def _rows_with(day: str, replacement: str) -> str:
    """GOOD_CSV with the line of `day` replaced by `replacement`."""
    lines = GOOD_CSV.splitlines()
    index = next(i for i, line in enumerate(lines) if f",{day}T" in line)
    return "\n".join([*lines[:index], replacement, *lines[index + 1 :]]) + "\n"


def _dated(day: str) -> str:
    return _line(day, 144, "4500000.5", "57600000.0", "64000.0")


def _with_price(price: str) -> str:
    return _rows_with("2024-04-18", _line("2024-04-18", 146, "4100000.0", "58400000.0", price))


CUT = GOOD_CSV.index(PRICE_0420) + 2  # "...,64" : the price cut after two digits
TOMORROW = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
MEMPOOL = {
    "hashrates": [
        {"timestamp": 1713571200, "avgHashrate": 6.2e20},
        {"timestamp": 1713657600, "avgHashrate": 6e20},
    ],
    "difficulty": [{"time": 1713571200, "height": 838656, "difficulty": 8.6e13, "adjustment": 1.0}],
    "currentHashrate": 6e20,
    "currentDifficulty": 8.6e13,
}
MEMPOOL_TEXT = json.dumps(MEMPOOL)
assert "6.2e+20" in MEMPOOL_TEXT  # the cases below replace it
OURS = (
    "date,price_usd,hashrate_ths,difficulty,blocks,fees_btc,subsidy_btc\n"
    "2024-04-20,64907.99,6e8,8.6e13,130,1206.47,406.25\n"
)


def _parquet(frame: pd.DataFrame, cut: bool = False) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / "daily.parquet"
        columns = {c: pa.array(frame[c].tolist(), from_pandas=False) for c in frame.columns}  # NaN stays NaN
        pq.write_table(pa.table(columns), path)
        if cut:
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2])
        return path

    return make


def _special(kind: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        if kind == "directory":
            (tmp / "a_dir.csv").mkdir()
            return tmp / "a_dir.csv"
        if kind == "fifo":
            if not hasattr(os, "mkfifo"):
                pytest.skip("no FIFOs on this platform")
            os.mkfifo(tmp / "pipe.csv")
            return tmp / "pipe.csv"
        if kind == "oversized":  # sparse: its size is over the limit, nothing is written to disk
            path = tmp / "huge.csv"
            with path.open("wb") as handle:
                handle.write(HEADER.encode() + b"\n")
                handle.truncate(MAX_INPUT_BYTES + 1)
            return path
        if kind == "missing":
            return tmp / "no_such_file.csv"
        device = Path(kind)
        if not device.exists():
            pytest.skip(f"{device} does not exist on this platform")
        return device

    return make


_DAILY_NAN = pd.DataFrame({"date": ["2024-04-20"], "price_usd": [np.nan], "hashrate_ths": [6e8]})
_DAILY_OK = pd.DataFrame({"date": ["2024-04-20"], "price_usd": [64907.99], "hashrate_ths": [6e8]})
REGULAR = "a regular file of at most 256 MiB"

# id -> (make the file, the error class, substrings of the message: the file or field, and what is allowed)
FILE_CASES: dict[str, tuple[Callable[[Path], Path], type[HashriskError], tuple[str, ...]]] = {
    # files cut short
    "cut-mid-field": (
        _text("cut.csv", GOOD_CSV[:CUT]),
        InputError,
        (f"cut.csv: line {LINE_0420}, field PriceUSD", "got '64'", "a complete last line"),
    ),
    "missing-columns": (
        _text("short.csv", _rows_with("2024-04-20", ",".join(_line(*ROWS[6]).split(",")[:8]))),
        InputError,
        (f"short.csv: line {LINE_0420}, field PriceUSD", "a complete record of 10 fields"),
    ),
    "final-line-without-newline": (
        _text("no_eol.csv", GOOD_CSV.rstrip("\n")),
        InputError,
        (f"no_eol.csv: line {len(ROWS) + 1}, field TxCnt", "ending with a line break"),
    ),
    "extra-field": (
        _text("long.csv", _rows_with("2024-04-17", _dated("2024-04-17") + ",1")),
        InputError,
        ("long.csv: line 5", "a complete record of 10 fields"),
    ),
    "unclosed-quote": (
        _text("quote.csv", _rows_with("2024-04-17", _dated("2024-04-17").replace(",64000.0", ',"64000.0'))),
        InputError,
        ("quote.csv: line", "well-formed CSV"),
    ),
    "nul-bytes": (
        _text("nul.csv", GOOD_CSV[:300] + "\x00" * 64 + GOOD_CSV[300:]),
        InputError,
        ("nul.csv: line", "without NUL bytes"),
    ),
    "hashrisk-csv-cut": (_text("ours.csv", OURS[:-9]), InputError, ("ours.csv: line 2, field fees_btc",)),
    "mempool-json-cut": (
        _text("mempool.json", MEMPOOL_TEXT[: len(MEMPOOL_TEXT) // 2]),
        InputError,
        ("mempool.json: line 1 column", "complete, valid JSON"),
    ),
    "parquet-cut": (
        _parquet(_DAILY_OK, cut=True),
        InputError,
        ("daily.parquet: content", "a complete Parquet"),
    ),
    "empty-file": (_text("empty.csv", ""), InputError, ("empty.csv: format",)),
    # rows out of range
    "future-day": (
        _text("future.csv", _rows_with("2024-04-14", _dated("2099-01-01"))),
        InputError,
        ("future.csv: date", "'2099-01-01", "from 2009-01-03 (the genesis block) to", "(today, UTC)"),
    ),
    "tomorrow": (
        _text("tomorrow.csv", _rows_with("2024-04-14", _dated(TOMORROW))),
        InputError,
        ("tomorrow.csv: date", "(today, UTC)"),
    ),
    "pre-genesis-day": (
        _text("old.csv", _rows_with("2024-04-14", _dated("1900-01-01"))),
        InputError,
        ("old.csv: date", "'1900-01-01", "from 2009-01-03 (the genesis block)"),
    ),
    "day-before-genesis": (
        _text("old2.csv", _rows_with("2024-04-14", _dated("2009-01-02"))),
        InputError,
        ("old2.csv: date", "from 2009-01-03"),
    ),
    # non-finite numbers
    "nan-price": (
        _text("nan.csv", _with_price("NaN")),
        InputError,
        ("nan.csv: PriceUSD", "'NaN'", "finite price"),
    ),
    "nan-lowercase": (_text("nan2.csv", _with_price("nan")), InputError, ("nan2.csv: PriceUSD", "finite")),
    "inf-price": (
        _text("inf.csv", _with_price("inf")),
        InputError,
        ("inf.csv: PriceUSD", "'inf'", "finite price"),
    ),
    "minus-inf": (_text("minf.csv", _with_price("-Infinity")), InputError, ("minf.csv: PriceUSD", "finite")),
    "overflow-1e999": (_text("big.csv", _with_price("1e999")), InputError, ("big.csv: PriceUSD", "finite")),
    "na-text": (_text("na.csv", _with_price("NA")), InputError, ("na.csv: PriceUSD", "or empty")),
    "json-nan": (
        _text("mempool.json", MEMPOOL_TEXT.replace("6.2e+20", "NaN")),
        InputError,
        ("mempool.json: content", "NaN", "finite numbers"),
    ),
    "json-1e999": (
        _text("mempool.json", MEMPOOL_TEXT.replace("6.2e+20", "1e999")),
        InputError,
        ("mempool.json: content", "finite numbers"),
    ),
    "parquet-nan": (_parquet(_DAILY_NAN), InputError, ("daily.parquet: price_usd", "NaN", "a finite number")),
    # special files
    "dev-zero": (_special("/dev/zero"), InputError, ("file: got '/dev/zero'", REGULAR, "character device")),
    "dev-null": (_special("/dev/null"), InputError, ("file: got '/dev/null'", REGULAR, "character device")),
    "directory": (_special("directory"), InputError, ("a_dir.csv", REGULAR, "a directory")),
    "fifo": (_special("fifo"), InputError, ("pipe.csv", REGULAR, "FIFO")),
    "oversized": (_special("oversized"), InputError, ("huge.csv", REGULAR, f"{MAX_INPUT_BYTES + 1:,} bytes")),
    "missing": (_special("missing"), InputError, ("no_such_file.csv", "an existing file")),
}


@pytest.mark.parametrize("case", list(FILE_CASES), ids=list(FILE_CASES))
def test_bad_file_is_refused_whole_and_the_store_is_untouched(home: Path, tmp_path: Path, case: str) -> None:
    make, error, needles = FILE_CASES[case]
    path = make(tmp_path)
    before = _sha(store_path(home))
    t0 = time.perf_counter()
    with pytest.raises(error) as info:
        import_file(path, home=home)
    elapsed = time.perf_counter() - t0
    message = _one_line(info.value)
    for needle in needles:
        assert needle in message, (needle, message)
    assert "allowed:" in message  # what is allowed, always said
    assert _sha(store_path(home)) == before
    assert not store_path(home).with_suffix(".duckdb.wal").exists()
    assert _price_0420(home) == pytest.approx(64907.99, abs=0.01)
    assert elapsed < 5.0, f"{case} took {elapsed:.2f} s"


def test_a_complete_file_still_imports(home: Path, tmp_path: Path) -> None:
    """The control: the good file (ending with its line break) changes nothing, a corrected price one row."""
    (tmp_path / "good.csv").write_text(GOOD_CSV)
    assert import_file(tmp_path / "good.csv", home=home)["rows_changed"] == 0
    (tmp_path / "fixed.csv").write_text(GOOD_CSV.replace(PRICE_0420, "64908.5"))
    assert import_file(tmp_path / "fixed.csv", home=home)["rows_changed"] == 1
    assert _price_0420(home) == 64908.5


def test_crlf_file_and_blank_last_lines_are_whole(home: Path, tmp_path: Path) -> None:
    (tmp_path / "crlf.csv").write_bytes(GOOD_CSV.replace("\n", "\r\n").encode() + b"\r\n  ")
    assert import_file(tmp_path / "crlf.csv", home=home)["rows_read"] == len(ROWS)


# ---------------------------------------------------------------------------------------------- fetched rows
WRITES: dict[str, tuple[str, pd.DataFrame, tuple[str, ...]]] = {
    "daily-future": (
        "daily",
        pd.DataFrame({"date": ["2099-01-01"], "price_usd": [1.0]}),
        ("daily.date", "to ", "(today, UTC)"),
    ),
    "daily-pre-genesis": (
        "daily",
        pd.DataFrame({"date": ["2008-12-31"], "price_usd": [1.0]}),
        ("daily.date", "from 2009-01-03 (the genesis block)"),
    ),
    "daily-inf": (
        "daily",
        pd.DataFrame({"date": ["2024-04-20"], "price_usd": [np.inf]}),
        ("daily.price_usd", "finite"),
    ),
    "blocks-future-time": (
        "blocks",
        pd.DataFrame({"height": [840_000], "time": [4_102_444_800]}),
        ("blocks.time", "2 hours after now"),
    ),
    "retargets-pre-genesis": (
        "retargets",
        pd.DataFrame({"height": [0], "time": [0], "difficulty": [1.0]}),
        ("retargets.time", "from 2009-01-03"),
    ),
}


@pytest.mark.parametrize("case", list(WRITES), ids=list(WRITES))
def test_every_write_path_validates_dates_and_values(home: Path, case: str) -> None:
    """Fetched rows go through the same validation (Store.upsert -> schema.validate_frame) as file rows."""
    table, frame, needles = WRITES[case]
    with Store(home) as store:
        before = store.status()["tables"]
        with pytest.raises(InputError) as info:
            store.upsert(table, frame, "test")  # type: ignore[arg-type]
        assert store.status()["tables"] == before
    message = _one_line(info.value)
    for needle in needles:
        assert needle in message, (needle, message)


def test_json_numbers_must_be_finite() -> None:
    assert loads_json(b'{"a": 1.5e3}') == {"a": 1500.0}
    for text in ('{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', '{"a": 1e999}'):
        with pytest.raises(ValueError, match=r"JSON number|finite"):
            loads_json(text)


# ---------------------------------------------------------------------------------------------- damaged stores
def _flip(data: bytes, offset: int) -> bytes:
    out = bytearray(data)
    out[offset] ^= 0x10
    return bytes(out)


def _daily_block_middle(data: bytes, tmp: Path) -> int:
    """Offset of the middle of the block that holds the daily table's first column."""
    probe = tmp / "probe.duckdb"
    probe.write_bytes(data)
    con = duckdb.connect(str(probe), read_only=True)
    try:
        block_size = con.execute("SELECT block_size FROM pragma_database_size()").fetchone()
        block = con.execute(
            "SELECT min(block_id) FROM pragma_storage_info('daily') WHERE block_id >= 0"
        ).fetchone()
    finally:
        con.close()
    probe.unlink()
    assert block_size is not None and block is not None
    return 3 * 4096 + int(block[0]) * int(block_size[0]) + int(block_size[0]) // 2


DAMAGE: dict[str, Callable[[bytes, Path], bytes]] = {
    "zero-bytes": lambda data, tmp: b"",
    "text": lambda data, tmp: b"price_usd,date\n64908,2024-04-20\n" * 20,
    "header-only": lambda data, tmp: data[: 3 * 4096],
    "half-truncated": lambda data, tmp: data[: len(data) // 2],
    "cut-at-a-block": lambda data, tmp: data[: 3 * 4096 + 262_144],
    "bit-flip-magic": lambda data, tmp: _flip(data, 9),
    "bit-flip-main-header": lambda data, tmp: _flip(data, 100),
    "bit-flip-db-header": lambda data, tmp: _flip(data, 4096 + 24),
    "bit-flip-middle": lambda data, tmp: _flip(data, _daily_block_middle(data, tmp)),
}


def _status(home: Path) -> object:
    with Store(home, read_only=True) as store:
        return store.status()


def _writable(home: Path) -> object:
    with Store(home):
        return None


def _import(home: Path) -> object:
    (home.parent / "good.csv").write_text(GOOD_CSV)
    return import_file(home.parent / "good.csv", home=home)


OPERATIONS: dict[str, Callable[[Path], object]] = {
    "status": _status,
    "snapshot": lambda home: snapshot_for_date("2024-04-20", home=home),
    "daily-frame": lambda home: _price_0420(home),
    "open-writable": _writable,
    "import": _import,
}


@pytest.mark.parametrize("operation", list(OPERATIONS), ids=list(OPERATIONS))
@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_damaged_store_is_an_error_and_is_left_as_it_was(
    home: Path, tmp_path: Path, good_store_bytes: bytes, damage: str, operation: str
) -> None:
    path = store_path(home)
    path.write_bytes(DAMAGE[damage](good_store_bytes, tmp_path))
    before = _sha(path)
    t0 = time.perf_counter()
    with pytest.raises(StoreDamagedError) as info:
        OPERATIONS[operation](home)
    elapsed = time.perf_counter() - t0
    message = _one_line(info.value)
    assert isinstance(info.value, DataError)
    assert message.startswith(f"the store file {path} is damaged (")
    assert message.endswith(
        "restore it from a backup, or move it aside and re-import (hashrisk data import / data fetch)"
    )
    assert _sha(path) == before  # byte-identical: opening never repairs, rewrites or initialises it
    assert sorted(p.name for p in home.iterdir()) == ["hashrisk.duckdb"]  # no WAL, no temp file
    assert elapsed < 5.0


def test_a_directory_in_place_of_the_store_is_damage(tmp_path: Path) -> None:
    (tmp_path / "hashrisk.duckdb").mkdir()
    for read_only in (True, False):
        with pytest.raises(StoreDamagedError, match="not a regular file"):
            Store(tmp_path, read_only=read_only)


def test_a_flip_no_query_reads_changes_no_answer(home: Path, good_store_bytes: bytes) -> None:
    """Bytes in no block in use (free space) are never read: every answer is the intact store's, or an error."""
    intact = _status(home)
    path = store_path(home)
    size = len(good_store_bytes)
    for offset in (size // 2, size - 1000, size // 3):
        path.write_bytes(_flip(good_store_bytes, offset))
        try:
            assert _status(home) == intact
            assert _price_0420(home) == pytest.approx(64907.99, abs=0.01)
        except StoreDamagedError:
            pass


def test_missing_store_is_nothing_stored_not_damage(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no daily price") as info:
        snapshot_for_date("2024-04-20", home=tmp_path)
    assert not isinstance(info.value, StoreDamagedError)
    assert not store_path(tmp_path).exists()


def test_duckdb_errors_are_classified() -> None:
    from hashrisk.data.store import damage_reason

    path = Path("/x/hashrisk.duckdb")
    lock = duckdb.IOException('IO Error: Could not set lock on file "/x/hashrisk.duckdb": Conflicting lock')
    assert damage_reason(lock, path) is None
    assert damage_reason(duckdb.CatalogException("Table with name nope does not exist"), path) is None
    for exc in (
        duckdb.SerializationException("Serialization Error: field id mismatch"),
        duckdb.InternalException("INTERNAL Error: unexpected"),
        duckdb.Error(
            "Corrupt database file: computed checksum 1 does not match stored checksum 2 in block 9"
        ),
        duckdb.IOException(f'IO Error: Could not read enough bytes from file "{path}": attempted to read'),
    ):
        reason = damage_reason(exc, path)
        assert reason is not None and str(path) not in reason and "\n" not in reason


# ---------------------------------------------------------------------------------------------- the real file
@pytest.mark.slow
def test_real_coinmetrics_file_cut_mid_field_is_refused(shared_data: Path, tmp_path: Path) -> None:
    """The battery's case: the full 2009-2025 history imported, then the same file cut inside 2024-04-20's price."""
    source = shared_data / "btc_daily_coinmetrics_2009-01-03_to_2025-09-26.csv"
    home = tmp_path / "home"
    import_file(source, home=home)
    data = source.read_bytes()
    start = data.index(b"2024-04-20T")
    cut = data.index(b",", data.index(b"\n", start) - 30) + 3  # inside the 2024-04-20 PriceUSD field
    assert cut < data.index(b"\n", start)
    (tmp_path / "cut.csv").write_bytes(data[:cut])
    before = _sha(store_path(home))
    with pytest.raises(InputError, match=r"cut.csv: line \d+, field PriceUSD") as info:
        import_file(tmp_path / "cut.csv", home=home)
    assert "a complete last line" in _one_line(info.value)
    assert _sha(store_path(home)) == before
    with Store(home, read_only=True) as store:
        row = store.daily_frame(source="coinmetrics").loc["2024-04-20"]
    assert row["price_usd"] == pytest.approx(64907.99, abs=0.01)


def test_limit_fits_the_reference_files_with_room(shared_data: Path) -> None:
    assert MAX_INPUT_BYTES == 256 * 2**20
    largest = max(p.stat().st_size for p in shared_data.iterdir() if p.is_file())
    assert largest * 100 < MAX_INPUT_BYTES  # the full 2009-2025 daily files are about 1 MB


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_refusing_a_fifo_reads_nothing_and_does_not_block(tmp_path: Path) -> None:
    """A FIFO with no writer would block a reader forever: it is refused at once, and no store is created."""
    os.mkfifo(tmp_path / "p.csv")
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="FIFO"):
        import_file(tmp_path / "p.csv", home=tmp_path / "home")
    assert time.perf_counter() - t0 < 2.0
    assert stat.S_ISFIFO((tmp_path / "p.csv").stat().st_mode)
    assert not (tmp_path / "home").exists()
