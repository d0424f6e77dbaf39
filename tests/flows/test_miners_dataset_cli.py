"""`hashrisk miners` and `hashrisk hpc progress` from the packaged datasets (no file, no network): missing facts
stay missing (null), never 0; the published Q1-2026 comparison; the hpc group keeps `hashrisk hpc [SITE]`."""

from __future__ import annotations

import math
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from test_flows_cli import run_json
from typer.testing import CliRunner

from hashrisk.cli.main import app
from hashrisk.flows.hpc_contracts import funding_gap_from_contracts, progress
from hashrisk.flows.listed import (
    COLUMNS,
    PUBLISHED_Q1_2026_SALES,
    complete_miners_data,
    listed_miner_rows,
    load_listed_miners,
    parse_listed_text,
    published_sales_comparison,
    share_sold_evidence,
)

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any attempt to open a network connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


# ------------------------------------------------------------------------------------------- miners
def test_miners_json_from_the_packaged_dataset_keeps_missing_values_null() -> None:
    out = run_json("miners")
    long = load_listed_miners()
    assert out["source"].endswith("listed_miners.csv")
    assert {c["company"] for c in out["companies"]} == set(long["company"])
    for c in out["companies"]:
        disclosed = long[(long["company"] == c["company"]) & (long["period"] == c["period"])]
        metrics = set(disclosed["metric"])
        for name in ("btc_produced", "btc_sold", "btc_held", "cash_usd", "debt_usd", "hpc_revenue_usd"):
            if name not in metrics:
                assert c[name] is None, (c["company"], name)  # not disclosed: null, never 0
                assert name in c["missing"]
            else:
                assert c[name] == float(disclosed[disclosed["metric"] == name]["value"].iloc[0])
        assert c["complete"] is (not c["missing"])
        if c["missing"]:
            assert out["missing"][c["company"]] == c["missing"]
    # the stress runs on complete rows only; the packaged rows all lack something
    n_complete = sum(c["complete"] for c in out["companies"])
    if n_complete == 0:
        assert out["stress"] is None
    else:
        assert len(out["stress"]["companies"]) == n_complete
    assert f"{n_complete} of {len(out['companies'])}" in out["stress_basis"]


def test_miners_json_quarterly_sales_and_published_comparison() -> None:
    out = run_json("miners")
    per = out["quarterly_sales"]["per_company"]
    assert per and all(r["btc_sold"] is None for r in per if r["basis_sold"] == "none")
    for r in per:
        if r["basis_sold"] == "months":
            assert 1 <= r["months_sold"] <= 3
    for t in out["quarterly_sales"]["totals"]:
        if t["n_companies_sold"] == 0:
            assert t["btc_sold"] is None  # no company reported: unknown, not zero sales
    comp = out["published_comparison"]
    assert comp["published"]["value"] == 32_000 and comp["published"]["qualifier"] == "over"
    assert comp["published"]["period"] == "2026Q1"
    assert "Bitcoin Mining in the Red" in comp["published"]["source"]
    assert comp["companies_named"] == 6
    assert {c["ticker"] for c in comp["companies"]} == {"MARA", "CLSK", "RIOT", "CANG", "CORZ", "BTDR"}
    if comp["companies_with_figure"] == 0:
        assert comp["dataset_btc_sold"] is None and comp["share_of_published"] is None
        assert "cannot confirm or refute" in comp["text"]
    assert out["share_sold_evidence"]["sufficient"] in (True, False)


def test_miners_period_option_and_errors(tmp_path: Any) -> None:
    periods = sorted(set(load_listed_miners()["period"]))
    out = run_json("miners", "--period", periods[0])
    assert out["period"] == periods[0] and all(c["period"] == periods[0] for c in out["companies"])
    bad = runner.invoke(app, ["miners", "--period", "1999Q1"])
    assert bad.exit_code == 2 and "period" in bad.stderr and "Traceback" not in bad.output
    f = tmp_path / "m.yaml"
    f.write_text("rows: []\n")
    both = runner.invoke(app, ["miners", str(f), "--period", periods[0]])
    assert both.exit_code == 2 and "period" in both.stderr


def test_miners_table_names_missing_values() -> None:
    result = runner.invoke(app, ["miners"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    rows = listed_miner_rows()
    for rec in rows.itertuples():
        if rec.missing:
            assert (
                f"{rec.company} ({rec.period}) lacks: {str(rec.missing).replace(',', ', ')}" in result.stdout
            )
    assert "32,000" in result.stdout and "Bitcoin Mining in the Red" in result.stdout
    assert "not disclosed" in result.stdout or "—" in result.stdout


# ------------------------------------------------------------------------------------------- dataset helpers
def _frame(rows: list[tuple[str, str, str, str, float]]) -> Any:
    head = ",".join(COLUMNS)
    lines = [
        f"{c},{t},{p},{m},{v},BTC,reported,,Doc,2026-04-01,https://www.sec.gov/x" for c, t, p, m, v in rows
    ]
    return parse_listed_text("\n".join([head, *lines]))


def test_published_comparison_counts_only_companies_with_figures() -> None:
    frame = _frame(
        [
            ("MARA Holdings", "MARA", "2026Q1", "btc_sold", 10_000),
            ("Riot Platforms", "RIOT", "2026-01", "btc_sold", 400),
            ("Riot Platforms", "RIOT", "2026-02", "btc_sold", 600),
            ("Other", "OTHR", "2026Q1", "btc_sold", 99_999),  # not one of the six
        ]
    )
    comp = published_sales_comparison(frame)
    assert comp["companies_with_figure"] == 2
    assert comp["dataset_btc_sold"] == 11_000
    assert comp["share_of_published"] == pytest.approx(11_000 / PUBLISHED_Q1_2026_SALES.value)
    riot = next(c for c in comp["companies"] if c["ticker"] == "RIOT")
    assert riot["months_sold"] == 2 and riot["missing_sold"] == "2026-03"
    clsk = next(c for c in comp["companies"] if c["ticker"] == "CLSK")
    assert clsk["in_dataset"] is False and math.isnan(clsk["btc_sold"])


def test_share_sold_evidence_needs_companies_and_quarters() -> None:
    thin = share_sold_evidence(
        _frame([("A", "A", "2025-01", "btc_produced", 100), ("A", "A", "2025-01", "btc_sold", 50)])
    )
    assert thin["sufficient"] is False and thin["share_sold"] == 0.5 and thin["periods"] == ["A 2025-01"]
    rows = []
    for c in ("A", "B", "C"):
        for q in ("2025Q1", "2025Q2", "2025Q3", "2025Q4"):
            rows += [(c, c, q, "btc_produced", 100.0), (c, c, q, "btc_sold", 80.0)]
    enough = share_sold_evidence(_frame(rows))
    assert enough["sufficient"] is True and enough["share_sold"] == pytest.approx(0.8)
    packaged = share_sold_evidence()
    assert packaged["sufficient"] is False  # documented: the default stays (see the report's note)


def test_complete_miners_data_leaves_incomplete_rows_out() -> None:
    rows = listed_miner_rows()
    rows.loc[0, "btc_held"] = float("nan")  # at least one incomplete row
    rows.loc[0, "complete"] = False
    full = {c: 1.0 for c in ("btc_produced", "btc_held", "btc_sold", "fleet_efficiency_j_per_th", "cash_usd")}
    full |= {"hashrate_ths": 1e6, "power_cost_usd_per_kwh": 0.05, "debt_usd": 0.0, "hpc_revenue_usd": 0.0}
    for k, v in full.items():
        rows.loc[1, k] = v
    rows.loc[1, "complete"] = True
    data = complete_miners_data(rows)
    assert data is not None and [r.company for r in data.rows] == [rows.loc[1, "company"]]
    assert complete_miners_data(rows.iloc[[0]]) is None


# ------------------------------------------------------------------------------------------- hpc
def test_hpc_progress_json_equals_the_library() -> None:
    out = run_json("hpc", "progress")
    lib = progress().summary()
    assert out["as_of"] == lib["as_of"]
    assert out["total"]["contracted_mw"] == lib["total"]["contracted_mw"]
    assert out["vaneck_delivered_share"] == 0.25 and "VanEck" in out["vaneck_source"]
    for f in out["by_company"].values():
        if f["contracted_mw_with_disclosure"] == 0:
            assert f["delivered_mw"] is None  # no delivery disclosed: unknown, never 0
            assert f["delivered_share_disclosed"] is None
    dates = [r["date"] for r in out["series"] if r["company"] == "TOTAL"]
    assert dates == sorted(dates) and dates[-1] == out["as_of"]


def test_hpc_progress_as_of_and_error() -> None:
    first = progress().to_frame()["date"].min().isoformat()
    out = run_json("hpc", "progress", "--as-of", first)
    assert out["as_of"] == first
    bad = runner.invoke(app, ["hpc", "progress", "--as-of", "2001-01-01"])
    assert bad.exit_code == 2 and "as_of" in bad.stderr and "Traceback" not in bad.output
    table = runner.invoke(app, ["hpc", "progress"], env={"COLUMNS": "160"})
    assert table.exit_code == 0 and "TOTAL" in table.stdout and "25%" in table.stdout


def test_hpc_site_default_uses_the_contracts_for_the_funding_gap() -> None:
    out = run_json("hpc")  # `hashrisk hpc` is still the site valuation
    gap = funding_gap_from_contracts()
    inp = out["funding_gap"]["inputs"]
    assert inp["leased_it_mw"] == gap.contracted_mw and inp["delivered_share"] == pytest.approx(
        gap.delivered_share
    )
    assert out["funding_gap"]["short_term_gap_usd"]["point"] == pytest.approx(gap.short_term_gap_usd["point"])
    assert out["funding_gap"]["published"] == {"short_term_gap_usd": 50e9, "long_term_need_usd": 221e9}
    assert out["funding_gap_contracts"]["contracted_mw"] == gap.contracted_mw
    assert "hpc_contracts.csv" in out["sources"]["portfolio.leased_it_mw"]
    assert set(run_json("hpc", "site")["options"]) == {"mine", "convert", "both"}
