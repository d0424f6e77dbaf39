"""`hashrisk.data.update.update` against local stand-ins (127.0.0.1 only): incremental, idempotent, partial."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import Reply, RouteServer, RpcChainServer
from update_standins import FIRST, serve, write_config

from hashrisk.data.config import load_config
from hashrisk.data.http import HttpOptions, RetryPolicy
from hashrisk.data.store import Store
from hashrisk.data.stored_snapshot import latest_snapshot
from hashrisk.data.update import update
from hashrisk.errors import InputError

OLD = FIRST + dt.timedelta(days=10)  # 2026-11-20: the store's newest day after the first update
NEW = OLD + dt.timedelta(days=3)  # 2026-11-23
FAST = HttpOptions(timeout_s=5.0, sleep=lambda s: None, retry=RetryPolicy(max_attempts=1))


@pytest.fixture()
def srv() -> Iterator[RouteServer]:
    with RouteServer() as server:
        yield server


def _counts(home: Path) -> dict[str, int]:
    with Store(home, read_only=True) as store:
        return {
            t: int(store.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
            for t in ("daily", "retargets", "blocks")
        }


def test_update_adds_exactly_the_new_days_then_nothing(srv: RouteServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = load_config(path=write_config(home, srv.url))
    serve(srv, OLD)
    first = update(config, home, options=FAST)
    assert first.status == "ok", first.to_dict()
    before = _counts(home)
    assert before["daily"] == 3 * 11 and before["blocks"] == 30

    serve(srv, NEW)
    second = update(config, home, options=FAST)
    assert second.status == "ok" and second.exit_code == 0
    by = {r.source: r for r in second.results}
    for name in ("coinmetrics", "mempool", "blockchain"):
        assert by[name].detail["daily"]["changed"] == 3, (name, by[name].detail["daily"])
        assert by[name].detail["daily"]["last"] == NEW.isoformat()
    # incremental: the overlap (3 days) is asked again, not the whole history
    overlap = (OLD - dt.timedelta(days=3)).isoformat()
    assert srv.hits("/timeseries/asset-metrics")[-1].query["start_time"] == [overlap]
    after = _counts(home)
    assert after["daily"] == before["daily"] + 9
    assert after["blocks"] == before["blocks"] + 30  # the new tip and the first 15 blocks of its new period

    t0 = time.perf_counter()
    third = update(config, home, options=FAST)
    elapsed = time.perf_counter() - t0
    print(f"update with nothing new: {elapsed:.2f} s")
    assert third.status == "ok" and sum(r.changed for r in third.results) == 0
    assert _counts(home) == after
    snap, found = latest_snapshot(home, today=NEW)
    assert snap.date == NEW and found.source == "store: coinmetrics" and not found.stale


def test_one_source_down_leaves_the_others_stored(srv: RouteServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = load_config(path=write_config(home, srv.url))
    serve(srv, OLD, down=("blockchain",))
    report = update(config, home, options=FAST)
    assert report.status == "partial" and report.exit_code == 3
    failed = [r for r in report.results if not r.ok]
    assert [r.source for r in failed] == ["blockchain"] and "503" in (failed[0].error or "")
    with Store(home, read_only=True) as store:
        assert store.sources("daily") == ["coinmetrics", "mempool"]
    serve(srv, OLD, down=("blockchain", "coinmetrics", "mempool"))
    assert update(config, home, options=FAST).exit_code == 2  # all failed


def test_mempool_without_price_feed_is_noted_not_failed(srv: RouteServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = load_config(path=write_config(home, srv.url))
    serve(srv, OLD)
    srv.route("/api/v1/historical-price", Reply(404, {"error": "no price feed"}))
    report = update(config, home, options=FAST)
    mem = next(r for r in report.results if r.source == "mempool")
    assert report.status == "ok" and mem.missing == ["/v1/historical-price (HTTP 404)"]
    assert "missing: /v1/historical-price" in mem.line()


def test_node_is_synced_and_mempool_blocks_are_left_to_it(srv: RouteServer, tmp_path: Path) -> None:
    cookie = tmp_path / ".cookie"
    cookie.write_text("__cookie__:feedbeef\n")
    home = tmp_path / "home"
    with RpcChainServer(50, cookie="feedbeef") as node:
        config = load_config(path=write_config(home, srv.url, bitcoind=node.url, cookie=cookie))
        serve(srv, OLD)
        report = update(config, home, options=FAST)
        assert report.status == "ok", report.to_dict()
        assert report.results[0].source == "bitcoind" and report.results[0].newest == "49"
        node.mine(3)
        again = update(config, home, options=FAST)
        assert again.results[0].newest == "52"
    with Store(home, read_only=True) as store:
        assert store.last_block_height() == 52 and store.sources("blocks") == ["bitcoind"]


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[sources.mempool]\nbase_url = "ftp://x"\n')
    with pytest.raises(InputError, match=r"sources\.mempool\.base_url"):
        load_config(path=path)
    path.write_text('[sources.coinmetrics]\napi_key = "hunter2"\n')
    with pytest.raises(InputError, match=r"sources\.coinmetrics\.api_key") as err:
        load_config(path=path)
    assert "hunter2" not in str(err.value)
