"""The flows, miners and hpc commands: one JSON object with --json, template warnings, clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hashrisk.cli.main import app

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MINERS = str(EXAMPLES / "miners_q1_2026.yaml")


def run_json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1  # exactly one JSON object
    out: dict[str, object] = json.loads(lines[0])
    return out


def test_pensions_json_default_and_case() -> None:
    june = run_json("flows", "pensions")
    assert june["as_of"] == "2026-06-19" and june["total_assets_usd"] == 9.6e12
    q3 = run_json("flows", "pensions", "--case", "2025-q3")
    pub = q3["published"]
    assert isinstance(pub, dict) and pub["theoretical_imbalance_usd"]["published"] == -55e9
    assert pub["expected_flow_usd"]["within_band"] is True


def test_pensions_inputs_file_with_bad_allocation(tmp_path: Path) -> None:
    from hashrisk.flows.inputs import packaged_text

    text = packaged_text("pensions_2025q3_jpm.yaml").replace(
        "{equity: 0.30, bonds: 0.50, other: 0.20}", "{equity: 0.30, bonds: 0.50, other: 0.30}"
    )
    f = tmp_path / "p.yaml"
    f.write_text(text)
    result = runner.invoke(app, ["flows", "pensions", "--inputs", str(f)])
    assert result.exit_code == 2
    assert "segments.1.allocation" in result.stderr and "sum to 1" in result.stderr
    assert "Traceback" not in result.output


def test_btc_json_and_miners_share() -> None:
    out = run_json("flows", "btc")
    purchases = out["purchases"]
    assert isinstance(purchases, list) and purchases[0]["implied_price_usd"] == pytest.approx(
        67_307.69, abs=0.01
    )
    with_file = runner.invoke(app, ["flows", "btc", "--miners", MINERS, "--etf", "100", "--json"])
    assert with_file.exit_code == 0, with_file.output
    data = json.loads(with_file.stdout)
    # the template's 2026Q1 rows: 5,550 BTC sold of 3,650 produced
    assert data["miners_share_sold"] == pytest.approx(5550 / 3650)
    assert data["flows"]["etf_net"]["btc_per_day"] == 100
    assert "TEMPLATE" in with_file.stderr


def test_miners_json_warns_on_template_and_takes_price() -> None:
    result = runner.invoke(app, ["miners", MINERS, "--price", "60000", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["template"] is True and out["price_usd"] == 60_000
    assert "TEMPLATE" in result.stderr
    assert {c["company"] for c in out["companies"]} == {
        "Example Miner A",
        "Example Miner B",
        "Example Miner C",
    }


def test_miners_table_renders() -> None:
    result = runner.invoke(app, ["miners", str(EXAMPLES / "miners_q1_2026.csv")])
    assert result.exit_code == 0, result.output
    assert "Miner A" in result.stdout and "Miner C" in result.stdout
    assert "32,000" not in result.stdout  # the CSV carries no published aggregate


def test_hpc_json_and_table() -> None:
    out: dict[str, Any] = run_json("hpc")
    assert set(out["options"]) == {"mine", "convert", "both"}
    assert out["per_mw"]["hpc_lease_usd_per_it_mw_year"] == 1.85e6
    assert out["funding_gap"]["published"]["long_term_need_usd"] == 221e9
    table = runner.invoke(app, ["hpc", "--price", "90000"])
    assert table.exit_code == 0 and "convert" in table.stdout and "$90,000" in table.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["miners", "nope.yaml"], "miners"),
        (["miners", "nope.xlsx"], "miners"),
        (["hpc", "nope.yaml"], "site"),
        (["flows", "pensions", "--case", "1999"], "case"),
        (["flows", "btc", "--inputs", "nope.yaml"], "inputs"),
    ],
)
def test_errors_are_one_line_exit_2(args: list[str], needle: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert needle in result.stderr and "Traceback" not in result.output


def test_miners_bad_row_names_field(tmp_path: Path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text(Path(MINERS).read_text().replace("btc_held: 2500", "btc_held: -2500"))
    result = runner.invoke(app, ["miners", str(bad)])
    assert result.exit_code == 2
    assert "rows.3.btc_held" in result.stderr and "-2500" in result.stderr
