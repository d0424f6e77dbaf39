"""Shared pieces of the command-line shell: error handling, JSON output, snapshot resolution.

Number formatting (EH/s, USD, percentages) lives in :mod:`hashrisk.display`, shared with the report and the web app.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from hashrisk._json import jsonable
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.data.stored_snapshot import snapshot_for_date
from hashrisk.errors import DataError, HashriskError, InputError

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object on stdout instead of tables.")


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn hashrisk's own errors into a one-line message on stderr and exit status 2 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except HashriskError as exc:
            # the message may hold user text (file names, values): never read it as markup or emoji codes
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, emoji=False)
            raise typer.Exit(2) from None

    return wrapper


def read_user_text(path: Path, field: str, what: str) -> str:
    """Text of a file the user named; an unreadable file is an :class:`InputError` naming `field`."""
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise InputError(field, str(path), f"a readable UTF-8 {what} ({exc.__class__.__name__})") from None


def emit_json(obj: dict[str, Any]) -> None:
    """Write exactly one JSON object on stdout (NaN and infinities become null)."""
    sys.stdout.write(json.dumps(jsonable(obj), allow_nan=False) + "\n")


def resolve_snapshot(
    snapshot_file: Path | None = None,
    date: str | None = None,
    home: Path | None = None,
    **overrides: float | None,
) -> NetworkSnapshot:
    """The snapshot a command works on: the stored `date` (else the embedded one), then a TOML file, then flags.

    Without stored data for `date`, a warning on stderr says how to get some and the embedded snapshot is used.
    """
    base = NetworkSnapshot.embedded()
    if date is not None:
        try:
            base = snapshot_for_date(date, home=home)
        except DataError as exc:
            err_console.print(
                f"[yellow]warning:[/] {escape(str(exc))}\nFalling back to the embedded {base.date} snapshot.",
                highlight=False,
                emoji=False,
            )
    if snapshot_file is not None:
        base = NetworkSnapshot.from_toml(snapshot_file, base)
    flags = {k: v for k, v in overrides.items() if v is not None}
    return base.override(source="command-line flag", **flags) if flags else base
