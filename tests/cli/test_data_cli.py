"""`hashrisk data import / status / export`: output, JSON, exit codes, errors on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from hashrisk.cli.main import app

runner = CliRunner()

CM_CSV = """\
time,asset,PriceUSD,HashRate,DiffMean,BlkCnt,FeeTotNtv,IssTotNtv
2024-05-01,btc,58000.5,600000000.5,88104191118793.2,144,20.5,450
2024-05-02,btc,59000.25,610000000.25,88104191118793.2,150,18.0,468.75
2024-05-04,btc,60000.0,620000000.0,88104191118793.2,140,"19.123456789012345678901234567890",437.5
"""


@pytest.fixture()
def cm_file(tmp_path: Path) -> Path:
    path = tmp_path / "cm.csv"
    path.write_text(CM_CSV)
    return path


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["data", *args])
    return result.exit_code, result.stdout, result.stderr


def test_import_json_then_status_json(hashrisk_home: Path, cm_file: Path) -> None:
    code, out, err = _invoke("import", str(cm_file), "--json")
    assert code == 0, err
    report = json.loads(out)  # exactly one JSON object on stdout
    assert report["rows_changed"] == 3 and report["format"] == "coinmetrics-csv"
    assert report["store"] == str(hashrisk_home / "hashrisk.duckdb")
    code, out, _ = _invoke("import", str(cm_file), "--json")
    assert code == 0 and json.loads(out)["rows_changed"] == 0

    code, out, err = _invoke("status", "--json")
    assert code == 0, err
    status = json.loads(out)
    entry = status["tables"]["daily"]["sources"]["coinmetrics"]
    assert entry["rows"] == 3 and entry["gaps"] == [["2024-05-03", "2024-05-03"]]
    assert status["schema_version"] >= 1 and out.count("\n") == 1


def test_import_and_status_tables(hashrisk_home: Path, cm_file: Path) -> None:
    code, out, _ = _invoke("import", str(cm_file), "--source", "desk")
    assert code == 0
    assert "desk" in out and "daily" in out and "2024-05-01 .. 2024-05-04" in out
    code, out, _ = _invoke("status")
    assert code == 0
    assert "desk" in out and "2024-05-03" in out and "schema" in out


def test_status_on_empty_home(hashrisk_home: Path) -> None:
    code, out, _ = _invoke("status")
    assert code == 0 and "no store yet" in out
    assert not (hashrisk_home / "hashrisk.duckdb").exists()
    code, out, _ = _invoke("status", "--json")
    assert code == 0 and json.loads(out)["exists"] is False


def test_home_option_beats_the_environment(hashrisk_home: Path, tmp_path: Path, cm_file: Path) -> None:
    other = tmp_path / "other"
    code, _, _ = _invoke("import", str(cm_file), "--home", str(other))
    assert code == 0
    assert (other / "hashrisk.duckdb").is_file() and not (hashrisk_home / "hashrisk.duckdb").exists()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_and_reimport(hashrisk_home: Path, cm_file: Path, tmp_path: Path, fmt: str) -> None:
    assert _invoke("import", str(cm_file))[0] == 0
    out_file = tmp_path / f"daily.{fmt}"
    code, out, err = _invoke("export", "--format", fmt, "--out", str(out_file))
    assert code == 0, err
    assert "3 daily rows" in out
    frame = pd.read_csv(out_file) if fmt == "csv" else pd.read_parquet(out_file)
    assert frame["source"].tolist() == ["coinmetrics"] * 3
    assert frame["fees_btc"].iloc[2] == pytest.approx(19.123456789012345)
    code, out, _ = _invoke("import", str(out_file), "--home", str(tmp_path / "copy"), "--json")
    assert code == 0 and json.loads(out)["rows_changed"] == 3


def test_export_other_tables(hashrisk_home: Path, tmp_path: Path) -> None:
    payload = {
        "hashrates": [{"timestamp": 1713571200, "avgHashrate": 6.2e20}],
        "difficulty": [
            {"time": 1713571200, "height": 838656, "difficulty": 86388558925171.02, "adjustment": 1.0199}
        ],
    }
    blob = tmp_path / "hashrate.json"
    blob.write_text(json.dumps(payload))
    code, out, _ = _invoke("import", str(blob), "--json")
    assert code == 0 and [b["table"] for b in json.loads(out)["batches"]] == ["daily", "retargets"]
    target = tmp_path / "r.csv"
    code, out, _ = _invoke("export", "--format", "csv", "--out", str(target), "--table", "retargets")
    assert code == 0 and "1 retargets rows" in out
    assert pd.read_csv(target)["height"].tolist() == [838656]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["import", "{missing}"], "existing file"),
        (["import", "{bad}"], "bad.csv: PriceUSD: got '-1'"),
        (["import", "{odd}"], "odd.csv: format"),
        (["export", "--format", "csv", "--out", "{nodir}"], "existing folder"),
    ],
)
def test_errors_exit_2_with_the_message_on_stderr(
    hashrisk_home: Path, tmp_path: Path, args: list[str], needle: str
) -> None:
    (tmp_path / "bad.csv").write_text("date,PriceUSD\n2024-01-01,5\n2024-01-02,-1\n")
    (tmp_path / "odd.csv").write_text("a,b\n1,2\n")
    paths = {
        "missing": tmp_path / "nope.csv",
        "bad": tmp_path / "bad.csv",
        "odd": tmp_path / "odd.csv",
        "nodir": tmp_path / "no" / "such" / "dir.csv",
    }
    code, out, err = _invoke(*[a.format(**{k: str(v) for k, v in paths.items()}) for a in args])
    assert code == 2
    assert needle in " ".join(err.split())  # rich may wrap long lines
    assert "Traceback" not in err and out == ""
    assert not (hashrisk_home / "hashrisk.duckdb").exists()  # nothing was created or written


def test_bad_choice_is_a_usage_error(hashrisk_home: Path, cm_file: Path) -> None:
    code, _, err = _invoke("import", str(cm_file), "--format", "excel")
    assert code == 2 and "excel" in err
    code, _, err = _invoke("export", "--format", "xml", "--out", "x.xml")
    assert code == 2 and "xml" in err


@pytest.mark.slow
def test_data_commands_in_a_real_process(hashrisk_home: Path, cm_file: Path) -> None:
    base = [sys.executable, "-m", "hashrisk", "data"]
    done = subprocess.run(
        [*base, "import", str(cm_file), "--json"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows_read"] == 3
    done = subprocess.run([*base, "status", "--json"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and json.loads(done.stdout)["tables"]["daily"]["rows"] == 3
    bad = subprocess.run(
        [*base, "import", str(cm_file.with_name("nope.csv"))], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "nope.csv" in bad.stderr


# ---------------------------------------------------------------------------------------------- bad input
def _damage(kind: str, data: bytes) -> bytes:
    if kind == "zero-bytes":
        return b""
    if kind == "text":
        return b"not a database\n" * 50
    if kind == "half-truncated":
        return data[: len(data) // 2]
    flipped = bytearray(data)
    flipped[4096 + 24] ^= 0x10  # bit flip in the database header
    return bytes(flipped)


def _quiet(*args: str) -> tuple[int, str, str]:
    """Invoke with a wide terminal, so that a one-line message stays on one line."""
    result = runner.invoke(app, list(args), env={"COLUMNS": "1000"})
    return result.exit_code, result.stdout, result.stderr


def _assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err and err.startswith("error: ") and err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, (needle, err)


@pytest.mark.parametrize(
    ("name", "text", "needles"),
    [
        (
            "cut.csv",
            CM_CSV[: CM_CSV.index("60000.0") + 2],
            ("cut.csv: line 4, field PriceUSD", "line break"),
        ),
        (
            "short.csv",
            CM_CSV.replace(",18.0,468.75", ""),
            ("short.csv: line 3, field FeeTotNtv", "complete record"),
        ),
        ("future.csv", CM_CSV.replace("2024-05-04", "2099-01-01"), ("future.csv: time", "(today, UTC)")),
        ("old.csv", CM_CSV.replace("2024-05-04", "1900-01-01"), ("old.csv: time", "from 2009-01-03")),
        ("nan.csv", CM_CSV.replace("58000.5", "NaN"), ("nan.csv: PriceUSD", "'NaN'", "finite")),
    ],
    ids=["cut-mid-field", "missing-columns", "future-day", "pre-genesis-day", "nan"],
)
def test_bad_file_exits_2_with_one_line_and_leaves_the_store(
    hashrisk_home: Path, cm_file: Path, tmp_path: Path, name: str, text: str, needles: tuple[str, ...]
) -> None:
    assert _quiet("data", "import", str(cm_file))[0] == 0
    before = (hashrisk_home / "hashrisk.duckdb").read_bytes()
    (tmp_path / name).write_text(text)
    code, out, err = _quiet("data", "import", str(tmp_path / name))
    _assert_one_line_error(code, err, *needles)
    assert out == "" and (hashrisk_home / "hashrisk.duckdb").read_bytes() == before


def test_special_file_exits_2(hashrisk_home: Path) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero on this platform")
    code, _, err = _quiet("data", "import", "/dev/zero")
    _assert_one_line_error(code, err, "/dev/zero", "a regular file of at most 256 MiB", "character device")
    assert not (hashrisk_home / "hashrisk.duckdb").exists()


DAMAGE = ["zero-bytes", "text", "half-truncated", "bit-flip"]


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize(
    "command",
    [
        ("data", "status"),
        ("data", "import", "{cm_file}"),
        ("cost", "--date", "2024-05-02"),
    ],
    ids=["data-status", "data-import", "cost-date"],
)
def test_damaged_store_exits_2_and_is_left_as_it_was(
    hashrisk_home: Path, cm_file: Path, damage: str, command: tuple[str, ...]
) -> None:
    assert _quiet("data", "import", str(cm_file))[0] == 0
    path = hashrisk_home / "hashrisk.duckdb"
    path.write_bytes(_damage(damage, path.read_bytes()))
    before = path.read_bytes()
    code, out, err = _quiet(*(a.format(cm_file=cm_file) for a in command))
    _assert_one_line_error(code, err, f"the store file {path} is damaged (", "restore it from a backup")
    assert out == "" and path.read_bytes() == before
    assert sorted(p.name for p in hashrisk_home.iterdir()) == ["hashrisk.duckdb"]
