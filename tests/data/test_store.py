"""The DuckDB store: upserts, validation, transactions, migrations, locking, reads and status."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from hashrisk.data import store as store_mod
from hashrisk.data import stored_snapshot
from hashrisk.data.schema import MIGRATIONS, SCHEMA_VERSION
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.data.store import Store, default_home
from hashrisk.data.stored_snapshot import snapshot_for_date
from hashrisk.errors import DataError, InputError


def _daily(days: int = 5, start: str = "2024-01-01", price: float = 40_000.0) -> pd.DataFrame:
    dates = pd.date_range(start, periods=days, freq="D")
    return pd.DataFrame(
        {
            "date": [d.strftime("%Y-%m-%d") for d in dates],
            "price_usd": price + np.arange(days, dtype=float),
            "hashrate_ths": 5e8 + np.arange(days, dtype=float),
            "difficulty": 7e13,
            "blocks": 144,
            "fees_btc": 20.0,
            "subsidy_btc": 900.0,
        }
    )


def _table(store: Store, table: str) -> list[tuple[object, ...]]:
    """Every stored row, provenance included, in key order."""
    key = "date, source" if table == "daily" else "height"
    return store.con.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()


@pytest.fixture()
def store(hashrisk_home: Path) -> Store:
    with Store() as s:
        yield s


# ---------------------------------------------------------------------------------------------- paths
def test_default_home_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HASHRISK_HOME", str(tmp_path / "env"))
    assert default_home(tmp_path / "arg") == tmp_path / "arg"
    assert default_home() == tmp_path / "env"
    monkeypatch.delenv("HASHRISK_HOME")
    assert default_home().name == "hashrisk"


def test_store_file_lives_in_home(hashrisk_home: Path) -> None:
    with Store() as s:
        assert s.path == hashrisk_home / "hashrisk.duckdb"
        assert s.schema_version() == SCHEMA_VERSION
    assert (hashrisk_home / "hashrisk.duckdb").is_file()


def test_read_only_on_missing_store_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "nowhere"
    with Store(home, read_only=True) as s:
        status = s.status()
        assert s.daily_frame().empty
        assert s.last_block_height() is None
    assert status["exists"] is False
    assert status["tables"]["daily"]["rows"] == 0
    assert not home.exists()


# ---------------------------------------------------------------------------------------------- upserts
def test_upsert_is_idempotent_byte_for_byte(store: Store) -> None:
    assert store.upsert_daily(_daily(), "coinmetrics") == 5
    before = _table(store, "daily")
    assert store.upsert_daily(_daily(), "coinmetrics") == 0
    assert _table(store, "daily") == before  # fetched_at included: unchanged rows are not touched


def test_upsert_changes_only_changed_rows(store: Store) -> None:
    store.upsert_daily(_daily(), "coinmetrics")
    before = {r[0]: r for r in _table(store, "daily")}
    changed = _daily()
    changed.loc[2, "price_usd"] = 1.0
    time.sleep(0.01)
    assert store.upsert_daily(changed, "coinmetrics") == 1
    after = {r[0]: r for r in _table(store, "daily")}
    assert [d for d in after if after[d] != before[d]] == [dt.date(2024, 1, 3)]
    assert after[dt.date(2024, 1, 3)][-1] > before[dt.date(2024, 1, 3)][-1]  # fetched_at bumped


def test_missing_values_do_not_erase_daily_values(store: Store) -> None:
    store.upsert_daily(_daily(), "coinmetrics")
    partial = _daily()[["date", "price_usd"]].assign(price_usd=np.nan)
    partial["hashrate_ths"] = 1.0
    assert store.upsert_daily(partial, "coinmetrics") == 5
    frame = store.daily_frame(source="coinmetrics")
    assert (frame["hashrate_ths"] == 1.0).all()
    assert frame["price_usd"].tolist() == _daily()["price_usd"].tolist()  # NaN did not erase
    assert (frame["difficulty"] == 7e13).all()  # absent column untouched


def test_derived_cells_only_fill_gaps_whatever_the_order(hashrisk_home: Path) -> None:
    measured = _daily()[["date", "blocks"]]
    derived = measured.assign(blocks=[150, 150, 150, 150, 150])
    mask = pd.DataFrame({"blocks": [True, True, False, True, True]}, index=derived.index)
    derived.loc[2, "blocks"] = 151  # a measured cell in the derived batch: it replaces
    for order in ("measured first", "derived first"):
        with Store(hashrisk_home / order) as s:
            if order == "measured first":
                s.upsert_daily(measured, "coinmetrics")
                assert s.upsert_daily(derived, "coinmetrics", derived=mask) == 1
            else:
                s.upsert_daily(derived, "coinmetrics", derived=mask)
                s.upsert_daily(measured, "coinmetrics")
                assert s.upsert_daily(derived, "coinmetrics", derived=mask) == 1
            blocks = s.daily_frame()["blocks"].tolist()
            assert blocks == [144, 144, 151, 144, 144], order


def test_source_is_part_of_the_daily_key(store: Store) -> None:
    store.upsert_daily(_daily(), "coinmetrics")
    store.upsert_daily(_daily(price=1.0), "mempool")
    assert store.status()["tables"]["daily"]["rows"] == 10
    assert store.sources() == ["coinmetrics", "mempool"]


def test_daily_frame_prefers_sources_in_order(store: Store) -> None:
    store.upsert_daily(_daily(3, price=1.0), "zzz")
    store.upsert_daily(_daily(3, price=2.0), "mempool")
    store.upsert_daily(_daily(2, price=3.0), "blockchain")
    store.upsert_daily(_daily(1, price=4.0), "coinmetrics")
    store.upsert_daily(_daily(4, price=5.0), "aaa")
    frame = store.daily_frame()
    assert frame["source"].tolist() == ["coinmetrics", "blockchain", "mempool", "aaa"]
    assert frame.index.tz is not None and str(frame.index.tz) == "UTC"
    assert frame.index.name == "date"
    assert store.daily_frame(source="zzz")["price_usd"].tolist() == [1.0, 2.0, 3.0]
    assert len(store.daily_frame(start="2024-01-02", end="2024-01-03")) == 2


def test_datetime_index_and_long_decimal_strings_are_accepted(store: Store) -> None:
    frame = pd.DataFrame(
        {"hashrate_ths": ["934017374.016968059335586094582167936278", "1e9"]},
        index=pd.DatetimeIndex(["2025-09-26", "2025-09-27"], tz="UTC", name="date"),
    )
    assert store.upsert_daily(frame, "coinmetrics") == 2
    assert store.daily_frame()["hashrate_ths"].iloc[0] == pytest.approx(934017374.016968)


# ---------------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("column", "value", "field", "allowed"),
    [
        ("price_usd", -5.0, "daily.price_usd", "> 0"),
        ("price_usd", "abc", "daily.price_usd", "> 0"),
        ("blocks", 1.5, "daily.blocks", "whole number"),
        ("hashrate_ths", float("inf"), "daily.hashrate_ths", "finite"),
        ("date", "2024-13-45", "daily.date", "calendar day"),
        ("date", "2024-01-03T12:00:00Z", "daily.date", "00:00"),
    ],
)
def test_bad_values_raise_naming_field_value_and_record(
    store: Store, column: str, value: object, field: str, allowed: str
) -> None:
    frame = _daily()
    frame[column] = frame[column].astype(object)
    frame.loc[2, column] = value
    with pytest.raises(InputError) as info:
        store.upsert_daily(frame, "coinmetrics")
    err = info.value
    assert err.field == field
    assert err.value == value
    assert allowed in err.allowed
    assert "row 2" in str(err) and "coinmetrics" in str(err) and "nothing was written" in str(err)
    assert store.status()["tables"]["daily"]["rows"] == 0


def test_record_named_by_its_date(store: Store) -> None:
    frame = _daily()
    frame.loc[3, "price_usd"] = -1.0
    with pytest.raises(InputError, match=r"date=2024-01-04 \(row 3\)"):
        store.upsert_daily(frame, "coinmetrics")


def test_duplicate_and_unknown_columns_rejected(store: Store) -> None:
    frame = _daily()
    frame.loc[4, "date"] = frame.loc[0, "date"]
    with pytest.raises(InputError, match="unique"):
        store.upsert_daily(frame, "x")
    with pytest.raises(InputError, match="subset"):
        store.upsert_daily(_daily().assign(colour="red"), "x")
    with pytest.raises(InputError, match="key 'date'"):
        store.upsert_daily(pd.DataFrame({"price_usd": [1.0]}), "x")
    with pytest.raises(InputError, match="source"):
        store.upsert_daily(_daily(), "")


def test_batch_is_all_or_nothing(store: Store) -> None:
    store.upsert_daily(_daily(), "coinmetrics")
    before = _table(store, "daily")
    bad = _daily(10, start="2023-12-30", price=1.0)
    bad.loc[8, "price_usd"] = -1.0  # the last rows are valid updates; one bad row stops all
    with pytest.raises(InputError):
        store.upsert_daily(bad, "coinmetrics")
    assert _table(store, "daily") == before


def test_transaction_rolls_back_every_batch(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.upsert_daily(_daily(), "coinmetrics")
        store.upsert_retargets(pd.DataFrame({"height": [0, 2016], "difficulty": [1.0, 1.0]}), "mempool")
        raise RuntimeError("failure after two batches")
    assert _table(store, "daily") == []
    assert _table(store, "retargets") == []
    assert store.upsert_daily(_daily(), "coinmetrics") == 5  # the store is usable afterwards


def test_read_only_store_refuses_writes(hashrisk_home: Path) -> None:
    Store().close()
    with Store(read_only=True) as s, pytest.raises(DataError, match="read-only"):
        s.upsert_daily(_daily(), "x")


# ---------------------------------------------------------------------------------------------- blocks & retargets
GENESIS_HASH = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"


def _blocks(n: int = 6, salt: str = "a") -> pd.DataFrame:
    heights = np.arange(n)
    return pd.DataFrame(
        {
            "height": heights,
            "hash": [GENESIS_HASH if h == 0 else f"{salt}{h:063x}" for h in heights],
            "time": 1_231_006_505 + 600 * heights,
            "mediantime": [dt.datetime(2009, 1, 3, 18, 15, 5, tzinfo=dt.UTC)] * n,
            "bits": pd.Series(["1d00ffff"] * n, dtype=object),
            "difficulty": 1.0,
            "chainwork": [(h + 1) * 2**32 + 2**32 for h in heights],
            "subsidy_sats": 5_000_000_000,
            "fees_sats": 0,
            "tx_count": 1,
        }
    )


def test_blocks_roundtrip_and_resume_helpers(store: Store) -> None:
    frame = _blocks()
    frame["chainwork"] = frame["chainwork"].astype(object)
    frame.loc[1, "chainwork"] = hex(frame.loc[1, "chainwork"])  # 0x-hex string
    frame.loc[2, "chainwork"] = str(frame.loc[2, "chainwork"])  # decimal string
    frame.loc[3, "bits"] = 0x1D00FFFF
    assert store.upsert_blocks(frame, "bitcoind") == 6
    assert store.upsert_blocks(frame, "bitcoind") == 0
    out = store.blocks_frame()
    assert out.index.name == "height" and out.index.tolist() == list(range(6))
    assert out["chainwork"].tolist() == [(h + 2) * 2**32 for h in range(6)]
    assert set(out["bits"]) == {"1d00ffff"}
    assert out["time"].iloc[0] == pd.Timestamp("2009-01-03 18:15:05", tz="UTC")
    assert out["subsidy_sats"].dtype == "Int64"
    assert store.last_block_height() == 5
    assert store.block_hash(0) == GENESIS_HASH
    assert store.block_hash(99) is None
    assert len(store.blocks_frame(start=2, end=3)) == 2


def test_rollback_and_reorg(store: Store) -> None:
    store.upsert_blocks(_blocks(), "bitcoind")
    assert store.rollback_blocks(4) == 2
    assert store.last_block_height() == 3
    fork = _blocks(5, salt="b").iloc[3:]
    assert store.upsert_blocks(fork, "bitcoind") == 2
    assert store.block_hash(3) == f"b{3:063x}"
    with pytest.raises(InputError):
        store.rollback_blocks(-1)


@pytest.mark.parametrize(
    ("column", "value", "allowed"),
    [
        ("hash", "xyz", "64 hex"),
        ("bits", "not-hex", "compact target"),
        ("chainwork", 2**256, "2**256"),
        ("chainwork", "abcdef", "0x-hex"),
        ("height", -1, ">= 0"),
    ],
)
def test_bad_block_values(store: Store, column: str, value: object, allowed: str) -> None:
    frame = _blocks().astype({column: object})
    frame.loc[1, column] = value
    with pytest.raises(InputError) as info:
        store.upsert_blocks(frame, "bitcoind")
    assert info.value.field == f"blocks.{column}"
    assert allowed in info.value.allowed


def test_retargets_validate_heights_and_keep_256_bit_targets(store: Store) -> None:
    target = 0x00000000FFFF0000000000000000000000000000000000000000000000000000
    frame = pd.DataFrame(
        {
            "height": [0, 2016],
            "target": [target, target],
            "difficulty": [1.0, 1.0],
            "time": ["2009-01-03T18:15:05Z", "2009-01-27T13:38:51Z"],
        }
    )
    assert store.upsert_retargets(frame, "electrum") == 2
    out = store.retargets_frame()
    assert out["target"].tolist() == [target, target]
    with pytest.raises(InputError, match="multiple of 2016"):
        store.upsert_retargets(frame.assign(height=[0, 2015]), "electrum")


# ---------------------------------------------------------------------------------------------- status & export
def test_status_lists_gaps_capped(store: Store) -> None:
    days = _daily(40)
    kept = days.iloc[[i for i in range(40) if i % 3 != 1]]  # 13 one-day gaps
    store.upsert_daily(kept, "coinmetrics")
    store.upsert_retargets(pd.DataFrame({"height": [0, 2016, 8064], "difficulty": 1.0}), "mempool")
    status = store.status(gaps_cap=5)
    daily = status["tables"]["daily"]["sources"]["coinmetrics"]
    assert daily["rows"] == len(kept) and daily["missing"] == 13
    assert daily["min"] == "2024-01-01" and daily["max"] == "2024-02-09"
    assert daily["gaps"][0] == ["2024-01-02", "2024-01-02"]
    assert len(daily["gaps"]) == 5 and daily["gaps_truncated"] is True
    retargets = status["tables"]["retargets"]["sources"]["mempool"]
    assert retargets["gaps"] == [[4032, 6048]] and retargets["missing"] == 2
    assert status["last_import"]["table"] == "retargets"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_reads_back(store: Store, tmp_path: Path, fmt: str) -> None:
    store.upsert_daily(_daily(), "coinmetrics")
    out = tmp_path / f"daily.{fmt}"
    assert store.export("daily", out, fmt) == 5  # type: ignore[arg-type]
    back = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
    assert list(back.columns[:3]) == ["date", "price_usd", "hashrate_ths"]
    assert back["price_usd"].tolist() == _daily()["price_usd"].tolist()


# ---------------------------------------------------------------------------------------------- migrations
def _old_store(home: Path, version: int) -> Path:
    """A store file as an older hashrisk left it: migrations up to `version` only, with a row."""
    home.mkdir(parents=True)
    path = home / "hashrisk.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMP)"
    )
    for step in MIGRATIONS[:version]:
        for statement in step.statements:
            con.execute(statement)
        con.execute(
            "INSERT INTO schema_version VALUES (?, ?, now()::TIMESTAMP)", [step.version, step.description]
        )
    con.execute(
        "INSERT INTO daily (date, source, price_usd, fetched_at) "
        "VALUES ('2024-01-01', 'coinmetrics', 42000, '2024-01-02 00:00:00')"
    )
    con.close()
    return path


@pytest.mark.parametrize("read_only", [False, True])
def test_older_schema_is_migrated_on_open(tmp_path: Path, read_only: bool) -> None:
    assert SCHEMA_VERSION > 1
    home = tmp_path / "old"
    _old_store(home, version=1)
    with Store(home, read_only=read_only) as s:
        assert s.schema_version() == SCHEMA_VERSION
        assert s.daily_frame()["price_usd"].tolist() == [42000.0]
        versions = [r[0] for r in s.con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()]
    assert versions == [m.version for m in MIGRATIONS]
    with Store(home) as s:  # the migrated store takes writes (imports log from migration 2)
        assert s.upsert_daily(_daily(), "coinmetrics") == 5
        assert s.status()["last_import"]["rows_changed"] == 5


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "new"
    path = _old_store(home, version=SCHEMA_VERSION)
    con = duckdb.connect(str(path))
    con.execute(
        "INSERT INTO schema_version VALUES (?, 'from the future', now()::TIMESTAMP)", [SCHEMA_VERSION + 1]
    )
    con.close()
    with pytest.raises(DataError, match="newer"):
        Store(home)


def test_not_a_duckdb_file(tmp_path: Path) -> None:
    (tmp_path / "hashrisk.duckdb").write_text("hello")
    with pytest.raises(DataError, match=r"is damaged \(not a DuckDB database file"):
        Store(tmp_path)
    assert (tmp_path / "hashrisk.duckdb").read_text() == "hello"


# ---------------------------------------------------------------------------------------------- locking
_HOLDER = textwrap.dedent(
    """
    import sys, time
    from hashrisk.data.store import Store
    with Store(sys.argv[1]) as s:
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
    print("released", flush=True)
    """
)


def _hold_lock(home: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(home), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


@pytest.mark.slow
def test_second_writer_gets_a_clear_error_then_succeeds(hashrisk_home: Path) -> None:
    with Store() as s:
        s.upsert_daily(_daily(), "coinmetrics")
    proc = _hold_lock(hashrisk_home, 3.0)
    try:
        start = time.monotonic()
        with pytest.raises(DataError) as info:
            Store(lock_timeout_s=0.5)
        waited = time.monotonic() - start
        assert 0.4 < waited < 2.5
        assert str(info.value).startswith(f"store {hashrisk_home / 'hashrisk.duckdb'} is locked by another")
        assert "retry later" in str(info.value)
        with Store(lock_timeout_s=20) as s:  # waits for the holder, then writes
            assert s.upsert_daily(_daily(7), "coinmetrics") == 2
    finally:
        proc.wait(timeout=20)
    with Store(read_only=True) as s:
        assert len(s.daily_frame()) == 7


def test_reader_in_the_writing_process_shares_the_file(hashrisk_home: Path) -> None:
    with Store() as writer:
        writer.upsert_daily(_daily(), "coinmetrics")
        with Store(read_only=True) as reader:
            assert len(reader.daily_frame()) == 5


# ---------------------------------------------------------------------------------------------- snapshot
def _history(days: int) -> pd.DataFrame:
    """A synthetic daily history from genesis: 144 blocks/day, prices rising 1 USD/day."""
    frame = _daily(days, start="2009-01-03", price=100.0)
    frame["hashrate_ths"] = np.arange(days, dtype=float) + 1.0
    frame["fees_btc"] = 14.4
    return frame


def test_snapshot_for_date_from_synthetic_history(hashrisk_home: Path) -> None:
    with Store() as s:
        s.upsert_daily(_history(30), "coinmetrics")
    snap = snapshot_for_date("2009-01-22")  # day index 19
    assert snap.price_usd == 119.0
    assert snap.hashrate_ths == pytest.approx(np.mean(np.arange(14, 21)))  # 7 days to the 20th value
    assert snap.fees_btc_per_block == pytest.approx(0.1)
    assert snap.height == 20 * 144
    assert snap.sources["price_usd"] == "store: coinmetrics 2009-01-22"
    assert "cumulative daily blocks" in snap.sources["height"]


def test_snapshot_height_prefers_blocks_and_needs_a_genesis_series(hashrisk_home: Path) -> None:
    with Store() as s:
        s.upsert_daily(_daily(10, start="2024-01-01"), "coinmetrics")
    with pytest.raises(DataError, match="cannot estimate the block height"):
        snapshot_for_date("2024-01-05")
    assert snapshot_for_date("2024-01-05", height=840_000).height == 840_000
    with Store() as s:
        s.upsert_blocks(
            pd.DataFrame(
                {"height": [830_000, 830_001], "time": ["2024-01-05T23:00:00Z", "2024-01-06T00:10:00Z"]}
            ),
            "bitcoind",
        )
    snap = snapshot_for_date(dt.date(2024, 1, 5))
    assert snap.height == 830_000 and "bitcoind blocks" in snap.sources["height"]


def test_snapshot_without_data_says_what_is_stored(hashrisk_home: Path) -> None:
    with pytest.raises(DataError, match=r"holds no daily data.*hashrisk data import FILE"):
        snapshot_for_date("2024-01-01")
    with Store() as s:
        s.upsert_daily(_daily(3), "coinmetrics")
    with pytest.raises(
        DataError, match=r"coinmetrics: 2024-01-01\.\.2024-01-03.*data fetch --source coinmetrics"
    ):
        snapshot_for_date("2025-01-01")


def test_stored_snapshot_is_a_network_snapshot(hashrisk_home: Path) -> None:
    with Store() as s:
        s.upsert_daily(_history(10), "coinmetrics")
    snap = snapshot_for_date("2009-01-10")
    assert isinstance(snap, NetworkSnapshot) and snap.price_usd == 107.0


def test_snapshot_difficulty_falls_back_to_the_retarget_in_force(hashrisk_home: Path) -> None:
    with Store() as s:
        s.upsert_daily(_history(10).drop(columns="difficulty"), "coinmetrics")
        s.upsert_retargets(
            pd.DataFrame(
                {
                    "height": [0, 2016],
                    "time": ["2009-01-03T18:15:05Z", "2009-01-11T00:00:00Z"],
                    "difficulty": [1.0, 2.0],
                }
            ),
            "mempool",
        )
    snap = snapshot_for_date("2009-01-10")
    assert snap.difficulty == 1.0
    assert snap.sources["difficulty"] == "store: mempool retarget at height 0 (in force on 2009-01-10)"
    assert snapshot_for_date("2009-01-11").difficulty == 2.0


def test_store_queries_for_the_snapshot_builder(store: Store) -> None:
    assert store.retarget_in_force("2024-01-01") is None
    assert store.last_block_by("2024-01-01") is None
    assert store.daily_coverage("2024-01-01") == []
    store.upsert_daily(_history(5), "coinmetrics")
    store.upsert_daily(_daily(3, start="2009-01-04").drop(columns="blocks"), "blockchain")
    store.upsert_blocks(
        pd.DataFrame({"height": [7, 8], "time": ["2009-01-05T23:59:59Z", "2009-01-06T00:00:00Z"]}), "bitcoind"
    )
    store.upsert_retargets(pd.DataFrame({"height": [0], "time": ["2009-01-03T18:15:05Z"]}), "mempool")
    assert store.last_block_by("2009-01-05") == (7, "bitcoind")
    assert store.last_block_by(dt.date(2009, 1, 6)) == (8, "bitcoind")
    assert store.retarget_in_force("2009-01-05") is None  # no difficulty stored
    cover = store.daily_coverage("2009-01-05")
    assert [tuple(c) for c in cover] == [
        ("blockchain", dt.date(2009, 1, 4), 2, 0, 0),
        ("coinmetrics", dt.date(2009, 1, 3), 3, 3, 3 * 144),
    ]


def test_module_exports_the_documented_api() -> None:
    for name in ("default_home", "store_path", "Store", "StoreDamagedError", "check_store_file"):
        assert hasattr(store_mod, name)
    assert hasattr(stored_snapshot, "snapshot_for_date")
    for method in (
        "upsert_daily",
        "upsert_blocks",
        "upsert_retargets",
        "daily_frame",
        "blocks_frame",
        "retargets_frame",
        "last_block_height",
        "block_hash",
        "rollback_blocks",
        "status",
        "retarget_in_force",
        "last_block_by",
        "daily_coverage",
        "verify",
    ):
        assert callable(getattr(Store, method))
