"""Import of the real reference files in ../shared/data (read in place, never copied; skipped when absent).

Checks the Coin Metrics identities on what the store holds, and snapshot_for_date against Electrum's
consensus checkpoints.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hashrisk.chain.subsidy import COIN_SATS, HALVING_INTERVAL_BLOCKS, block_subsidy_sats
from hashrisk.data.files import import_file
from hashrisk.data.store import Store
from hashrisk.data.stored_snapshot import snapshot_for_date

CM_HISTORY = "btc_daily_coinmetrics_2009-01-03_to_2025-09-26.csv"
CM_RECENT = "btc_daily_coinmetrics_2020-01-01_to_2025-12-31.csv"
CM_NATIVE = "btc_daily_coinmetrics_native_fees_issuance_2009-01-03_to_2019-10-20.csv"
MERGED = "btc_daily_mining_merged_2009-01-03_to_2025-12-31.csv"
MEMPOOL = "btc_mempool_hashrate_difficulty_2009-01-03_to_2025-03-22.json"
ELECTRUM = "btc_retarget_targets_electrum_2009_to_height_931391.csv"

HALVING_DAYS = ["2012-11-28", "2016-07-09", "2020-05-11", "2024-04-20"]
"""UTC days of the halvings at heights 210,000 / 420,000 / 630,000 / 840,000 (two subsidies that day)."""
CM_QUIRK_DAYS = ["2024-04-19", "2022-09-09", "2022-09-10", "2022-09-11", "2022-09-12"]
"""Days where CM issuance differs from BlkCnt x subsidy (SOURCES.md, file 4 quirks)."""


def _electrum_difficulty(shared: Path, first_height: int) -> float:
    with (shared / ELECTRUM).open(newline="") as handle:
        for row in csv.DictReader(handle):
            if int(row["period_first_height"]) == first_height:
                return float(row["difficulty"])
    raise AssertionError(f"no Electrum period starting at {first_height}")


def _cm_value(shared: Path, name: str, day: str, column: str) -> float:
    with (shared / name).open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            if (row.get("date") or row["time"])[:10] == day:
                return float(row[column])
    raise AssertionError(f"{day} not in {name}")


def _era_subsidy_btc(index: pd.DatetimeIndex) -> np.ndarray:
    """Per-block subsidy of each day's era [BTC], from the consensus rule (era = halvings before the day)."""
    era = np.zeros(len(index), dtype=int)
    for day in HALVING_DAYS:
        era += np.asarray(index > pd.Timestamp(day, tz="UTC"), dtype=int)
    return np.array([block_subsidy_sats(int(e) * HALVING_INTERVAL_BLOCKS) / COIN_SATS for e in era])


@pytest.fixture(scope="module")
def history_home(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the full CM daily history (file 1) and the mempool export (file 6)."""
    home = tmp_path_factory.mktemp("reference-store")
    report = import_file(shared_data / CM_HISTORY, home=home)
    assert report["rows_changed"] == 6111
    import_file(shared_data / MEMPOOL, home=home)
    return home


def _source_frame(home: Path, source: str) -> pd.DataFrame:
    with Store(home, read_only=True) as store:
        return store.daily_frame(source=source)


def _check_identities(frame: pd.DataFrame) -> int:
    """Assert the hashrate and issuance identities on `frame`; return the number of days checked."""
    blocks = frame["blocks"].astype("float64")
    rate = frame[["hashrate_ths", "difficulty"]].assign(blocks=blocks).dropna()
    implied = rate["difficulty"] * 2**32 * rate["blocks"] / 86_400 / 1e12
    np.testing.assert_allclose(rate["hashrate_ths"], implied, rtol=1e-6, atol=0.0)

    skip = pd.DatetimeIndex(HALVING_DAYS + CM_QUIRK_DAYS, tz="UTC")
    issued = frame[["subsidy_btc"]].assign(blocks=blocks).dropna()
    issued = issued.loc[~issued.index.isin(skip)]
    expected = issued["blocks"] * _era_subsidy_btc(pd.DatetimeIndex(issued.index))
    np.testing.assert_allclose(issued["subsidy_btc"], expected, rtol=1e-9, atol=1e-9)
    halvings = pd.DatetimeIndex(HALVING_DAYS, tz="UTC")
    on_halvings = frame.loc[frame.index.isin(halvings)].dropna(subset=["subsidy_btc", "blocks"])
    old_era = on_halvings["blocks"].astype("float64") * _era_subsidy_btc(pd.DatetimeIndex(on_halvings.index))
    # those days mix both subsidies (CM books all of 2024-04-20 at the new one): below all-old
    assert (on_halvings["subsidy_btc"] < old_era - 1).all() and (
        on_halvings["subsidy_btc"] >= old_era / 2 - 1e-6
    ).all()
    return len(rate) + len(issued)


def test_cm_history_import_keeps_the_identities(history_home: Path) -> None:
    frame = _source_frame(history_home, "coinmetrics")
    assert len(frame) == 6111
    assert frame.index[0] == pd.Timestamp("2009-01-03", tz="UTC")
    assert frame.index[-1] == pd.Timestamp("2025-09-26", tz="UTC")
    assert _check_identities(frame) > 11_000


@pytest.mark.parametrize("name", [MERGED, CM_NATIVE, CM_RECENT])
def test_other_daily_files_keep_the_identities(shared_data: Path, tmp_path: Path, name: str) -> None:
    report = import_file(shared_data / name, home=tmp_path)
    (batch,) = report["batches"]
    frame = _source_frame(tmp_path, batch["source"])
    assert len(frame) == batch["rows"]
    assert _check_identities(frame) > 3_000


def test_reimport_changes_nothing(history_home: Path, shared_data: Path) -> None:
    with Store(history_home, read_only=True) as store:
        before = store.con.execute("SELECT * FROM daily ORDER BY date, source").fetchall()
    report = import_file(shared_data / CM_HISTORY, home=history_home)
    assert report["rows_changed"] == 0 and report["rows_read"] == 6111
    with Store(history_home, read_only=True) as store:
        assert store.con.execute("SELECT * FROM daily ORDER BY date, source").fetchall() == before


def test_status_of_the_reference_store(history_home: Path) -> None:
    with Store(history_home, read_only=True) as store:
        status = store.status()
    cm = status["tables"]["daily"]["sources"]["coinmetrics"]
    assert (cm["rows"], cm["min"], cm["max"], cm["missing"], cm["gaps"]) == (
        6111,
        "2009-01-03",
        "2025-09-26",
        0,
        [],
    )
    mempool = status["tables"]["retargets"]["sources"]["mempool"]
    assert mempool["rows"] == 426 and mempool["max"] == 887_040
    assert mempool["gaps"] == [[2016, 30240]]  # 2009 periods without a difficulty change are omitted


def test_snapshot_on_the_2024_halving_day(history_home: Path, shared_data: Path) -> None:
    electrum = _electrum_difficulty(shared_data, 838_656)  # period of heights 838,656 .. 840,671
    assert electrum == pytest.approx(86_388_558_925_171, abs=1.0)
    snap = snapshot_for_date("2024-04-20", home=history_home)
    assert snap.date == dt.date(2024, 4, 20)
    assert snap.price_usd == _cm_value(shared_data, CM_HISTORY, "2024-04-20", "PriceUSD")
    assert snap.difficulty == pytest.approx(electrum, rel=1e-3)
    assert snap.height >= 840_000 and snap.subsidy_btc == 3.125
    assert 5e8 < snap.hashrate_ths < 7e8  # ~630 EH/s that week
    assert 0 < snap.fees_btc_per_block < 50
    assert snap.sources["price_usd"] == "store: coinmetrics 2024-04-20"


def test_snapshot_late_2025_from_the_recent_file(shared_data: Path, tmp_path: Path) -> None:
    import_file(shared_data / CM_RECENT, home=tmp_path)
    snap = snapshot_for_date("2025-12-31", home=tmp_path, height=930_000)
    assert snap.price_usd == pytest.approx(87_516.9780376972)
    # difficulty derived from HashRate and issuance-derived blocks matches the consensus checkpoint
    assert snap.difficulty == pytest.approx(_electrum_difficulty(shared_data, 929_376), rel=1e-6)
    assert snap.fees_btc_per_block == pytest.approx(3.05108551 / 133)


def test_mempool_retargets_match_electrum(history_home: Path, shared_data: Path) -> None:
    with Store(history_home, read_only=True) as store:
        mempool = store.retargets_frame(source="mempool")["difficulty"]
    electrum = pd.read_csv(shared_data / ELECTRUM).set_index("period_first_height")["difficulty"]
    common = mempool.index.intersection(electrum.index)
    assert len(common) > 400
    np.testing.assert_allclose(mempool.loc[common], electrum.loc[common], rtol=1e-9)


def test_import_order_does_not_change_the_merged_result(shared_data: Path, tmp_path: Path) -> None:
    """Measured values win over derived ones whichever file comes first (derived cells only fill gaps)."""
    files = [CM_HISTORY, CM_RECENT, CM_NATIVE]
    frames = []
    for order in (files, files[::-1]):
        home = tmp_path / str(len(frames))
        for name in order:
            import_file(shared_data / name, home=home)
        frames.append(_source_frame(home, "coinmetrics").drop(columns="fetched_at"))
    pd.testing.assert_frame_equal(
        frames[0], frames[1], check_exact=False, rtol=1e-6
    )  # revised CM prices differ ~1e-7
    blocks = frames[0]["blocks"]
    assert blocks.loc["2024-04-19"] == 151  # CM's BlkCnt, not the issuance-derived 149
    assert blocks.notna().all()
