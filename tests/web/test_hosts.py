"""The API answers only its own host names (DNS rebinding), and never tells a client the server's paths."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from webclient import make_client

from hashrisk.web.app import create_app

HOST_CASES = [
    ("evil.example", None, 400),
    ("evil.example:8000", None, 400),
    ("127.0.0.1.evil.example", None, 400),
    ("127.0.0.1", None, 200),
    ("127.0.0.1:8000", None, 200),
    ("localhost", None, 200),
    ("[::1]:8000", None, 200),
    ("desk.example", None, 400),
    ("desk.example", ["desk.example"], 200),
]


@pytest.mark.parametrize(
    ("host", "allowed", "status"), HOST_CASES, ids=[f"{h}-{a or 'default'}" for h, a, _ in HOST_CASES]
)
def test_only_allowed_hosts_are_answered(
    tmp_path: Path, host: str, allowed: list[str] | None, status: int
) -> None:
    with make_client(create_app(home=tmp_path, allowed_hosts=allowed or ())) as client:
        resp = client.get("/api/snapshot", headers={"host": host})
    assert resp.status_code == status
    if status == 400:
        body = resp.json()
        assert body["field"] == "host" and "evil" not in body["allowed"]


def test_missing_day_does_not_show_the_store_path(tmp_path: Path) -> None:
    home = tmp_path / "a-private-folder"
    with make_client(create_app(home=home)) as client:
        resp = client.get("/api/cost", params={"date": "2012-01-01"})
    assert resp.status_code == 404
    assert "a-private-folder" not in resp.text and str(tmp_path) not in resp.text
