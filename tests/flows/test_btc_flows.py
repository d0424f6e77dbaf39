"""Treasury buying vs miners' production and sales: Strategy's implied price, flows by hand."""

from __future__ import annotations

import pytest

from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.economics.cost import production_cost
from hashrisk.economics.fleet import FleetSpec, build_fleet
from hashrisk.errors import InputError
from hashrisk.flows.btc import DAYS_PER_QUARTER, DEFAULT_SHARE_SOLD, BtcFlowInputs, btc_flows

SNAP = NetworkSnapshot()
COST = production_cost(SNAP, build_fleet(FleetSpec.default(), SNAP.hashrate_ths), 0.05)


def _production_per_day() -> float:
    blocks = SNAP.hashrate_ths * 1e12 * 86_400 / (SNAP.difficulty * 2**32)
    return blocks * (3.125 + SNAP.fees_btc_per_block)


def test_strategy_implied_price_vs_production_cost() -> None:
    r = btc_flows(BtcFlowInputs.packaged(), SNAP, COST)
    p = r.purchases[0]
    assert p["buyer"] == "Strategy" and p["btc"] == 520 and p["usd"] == 35e6
    assert p["implied_price_usd"] == pytest.approx(35e6 / 520)  # $67,307.69
    assert p["implied_price_usd"] == pytest.approx(67_307.69, abs=0.01)
    # below JPMorgan's ~$78,000 and below our all-in cost, above our electricity-only fleet cost
    assert r.cost["reference_jpmorgan_2026_06"] == 78_000
    assert p["below_cost"]["reference_jpmorgan_2026_06"] is True
    implied = 35e6 / 520
    assert p["below_cost"]["all_in_fleet"] is bool(implied < COST.all_in["total"])
    assert p["below_cost"]["electricity_fleet"] is bool(implied < COST.electricity_fleet_usd_per_btc)
    assert p["vs_spot"] == pytest.approx(35e6 / 520 / 71_329 - 1)


def test_net_flow_by_hand_default_assumption() -> None:
    r = btc_flows(BtcFlowInputs.packaged(), SNAP, COST)
    prod = _production_per_day()
    assert r.production_btc_per_day == pytest.approx(prod)
    assert prod == pytest.approx(446.6, abs=0.1)  # ~141.9 blocks/day x 3.148 BTC
    net = 520 / 7 - DEFAULT_SHARE_SOLD * prod
    assert r.net_btc_per_day == pytest.approx(net)
    s = r.summary()
    assert s["net_btc_per_quarter"] == pytest.approx(net * 365.25 / 4)
    assert s["net_usd_per_day"] == pytest.approx(net * 71_329)
    frame = r.to_frame()
    assert frame.loc["net", "usd_per_quarter"] == pytest.approx(net * 71_329 * DAYS_PER_QUARTER)


def test_etf_and_share_sold_inputs() -> None:
    inputs = BtcFlowInputs.packaged().model_copy(update={"etf_net_btc_per_day": 250.0})
    r = btc_flows(inputs, SNAP, COST, share_sold=1.5, share_sold_basis="miners file")
    assert r.components_btc_per_day["etf_net"] == 250
    assert r.net_btc_per_day == pytest.approx(520 / 7 + 250 - 1.5 * _production_per_day())
    assert r.share_sold_basis == "miners file"
    with pytest.raises(InputError):
        btc_flows(inputs, SNAP, COST, share_sold=-0.1)


def test_bad_purchase_is_an_input_error() -> None:
    purchase = {"buyer": "S", "date": "2026-06-22", "btc": 0, "usd": 1, "window_days": 7, "source": "s"}
    with pytest.raises(InputError) as exc:
        BtcFlowInputs.from_dict({"label": "x", "purchases": [purchase]})
    assert exc.value.field == "purchases.0.btc"
