"""`hashrisk changes`: the events of a synthetic store, the "last" state file, and --notify against a local
HTTP server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from hashrisk.analytics.tracking import changes, tracking_history
from hashrisk.cli import changes_cmd
from hashrisk.cli.main import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from history_store import synthetic_daily, write_synthetic

runner = CliRunner()
SINCE = "2022-11-01"
AS_OF = dt.date(2023, 6, 19)  # the synthetic store's last day


@pytest.fixture()
def store_home(hashrisk_home: Path) -> Path:
    write_synthetic(hashrisk_home)
    return hashrisk_home


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["changes", *args])
    return result.exit_code, result.stdout, result.stderr


def expected_events(since: dt.date) -> list[dict[str, object]]:
    """The library's events on the same frame (what the command must print)."""
    daily = synthetic_daily()
    hist = tracking_history(daily, None, start=since - dt.timedelta(days=30), end=AS_OF)
    return [json.loads(json.dumps(e.to_dict())) for e in changes(hist, since, AS_OF)]


def test_json_lists_the_library_events(store_home: Path) -> None:
    code, out, _ = invoke("--since", SINCE, "--json")
    assert code == 0, out
    body = json.loads(out)
    assert body["since"] == SINCE and body["until"] == AS_OF.isoformat()
    assert body["events"] == expected_events(dt.date.fromisoformat(SINCE))
    kinds = {e["kind"] for e in body["events"]}
    assert {"capitulation_start", "capitulation_end"} <= kinds  # the synthetic hashrate drop
    assert body["count"] == len(body["events"]) > 0


def test_until_bounds_the_events(store_home: Path) -> None:
    code, out, _ = invoke("--since", SINCE, "--until", "2023-01-31", "--json")
    assert code == 0, out
    body = json.loads(out)
    assert body["until"] == "2023-01-31"
    assert all(e["day"] <= "2023-01-31" for e in body["events"])
    assert "capitulation_end" not in {e["kind"] for e in body["events"]}  # it ends in February


def test_table_output_names_each_rule(store_home: Path) -> None:
    code, out, _ = invoke("--since", SINCE)
    assert code == 0, out
    assert "hash_ribbon" in out and "capitulation_start" in out and f"from {SINCE}" in out


def test_last_uses_the_state_file(store_home: Path) -> None:
    state = store_home / changes_cmd.STATE_FILE
    assert not state.exists()
    code, out, _ = invoke("--since", "last", "--json")  # no state: the last 30 days
    assert code == 0, out
    body = json.loads(out)
    assert body["since"] == (AS_OF - dt.timedelta(days=30)).isoformat() and "30 days" in body["basis"]
    saved = json.loads(state.read_text())
    assert saved["command"] == "changes" and saved["as_of"] == AS_OF.isoformat()
    body = json.loads(invoke("--json")[1])  # the default is "last": nothing new since
    assert body["events"] == [] and body["since"] == (AS_OF + dt.timedelta(days=1)).isoformat()
    state.write_text(json.dumps({"last_run_utc": "2023-01-01T08:00:00+00:00", "as_of": "2022-12-20"}))
    body = json.loads(invoke("--json")[1])
    assert body["since"] == "2022-12-21" and "last" in body["basis"]
    assert body["events"] == expected_events(dt.date(2022, 12, 21))


def test_bad_input_is_one_line_exit_2(store_home: Path) -> None:
    for args, field in ((("--since", "yesterday"), "--since"), (("--until", "2023-13-01"), "--until")):
        code, _, err = invoke(*args)
        assert code == 2 and field in err and len(err.strip().splitlines()) == 1, err


def test_nothing_stored_says_so(hashrisk_home: Path) -> None:
    code, _, err = invoke("--json")
    assert code == 2 and "no daily history is stored" in err


# --------------------------------------------------------------------------------------------- notify
class _Hook(BaseHTTPRequestHandler):
    fail_first = 2
    bodies: ClassVar[list[bytes]] = []
    statuses: ClassVar[list[int]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).bodies.append(body)
        status = 503 if len(type(self).bodies) <= type(self).fail_first else 200
        type(self).statuses.append(status)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}' if status == 200 else b'{"error": "busy"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, type[_Hook]]]:
    monkeypatch.setattr(changes_cmd, "NOTIFY_BACKOFF_S", 0.01)
    handler = type("Hook", (_Hook,), {"bodies": [], "statuses": [], "fail_first": 2})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


def test_notify_retries_twice_then_delivers(store_home: Path, hook: tuple[str, type[_Hook]]) -> None:
    url, handler = hook
    code, out, err = invoke("--since", SINCE, "--json", "--notify", url)
    assert code == 0, err
    assert handler.statuses == [503, 503, 200]
    printed = json.loads(out)
    assert all(json.loads(b) == printed for b in handler.bodies)
    assert printed["events"] == expected_events(dt.date.fromisoformat(SINCE))


def test_notify_gives_up_after_three_tries(store_home: Path, hook: tuple[str, type[_Hook]]) -> None:
    url, handler = hook
    handler.fail_first = 99
    code, out, err = invoke("--since", SINCE, "--json", "--notify", url)
    assert code == 2
    assert handler.statuses == [503, 503, 503]
    assert json.loads(out)["events"]  # still printed
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "--notify" in lines[0] and "3 attempts" in lines[0] and "503" in lines[0]


def test_nothing_is_sent_unless_asked(store_home: Path, hook: tuple[str, type[_Hook]]) -> None:
    _, handler = hook
    assert invoke("--since", SINCE, "--json")[0] == 0
    assert handler.bodies == []


def test_notify_refuses_other_schemes(store_home: Path) -> None:
    code, _, err = invoke("--since", SINCE, "--notify", "ftp://127.0.0.1/x")
    assert code == 2 and "--notify" in err
