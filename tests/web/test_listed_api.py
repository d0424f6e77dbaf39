"""``GET /api/miners`` and ``GET /api/hpc/progress``: the packaged datasets through the API, equal to the library;
missing facts null, never 0; bad input a JSON error naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from webclient import make_client

from hashrisk.flows.hpc_contracts import progress
from hashrisk.flows.listed import dataset_overview, load_listed_miners
from hashrisk.web.app import create_app
from hashrisk.web.routes import listed

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def client(web_home: Path) -> Iterator[TestClient]:
    app = create_app(home=web_home)
    paths = {getattr(r, "path", "") for r in app.routes}
    if "/api/miners" not in paths:  # until web/app.py includes the router
        app.include_router(listed.router)
    with make_client(app) as c:
        yield c


def test_miners_equals_the_library_and_keeps_missing_null(client: TestClient) -> None:
    r = client.get("/api/miners")
    assert r.status_code == 200, r.text
    body = r.json()
    lib = dataset_overview()
    assert [c["company"] for c in body["companies"]] == [c["company"] for c in lib["companies"]]
    long = load_listed_miners()
    for c in body["companies"]:
        have = set(long[(long["company"] == c["company"]) & (long["period"] == c["period"])]["metric"])
        for name in ("btc_produced", "btc_sold", "btc_held", "cash_usd", "debt_usd"):
            if name not in have:
                assert c[name] is None and name in c["missing"]
    totals = body["quarterly_sales"]["totals"]
    assert len(totals) == len(lib["quarterly_sales"]["totals"])
    assert all(t["btc_sold"] is None for t in totals if t["n_companies_sold"] == 0)
    comp = body["published_comparison"]
    assert comp["published"]["value"] == 32_000 and comp["companies_named"] == 6
    if comp["companies_with_figure"] == 0:
        assert comp["dataset_btc_sold"] is None


def test_miners_period_and_bad_period(client: TestClient) -> None:
    period = sorted(set(load_listed_miners()["period"]))[-1]
    body = client.get("/api/miners", params={"period": period}).json()
    assert body["period"] == period and all(c["period"] == period for c in body["companies"])
    bad = client.get("/api/miners", params={"period": "1999Q1"})
    assert bad.status_code == 422 and bad.json()["field"] == "period"


def test_hpc_progress_equals_the_library(client: TestClient) -> None:
    r = client.get("/api/hpc/progress")
    assert r.status_code == 200, r.text
    body = r.json()
    lib = progress().summary()
    assert body["as_of"] == lib["as_of"]
    assert body["total"]["contracted_mw"] == lib["total"]["contracted_mw"]
    assert body["total"]["backlog_usd"] == pytest.approx(lib["total"]["backlog_usd"])
    assert body["vaneck_delivered_share"] == 0.25
    for f in body["by_company"].values():
        if f["contracted_mw_with_disclosure"] == 0:
            assert f["delivered_mw"] is None
    assert body["series"][-1]["date"] == body["as_of"]


def test_hpc_progress_as_of_and_error(client: TestClient) -> None:
    first = progress().to_frame()["date"].min().isoformat()
    assert client.get("/api/hpc/progress", params={"as_of": first}).json()["as_of"] == first
    bad = client.get("/api/hpc/progress", params={"as_of": "2001-01-01"})
    assert bad.status_code == 422 and bad.json()["field"] == "as_of"
    assert client.get("/api/hpc/progress", params={"as_of": "nope"}).status_code == 422
