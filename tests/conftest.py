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


@pytest.fixture()
def hashrisk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty, private HASHRISK_HOME for the test (the user's real store is never touched)."""
    home = tmp_path / "hashrisk-home"
    home.mkdir()
    monkeypatch.setenv("HASHRISK_HOME", str(home))
    return home
