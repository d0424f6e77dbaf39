"""Bad input never exhausts the machine, never echoes a file, and always ends in ONE line naming the field.

Each case: exit status 2, exactly one non-empty line on stderr naming the field, no traceback, and (where a
store exists) the store file unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hashrisk.cli.common import MAX_CSV_FILE_BYTES, MAX_TEXT_FILE_BYTES
from hashrisk.cli.main import app

runner = CliRunner()
SECRET = "root:x:0:0:SECRET-TOKEN-6f1d:/root:/bin/bash"

BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""
DEEP = "x: " + "[" * 3000 + "]" * 3000 + "\n"


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def _scenario(tmp: Path, body: str) -> list[str]:
    return ["simulate", str(_write(tmp, "s.yaml", body))]


def _fifo(tmp: Path) -> Path:
    path = tmp / "pipe"
    os.mkfifo(path)
    return path


def _sparse(tmp: Path, name: str, size: int) -> Path:
    path = tmp / name
    with path.open("wb") as fh:
        fh.truncate(size)
    return path


def _next_bits(first: str, last: str) -> list[str]:
    return ["chain", "next-bits", "--bits", "0x1d00ffff", "--first-time", first, "--last-time", last]


# (id, arguments built in tmp_path, the field the line must name, text the line must not hold)
Case = tuple[str, Callable[[Path], list[str]], str, str | None]
CASES: list[Case] = [
    ("fleet.file=/dev/zero", lambda t: _scenario(t, "fleet:\n  file: /dev/zero\n"), "fleet.file", None),
    ("--fleet /dev/zero", lambda t: ["cost", "--fleet", "/dev/zero"], "fleet", None),
    ("--fleet directory", lambda t: ["cost", "--fleet", str(t)], "fleet", None),
    ("--fleet fifo", lambda t: ["cost", "--fleet", str(_fifo(t))], "fleet", None),
    ("--snapshot fifo", lambda t: ["cost", "--snapshot", str(_fifo(t))], "snapshot", None),
    ("scenario fifo", lambda t: ["scenario", "check", str(_fifo(t))], "scenario", None),
    (
        "oversized scenario",
        lambda t: ["scenario", "check", str(_sparse(t, "big.yaml", MAX_TEXT_FILE_BYTES + 1))],
        "scenario",
        None,
    ),
    (
        "oversized --price-path",
        lambda t: ["simulate", "--price-path", str(_sparse(t, "big.csv", MAX_CSV_FILE_BYTES + 1))],
        "--price-path",
        None,
    ),
    (
        "price.csv not echoed",
        lambda t: _write(t, "p.csv", SECRET + "\n") and _scenario(t, "price:\n  model: path\n  csv: p.csv\n"),
        "price.csv",
        "SECRET",
    ),
    (
        "--price-path not echoed",
        lambda t: ["simulate", "--price-path", str(_write(t, "p.csv", SECRET + "\n"))],
        "--price-path",
        "SECRET",
    ),
    (
        "--price-path bad row not echoed",
        lambda t: [
            "simulate",
            "--price-path",
            str(_write(t, "p.csv", f"date,price_usd\n2026-06-01,{SECRET}\n")),
        ],
        "--price-path",
        "SECRET",
    ),
    ("grid alias bomb", lambda t: ["sweep", str(_write(t, "g.yaml", BOMB))], "grid", "lol"),
    (
        "scenario alias bomb",
        lambda t: ["scenario", "check", str(_write(t, "s.yaml", BOMB))],
        "scenario",
        "lol",
    ),
    ("miners alias bomb", lambda t: ["miners", str(_write(t, "m.yaml", BOMB))], "miners", "lol"),
    ("simulate deep nesting", lambda t: _scenario(t, DEEP), "scenario", None),
    (
        "scenario check deep nesting",
        lambda t: ["scenario", "check", str(_write(t, "s.yaml", DEEP))],
        "scenario",
        None,
    ),
    ("miners deep nesting", lambda t: ["miners", str(_write(t, "m.yaml", DEEP))], "miners", None),
    ("--etf nan", lambda t: ["flows", "btc", "--etf", "nan"], "--etf", None),
    ("--etf inf", lambda t: ["flows", "btc", "--etf", "inf"], "--etf", None),
    ("--power-price nan", lambda t: ["cost", "--power-price", "nan"], "--power-price", None),
    ("--price inf", lambda t: ["cost", "--price", "inf"], "--price", None),
    ("--vol -inf", lambda t: ["stress", "--vol", "-inf"], "--vol", None),
    ("next-bits time 1e23", lambda t: _next_bits("1231006505", "1e23"), "--last-time", None),
    ("next-bits time before genesis", lambda t: _next_bits("0", "1231006505"), "--first-time", None),
    ("--paths abc", lambda t: ["simulate", "--paths", "abc"], "--paths", None),
    ("--power-price abc", lambda t: ["cost", "--power-price", "abc"], "--power-price", None),
    ("missing --model", lambda t: ["breakeven"], "--model", None),
    ("unknown option", lambda t: ["cost", "--bogus"], "--bogus", None),
    (
        "work cap simulate",
        lambda t: ["simulate", "--paths", "2000000", "--horizon-days", "3650"],
        "--paths",
        None,
    ),
    (
        "work cap stress",
        lambda t: ["stress", "--paths", "2000000", "--horizon-days", "3650"],
        "--paths",
        None,
    ),
    (
        "work cap sweep",
        lambda t: [
            "sweep",
            str(_write(t, "g.yaml", "params:\n  seed: [" + ",".join(map(str, range(2000))) + "]\n")),
        ],
        "grid",
        None,
    ),
]


def _one_error_line(result: object, field: str, hidden: str | None) -> str:
    stderr: str = result.stderr  # type: ignore[attr-defined]
    lines = stderr.splitlines()
    assert result.exit_code == 2, (result.exit_code, stderr)  # type: ignore[attr-defined]
    assert len(lines) == 1 and lines[0].strip(), stderr
    assert field in lines[0], lines[0]
    assert "Traceback" not in stderr + result.stdout  # type: ignore[attr-defined]
    if hidden is not None:
        assert hidden not in stderr
    return lines[0]


@pytest.mark.parametrize(("make_args", "field", "hidden"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_args: Callable[[Path], list[str]],
    field: str,
    hidden: str | None,
) -> None:
    monkeypatch.setenv("HASHRISK_HOME", str(tmp_path / "home"))
    _one_error_line(runner.invoke(app, make_args(tmp_path)), field, hidden)


def test_type_error_names_value_and_allowed() -> None:
    line = runner.invoke(app, ["simulate", "--paths", "abc"]).stderr.strip()
    assert line == "error: --paths: got 'abc'; allowed: an integer"


def test_work_cap_says_how_to_go_on() -> None:
    line = runner.invoke(app, ["simulate", "--paths", "2000000", "--horizon-days", "3650"]).stderr
    assert "--yes" in line and "cohort-path-days" in line


def _synthetic_coinmetrics_csv(path: Path) -> Path:
    """Daily rows in the Coin Metrics CSV layout from genesis to 2012-01-05 (made-up, plausible values)."""
    rows = ["asset,date,AdrActCnt,BlkCnt,DiffMean,FeeTotUSD,HashRate,IssTotUSD,PriceUSD,TxCnt"]
    day = dt.date(2009, 1, 3)
    while day <= dt.date(2012, 1, 5):
        rows.append(f"btc,{day.isoformat()}T00:00:00.000000000Z,11000,144,1159929.5,18.2,8.8,38000,5.3,4800")
        day += dt.timedelta(days=1)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def early_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose store holds 2009-01-03 .. 2012-01-05 (before the ASIC catalog starts)."""
    folder = tmp_path_factory.mktemp("early")
    csv = _synthetic_coinmetrics_csv(folder / "cm.csv")
    result = runner.invoke(app, ["data", "import", str(csv), "--home", str(folder / "home")])
    assert result.exit_code == 0, result.output
    return folder / "home"


@pytest.mark.parametrize(
    "args",
    [["cost", "--date", "2012-01-01"], ["cost", "--date", "2012-01-01", "--json"]],
    ids=["cost --date 2012-01-01", "cost --date 2012-01-01 --json"],
)
def test_a_day_before_the_catalog_names_date(early_store: Path, args: list[str]) -> None:
    store = next(early_store.glob("*.duckdb"))
    before = hashlib.sha256(store.read_bytes()).hexdigest()
    line = _one_error_line(runner.invoke(app, [*args, "--home", str(early_store)]), "date", None)
    assert "power_price" not in line and "no ASIC of the catalog was released by 2012-01-01" in line
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before
