"""`hashrisk update` / `hashrisk config` and the latest stored day by default (local stand-ins, 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

from servers import Reply, RouteServer
from update_standins import FIRST, serve, write_config

from hashrisk.cli.main import app
from hashrisk.data.store import Store

runner = CliRunner()
OLD = FIRST + dt.timedelta(days=10)
TODAY = dt.datetime.now(dt.UTC).date()


@pytest.fixture()
def srv() -> Iterator[RouteServer]:
    with RouteServer() as server:
        yield server


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "HASHRISK_HOME": str(home), "COLUMNS": "200"}


def _per_source(home: Path) -> dict[str, int]:
    with Store(home, read_only=True, lock_timeout_s=30) as store:
        rows = store.con.execute("SELECT source, count(*) FROM daily GROUP BY source").fetchall()
    return {str(s): int(n) for s, n in rows}


def test_update_json_partial_and_config(srv: RouteServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_config(home, srv.url)
    serve(srv, OLD, down=("coinmetrics",))
    result = runner.invoke(app, ["update", "--home", str(home), "--json"])
    assert result.exit_code == 3, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "partial"
    assert [s["source"] for s in out["sources"] if not s["ok"]] == ["coinmetrics"]
    serve(srv, OLD)
    text = runner.invoke(app, ["update", "--home", str(home)])
    assert text.exit_code == 0, text.output
    assert "coinmetrics: 11 rows added/changed, newest 2026-11-20" in " ".join(text.stdout.split())
    shown = runner.invoke(app, ["config", "show", "--home", str(home)], env={"HASHRISK_TEST_NO_KEY": "k3y"})
    assert shown.exit_code == 0 and "HASHRISK_TEST_NO_KEY (set)" in shown.stdout and "k3y" not in shown.stdout
    again = runner.invoke(app, ["config", "init", "--home", str(home)])
    assert again.exit_code == 2 and "--force" in again.stderr


def test_bad_interval_and_bad_config_are_exit_2(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["update", "--home", str(tmp_path), "--every", "soon"])
    assert bad.exit_code == 2 and "--every" in bad.stderr
    (tmp_path / "config.toml").write_text("[http]\ntimeout_s = -1\n")
    result = runner.invoke(app, ["update", "--home", str(tmp_path)])
    assert result.exit_code == 2 and "http.timeout_s" in result.stderr


def _start(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hashrisk", "update", "--home", str(home), *args],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(srv: RouteServer, path: str, proc: subprocess.Popen[str], timeout_s: float = 60) -> None:
    end = time.monotonic() + timeout_s
    while not srv.hits(path):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, f"no request for {path}"
        time.sleep(0.02)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigterm_during_every_finishes_the_batch(srv: RouteServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_config(home, srv.url)
    serve(srv, OLD)
    body = srv.routes["/charts/market-price"][0]  # type: ignore[index]
    assert isinstance(body, Reply)
    srv.route("/charts/market-price", Reply(200, body.body, delay_s=1.5))  # blockchain's batch is slow
    proc = _start(home, "--every", "1h")
    try:
        _wait_for(srv, "/charts/market-price", proc)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "SIGTERM" in err
    assert _per_source(home) == {
        "coinmetrics": 11,
        "mempool": 11,
        "blockchain": 11,
    }  # the batch in progress ended


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_mid_update_leaves_whole_batches(srv: RouteServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_config(home, srv.url)
    serve(srv, OLD)
    body = srv.routes["/charts/n-blocks-total"][0]  # type: ignore[index]
    assert isinstance(body, Reply)
    srv.route("/charts/n-blocks-total", Reply(200, body.body, delay_s=2.0))
    proc = _start(home)
    try:
        _wait_for(srv, "/charts/n-blocks-total", proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    counts = _per_source(home)
    assert counts.get("coinmetrics") == 11 and counts.get("mempool") == 11
    assert counts.get("blockchain", 0) in (0, 11)  # before or after, never half
    srv.route("/charts/n-blocks-total", body)
    result = runner.invoke(app, ["update", "--home", str(home)])  # the store takes the next update
    assert result.exit_code == 0, result.output
    assert _per_source(home)["blockchain"] == 11


# ------------------------------------------------------------------------------ the latest day by default
def _store_day(home: Path, day: dt.date) -> None:
    """Seven synthetic days ending at `day` and one block on `day` (enough for a stored snapshot)."""
    days = pd.date_range(end=pd.Timestamp(day), periods=7, freq="D", tz="UTC", name="date")
    frame = pd.DataFrame(
        {
            "price_usd": 88_000.0,
            "hashrate_ths": 1.05e9,
            "difficulty": 1.5e14,
            "blocks": 144,
            "fees_btc": 3.0,
            "subsidy_btc": 450.0,
        },
        index=days,
    )
    t = pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=12)
    block = pd.DataFrame(
        {"height": [970_000], "time": [t], "bits": ["17022b91"], "difficulty": [1.5e14], "hash": ["ab" * 32]}
    )
    with Store(home) as store:
        store.upsert_daily(frame, "coinmetrics")
        store.upsert_blocks(block, "bitcoind")


def _cost(home: Path) -> Any:
    return runner.invoke(app, ["cost", "--json"], env={"HASHRISK_HOME": str(home)})


def test_cost_uses_the_newest_stored_day(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _store_day(home, TODAY - dt.timedelta(days=1))
    result = _cost(home)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["snapshot"]["date"] == (TODAY - dt.timedelta(days=1)).isoformat()
    assert out["snapshot"]["price_usd"] == 88_000.0 and out["snapshot"]["height"] == 970_000
    assert out["as_of"] == {
        "day": (TODAY - dt.timedelta(days=1)).isoformat(),
        "source": "store: coinmetrics",
        "age_days": 1,
        "stale": False,
    }
    assert "warning" not in result.stderr
    text = runner.invoke(app, ["cost"], env={"HASHRISK_HOME": str(home), "COLUMNS": "200"})
    assert (
        "as of " + (TODAY - dt.timedelta(days=1)).isoformat() + " (store: coinmetrics), 1 day old"
        in text.stdout
    )
    picked = runner.invoke(app, ["cost", "--json", "--date", "2026-06-01"], env={"HASHRISK_HOME": str(home)})
    assert (
        json.loads(picked.stdout)["snapshot"]["date"] == "2026-06-01"
    )  # --date still picks (here: fallback)


def test_an_older_store_uses_the_embedded_snapshot(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _store_day(home, dt.date(2026, 5, 1))
    out = json.loads(_cost(home).stdout)
    assert out["snapshot"]["date"] == "2026-06-01" and "as_of" not in out


def test_a_stale_store_warns(tmp_path: Path) -> None:
    home = tmp_path / "home"
    day = TODAY - dt.timedelta(days=5)
    _store_day(home, day)
    result = _cost(home)
    out = json.loads(result.stdout)
    assert out["as_of"]["stale"] is True and out["as_of"]["age_days"] == 5
    warning = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warning) == 1 and "5 days old" in warning[0] and "hashrisk update" in warning[0]


def test_report_uses_the_newest_stored_day(tmp_path: Path) -> None:
    home = tmp_path / "home"
    day = TODAY - dt.timedelta(days=1)
    _store_day(home, day)
    out_file = tmp_path / "r.md"
    result = runner.invoke(
        app, ["report", "--home", str(home), "--out", str(out_file), "--paths", "20", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["as_of"]["day"] == day.isoformat()
    assert day.isoformat() in out_file.read_text()
