"""The report's "Fleet efficiency against published costs" section: with an empty home (only the 2026 row,
from the embedded snapshot, has numbers) and with the real Coin Metrics + mempool history in a temp store."""

from __future__ import annotations

from pathlib import Path

from hashrisk.analytics.efficiency import PUBLISHED_COSTS
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.economics.fleet import build_fleet, dated_fleet_spec
from hashrisk.economics.machine import breakeven_price_usd
from hashrisk.report import build_report, load_context
from hashrisk.report.model import Paragraph, Section, Table
from hashrisk.report.sections import SECTIONS
from hashrisk.report.sections_measured import efficiency_section


def _tables(section: Section) -> list[Table]:
    return [b for b in section.blocks if isinstance(b, Table)]


def _rows(section: Section) -> dict[str, tuple[str, ...]]:
    return {row[1]: row for row in _tables(section)[0].rows}


def test_registered_after_the_cost_curve() -> None:
    keys = [k for k, _, _ in SECTIONS]
    assert keys.index("efficiency") == keys.index("cost_curve") + 1


def test_empty_home_only_the_2026_row_has_numbers(tmp_path: Path) -> None:
    section = efficiency_section(load_context(home=tmp_path))
    assert isinstance(section, Section) and section.key == "efficiency"
    rows = _rows(section)
    assert set(rows) == {r.key for r in PUBLISHED_COSTS}
    for day, row in rows.items():
        if day != "2026-06-22":
            assert row[5:8] == ("n/a", "n/a", "—"), row
            assert row[8] == "none within 31 days"
    snap = NetworkSnapshot.embedded()
    fleet = build_fleet(dated_fleet_spec(snap.date), snap.hashrate_ths)
    cost = float(
        breakeven_price_usd(
            fleet.mean_wall_efficiency_j_per_th,
            0.05,
            snap.difficulty,
            snap.subsidy_btc,
            snap.fees_btc_per_block,
        )
    )
    last = rows["2026-06-22"]
    assert last[2] == "$78,000" and last[5] == f"{fleet.mean_wall_efficiency_j_per_th:.1f} J/TH"
    assert last[6] == f"${cost:,.0f}" and last[8] == "2026-06-01 (embedded snapshot)"
    verdict = section.blocks[2]
    assert isinstance(verdict, Paragraph) and verdict.text.startswith("Undetermined")
    provenance = _tables(section)[1]
    assert {row[4] for row in provenance.rows} >= {"https://cointeeth.com/news-flash/516834", "—"}
    assert section.data["efficiency"]["supported"] == "undetermined"


def test_the_whole_report_still_builds_without_a_store(tmp_path: Path) -> None:
    """Quick start: `hashrisk report` on an empty HASHRISK_HOME builds every section it always built, and this one."""
    rep = build_report(load_context(home=tmp_path, stress_paths=50))
    assert isinstance(rep.section("efficiency"), Section)
    assert isinstance(rep.section("headline"), Section) and isinstance(rep.section("provenance"), Section)


def test_real_store_fills_every_row(reference_home: Path) -> None:
    """Every reference up to 2024 has its own stored day; 2026-06-22 is 21 days after the embedded snapshot
    and after the stored history (to 2025-09-26), so the embedded snapshot stands for it."""
    section = efficiency_section(load_context(home=reference_home))
    assert isinstance(section, Section)
    rows = _rows(section)
    for day, row in rows.items():
        assert "n/a" not in row[5], row
        expected = "2026-06-01 (embedded snapshot)" if day == "2026-06-22" else f"{day} (stored)"
        assert row[8] == expected
    assert rows["2024-05-16"][4] == "29.8 J/TH (implied by the cost)"
    assert rows["2024-05-16"][5] == "28.8 J/TH"
    summary = section.data["efficiency"]
    assert summary["early_references"] == 4 and summary["late_references"] == 1
    # the measured relation (see tests/analytics/test_efficiency.py): the dated fleet tracks 2022-2024
    assert summary["supported"] == "dated vintage fleet"
