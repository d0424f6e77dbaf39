"""``hashrisk config init|show``: the data folder's configuration file (sources of ``hashrisk update``)."""

from __future__ import annotations

from pathlib import Path

import typer

from hashrisk.cli.common import JSON_OPTION, console, emit_json, handle_errors
from hashrisk.data.config import config_path, init_config, load_config

config_app = typer.Typer(help="The configuration file <home>/config.toml (sources of `hashrisk update`).")
HOME_OPTION = typer.Option(
    None, "--home", help="Data directory (default: $HASHRISK_HOME or the user data dir)."
)


@config_app.command("init")
@handle_errors
def config_init(
    home: Path | None = HOME_OPTION,
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented config.toml with every key at its default."""
    path = init_config(home, force=force)
    console.print(f"wrote {path}", highlight=False)


@config_app.command("show")
@handle_errors
def config_show(home: Path | None = HOME_OPTION, json_out: bool = JSON_OPTION) -> None:
    """The configuration in force (the defaults when there is no file); secrets are never shown."""
    config = load_config(home)
    data = config.masked()
    if json_out:
        emit_json(data)
        return
    console.print(f"# {data['file'] or f'no file at {config_path(home)}: defaults'}", highlight=False)
    for name, section in data["sources"].items():
        console.print(f"[sources.{name}]", highlight=False, markup=False)
        for key, value in section.items():
            console.print(f"{key} = {value!r}", highlight=False, markup=False)
    console.print("[http]", highlight=False, markup=False)
    for key, value in data["http"].items():
        console.print(f"{key} = {value!r}", highlight=False, markup=False)
