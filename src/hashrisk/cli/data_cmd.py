"""`hashrisk data ...` commands (import, fetch, status, export)."""

from __future__ import annotations

import typer

data_app = typer.Typer(help="Import, fetch and inspect the local data store.", no_args_is_help=True)
