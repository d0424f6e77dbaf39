"""`hashrisk report` and `hashrisk serve` on the command line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from reportparse import parse_html
from typer.testing import CliRunner

from hashrisk.cli.main import app

runner = CliRunner()


def invoke_json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    out: dict[str, object] = json.loads(result.stdout)
    return out


def test_report_json_lists_sections_and_matches_cost_json(tmp_path: Path, hashrisk_home: Path) -> None:
    out_file = tmp_path / "r.html"
    rep = invoke_json("report", "--out", str(out_file), "--paths", "100")
    assert rep["files"] == [str(out_file)] and rep["format"] == "html"
    sections = rep["sections"]
    assert isinstance(sections, list) and sections[0]["key"] == "headline"
    cost = invoke_json("cost")
    figures = rep["figures"]
    assert isinstance(figures, dict)
    assert figures["electricity_fleet_usd_per_btc"] == cost["electricity_only_fleet_usd_per_btc"]
    assert figures["all_in_usd_per_btc"] == cost["all_in_usd_per_btc"]["total"]  # type: ignore[index]
    assert figures["share_within_10pct"] == cost["share_within_10pct_of_breakeven"]
    parsed = parse_html(out_file.read_text(encoding="utf-8"))
    assert parsed.figures["all_in_usd_per_btc"][0] == figures["all_in_usd_per_btc"]


def test_report_power_price_flag_moves_the_cost_linearly(tmp_path: Path, hashrisk_home: Path) -> None:
    a = invoke_json("report", "--out", str(tmp_path / "a.html"), "--paths", "20")["figures"]
    b = invoke_json("report", "--out", str(tmp_path / "b.html"), "--paths", "20", "--power-price", "0.06")[
        "figures"
    ]
    assert b["electricity_fleet_usd_per_btc"] == pytest.approx(a["electricity_fleet_usd_per_btc"] * 1.2)  # type: ignore[index]


def test_report_fleet_file_matches_the_cost_command(tmp_path: Path, hashrisk_home: Path) -> None:
    fleet = tmp_path / "fleet.toml"
    fleet.write_text(
        'label = "two cohorts"\n[costs]\ndepreciation_days = 1000\nother_opex_share_of_power = 0.5\n'
        '[[classes]]\nname = "efficient"\nefficiency_j_per_th = 15.0\nshare = 0.75\nhardware_usd_per_th = 10.0\n'
        '[[classes]]\nname = "old"\nefficiency_j_per_th = 30.0\nshare = 0.25\nhardware_usd_per_th = 2.0\n'
        '[power_price]\ndistribution = "buckets"\nvalues_usd_per_kwh = [0.05]\nshares = [1.0]\n'
        "[overhead]\npue = [1.0]\nshare = [1.0]\n",
        encoding="utf-8",
    )
    rep = invoke_json("report", "--out", str(tmp_path / "r.html"), "--paths", "20", "--fleet", str(fleet))
    cost = invoke_json("cost", "--fleet", str(fleet))
    figures = rep["figures"]
    assert figures["electricity_fleet_usd_per_btc"] == cost["electricity_only_fleet_usd_per_btc"]  # type: ignore[index]
    # by hand: 0.75 x 15 + 0.25 x 30 = 18.75 J/TH at PUE 1, $0.05/kWh
    btc_per_ths_day = 86_400e12 / (138_955_357_012_247.0 * 2**32) * 3.148
    assert figures["electricity_fleet_usd_per_btc"] == pytest.approx(18.75 * 0.024 * 0.05 / btc_per_ths_day)  # type: ignore[index]
    bad = runner.invoke(app, ["report", "--fleet", str(tmp_path / "missing.toml")])
    assert bad.exit_code == 2 and "--fleet" in bad.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--format", "pdf"], "--format"),
        (["--date", "2026-06-01"], "no daily price for 2026-06-01"),
        (["--out", "/no/such/folder/r.html"], "--out"),
        (["--paths", "0"], "paths"),
        (["--backend", "cuda"], "--backend"),
    ],
)
def test_report_errors_are_one_line_and_exit_2(args: list[str], needle: str, hashrisk_home: Path) -> None:
    result = runner.invoke(app, ["report", *args])
    assert result.exit_code == 2
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_report_markdown_writes_svg_charts(tmp_path: Path, hashrisk_home: Path) -> None:
    from hashrisk.report.render import find_chrome

    if find_chrome() is None:
        pytest.skip("no Chrome/Chromium for kaleido (Debian package `chromium`; CI installs it)")
    rep = invoke_json("report", "--out", str(tmp_path / "desk.md"), "--paths", "20")
    files = [Path(str(f)) for f in rep["files"]]  # type: ignore[attr-defined]
    assert rep["format"] == "md" and files[0].suffix == ".md"
    assert {f.suffix for f in files[1:]} == {".svg"} and all(f.parent.name == "desk_files" for f in files[1:])


@pytest.mark.slow
def test_report_on_the_embedded_snapshot_takes_under_30_s(tmp_path: Path) -> None:
    """The issue's budget: `hashrisk report` with nothing stored and no network, default settings."""
    env = {**os.environ, "HASHRISK_HOME": str(tmp_path / "home")}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "hashrisk", "report", "--out", str(tmp_path / "r.html"), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"] == [str(tmp_path / "r.html")]
    assert elapsed < 30.0


def test_report_runs_without_the_web_extra(tmp_path: Path) -> None:
    """FastAPI/uvicorn are imported lazily: with them unimportable `report` works and `serve` says what to
    install."""
    code = (
        "import sys; sys.modules['fastapi'] = None; sys.modules['uvicorn'] = None\n"
        "from typer.testing import CliRunner\n"
        "from hashrisk.cli.main import app\n"
        "r = CliRunner().invoke(app, ['report', '--out', sys.argv[1], '--paths', '10'])\n"
        "assert r.exit_code == 0, r.output\n"
        "s = CliRunner().invoke(app, ['serve'])\n"
        "assert s.exit_code == 2 and 'hashrisk[web]' in s.stderr, s.output\n"
        "assert 'fastapi' not in [m for m, v in sys.modules.items() if v is not None]\n"
    )
    env = {**os.environ, "HASHRISK_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "r.html")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "r.html").stat().st_size > 1_000_000


def test_serve_rejects_a_bad_port() -> None:
    result = runner.invoke(app, ["serve", "--port", "70000"])
    assert result.exit_code == 2 and "--port" in result.stderr


def test_serve_listens_on_localhost(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HASHRISK_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hashrisk", "serve", "--port", str(port), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/snapshot", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        assert r.status_code == 200 and r.json()["price_usd"] == 71_329.0
        spec = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5).json()
        assert "/api/simulate" in spec["paths"]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert json.loads(out.splitlines()[0])["url"] == f"http://127.0.0.1:{port}/"
