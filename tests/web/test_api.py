"""The JSON API through the ASGI test client: values against the library and hand computations, errors as
JSON naming the field, and the safety caps."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from webclient import make_client

from hashrisk.analytics.adjustment import next_adjustment
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.economics.cost import ProductionCost, production_cost
from hashrisk.economics.fleet import FleetSpec, build_fleet
from hashrisk.flows.owners import with_listed_owners
from hashrisk.sim.engine import simulate
from hashrisk.sim.scenario import Scenario
from hashrisk.sim.stress import CANNED_SHOCKS, stress_scenario, stress_summary, with_treasury_buying
from hashrisk.web.app import MAX_BODY_BYTES, create_app

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

D, S, F, P = 138_955_357_012_247.0, 3.125, 0.023, 71_329.0
BTC_PER_THS_DAY = 86_400e12 / (D * 2**32) * (S + F)


@pytest.fixture(scope="module")
def client(web_home: Path) -> Iterator[TestClient]:
    with make_client(create_app(home=web_home)) as c:
        yield c


@pytest.fixture(scope="module")
def library() -> ProductionCost:
    snap = NetworkSnapshot.embedded()
    return production_cost(snap, build_fleet(FleetSpec.default(), snap.hashrate_ths), 0.05)


def test_snapshot_is_the_embedded_one(client: TestClient) -> None:
    body = client.get("/api/snapshot").json()
    assert (body["date"], body["price_usd"], body["difficulty"], body["height"]) == (
        "2026-06-01",
        P,
        D,
        951_552,
    )
    assert body["subsidy_btc"] == 3.125  # consensus: 50 BTC >> 4 halvings at height 951,552
    assert "Coin Metrics" in body["sources"]["price_usd"]


def test_cost_equals_the_library_and_is_linear_in_power_price(
    client: TestClient, library: ProductionCost
) -> None:
    a = client.get("/api/cost").json()
    assert a["electricity_fleet_usd_per_btc"] == pytest.approx(
        library.electricity_fleet_usd_per_btc, rel=1e-12
    )
    assert a["all_in_usd_per_btc"]["total"] == pytest.approx(library.all_in["total"], rel=1e-12)
    assert a["hashprice_usd_per_ph_day"] == pytest.approx(1_000 * BTC_PER_THS_DAY * P)  # Luxor's definition
    b = client.get("/api/cost", params={"power_price_usd_per_kwh": 0.06}).json()
    assert b["electricity_fleet_usd_per_btc"] == pytest.approx(a["electricity_fleet_usd_per_btc"] * 1.2)
    low = client.get("/api/cost", params={"price_usd": 50_000}).json()
    assert low["share_unprofitable"]["+0%"] > a["share_unprofitable"]["+0%"]


def test_cost_curve_share_underwater_at_a_price(client: TestClient, library: ProductionCost) -> None:
    curve = library.curve
    for price in (40_000.0, 60_000.0, P, 90_000.0):
        body = client.get("/api/cost-curve", params={"price_usd": price}).json()
        assert body["share_unprofitable"] == pytest.approx(float(curve.share_unprofitable(price)))
        assert body["share_within_10pct"] == pytest.approx(float(curve.share_within(price, 0.10)))
        assert body["hashprice_usd_per_ph_day"] == pytest.approx(1_000 * BTC_PER_THS_DAY * price)
    points = body["points"]
    assert len(points) == curve.breakeven_price_usd.size and points[-1]["cum_share"] == 1.0
    top = points[-1]["breakeven_price_usd"]
    above = client.get("/api/cost-curve", params={"price_usd": top * 1.01}).json()
    assert above["share_unprofitable"] == 0.0 and above["marginal_cost_usd"] == pytest.approx(top)
    below = client.get("/api/cost-curve", params={"price_usd": points[0]["breakeven_price_usd"] * 0.5}).json()
    assert below["share_unprofitable"] == 1.0 and below["marginal_cost_usd"] is None  # nothing runs: no NaN


def test_breakeven_of_an_s19j_pro_by_hand(client: TestClient) -> None:
    body = client.get(
        "/api/breakeven", params={"model": "Antminer S19j Pro", "power_price_usd_per_kwh": 0.06, "pue": 1.1}
    ).json()
    assert (body["hashrate_ths"], body["power_w"], body["efficiency_j_per_th"]) == (100.0, 2950.0, 29.5)
    kwh_per_ths_day = 29.5 * 1.1 * 24 / 1000
    hashprice_per_th = BTC_PER_THS_DAY * P
    assert body["breakeven_power_price_usd_per_kwh"] == pytest.approx(hashprice_per_th / kwh_per_ths_day)
    assert body["breakeven_price_usd"] == pytest.approx(kwh_per_ths_day * 0.06 / BTC_PER_THS_DAY)
    assert body["daily_profit_usd"] == pytest.approx(100 * (hashprice_per_th - kwh_per_ths_day * 0.06))


def test_next_adjustment_equals_the_report(client: TestClient) -> None:
    body = client.get("/api/next-adjustment").json()
    info = next_adjustment(NetworkSnapshot.embedded())
    assert body["basis"] == "snapshot" and body["retarget_height"] == 953_568
    assert body["change_pct"]["p50"] == pytest.approx(info.estimate.change_pct_p50, rel=1e-12)
    assert body["known"] and body["assumed"]


def test_simulate_equals_the_stress_recipe(client: TestClient) -> None:
    r = client.post("/api/simulate", json={"shock_pct": -20, "paths": 150, "horizon_days": 60})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["dates"]) == 60 and all(
        len(body["fans"]["hashrate_ths"][q]) == 60 for q in ("p05", "p95")
    )
    # the stress recipe with the day's listed owners and the treasury buying `hashrisk flows btc` measures
    snap = NetworkSnapshot.embedded()
    base = with_listed_owners(
        Scenario().with_params({"paths": 150, "horizon_days": 60, "seed": 2026}), snap.date
    )
    base = with_treasury_buying(base, 520 / 7 * snap.price_usd)
    res = simulate(stress_scenario(base, -0.2, 30, None), snap, backend="numpy")
    expected = stress_summary(res, -0.2, 30)
    got = body["summary"]
    assert got["net_flows"]["treasury_buying_usd_per_day"] == pytest.approx(520 / 7 * 71_329, rel=1e-9)
    assert got["next_retargets"][0]["change_pct_p50"] == pytest.approx(
        expected["next_retargets"][0]["change_pct_p50"], rel=1e-12
    )
    assert got["hashrate_offline_vs_start_at_shock_end"]["p50"] == pytest.approx(
        expected["hashrate_offline_vs_start_at_shock_end"]["p50"], rel=1e-12
    )
    # day 0 is the snapshot: every path starts at its hashrate
    assert body["fans"]["hashrate_ths"]["p05"][0] == pytest.approx(0.98e9, rel=1e-3)


def test_stress_route_runs_the_canned_shocks_with_who_sells(client: TestClient) -> None:
    r = client.post("/api/stress", json={"paths": 60, "horizon_days": 40})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["date"] == "2026-06-01" and body["paths"] == 60 and body["shock_days"] == 30
    assert [s["shock_pct"] for s in body["shocks"]] == pytest.approx([100 * x for x in CANNED_SHOCKS])
    for s in body["shocks"]:
        assert s["owners"][-1]["owner"] == "rest of the network"
        for o in s["owners"]:
            assert o["sold_btc"]["mean"] == pytest.approx(
                o["sold_production_btc"]["mean"] + o["treasury_drawn_btc"]["mean"], rel=1e-6, abs=1e-6
            )
        assert s["ai_hpc_forced"]["treasury_drawn_btc"]["mean"] == 0.0
        assert {"max_drawdown_on_p50", "max_drawdown_off_p50", "definition"} <= set(s["amplification"])
    too_big = client.post("/api/stress", json={"paths": 2000, "horizon_days": 365})
    assert too_big.status_code == 422 and too_big.json()["field"] == "paths"


# ------------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/cost?price_usd=-1", "price_usd"),
        ("/api/cost?price_usd=nan", "price_usd"),
        ("/api/cost?power_price_usd_per_kwh=abc", "power_price_usd_per_kwh"),
        ("/api/cost-curve?price_usd=1e300", "price_usd"),
        ("/api/breakeven", "model"),
        ("/api/snapshot?date=2026-13-01", "date"),
        ("/api/cost-curve?date=0001-01-01", "date"),  # before genesis (found by schemathesis in CI)
    ],
)
def test_bad_query_is_a_422_naming_the_field(client: TestClient, url: str, field: str) -> None:
    r = client.get(url)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["error"] == "invalid input" and body["field"] == field and field in body["message"]


def test_unknown_model_is_a_404_suggesting_the_closest(client: TestClient) -> None:
    r = client.get("/api/breakeven", params={"model": "S19j Pr"})
    assert r.status_code == 404 and r.json()["field"] == "model"
    assert "Antminer S19j Pro" in r.json()["hint"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"paths": 0}, "paths"),
        ({"paths": 2_000, "horizon_days": 365}, "paths"),  # paths x days above the cap
        ({"shock_pct": -99}, "shock_pct"),
        ({"shock_pct": "x"}, "shock_pct"),
        ({"vol": False}, "vol"),  # not read as 0.0
        ({"paths": True}, "paths"),  # not read as 1
        ({"bogus": 1}, "bogus"),
        ({"file": "/etc/passwd"}, "file"),  # no file paths are accepted
    ],
)
def test_bad_simulation_is_a_422_naming_the_field(
    client: TestClient, payload: dict[str, object], field: str
) -> None:
    r = client.post("/api/simulate", json=payload)
    assert r.status_code == 422 and r.json()["field"] == field


def test_body_size_cap(client: TestClient) -> None:
    big = b'{"shock_pct": -20, "pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    r = client.post("/api/simulate", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "too large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap counts the bytes as they arrive
        yield b'{"shock_pct": -20, "pad": "'
        for _ in range(8):
            yield b"x" * 4096
        yield b'"}'

    r = client.post("/api/simulate", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["field"] == "body"


def test_simulation_time_limit_is_a_504(web_home: Path) -> None:
    with make_client(create_app(home=web_home, sim_timeout_s=0.001)) as c:
        r = c.post("/api/simulate", json={"paths": 2_000, "horizon_days": 100})
    assert r.status_code == 504 and r.json()["error"] == "timeout"


def test_not_found_is_json(client: TestClient) -> None:
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and r.json()["error"] == "not found"
    r = client.get("/api/snapshot", params={"date": "2026-06-01"})  # nothing stored in the test's home
    assert r.status_code == 404 and "no daily price for 2026-06-01" in r.json()["message"]
    for cdn_page in ("/docs", "/redoc"):  # Swagger UI / ReDoc would load assets from a CDN: not served
        assert client.get(cdn_page).status_code == 404


def test_openapi_spec_has_models_and_no_path_parameters(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) >= {
        "/api/snapshot",
        "/api/cost",
        "/api/cost-curve",
        "/api/breakeven",
        "/api/next-adjustment",
        "/api/simulate",
        "/api/flows",
    }
    schemas = spec["components"]["schemas"]
    assert {"ErrorOut", "CostOut", "SimulateIn", "SimulateOut"} <= set(schemas)
    names = [
        p["name"] for item in spec["paths"].values() for op in item.values() for p in op.get("parameters", [])
    ]
    assert not any(word in n for n in names for word in ("file", "path", "home", "dir"))
    assert schemas["SimulateIn"]["properties"]["paths"]["maximum"] == 2_000


def test_dashboard_and_local_plotly(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and 'id="price-slider"' in page.text
    assert 'src="/static/plotly.min.js"' in page.text and "http" not in page.text.split("</head>")[0]
    js = client.get("/static/plotly.min.js")
    expected = resources.files("plotly").joinpath("package_data/plotly.min.js").read_bytes()
    assert js.status_code == 200 and js.content == expected
    assert client.get("/static/dashboard.js").status_code == 200
    assert client.get("/static/dashboard.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/../app.py").status_code == 404  # no file access by name


def test_flows_equal_the_flows_library(client: TestClient, library: ProductionCost) -> None:
    from hashrisk.flows.btc import BtcFlowInputs, btc_flows
    from hashrisk.flows.pensions import PensionInputs, pension_flows

    body = client.get("/api/flows").json()
    pensions = pension_flows(PensionInputs.packaged())
    assert body["pensions"]["theoretical_imbalance_usd"] == pytest.approx(pensions.theoretical_imbalance_usd)
    flows = btc_flows(BtcFlowInputs.packaged(), NetworkSnapshot.embedded(), library)
    assert body["btc"]["net_btc_per_day"] == pytest.approx(flows.net_btc_per_day, rel=1e-12)
    # production: blocks per day at the snapshot's hashrate and difficulty x (subsidy + fees)
    blocks = 0.98e9 * 1e12 * 86_400 / (D * 2**32)
    assert body["btc"]["miner_production_btc_per_day"] == pytest.approx(blocks * (S + F))
