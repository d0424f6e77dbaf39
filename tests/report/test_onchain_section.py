"""The report's "Pools and coinbase flows" section on a synthetic store synced from the local stand-in."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

from servers import onchain_store

from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.data.store import Store
from hashrisk.report.context import ReportContext, load_onchain
from hashrisk.report.model import Chart, Figures, Section, Skipped, Table
from hashrisk.report.sections_onchain import onchain_section


@dataclasses.dataclass(frozen=True)
class _Ctx(ReportContext):
    """ReportContext with the field context.py will carry (until it does)."""

    onchain: dict | None = None  # type: ignore[type-arg]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("onchain-report")
    onchain_store(out, 400)
    return out


def test_section_from_stored_blocks(home: Path) -> None:
    with Store(home, read_only=True) as store:
        data = load_onchain(store)
    assert data is not None and len(data["block_pools"]) == 400
    section = onchain_section(_Ctx(snapshot=NetworkSnapshot.embedded(), onchain=data))
    assert isinstance(section, Section) and section.key == "onchain"
    figures = next(b for b in section.blocks if isinstance(b, Figures))
    by_key = {f.key: f for f in figures.items}
    assert by_key["onchain_blocks"].value == 400
    assert by_key["onchain_top_pool_share"].value == 0.25
    moved = sum(50 + 1e-5 for h in range(299) if h % 3 == 1)
    assert by_key["onchain_moved_share"].value == pytest.approx(moved / (400 * (50 + 2e-5)))
    table = next(b for b in section.blocks if isinstance(b, Table))
    assert {row[0] for row in table.rows} == {"Foundry USA", "AntPool", "MARA Pool", "unknown"}
    assert any(isinstance(b, Chart) for b in section.blocks)
    assert section.data["onchain"]["blocks"] == 400


def test_skipped_without_node_data(tmp_path: Path) -> None:
    with Store(tmp_path, read_only=True) as store:
        assert load_onchain(store) is None
    skipped = onchain_section(_Ctx(snapshot=NetworkSnapshot.embedded()))
    assert isinstance(skipped, Skipped) and "--coinbase" in skipped.reason
    plain = onchain_section(
        ReportContext(snapshot=NetworkSnapshot.embedded())
    )  # before context.py has the field
    assert isinstance(plain, Skipped)
