"""`hashrisk evaluate`: the shell over :mod:`hashrisk.sim.evaluate` (the store is read here, frames passed in).

- ``hashrisk evaluate``: rolling-origin backcast of the simulator from every stored retarget of the window,
  scored by horizon and regime against persistence and a trend.
- ``hashrisk evaluate --estimator``: the next-adjustment estimate replayed at 10/25/50/75/90% of each
  stored epoch of blocks (or of ``--synthetic N`` simulated epochs), against mempool.space's method.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from hashrisk.cli.common import JSON_OPTION, console, emit_json, handle_errors
from hashrisk.cli.sim_cmd import HOME_OPTION, load_scenario
from hashrisk.cli.sweep_cmd import BACKEND_OPTION, SCHEDULER_OPTION, WORKERS_OPTION
from hashrisk.cli.sweep_cmd import _fmt as _f
from hashrisk.cli.sweep_cmd import _write_table as _write
from hashrisk.data.store import Store
from hashrisk.errors import DataError, InputError
from hashrisk.sim.evaluate import (
    MAX_HORIZONS,
    MODES,
    EvaluationResult,
    Mode,
    epochs_from_blocks,
    evaluate,
    evaluate_adjustment_estimates,
    summarize,
    summarize_estimates,
    synthetic_epochs,
)
from hashrisk.sim.sweep import SWEEP_BACKENDS


def parse_horizons(text: str) -> tuple[int, int]:
    """``"1-6"`` -> (1, 6); ``"6"`` -> (1, 6); ``"3-3"`` -> (3, 3).

    Raises
    ------
    InputError
        Naming ``--horizons``.
    """
    lo_s, sep, hi_s = text.partition("-")
    try:
        lo, hi = (int(lo_s), int(hi_s)) if sep else (1, int(lo_s))
    except ValueError:
        raise InputError("--horizons", text, "a range of retargets like 1-6 (or a count like 6)") from None
    if not 1 <= lo <= hi <= MAX_HORIZONS:
        raise InputError("--horizons", text, f"a range within 1-{MAX_HORIZONS}")
    return lo, hi


def _day(text: str | None, field: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(field, text, "a day as YYYY-MM-DD") from None


def _print_scores(res: EvaluationResult, table: pd.DataFrame) -> None:
    for mode, g in table.groupby("mode", sort=False):
        t = Table(title=f"{mode}: simulated median vs the real difficulty (log errors, %)")
        for col in (
            "regime",
            "k",
            "n",
            "MAE",
            "RMSE",
            "bias",
            "50% cov",
            "90% cov",
            "CRPS",
            "MAE persist.",
            "MAE trend",
            "skill vs persist.",
            "skill vs trend",
        ):
            t.add_column(col, justify="right")
        for r in g.to_dict(orient="records"):
            t.add_row(
                str(r["regime"]),
                str(r["horizon"]),
                str(r["n"]),
                _f(r["mae_log_pct"], ".2f"),
                _f(r["rmse_log_pct"], ".2f"),
                _f(r["bias_log_pct"], "+.2f"),
                _f(r["coverage50"], ".0%"),
                _f(r["coverage90"], ".0%"),
                _f(r["crps_log_pct"], ".2f"),
                _f(r["mae_log_pct_persistence"], ".2f"),
                _f(r["mae_log_pct_trend"], ".2f"),
                _f(r["skill_vs_persistence"], "+.0%"),
                _f(r["skill_vs_trend"], "+.0%"),
            )
        console.print(t)
    m = res.meta
    console.print(
        f"{m['origins']} origins ({m['since']}..{m['until'] or 'last stored'}), {m['paths']} paths, "
        f"backend {m['backend']}, {m['elapsed_s']:.1f} s; skipped {m['skipped']} origin-modes; "
        f"parameters: {m['parameters']}",
        highlight=False,
    )


def _estimator(home: Path | None, synthetic: int | None, seed: int, out: Path | None, json_out: bool) -> None:
    if synthetic is not None:
        epochs = synthetic_epochs(synthetic, seed)
        origin = f"{synthetic} synthetic epochs (seed {seed})"
    else:
        with Store(home, read_only=True) as store:
            blocks = store.blocks_frame()
        epochs = epochs_from_blocks(blocks)
        if not epochs:
            raise DataError(
                "the store holds no complete epoch of blocks (2016 consecutive heights with times): fetch blocks "
                "(`hashrisk data fetch --source mempool` or a node) or use --synthetic N"
            )
        origin = f"{len(epochs)} stored epochs"
    rows = evaluate_adjustment_estimates(epochs)
    table = summarize_estimates(rows)
    if out is not None:
        _write(rows, out)
    if json_out:
        doc = {"source": origin, "scores": table.to_dict(orient="records")}
        if out is not None:
            doc["results_file"] = str(out)
        emit_json(doc)
        return
    t = Table(title=f"next-adjustment estimate vs mempool.space's method ({origin}; errors in pp of change)")
    for col in ("epoch done", "n", "MAE ours", "MAE mempool", "bias ours", "bias mempool", "90% cov", "band"):
        t.add_column(col, justify="right")
    for r in table.to_dict(orient="records"):
        t.add_row(
            f"{r['fraction']:.0%}",
            str(r["n"]),
            f"{r['mae_ours_pp']:.2f}",
            f"{r['mae_mempool_pp']:.2f}",
            f"{r['bias_ours_pp']:+.2f}",
            f"{r['bias_mempool_pp']:+.2f}",
            f"{r['coverage90_ours']:.0%}",
            f"{r['band90_width_pp']:.2f}",
        )
    console.print(t)


@handle_errors
def evaluate_command(
    since: str = typer.Option("2016-01-01", "--since", help="First origin day (YYYY-MM-DD)."),
    until: str | None = typer.Option(None, "--until", help="Last origin day (default: the last stored)."),
    horizons: str = typer.Option("1-6", "--horizons", help="Retargets ahead scored, e.g. 1-6."),
    paths: int = typer.Option(500, "--paths", help="Monte-Carlo paths per origin and mode."),
    backend: str = BACKEND_OPTION,
    workers: int = WORKERS_OPTION,
    scheduler: str | None = SCHEDULER_OPTION,
    mode: str = typer.Option("both", "--mode", help="conditional, unconditional or both."),
    scenario_file: Path | None = typer.Option(
        None, "--scenario", help="Scenario YAML for the behaviour (default: the defaults).", dir_okay=False
    ),
    estimator: bool = typer.Option(
        False, "--estimator", help="Evaluate the next-adjustment estimate instead (stored blocks)."
    ),
    synthetic: int | None = typer.Option(
        None, "--synthetic", help="With --estimator: N synthetic epochs instead of stored blocks."
    ),
    seed: int = typer.Option(2026, "--seed", help="Random seed."),
    unexplained_scale: float = typer.Option(
        0.0,
        "--unexplained-scale",
        help="Adaptive bands: each origin's fleet.unexplained_log_sd becomes this multiple of the sd of its "
        "last year of log adjustments (0: the scenario's value).",
    ),
    home: Path | None = HOME_OPTION,
    out: Path | None = typer.Option(None, "--out", help="Write the per-origin rows (.csv or .parquet)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """How good is the model: rolling-origin backcasts from every stored retarget, scored by horizon."""
    if estimator or synthetic is not None:
        _estimator(home, synthetic, seed, out, json_out)
        return
    lo, hi = parse_horizons(horizons)
    modes: tuple[Mode, ...]
    if mode == "both":
        modes = MODES
    elif mode in MODES:
        modes = (mode,)
    else:
        raise InputError("--mode", mode, "conditional, unconditional or both")
    if backend not in SWEEP_BACKENDS:
        raise InputError("--backend", backend, f"one of {', '.join(SWEEP_BACKENDS)}")
    if not 0.0 <= unexplained_scale <= 10.0 or not math.isfinite(unexplained_scale):
        raise InputError("--unexplained-scale", unexplained_scale, "a multiple in [0, 10]")
    if not 1 <= paths <= 100_000:
        raise InputError("--paths", paths, "a whole number of paths in [1, 100000]")
    base = load_scenario(scenario_file).with_params({"seed": seed})
    with Store(home, read_only=True) as store:
        daily = store.daily_frame()
        retargets = store.retargets_frame()
    if daily.empty or retargets.empty:
        raise DataError(
            "the evaluation needs stored daily data and retargets: run `hashrisk data import FILE` (a Coin Metrics "
            "CSV and a mempool.space hashrate/difficulty JSON) or `hashrisk data fetch`"
        )
    res = evaluate(
        base,
        daily,
        retargets,
        since=_day(since, "--since"),
        until=_day(until, "--until"),
        horizons=hi,
        paths=paths,
        modes=modes,
        backend=backend,
        workers=workers,
        scheduler=scheduler,
        unexplained_scale=unexplained_scale,
    )
    rows = res.rows[res.rows["horizon"] >= lo] if len(res.rows) else res.rows
    res = EvaluationResult(rows, summarize(rows), res.meta)
    if out is not None:
        _write(rows, out)
    if json_out:
        doc = res.summary()
        if out is not None:
            doc["results_file"] = str(out)
        emit_json(doc)
        return
    _print_scores(res, res.table)
    if out is not None:
        console.print(f"rows written to {out} (read by `hashrisk report`)", highlight=False)


def register_evaluate_commands(app: typer.Typer) -> None:
    """Add ``evaluate`` to the main `app`."""
    app.command("evaluate")(evaluate_command)
