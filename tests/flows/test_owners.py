"""Listed miners as simulator owners: the packaged YAML cannot drift from the datasets; the builder by hand."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pandas as pd
import pytest
import yaml

from hashrisk.errors import InputError
from hashrisk.flows.hpc_contracts import CONTRACT_COLUMNS, load_contracts, load_deliveries
from hashrisk.flows.listed import METRIC_UNITS, parse_listed_text
from hashrisk.flows.owners import (
    DEBT_COLUMNS,
    HPC_CAPEX_USD_PER_IT_MW,
    SNAPSHOT_DAY,
    default_owners_yaml,
    hpc_flows,
    listed_owner_specs,
    load_listed_debt,
)
from hashrisk.sim.scenario import OwnerSpec

HEADER = "company,ticker,period,metric,value,unit,kind,note,source_title,source_date,source_url\n"
URL = "https://www.sec.gov/Archives/example.htm"
DAY = dt.date(2026, 6, 1)


def toy(lines: list[str]) -> pd.DataFrame:
    return parse_listed_text("# toy\n" + HEADER + "\n".join(lines) + "\n")


def line(ticker: str, period: str, metric: str, value: float, title: str = "Toy release") -> str:
    return f"Toy {ticker},{ticker},{period},{metric},{value},{METRIC_UNITS[metric]},reported,,{title},2026-01-05,{URL}"


def debt_frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    base = {c: "" for c in DEBT_COLUMNS}
    base.update(source_title="Toy 10-K", source_date="2026-01-10", source_url=URL, note="")
    return pd.DataFrame([{**base, **r} for r in rows], columns=list(DEBT_COLUMNS), dtype=str)


def no_contracts() -> tuple[pd.DataFrame, pd.DataFrame]:
    con = load_contracts(pd.DataFrame(columns=list(CONTRACT_COLUMNS), dtype=str))
    return con, load_deliveries(
        pd.DataFrame(
            columns=["contract_id", "as_of", "mw_delivered", "source_title", "source_date"], dtype=str
        ),
        con,
    )


def build(
    lines: list[str], debt: pd.DataFrame | None = None, as_of: dt.date = DAY
) -> dict[str, dict[str, object]]:
    con, dlv = no_contracts()
    res = listed_owner_specs(
        as_of, toy(lines), debt if debt is not None else debt_frame([]), con, dlv, tickers=("AAA", "BBB")
    )
    res.validated()
    return {str(o["name"]): o for o in res.owners} | {
        f"left:{k}": {"why": v} for k, v in res.left_out.items()
    }


# ------------------------------------------------------------------------------------------- packaged
def test_packaged_yaml_is_what_the_builder_gives_now() -> None:
    text = resources.files("hashrisk.sim").joinpath("data/owners_default.yaml").read_text("utf-8")
    assert text == default_owners_yaml(SNAPSHOT_DAY), "rerun scripts/build_default_owners.py"
    owners = yaml.safe_load(text)["owners"]
    assert owners, "the default has at least one owner"
    for mapping in owners:
        spec = OwnerSpec.model_validate(mapping)
        for fld in (
            "hashrate_ths",
            "efficiency_j_per_th",
            "power_price_usd_per_kwh",
            "btc",
            "cash_usd",
            "share_sold",
            "cash_floor_usd",
            "other_costs_usd_per_day",
            "policy",
            "debt",
            "flows",
        ):
            assert spec.sources[fld].startswith(("fact", "assumption:")), (spec.name, fld)


def test_packaged_debt_rows_are_cited_and_dated() -> None:
    debt = load_listed_debt()
    assert len(debt) >= 1
    assert all(isinstance(d, dt.date) for d in debt["source_date"])
    assert (debt["principal_usd"] >= 0).all()


DEBT_ROW = {
    "company": "A",
    "ticker": "AAA",
    "instrument": "n",
    "as_of": "2026-01-01",
    "principal_usd": "1",
    "coupon_rate": "0",
}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"source_date": ""}, r"listed_debt\[line 1\]\.source_date"),
        ({"coupon_rate": "5"}, r"line 1\]\.coupon_rate: got '5'"),
        ({"source_url": "https://secwatch.observer/x"}, r"source_url"),
    ],
)
def test_debt_loader_names_line_field_and_value(bad: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_listed_debt(debt_frame([{**DEBT_ROW, **bad}]))


# ------------------------------------------------------------------------------------------- by hand
def test_last_period_on_or_before_as_of_is_used() -> None:
    lines = [
        line("AAA", "2025-01", "energized_hashrate_ehs", 10, "Jan"),
        line("AAA", "2025-03", "energized_hashrate_ehs", 12, "Mar"),
        line("AAA", "2025-07", "energized_hashrate_ehs", 15, "Jul"),
        line("AAA", "2025-01", "btc_held", 100, "Jan"),
        line("AAA", "2025-02", "btc_held", 200, "Feb"),
    ]
    a = build(lines, as_of=dt.date(2025, 4, 30))["Toy AAA"]
    assert a["hashrate_ths"] == pytest.approx(12e6)  # March; July ends after as_of
    assert a["btc"] == 200
    src = a["sources"]
    assert isinstance(src, dict)
    assert "Mar" in src["hashrate_ths"] and "(period 2025-03)" in src["hashrate_ths"]
    assert "Feb" in src["btc"]


def test_hashrate_preference_energized_then_installed_then_average() -> None:
    lines = [
        line("AAA", "2025-03", "installed_hashrate_ehs", 20),
        line("AAA", "2025-03", "energized_hashrate_ehs", 18),
        line("AAA", "2025-03", "avg_operating_hashrate_ehs", 15),
        line("BBB", "2025-03", "avg_operating_hashrate_ehs", 5),
    ]
    out = build(lines)
    assert out["Toy AAA"]["hashrate_ths"] == pytest.approx(18e6)
    assert out["Toy BBB"]["hashrate_ths"] == pytest.approx(5e6)
    assert "average operating" in str(out["Toy BBB"]["sources"])


def test_missing_values_are_labelled_assumptions_never_silent_zeros() -> None:
    out = build([line("AAA", "2025-03", "energized_hashrate_ehs", 10), line("BBB", "2025-03", "btc_held", 5)])
    a = out["Toy AAA"]
    src = a["sources"]
    assert isinstance(src, dict)
    assert a["cash_usd"] == a["cash_floor_usd"] and src["cash_usd"].startswith("assumption: not disclosed")
    assert a["btc"] == 0 and src["btc"] == "assumption: 0, not disclosed in the dataset"
    assert src["efficiency_j_per_th"].startswith("assumption: not in the dataset; the default network fleet")
    assert a["efficiency_j_per_th"] == pytest.approx(18.95, abs=0.01)
    assert src["power_price_usd_per_kwh"].startswith("assumption:")
    assert a["share_sold"] == 0.8 and src["share_sold"].startswith("assumption: 0.8")
    assert src["debt"].startswith("assumption: none") and src["flows"].startswith("assumption: none")
    # no hashrate at all: left out, with the reason
    assert "left:Toy BBB" in out and "no hashrate" in str(out["left:Toy BBB"]["why"])
    assert "Toy BBB" not in out


def test_costs_floor_and_share_sold_by_hand() -> None:
    lines = [
        line("AAA", "2024-04", "energized_hashrate_ehs", 10),
        line("AAA", "2024-04", "fleet_efficiency_j_per_th", 20),
        line("AAA", "2024-04", "power_cost_usd_per_kwh", 0.05),
        line("AAA", "2024-04", "btc_produced", 100),
        line("AAA", "2024-04", "btc_sold", 30),
        line("AAA", "2024-05", "btc_produced", 100),
        line("AAA", "2024-05", "btc_sold", 50),
        line("AAA", "2024Q2", "btc_produced", 300),  # overlaps the months: skipped
        line("AAA", "2024Q2", "btc_sold", 300),
        line("AAA", "2023-12", "btc_produced", 100),  # outside 2024-2025
        line("AAA", "2023-12", "btc_sold", 100),
    ]
    a = build(lines)["Toy AAA"]
    power = 10e6 * 20 * 1.10 * 24 / 1000 * 0.05  # 264,000 USD/day
    assert a["other_costs_usd_per_day"] == pytest.approx(0.10 * power)
    assert a["cash_floor_usd"] == pytest.approx(30 * power)
    assert a["share_sold"] == pytest.approx(80 / 200)
    assert "2024-04, 2024-05" in str(a["sources"])


def test_debt_past_maturity_or_repaid_is_dropped_latest_row_used() -> None:
    debt = debt_frame(
        [
            {
                "company": "Toy AAA",
                "ticker": "AAA",
                "instrument": "old notes",
                "as_of": "2024-01-01",
                "principal_usd": "100",
                "coupon_rate": "0.05",
                "maturity_date": "2026-05-31",
            },
            {
                "company": "Toy AAA",
                "ticker": "AAA",
                "instrument": "new notes",
                "as_of": "2025-01-01",
                "principal_usd": "500",
                "coupon_rate": "0.03",
                "maturity_date": "2030-01-01",
            },
            {
                "company": "Toy AAA",
                "ticker": "AAA",
                "instrument": "new notes",
                "as_of": "2025-06-30",
                "principal_usd": "400",
                "coupon_rate": "0.03",
                "maturity_date": "2030-01-01",
            },
            {
                "company": "Toy AAA",
                "ticker": "AAA",
                "instrument": "converted",
                "as_of": "2025-01-01",
                "principal_usd": "70",
                "coupon_rate": "0.085",
            },
            {
                "company": "Toy AAA",
                "ticker": "AAA",
                "instrument": "converted",
                "as_of": "2025-09-19",
                "principal_usd": "0",
                "coupon_rate": "0.085",
            },
            {
                "company": "Toy AAA",
                "ticker": "AAA",
                "instrument": "future notes",
                "as_of": "2026-07-01",
                "principal_usd": "900",
                "coupon_rate": "0",
            },
        ]
    )
    a = build([line("AAA", "2025-03", "energized_hashrate_ehs", 10)], load_listed_debt(debt))["Toy AAA"]
    debts = a["debt"]
    assert isinstance(debts, list)
    assert [(d["name"], d["principal_usd"], d["annual_rate"]) for d in debts] == [("new notes", 400.0, 0.03)]
    assert debts[0]["maturity"] == dt.date(2030, 1, 1)
    assert debts[0]["source"].startswith("fact: Toy 10-K, 2026-01-10")


def _contract(**kw: str) -> dict[str, str]:
    row = {c: "" for c in CONTRACT_COLUMNS}
    row.update(
        contract_id="C1",
        company="Toy AAA",
        ticker="AAA",
        announced_date="2025-01-01",
        it_mw="100",
        source_title="Toy lease",
        source_date="2025-01-01",
        source_url=URL,
    )
    row.update(kw)
    return row


def test_capex_spread_and_lease_revenue_by_hand() -> None:
    con = load_contracts(
        pd.DataFrame(
            [_contract(contract_value_usd="7.3e9", term_years="10", planned_full_date="2026-12-31")],
            dtype=str,
        )
    )
    dlv = load_deliveries(
        pd.DataFrame(
            [
                {
                    "contract_id": "C1",
                    "as_of": "2026-03-31",
                    "mw_delivered": "40",
                    "source_title": "Toy RFS",
                    "source_date": "2026-03-31",
                }
            ],
            dtype=str,
        ),
        con,
    )
    flows = hpc_flows("AAA", DAY, con, dlv)
    capex, rev_now, rev_later = flows
    # capex: 60 MW undelivered x $9M (assumption), spread 2026-06-01 .. 2026-12-31
    assert capex["usd"] == pytest.approx(-60 * HPC_CAPEX_USD_PER_IT_MW)
    assert (capex["start"], capex["end"]) == (DAY, dt.date(2026, 12, 31))
    assert str(capex["source"]).startswith("assumption: 9e+06 USD per critical-IT MW")
    per_day = 7.3e9 / 10 / 365  # 2,000,000 USD/day for the whole contract
    # delivered 40 MW from as_of to the end of its 10-year term counted from delivery (2026-03-31 + 3650 - 1)
    end_now = dt.date(2026, 3, 31) + dt.timedelta(days=3649)
    assert (rev_now["start"], rev_now["end"]) == (DAY, end_now)
    assert rev_now["usd"] == pytest.approx(per_day * 0.4 * ((end_now - DAY).days + 1))
    # the 60 MW left start the day after the planned date, for 3650 days
    assert rev_later["start"] == dt.date(2027, 1, 1)
    assert rev_later["end"] == dt.date(2027, 1, 1) + dt.timedelta(days=3649)
    assert rev_later["usd"] == pytest.approx(per_day * 0.6 * 3650)
    # owners validate them
    for f in flows:
        assert f["source"]


def test_capex_total_given_and_no_planned_date() -> None:
    con = load_contracts(pd.DataFrame([_contract(capex_total_usd="500e6")], dtype=str))
    dlv = load_deliveries(
        pd.DataFrame(
            columns=["contract_id", "as_of", "mw_delivered", "source_title", "source_date"], dtype=str
        ),
        con,
    )
    (capex,) = hpc_flows("AAA", DAY, con, dlv)  # no value/term: no revenue flow
    assert capex["usd"] == pytest.approx(-500e6)  # nothing delivered (undisclosed counted as 0: assumption)
    assert capex["end"] == DAY + dt.timedelta(days=365)
    assert "as_of + 365 days" in str(capex["source"]) and "assumption: no delivery disclosed" in str(
        capex["source"]
    )
    assert hpc_flows("AAA", dt.date(2024, 12, 31), con, dlv) == []  # announced after as_of


def test_capex_guidance_midpoint_when_no_total() -> None:
    con = load_contracts(
        pd.DataFrame(
            [
                _contract(
                    capex_usd_per_it_mw_low="8e6",
                    capex_usd_per_it_mw_high="12e6",
                    planned_full_date="2025-06-30",
                )
            ],
            dtype=str,
        )
    )
    dlv = load_deliveries(
        pd.DataFrame(
            columns=["contract_id", "as_of", "mw_delivered", "source_title", "source_date"], dtype=str
        ),
        con,
    )
    (capex,) = hpc_flows("AAA", DAY, con, dlv)
    assert capex["usd"] == pytest.approx(-100 * 10e6)  # company's midpoint, not the $9M assumption
    assert str(capex["source"]).startswith("fact: the company's capex guidance midpoint")
    assert capex["end"] == DAY + dt.timedelta(days=365)  # planned date already past
