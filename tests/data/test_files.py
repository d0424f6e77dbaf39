"""File formats: detection, the Coin Metrics / hashrisk / mempool parsers, and import_file (synthetic files)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hashrisk.data.coinmetrics import era_subsidy_btc, parse_coinmetrics_frame, read_coinmetrics
from hashrisk.data.files import FORMATS, detect_format, import_file, read_file
from hashrisk.data.mempool import parse_mempool_hashrate
from hashrisk.data.store import Store
from hashrisk.errors import InputError

# Synthetic rows in the CM community layouts (values made up, shapes real).
CM_HISTORY = """\
asset,date,AdrActCnt,BlkCnt,DiffMean,FeeTotUSD,HashRate,IssTotUSD,PriceUSD,TxCnt
btc,2024-04-18T00:00:00.000000000Z,1,144,86388558925171.02,2000000.5,{hr18},56250000.0,62500.0,1
btc,2024-04-19T00:00:00.000000000Z,1,150,86388558925171.02,1500000.0,{hr19},60000000.0,64000.0,1
btc,2024-04-20T00:00:00.000000000Z,1,130,86388558925171.02,"",,,,1
"""
CM_RECENT = """\
time,asset,PriceUSD,HashRate,IssTotUSD,FeeTotNtv,FearGreedValue
2025-12-30,btc,80000.0,877026041.0760822,36000000.0,3.05012403,23.0
2025-12-31,btc,87516.9780376972,980205572.823209,36374243.996917896,3.05108551,21.0
2024-04-20,btc,64000.0,600000000.0,30000000.0,1.0,50.0
"""


def _hashrate(difficulty: float, blocks: int) -> float:
    return difficulty * 2**32 * blocks / 86_400 / 1e12


@pytest.fixture()
def cm_history(tmp_path: Path) -> Path:
    path = tmp_path / "cm_history.csv"
    text = CM_HISTORY.format(
        hr18=repr(_hashrate(86388558925171.02, 144)) + "0000000001234",
        hr19=repr(_hashrate(86388558925171.02, 150)),
    )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def cm_recent(tmp_path: Path) -> Path:
    path = tmp_path / "cm_recent.csv"
    path.write_bytes(b"\xef\xbb\xbf" + CM_RECENT.encode())  # with a UTF-8 BOM
    return path


@pytest.fixture()
def mempool_payload() -> dict[str, object]:
    return {
        "hashrates": [
            {"timestamp": 1231006505, "avgHashrate": 9273.324192503673},  # genesis time
            {"timestamp": 1231027200, "avgHashrate": 0},
            {"timestamp": 1231113600, "avgHashrate": 2.5e12},
        ],
        "difficulty": [
            {"time": 1231006505, "height": 0, "difficulty": 1, "adjustment": 0},
            {"time": 1262153464, "height": 32256, "difficulty": 1.182899534312841, "adjustment": 1.18289995},
        ],
        "currentHashrate": 8.143120988497255e20,
        "currentDifficulty": 112149504190349.3,
    }


# ---------------------------------------------------------------------------------------------- detection
def test_detect_formats(
    tmp_path: Path, cm_history: Path, cm_recent: Path, mempool_payload: dict[str, object]
) -> None:
    assert detect_format(cm_history) == "coinmetrics-csv"
    assert detect_format(cm_recent) == "coinmetrics-csv"
    ours = tmp_path / "ours.csv"
    ours.write_text(
        "date,price_usd,hashrate_ths,difficulty_mean,blocks,fees_btc,issuance_btc,src\n"
        "2024-01-01,42000,5e8,7e13,144,20,900,H/P\n"
    )
    assert detect_format(ours) == "hashrisk-csv"
    blob = tmp_path / "hashrate.json"
    blob.write_text(json.dumps(mempool_payload))
    assert detect_format(blob) == "mempool-hashrate-json"
    pq = tmp_path / "x.parquet"
    pd.DataFrame({"date": ["2024-01-01"], "price_usd": [1.0]}).to_parquet(pq)
    assert detect_format(pq) == "parquet"
    assert set(FORMATS) == {"coinmetrics-csv", "hashrisk-csv", "mempool-hashrate-json", "parquet"}


def test_unknown_format_names_the_file_and_the_choices(tmp_path: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("height,timestamp_utc,nbits_hex\n1,2,3\n")
    with pytest.raises(InputError) as info:
        read_file(odd)
    assert info.value.field == "odd.csv: format"
    assert "coinmetrics-csv" in info.value.allowed and "--format" in str(info.value)
    with pytest.raises(InputError, match="allowed: one of"):
        read_file(odd, format="excel")
    with pytest.raises(InputError, match="existing file"):
        read_file(tmp_path / "missing.csv")


# ---------------------------------------------------------------------------------------------- coin metrics
def test_coinmetrics_history_layout(cm_history: Path) -> None:
    frame, meta = read_file(cm_history)
    assert meta["format"] == "coinmetrics-csv" and meta["source"] == "coinmetrics"
    assert meta["first"] == "2024-04-18" and meta["last"] == "2024-04-20"
    assert frame.index.name == "date" and str(frame.index.tz) == "UTC"
    row = frame.loc["2024-04-18"]
    assert row["blocks"] == 144
    assert row["fees_btc"] == pytest.approx(2000000.5 / 62500.0)  # FeeTotUSD / PriceUSD
    assert row["subsidy_btc"] == pytest.approx(900.0)  # 144 blocks x 6.25 BTC
    assert row["hashrate_ths"] == pytest.approx(_hashrate(86388558925171.02, 144), rel=1e-12)
    assert "fees_btc" in meta["derived"] and meta["ignored_columns"] == ["AdrActCnt", "TxCnt"]
    assert meta["derived_mask"]["fees_btc"].tolist() == [True, True, False]
    empty = frame.loc["2024-04-20"]  # empty strings and missing cells are NaN, the hashrate is derived
    assert pd.isna(empty["price_usd"]) and pd.isna(empty["fees_btc"])
    assert empty["hashrate_ths"] == pytest.approx(_hashrate(86388558925171.02, 130))


def test_coinmetrics_recent_layout_derives_blocks_and_difficulty(cm_recent: Path) -> None:
    frame, meta = read_coinmetrics(cm_recent)
    last = frame.loc["2025-12-31"]
    assert last["blocks"] == 133  # 36374243.99.../87516.97.../3.125 = 133.0
    assert last["difficulty"] == pytest.approx(148258433677125.25, rel=1e-9)
    assert last["fees_btc"] == 3.05108551
    halving_day = frame.loc["2024-04-20"]  # two subsidies that day: the era is unknown
    assert pd.isna(halving_day["blocks"]) and pd.isna(halving_day["difficulty"])
    assert "blocks" in meta["derived"] and "difficulty" in meta["derived"]
    assert meta["columns"] == {"price_usd": "PriceUSD", "hashrate_ths": "HashRate", "fees_btc": "FeeTotNtv"}


def test_era_subsidy_by_date() -> None:
    days = pd.to_datetime(
        [
            "2012-11-27",
            "2012-11-28",
            "2012-11-29",
            "2024-04-19",
            "2024-04-20",
            "2024-04-21",
            "2027-06-30",
            "2027-07-01",
        ]
    )
    out = era_subsidy_btc(days)
    assert out[0] == 50 and out[2] == 25 and out[3] == 6.25 and out[5] == 3.125 and out[6] == 3.125
    assert np.isnan(out[1]) and np.isnan(out[4]) and np.isnan(out[7])


def test_parse_coinmetrics_frame_accepts_api_strings() -> None:
    api = pd.DataFrame(
        {
            "asset": ["btc"],
            "time": ["2025-09-26T00:00:00.000000000Z"],
            "PriceUSD": ["109669.102166861"],
            "HashRate": ["934017374.016968059335586094582167936278"],
            "DiffMean": ["142342602928674.9"],
            "BlkCnt": ["132"],
            "FeeTotNtv": ["4.067"],
            "IssTotNtv": ["412.5"],
        }
    )
    frame, meta = parse_coinmetrics_frame(api, source="coinmetrics", origin="https://example.invalid/v4")
    assert frame["hashrate_ths"].iloc[0] == pytest.approx(934017374.016968)
    assert frame["blocks"].iloc[0] == 132 and meta["derived"] == {}
    assert meta["origin"] == "https://example.invalid/v4"


@pytest.mark.parametrize(
    ("column", "value", "allowed"),
    [
        ("PriceUSD", "-3.5", "> 0"),
        ("PriceUSD", "abc", "> 0"),
        ("BlkCnt", "12.5", "whole"),
        ("date", "yesterday", "ISO date"),
    ],
)
def test_coinmetrics_bad_values_name_file_column_line_and_date(
    tmp_path: Path, column: str, value: str, allowed: str
) -> None:
    frame = pd.DataFrame(
        {
            "date": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "PriceUSD": ["1", "2", "3"],
            "BlkCnt": ["144", "144", "144"],
        }
    )
    frame.loc[1, column] = value
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        read_file(path)
    err = info.value
    assert err.field == f"bad.csv: {column}"
    assert str(err.value) == value and allowed in err.allowed
    assert "line 3" in str(err)
    if column != "date":
        assert "date=2024-01-02" in str(err)


def test_coinmetrics_shape_errors() -> None:
    with pytest.raises(InputError, match="'time' or 'date'"):
        parse_coinmetrics_frame(pd.DataFrame({"PriceUSD": [1.0]}))
    with pytest.raises(InputError, match="at least one Coin Metrics metric"):
        parse_coinmetrics_frame(pd.DataFrame({"time": ["2024-01-01"], "Foo": [1.0]}))
    with pytest.raises(InputError, match="btc"):
        parse_coinmetrics_frame(pd.DataFrame({"time": ["2024-01-01"], "asset": ["eth"], "PriceUSD": [1.0]}))
    with pytest.raises(InputError, match="unique"):
        parse_coinmetrics_frame(pd.DataFrame({"time": ["2024-01-01"] * 2, "PriceUSD": [1.0, 2.0]}))


# ---------------------------------------------------------------------------------------------- hashrisk layout
def test_hashrisk_csv_aliases_and_ignored_columns(tmp_path: Path) -> None:
    path = tmp_path / "merged.csv"
    path.write_text(
        "date,price_usd,hashrate_ths,difficulty_mean,blocks,fees_btc,issuance_btc,src\n"
        "2009-01-03,,,,0.0,0.0,,H/P\n"
        "2024-01-01,42000.5,5e8,7e13,144.0,20,900,G*/G\n"
    )
    frame, meta = read_file(path)
    assert meta["table"] == "daily" and meta["source"] == "file:merged.csv"
    assert meta["renamed"] == {"difficulty_mean": "difficulty", "issuance_btc": "subsidy_btc"}
    assert meta["ignored_columns"] == ["src"]
    assert frame["blocks"].tolist() == [0, 144]
    assert frame["subsidy_btc"].iloc[1] == 900.0


def test_hashrisk_csv_negative_value(tmp_path: Path) -> None:
    path = tmp_path / "neg.csv"
    path.write_text("date,price_usd,fees_btc\n2024-01-01,1,1\n2024-01-02,2,-0.5\n")
    with pytest.raises(InputError) as info:
        read_file(path, format="hashrisk-csv")
    assert info.value.field == "neg.csv: fees_btc" and info.value.value == "-0.5"  # the text as in the file
    assert "date=2024-01-02 (line 3)" in str(info.value)


# ---------------------------------------------------------------------------------------------- mempool
def test_parse_mempool_hashrate(mempool_payload: dict[str, object]) -> None:
    daily, retargets = parse_mempool_hashrate(mempool_payload)
    assert daily.index[0] == pd.Timestamp("2009-01-03", tz="UTC")  # genesis time floored to its day
    assert daily["hashrate_ths"].tolist() == pytest.approx([9273.324192503673e-12, 0.0, 2.5])
    assert retargets["height"].tolist() == [0, 32256]
    assert pd.isna(retargets["adjustment"].iloc[0])  # mempool's 0 for height 0 means none
    assert retargets["time"].iloc[1] == pd.Timestamp("2009-12-30 06:11:04")


def test_mempool_shape_errors(mempool_payload: dict[str, object]) -> None:
    with pytest.raises(InputError, match="hashrates"):
        parse_mempool_hashrate({"data": []})
    bad = dict(mempool_payload, hashrates=[{"timestamp": 1231006505, "avgHashrate": -1}])
    with pytest.raises(InputError, match="H/s"):
        parse_mempool_hashrate(bad)
    same_day = dict(
        mempool_payload,
        hashrates=[{"timestamp": 1231027200, "avgHashrate": 1}, {"timestamp": 1231027201, "avgHashrate": 2}],
    )
    with pytest.raises(InputError, match="unique"):
        parse_mempool_hashrate(same_day)


def test_mempool_json_import_writes_daily_and_retargets(
    tmp_path: Path, hashrisk_home: Path, mempool_payload: dict[str, object]
) -> None:
    path = tmp_path / "hashrate.json"
    path.write_text(json.dumps(mempool_payload))
    report = import_file(path)
    assert [(b["table"], b["source"], b["changed"]) for b in report["batches"]] == [
        ("daily", "mempool", 3),
        ("retargets", "mempool", 2),
    ]
    with Store(read_only=True) as s:
        assert s.retargets_frame()["difficulty"].tolist() == [1.0, 1.182899534312841]


# ---------------------------------------------------------------------------------------------- import_file
def test_import_is_idempotent_and_failed_imports_touch_nothing(
    tmp_path: Path, hashrisk_home: Path, cm_history: Path
) -> None:
    first = import_file(cm_history)
    assert first["rows_changed"] == 3 and first["store"] == str(hashrisk_home / "hashrisk.duckdb")
    assert import_file(cm_history)["rows_changed"] == 0
    with Store(read_only=True) as s:
        before = s.con.execute("SELECT * FROM daily ORDER BY date, source").fetchall()
    bad = tmp_path / "bad.csv"
    bad.write_text(cm_history.read_text().replace("62500.0", "-62500.0").replace("2024-04-", "2023-04-"))
    with pytest.raises(InputError, match="PriceUSD"):
        import_file(bad)
    with Store(read_only=True) as s:
        assert s.con.execute("SELECT * FROM daily ORDER BY date, source").fetchall() == before


def test_import_source_override_and_parquet(tmp_path: Path, hashrisk_home: Path, cm_history: Path) -> None:
    import_file(cm_history, source="my-desk")
    pq = tmp_path / "cm.parquet"
    pd.read_csv(cm_history).to_parquet(pq)
    report = import_file(pq)
    assert report["format"] == "parquet" and report["batches"][0]["source"] == "coinmetrics"
    with Store(read_only=True) as s:
        assert s.sources() == ["coinmetrics", "my-desk"]


@pytest.mark.parametrize("table", ["daily", "blocks", "retargets"])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_then_import_roundtrip(tmp_path: Path, table: str, fmt: str) -> None:
    src, dst = tmp_path / "a", tmp_path / "b"
    with Store(src) as s:
        s.upsert_daily(
            pd.DataFrame(
                {"date": ["2024-01-01", "2024-01-02"], "price_usd": [1.0, 2.0], "blocks": [144, None]}
            ),
            "coinmetrics",
        )
        s.upsert_daily(pd.DataFrame({"date": ["2024-01-01"], "hashrate_ths": [5e8]}), "mempool")
        s.upsert_blocks(
            pd.DataFrame(
                {
                    "height": [0, 1],
                    "hash": ["0" * 63 + "1", "f" * 64],
                    "time": [1231006505, 1231469665],
                    "bits": ["1d00ffff", "1d00ffff"],
                    "chainwork": [2**32, 2**255 + 12345],
                }
            ),
            "bitcoind",
        )
        s.upsert_retargets(
            pd.DataFrame(
                {"height": [0, 2016], "target": [0xFFFF * 2**208, 2**200], "difficulty": [1.0, 2.5]}
            ),
            "electrum",
        )
        out = tmp_path / f"{table}.{fmt}"
        s.export(table, out, fmt)  # type: ignore[arg-type]
        key = "date, source" if table == "daily" else "height"
        original = s.con.execute(f"SELECT * EXCLUDE (fetched_at) FROM {table} ORDER BY {key}").fetchall()
    import_file(out, home=dst)
    with Store(dst, read_only=True) as s:
        copy = s.con.execute(f"SELECT * EXCLUDE (fetched_at) FROM {table} ORDER BY {key}").fetchall()
    assert copy == original
