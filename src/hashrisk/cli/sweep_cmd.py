"""`hashrisk sweep`, `hashrisk backcast` and `hashrisk calibrate`: the shell over :mod:`hashrisk.sim.sweep`
and :mod:`hashrisk.sim.backcast` (file and store loading happen here)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.table import Table

from hashrisk.cli.common import (
    JSON_OPTION,
    YES_OPTION,
    check_work,
    console,
    emit_json,
    handle_errors,
    read_user_text,
)
from hashrisk.cli.sim_cmd import (
    FLEET_OPTION,
    HOME_OPTION,
    PATHS_OPTION,
    check_backend,
    fill_from_store,
    load_price_csv,
    load_scenario,
    scenario_work,
)
from hashrisk.data.store import Store
from hashrisk.data.stored_snapshot import snapshot_for_date
from hashrisk.errors import DataError, InputError
from hashrisk.flows.owners import with_listed_owners
from hashrisk.sim.backcast import (
    DEFAULT_CALIBRATION_GRID,
    DEFAULT_WINDOWS,
    BackcastResult,
    Window,
    backcast,
    backcast_start,
    calibrate,
    window_scenario,
)
from hashrisk.sim.sweep import SWEEP_BACKENDS, SweepGrid, apply_settings, run_sweep

BACKEND_OPTION = typer.Option(
    "processes", "--backend", help=f"Where grid points run: {', '.join(SWEEP_BACKENDS)}."
)
WORKERS_OPTION = typer.Option(2, "--workers", help="Local processes (or LocalCluster workers for dask).")
SCHEDULER_OPTION = typer.Option(
    None, "--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (implies --backend dask)."
)
BACKCAST_PATHS = 500
"""Default paths of a backcast or calibration run (the price path is given; only block arrivals vary)."""


def _write_table(frame: pd.DataFrame, out: Path) -> None:
    try:
        if out.suffix.lower() == ".parquet":
            frame.to_parquet(out, index=False)
        elif out.suffix.lower() == ".csv":
            frame.to_csv(out, index=False)
        else:
            raise InputError("--out", str(out), "a file name ending in .csv or .parquet")
    except OSError as exc:
        raise InputError("--out", str(out), f"a writable file path ({exc.__class__.__name__})") from None


def _fmt(x: Any, spec: str) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return format(x, spec)


# ------------------------------------------------------------------------------------------------ sweep
@handle_errors
def sweep_command(
    grid_file: Path = typer.Argument(
        ..., help="Grid YAML (base scenario, settings, params).", dir_okay=False
    ),
    backend: str = BACKEND_OPTION,
    workers: int = WORKERS_OPTION,
    scheduler: str | None = SCHEDULER_OPTION,
    paths: int | None = PATHS_OPTION,
    kernel: str = typer.Option("numba", "--kernel", help="Simulation kernel: numba, numpy or jax."),
    out: Path | None = typer.Option(None, "--out", help="Write the results table (.csv or .parquet)."),
    yes: bool = YES_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Run a scenario over a grid of parameters; one row of results per grid point (past about 60 s of
    estimated work, --yes is needed)."""
    kernel_name = check_backend(kernel, "--kernel")
    grid = SweepGrid.from_yaml_text(read_user_text(grid_file, "grid", "YAML file"), origin=str(grid_file))
    base = load_scenario(grid_file.parent / grid.base if grid.base is not None else None)
    base = fill_from_store(apply_settings(base, grid.scenario), None)
    if paths is not None:
        base = base.with_params({"paths": paths})
    if backend not in SWEEP_BACKENDS:
        raise InputError("--backend", backend, f"one of {', '.join(SWEEP_BACKENDS)}")
    points = grid.points()
    check_work(sum(scenario_work(base, p) for p in points), yes, "grid", f"{len(points):,} points")
    snapshot = None
    if base.start.start_date is not None:
        snapshot = snapshot_for_date(base.start.start_date)
        base = with_listed_owners(base, snapshot.date)
    res = run_sweep(
        base,
        points,
        snapshot,
        backend=backend,
        workers=workers,
        scheduler=scheduler,
        kernel=kernel_name,
    )
    if out is not None:
        _write_table(res.frame, out)
    if json_out:
        summary = res.summary()
        if out is not None:
            summary["results_file"] = str(out)
        emit_json(summary)
        return
    table = Table(
        title=f"sweep: {res.meta['points']} points x {base.paths:,} paths x {base.horizon_days} days"
    )
    for name in res.params:
        table.add_column(name, justify="right")
    for col in ("first retarget p50", "P(drop>=10%)", "offline max p50", "sold BTC p50", "max DD p50"):
        table.add_column(col, justify="right")
    for row in res.frame.to_dict(orient="records"):
        table.add_row(
            *[str(row[n]) for n in res.params],
            f"{row['first_retarget_change_pct_p50']:+.1f}%",
            f"{row['p_any_drop_10pct']:.0%}",
            f"{row['offline_share_max_p50']:.1%}",
            f"{row['sold_btc_total_p50']:,.0f}",
            f"{row['max_drawdown_on_p50']:.1%}",
        )
    console.print(table)
    console.print(
        f"backend {res.meta['backend']} ({res.meta['workers']} workers), {res.meta['elapsed_s']:.1f} s"
        + (f"; table written to {out}" if out is not None else ""),
        highlight=False,
    )


# ------------------------------------------------------------------------------------------------ backcast
def _stored_history(home: Path | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    with Store(home, read_only=True) as store:
        daily = store.daily_frame()
        retargets = store.retargets_frame()
    if retargets.empty or daily.empty:
        raise DataError(
            "backcasts need stored daily data and retargets: run `hashrisk data import FILE` (a Coin Metrics "
            "CSV and a mempool.space hashrate/difficulty JSON) or `hashrisk data fetch`"
        )
    return daily, retargets


def _start(day: dt.date, daily: pd.DataFrame, retargets: pd.DataFrame, home: Path | None) -> Any:
    snap = snapshot_for_date(day, home=home)
    key = pd.Timestamp(day, tz=pd.DatetimeIndex(daily.index).tz)
    blocks = daily["blocks"].get(key)
    height = snap.height - int(blocks) if blocks is not None and not pd.isna(blocks) else snap.height
    return backcast_start(snap, retargets, height)


def _prices(price_path: Path | None, daily: pd.DataFrame) -> pd.Series:
    if price_path is None:
        return daily["price_usd"].dropna()
    dates, prices = load_price_csv(price_path, "--price-path")
    tz = pd.DatetimeIndex(daily.index).tz
    return pd.Series(prices, index=pd.DatetimeIndex(pd.to_datetime(dates)).tz_localize(tz))


def _print_backcast(res: BackcastResult) -> None:
    m = res.meta
    table = Table(
        title=f"backcast from {m['start_date']} (height {m['start_height']:,}, {m['paths']:,} paths, "
        f"{m['horizon_days']} days)"
    )
    for col in ("height", "real date", "sim date p50", "real difficulty", "sim p05-p95", "sim p50 err"):
        table.add_column(col, justify="right")
    table.add_column("persistence err", justify="right")
    table.add_column("trend err", justify="right")
    for r in res.frame.to_dict(orient="records"):
        table.add_row(
            f"{r['height']:,}",
            str(r["date_real"]),
            str(r["date_sim_p50"]),
            f"{r['difficulty_real'] / 1e12:,.2f} T",
            f"{r['sim_p05'] / 1e12:,.2f}-{r['sim_p95'] / 1e12:,.2f} T",
            f"{r['error_pct_simulation']:+.1f}%",
            f"{r['error_pct_persistence']:+.1f}%",
            f"{r['error_pct_trend']:+.1f}%",
        )
    console.print(table)
    scores = Table(title="errors at the retargets (forecast / real - 1)")
    for col in ("model", "n", "mean |error|", "RMS log error", "bias", "p05-p95 coverage"):
        scores.add_column(col, justify="right")
    for name, s in res.scores.items():
        scores.add_row(
            name,
            str(s["n"]),
            f"{_fmt(s['mae_pct'], '.2f')}%",
            f"{_fmt(s['rmse_log_pct'], '.2f')}%",
            f"{_fmt(s['bias_pct'], '+.2f')}%",
            _fmt(s.get("band_coverage"), ".0%"),
        )
    console.print(scores)
    console.print(f"fleet: {m['fleet']}", highlight=False)


@handle_errors
def backcast_command(
    start: str = typer.Option(..., "--start", help="Stored day to start from (YYYY-MM-DD)."),
    price_path: Path | None = typer.Option(
        None,
        "--price-path",
        help="Actual prices, CSV date,price_usd covering the window (default: the stored daily prices).",
        dir_okay=False,
    ),
    days: int = typer.Option(150, "--days", help="Days simulated from the start."),
    scenario_file: Path | None = typer.Option(
        None,
        "--scenario",
        help="Scenario YAML for the behaviour (default: the default scenario).",
        dir_okay=False,
    ),
    fleet: Path | None = FLEET_OPTION,
    paths: int = typer.Option(BACKCAST_PATHS, "--paths", help="Monte-Carlo paths (block arrivals)."),
    home: Path | None = HOME_OPTION,
    yes: bool = YES_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Simulate from a stored day on the real price path and compare each retarget with the real one."""
    try:
        day = dt.date.fromisoformat(start)
    except ValueError:
        raise InputError("--start", start, "a day as YYYY-MM-DD") from None
    if not 1 <= days <= 3650:
        raise InputError("--days", days, "a whole number of days in [1, 3650]")
    base = load_scenario(scenario_file).with_params({"paths": paths})
    check_work(scenario_work(base, {"horizon_days": days}), yes, "--paths", paths)
    daily, retargets = _stored_history(home)
    begin = _start(day, daily, retargets, home)
    if fleet is not None:
        from hashrisk.economics.fleet import FleetSpec

        spec = FleetSpec.from_toml_text(read_user_text(fleet, "--fleet", "TOML file"), origin=str(fleet))
        base = base.with_params({"fleet.spec": spec.model_dump()})
    scenario = window_scenario(base, begin, _prices(price_path, daily), days)
    res = backcast(scenario, begin, retargets)
    if json_out:
        emit_json(res.summary())
        return
    _print_backcast(res)


# ------------------------------------------------------------------------------------------------ calibrate
def _parse_window(text: str) -> tuple[dt.date, int]:
    day, _, length = text.partition(":")
    try:
        return dt.date.fromisoformat(day), int(length or 150)
    except ValueError:
        raise InputError("--window", text, "START:DAYS, e.g. 2022-05-15:150") from None


@handle_errors
def calibrate_command(
    window: list[str] = typer.Option(
        None,
        "--window",
        help="Backcast window START:DAYS (repeatable). Default: "
        + ", ".join(f"{d}:{n}" for d, n in DEFAULT_WINDOWS)
        + " (the 2022 capitulation and the 2024 halving).",
    ),
    grid_file: Path | None = typer.Option(
        None, "--grid", help="Grid YAML whose `params` replace the default behavioural grid.", dir_okay=False
    ),
    paths: int = typer.Option(200, "--paths", help="Monte-Carlo paths per point and window."),
    backend: str = BACKEND_OPTION,
    workers: int = WORKERS_OPTION,
    scheduler: str | None = SCHEDULER_OPTION,
    home: Path | None = HOME_OPTION,
    out: Path | None = typer.Option(None, "--out", help="Write the scored grid (.csv or .parquet)."),
    yes: bool = YES_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Fit the fleet's behavioural parameters to stored history (retargets of backcast windows)."""
    if backend not in SWEEP_BACKENDS:
        raise InputError("--backend", backend, f"one of {', '.join(SWEEP_BACKENDS)}")
    specs = (
        [_parse_window(w) for w in window]
        if window
        else [(dt.date.fromisoformat(d), n) for d, n in DEFAULT_WINDOWS]
    )
    grid: dict[str, list[Any]] = dict(DEFAULT_CALIBRATION_GRID)
    if grid_file is not None:
        grid = SweepGrid.from_yaml_text(
            read_user_text(grid_file, "--grid", "YAML file"), str(grid_file)
        ).params
    base = load_scenario(None).with_params({"paths": paths})
    n_points = math.prod(len(v) for v in grid.values())
    work = n_points * sum(scenario_work(base, {"horizon_days": n}) for _, n in specs)
    check_work(work, yes, "--paths", paths)
    daily, retargets = _stored_history(home)
    prices = daily["price_usd"].dropna()
    windows = []
    for day, n in specs:
        begin = _start(day, daily, retargets, home)
        windows.append(Window(begin, window_scenario(base, begin, prices, n), retargets))
    res = calibrate(
        windows,
        grid,
        backend=backend,
        workers=workers,
        scheduler=scheduler,
    )
    if out is not None:
        _write_table(res.frame, out)
    if json_out:
        emit_json(res.summary())
        return
    console.print("best parameters: " + ", ".join(f"{k} = {v}" for k, v in res.best.items()), highlight=False)
    table = Table(title="RMS log error of the difficulty at the windows' retargets")
    for col in (
        "window",
        "retargets",
        "simulation (default)",
        "simulation (calibrated)",
        "persistence",
        "trend",
    ):
        table.add_column(col, justify="right")
    for label, w in res.backcasts.items():
        table.add_row(
            f"{label} +{w['horizon_days']}d",
            str(w["retargets_scored"]),
            *(
                f"{_fmt(w[k]['rmse_log_pct'], '.2f')}%"
                for k in ("simulation_default", "simulation_calibrated", "persistence", "trend")
            ),
        )
    console.print(table)
    console.print(
        f"{res.meta['points']} grid points x {len(windows)} windows x {paths} paths; in-sample fit "
        "(the windows are also the test)",
        highlight=False,
    )


def register_sweep_commands(app: typer.Typer) -> None:
    """Add ``sweep``, ``backcast`` and ``calibrate`` to the main `app`."""
    app.command("sweep")(sweep_command)
    app.command("backcast")(backcast_command)
    app.command("calibrate")(calibrate_command)
