"""`hashrisk miners calibrate`: the share-sold fit by hand, the test quarter on a synthetic store (stated formulas,
no real data), the missing-prices answer, and the CLI with --json. No network."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_miners_dataset_cli import no_network  # noqa: F401  (autouse: no network in this module)
from typer.testing import CliRunner

from hashrisk.chain.pow import difficulty_to_target, target_to_bits
from hashrisk.cli.main import app
from hashrisk.data.store import Store
from hashrisk.data.stored_snapshot import snapshot_for_date
from hashrisk.errors import InputError
from hashrisk.flows.calibration import (
    GET_PRICES_HINT,
    fit_share_sold,
    missing_price_days,
    parse_fit_window,
    quarter_days,
    simulate_test_quarter,
)
from hashrisk.flows.listed import parse_listed_text
from hashrisk.flows.owners import listed_owner_specs, load_listed_debt

runner = CliRunner()
SRC = "Test release,2025-01-01,https://www.sec.gov/x"
DIFFICULTY = 1.0e14
HASHRATE_THS = DIFFICULTY * 2**32 / 600 / 1e12  # 144 blocks a day at this difficulty


def _frame(lines: list[str]) -> pd.DataFrame:
    head = "company,ticker,period,metric,value,unit,kind,note,source_title,source_date,source_url"
    return parse_listed_text("\n".join([head, *lines]))


def _line(ticker: str, period: str, metric: str, value: float) -> str:
    return f"{ticker} Co,{ticker},{period},{metric},{value},BTC,reported,,{SRC}"


# ------------------------------------------------------------------------------------------- fit
def test_fit_table_by_hand() -> None:
    """MARA: months 2024-01, 2024-02 and the 2024Q1 quarter (skipped: its months are counted) and 2025Q2;
    share = (100 + 50 + 30) / (200 + 100 + 300) = 0.3. RIOT: sold only, default. 2023 and 2026 periods are
    outside the window."""
    frame = _frame(
        [
            _line("MARA", "2024-01", "btc_produced", 200),
            _line("MARA", "2024-01", "btc_sold", 100),
            _line("MARA", "2024-02", "btc_produced", 100),
            _line("MARA", "2024-02", "btc_sold", 50),
            _line("MARA", "2024Q1", "btc_produced", 450),
            _line("MARA", "2024Q1", "btc_sold", 999),
            _line("MARA", "2025Q2", "btc_produced", 300),
            _line("MARA", "2025Q2", "btc_sold", 30),
            _line("MARA", "2023Q4", "btc_produced", 1000),
            _line("MARA", "2023Q4", "btc_sold", 1000),
            _line("MARA", "2026-01", "btc_produced", 10),
            _line("MARA", "2026-01", "btc_sold", 10),
            _line("MARA", "2025Q1", "cash_usd", 1e8),
            _line("MARA", "2025Q2", "energized_hashrate_ehs", 50).replace(",BTC,", ",EH/s,"),
            _line("RIOT", "2024Q3", "btc_sold", 10),
        ]
    )
    fit = fit_share_sold(
        dt.date(2024, 1, 1), dt.date(2025, 12, 31), frame, load_listed_debt(), ("MARA", "RIOT")
    )
    mara, riot = fit.rows
    assert mara.basis == "fitted" and mara.periods == ["2024-01", "2024-02", "2025Q2"]
    assert mara.produced_btc == 600 and mara.sold_btc == 180 and mara.share_sold == pytest.approx(0.3)
    assert mara.missing == ["2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q3", "2025Q4"]  # 2024Q1: quarterly
    assert riot.basis == "default" and riot.share_sold == 0.8 and math.isnan(riot.produced_btc)
    assert "2024Q3 produced" in riot.missing
    assert fit.cash_figures == 1 and fit.debt_figures == 0
    assert "not fitted" in fit.not_fitted and "1 cash figure(s)" in fit.not_fitted
    # the same rule as the owners' builder: with the window of its years, the same share
    built = listed_owner_specs(dt.date(2025, 12, 31), listed=frame, tickers=("MARA",)).owners[0]
    assert built["share_sold"] == pytest.approx(mara.share_sold)
    # a narrower window uses only its periods
    narrow = fit_share_sold(dt.date(2025, 1, 1), dt.date(2025, 12, 31), frame, load_listed_debt(), ("MARA",))
    assert narrow.rows[0].share_sold == pytest.approx(0.1) and narrow.rows[0].periods == ["2025Q2"]


@pytest.mark.parametrize("text", ["2024-01-01", "2023-01-01:2024-12-31", "2025-01-01:2024-01-01", "x:y"])
def test_bad_fit_window_names_the_field(text: str) -> None:
    with pytest.raises(InputError) as info:
        parse_fit_window(text)
    assert info.value.field == "--fit" and "2024-01-01:2025-12-31" in info.value.allowed


def test_quarter_days_and_bad_quarter() -> None:
    assert quarter_days("2026Q1") == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert quarter_days("2025Q4") == (dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    with pytest.raises(InputError) as info:
        quarter_days("2026Q5")
    assert info.value.field == "--test" and "YYYYQn" in info.value.allowed


# ------------------------------------------------------------------------------------------- test quarter
def _synthetic_store(home: Path, last: str = "2026-03-31") -> pd.DataFrame:
    """Daily rows 2025-12-01..`last`: price 90,000 falling 0.2% a day, 144 blocks, difficulty 1e14 (the
    hashrate that mines 144 blocks a day at it); one block at height 929,000 at the end of 2025-12-31."""
    index = pd.date_range("2025-12-01", last, freq="D", tz="UTC", name="date")
    t = np.arange(len(index))
    daily = pd.DataFrame(
        {
            "price_usd": 90_000.0 * np.exp(-0.002 * t),
            "hashrate_ths": np.full(len(t), HASHRATE_THS),
            "difficulty": np.full(len(t), DIFFICULTY),
            "blocks": pd.array([144] * len(t), dtype="Int64"),
            "fees_btc": np.full(len(t), 0.02 * 144),
            "subsidy_btc": np.full(len(t), 3.125 * 144),
        },
        index=index,
    )
    bits = target_to_bits(difficulty_to_target(DIFFICULTY))
    block = pd.DataFrame(
        {
            "height": [929_000],
            "hash": [f"{1:064x}"],
            "time": [int(dt.datetime(2025, 12, 31, 23, 50, tzinfo=dt.UTC).timestamp())],
            "mediantime": [dt.datetime(2025, 12, 31, 23, 0, tzinfo=dt.UTC)],
            "bits": pd.Series([f"{bits:08x}"], dtype=object),
            "difficulty": [DIFFICULTY],
            "chainwork": [2**80],
            "subsidy_sats": [312_500_000],
            "fees_sats": [0],
            "tx_count": [1],
        }
    )
    with Store(home) as store:
        store.upsert_daily(daily, source="synthetic")
        store.upsert_blocks(block, source="bitcoind")
    return daily


def test_test_quarter_on_a_synthetic_store(tmp_path: Path) -> None:
    daily = _synthetic_store(tmp_path)
    snap = snapshot_for_date(dt.date(2025, 12, 31), home=tmp_path)
    assert snap.height == 929_000
    with Store(tmp_path, read_only=True) as store:
        frame = store.daily_frame()
    fit = fit_share_sold()
    res = simulate_test_quarter(fit, "2026Q1", frame, snap, paths=40, backend="numpy")
    assert res.status == "ran" and res.paths == 40 and res.start_day == dt.date(2025, 12, 31)
    owners = listed_owner_specs(dt.date(2025, 12, 31))
    assert res.covered == [o["name"] for o in owners.owners] and res.left_out == owners.left_out
    assert set(res.covered) | set(res.left_out) == {r.company for r in fit.rows}
    total = res.total_sold_btc
    assert total is not None and 0 < total.p05 <= total.p50 <= total.p95
    # the total is the per-path sum of the companies' production sold + treasury drawn: medians add up roughly
    assert sum(c.sold_btc.p50 for c in res.companies) == pytest.approx(total.p50, rel=0.1)
    for c in res.companies:
        assert c.sold_btc.p50 == pytest.approx(c.sold_production_btc.p50 + c.treasury_drawn_btc.p50, rel=0.1)
        assert c.share_sold == fit.share_sold().get(c.company, c.share_sold)
    fitted = {r.company: r.share_sold for r in fit.rows if r.basis == "fitted"}
    for c in res.companies:
        if c.company in fitted:
            assert c.share_sold == fitted[c.company] and c.share_sold_basis == "fitted"
    assert res.published is not None and res.published["value"] == 32_000
    assert res.rel_error_p50 == pytest.approx(total.p50 / 32_000 - 1)
    assert res.within_goal == (abs(res.rel_error_p50) <= 0.25)
    # the realised path: the same as the stored closes of the quarter (nothing invented)
    assert missing_price_days(daily, dt.date(2026, 1, 1), dt.date(2026, 3, 31)) == []


def test_missing_prices_say_which_days_and_how(tmp_path: Path) -> None:
    _synthetic_store(tmp_path, last="2026-02-14")
    with Store(tmp_path, read_only=True) as store:
        frame = store.daily_frame()
    snap = snapshot_for_date(dt.date(2025, 12, 31), home=tmp_path)
    res = simulate_test_quarter(fit_share_sold(), "2026Q1", frame, snap, paths=5)
    assert res.status == "missing_data" and res.total_sold_btc is None
    assert res.missing["price_days"] == ["2026-02-15..2026-03-31"] and res.missing["price_days_count"] == 45
    assert "snapshot" not in res.missing
    assert "hashrisk update" in res.missing["how_to_get"] and "hashrisk data import FILE" in GET_PRICES_HINT
    empty = simulate_test_quarter(
        fit_share_sold(), "2026Q1", pd.DataFrame(), None, snapshot_problem="no store"
    )
    assert empty.missing["price_days"] == ["2026-01-01..2026-03-31"]
    assert "2025-12-31" in empty.missing["snapshot"] and "no store" in empty.missing["snapshot"]


# ------------------------------------------------------------------------------------------- CLI
def _json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["miners", "calibrate", *args, "--json"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    out: dict[str, object] = json.loads(lines[0])
    return out


def test_cli_json_runs_on_a_synthetic_store(tmp_path: Path) -> None:
    _synthetic_store(tmp_path)
    out = _json("--home", str(tmp_path), "--paths", "20")
    test = out["test"]
    assert isinstance(test, dict) and test["status"] == "ran" and test["paths"] == 20
    assert test["total_sold_btc"]["p50"] > 0 and isinstance(test["within_goal"], bool)
    fit = out["fit"]
    assert isinstance(fit, dict) and len(fit["companies"]) == 6 and "not fitted" in fit["not_fitted"]
    table = runner.invoke(app, ["miners", "calibrate", "--home", str(tmp_path), "--paths", "20"])
    assert table.exit_code == 0 and "TOTAL" in table.stdout and "covered:" in table.stdout


def test_cli_missing_store_and_bad_options(tmp_path: Path) -> None:
    out = _json("--home", str(tmp_path))
    test = out["test"]
    assert isinstance(test, dict) and test["status"] == "missing_data"
    assert test["missing"]["price_days"] == ["2026-01-01..2026-03-31"]
    plain = runner.invoke(app, ["miners", "calibrate", "--home", str(tmp_path)])
    assert plain.exit_code == 0 and "hashrisk update" in " ".join(plain.stdout.split())
    for args, name in ((["--fit", "2024-01-01"], "--fit"), (["--test", "2026Q7"], "--test")):
        bad = runner.invoke(app, ["miners", "calibrate", *args, "--home", str(tmp_path)])
        assert bad.exit_code == 2 and name in bad.stderr and "allowed" in bad.stderr
    look_ahead = runner.invoke(app, ["miners", "calibrate", "--test", "2025Q4", "--home", str(tmp_path)])
    assert look_ahead.exit_code == 2 and "ends before the test quarter" in look_ahead.stderr
