"""Shared test fixtures.

The reference data in ../shared/data (Coin Metrics, CC BY-NC 4.0, and other public files) is read in place and
never copied into the project; tests that need it skip with a reason when the folder is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get("HASHRISK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the reference data (../shared/data next to the checkout, or $HASHRISK_SHARED_DATA)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"reference data folder {SHARED_DATA} is absent (set HASHRISK_SHARED_DATA to point at it)"
        )
    return SHARED_DATA


CM_HISTORY = "btc_daily_coinmetrics_2009-01-03_to_2025-09-26.csv"
MEMPOOL = "btc_mempool_hashrate_difficulty_2009-01-03_to_2025-03-22.json"


@pytest.fixture(scope="session")
def reference_home(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the Coin Metrics daily history and the mempool.space hashrate/difficulty export,
    imported once per session. Shared: tests only read it."""
    from hashrisk.data.files import import_file

    home = tmp_path_factory.mktemp("reference-home")
    import_file(shared_data / CM_HISTORY, home=home)
    import_file(shared_data / MEMPOOL, home=home)
    return home


@pytest.fixture()
def hashrisk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty, private HASHRISK_HOME for the test (the user's real store is never touched)."""
    home = tmp_path / "hashrisk-home"
    home.mkdir()
    monkeypatch.setenv("HASHRISK_HOME", str(home))
    return home
