"""``/api/history``, ``/api/history/coverage`` and ``/api/changes`` on a synthetic store: the numbers are the
library's, thinning is for display only, errors name the field, and the cache follows the store's state."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from history_store import synthetic_daily, write_synthetic
from webclient import make_client

from hashrisk.analytics.tracking import changes, tracking_history
from hashrisk.web.app import create_app

LAST = "2023-06-19"


@pytest.fixture()
def store_home(tmp_path: Path) -> Path:
    write_synthetic(tmp_path)
    return tmp_path


@pytest.fixture()
def client(store_home: Path) -> Any:
    return make_client(create_app(home=store_home))


def _values(col: pd.Series) -> list[float | None]:
    return [None if np.isnan(v) else float(v) for v in col.to_numpy(float)]


def test_coverage(client: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    assert client.get("/api/history/coverage").json() == {
        "stored": True,
        "first_day": "2021-01-01",
        "last_day": LAST,
        "days": 900,
    }
    empty = make_client(create_app(home=tmp_path_factory.mktemp("empty")))
    assert empty.get("/api/history/coverage").json()["stored"] is False
    for url in ("/api/history", "/api/changes"):
        r = empty.get(url)
        assert r.status_code == 404 and "no daily history is stored" in r.json()["message"]


def test_full_history_is_the_library_frame(client: Any) -> None:
    body = client.get(
        "/api/history", params={"since": "2022-01-01", "until": "2023-03-31", "max_points": 0}
    ).json()
    hist = tracking_history(synthetic_daily(), None, start=dt.date(2022, 1, 1), end=dt.date(2023, 3, 31))
    f = hist.frame
    assert body["days"] == body["points"] == len(f) and body["thinned"] is False
    assert body["dates"][0] == "2022-01-01" and body["dates"][-1] == "2023-03-31"
    for name, values in body["series"].items():
        np.testing.assert_allclose(
            np.array(values, dtype=float), f[name].to_numpy(float), rtol=1e-12, equal_nan=True, err_msg=name
        )
    assert body["capitulation"] == [bool(v) for v in f["capitulation"]]
    assert [c["start"] for c in body["capitulations"]] == [
        pd.Timestamp(s).date().isoformat() for s in hist.capitulations["start"]
    ]
    assert body["latest"]["price_usd"] == pytest.approx(hist.summary()["latest"]["price_usd"])


def test_default_window_is_two_years_and_thinned(client: Any) -> None:
    body = client.get("/api/history", params={"max_points": 100}).json()
    assert body["until"] == LAST and body["since"] == "2021-06-19" and body["as_of"] == LAST
    assert body["points"] <= 100 and body["thinned"] is True and body["dates"][-1] == LAST
    full = client.get("/api/history", params={"max_points": 0}).json()
    assert full["days"] == body["days"] == 731
    last = full["series"]["price_usd"][-1]
    assert body["series"]["price_usd"][-1] == last  # the last day is always kept


def test_date_is_the_as_of_day(client: Any) -> None:
    a = client.get("/api/history", params={"date": "2022-12-31", "since": "2022-10-01"}).json()
    b = client.get("/api/history", params={"until": "2022-12-31", "since": "2022-10-01"}).json()
    assert a == b and a["dates"][-1] == "2022-12-31"


def test_changes_are_the_library_events(client: Any) -> None:
    body = client.get("/api/changes", params={"since": "2022-11-01"}).json()
    hist = tracking_history(synthetic_daily(), None, start=dt.date(2022, 10, 2), end=dt.date(2023, 6, 19))
    expected = [e.to_dict() for e in changes(hist, dt.date(2022, 11, 1), dt.date(2023, 6, 19))]
    got = [{k: e[k] for k in ("day", "kind", "rule", "message")} for e in body["events"]]
    assert got == [{k: e[k] for k in ("day", "kind", "rule", "message")} for e in expected]
    assert body["count"] == len(expected) > 0
    assert client.get("/api/changes").json()["since"] == "2023-05-20"  # 30 days by default


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2024-01-01"}, "since"),
        ({"since": "1999-01-01"}, "since"),
        ({"max_points": 1}, "max_points"),
        ({"max_points": -1}, "max_points"),
        ({"until": "2023-01-01", "date": "2023-01-02"}, "until"),
        ({"since": "not-a-day"}, "since"),
    ],
)
def test_bad_input_names_the_field(client: Any, params: dict[str, Any], field: str) -> None:
    r = client.get("/api/history", params=params)
    assert r.status_code == 422 and r.json()["field"] == field, r.text


def test_cache_follows_the_store(client: Any, store_home: Path) -> None:
    before = client.get("/api/history/coverage").json()
    assert client.get("/api/history", params={"since": "2023-06-01"}).json()["dates"][-1] == LAST
    more = synthetic_daily(start="2023-06-20", days=5)
    write_synthetic(store_home, more)
    after = client.get("/api/history/coverage").json()
    assert after["days"] == before["days"] + 5 and after["last_day"] == "2023-06-24"
    assert client.get("/api/history", params={"since": "2023-06-01"}).json()["dates"][-1] == "2023-06-24"
