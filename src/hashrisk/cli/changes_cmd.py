"""CLI command ``hashrisk changes``: the events since the user last looked ("What changed"), as a table, as
JSON, or POSTed to a webhook; and the small state file that remembers when the user last looked.

State file: ``<data folder>/last_seen.json`` (:func:`hashrisk.data.store.default_home`), written by
``hashrisk changes`` and ``hashrisk report``::

    {"last_run_utc": "2026-06-02T07:31:12+00:00", "command": "report", "as_of": "2026-06-01"}

``as_of`` is the newest stored day the user has seen. ``--since last`` starts the day after it (events are
dated by data day, and data for a day arrives after the day; a timestamp alone would miss late data);
without ``as_of`` it starts on the day of ``last_run_utc``; with no state file, 30 days before the as-of day.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from hashrisk.cli.common import JSON_OPTION, console, emit_json, handle_errors, print_error
from hashrisk.data.store import Store, default_home
from hashrisk.errors import DataError, InputError

STATE_FILE = "last_seen.json"
DEFAULT_LOOKBACK_DAYS = 30
"""Look-back of ``--since last`` when no state file exists [days]."""
NOTIFY_ATTEMPTS = 3
NOTIFY_BACKOFF_S = 0.5
"""First wait between notify attempts [s] (then doubled)."""
NOTIFY_TIMEOUT_S = 10.0


# --------------------------------------------------------------------------------------------- state
def state_path(home: str | Path | None = None) -> Path:
    """Path of the state file in the data folder."""
    return default_home(home) / STATE_FILE


def read_state(home: str | Path | None = None) -> dict[str, Any] | None:
    """The state file's content, None when absent or unreadable (a broken file counts as absent)."""
    try:
        data = json.loads(state_path(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_state(home: str | Path | None, command: str, as_of: dt.date | None) -> None:
    """Record that the user looked now, at data through `as_of` (kept at the newest day ever seen).

    Best effort: a data folder that cannot be written is not an error of the command.
    """
    prev = read_state(home) or {}
    seen = as_of
    try:
        old = dt.date.fromisoformat(str(prev.get("as_of")))
        seen = old if seen is None or old > seen else seen
    except ValueError:
        pass
    state = {
        "last_run_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command,
        "as_of": seen.isoformat() if seen is not None else None,
    }
    path = state_path(home)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass


def resolve_since(
    value: str | None, as_of: dt.date, home: str | Path | None, option: str
) -> tuple[dt.date, str]:
    """First day of the events and why, for ``--since DATE|last`` (None means ``last``).

    ``last``: the day after the newest day seen at the previous ``changes``/``report`` run (or that run's
    day), which is ``as_of + 1`` (nothing new) when no newer day is stored; no state, or a state newer than
    `as_of`: :data:`DEFAULT_LOOKBACK_DAYS` days before `as_of`.
    """
    default = (as_of - dt.timedelta(days=DEFAULT_LOOKBACK_DAYS), f"the last {DEFAULT_LOOKBACK_DAYS} days")
    if value is not None and value != "last":
        try:
            return dt.date.fromisoformat(value), f"since {value}"
        except ValueError:
            raise InputError(option, value, 'a date (YYYY-MM-DD) or "last"') from None
    state = read_state(home)
    if state is None:
        return default[0], default[1] + " (no earlier run recorded)"
    when = str(state.get("last_run_utc", ""))[:16].replace("T", " ")
    since: dt.date | None = None
    try:
        since = dt.date.fromisoformat(str(state.get("as_of"))) + dt.timedelta(days=1)
    except ValueError:
        try:
            since = dt.datetime.fromisoformat(str(state.get("last_run_utc"))).date()
        except ValueError:
            since = None
    if since is None or since > as_of + dt.timedelta(days=1):  # a later day was seen: not comparable
        return default[0], default[1]
    return since, f"since your last `{state.get('command', 'changes')}` run ({when} UTC)"


# --------------------------------------------------------------------------------------------- notify
def notify(url: str, payload: dict[str, Any], *, sleep: Any = time.sleep) -> int:
    """POST `payload` as JSON to `url`; retries timeouts, connection errors, 429 and 5xx.

    At most :data:`NOTIFY_ATTEMPTS` attempts, waiting :data:`NOTIFY_BACKOFF_S` then twice that (or the
    server's ``Retry-After``, capped at 30 s). Returns the attempts made.

    Raises
    ------
    InputError
        For a URL that is not http(s).
    DataError
        When the last attempt fails, or the server refuses the request (other 4xx).
    """
    from hashrisk.data.http import HttpClient, RetryPolicy

    if not url.startswith(("http://", "https://")):
        raise InputError("--notify", url, "an http:// or https:// URL")
    policy = RetryPolicy(
        max_attempts=NOTIFY_ATTEMPTS, backoff_base_s=NOTIFY_BACKOFF_S, retry_after_cap_s=30.0, jitter=0.0
    )
    with HttpClient(url, source="notify", timeout_s=NOTIFY_TIMEOUT_S, retry=policy, sleep=sleep) as client:
        client.request("POST", url, content=json.dumps(payload, separators=(",", ":")))
        return client.requests_made


# --------------------------------------------------------------------------------------------- command
def load_events(
    home: str | Path | None, since: str | None, until: str | None
) -> tuple[dict[str, Any], list[Any]]:
    """Read the store and run :func:`hashrisk.analytics.tracking.changes`: (header, events)."""
    from hashrisk.analytics.tracking import changes, tracking_history

    end = None
    if until is not None:
        try:
            end = dt.date.fromisoformat(until)
        except ValueError:
            raise InputError("--until", until, "a date (YYYY-MM-DD)") from None
    with Store(home, read_only=True) as store:
        daily = store.daily_frame(end=end)
        retargets = store.retargets_frame()
    if not len(daily):
        raise DataError(
            "no daily history is stored"
            + (f" up to {end}" if end is not None else "")
            + ": import it with `hashrisk data import FILE` or `hashrisk update`"
        )
    last = daily.index.max()
    as_of = end if end is not None else last.date()
    start, basis = resolve_since(since, as_of, home, "--since")
    if start > as_of + dt.timedelta(days=1) or (start > as_of and since not in (None, "last")):
        raise InputError("--since", start.isoformat(), f"a day on or before --until ({as_of})")
    events = []
    if start <= as_of:  # else: nothing stored after what the user last saw
        pad = start - dt.timedelta(days=DEFAULT_LOOKBACK_DAYS)
        events = changes(tracking_history(daily, retargets, start=pad, end=as_of), start, as_of)
    header = {
        "since": start.isoformat(),
        "until": as_of.isoformat(),
        "basis": basis,
        "count": len(events),
    }
    return header, events


@handle_errors
def changes_command(
    since: str | None = typer.Option(
        None, "--since", help='First day (YYYY-MM-DD) or "last" (default: since you last ran changes/report).'
    ),
    until: str | None = typer.Option(None, "--until", help="Last day (default: the newest stored day)."),
    notify_url: str | None = typer.Option(
        None, "--notify", help="POST the events as JSON to this URL (3 tries; nothing is sent without it)."
    ),
    home: Path | None = typer.Option(
        None, "--home", help="Data directory (default: $HASHRISK_HOME or the user data dir)."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """What changed: the events since you last looked (retargets, capitulation, price vs cost, share
    underwater, hashprice records, data gaps), each with the rule that fired."""
    header, events = load_events(home, since, until)
    payload = {**header, "events": [e.to_dict() for e in events]}
    if json_out:
        emit_json(payload)
    else:
        console.print(
            f"What changed from {header['since']} to {header['until']} ({escape(header['basis'])}): "
            f"{len(events)} event(s)",
            highlight=False,
        )
        if events:
            table = Table("day", "kind", "what happened (numbers: --json)", "rule")
            for e in events:
                table.add_row(e.day.isoformat(), e.kind, escape(e.message), e.rule)
            console.print(table)
    write_state(home, "changes", dt.date.fromisoformat(header["until"]))
    if notify_url is not None:
        try:
            attempts = notify(notify_url, payload)
        except DataError as exc:
            print_error(f"--notify: {exc}")
            raise typer.Exit(2) from None
        if not json_out:
            console.print(
                f"sent {len(events)} event(s) to {escape(notify_url)} ({attempts} attempt(s))",
                highlight=False,
            )


def register(app: typer.Typer) -> None:
    """Add ``changes`` to the main `app`."""
    app.command("changes")(changes_command)
