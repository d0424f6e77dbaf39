"""US DB pension rebalancing: hand computations, JPMorgan's published figures, bad input, provenance."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from hashrisk.errors import InputError
from hashrisk.flows.inputs import packaged_text
from hashrisk.flows.pensions import CASES, PensionInputs, pension_flows


def _one_segment(**over: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "label": "toy",
        "quarter_start": "2025-03-31",
        "as_of": "2025-06-30",
        "total_assets_usd": 100.0,
        "returns": {"equity": 0.10, "bonds": 0.0},
        "execution_ratio": 0.5,
        "segments": [
            {
                "name": "only",
                "kind": "corporate",
                "share_of_assets": 1.0,
                "allocation": {"equity": 0.6, "bonds": 0.4, "other": 0.0},
                "funded_ratio_start": 1.0,
                "discount_rate_start": 0.05,
                "discount_rate_end": 0.05,
                "liability_duration_years": 10.0,
            }
        ],
    }
    raw.update(over)
    return raw


def test_rebalancing_flow_by_hand() -> None:
    # 60/40 on 100: equities +10%, bonds 0 -> 66 + 40 = 106; target equity 0.6 x 106 = 63.6 -> sell 2.4
    r = pension_flows(PensionInputs.from_dict(_one_segment()))
    assert r.theoretical_imbalance_usd == pytest.approx(-2.4)
    assert r.expected_flow_usd == pytest.approx(-1.2)
    seg = r.segments[0]
    assert seg.equity_weight_in_sleeve_after == pytest.approx(66 / 106)
    assert seg.drift == pytest.approx(66 / 106 - 0.6)


def test_other_assets_are_held_aside_from_the_rebalancing() -> None:
    # 50/30/20: the sleeve is 80, equity weight in it 0.625; flow = 80 x 0.625 x 0.375 x (0 - 0.1) = -1.875
    raw = _one_segment()
    raw["segments"][0]["allocation"] = {"equity": 0.5, "bonds": 0.3, "other": 0.2}
    r = pension_flows(PensionInputs.from_dict(raw))
    assert r.theoretical_imbalance_usd == pytest.approx(-1.875)
    # implied spread of a published -3.75 is twice the 10 pp used
    assert r.implied_return_spread(-3.75) == pytest.approx(0.20)


def test_funded_status_by_hand_and_glide_path_derisking() -> None:
    raw = _one_segment(returns={"equity": 0.10, "bonds": 0.0, "other": 0.0})
    seg = raw["segments"][0]
    seg.update(
        funded_ratio_start=1.00,
        discount_rate_start=0.05,
        discount_rate_end=0.055,
        glide_path=[
            {"funded_ratio_at_least": 0.0, "equity": 0.6, "bonds": 0.4},
            {"funded_ratio_at_least": 1.05, "equity": 0.4, "bonds": 0.6},
        ],
    )
    r = pension_flows(PensionInputs.from_dict(raw))
    s = r.segments[0]
    t = 91 / 365.25  # 2025-03-31 to 2025-06-30
    l1 = 100 * 1.05**10 / 1.055 ** (10 - t)
    assert s.liabilities_end_usd == pytest.approx(l1)
    assert s.funded_ratio_end == pytest.approx(106 / l1)
    assert s.funded_ratio_end > 1.05  # assets +6%, liabilities down: crosses the 105% step
    assert s.derisking_flow_usd == pytest.approx(106 * (0.4 - 0.6))
    assert r.derisking_flow_usd == pytest.approx(s.derisking_flow_usd)
    # the de-risking is reported apart from the rebalancing imbalance
    assert r.theoretical_imbalance_usd == pytest.approx(-2.4)


def _jpm_by_hand(total: float, re: float, rb: float) -> float:
    """The JPMorgan-style imbalance written out from the packaged cases' stated inputs."""
    public = total * 0.6667 * (0.471 + 0.212)
    wp = 0.471 / (0.471 + 0.212)
    corporate = total * 0.3333 * (0.30 + 0.50)
    wc = 0.30 / 0.80
    return (public * wp * (1 - wp) + corporate * wc * (1 - wc)) * (rb - re)


def test_q3_2025_reproduces_jpmorgan_within_the_stated_band() -> None:
    inputs = PensionInputs.packaged("2025-q3")
    # the file's equity return is the S&P 500 price return between the cited closes, to 4 decimals
    assert inputs.returns.equity == pytest.approx(6532.04 / 6204.95 - 1, abs=5e-5)
    assert inputs.total_assets_usd == 9.4e12 and inputs.execution_ratio == pytest.approx(1 / 3, abs=1e-6)
    r = pension_flows(inputs)
    assert r.theoretical_imbalance_usd == pytest.approx(_jpm_by_hand(9.4e12, 0.0527, 0.0203), rel=1e-9)
    # JPMorgan (2025-09-11): theoretical -$55bn, expected -$18bn. Tolerance: the band from the file's stated
    # half-widths (rounding of $9.4tn, dividends left out of the equity return, the bond QTD proxy, allocation
    # and segment-share uncertainty); its half-width is at least the two return terms, K x (0.3 + 0.5) pp.
    lo, hi = r.band_usd
    k = r.sensitivity_usd_per_unit_spread
    assert hi - lo >= 2 * k * (0.003 + 0.005)
    assert lo <= -55e9 <= hi
    assert r.inputs.execution_ratio * lo <= -18e9 <= r.inputs.execution_ratio * hi
    cmp = r.comparison()
    assert cmp["theoretical_imbalance_usd"]["within_band"] and cmp["expected_flow_usd"]["within_band"]
    # and the central figure is within 15% of both published numbers (reported in the notes: -48.7 / -16.2)
    assert abs(r.theoretical_imbalance_usd / -55e9 - 1) < 0.15
    assert abs(r.expected_flow_usd / -18e9 - 1) < 0.15


def test_june_2026_case_and_the_spread_it_implies() -> None:
    inputs = PensionInputs.packaged("2026-06")
    assert inputs.total_assets_usd == 9.6e12
    r = pension_flows(inputs)
    assert r.theoretical_imbalance_usd == pytest.approx(_jpm_by_hand(9.6e12, 0.0527, 0.0203), rel=1e-9)
    lo, hi = r.band_usd
    assert lo <= -55e9 <= hi
    # equities must have beaten bonds by 55bn / K quarter-to-date for JPMorgan's figure with these allocations
    k = _jpm_by_hand(9.6e12, 0.01, 0.0) / -0.01
    implied = r.comparison()["implied_equity_minus_bond_return"]
    assert implied == pytest.approx(55e9 / k, rel=1e-9)
    assert 0.03 < implied < 0.04  # an ordinary quarter: Q3 2025 had 3.2 pp
    # the same assets and returns scale the imbalance with total assets
    q3 = pension_flows(PensionInputs.packaged("2025-q3"))
    assert r.theoretical_imbalance_usd == pytest.approx(q3.theoretical_imbalance_usd * 9.6 / 9.4, rel=1e-9)


def test_default_case_is_the_latest() -> None:
    assert next(iter(CASES)) == "2026-06"
    assert PensionInputs.packaged().as_of.isoformat() == "2026-06-19"


def _raw(case: str) -> dict[str, Any]:
    out: dict[str, Any] = yaml.safe_load(packaged_text(CASES[case]))
    return out


def test_allocation_not_summing_to_one_is_an_input_error() -> None:
    raw = _raw("2025-q3")
    raw["segments"][1]["allocation"] = {"equity": 0.3, "bonds": 0.5, "other": 0.1}
    with pytest.raises(InputError) as exc:
        PensionInputs.from_dict(raw)
    assert exc.value.field == "segments.1.allocation"
    assert "sum to 1" in str(exc.value) and "0.9" in str(exc.value)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("segments", 0, "share_of_assets"), 0.5, "segments"),  # shares 0.5 + 0.3333
        (("total_assets_usd",), -1.0, "total_assets_usd"),
        (("execution_ratio",), 1.5, "execution_ratio"),
        (("as_of",), "2025-06-01", "as_of"),
        (("segments", 1, "glide_path", 1, "funded_ratio_at_least"), 0.0, "segments.1.glide_path"),
    ],
)
def test_bad_inputs_name_the_field(path: tuple[Any, ...], value: Any, field: str) -> None:
    raw = _raw("2025-q3")
    node = raw
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    with pytest.raises(InputError) as exc:
        PensionInputs.from_dict(raw)
    assert field in str(exc.value)


def test_uncertainty_on_a_missing_path_is_an_input_error() -> None:
    raw = _raw("2025-q3")
    raw["uncertainty"] = {"returns.cash": 0.01}
    with pytest.raises(InputError) as exc:
        pension_flows(PensionInputs.from_dict(raw))
    assert exc.value.field == "uncertainty.returns.cash"


def test_band_moves_allocation_against_other() -> None:
    raw = _one_segment(uncertainty={"segments.0.allocation.equity": 0.1})
    raw["segments"][0]["allocation"] = {"equity": 0.5, "bonds": 0.3, "other": 0.2}
    r = pension_flows(PensionInputs.from_dict(raw))
    # equity 0.6 / bonds 0.3: sleeve 90, w = 2/3 -> flow -2.0; equity 0.4: sleeve 70, w = 4/7 -> -1.714
    expected = max(abs(-2.0 - -1.875), abs(70 * (4 / 7) * (3 / 7) * -0.1 - -1.875))
    assert r.band_contributions_usd["segments.0.allocation.equity"] == pytest.approx(expected)
