"""A damaged store is a 503 naming the remedy, not a 404 "not found", and the API never writes to it."""

from __future__ import annotations

from pathlib import Path

from webclient import make_client

from hashrisk.web.app import create_app


def test_damaged_store_is_503_with_the_remedy_and_left_as_it_was(tmp_path: Path) -> None:
    store = tmp_path / "hashrisk.duckdb"
    store.write_bytes(b"not a database\n" * 50)  # a text file where the DuckDB store should be
    before = store.read_bytes()
    client = make_client(create_app(tmp_path))
    resp = client.get("/api/cost", params={"date": "2024-05-02"})
    assert resp.status_code == 503
    body = resp.json()
    assert "damaged" in body["message"] and "restore it from a backup" in body["message"]
    assert str(tmp_path) not in resp.text  # the server's paths stay private
    assert store.read_bytes() == before
