"""Every API answer about the network says which day it describes and how old that day is."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from webclient import make_client

from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.web.app import create_app


def test_snapshot_says_as_of_the_embedded_day_with_its_age(tmp_path: Path) -> None:
    body = make_client(create_app(tmp_path)).get("/api/snapshot").json()
    embedded = NetworkSnapshot.embedded().date
    age = (dt.datetime.now(dt.UTC).date() - embedded).days  # hand computation of the age in whole days
    assert body["as_of"] == {
        "day": embedded.isoformat(),
        "source": "embedded snapshot",
        "age_days": age,
        "stale": age > 2,
    }
