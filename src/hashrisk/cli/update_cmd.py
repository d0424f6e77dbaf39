"""``hashrisk update``: bring the store up to date from every configured source, once or ``--every 15m``.

Exit status: 0 every source ok; 3 partial (some sources failed, the others are stored); 2 bad input or every
source failed. With ``--every``, SIGINT/SIGTERM stop the loop after the source batch in progress (exit 0).
"""

from __future__ import annotations

import re
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import typer
from rich.markup import escape

from hashrisk.cli.common import JSON_OPTION, console, emit_json, err_console, handle_errors
from hashrisk.data.config import load_config
from hashrisk.data.store import store_path
from hashrisk.data.update import SourceResult, UpdateReport, update
from hashrisk.errors import InputError

MIN_INTERVAL_S = 1.0
"""Shortest ``--every`` interval [s] (tests use 1s; a desk uses 15m)."""
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_interval(text: str) -> float:
    """``"15m"`` -> 900.0 seconds (units s, m, h, d; combined as ``1h30m``).

    Raises
    ------
    InputError
        Unless a positive duration of at least :data:`MIN_INTERVAL_S`.
    """
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhd])", text.strip().lower())
    joined = "".join(n + u for n, u in parts)
    if not parts or joined != text.strip().lower():
        raise InputError("--every", text, "a duration such as 15m, 1h, 90s or 1h30m")
    seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds < MIN_INTERVAL_S:
        raise InputError("--every", text, f"a duration of at least {MIN_INTERVAL_S:g} s")
    return seconds


class _StopFlag:
    """Set by SIGINT/SIGTERM: the running source batch finishes, then the command exits 0."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self) -> bool:
        return self.event.is_set()

    def handler(self, signum: int, frame: FrameType | None) -> None:
        self.event.set()
        err_console.print(
            f"[yellow]{signal.Signals(signum).name}[/]: stopping after the batch in progress", highlight=False
        )


def _print_results(report: UpdateReport) -> None:
    for r in report.results:
        style = "green" if r.ok else "red"
        console.print(
            f"[{style}]{'ok' if r.ok else 'failed'}[/] {escape(r.line())}", highlight=False, soft_wrap=True
        )
    if not report.results:
        console.print("no source is enabled (see `hashrisk config show`)", highlight=False)


def _run_once(home: Path | None, json_out: bool, stop: _StopFlag | None) -> UpdateReport:
    config = load_config(home)  # re-read every round: edits apply at the next update
    live = sys.stderr.isatty() and not json_out
    status: Any = err_console.status("updating", spinner="dots") if live else None
    t0 = time.perf_counter()

    def started(name: str) -> None:
        if status is not None:
            status.update(f"updating [bold]{name}[/]")

    def done(result: SourceResult) -> None:
        if status is not None:
            mark = "[green]✓[/]" if result.ok else "[red]✗[/]"
            err_console.print(f"{mark} {escape(result.line())}", highlight=False, soft_wrap=True)

    if status is not None:
        status.start()
    try:
        report = update(config, home, on_start=started, on_done=done, stop=stop)
    finally:
        if status is not None:
            status.stop()
    if json_out:
        emit_json({**report.to_dict(), "store": str(store_path(home)), "seconds": time.perf_counter() - t0})
    else:
        _print_results(report)
    return report


@handle_errors
def update_command(
    every: str | None = typer.Option(
        None,
        "--every",
        help="Keep running, updating on this interval (e.g. 15m, 1h); SIGTERM/Ctrl-C stop it.",
    ),
    home: Path | None = typer.Option(
        None, "--home", help="Data directory (default: $HASHRISK_HOME or the user data dir)."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Bring the store up to date from every configured source (<home>/config.toml; `hashrisk config init`).

    Exit status: 0 all sources ok, 3 partial (some failed; the others are stored), 2 bad input or all failed.
    """
    if every is None:
        report = _run_once(home, json_out, None)
        raise typer.Exit(report.exit_code)
    interval = parse_interval(every)
    load_config(home)  # a bad configuration is exit 2 before the loop starts
    stop = _StopFlag()
    signal.signal(signal.SIGINT, stop.handler)
    signal.signal(signal.SIGTERM, stop.handler)
    while not stop():
        t0 = time.monotonic()
        _run_once(home, json_out, stop)
        stop.event.wait(max(0.0, interval - (time.monotonic() - t0)))
    raise typer.Exit(0)


def register_update_command(app: typer.Typer) -> None:
    """Add ``hashrisk update`` to `app`."""
    app.command("update")(update_command)
