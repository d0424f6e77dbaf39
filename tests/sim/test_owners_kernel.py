"""Owners' balance sheets in the kernel, by hand: meeting a cash shortfall by selling BTC or by raising
capital at its cost, scheduled flows, and the net mechanical flow in the price feedback."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.sim import Scenario, kernel_numba, kernel_numpy
from hashrisk.sim.arrays import (
    OF_BTC_END,
    OF_CASH_END,
    OF_DRAWN_BTC,
    OF_NEED_USD,
    OF_PRODUCED_BTC,
    OF_RAISE_COST_USD,
    OF_RAISED_USD,
    ChunkOutputs,
    ChunkRandoms,
)
from hashrisk.sim.engine import prepare, scheduled_cash_usd
from hashrisk.sim.scenario import OwnerSpec

SNAP = NetworkSnapshot.embedded()
P0 = SNAP.price_usd
KERNELS = {"numba": kernel_numba.run_chunk, "numpy": kernel_numpy.run_chunk}


def _owner(**extra: Any) -> dict[str, Any]:
    """An owner whose machines never run (1,000 J/TH): no production, no power; only its scheduled flows."""
    base: dict[str, Any] = {
        "name": "X",
        "hashrate_ths": 1e6,
        "efficiency_j_per_th": 1_000.0,
        "power_price_usd_per_kwh": 0.05,
        "btc": 100.0,
        "cash_usd": 10e6,
        "cash_floor_usd": 10e6,
        "share_sold": 1.0,
        "other_costs_usd_per_day": 1e6,
    }
    base.update(extra)
    return base


def _run(owner: dict[str, Any], prices: list[float], **params: Any) -> dict[str, np.ndarray]:
    """One path on the given prices (no noise, no feedback unless asked); owner_f of each kernel."""
    sc = Scenario(paths=1, horizon_days=len(prices)).with_params(
        {
            "owners": [owner],
            "price.model": "path",
            "price.prices_usd": prices,
            "fees.sigma": 0.0,
            "fleet.unexplained_log_sd": 0.0,
            "fleet.deploy.enabled": False,
            "impact.enabled": False,
            **params,
        }
    )
    prep = prepare(sc)
    days = len(prices)
    log_return = np.append(np.diff(np.log(prices)), 0.0)[None, :]  # the path's returns (day t -> t + 1)
    rnd = ChunkRandoms(log_return, np.full((1, days), 0.5), np.ones((1, days)), np.ones((1, days)))
    outs = {}
    for name, kernel in KERNELS.items():
        out = ChunkOutputs.empty(1, days, prep.setup.max_retargets, n_owners=prep.setup.n_owners)
        kernel(prep.setup, rnd, out)
        outs[name] = out.owner_f[0, 0]
    return outs


def test_shortfall_met_by_selling_btc() -> None:
    """Cash at its floor, $1M of other costs: the owner sells $1M of BTC at the day's price."""
    for of in _run(_owner(), [P0]).values():
        assert of[OF_PRODUCED_BTC] == 0.0
        assert of[OF_NEED_USD] == pytest.approx(1e6)
        assert of[OF_DRAWN_BTC] == pytest.approx(1e6 / P0, rel=1e-12)
        assert of[OF_BTC_END] == pytest.approx(100.0 - 1e6 / P0, rel=1e-12)
        assert of[OF_CASH_END] == pytest.approx(10e6, rel=1e-12)
        assert of[OF_RAISED_USD] == 0.0


def test_shortfall_met_by_raising_capital_at_its_cost() -> None:
    """Raise first at 5% of gross: $1M of cash costs 1M x 0.05 / 0.95 in issuance cost, no BTC sold."""
    for of in _run(_owner(policy="raise_capital"), [P0]).values():
        assert of[OF_DRAWN_BTC] == 0.0
        assert of[OF_RAISED_USD] == pytest.approx(1e6)
        assert of[OF_RAISE_COST_USD] == pytest.approx(1e6 * 0.05 / 0.95, rel=1e-12)
        assert of[OF_BTC_END] == 100.0


def test_capital_gets_dearer_as_btc_falls() -> None:
    """At half the start price the cost is 0.05 x 2^2 = 20% > the 15% cap: the raise-first owner sells BTC
    on day 1; with no BTC left, the rest of the shortfall is raised at 20%."""
    for of in _run(_owner(policy="raise_capital"), [P0, P0 / 2]).values():
        assert of[OF_RAISED_USD] == pytest.approx(1e6)  # day 0, at 5%
        assert of[OF_DRAWN_BTC] == pytest.approx(1e6 / (P0 / 2), rel=1e-12)  # day 1, BTC first
    tiny = _owner(policy="raise_capital", btc=10.0)  # 10 BTC at $35,665 do not cover $1M
    for of in _run(tiny, [P0, P0 / 2]).values():
        assert of[OF_DRAWN_BTC] == pytest.approx(10.0)
        rest = 1e6 - 10.0 * P0 / 2
        assert of[OF_RAISED_USD] == pytest.approx(1e6 + rest, rel=1e-12)
        assert of[OF_RAISE_COST_USD] == pytest.approx(1e6 * 0.05 / 0.95 + rest * 0.2 / 0.8, rel=1e-12)
        assert of[OF_BTC_END] == 0.0


def test_schedule_by_hand() -> None:
    """Interest daily until maturity, principal on the maturity day, a flow spread over its days."""
    start = SNAP.date
    o = OwnerSpec.model_validate(
        _owner(
            other_costs_usd_per_day=0.0,
            debt=[{"name": "n", "principal_usd": 365e6, "annual_rate": 0.02, "maturity": "2026-06-04"}],
            flows=[{"label": "capex", "start": "2026-06-02", "end": "2026-06-05", "usd": -8e6}],
        )
    )
    got = scheduled_cash_usd([o], start, 6)[0]
    interest = 365e6 * 0.02 / 365
    want = [-interest, -interest - 2e6, -interest - 2e6, -365e6 - 2e6, -2e6, 0.0]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_net_flow_in_the_feedback_by_hand() -> None:
    """Day 0 to 1 on a flat path: ``P1 = P0 exp(-k sigma sign(m) sqrt(|m| P0 / V))`` with the net mechanical
    sales ``m = sold_0 - buying / P0`` (baseline none): big ETF buying turns the impact into support."""
    for buy in (0.0, 500e6):
        sc = Scenario(paths=1, horizon_days=2).with_params(
            {
                "owners": [],
                "price.model": "path",
                "price.prices_usd": [P0, P0],
                "fees.sigma": 0.0,
                "fleet.unexplained_log_sd": 0.0,
                "impact.baseline": "none",
                "impact.sigma_daily": 0.03,
                "net_flows.etf_usd_per_day": buy,
            }
        )
        prep = prepare(sc)
        rnd = ChunkRandoms(np.zeros((1, 2)), np.full((1, 2), 0.5), np.ones((1, 2)), np.ones((1, 2)))
        for kernel in KERNELS.values():
            out = ChunkOutputs.empty(1, 2, prep.setup.max_retargets, n_owners=prep.setup.n_owners)
            kernel(prep.setup, rnd, out)
            m = out.sold_btc[0, 0] - buy / P0
            want = P0 * math.exp(-1.0 * 0.03 * math.copysign(math.sqrt(abs(m) * P0 / 15e9), m))
            assert out.price_usd[0, 1] == pytest.approx(want, rel=1e-12)
            assert (out.price_usd[0, 1] > P0) == (buy > 0)
