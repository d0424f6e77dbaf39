"""`hashrisk simulate`, `hashrisk stress` and `hashrisk scenario new|check`: the shell over :mod:`hashrisk.sim`.

The shell reads the files (scenario YAML, price CSVs, fleet TOML) and the store, and writes full paths to
Parquet; what to read and how it completes a scenario is :mod:`hashrisk.sim.loading` (no I/O there).
Register the commands on the main app with :func:`register_sim_commands`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hashrisk.cli.common import (
    JSON_OPTION,
    MAX_CSV_FILE_BYTES,
    MAX_TEXT_FILE_BYTES,
    YES_OPTION,
    as_of_fields,
    check_work,
    console,
    emit_json,
    err_console,
    handle_errors,
    read_user_text,
    resolve_snapshot,
)
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.data.store import Store
from hashrisk.display import eh_s, pct, usd
from hashrisk.economics.cost import production_cost
from hashrisk.economics.fleet import FleetSpec, build_fleet
from hashrisk.errors import InputError
from hashrisk.flows.btc import BtcFlowInputs, btc_flows
from hashrisk.flows.owners import with_listed_owners
from hashrisk.sim.arrays import SERIES, ChunkOutputs
from hashrisk.sim.engine import BACKENDS, Backend, simulate
from hashrisk.sim.loading import (
    daily_log_returns,
    file_references,
    stored_history_request,
    with_options,
    with_price_history,
    with_referenced_files,
)
from hashrisk.sim.prices import parse_price_csv
from hashrisk.sim.result import RUNWAY_CAP_MONTHS, Quantiles, SimResult, SimSummary
from hashrisk.sim.scenario import Scenario, default_scenario_yaml
from hashrisk.sim.stress import CANNED_SHOCKS, run_stress, with_treasury_buying

scenario_app = typer.Typer(help="Write and check simulation scenarios.", no_args_is_help=True)


# ------------------------------------------------------------------------------------------- loading
def load_price_csv(path: Path, field: str) -> tuple[list[Any], list[float]]:
    """Dates and prices of a ``date,price_usd`` CSV file (errors name `field`)."""
    return parse_price_csv(
        read_user_text(path, field, "CSV file date,price_usd", MAX_CSV_FILE_BYTES), field=field
    )


def load_scenario(path: Path | None) -> Scenario:
    """The scenario in `path` (the default scenario when None), with its file references loaded.

    ``price.csv`` and ``fleet.file`` are read relative to the scenario file's folder and parsed into the
    scenario by :func:`hashrisk.sim.loading.with_referenced_files`.

    Raises
    ------
    InputError
        For an unreadable file, invalid YAML, or an invalid field (named by dotted path).
    """
    if path is None:
        return Scenario()
    scenario = Scenario.from_yaml_text(read_user_text(path, "scenario", "YAML file"), origin=str(path))
    texts = {
        ref.field: read_user_text(
            path.parent / ref.path,
            ref.field,
            ref.what,
            MAX_CSV_FILE_BYTES if ref.field == "price.csv" else MAX_TEXT_FILE_BYTES,
        )
        for ref in file_references(scenario)
    }
    return with_referenced_files(scenario, texts, folder=path.parent)


def _apply_options(
    scenario: Scenario,
    *,
    paths: int | None,
    horizon_days: int | None,
    seed: int | None,
    price_path: Path | None,
    fleet: Path | None,
    start: str | None,
) -> Scenario:
    return with_options(
        scenario,
        paths=paths,
        horizon_days=horizon_days,
        seed=seed,
        start=start,
        price_path=None if price_path is None else load_price_csv(price_path, "--price-path"),
        fleet=None
        if fleet is None
        else FleetSpec.from_toml_text(read_user_text(fleet, "--fleet", "TOML file"), origin=str(fleet)),
    )


def _stored_prices(home: Path | None, start: dt.date | None, end: dt.date | None) -> pd.Series:
    with Store(home, read_only=True) as store:
        prices: pd.Series = store.daily_frame(start=start, end=end)["price_usd"]
    return prices


def stored_log_returns(
    home: Path | None, start: dt.date | None = None, end: dt.date | None = None
) -> list[float]:
    """Daily log returns between consecutive stored days with prices (gaps are skipped, not bridged).

    Raises
    ------
    DataError
        If the store holds no two consecutive days of prices in the range.
    """
    return daily_log_returns(_stored_prices(home, start, end), start, end)


def fill_from_store(scenario: Scenario, home: Path | None) -> Scenario:
    """Load the stored history a bootstrap price model asks for with ``from_store: true``."""
    window = stored_history_request(scenario)
    if window is None:
        return scenario
    return with_price_history(scenario, _stored_prices(home, window.start, window.end), window)


def _snapshot(scenario: Scenario, home: Path | None) -> NetworkSnapshot:
    """The scenario's start day from the store, else the latest complete stored day, else the embedded one."""
    day = scenario.start.start_date
    return resolve_snapshot(None, None if day is None else day.isoformat(), home)


def measured_treasury_buying(snapshot: NetworkSnapshot) -> float:
    """Corporate treasuries' BTC buying as `hashrisk flows btc` measures it (packaged purchases per day x the
    snapshot's price) [USD/day]."""
    cost = production_cost(snapshot, build_fleet(FleetSpec.default(), snapshot.hashrate_ths), 0.05)
    flows = btc_flows(BtcFlowInputs.packaged(), snapshot, cost)
    return float(flows.components_btc_per_day["treasury_purchases"] * snapshot.price_usd)


# ------------------------------------------------------------------------------------------- parquet writer
class ParquetPathWriter:
    """Writes every path's daily series to a Parquet file, one row group per chunk.

    Columns: ``path`` (int32), ``day`` (int16), ``date`` (date32), then ``price_usd``, ``hashrate_ths``,
    ``difficulty``, ``sold_btc``, ``offline_share`` (float32). Rows: paths x days (1,000,000 paths x 365
    days is 365 million rows, several GB: mind the disk).
    """

    def __init__(self, path: Path, start_date: Any, n_days: int) -> None:
        import pyarrow as pa

        self.path = path
        self.n_days = n_days
        self._pa = pa
        self._dates = pa.array(np.datetime64(start_date, "D") + np.arange(n_days), type=pa.date32())
        self._schema = pa.schema(
            [("path", pa.int32()), ("day", pa.int16()), ("date", pa.date32())]
            + [(name, pa.float32()) for name in SERIES]
        )
        self._writer: Any = None

    def __call__(self, first_path: int, out: ChunkOutputs, n: int) -> None:
        """Append paths ``first_path .. first_path + n - 1`` (the engine's ``on_chunk`` callback)."""
        import pyarrow.parquet as pq

        pa = self._pa
        d = self.n_days
        cols: dict[str, Any] = {
            "path": pa.array(np.repeat(np.arange(first_path, first_path + n, dtype=np.int32), d)),
            "day": pa.array(np.tile(np.arange(d, dtype=np.int16), n)),
            "date": pa.concat_arrays([self._dates] * n) if n else pa.array([], type=pa.date32()),
        }
        for name in SERIES:
            cols[name] = pa.array(np.asarray(out.series(name)[:n], dtype=np.float32).ravel())
        table = pa.table(cols, schema=self._schema)
        if self._writer is None:
            try:
                self._writer = pq.ParquetWriter(str(self.path), self._schema)
            except OSError as exc:
                raise InputError("--out", str(self.path), f"a writable file path ({exc})") from None
        self._writer.write_table(table)

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.close()


# ------------------------------------------------------------------------------------------- running
def scenario_work(scenario: Scenario, point: dict[str, Any] | None = None) -> float:
    """Estimated work of one run of `scenario` (with the parameters of a grid `point`) [cohort-path-days]."""
    point = point or {}
    cohorts = int(point.get("fleet.cohorts", scenario.fleet.cohorts))
    deploy = bool(point.get("fleet.deploy.enabled", scenario.fleet.deploy.enabled))
    paths = int(point.get("paths", scenario.paths))
    return float(paths) * int(point.get("horizon_days", scenario.horizon_days)) * (cohorts + deploy)


def check_backend(backend: str, field: str = "--backend") -> Backend:
    """A kernel name from the command line (numba, numpy or jax)."""
    if backend not in BACKENDS:
        raise InputError(field, backend, f"one of {', '.join(BACKENDS)}")
    return backend


def _run(
    scenario: Scenario,
    snapshot: NetworkSnapshot | None,
    *,
    show_progress: bool,
    out: Path | None,
    backend: Backend = "numba",
) -> SimResult:
    writer: ParquetPathWriter | None = None
    if out is not None:
        start = snapshot.date if snapshot is not None else NetworkSnapshot.embedded().date
        writer = ParquetPathWriter(out, start, scenario.horizon_days)
    try:
        if not show_progress:
            return simulate(scenario, snapshot, on_chunk=writer, backend=backend)
        with Progress(
            TextColumn("[bold]simulating[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("paths"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        ) as bar:
            task = bar.add_task("paths", total=scenario.paths)
            return simulate(
                scenario,
                snapshot,
                backend=backend,
                on_chunk=writer,
                progress=lambda done, total: bar.update(task, completed=done),
            )
    finally:
        if writer is not None:
            writer.close()


def _q(q: Quantiles, fmt: Any) -> str:
    return " / ".join(fmt(x) for x in (q.p05, q.p50, q.p95))


def _btc(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:,.0f} BTC"


def _pct_change(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:+.1f}%"


def _print_summary(res: SimResult, summary: SimSummary, out: Path | None) -> None:
    st = res.start
    table = Table(
        title=f"hashrisk simulate: {res.scenario.name}, {res.n_paths:,} paths x {res.n_days} days "
        f"from {st.date} ({res.scenario.price_model}, feedback {'on' if res.scenario.impact.enabled else 'off'})"
    )
    table.add_column("measure")
    table.add_column("p05 / p50 / p95", justify="right")
    table.add_column("note")
    end = summary.end
    table.add_row(
        "start",
        f"BTC {usd(st.price_usd)}, {eh_s(st.hashrate_ths)}",
        f"difficulty {st.difficulty:,.0f}, height {st.height:,}",
    )
    table.add_row(f"price on {summary.end_date}", _q(end["price_usd"], usd), "USD/BTC")
    table.add_row("hashrate at the end", _q(end["hashrate_ths"], eh_s), "online")
    table.add_row("difficulty at the end", _q(end["difficulty"], lambda x: f"{x / 1e12:,.1f} T"), "")
    table.add_row("fleet offline at the end", _q(end["offline_share"], pct), "share of installed hashrate")
    table.add_row(
        "fleet offline, worst day",
        _q(summary.offline_share.max_over_horizon, pct),
        "per path, over the horizon",
    )
    fr = summary.first_retarget
    table.add_row(
        f"first retarget (height {fr.height:,})", _q(fr.change_pct, _pct_change), "difficulty change"
    )
    drop = summary.difficulty_drop
    for x in ("5", "10", "20"):
        if x in drop.p_first_retarget:
            table.add_row(
                f"P(difficulty drop >= {x}%)",
                f"{pct(drop.p_first_retarget[x])} / any {pct(drop.p_any_retarget[x])}",
                "first retarget / any retarget in the horizon",
            )
    sold = summary.miner_btc_sold
    table.add_row(
        "miners' BTC sold, total",
        _q(sold.total_btc, _btc),
        f"mean {sold.per_day_btc_mean:,.0f} BTC/day",
    )
    if sold.forced_btc.mean > 0:
        table.add_row("  of which forced", _q(sold.forced_btc, _btc), "lenders' liquidations")
    rec = summary.hashrate_recovery
    table.add_row(
        "hashrate back at start level",
        _q(rec.days_from_start, lambda x: "n/a" if not math.isfinite(x) else f"day {x:.0f}"),
        f"{pct(rec.share_recovered)} of the {pct(rec.share_paths_dropped)} of paths that dropped",
    )
    amp = summary.amplification
    table.add_row(
        "price vol, feedback on / off",
        f"{pct(amp.vol_annualised_on.p50)} / {pct(amp.vol_annualised_off.p50)}",
        f"mean ratio {amp.vol_ratio_mean:.3f}",
    )
    table.add_row(
        "max drawdown, feedback on / off",
        f"{pct(amp.max_drawdown_on.p50)} / {pct(amp.max_drawdown_off.p50)}",
        "medians over paths",
    )
    console.print(table)
    rt = res.retargets_frame().head(8)
    if len(rt):
        t2 = Table(title="retargets (quantiles over paths reaching them)")
        for col in (
            "height",
            "date p50",
            "share of paths",
            "difficulty p05 / p50 / p95 [T]",
            "change p05 / p50 / p95",
        ):
            t2.add_column(col, justify="right")
        for r in rt.to_dict(orient="records"):
            t2.add_row(
                f"{r['height']:,}",
                str(r["date_p50"]),
                pct(r["share_of_paths"]),
                " / ".join(f"{r[f'difficulty_{q}'] / 1e12:,.1f}" for q in ("p05", "p50", "p95")),
                " / ".join(_pct_change(r[f"change_pct_{q}"]) for q in ("p05", "p50", "p95")),
            )
        console.print(t2)
    console.print(
        f"{res.meta['cohorts']} cohorts; {res.meta['elapsed_s']:.1f} s; assumptions: see `hashrisk scenario new`"
        + (f"; full paths written to {out}" if out else ""),
        highlight=False,
    )


SCENARIO_ARG = typer.Argument(
    None, help="Scenario YAML (default: the annotated default scenario).", dir_okay=False
)
PATHS_OPTION = typer.Option(None, "--paths", help="Monte-Carlo paths (overrides the scenario).")
HORIZON_OPTION = typer.Option(None, "--horizon-days", help="Days simulated (overrides the scenario).")
SEED_OPTION = typer.Option(None, "--seed", help="Random seed (overrides the scenario).")
START_OPTION = typer.Option(None, "--start", help="Start from the stored snapshot of this day (YYYY-MM-DD).")
HOME_OPTION = typer.Option(
    None, "--home", help="Data directory (default: $HASHRISK_HOME or the user data dir)."
)
BACKEND_OPTION = typer.Option(
    "numba", "--backend", help="Kernel: numba (compiled, default), numpy (reference) or jax (the gpu extra)."
)
FLEET_OPTION = typer.Option(
    None, "--fleet", help="Fleet TOML (default: the scenario's, else packaged).", dir_okay=False
)


@handle_errors
def simulate_command(
    scenario_file: Path | None = SCENARIO_ARG,
    paths: int | None = PATHS_OPTION,
    horizon_days: int | None = HORIZON_OPTION,
    seed: int | None = SEED_OPTION,
    price_path: Path | None = typer.Option(
        None,
        "--price-path",
        help="Deterministic price path: CSV date,price_usd (consecutive days).",
        dir_okay=False,
    ),
    start: str | None = START_OPTION,
    fleet: Path | None = FLEET_OPTION,
    home: Path | None = HOME_OPTION,
    out: Path | None = typer.Option(
        None, "--out", help="Write every path's daily series to this Parquet file."
    ),
    backend: str = BACKEND_OPTION,
    yes: bool = YES_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Monte-Carlo simulation of price, hashrate, difficulty, retargets and miners' sales.

    Runs estimated above MAX_WORK_COHORT_PATH_DAYS (paths x days x cohorts; about 60 s) need --yes.
    """
    kernel = check_backend(backend)
    scenario = _apply_options(
        load_scenario(scenario_file),
        paths=paths,
        horizon_days=horizon_days,
        seed=seed,
        price_path=price_path,
        fleet=fleet,
        start=start,
    )
    check_work(scenario_work(scenario), yes, "--paths", scenario.paths)
    scenario = fill_from_store(scenario, home)
    snapshot = _snapshot(scenario, home)
    scenario = with_listed_owners(scenario, snapshot.date)
    res = _run(scenario, snapshot, show_progress=not json_out, out=out, backend=kernel)
    figures = res.figures()
    if json_out:
        summary = figures.to_dict()
        if out is not None:
            summary["paths_file"] = str(out)
        emit_json({**summary, **as_of_fields(snapshot)})
        return
    _print_summary(res, figures, out)


def parse_shock(text: str) -> float:
    """``"-20%"``, ``"-20"`` or ``"-0.2"`` -> -0.2 (a number with % or of magnitude above 1 is in percent).

    Raises
    ------
    InputError
        Unless the result is a fraction in (-0.95, 1].
    """
    m = re.fullmatch(r"\s*([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)\s*(%?)\s*", text)
    if m is None:
        raise InputError("--shock", text, "a price change such as -20% (or -0.2)")
    value = float(m.group(1))
    if m.group(2) or abs(value) > 1:
        value /= 100.0
    if not -0.95 < value <= 1.0:
        raise InputError("--shock", text, "a price change above -95% and at most +100%")
    return value


@handle_errors
def stress_command(
    shock: list[str] | None = typer.Option(
        None, "--shock", help="Price shock, e.g. -20% (repeatable; default: -10%, -20% and -30%)."
    ),
    days: int = typer.Option(30, "--days", help="Days over which the shock unfolds (then flat drift)."),
    vol: float | None = typer.Option(
        None,
        "--vol",
        help="Annualised volatility around the shock path (default: the scenario's, 0.5; 0: none).",
    ),
    scenario_file: Path | None = typer.Option(None, "--scenario", help="Base scenario YAML.", dir_okay=False),
    paths: int = typer.Option(2_000, "--paths", help="Monte-Carlo paths per shock."),
    horizon_days: int = typer.Option(90, "--horizon-days", help="Days simulated."),
    treasury_buying: float | None = typer.Option(
        None,
        "--treasury-buying-usd-per-day",
        help="Corporate treasuries' buying netted against miners' sales in the feedback [USD/day] (default: "
        "what `hashrisk flows btc` measures, unless the scenario sets its own; 0: none).",
    ),
    seed: int | None = SEED_OPTION,
    start: str | None = START_OPTION,
    home: Path | None = HOME_OPTION,
    yes: bool = YES_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Canned price shocks from the snapshot: hashrate offline, next retargets, who is forced to sell (production
    sold, treasury drawn, capital raised, runway), the BTC the AI/HPC capex forces out, amplification."""
    shocks = [parse_shock(s) for s in shock] if shock else list(CANNED_SHOCKS)
    if days < 1:
        raise InputError("--days", days, "a number of days >= 1")
    if treasury_buying is not None and not (math.isfinite(treasury_buying) and treasury_buying >= 0):
        raise InputError("--treasury-buying-usd-per-day", treasury_buying, "a finite amount >= 0 [USD/day]")
    base = _apply_options(
        load_scenario(scenario_file),
        paths=paths,
        horizon_days=horizon_days,
        seed=seed,
        price_path=None,
        fleet=None,
        start=start,
    )
    check_work(len(shocks) * scenario_work(base), yes, "--paths", base.paths)
    snapshot = _snapshot(base, home)
    base = with_listed_owners(base, snapshot.date)
    if treasury_buying is not None:
        base = base.with_params({"net_flows.treasury_buying_usd_per_day": treasury_buying})
        basis = "--treasury-buying-usd-per-day"
    elif base.net_flows.treasury_buying_usd_per_day == 0:
        base = with_treasury_buying(base, measured_treasury_buying(snapshot))
        basis = "measured by `hashrisk flows btc` (packaged treasury purchases per day x the start price)"
    else:
        basis = "the scenario's net_flows"
    results = [
        run_stress(
            base,
            x,
            days,
            vol,
            lambda sc: _run(sc, snapshot, show_progress=not json_out, out=None),
            net_flows_basis=basis,
        )
        for x in shocks
    ]
    if json_out:
        first = results[0][0]
        emit_json(
            {
                "start": first.start.to_dict(),
                "paths": base.paths,
                "horizon_days": base.horizon_days,
                "vol": getattr(first.scenario.price, "vol", None),
                "feedback": base.impact.enabled,
                "shocks": [s for _, s in results],
                **as_of_fields(snapshot),
            }
        )
        return
    _print_stress(base, results)


def _runway(months: float) -> str:
    if not math.isfinite(months):
        return "n/a"
    return (
        f">= {RUNWAY_CAP_MONTHS:.0f} months (cap)" if months >= RUNWAY_CAP_MONTHS else f"{months:,.1f} months"
    )


def stress_owner_split(o: dict[str, Any]) -> str:
    """``"sold = production + treasury BTC (share of its BTC)"``, means over paths (they add up)."""
    share = o["treasury_drawn_share_of_start_btc"]["mean"]
    return (
        f"{o['sold_btc']['mean']:,.0f} = {o['sold_production_btc']['mean']:,.0f} + "
        f"{o['treasury_drawn_btc']['mean']:,.0f} BTC"
        + (f" ({pct(share)} of its BTC)" if math.isfinite(share) else "")
    )


def stress_owner_funding(o: dict[str, Any]) -> str:
    """``"capital raised USD (its cost USD); runway"`` (raised: mean over paths; runway: median)."""
    return (
        f"{usd(o['capital_raised_usd']['mean'])} ({usd(o['raise_cost_usd']['mean'])}); "
        f"{_runway(o['runway_months']['p50'])}"
    )


def _print_stress(base: Scenario, results: list[tuple[SimResult, dict[str, Any]]]) -> None:
    first = results[0][0]
    st = first.start
    table = Table(
        title=f"hashrisk stress from {st.date} (BTC {usd(st.price_usd)}, {eh_s(st.hashrate_ths)}); "
        f"{base.paths:,} paths, vol {getattr(first.scenario.price, 'vol', 0):.2f}, p05 / p50 / p95"
    )
    table.add_column("measure")
    for _, s in results:
        table.add_column(f"{s['shock_pct']:+.0f}% over {s['shock_days']} d", justify="right")

    def row(label: str, fn: Any) -> None:
        table.add_row(label, *(fn(s) for _, s in results))

    def trio(d: dict[str, float], f: Any) -> str:
        return f"{f(d['p05'])} / {f(d['p50'])} / {f(d['p95'])}"

    row("price at the end of the shock", lambda s: trio(s["price_at_shock_end_usd"], usd))
    row(
        "hashrate offline vs start (shock end)",
        lambda s: trio(s["hashrate_offline_vs_start_at_shock_end"], pct),
    )
    row(
        "hashrate offline vs start (worst day)", lambda s: trio(s["hashrate_offline_vs_start_worst_day"], pct)
    )
    for i in range(2):
        row(
            f"retarget {i + 1}: height / date p50",
            lambda s, i=i: (
                f"{s['next_retargets'][i]['height']:,} / {s['next_retargets'][i]['date_p50']}"
                if len(s["next_retargets"]) > i
                else "n/a"
            ),
        )
        row(
            f"retarget {i + 1}: difficulty change",
            lambda s, i=i: (
                " / ".join(
                    _pct_change(s["next_retargets"][i][f"change_pct_{q}"]) for q in ("p05", "p50", "p95")
                )
                if len(s["next_retargets"]) > i
                else "n/a"
            ),
        )
    row(
        "P(first retarget <= -5% / -10%)",
        lambda s: f"{pct(s['p_first_retarget_drop']['5'])} / {pct(s['p_first_retarget_drop']['10'])}",
    )
    row(
        "BTC sold per day during the shock",
        lambda s: (
            f"{s['btc_sold']['during_shock_btc_per_day_mean']:,.0f} "
            f"(baseline {s['btc_sold']['baseline_btc_per_day']:,.0f})"
        ),
    )
    row("BTC sold over the horizon", lambda s: trio(s["btc_sold"]["total_btc"], _btc))
    for i, o in enumerate(results[0][1]["owners"]):
        name = o["owner"]
        row(
            f"{name}: BTC sold = production + treasury drawn (mean)",
            lambda s, i=i: stress_owner_split(s["owners"][i]),
        )
        row(
            f"{name}: capital raised (its cost, mean); runway (p50)",
            lambda s, i=i: stress_owner_funding(s["owners"][i]),
        )
    row(
        "BTC the AI/HPC capex forces out (p50)",
        lambda s: _btc(s["ai_hpc_forced"]["treasury_drawn_btc"]["p50"]),
    )
    row(
        "max drawdown, feedback on / off (p50)",
        lambda s: (
            f"{pct(s['amplification']['max_drawdown_on_p50'])} / {pct(s['amplification']['max_drawdown_off_p50'])}"
        ),
    )
    row(
        "amplification: drawdown ratio on / off (p50)",
        lambda s: f"{s['amplification']['max_drawdown_ratio_p50']:.3f}",
    )
    row("price vol ratio on / off (mean)", lambda s: f"{s['amplification']['vol_ratio_mean']:.3f}")
    console.print(table)
    s0 = results[0][1]
    nf = s0["net_flows"]
    console.print(
        "Shock spread evenly over the window, then zero drift. Feedback = square-root impact of net mechanical "
        f"sales above the start day's: miners' sales minus treasury buying of {usd(nf['treasury_buying_usd_per_day'])}"
        f"/day ({nf['basis']}) and ETF flows of {usd(nf['etf_usd_per_day'])}/day; 'off' = the same shock and "
        "seed without the feedback. Owners: the listed miners of the start day (balance sheets from the cited "
        "datasets; every value's document or 'assumption' in `hashrisk stress --json` -> owners[].sources) and "
        f"the rest of the network (assumptions). Runway capped at 120 months. AI/HPC: {s0['ai_hpc_forced']['note']} "
        "(other assumptions: `hashrisk scenario new`).",
        highlight=False,
    )


@scenario_app.command("new")
@handle_errors
def scenario_new(
    file: Path = typer.Argument(
        ..., help="Where to write the annotated default scenario (YAML).", dir_okay=False
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write the annotated default scenario (every field explained; assumptions marked)."""
    if file.exists() and not force:
        raise InputError("FILE", str(file), "a path that does not exist yet (or pass --force)")
    try:
        file.write_text(default_scenario_yaml(), encoding="utf-8")
    except OSError as exc:
        raise InputError("FILE", str(file), f"a writable path ({exc.__class__.__name__})") from None
    console.print(f"wrote {file}; run it with: hashrisk simulate {file}", highlight=False)


@scenario_app.command("check")
@handle_errors
def scenario_check(
    file: Path = typer.Argument(..., help="Scenario YAML to validate.", dir_okay=False),
    json_out: bool = JSON_OPTION,
) -> None:
    """Validate a scenario file (with its price CSV and fleet TOML) without running it."""
    scenario = load_scenario(file)
    if json_out:
        emit_json({"valid": True, "scenario": scenario.to_dict()})
        return
    console.print(
        f"{file}: valid ({scenario.paths:,} paths x {scenario.horizon_days} days, {scenario.price_model})"
    )


def register_sim_commands(app: typer.Typer) -> None:
    """Add ``simulate``, ``stress`` and the ``scenario`` group to the main `app`."""
    app.command("simulate")(simulate_command)
    app.command("stress")(stress_command)
    app.add_typer(scenario_app, name="scenario")
