"""Listed miners: schema and loaders (YAML, CSV), bad input naming field and row, stress arithmetic by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.errors import InputError
from hashrisk.flows.miners import (
    DAYS_PER_MONTH,
    REQUIRED_COLUMNS,
    load_miners,
    miner_stress,
    miners_from_csv_text,
    miners_from_dict,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SNAP = NetworkSnapshot()


def row(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "company": "Toy",
        "period": "2026Q1",
        "btc_produced": 900.0,
        "btc_held": 1000.0,
        "btc_sold": 900.0,
        "hashrate_ths": 1.0e7,
        "fleet_efficiency_j_per_th": 20.0,
        "power_cost_usd_per_kwh": 0.05,
        "cash_usd": 1.0e8,
        "debt_usd": 5.0e8,
        "hpc_revenue_usd": 0.0,
        "source": "test",
        "source_date": "2026-04-30",
    }
    base.update(over)
    return base


def _production_btc_per_day(hashrate_ths: float) -> float:
    # expected blocks of this hashrate per day x (subsidy + fees), written out
    return hashrate_ths * 1e12 * 86_400 / (SNAP.difficulty * 2**32) * (3.125 + SNAP.fees_btc_per_block)


def test_stress_by_hand() -> None:
    data = miners_from_dict(
        {"rows": [row(other_cash_opex_usd=3.0e7, interest_usd=6.0e6, hpc_revenue_usd=3.0e6, cash_usd=9.0e7)]}
    )
    price = 60_000.0
    r = miner_stress(data, SNAP, price).to_frame().loc["Toy"]
    prod = _production_btc_per_day(1.0e7) * DAYS_PER_MONTH
    # 20 J/TH x 1e7 TH/s = 200 MW -> 200 x 24 x 1,000 kWh/day at $0.05
    power = 200 * 24 * 1000 * 0.05 * DAYS_PER_MONTH
    need = power + (3.0e7 + 6.0e6) / 3 - 3.0e6 / 3
    assert r["production_btc_per_month"] == pytest.approx(prod)
    assert r["power_usd_per_month"] == pytest.approx(power)
    assert r["cash_need_usd_per_month"] == pytest.approx(need)
    assert r["btc_to_sell_per_month"] == pytest.approx(need / price)
    assert r["treasury_drawdown_btc_per_month"] == pytest.approx(max(need / price - prod, 0))
    burn = need - prod * price
    assert burn > 0
    assert r["net_burn_usd_per_month"] == pytest.approx(burn)
    assert r["runway_months"] == pytest.approx((9.0e7 + 1000 * price) / burn)
    assert r["runway_cash_only_months"] == pytest.approx(9.0e7 / burn)
    # cash cost per BTC (power only): Hayes' formula e x p x difficulty x 2^32 / (reward x 3.6e18)
    hayes = 20 * 0.05 * SNAP.difficulty * 2**32 / ((3.125 + SNAP.fees_btc_per_block) * 3.6e18)
    assert r["cash_cost_power_usd_per_btc"] == pytest.approx(hayes)
    assert r["reported_share_sold"] == pytest.approx(1.0)


def test_no_burn_gives_infinite_runway_and_partial_selling() -> None:
    data = miners_from_dict({"rows": [row(power_cost_usd_per_kwh=0.02)]})
    r = miner_stress(data, SNAP).to_frame().loc["Toy"]
    assert r["net_burn_usd_per_month"] == 0 and r["runway_months"] == float("inf")
    assert 0 < r["share_of_production_to_sell"] < 1
    assert r["treasury_drawdown_btc_per_month"] == 0


def test_aggregates_sum_companies_and_use_latest_periods() -> None:
    rows = [
        row(company="A", period="2025Q4", btc_sold=100.0),
        row(company="A", period="2026Q1", btc_sold=200.0, hashrate_ths=2.0e7),
        row(company="B", period="2026Q1", btc_sold=300.0),
    ]
    data = miners_from_dict(
        {
            "rows": rows,
            "reported_aggregates": [
                {"period": "2026Q1", "metric": "btc_sold", "value": 450, "qualifier": "over", "source": "t"},
                {"period": "2026Q1", "metric": "btc_sold", "value": 1, "companies": ["Z"], "source": "t"},
            ],
        }
    )
    s = miner_stress(data, SNAP)
    assert list(s.companies["period"]) == ["2026Q1", "2026Q1"]
    assert s.aggregates["production_btc_per_month"] == pytest.approx(
        _production_btc_per_day(3.0e7) * DAYS_PER_MONTH
    )
    assert s.aggregates["by_period"]["2026Q1"]["btc_sold"] == 500
    assert s.reported[0]["file_total"] == 500 and s.reported[0]["file_consistent"] is True
    assert s.reported[1]["file_total"] is None and s.reported[1]["file_consistent"] is None


def test_example_files_are_templates_and_agree() -> None:
    y = load_miners(EXAMPLES / "miners_q1_2026.yaml")
    c = load_miners(EXAMPLES / "miners_q1_2026.csv")
    assert y.template and c.template
    sy, sc = miner_stress(y, SNAP), miner_stress(c, SNAP)
    cols = ["btc_to_sell_per_month", "runway_months", "cash_cost_all_usd_per_btc"]
    assert sy.companies[cols].equals(sc.companies[cols])
    # the one published figure in the template is the desk note's claim, with its source
    claim = y.reported_aggregates[0]
    assert claim.value == 32_000 and claim.qualifier == "over" and "2026-06-22" in claim.source
    assert all("TEMPLATE" in r.source for r in y.rows)


# ------------------------------------------------------------------------------------------- bad input
def test_negative_holdings_name_field_and_row() -> None:
    with pytest.raises(InputError) as exc:
        miners_from_dict({"rows": [row(), row(company="B", btc_held=-5.0)]})
    assert exc.value.field == "rows.1.btc_held" and exc.value.value == -5.0


def test_periods_out_of_order_name_the_row() -> None:
    rows = [row(period="2026Q1"), row(company="B", period="2025Q1"), row(period="2025Q4")]
    with pytest.raises(InputError) as exc:
        miners_from_dict({"rows": rows})
    assert exc.value.field == "rows.2.period" and "2026Q1" in str(exc.value) and "Toy" in str(exc.value)
    with pytest.raises(InputError) as exc:
        miners_from_dict({"rows": [row(period="2026Q1"), row(period="2026Q1")]})
    assert exc.value.field == "rows.1.period"


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"period": "Q1 2026"}, "rows.0.period"),
        ({"hashrate_ths": 0}, "rows.0.hashrate_ths"),
        ({"source_date": "yesterday"}, "rows.0.source_date"),
        ({"pue": 0.9}, "rows.0.pue"),
        ({"btc_sold": "many"}, "rows.0.btc_sold"),
        ({"colour": "red"}, "rows.0.colour"),
    ],
)
def test_bad_values_name_the_field(over: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as exc:
        miners_from_dict({"rows": [row(**over)]})
    assert exc.value.field == field


def test_missing_field_in_yaml_row() -> None:
    r = row()
    del r["cash_usd"]
    with pytest.raises(InputError) as exc:
        miners_from_dict({"rows": [r]})
    assert exc.value.field == "rows.0.cash_usd" and "required" in str(exc.value).lower()


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    lines = [",".join(columns)] + [",".join(str(r[c]) for c in columns) for r in rows]
    return "\n".join(lines) + "\n"


def test_csv_missing_columns_are_named() -> None:
    cols = [c for c in REQUIRED_COLUMNS if c not in ("debt_usd", "source")]
    with pytest.raises(InputError) as exc:
        miners_from_csv_text(_csv([row()], cols))
    assert exc.value.field == "columns" and exc.value.value == "debt_usd, source"


def test_csv_bad_value_names_row_and_column() -> None:
    text = _csv([row(), row(company="B", btc_held=-1)], list(REQUIRED_COLUMNS))
    with pytest.raises(InputError) as exc:
        miners_from_csv_text(text, origin="m.csv")
    assert exc.value.field == "rows.1.btc_held" and "m.csv" in str(exc.value)


def test_csv_roundtrip_and_template_comment() -> None:
    text = "# template: true\n" + _csv([row()], list(REQUIRED_COLUMNS))
    data = miners_from_csv_text(text)
    assert data.template and data.rows[0].btc_held == 1000.0
    assert not miners_from_csv_text(_csv([row()], list(REQUIRED_COLUMNS))).template


def test_loader_rejects_unknown_extension_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        load_miners(tmp_path / "m.xlsx")
    assert exc.value.field == "miners"
    with pytest.raises(InputError):
        load_miners(tmp_path / "absent.yaml")


def test_monthly_and_yearly_periods_spread_costs_over_their_months() -> None:
    month = miners_from_dict({"rows": [row(period="2026-03", other_cash_opex_usd=1.0e6)]})
    year = miners_from_dict({"rows": [row(period="2026", other_cash_opex_usd=12.0e6)]})
    m = miner_stress(month, SNAP).to_frame().loc["Toy", "other_cash_usd_per_month"]
    y = miner_stress(year, SNAP).to_frame().loc["Toy", "other_cash_usd_per_month"]
    assert m == pytest.approx(1.0e6) and y == pytest.approx(1.0e6)
    with pytest.raises(InputError) as exc:  # a company switching frequency is out of order
        miners_from_dict({"rows": [row(period="2026Q1"), row(period="2026-06")]})
    assert exc.value.field == "rows.1.period"
