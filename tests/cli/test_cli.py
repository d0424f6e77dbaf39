"""The command line: one JSON object with --json, clear errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hashrisk.cli.main import app

runner = CliRunner()


def run_json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    out: dict[str, object] = json.loads(result.stdout)
    return out


def test_cost_json_on_embedded_snapshot() -> None:
    out = run_json("cost")
    assert out["price_usd"] == 71_329.0 and out["power_price_usd_per_kwh"] == 0.05
    e = out["electricity_only_usd_per_btc"]
    assert isinstance(e, dict) and e["lower"] < e["best_guess"] < e["upper"]
    assert set(out["share_unprofitable"]) == {"+0%", "-10%", "-20%"}  # type: ignore[arg-type]
    assert 0 <= out["share_within_10pct_of_breakeven"] <= 1  # type: ignore[operator]
    assert out["hashprice_usd_per_ph_day"] == pytest.approx(32.507, abs=0.01)


def test_cost_scales_with_power_price_and_price_flag() -> None:
    a, b = run_json("cost", "--power-price", "0.05"), run_json("cost", "--power-price", "0.06")
    fa, fb = a["electricity_only_fleet_usd_per_btc"], b["electricity_only_fleet_usd_per_btc"]
    assert fb == pytest.approx(fa * 1.2)  # type: ignore[operator]
    low = run_json("cost", "--price", "50000")
    assert low["price_usd"] == 50_000
    assert low["share_unprofitable"]["+0%"] > a["share_unprofitable"]["+0%"]  # type: ignore[index]


def test_cost_table_renders() -> None:
    result = runner.invoke(app, ["cost"])
    assert result.exit_code == 0
    assert "electricity-only" in result.stdout and "$71,329" in result.stdout


def test_cost_with_snapshot_and_fleet_files(tmp_path: Path) -> None:
    snap = tmp_path / "s.toml"
    snap.write_text("price_usd = 80000\n")
    out = run_json("cost", "--snapshot", str(snap))
    assert out["snapshot"]["price_usd"] == 80_000  # type: ignore[index]
    fleet = tmp_path / "f.toml"
    fleet.write_text(
        (Path(__file__).parents[2] / "src/hashrisk/economics/data/fleet_default.toml")
        .read_text()
        .replace("share = 0.10", "share = 0.05")
        .replace("share = 0.20", "share = 0.25")
    )
    assert run_json("cost", "--fleet", str(fleet))["fleet"]["mean_efficiency_j_per_th"] > 0  # type: ignore[index]


def test_snapshot_flags_override_fields() -> None:
    out = run_json("cost", "--difficulty", "1.2e14", "--fees", "0.05", "--hashrate-ths", "9e8")
    snap = out["snapshot"]
    assert (snap["difficulty"], snap["fees_btc_per_block"], snap["hashrate_ths"]) == (1.2e14, 0.05, 9e8)  # type: ignore[index]
    assert snap["sources"]["difficulty"] == "command-line flag"  # type: ignore[index]
    # hashprice by hand: 86,400e12 / (1.2e14 x 2^32) x (3.125 + 0.05) x 71,329 x 1,000
    assert out["hashprice_usd_per_ph_day"] == pytest.approx(86_400e12 / (1.2e14 * 2**32) * 3.175 * 71_329e3)
    bad = runner.invoke(app, ["cost", "--difficulty", "0"])
    assert bad.exit_code == 2 and "difficulty" in bad.stderr


def test_breakeven_s19j_pro() -> None:
    out = run_json("breakeven", "--model", "Antminer S19j Pro", "--power-price", "0.06")
    # by hand: hashprice $32.507/PH/day -> 0.032507 / (0.024 x 29.5) = $0.0459/kWh
    assert out["breakeven_power_price_usd_per_kwh"] == pytest.approx(0.0459, abs=2e-4)
    assert out["daily_profit_usd"] == pytest.approx(100 * 0.032507 - 2950 * 0.024 * 0.06, abs=0.01)
    assert out["breakeven_price_usd"] > 71_329  # underwater at $0.06/kWh


def test_models_lists_catalog() -> None:
    out = run_json("models")
    assert out["count"] >= 30 and len(out["models"]) == out["count"]  # type: ignore[arg-type]
    assert run_json("models", "--released-by", "2019-12")["count"] < out["count"]  # type: ignore[operator]


def test_chain_commands() -> None:
    result = runner.invoke(
        app,
        [
            "chain",
            "next-bits",
            "--bits",
            "0x1d00ffff",
            "--first-time",
            "1261130161",
            "--last-time",
            "1262152739",
        ],
    )
    assert result.exit_code == 0 and result.stdout.strip() == "0x1d00d86a"
    iso = runner.invoke(
        app,
        [
            "chain",
            "next-bits",
            "--bits",
            "0x1c05a3f4",
            "--first-time",
            "2010-07-13T08:03:57Z",
            "--last-time",
            "2010-07-16T16:27:51Z",
        ],
    )
    assert iso.stdout.strip() == "0x1c0168fd"
    assert run_json("chain", "subsidy", "840000")["subsidy_sats"] == 312_500_000
    est = run_json(
        "chain",
        "estimate",
        "--bits",
        "0x17030ecd",
        "--epoch-start-time",
        "1780000000",
        "--blocks-mined",
        "1000",
        "--now",
        str(1780000000 + 999 * 540),
        "--height",
        "951552",
    )
    assert est["retarget_height"] == 953_568 and est["change_pct_p50"] > 10  # type: ignore[operator]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["breakeven", "--model", "Antminer S19j Pr0"], "did you mean 'Antminer S19j Pro'"),
        (["cost", "--power-price", "-0.01"], "power_price_usd_per_kwh"),
        (["cost", "--price", "nan"], "--price"),
        (["cost", "--price", "-5"], "price_usd"),
        (
            [
                "chain",
                "next-bits",
                "--bits",
                "0x04923456",
                "--first-time",
                "1231006505",
                "--last-time",
                "1231006506",
            ],
            "bits",
        ),
        (
            ["chain", "next-bits", "--bits", "zz", "--first-time", "1231006505", "--last-time", "1231006506"],
            "bits",
        ),
        (["chain", "subsidy", "--", "-1"], "height"),
        (["models", "--released-by", "June"], "released_by"),
        (["cost", "--snapshot", "/nonexistent/x.toml"], "snapshot"),
    ],
)
def test_errors_are_clear(args: list[str], needle: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert needle in result.stderr
    assert "Traceback" not in result.output


def test_error_text_is_not_read_as_markup(tmp_path: Path) -> None:
    odd = tmp_path / "a:x:b[blocks].toml"
    result = runner.invoke(app, ["cost", "--snapshot", str(odd)])
    assert result.exit_code == 2
    assert "a:x:b[blocks].toml" in result.stderr.replace("\n", "")


def test_console_script_prints_one_json_object() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hashrisk", "cost", "--json"], capture_output=True, text=True, check=True
    )
    assert json.loads(proc.stdout)["snapshot"]["date"] == "2026-06-01"
    assert proc.stdout.count("\n") == 1


def test_unreadable_fleet_file_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["cost", "--fleet", str(tmp_path)])  # a directory, not a file
    assert result.exit_code == 2
    assert "fleet" in result.stderr and "a directory" in result.stderr
