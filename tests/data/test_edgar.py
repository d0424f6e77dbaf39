"""SEC EDGAR connector against a local stand-in (127.0.0.1 only, never the internet).

Covers: paging through submissions (``filings.files``), company facts -> ``miners`` (latest filing wins,
durations and pre-genesis periods dropped), production-update links with exhibit 99.1, the User-Agent rule
(refused without one; the stand-in answers 403 to an undeclared client), 429 + Retry-After, truncated JSON
(store unchanged), a company without crypto tags (missing, not zero), the client-side rate limit measured from
the server's request times, the wide holdings frame and the CLI.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from edgar_server import EdgarStandIn, Filing, company_facts, fact
from servers import Reply
from typer.testing import CliRunner

from hashrisk.cli.main import app
from hashrisk.data import edgar
from hashrisk.data.http import HttpOptions, RetryPolicy
from hashrisk.data.schema import validate_frame
from hashrisk.data.store import Store
from hashrisk.data.sync import fetch
from hashrisk.errors import DataError, InputError

AGENT = "Hashrisk Tests tests@example.org"
MARA, CANG = 1507605, 1725123
CRYPTO = [c.qname for c in edgar.CONCEPTS if c.group == "crypto"]


def _mara_concepts() -> dict[str, Any]:
    q3 = ("0001507605-25-000028", "10-Q", "2025-11-04", 2025, "Q3")
    k24 = ("0001507605-25-000006", "10-K", "2025-02-27", 2024, "FY")
    q1 = ("0001628280-24-022243", "10-Q", "2024-05-10", 2024, "Q1")
    return {
        "us-gaap": {
            "CryptoAssetNumberOfUnits": {
                "BTC": [fact("2024-12-31", 44_893, *k24), fact("2025-09-30", 52_850, *q3)],
            },
            "CryptoAssetFairValue": {
                "USD": [
                    fact("2024-12-31", 4_200_000_000, *k24),
                    fact("2025-09-30", 6_032_190_000, *q3),
                ]
            },
            "CryptoAssetCost": {"USD": [fact("2025-09-30", 4_645_104_000, *q3)]},
            "CashAndCashEquivalentsAtCarryingValue": {
                "USD": [
                    # a 10-Q value, then the same period end as the 10-K's comparative: the later filing wins
                    fact("2023-12-31", 357_000_000, *q1),
                    fact("2023-12-31", 357_313_000, *k24),
                    fact("2024-12-31", 391_771_000, *k24, frame="CY2024Q4I"),
                    fact("2008-12-31", 1_000, *k24),  # before the genesis block: dropped
                ]
            },
            "LongTermDebt": {"USD": [fact("2025-09-30", 3_300_000_000, *q3)]},
            # a duration fact of an instant concept list entry is not a balance: dropped
            "ConvertibleNotesPayable": {"USD": [fact("2025-09-30", 1.0, *q3, start="2025-07-01")]},
        },
        "dei": {"EntityCommonStockSharesOutstanding": {"shares": [fact("2025-10-30", 3.7e8, *q3)]}},
    }


PRODUCTION = "0001507605-25-000031"


def _serve(srv: EdgarStandIn) -> None:
    recent = [
        Filing(PRODUCTION, "2025-11-04", "8-K", "mara-20251104.htm", "7.01,9.01", "Production update"),
        Filing("0001507605-25-000028", "2025-11-04", "10-Q", "mara-20250930.htm"),
        Filing("0001507605-25-000020", "2025-10-03", "8-K", "mara-20251003.htm", "8.01,9.01"),
        Filing("0001507605-25-000019", "2025-09-20", "8-K", "mara-20250920.htm", "5.02"),  # not a candidate
    ]
    old = [Filing("0001493152-19-000123", "2019-03-01", "8-K", "form8-k.htm", "7.01,9.01")]
    srv.add_company(
        MARA,
        "MARA Holdings, Inc.",
        "MARA",
        recent,
        {"CIK0001507605-submissions-001.json": old},
        _mara_concepts(),
        {
            PRODUCTION: ["mara-20251104.htm", "ex99-1.htm", "R1.htm"],
            "0001507605-25-000020": ["mara-20251003.htm"],  # no exhibit 99.1 listed
            "0001493152-19-000123": ["form8-k.htm", "ex99_1.htm"],
        },
    )
    cash = {"USD": [fact("2024-12-31", 90_431_392, "0001104659-25-027000", "20-F", "2025-03-27", 2024, "FY")]}
    srv.add_company(
        CANG,
        "Cango Inc.",
        "CANG",
        [Filing("0001104659-25-117521", "2025-12-02", "6-K", "tm2532465d1_6k.htm")],
        {},
        {"us-gaap": {"CashAndCashEquivalentsAtCarryingValue": cash}},
        {"0001104659-25-117521": ["tm2532465d1_6k.htm", "tm2532465d1_ex99-1.htm"]},
    )


@pytest.fixture()
def sec() -> Iterator[EdgarStandIn]:
    with EdgarStandIn() as srv:
        _serve(srv)
        yield srv


def _miners(home: Path) -> pd.DataFrame:
    with Store(home, read_only=True) as store:
        return store.con.execute("SELECT * FROM miners ORDER BY fact").df()


def test_fetch_writes_facts_lists_links_and_paces_requests(sec: EdgarStandIn, tmp_path: Path) -> None:
    report = fetch("edgar", base_url=sec.url, home=tmp_path, companies=["MARA", "CANG"], user_agent=AGENT)
    rows = _miners(tmp_path)
    assert report["miners"]["rows"] == len(rows) == report["miners"]["changed"] == 9
    mara = rows.loc[rows["cik"] == MARA]
    mara = mara.assign(end=mara["period_end"].astype(str)).set_index(["concept", "end"])
    cash = mara.loc[("us-gaap:CashAndCashEquivalentsAtCarryingValue", "2023-12-31")]
    assert cash["value"] == 357_313_000 and cash["form"] == "10-K" and str(cash["filed"])[:10] == "2025-02-27"
    btc = mara.loc[("us-gaap:CryptoAssetNumberOfUnits", "2025-09-30")]
    assert btc["value"] == 52_850 and btc["unit"] == "BTC" and btc["accession"] == "0001507605-25-000028"
    assert btc["fiscal_period"] == "Q3" and btc["fiscal_year"] == 2025 and btc["source"] == "edgar"
    assert "2008-12-31" not in set(rows["period_end"].astype(str))
    assert not rows["concept"].eq("us-gaap:ConvertibleNotesPayable").any()  # duration only
    assert not rows["concept"].str.startswith("dei:").any()

    by_ticker = {c["ticker"]: c for c in report["companies"]}
    m = by_ticker["MARA"]
    assert m["filings"] == 5 and m["submission_pages"] == 2  # recent + one extra page, all read
    assert "/submissions/CIK0001507605-submissions-001.json" in sec.paths()
    assert "us-gaap:CryptoAssetNumberOfUnits" in m["found"]
    assert "us-gaap:ConvertibleNotesPayable" in m["missing"] and m["skipped"]["durations"] == 1
    links = m["links"]
    assert [(x["form"], x["filed"]) for x in links] == [
        ("8-K", "2025-11-04"),
        ("8-K", "2025-10-03"),
        ("8-K", "2019-03-01"),
    ]
    folder = f"{sec.url}/Archives/edgar/data/1507605/000150760525000031"
    assert links[0]["exhibit_99_1_url"] == f"{folder}/ex99-1.htm"
    assert links[0]["primary_document_url"] == f"{folder}/mara-20251104.htm"
    assert links[1]["exhibit_99_1_url"] is None and links[0]["items"] == "7.01,9.01"

    # a company without crypto tags: reported missing, no rows, never a zero
    c = by_ticker["CANG"]
    assert set(CRYPTO) <= set(c["missing"]) and c["found"] == [
        "us-gaap:CashAndCashEquivalentsAtCarryingValue"
    ]
    assert not rows.loc[rows["cik"] == CANG, "concept"].isin(CRYPTO).any()
    assert c["links"][0]["exhibit_99_1_url"].endswith("/tm2532465d1_ex99-1.htm")

    # every request declared the User-Agent; pacing seen by the server: any 9 requests span >= 1 s
    assert {agent for _, _, agent in sec.log} == {AGENT}
    times = sec.times()
    n, period = edgar.SEC_RATE_LIMIT
    assert n <= 10 and period >= 1.0 and len(times) > n
    assert times == sorted(times)
    spans = [b - a for a, b in zip(times, times[n:], strict=False)]
    assert min(spans) >= period - 0.05, spans

    # idempotent: the same facts again change nothing
    again = fetch("edgar", base_url=sec.url, home=tmp_path, companies=["MARA", "CANG"], user_agent=AGENT)
    assert again["miners"]["changed"] == 0
    pd.testing.assert_frame_equal(_miners(tmp_path), rows)


def test_holdings_missing_is_nan_not_zero(sec: EdgarStandIn) -> None:
    rows, _ = edgar.get_edgar(
        ["MARA", "1725123"], user_agent=AGENT, base_url=sec.url, options=HttpOptions(rate_limit=(100, 1.0))
    )
    wide = edgar.edgar_holdings(rows)
    mara = wide.loc[(MARA, pd.Timestamp("2025-09-30"))]
    assert mara["btc_units"] == 52_850 and mara["crypto_fair_value_usd"] == 6_032_190_000
    assert mara["debt_usd"] == 3_300_000_000 and mara["debt_usd_concept"] == "us-gaap:LongTermDebt"
    assert np.isnan(mara["cash_usd"]) and pd.isna(mara["cash_usd_concept"])
    cango = wide.loc[(CANG, pd.Timestamp("2024-12-31"))]
    assert cango["cash_usd"] == 90_431_392
    assert np.isnan(cango["btc_units"]) and np.isnan(cango["crypto_fair_value_usd"])


def test_holdings_rules() -> None:
    def row(concept: str, value: float, unit: str = "USD", end: str = "2025-06-30") -> dict[str, Any]:
        return {"cik": 1, "concept": concept, "period_end": end, "unit": unit, "value": value}

    rows = pd.DataFrame(
        [
            row("us-gaap:CryptoAssetFairValueCurrent", 10.0),
            row("us-gaap:CryptoAssetFairValueNoncurrent", 5.0),
            row("us-gaap:LongTermDebtCurrent", 1.0),
            row("us-gaap:LongTermDebtNoncurrent", 2.0),
            row("us-gaap:CashAndCashEquivalentsAtCarryingValue", 7.0, unit="CNY"),  # not USD: left out
            row("ifrs-full:CashAndCashEquivalents", 3.0, end="2025-03-31"),
            row("us-gaap:CryptoAssetNumberOfUnits", 100.0, unit="Bitcoin", end="2025-03-31"),
        ]
    )
    wide = edgar.edgar_holdings(rows)
    june = wide.loc[(1, pd.Timestamp("2025-06-30"))]
    assert june["crypto_fair_value_usd"] == 15.0 and june["debt_usd"] == 3.0
    assert june["debt_usd_concept"] == "us-gaap:LongTermDebtCurrent+LongTermDebtNoncurrent"
    assert np.isnan(june["cash_usd"]) and np.isnan(june["btc_units"])
    march = wide.loc[(1, pd.Timestamp("2025-03-31"))]
    assert march["cash_usd"] == 3.0 and march["cash_usd_concept"] == "ifrs-full:CashAndCashEquivalents"
    assert march["btc_units"] == 100.0
    assert edgar.edgar_holdings(rows.iloc[0:0]).empty


def test_user_agent_is_required_and_never_empty(
    sec: EdgarStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(edgar.USER_AGENT_ENV, raising=False)
    for bad in (None, "", "   ", "python-httpx/0.27", "jane@example.com"):
        with pytest.raises(InputError, match="--user-agent"):
            edgar.check_user_agent(bad)
    with pytest.raises(InputError, match="--user-agent"):
        fetch("edgar", base_url=sec.url, home=tmp_path, companies=["MARA"])
    assert sec.log == []  # refused before any request
    monkeypatch.setenv(edgar.USER_AGENT_ENV, AGENT)
    assert edgar.check_user_agent(None) == AGENT

    # the stand-in, like sec.gov, answers 403 to a client that does not declare itself
    with HttpOptions().make(sec.url, "edgar") as anonymous, pytest.raises(DataError, match="403"):
        anonymous.get_json("/submissions/CIK0001507605.json")


def test_429_with_retry_after_is_retried(sec: EdgarStandIn, tmp_path: Path) -> None:
    path = "/api/xbrl/companyfacts/CIK0001725123.json"
    good = sec.server.routes[path]
    assert callable(good)
    busy = Reply(429, {"message": "Request rate threshold exceeded"}, {"Retry-After": "2"})
    calls: list[int] = []

    def once_busy(request: Any) -> Reply:
        calls.append(1)
        return busy if len(calls) == 1 else good(request)

    sec.server.route(path, once_busy)
    sleeps: list[float] = []
    options = HttpOptions(sleep=sleeps.append, rate_limit=(1000, 1.0), retry=RetryPolicy(jitter=0.0))
    rows, meta = edgar.get_edgar(["CANG"], user_agent=AGENT, base_url=sec.url, options=options)
    assert len(calls) == 2 and 2.0 in sleeps and meta["retries"] == 1
    assert len(rows) == 1


def test_truncated_json_raises_and_leaves_store_unchanged(sec: EdgarStandIn, tmp_path: Path) -> None:
    fetch("edgar", base_url=sec.url, home=tmp_path, companies=["MARA"], user_agent=AGENT)
    before = _miners(tmp_path)
    path = "/api/xbrl/companyfacts/CIK0001507605.json"
    whole = json.dumps(company_facts(MARA, "MARA Holdings, Inc.", _mara_concepts())).encode()
    sec.route(path, Reply(200, whole[: len(whole) // 2]))
    with pytest.raises(DataError, match=r"not valid JSON.*truncated"):
        fetch("edgar", base_url=sec.url, home=tmp_path, companies=["MARA"], user_agent=AGENT)
    pd.testing.assert_frame_equal(_miners(tmp_path), before)


def test_companies_and_rows_validate() -> None:
    table = edgar.load_ciks()
    assert table["ticker"].is_unique and table["cik"].is_unique and len(table) >= 10
    assert all(
        u.endswith(f"CIK{c:010d}.json") for u, c in zip(table["submissions_url"], table["cik"], strict=True)
    )
    assert table["evidence_url"].str.startswith("http").all()
    assert edgar.resolve_companies(["mara", "CIK0001725123", "999"])[0] == ("MARA", MARA)
    assert edgar.resolve_companies(["999"]) == [(None, 999)]
    with pytest.raises(InputError, match="--company"):
        edgar.resolve_companies(["NOPE"])
    assert edgar.fact_id(MARA, "us-gaap:LongTermDebt", "2025-09-30", "USD") == (
        "0001507605:us-gaap:LongTermDebt:2025-09-30:USD"
    )
    rows, _ = edgar.parse_company_facts(company_facts(MARA, "x", _mara_concepts()), "stand-in", MARA)
    clean = validate_frame(rows, "miners", "edgar")
    assert len(clean) == 8 and clean["fact"].is_unique


def test_cli_fetch_edgar_json_and_table(sec: EdgarStandIn, tmp_path: Path) -> None:
    runner = CliRunner()
    args = [
        "data",
        "fetch",
        "--source",
        "edgar",
        "--company",
        "CANG",
        "--base-url",
        sec.url,
        "--home",
        str(tmp_path),
    ]
    result = runner.invoke(app, [*args, "--user-agent", AGENT, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["companies"][0]["cik"] == CANG and report["miners"]["rows"] == 1
    assert report["companies"][0]["links"][0]["form"] == "6-K"
    shown = runner.invoke(app, [*args, "--user-agent", AGENT])
    assert shown.exit_code == 0, shown.output
    assert "missing" in shown.output and "6-K" in shown.output and "miners" in shown.output
    refused = runner.invoke(app, args, env={edgar.USER_AGENT_ENV: ""})
    assert refused.exit_code == 2 and "--user-agent" in refused.output
