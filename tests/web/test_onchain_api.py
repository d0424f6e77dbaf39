"""``GET /api/onchain`` on a synthetic store synced from the local JSON-RPC stand-in (never the internet)."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from webclient import make_client

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

from servers import ONCHAIN_POOLS, onchain_store

from hashrisk.web.app import create_app
from hashrisk.web.routes import onchain

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


def _app(home: Path) -> Any:
    app = create_app(home=home)
    if not any(getattr(r, "path", None) == "/api/onchain" for r in app.routes):  # until app.py registers it
        app.include_router(onchain.router)
    return app


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("onchain-web")
    onchain_store(home, 400)
    with make_client(_app(home)) as c:
        yield c


def test_distribution_and_flows(client: TestClient) -> None:
    r = client.get("/api/onchain")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["stored"] is True and out["blocks"] == 400
    assert {d["pool"]: d["blocks"] for d in out["distribution"]} == {p: 100 for _, _, p in ONCHAIN_POOLS}
    for d in out["distribution"]:
        assert d["share"] == 0.25 and d["share_low"] < 0.25 < d["share_high"]
    mined = sum(d["mined_btc"] for d in out["moved_vs_mined"])
    assert mined == pytest.approx(400 * (50 + 2e-5))
    moved = sum(d["moved_out_btc"] for d in out["moved_vs_mined"])
    assert moved == pytest.approx(sum(50 + 1e-5 for h in range(299) if h % 3 == 1))
    assert all(h["pool"] == "all" for h in out["first_hop"])
    assert sum(h["spending_txs"] for h in out["first_hop"]) == sum(1 for h in range(299) if h % 3 != 2)


def test_pool_and_since_filters(client: TestClient) -> None:
    out = client.get("/api/onchain", params={"pool": "mara pool"}).json()
    assert out["pool"] == "MARA Pool" and [d["pool"] for d in out["distribution"]] == ["MARA Pool"]
    assert out["distribution"][0]["share"] == 0.25  # still a share of every block
    first = dt.date.fromisoformat(client.get("/api/onchain").json()["first_time"][:10])
    since = first + dt.timedelta(days=2)
    later = client.get("/api/onchain", params={"since": since.isoformat()}).json()
    assert 0 < later["blocks"] < 400 and later["first_time"][:10] == since.isoformat()


def test_errors_and_empty_store(client: TestClient, tmp_path: Path) -> None:
    r = client.get("/api/onchain", params={"pool": "Nobody"})
    assert r.status_code == 422 and r.json()["field"] == "pool"
    r = client.get("/api/onchain", params={"since": "2099-01-01"})
    assert r.status_code == 422 and r.json()["field"] == "since"
    r = client.get("/api/onchain", params={"since": "soon"})
    assert r.status_code == 422
    with make_client(_app(tmp_path)) as empty:
        r = empty.get("/api/onchain")
    assert r.status_code == 200 and r.json()["stored"] is False and r.json()["distribution"] == []
