"""Sweeps: grids, equality with direct simulation, and the same table on every backend (serial, local
processes, Dask LocalCluster through a scheduler address, the CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from hashrisk.cli.sweep_cmd import register_sweep_commands
from hashrisk.errors import InputError
from hashrisk.sim import Scenario, simulate
from hashrisk.sim.sweep import SweepGrid, apply_settings, run_sweep, sweep_metrics

BASE = Scenario(paths=300, horizon_days=40, seed=11)
GRID = {"price.drift": [-0.8, 0.0], "fleet.hysteresis": [0.0, 0.1]}

app = typer.Typer(pretty_exceptions_enable=False)


@app.callback()
def _root() -> None:
    """Test app."""


register_sweep_commands(app)
runner = CliRunner()


def test_grid_product_and_zip() -> None:
    grid = SweepGrid(params=GRID)
    assert grid.points() == [
        {"price.drift": -0.8, "fleet.hysteresis": 0.0},
        {"price.drift": -0.8, "fleet.hysteresis": 0.1},
        {"price.drift": 0.0, "fleet.hysteresis": 0.0},
        {"price.drift": 0.0, "fleet.hysteresis": 0.1},
    ]
    zipped = SweepGrid(params=GRID, mode="zip").points()
    assert zipped == [
        {"price.drift": -0.8, "fleet.hysteresis": 0.0},
        {"price.drift": 0.0, "fleet.hysteresis": 0.1},
    ]


def test_grid_errors_name_the_field() -> None:
    with pytest.raises(InputError) as err:
        SweepGrid(params={"price.vol": [0.5], "fleet.hysteresis": [0.0, 0.1]}, mode="zip").points()
    assert err.value.field == "mode"
    with pytest.raises(InputError) as err:
        SweepGrid.from_yaml_text("params:\n  price.vol: []\n")
    assert err.value.field == "params"
    with pytest.raises(InputError) as err:
        SweepGrid.from_yaml_text("params: {price.vol: [1]}\nextra: 1\n")
    assert err.value.field == "extra"
    with pytest.raises(InputError) as err:
        run_sweep(BASE, [{"price.volatility": 0.5}])
    assert err.value.field == "price.volatility"
    with pytest.raises(InputError) as err:
        run_sweep(BASE, [{"price.vol": -0.5}])
    assert err.value.field == "price.vol"
    with pytest.raises(InputError) as err:
        run_sweep(BASE, [{"price.vol": 0.5}], backend="threads")  # type: ignore[arg-type]
    assert err.value.field == "backend"


def test_apply_settings_keeps_sibling_fields() -> None:
    base = Scenario().with_params({"price.vol": 0.9})
    out = apply_settings(base, {"price": {"drift": -0.2}, "paths": 123})
    assert (out.get_param("price.vol"), out.get_param("price.drift"), out.paths) == (0.9, -0.2, 123)


def test_serial_rows_equal_direct_simulations() -> None:
    points = SweepGrid(params=GRID).points()
    res = run_sweep(BASE, points, backend="serial")
    frame = res.to_frame()
    assert list(frame["point"]) == [0, 1, 2, 3]
    for i, p in enumerate(points):
        direct = sweep_metrics(simulate(BASE.with_params(p)))
        row = frame.iloc[i]
        assert row["price.drift"] == p["price.drift"] and row["fleet.hysteresis"] == p["fleet.hysteresis"]
        for k, v in direct.items():
            np.testing.assert_equal(row[k], v)
    # common random numbers: a negative drift lowers the median end price at each hysteresis
    by = frame.set_index(["fleet.hysteresis", "price.drift"])["end_price_usd_p50"]
    assert by[(0.0, -0.8)] < by[(0.0, 0.0)] and by[(0.1, -0.8)] < by[(0.1, 0.0)]


@pytest.fixture(scope="module")
def serial_frame() -> pd.DataFrame:
    return run_sweep(BASE, SweepGrid(params=GRID).points(), backend="serial").frame


def test_local_processes_equal_serial(serial_frame: pd.DataFrame) -> None:
    res = run_sweep(BASE, SweepGrid(params=GRID).points(), backend="processes", workers=2)
    pd.testing.assert_frame_equal(res.frame, serial_frame)
    assert res.meta["backend"] == "processes" and res.meta["workers"] == 2


@pytest.mark.slow
def test_dask_local_cluster_through_scheduler_address(serial_frame: pd.DataFrame, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        res = run_sweep(BASE, SweepGrid(params=GRID).points(), scheduler=cluster.scheduler_address)
        pd.testing.assert_frame_equal(res.frame, serial_frame)
        assert res.meta["backend"] == "dask" and res.meta["scheduler"] == cluster.scheduler_address
        # the CLI, on the same cluster
        grid = tmp_path / "grid.yaml"
        grid.write_text(
            "scenario: {paths: 300, horizon_days: 40, seed: 11}\n"
            "params:\n  price.drift: [-0.8, 0.0]\n  fleet.hysteresis: [0.0, 0.1]\n"
        )
        out = tmp_path / "sweep.csv"
        result = runner.invoke(
            app, ["sweep", str(grid), "--scheduler", cluster.scheduler_address, "--out", str(out), "--json"]
        )
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        assert doc["meta"]["backend"] == "dask" and len(doc["points"]) == 4
        table = pd.read_csv(out)
        np.testing.assert_allclose(
            table["first_retarget_change_pct_p50"], serial_frame["first_retarget_change_pct_p50"], rtol=1e-12
        )


def test_cli_sweep_serial_with_base_file_and_errors(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("paths: 300\nhorizon_days: 40\nseed: 11\n")
    grid = tmp_path / "grid.yaml"
    grid.write_text("base: base.yaml\nparams:\n  price.drift: [-0.8, 0.0]\n")
    result = runner.invoke(app, ["sweep", str(grid), "--backend", "serial", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    direct = sweep_metrics(simulate(BASE.with_params({"price.drift": -0.8})))
    assert doc["points"][0]["first_retarget_change_pct_p50"] == pytest.approx(
        direct["first_retarget_change_pct_p50"], rel=1e-12
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("params:\n  price.vol: [-1]\n")
    result = runner.invoke(app, ["sweep", str(bad), "--backend", "serial"])
    assert result.exit_code == 2 and "price.vol" in result.stderr
    result = runner.invoke(app, ["sweep", str(grid), "--backend", "gpu-farm"])
    assert result.exit_code == 2 and "--backend" in result.stderr
    result = runner.invoke(app, ["sweep", str(grid), "--scheduler", "tcp://127.0.0.1:9", "--backend", "dask"])
    assert result.exit_code == 2 and "--scheduler" in result.stderr
