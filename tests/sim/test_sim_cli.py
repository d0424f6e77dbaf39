"""`hashrisk simulate`, `stress` and `scenario new` (on an app with the commands registered)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from hashrisk.cli.sim_cmd import parse_shock, register_sim_commands
from hashrisk.errors import InputError
from hashrisk.sim import Scenario

app = typer.Typer(pretty_exceptions_enable=False)


@app.callback()
def _root() -> None:
    """Test app."""


register_sim_commands(app)
runner = CliRunner()
SMALL = ["--paths", "200", "--horizon-days", "40"]


def run_json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    out: dict[str, object] = json.loads(result.stdout)
    return out


def test_scenario_new_writes_a_loadable_annotated_file(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    result = runner.invoke(app, ["scenario", "new", str(f)])
    assert result.exit_code == 0, result.output
    assert Scenario.from_yaml_text(f.read_text()) == Scenario()
    again = runner.invoke(app, ["scenario", "new", str(f)])
    assert again.exit_code == 2 and "--force" in again.output
    assert runner.invoke(app, ["scenario", "check", str(f)]).exit_code == 0


def test_simulate_json_has_retargets(tmp_path: Path) -> None:
    out = run_json("simulate", *SMALL)
    assert out["paths"] == 200 and out["horizon_days"] == 40
    retargets = out["retargets"]
    assert isinstance(retargets, list) and len(retargets) >= 2
    first = retargets[0]
    assert set(first) >= {"height", "date_p50", "difficulty_p05", "difficulty_p50", "difficulty_p95"}
    assert first["difficulty_p05"] <= first["difficulty_p50"] <= first["difficulty_p95"]
    assert {"difficulty_drop", "miner_btc_sold", "hashrate_recovery", "amplification"} <= set(out)


def test_simulate_table_renders() -> None:
    result = runner.invoke(app, ["simulate", *SMALL])
    assert result.exit_code == 0, result.output
    assert "first retarget" in result.stdout and "953,568" in result.stdout


def test_simulate_scenario_file_with_relative_price_csv_and_parquet(tmp_path: Path) -> None:
    (tmp_path / "path.csv").write_text(
        "date,price_usd\n" + "".join(f"2026-06-{d:02d},{70000 - 500 * d}\n" for d in range(1, 31))
    )
    (tmp_path / "s.yaml").write_text(
        "name: falling\npaths: 150\nhorizon_days: 30\nprice:\n  model: path\n  csv: path.csv\n"
    )
    pq_file = tmp_path / "paths.parquet"
    out = run_json("simulate", str(tmp_path / "s.yaml"), "--out", str(pq_file))
    assert out["scenario"] == "falling" and out["price_model"] == "path"
    assert out["start"]["price_usd"] == 69_500  # type: ignore[index]
    table = pq.read_table(pq_file)
    assert table.num_rows == 150 * 30
    assert table.column_names[:3] == ["path", "day", "date"]
    assert table.column("price_usd")[29].as_py() == pytest.approx(55_000, rel=0.02)


def test_simulate_price_path_flag_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "p.csv"
    days = [dt.date(2026, 6, 1) + dt.timedelta(days=d) for d in range(40)]
    good.write_text("date,price_usd\n" + "".join(f"{day},{60000 + i}\n" for i, day in enumerate(days)))
    out = run_json("simulate", "--price-path", str(good), *SMALL)
    assert out["price_model"] == "path"
    gap = tmp_path / "gap.csv"
    gap.write_text("date,price_usd\n2026-06-01,60000\n2026-06-03,60000\n")
    result = runner.invoke(app, ["simulate", "--price-path", str(gap), *SMALL])
    assert result.exit_code == 2 and "--price-path" in result.output and "consecutive" in result.output
    result = runner.invoke(app, ["simulate", "--price-path", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2 and "--price-path" in result.output
    result = runner.invoke(app, ["simulate", "--paths", "0"])
    assert result.exit_code == 2 and "paths" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("price:\n  model: gbm\n  vol: -1\n")
    result = runner.invoke(app, ["simulate", str(bad)])
    assert result.exit_code == 2 and "price.vol" in result.output


def test_simulate_start_date_without_store_falls_back(hashrisk_home: Path) -> None:
    result = runner.invoke(app, ["simulate", *SMALL, "--start", "2025-06-01", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["start"]["date"] == "2026-06-01"


def test_stress_json() -> None:
    out = run_json("stress", "--shock", "-20%", "--paths", "200", "--horizon-days", "40")
    shocks = out["shocks"]
    assert isinstance(shocks, list) and len(shocks) == 1
    s = shocks[0]
    assert s["shock_pct"] == pytest.approx(-20.0)
    assert s["next_retargets"][0]["height"] == 953_568
    assert {"hashrate_offline_vs_start_at_shock_end", "btc_sold", "amplification"} <= set(s)


def test_stress_table_all_canned_shocks() -> None:
    result = runner.invoke(app, ["stress", "--paths", "100", "--horizon-days", "35", "--vol", "0"])
    assert result.exit_code == 0, result.output
    assert "-10% over 30 d" in result.stdout and "-30% over 30 d" in result.stdout


@pytest.mark.parametrize(("text", "value"), [("-20%", -0.2), ("-20", -0.2), ("-0.2", -0.2), ("+5%", 0.05)])
def test_parse_shock(text: str, value: float) -> None:
    assert parse_shock(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["-100%", "abc", "-20%%", "300%"])
def test_parse_shock_rejects(text: str) -> None:
    with pytest.raises(InputError) as err:
        parse_shock(text)
    assert err.value.field == "--shock"


def test_fleet_file_in_scenario_and_flag(tmp_path: Path) -> None:
    toml = (Path(__file__).parents[2] / "src/hashrisk/economics/data/fleet_default.toml").read_text()
    (tmp_path / "fleet.toml").write_text(
        toml.replace("median_usd_per_kwh = 0.045", "median_usd_per_kwh = 0.030")
    )
    (tmp_path / "s.yaml").write_text(
        "paths: 100\nhorizon_days: 20\nfleet:\n  file: fleet.toml\n  cohorts: 8\n"
    )
    cheap = run_json("simulate", str(tmp_path / "s.yaml"))
    default = run_json("simulate", "--paths", "100", "--horizon-days", "20")
    assert cheap["end"]["offline_share"]["p50"] < default["end"]["offline_share"]["p50"]  # type: ignore[index]
    flag = run_json(
        "simulate", "--paths", "100", "--horizon-days", "20", "--fleet", str(tmp_path / "fleet.toml")
    )
    assert flag["end"]["offline_share"]["p50"] < default["end"]["offline_share"]["p50"]  # type: ignore[index]
    (tmp_path / "bad.yaml").write_text("fleet:\n  file: missing.toml\n")
    result = runner.invoke(app, ["simulate", str(tmp_path / "bad.yaml")])
    assert result.exit_code == 2 and "fleet.file" in result.output


def test_bootstrap_from_the_store_uses_consecutive_stored_days(hashrisk_home: Path, tmp_path: Path) -> None:
    """Prices 100, 110, (gap), 121, 133.1 stored: the returns are log 1.1 twice (the gap is not bridged)."""
    from hashrisk.cli.sim_cmd import stored_log_returns
    from hashrisk.data.files import import_file

    csv = tmp_path / "prices.csv"
    csv.write_text("date,price_usd\n2024-01-01,100\n2024-01-02,110\n2024-01-04,121\n2024-01-05,133.1\n")
    import_file(csv)
    returns = stored_log_returns(None)
    assert returns == pytest.approx([np.log(1.1), np.log(1.1)])
    assert stored_log_returns(None, dt.date(2024, 1, 3), None) == pytest.approx([np.log(1.1)])
    scenario = tmp_path / "boot.yaml"
    scenario.write_text(
        "price:\n  model: bootstrap\n  from_store: true\n  block_days: 1\n  demean: false\n"
        "impact:\n  enabled: false\n"
    )
    doc = run_json("simulate", str(scenario), *SMALL)
    # every bootstrapped daily return is log 1.1, so day 39's price is 71,329 * 1.1**39 on every path
    end = doc["end"]["price_usd"]  # type: ignore[index]
    assert end["p50"] == pytest.approx(71_329 * 1.1**39, rel=0.005)
    assert end["p05"] == pytest.approx(end["p95"], rel=0.005)
    empty = tmp_path / "boot2.yaml"
    empty.write_text("price:\n  model: bootstrap\n  from_store: true\n  history_start: 2030-01-01\n")
    result = runner.invoke(app, ["simulate", str(empty), *SMALL])
    assert result.exit_code == 2 and "hashrisk data import" in result.stderr


def test_backend_option_numpy_equals_numba_and_rejects_unknown() -> None:
    a = run_json("simulate", *SMALL, "--backend", "numpy")
    b = run_json("simulate", *SMALL)
    assert a["meta"]["backend"] == "numpy" and b["meta"]["backend"] == "numba"  # type: ignore[index]
    assert a["first_retarget"]["change_pct"] == pytest.approx(b["first_retarget"]["change_pct"], rel=1e-9)  # type: ignore[index]
    result = runner.invoke(app, ["simulate", *SMALL, "--backend", "cuda"])
    assert result.exit_code == 2 and "--backend" in result.stderr


def test_stress_nets_the_measured_treasury_buying_and_shows_owners() -> None:
    out = run_json("stress", "--shock", "-30%", "--paths", "100", "--horizon-days", "30")
    s = out["shocks"][0]  # type: ignore[index]
    # hashrisk flows btc: the packaged purchases (520 BTC over 7 days) x the embedded price
    assert s["net_flows"]["treasury_buying_usd_per_day"] == pytest.approx(520 / 7 * 71_329, rel=1e-9)
    assert "hashrisk flows btc" in s["net_flows"]["basis"]
    assert [o["owner"] for o in s["owners"]][-1] == "rest of the network"
    assert s["ai_hpc_forced"]["treasury_drawn_btc"]["mean"] == 0.0
    off = run_json(
        "stress",
        "--shock",
        "-30%",
        "--paths",
        "100",
        "--horizon-days",
        "30",
        "--treasury-buying-usd-per-day",
        "0",
    )
    assert off["shocks"][0]["net_flows"]["treasury_buying_usd_per_day"] == 0.0  # type: ignore[index]
    table = runner.invoke(app, ["stress", "--shock", "-10%", "--paths", "50", "--horizon-days", "30"])
    assert table.exit_code == 0, table.output
    assert "MARA Holdings" in table.stdout and "AI/HPC" in table.stdout and "treasury buying" in table.stdout


def test_stress_from_a_stored_day_uses_the_owners_of_that_day(reference_home: Path) -> None:
    """2025-07-15 is stored: MARA's balance sheet is its latest period by then (47,531 BTC), not the packaged
    2026-06-01 one (52,850 BTC)."""
    from hashrisk.flows.owners import listed_owner_specs

    day = "2025-07-15"
    args = (
        "--shock",
        "-20%",
        "--paths",
        "50",
        "--horizon-days",
        "30",
        "--start",
        day,
        "--home",
        str(reference_home),
    )
    out = run_json("stress", *args)
    assert out["start"]["date"] == day  # type: ignore[index]
    expected = {o["name"]: o["btc"] for o in listed_owner_specs(dt.date(2025, 7, 15)).owners}
    got = {o["owner"]: o["btc_start"] for o in out["shocks"][0]["owners"] if o["listed"]}  # type: ignore[index]
    assert got == expected and got["MARA Holdings"] == 47_531.0
    sim = run_json(
        "simulate", "--paths", "50", "--horizon-days", "30", "--start", day, "--home", str(reference_home)
    )
    assert {o["owner"]: o["btc_start"] for o in sim["owners"][:-1]} == expected  # type: ignore[index]
