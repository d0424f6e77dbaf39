"""The stress summary's owners, the AI/HPC counterfactual and the amplification, checked by hand on small runs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from hashrisk.sim.arrays import OF_DRAWN_BTC, PF_MDD, PF_MDD_EXO
from hashrisk.sim.engine import REST, simulate
from hashrisk.sim.result import RUNWAY_CAP_MONTHS, SimResult
from hashrisk.sim.scenario import Scenario
from hashrisk.sim.stress import run_stress, stress_scenario, with_treasury_buying

DAY = dt.date(2026, 6, 1)
SMALL = {"paths": 120, "horizon_days": 40, "seed": 7}


def _owner(name: str, **changes: object) -> dict[str, object]:
    owner: dict[str, object] = {
        "name": name,
        "hashrate_ths": 5e7,
        "efficiency_j_per_th": 20.0,
        "power_price_usd_per_kwh": 0.05,
        "btc": 20_000.0,
        "cash_usd": 1e7,
        "cash_floor_usd": 1e7,
        "share_sold": 0.5,
    }
    owner.update(changes)
    return owner


def _runner(calls: list[Scenario]) -> object:
    def run(scenario: Scenario) -> SimResult:
        calls.append(scenario)
        return simulate(scenario, backend="numpy")

    return run


def test_default_owners_split_adds_up_and_no_ai_hpc_rerun() -> None:
    calls: list[Scenario] = []
    _res, s = run_stress(Scenario(**SMALL), -0.3, 20, None, _runner(calls))  # type: ignore[arg-type]
    assert len(calls) == 1  # the default owners have no AI/HPC flows: no counterfactual run
    names = [o["owner"] for o in s["owners"]]
    assert names[-1] == REST and "MARA Holdings" in names
    for o in s["owners"]:
        # per path sold = production sold + treasury drawn, so the means add up (to float32 rounding)
        assert o["sold_btc"]["mean"] == pytest.approx(
            o["sold_production_btc"]["mean"] + o["treasury_drawn_btc"]["mean"], rel=1e-6, abs=1e-6
        )
        assert o["sources"]  # each balance sheet names its documents or assumptions
    mara = next(o for o in s["owners"] if o["owner"] == "MARA Holdings")
    assert mara["sources"]["btc"].startswith("fact:")
    assert 0 < mara["treasury_drawn_btc"]["p50"] < mara["btc_start"]
    hpc = s["ai_hpc_forced"]
    assert hpc["rerun"] is False and hpc["treasury_drawn_btc"]["mean"] == 0.0
    assert "no AI/HPC contract" in hpc["note"]
    assert "rerunning the same shock and seed with the feedback off" in s["amplification"]["definition"]


def test_runway_is_the_cap_when_sales_cover_the_needs() -> None:
    # power at $0.001/kWh, no other costs, no debt, all production sold: the sales cover the power bill
    # many times over, so no drawdown, no raise, and the runway is the cap
    free = _owner("Free power", power_price_usd_per_kwh=0.001, share_sold=1.0)
    _, s = run_stress(Scenario(owners=[free], **SMALL), -0.2, 20, None, _runner([]))  # type: ignore[arg-type]
    o = s["owners"][0]
    assert o["owner"] == "Free power" and o["listed"] is True
    assert o["runway_months"]["p05"] == o["runway_months"]["p95"] == RUNWAY_CAP_MONTHS
    assert o["treasury_drawn_btc"]["p95"] == 0.0 and o["capital_raised_usd"]["p95"] == 0.0
    assert o["forced_share_of_paths"] == 0.0
    assert o["sold_btc"]["mean"] == pytest.approx(o["produced_btc"]["mean"], rel=1e-12)  # sells all it mines


def test_ai_hpc_counterfactual_is_the_drawn_difference_of_two_runs() -> None:
    capex = {"label": "HPC capex, test site", "start": "2026-06-02", "end": "2026-07-01", "usd": -3e8}
    owner = _owner("Builder", flows=[capex])
    base = Scenario(owners=[owner], **SMALL)
    calls: list[Scenario] = []
    _res, s = run_stress(base, -0.2, 20, None, _runner(calls))  # type: ignore[arg-type]
    assert len(calls) == 2 and calls[1].owners is not None and calls[1].owners[0].flows == []
    # by hand: the same shock and seed with and without the flows
    shocked = stress_scenario(base, -0.2, 20, None)
    with_flows = simulate(shocked, backend="numpy")
    without = simulate(shocked.with_params({"owners": [{**owner, "flows": []}]}), backend="numpy")
    drawn_with = with_flows.owner_f[:, :, OF_DRAWN_BTC].sum(axis=1)
    drawn_without = without.owner_f[:, :, OF_DRAWN_BTC].sum(axis=1)
    diff = (drawn_with - drawn_without).astype(float)
    got = s["ai_hpc_forced"]
    assert got["rerun"] is True
    assert got["treasury_drawn_btc"]["mean"] == pytest.approx(float(diff.mean()), rel=1e-12)
    assert got["treasury_drawn_btc"]["p50"] == pytest.approx(float(np.median(diff)), rel=1e-12)
    # $300M of capex from a cash floor is paid by selling treasury BTC: roughly 300M / price
    assert 300e6 / 80_000 < got["treasury_drawn_btc"]["mean"] < 300e6 / 40_000


def test_amplification_off_is_a_rerun_without_the_feedback() -> None:
    shocked = stress_scenario(Scenario(**SMALL), -0.3, 20, None)
    on = simulate(shocked, backend="numpy")
    off = simulate(shocked.with_params({"impact.enabled": False}), backend="numpy")
    np.testing.assert_array_equal(on.path_f[:, PF_MDD_EXO], off.path_f[:, PF_MDD])
    _, s = run_stress(Scenario(**SMALL), -0.3, 20, None, _runner([]))  # type: ignore[arg-type]
    assert s["amplification"]["max_drawdown_off_p50"] == pytest.approx(
        float(np.median(off.path_f[:, PF_MDD]))
    )


def test_with_treasury_buying_only_fills_a_zero() -> None:
    assert with_treasury_buying(Scenario(), 5e6).net_flows.treasury_buying_usd_per_day == 5e6
    own = Scenario().with_params({"net_flows.treasury_buying_usd_per_day": 1e6})
    assert with_treasury_buying(own, 5e6).net_flows.treasury_buying_usd_per_day == 1e6
