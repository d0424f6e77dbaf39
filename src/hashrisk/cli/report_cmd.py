"""CLI commands ``hashrisk report`` (the desk report) and ``hashrisk serve`` (JSON API + dashboard).

``serve`` imports FastAPI and uvicorn only when it runs (extra ``web``), so ``hashrisk report`` works
without them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import time
from pathlib import Path

import typer
from rich.markup import escape

from hashrisk.cli import common
from hashrisk.cli.common import JSON_OPTION, YES_OPTION, console, emit_json, err_console, handle_errors
from hashrisk.data.stored_snapshot import as_of
from hashrisk.economics.fleet import FleetSpec
from hashrisk.errors import InputError

HOME_OPTION = typer.Option(
    None, "--home", help="Data directory (default: $HASHRISK_HOME or the user data dir)."
)


@handle_errors
def report_command(
    date: str | None = typer.Option(
        None,
        "--date",
        help="Report on the stored snapshot of this day (YYYY-MM-DD); default: the newest complete stored day, "
        "else the embedded snapshot.",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Output file (default: report.html, or report.md with --format md).",
        dir_okay=False,
    ),
    fmt: str | None = typer.Option(
        None,
        "--format",
        help="html (one self-contained file) or md (Markdown + SVG charts); default from --out.",
    ),
    power_price: float = typer.Option(0.05, "--power-price", help="Uniform power price [USD/kWh]."),
    fleet_file: Path | None = typer.Option(
        None, "--fleet", help="Fleet TOML (default: packaged assumptions).", dir_okay=False
    ),
    paths: int = typer.Option(2_000, "--paths", help="Monte-Carlo paths per stress shock."),
    seed: int = typer.Option(2026, "--seed", help="Random seed of the stress simulations."),
    backend: str = typer.Option(
        "numpy",
        "--backend",
        help="Simulation kernel: numpy (no compilation; default) or numba (compiled, faster for many paths).",
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        help='First day of the History section (YYYY-MM-DD) or "all" (from 2009); default: two years '
        "before the as-of day.",
    ),
    since_changes: str | None = typer.Option(
        None,
        "--since-changes",
        help='First day of "What changed" (YYYY-MM-DD) or "last" (the default: since you last ran report '
        "or changes; 30 days before the as-of day the first time).",
    ),
    evaluation: Path | None = typer.Option(
        None,
        "--evaluation",
        help='A saved `hashrisk evaluate --out FILE` (.csv or .parquet) for the section "How good is the model".',
    ),
    home: Path | None = HOME_OPTION,
    yes: bool = YES_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Write the desk report: headline, what changed, cost, cost curve, difficulty, stress, sensitivity, AI/HPC, flows,
    counterpoints, what remains uncertain, provenance (HTML, or Markdown with SVG charts)."""
    from hashrisk.cli.changes_cmd import resolve_since, write_state
    from hashrisk.cli.sim_cmd import scenario_work
    from hashrisk.report import build_report, load_context, write_report
    from hashrisk.report.build import infer_format
    from hashrisk.report.context import STRESS_HORIZON_DAYS, STRESS_SHOCKS
    from hashrisk.report.model import Skipped
    from hashrisk.sim.scenario import Scenario

    t0 = time.perf_counter()
    stress = {"paths": paths, "horizon_days": STRESS_HORIZON_DAYS}
    common.check_work(len(STRESS_SHOCKS) * scenario_work(Scenario(), stress), yes, "--paths", paths)
    if backend not in ("numpy", "numba"):
        raise InputError("--backend", backend, "numpy or numba")
    history_since: dt.date | str | None = None
    if since is not None:
        try:
            history_since = since if since == "all" else dt.date.fromisoformat(since)
        except ValueError:
            raise InputError("--since", since, 'a date (YYYY-MM-DD) or "all"') from None
    target = out if out is not None else Path("report.md" if fmt == "md" else "report.html")
    kind = infer_format(target, fmt)
    spec = origin = None
    if fleet_file is not None:
        spec = FleetSpec.from_toml_text(
            common.read_user_text(fleet_file, "--fleet", "TOML file"), origin=str(fleet_file)
        )
        origin = f"file {fleet_file}"
    ctx = load_context(
        date,
        home,
        fleet_spec=spec,
        fleet_origin=origin,
        power_price_usd_per_kwh=power_price,
        stress_paths=paths,
        seed=seed,
        backend="numba" if backend == "numba" else "numpy",
        history_since=history_since,
    )
    if evaluation is not None:
        ctx = dataclasses.replace(ctx, evaluation_file=str(evaluation))
    if date is None:
        common.warn_if_stale(as_of(ctx.snapshot), home)
    if ctx.as_of is not None:
        start, basis = resolve_since(since_changes, ctx.as_of, home, "--since-changes")
        ctx = dataclasses.replace(ctx, changes_since=start, changes_basis=basis)
    elif since_changes not in (None, "last"):
        resolve_since(since_changes, ctx.snapshot.date, home, "--since-changes")  # validate the value
    report = build_report(ctx)
    files = write_report(report, target, kind)
    if ctx.as_of is not None:  # nothing stored: nothing seen, and no file written to the data folder
        write_state(home, "report", ctx.as_of)
    elapsed = time.perf_counter() - t0
    if json_out:
        emit_json(
            {
                "files": [str(f) for f in files],
                "format": kind,
                "elapsed_s": elapsed,
                **report.summary(),
                **common.as_of_fields(ctx.snapshot),
            }
        )
        return
    for s in report.sections:
        if isinstance(s, Skipped):
            console.print(f"  [yellow]skipped[/] {s.title}: {escape(s.reason)}", highlight=False)
        else:
            console.print(f"  [green]built[/] {s.title}", highlight=False)
    console.print(f"wrote {files[0]} ({len(files)} file(s)) in {elapsed:.1f} s", highlight=False)
    console.print(common.as_of_line(ctx.snapshot), highlight=False)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@handle_errors
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (default: localhost only)."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    allowed_host: list[str] | None = typer.Option(
        None,
        "--allowed-host",
        help="Host name the API answers besides --host and localhost (repeatable); requests naming any "
        "other Host get 400 (against DNS rebinding).",
    ),
    home: Path | None = HOME_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Serve the JSON API (OpenAPI at /openapi.json) and the live dashboard at / (extra `web`)."""
    if not 0 < port < 65536:
        raise InputError("--port", port, "a TCP port in 1..65535")
    try:
        import uvicorn

        from hashrisk.web.app import create_app
    except ImportError as exc:
        raise InputError(
            "serve", "web extra", "FastAPI and uvicorn installed", hint=f"pip install 'hashrisk[web]' ({exc})"
        ) from None
    if not _is_loopback(host):
        err_console.print(
            f"[yellow]warning:[/] listening on {host}: the API has no authentication; anyone who can reach "
            "this address can use it.",
            highlight=False,
        )
    app = create_app(home=home, allowed_hosts=[host, *(allowed_host or [])])
    url = f"http://{host}:{port}/"
    if json_out:
        emit_json({"url": url, "openapi": url + "openapi.json", "dashboard": url})
    else:
        console.print(
            f"hashrisk dashboard at {url} (API spec at {url}openapi.json); Ctrl+C stops", highlight=False
        )
    uvicorn.run(app, host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``serve`` to the main `app`."""
    app.command("report")(report_command)
    app.command("serve")(serve_command)
