"""The AI/HPC contracts dataset: cited original sources, consistent deliveries, hand-computed progress and gap."""

from __future__ import annotations

import datetime as dt
import math
from urllib.parse import urlparse

import pandas as pd
import pytest

from hashrisk.errors import InputError
from hashrisk.flows.hpc_contracts import (
    ALLOWED_SOURCE_DOMAINS,
    TOTAL,
    funding_gap_from_contracts,
    load_contracts,
    load_deliveries,
    progress,
    published_comparison,
    source_problems,
)


# ------------------------------------------------------------------------------------------- packaged data
@pytest.fixture(scope="module")
def contracts() -> pd.DataFrame:
    return load_contracts()


@pytest.fixture(scope="module")
def deliveries(contracts: pd.DataFrame) -> pd.DataFrame:
    return load_deliveries(contracts=contracts)


def _allowed(url: str) -> bool:
    parsed = urlparse(url)
    host = parsed.hostname or ""
    return parsed.scheme == "https" and any(
        host == d or host.endswith("." + d) for d in ALLOWED_SOURCE_DOMAINS
    )


def test_every_contract_row_cites_an_original_source(contracts: pd.DataFrame) -> None:
    assert len(contracts) >= 1
    for rec in contracts.to_dict("records"):
        assert rec["source_title"], rec["contract_id"]
        assert isinstance(rec["source_date"], dt.date), rec["contract_id"]
        assert _allowed(rec["source_url"]), rec["source_url"]
        if rec["source2_url"]:
            assert rec["source2_title"] and isinstance(rec["source2_date"], dt.date), rec["contract_id"]
            assert _allowed(rec["source2_url"]), rec["source2_url"]
            assert rec["source2_fields"], f"{rec['contract_id']}: which fields does source2 support?"


def test_every_delivery_row_cites_an_original_source(deliveries: pd.DataFrame) -> None:
    for rec in deliveries.to_dict("records"):
        assert rec["source_title"]
        assert isinstance(rec["source_date"], dt.date) and isinstance(rec["as_of"], dt.date)
        assert _allowed(rec["source_url"]), rec["source_url"]


def test_source_problems_is_empty_for_the_packaged_data(
    contracts: pd.DataFrame, deliveries: pd.DataFrame
) -> None:
    assert source_problems(contracts, deliveries) == []


def test_news_sites_are_not_sources(contracts: pd.DataFrame, deliveries: pd.DataFrame) -> None:
    bad = contracts.copy()
    bad.loc[0, "source_url"] = "https://www.stocktitan.net/news/X/some-release.html"
    bad.loc[1, "source_url"] = "http://www.sec.gov/Archives/x.htm"
    problems = source_problems(bad, deliveries)
    assert any("stocktitan" in p for p in problems) and any("not https" in p for p in problems)


def test_delivered_never_exceeds_contracted_nor_precedes_the_announcement(
    contracts: pd.DataFrame, deliveries: pd.DataFrame
) -> None:
    by_id = contracts.set_index("contract_id")
    for rec in deliveries.to_dict("records"):
        assert rec["mw_delivered"] <= by_id.at[rec["contract_id"], "it_mw"]
        assert rec["as_of"] >= by_id.at[rec["contract_id"], "announced_date"]


def test_undisclosed_values_are_nan_never_zero(contracts: pd.DataFrame) -> None:
    numeric = [
        "it_mw",
        "contract_value_usd",
        "term_years",
        "capex_usd_per_it_mw_low",
        "capex_usd_per_it_mw_high",
    ]
    assert (contracts[numeric].fillna(1.0) > 0).all().all()
    # no contract in the dataset has capex guidance per critical-IT MW from an original source: NaN, not 0
    corz = contracts.set_index("contract_id").loc["CORZ-CRWV"]
    assert math.isnan(corz["capex_usd_per_it_mw_low"]) and math.isnan(corz["capex_total_usd"])
    # and a contract without a delivery disclosure has unknown (NaN) delivered MW in the progress table
    p = progress()
    assert math.isnan(p.latest("Core Scientific")["delivered_mw"])


def test_a_zero_for_an_undisclosed_value_is_rejected() -> None:
    frame = _synthetic_contracts()
    frame.loc[0, "contract_value_usd"] = "0"
    with pytest.raises(InputError, match="contract_value_usd"):
        load_contracts(frame)


def test_the_vaneck_comparison_is_cited() -> None:
    pub = published_comparison()
    assert pub.delivered_share == pytest.approx(0.25)
    assert pub.short_term_gap_usd == pytest.approx(50e9) and pub.long_term_need_usd == pytest.approx(221e9)
    assert all(v.startswith("fact:") and "VanEck" in v for k, v in pub.sources.items() if "capex" not in k)


# ------------------------------------------------------------------------------------------- synthetic data
def _synthetic_contracts() -> pd.DataFrame:
    base = {
        "source_title": "Synthetic release",
        "source_date": "2025-01-01",
        "source_url": "https://www.sec.gov/x",
    }
    return pd.DataFrame(
        [
            {"contract_id": "A", "company": "Alpha", "announced_date": "2025-01-01", "it_mw": "100",
             "contract_value_usd": "1.0e9", "term_years": "10", "capex_usd_per_it_mw_low": "8e6",
             "capex_usd_per_it_mw_high": "12e6", **base},
            {"contract_id": "B", "company": "Beta", "announced_date": "2025-06-01", "it_mw": "200",
             "contract_value_usd": "", "term_years": "15", **base},
            {"contract_id": "C", "company": "Alpha", "announced_date": "2025-03-01", "it_mw": "50",
             "contract_value_usd": "0.5e9", "term_years": "1", **base},
        ]
    )  # fmt: skip


def _synthetic_deliveries() -> pd.DataFrame:
    src = {
        "source_title": "Synthetic update",
        "source_date": "2025-01-01",
        "source_url": "https://www.sec.gov/y",
    }
    return pd.DataFrame(
        [
            {"contract_id": "A", "as_of": "2025-07-01", "mw_delivered": "40", **src},
            {"contract_id": "A", "as_of": "2026-01-01", "mw_delivered": "100", **src},
            {"contract_id": "C", "as_of": "2025-09-01", "mw_delivered": "10", **src},
        ]
    )


def test_progress_by_hand() -> None:
    p = progress(contracts=_synthetic_contracts(), deliveries=_synthetic_deliveries(), as_of="2025-10-01")
    assert p.as_of == dt.date(2025, 10, 1)
    t = p.latest(TOTAL)
    # contracted 100 + 200 + 50; delivered A 40 (2025-07-01) + C 10; B undisclosed
    assert t["contracted_mw"] == 350.0 and t["delivered_mw"] == 50.0
    assert t["contracted_mw_with_disclosure"] == 150.0
    assert t["delivered_share_disclosed"] == pytest.approx(50 / 150)
    assert t["delivered_share_low"] == pytest.approx(50 / 350)
    assert t["undelivered_mw"] == 300.0
    # backlog: A 1e9 * 60/100 + C 0.5e9 * 40/50; B's value undisclosed and skipped
    assert t["backlog_usd"] == pytest.approx(0.6e9 + 0.4e9)
    assert t["n_value_undisclosed"] == 1.0
    # C's 1-year term, counted from 2025-03-01, has not ended on 2025-10-01
    assert t["active_value_usd"] == pytest.approx(1.5e9)
    alpha, beta = p.latest("Alpha"), p.latest("Beta")
    assert alpha["contracted_mw"] == 150.0 and alpha["delivered_mw"] == 50.0
    assert beta["contracted_mw"] == 200.0 and math.isnan(beta["delivered_mw"])
    assert math.isnan(beta["delivered_share_disclosed"]) and beta["delivered_share_low"] == 0.0
    frame = p.to_frame()
    assert list(frame["date"].drop_duplicates()) == [
        dt.date(2025, 1, 1), dt.date(2025, 3, 1), dt.date(2025, 6, 1), dt.date(2025, 7, 1),
        dt.date(2025, 9, 1), dt.date(2025, 10, 1),
    ]  # fmt: skip
    first = frame[(frame["date"] == dt.date(2025, 1, 1)) & (frame["company"] == TOTAL)].iloc[0]
    assert first["contracted_mw"] == 100.0 and math.isnan(first["delivered_mw"])
    s = p.summary()
    assert s["vaneck_delivered_share"] == 0.25 and s["contracts_without_delivery_disclosure"] == ["B"]


def test_progress_later_the_term_ends_and_delivery_completes() -> None:
    p = progress(
        contracts=_synthetic_contracts(), deliveries=_synthetic_deliveries(), as_of=dt.date(2026, 6, 1)
    )
    t = p.latest(TOTAL)
    assert t["delivered_mw"] == 110.0
    assert t["backlog_usd"] == pytest.approx(0.0 + 0.5e9 * 40 / 50)
    assert t["active_value_usd"] == pytest.approx(1.0e9)  # C's 1-year term has ended


def test_funding_gap_by_hand() -> None:
    g = funding_gap_from_contracts(
        contracts=_synthetic_contracts(), deliveries=_synthetic_deliveries(), as_of="2025-10-01"
    )
    pub = published_comparison()
    d_lo, d_hi = pub.capex_range_usd_per_it_mw
    d_pt = pub.capex_usd_per_it_mw
    # A: 60 MW x its own guidance (8-12, mid 10 $M/MW); B: 200 MW and C: 40 MW x the template default
    assert g.short_term_gap_usd["point"] == pytest.approx(60 * 10e6 + 240 * d_pt)
    assert g.short_term_gap_usd["low"] == pytest.approx(60 * 8e6 + 240 * d_lo)
    assert g.short_term_gap_usd["high"] == pytest.approx(60 * 12e6 + 240 * d_hi)
    assert g.contracted_mw == 350.0 and g.delivered_mw == 50.0
    assert g.portfolio_update() == {"leased_it_mw": 350.0, "delivered_share": pytest.approx(50 / 350)}
    per = g.to_frame().set_index("contract_id")
    assert per.at["A", "capex_basis"].startswith("fact:") and per.at["B", "capex_basis"].startswith(
        "assumption:"
    )
    assert math.isnan(per.at["B", "delivered_mw"])
    s = g.summary()
    assert s["vaneck_short_term_gap_usd"] == 50e9 and s["vaneck_long_term_need_usd"] == 221e9


def test_funding_gap_with_a_user_capex() -> None:
    g = funding_gap_from_contracts(
        capex_usd_per_it_mw=5e6,
        contracts=_synthetic_contracts(),
        deliveries=_synthetic_deliveries(),
        as_of="2025-10-01",
    )
    assert g.short_term_gap_usd["point"] == pytest.approx(60 * 10e6 + 240 * 5e6)
    assert g.short_term_gap_usd["low"] == pytest.approx(60 * 8e6 + 240 * 5e6)
    with pytest.raises(InputError, match="capex_usd_per_it_mw"):
        funding_gap_from_contracts(capex_usd_per_it_mw=0.0)


def test_the_hpc_portfolio_accepts_the_dataset() -> None:
    """Integration shape: hpc.funding_gap on the dataset's leased MW and delivered share gives the same gap."""
    from hashrisk.hpc import SiteSpec, funding_gap

    g = funding_gap_from_contracts()
    spec = SiteSpec.packaged().portfolio
    assert spec is not None
    pf = spec.model_copy(update=g.portfolio_update())
    assert funding_gap(pf).short_term_gap_usd["point"] == pytest.approx(g.short_term_gap_usd["point"])


# ------------------------------------------------------------------------------------------- bad input
def test_delivery_above_contracted_is_rejected() -> None:
    d = _synthetic_deliveries()
    d.loc[0, "mw_delivered"] = "101"
    with pytest.raises(InputError, match="at most the contracted"):
        load_deliveries(d, load_contracts(_synthetic_contracts()))


def test_delivery_before_announcement_is_rejected() -> None:
    d = _synthetic_deliveries()
    d.loc[0, "as_of"] = "2024-12-31"
    with pytest.raises(InputError, match="on or after"):
        load_deliveries(d, load_contracts(_synthetic_contracts()))


def test_unknown_contract_and_bad_dates_are_rejected() -> None:
    con = load_contracts(_synthetic_contracts())
    d = _synthetic_deliveries()
    d.loc[0, "contract_id"] = "Z"
    with pytest.raises(InputError, match="contract_id"):
        load_deliveries(d, con)
    c = _synthetic_contracts()
    c.loc[0, "announced_date"] = "01/02/2025"
    with pytest.raises(InputError, match="announced_date"):
        load_contracts(c)
    c = _synthetic_contracts()
    c.loc[1, "contract_id"] = "A"
    with pytest.raises(InputError, match="unique"):
        load_contracts(c)
