"""`hashrisk sensitivity` and `hashrisk indicators` on a temp store holding an imported synthetic CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from analytics_synth import distributed_lag_history
from typer.testing import CliRunner

from hashrisk.cli.main import app
from hashrisk.data.files import import_file

runner = CliRunner()


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def stored(hashrisk_home: Path, tmp_path: Path) -> Path:
    """A store with ~7 years of synthetic daily data imported from a Coin Metrics-layout CSV."""
    b = [0.2, 0.1]
    daily = distributed_lag_history(360, lambda _: b, seed=4)
    csv = tmp_path / "cm.csv"
    pd.DataFrame(
        {
            "time": daily.index.strftime("%Y-%m-%d"),
            "asset": "btc",
            "PriceUSD": daily["price_usd"].to_numpy(),
            "HashRate": daily["hashrate_ths"].to_numpy(),
            "DiffMean": daily["difficulty"].to_numpy(),
            "BlkCnt": daily["blocks"].astype(int).to_numpy(),
            "FeeTotNtv": daily["fees_btc"].to_numpy(),
            "IssTotNtv": daily["subsidy_btc"].to_numpy(),
        }
    ).to_csv(csv, index=False)
    report = import_file(csv, home=hashrisk_home)
    assert report["rows_changed"] == len(daily)
    return hashrisk_home


@pytest.mark.parametrize("command", ["sensitivity", "indicators"])
def test_empty_store_exits_2_and_says_how_to_get_data(hashrisk_home: Path, command: str) -> None:
    code, out, err = _invoke(command)
    assert code == 2 and out == ""
    assert "hashrisk data import FILE" in err and "hashrisk data fetch" in err


def test_sensitivity_json_is_one_object_with_the_verdict(stored: Path) -> None:
    code, out, err = _invoke("sensitivity", "--json")
    assert code == 0, err
    assert out.count("\n") == 1
    summary = json.loads(out)
    assert summary["verdict"]["answer"] == "not supported"  # the same elasticity (0.3) in every cycle
    price_all = next(e for e in summary["full_sample"] if e["regressor"] == "price")
    assert price_all["ci_low"] < 0.3 < price_all["ci_high"]
    assert "current default assumption" in summary["mechanical"]["note"]


def test_sensitivity_tables_and_options(stored: Path) -> None:
    code, out, err = _invoke("sensitivity", "--start", "2020-01-01", "--lags", "4", "--window-weeks", "52")
    assert code == 0, err
    assert "Long-run elasticity of hashrate" in out and "Verdict:" in out and "Mechanical:" in out
    assert "0-4 weeks" in out
    code, out, _ = _invoke("sensitivity", "--start", "2020-01-01", "--lags", "4", "--json")
    assert json.loads(out)["params"]["first_week"] >= "2020-01-01"


def test_indicators_json_and_tables(stored: Path) -> None:
    code, out, err = _invoke("indicators", "--json", "--start", "2021-01-01", "--horizons", "30,90")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["first"] == "2021-01-01" and summary["params"]["horizons_days"] == [30, 90]
    assert {r["horizon_days"] for r in summary["backtest"]["table"]} == {30, 90}
    code, out, err = _invoke("indicators", "--end", "2023-12-31")
    assert code == 0, err
    assert "Hash-ribbon capitulations" in out and "Forward returns after each signal" in out
    assert "2023-12-31" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["indicators", "--horizons", "30,abc"], "--horizons"),
        (["sensitivity", "--lags", "-1"], "lags"),
        (["sensitivity", "--start", "2030-01-01"], "daily"),
        (["indicators", "--start", "2024-01-01", "--end", "2023-01-01"], "--start"),
        (["indicators", "--end", "2001-01-01"], "hashrisk data import"),
        (["sensitivity", "--fleet", "/nonexistent/fleet.toml"], "--fleet"),
    ],
)
def test_bad_input_exits_2_with_an_error_message(stored: Path, args: list[str], needle: str) -> None:
    code, out, err = _invoke(*args)
    assert code == 2 and out == ""
    message = " ".join(err.split())  # rich wraps the one message at the console width
    assert message.startswith("error:") and "Traceback" not in err
    assert needle in message
