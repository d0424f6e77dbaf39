"""Shared pieces of the command-line shell: error handling, JSON output, snapshot resolution.

Number formatting (EH/s, USD, percentages) lives in :mod:`hashrisk.display`, shared with the report and the web app.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer._click import exceptions as click_exc
from typer.core import TyperGroup

from hashrisk._json import jsonable
from hashrisk.data.input_file import read_input_file
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.data.store import store_path
from hashrisk.data.stored_snapshot import AsOf, as_of, latest_snapshot, snapshot_for_date
from hashrisk.errors import DataError, HashriskError, InputError, StoreDamagedError

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object on stdout instead of tables.")

MAX_TEXT_FILE_BYTES = 2**20
"""Largest YAML or TOML file a command reads [bytes] (1 MiB; scenarios, grids, fleets, sites, snapshots are a
few KiB; YAML is further held to :data:`hashrisk._yaml.MAX_YAML_BYTES`). Labelled limit."""
MAX_CSV_FILE_BYTES = 64 * 2**20
"""Largest CSV file a command reads [bytes] (64 MiB: price paths, miners' data). A daily price path since 2009
is about 200 KB and a full Coin Metrics daily export under 1 MB: 64 MiB leaves room for any real file.
Labelled limit."""

FIRST_BLOCK_TIME = 1_231_006_505
"""Time of the genesis block [unix s] (2009-01-03 18:15:05 UTC): the earliest block time accepted."""
LAST_BLOCK_TIME = 2**32 - 1
"""Latest block time accepted [unix s] (2106-02-07): block header times are uint32."""

WORK_RATE_COHORT_PATH_DAYS_PER_S = 1e8
"""Simulation speed assumed for the work estimate [cohort-path-days/s] (numba kernel, 2 cores)."""
MAX_WORK_COHORT_PATH_DAYS = 6_000_000_000
"""Most work a command starts without ``--yes`` [cohort-path-days]: about 60 s at
:data:`WORK_RATE_COHORT_PATH_DAYS_PER_S` (the default `simulate`, 10,000 paths x 365 days x 33 cohorts, is
1.2e8)."""
YES_OPTION = typer.Option(
    False,
    "--yes",
    help=f"Run even when the estimated work is above {MAX_WORK_COHORT_PATH_DAYS:.0e} cohort-path-days "
    f"(about {MAX_WORK_COHORT_PATH_DAYS / WORK_RATE_COHORT_PATH_DAYS_PER_S:.0f} s on 2 cores).",
)


def print_error(message: str) -> None:
    """Write one error line on stderr (never wrapped, never read as markup; newlines become spaces)."""
    typer.secho("error:", fg="red", bold=True, err=True, nl=False)
    typer.echo(" " + " ".join(message.split("\n")), err=True)


def _option_names(func: Callable[..., Any]) -> dict[str, str]:
    """Command-line name of each parameter of a typer command (``etf`` -> ``--etf``)."""
    names: dict[str, str] = {}
    for name, param in inspect.signature(func).parameters.items():
        decls = getattr(param.default, "param_decls", None) or ()
        longs = [d for d in decls if d.startswith("--")]
        names[name] = longs[0] if longs else name.upper()
    return names


def _check_finite(values: dict[str, Any], names: dict[str, str]) -> None:
    """Refuse NaN and infinities in every float option (one check for every command)."""
    for name, value in values.items():
        items = value if isinstance(value, list | tuple) else [value]
        for item in items:
            if isinstance(item, float) and not math.isfinite(item):
                raise InputError(names.get(name, name), str(item), "a finite number (not nan or inf)")


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn hashrisk's own errors into a one-line message on stderr and exit status 2 (no traceback).

    Every float option is checked first: NaN and infinities are refused, naming the option.
    """
    names = _option_names(func)

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            _check_finite(kwargs, names)
            return func(*args, **kwargs)
        except HashriskError as exc:
            print_error(str(exc))
            raise typer.Exit(2) from None

    return wrapper


def read_user_text(path: Path, field: str, what: str, max_bytes: int = MAX_TEXT_FILE_BYTES) -> str:
    """Text of a file the user named: the one reader of user-named files of every command.

    Reads with :func:`hashrisk.data.input_file.read_input_file`: only regular files (no directory, FIFO or
    device), of at most `max_bytes` (never more than ``max_bytes + 1`` bytes are read); then UTF-8. Errors
    are an :class:`InputError` naming `field` and the path, with the reason, and never quote the content.
    """
    data = read_input_file(path, field=field, limit=max_bytes)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(field, str(path), f"a UTF-8 {what} (byte {exc.start:,} is not UTF-8)") from None


def unix_time(value: str, field: str) -> int:
    """A block time given as unix seconds or an ISO date-time, between the genesis block and 2106.

    Raises
    ------
    InputError
        Not a number or an ISO date-time, or outside [:data:`FIRST_BLOCK_TIME`, :data:`LAST_BLOCK_TIME`].
    """
    allowed = (
        f"unix seconds (or an ISO date-time) from the genesis block {FIRST_BLOCK_TIME} to {LAST_BLOCK_TIME} "
        "(2106-02-07, block times are uint32)"
    )
    try:
        seconds = float(int(value, 0)) if value.strip().lower().startswith("0x") else float(value)
    except ValueError:
        import pandas as pd

        try:
            ts = pd.Timestamp(value)
        except (ValueError, OverflowError):
            raise InputError(field, value, allowed) from None
        if pd.isna(ts):
            raise InputError(field, value, allowed) from None
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
        seconds = ts.timestamp()
    if not (math.isfinite(seconds) and FIRST_BLOCK_TIME <= seconds <= LAST_BLOCK_TIME):
        raise InputError(field, value, allowed)
    return int(seconds)


def check_work(cohort_path_days: float, yes: bool, field: str, value: Any) -> None:
    """Refuse a run estimated above :data:`MAX_WORK_COHORT_PATH_DAYS` unless the user passed ``--yes``.

    `field` and `value` name the option that sets the size (``--paths``), for the error.
    """
    if yes or cohort_path_days <= MAX_WORK_COHORT_PATH_DAYS:
        return
    seconds = cohort_path_days / WORK_RATE_COHORT_PATH_DAYS_PER_S
    raise InputError(
        field,
        value,
        f"a run of at most {MAX_WORK_COHORT_PATH_DAYS:.0e} cohort-path-days without --yes "
        f"(this one: {cohort_path_days:.2g}, about {seconds / 60:,.0f} min on 2 cores; pass --yes to run it)",
    )


def emit_json(obj: dict[str, Any]) -> None:
    """Write exactly one JSON object on stdout (NaN and infinities become null)."""
    sys.stdout.write(json.dumps(jsonable(obj), allow_nan=False) + "\n")


def _snapshot_from_file(path: Path, base: NetworkSnapshot) -> NetworkSnapshot:
    """`base` with the fields of a snapshot TOML file (read with :func:`read_user_text`)."""
    try:
        raw = tomllib.loads(read_user_text(path, "snapshot", "TOML file"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError("snapshot", str(path), f"a valid TOML file ({exc})") from None
    sources = raw.pop("sources", {})
    if not isinstance(sources, dict):
        raise InputError("sources", sources, 'a TOML table of field = "source" strings')
    return base.override(source=f"file {path.name}", sources=sources, **raw)


def warn_if_stale(found: AsOf, home: Path | None = None) -> None:
    """One warning line on stderr when `found` is more than two days old and the user keeps a store (with no
    store at all, the embedded snapshot is the expected offline default: the "as of" line says its age)."""
    message = found.warning()
    if message is not None and (found.stored or store_path(home).exists()):
        err_console.print(
            f"[yellow]warning:[/] {escape(message)}", highlight=False, emoji=False, soft_wrap=True
        )


def as_of_fields(snap: NetworkSnapshot) -> dict[str, Any]:
    """``{"as_of": {day, source, age_days, stale}}`` for JSON outputs when the day comes from the store; ``{}``
    for the embedded snapshot (whose date and sources already say it, and whose outputs stay byte-stable)."""
    found = as_of(snap)
    return {"as_of": found.to_dict()} if found.stored else {}


def as_of_line(snap: NetworkSnapshot) -> str:
    """The "as of" line of text outputs: day, source and age."""
    return as_of(snap).line()


def resolve_snapshot(
    snapshot_file: Path | None = None,
    date: str | None = None,
    home: Path | None = None,
    **overrides: float | None,
) -> NetworkSnapshot:
    """The snapshot a command works on: the stored `date`, else the latest complete stored day (when at least as
    new as the embedded snapshot, :func:`~hashrisk.data.stored_snapshot.latest_snapshot`), else the embedded one;
    then a TOML file, then flags.

    Without stored data for `date`, a warning on stderr says how to get some and the embedded snapshot is used.
    When the default day is more than two days old, one warning line on stderr says so (a `date` the user
    picks is never "stale").
    """
    base = NetworkSnapshot.embedded()
    if date is None:
        base, found = latest_snapshot(home)
        warn_if_stale(found, home)
    else:
        try:
            base = snapshot_for_date(date, home=home)
        except StoreDamagedError:
            raise  # a damaged store is an error (exit 2), never "nothing stored"
        except DataError as exc:
            err_console.print(
                f"[yellow]warning:[/] {escape(str(exc))}; falling back to the embedded {base.date} snapshot.",
                highlight=False,
                emoji=False,
                soft_wrap=True,
            )
    if snapshot_file is not None:
        base = _snapshot_from_file(snapshot_file, base)
    flags = {k: v for k, v in overrides.items() if v is not None}
    return base.override(source="command-line flag", **flags) if flags else base


_ALLOWED_BY_PYDANTIC_TYPE = {
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_parsing": "a number",
    "bool_parsing": "true or false",
}


def _param_name(param: Any, fallback: str) -> str:
    opts: list[str] = list(getattr(param, "opts", None) or [])
    longs = [o for o in opts if o.startswith("--")]
    return longs[0] if longs else (opts[0] if opts else fallback).upper()


def usage_error_line(exc: click_exc.ClickException) -> str:
    """A click usage error (bad type, missing or unknown option, extra argument) as hashrisk's one error line:
    ``FIELD: got VALUE; allowed: WHAT``."""
    message = " ".join(exc.format_message().split())
    if isinstance(exc, click_exc.MissingParameter):
        return f"{_param_name(exc.param, 'argument')}: got nothing; allowed: a value (it is required)"
    if isinstance(exc, click_exc.BadParameter):
        field = _param_name(exc.param, "argument")
        get_errors = getattr(exc.__cause__, "errors", None)  # typer's coercion wraps a pydantic error
        errors: list[Any] = get_errors() if callable(get_errors) else []
        if errors:
            err = errors[0]
            allowed = _ALLOWED_BY_PYDANTIC_TYPE.get(err.get("type", ""), str(err.get("msg", message)))
            return f"{field}: got {str(err.get('input'))[:80]!r}; allowed: {allowed}"
        return f"{field}: {message}"
    if isinstance(exc, click_exc.NoSuchOption):
        hint = f" (did you mean {', '.join(exc.possibilities)}?)" if exc.possibilities else ""
        return f"{exc.option_name}: got {exc.option_name!r}; allowed: an option of this command (see --help){hint}"
    return f"command line: {message}"


class OneLineErrorGroup(TyperGroup):
    """The root command group: click's usage errors print as one line on stderr (exit 2), like every other
    error of hashrisk, instead of the usage text and a boxed message."""

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click_exc.NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click_exc.ClickException as exc:
            print_error(usage_error_line(exc))
            sys.exit(2 if isinstance(exc, click_exc.UsageError) else exc.exit_code)
        except typer.Abort:
            typer.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)
