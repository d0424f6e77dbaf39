"""Listed miners' packaged dataset: provenance of every row, kinds, identity, helpers never turning missing into 0."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from hashrisk.flows.listed import (
    ALLOWED_SOURCE_DOMAINS,
    IDENTITY,
    KINDS,
    METRIC_UNITS,
    holdings_cover_months,
    identity_terms,
    listed_miner_rows,
    listed_miners_wide,
    load_listed_miners,
    parse_listed_text,
    quarterly_sales,
    source_domain_allowed,
)
from hashrisk.flows.miners import REQUIRED_COLUMNS

HEADER = "company,ticker,period,metric,value,unit,kind,note,source_title,source_date,source_url\n"
URL = "https://www.sec.gov/Archives/example.htm"


def toy(lines: list[str]) -> pd.DataFrame:
    return parse_listed_text("# toy\n" + HEADER + "\n".join(lines) + "\n")


def line(company: str, period: str, metric: str, value: float, kind: str = "reported", note: str = "") -> str:
    unit = METRIC_UNITS[metric]
    return f"{company},TOY,{period},{metric},{value},{unit},{kind},{note},Toy release,2026-01-05,{URL}"


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return load_listed_miners()


def test_every_row_has_title_iso_date_and_original_https_source(data: pd.DataFrame) -> None:
    assert len(data) > 0
    raw = parse_listed_text.__module__  # the packaged file is read through importlib.resources
    assert raw == "hashrisk.flows.listed"
    for rec in data.itertuples():
        assert str(rec.source_title).strip(), rec
        assert isinstance(rec.source_date, dt.date), rec
        assert dt.date(2024, 1, 1) <= rec.source_date <= dt.date(2026, 11, 29), rec
        assert source_domain_allowed(str(rec.source_url)), rec.source_url


def test_domain_check_rejects_reposts_and_http() -> None:
    assert source_domain_allowed("https://www.prnewswire.com/news-releases/x.html")
    assert source_domain_allowed("https://ir.mara.com/sec-filings/x.htm")
    assert not source_domain_allowed("http://www.sec.gov/x.htm")
    assert not source_domain_allowed("https://www.stocktitan.net/news/RIOT/x.html")
    assert not source_domain_allowed("https://notsec.gov.example.com/x")
    assert "sec.gov" in ALLOWED_SOURCE_DOMAINS


def test_kinds_units_and_canonical_hashrate(data: pd.DataFrame) -> None:
    assert set(data["kind"]) <= set(KINDS)
    assert set(data["metric"]) <= set(METRIC_UNITS)
    assert not data["metric"].str.endswith("_ehs").any()
    for rec in data.itertuples():
        assert rec.unit == METRIC_UNITS[str(rec.metric)], rec
        assert math.isfinite(float(rec.value)) and float(rec.value) >= 0, rec
    riot = data[(data["company"] == "Riot Platforms") & (data["period"] == "2024-10")]
    deployed = riot[riot["metric"] == "installed_hashrate_ths"]["value"].iloc[0]
    assert deployed == pytest.approx(29.4e6)  # 29.4 EH/s in the file


def test_no_duplicate_values(data: pd.DataFrame) -> None:
    assert not data.duplicated(["company", "period", "metric"]).any()


def test_derived_rows_satisfy_their_identity_from_reported_terms(data: pd.DataFrame) -> None:
    derived = data[data["kind"] == "derived"]
    assert (derived["metric"] == "btc_sold").all()
    assert all(IDENTITY in str(n) for n in derived["note"])
    terms = identity_terms(data)
    for rec in derived.itertuples():
        row = terms[(terms["company"] == rec.company) & (terms["period"] == rec.period)]
        assert len(row) == 1, rec
        assert abs(float(row["residual"].iloc[0])) <= 1e-9


def test_identity_holds_wherever_all_terms_are_reported(data: pd.DataFrame) -> None:
    """Tolerance max(1 BTC, 0.5% of held_end): releases round to whole BTC and say 'approximately'."""
    terms = identity_terms(data)
    for rec in terms.itertuples():
        assert abs(float(rec.residual)) <= float(rec.tolerance), rec


def test_identity_check_on_a_toy_frame() -> None:
    frame = toy(
        [
            line("Toy", "2026-01", "btc_held", 1000),
            line("Toy", "2026-02", "btc_held", 1050),
            line("Toy", "2026-02", "btc_produced", 400),
            line("Toy", "2026-02", "btc_bought", 0, note="company states it bought none"),
            line("Toy", "2026-02", "btc_sold", 350, kind="derived", note=IDENTITY),
        ]
    )
    terms = identity_terms(frame)
    assert len(terms) == 1
    assert float(terms["residual"].iloc[0]) == pytest.approx(0.0)  # 400 + 0 - (1050 - 1000) - 350
    assert float(terms["tolerance"].iloc[0]) == pytest.approx(5.25)  # 0.5% of 1050 > 1 BTC


def test_missing_metric_is_nan_not_zero_in_wide_and_quarterly(data: pd.DataFrame) -> None:
    # Core Scientific discloses no monthly BTC sold in the dataset: NaN, never 0.
    wide = listed_miners_wide(frame=data)
    assert "btc_sold" in wide.columns
    assert math.isnan(float(wide.loc["Core Scientific", "btc_sold"]))
    wide_q = listed_miners_wide("2025Q3", frame=data)
    assert math.isnan(float(wide_q.loc["MARA Holdings", "btc_sold"]))
    assert math.isnan(float(wide_q.loc["Core Scientific", "btc_produced"]))
    per, totals = quarterly_sales(data)
    mara = per[(per["company"] == "MARA Holdings") & (per["quarter"] == "2025Q1")].iloc[0]
    assert math.isnan(float(mara["btc_sold"]))
    assert mara["basis_sold"] == "none"
    t = totals.set_index("quarter")
    assert math.isnan(float(t.loc["2025Q1", "btc_sold"]))
    assert int(t.loc["2025Q1", "n_companies_sold"]) == 0
    cover = holdings_cover_months(data)
    assert math.isnan(float(cover.loc["Core Scientific", "cover_months"]))


def test_quarterly_total_by_hand(data: pd.DataFrame) -> None:
    per, totals = quarterly_sales(data)
    riot = per[(per["company"] == "Riot Platforms") & (per["quarter"] == "2024Q3")].iloc[0]
    assert float(riot["btc_produced"]) == 370 + 322 + 412  # July + August + September
    assert riot["missing_produced"] == ""
    assert int(riot["months_produced"]) == 3
    assert float(riot["btc_sold"]) == 0.0  # both months show '-' in the sold row
    t = totals.set_index("quarter")
    assert float(t.loc["2024Q3", "btc_produced"]) == 1104
    assert t.loc["2024Q3", "incomplete_companies"] == ""
    assert float(t.loc["2025Q1", "btc_produced"]) == 2286  # MARA's quarterly figure


def test_quarterly_totals_sum_only_reported_months() -> None:
    frame = toy(
        [
            line("A", "2026-01", "btc_sold", 100),
            line("A", "2026-03", "btc_sold", 50),
            line("B", "2026Q1", "btc_sold", 1000),
            line("C", "2026-02", "btc_produced", 70),
        ]
    )
    per, totals = quarterly_sales(frame)
    a = per[per["company"] == "A"].iloc[0]
    assert float(a["btc_sold"]) == 150 and a["missing_sold"] == "2026-02"
    c = per[per["company"] == "C"].iloc[0]
    assert math.isnan(float(c["btc_sold"]))
    tot = totals.iloc[0]
    assert float(tot["btc_sold"]) == 1150
    assert int(tot["n_companies_sold"]) == 2
    assert tot["incomplete_companies"] == "A,C"


def test_holdings_cover_months(data: pd.DataFrame) -> None:
    cover = holdings_cover_months(data)
    assert float(cover.loc["Riot Platforms", "cover_months"]) == pytest.approx(10928 / 505)
    assert float(cover.loc["MARA Holdings", "cover_months"]) == pytest.approx(52850 / (2144 / 3))


def test_miner_rows_schema_says_what_is_missing(data: pd.DataFrame) -> None:
    rows = listed_miner_rows(frame=data)
    assert list(rows.columns[: len(REQUIRED_COLUMNS)]) == list(REQUIRED_COLUMNS)
    riot = rows.set_index("company").loc["Riot Platforms"]
    assert riot["period"] == "2024-10"
    assert float(riot["hashrate_ths"]) == pytest.approx(29.4e6)
    assert "installed" in str(riot["notes"])
    assert math.isnan(float(riot["cash_usd"]))
    assert "cash_usd" in str(riot["missing"]).split(",")
    assert not bool(riot["complete"])
    for rec in rows.itertuples():
        missing = [m for m in str(rec.missing).split(",") if m]
        for m in missing:
            assert math.isnan(float(getattr(rec, m)))
        assert bool(rec.complete) == (not missing)
