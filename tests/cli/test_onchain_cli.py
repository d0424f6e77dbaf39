"""`hashrisk miners onchain` and `hashrisk data fetch --source bitcoind --coinbase` / `--source pools` against
local servers (127.0.0.1 only; never the internet)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

from servers import ONCHAIN_POOLS, RouteServer, RpcChainServer, onchain_bodies, onchain_store

from hashrisk.cli.main import app as main_app

runner = CliRunner()


def _app() -> typer.Typer:
    """The main application (`hashrisk miners onchain` is a subcommand of the `miners` group)."""
    return main_app


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("onchain-home")
    onchain_store(out, 400)
    return out


def test_json_output(home: Path) -> None:
    result = runner.invoke(_app(), ["miners", "onchain", "--home", str(home), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["blocks"] == 400 and out["pool"] is None
    dist = {r["pool"]: r for r in out["distribution"]}
    assert set(dist) == {p for _, _, p in ONCHAIN_POOLS}
    assert all(r["blocks"] == 100 and r["share"] == 0.25 for r in dist.values())
    assert all(r["share_low"] < 0.25 < r["share_high"] for r in dist.values())
    mined = sum(r["mined_btc"] for r in out["moved_vs_mined"])
    assert mined == pytest.approx(sum(r["subsidy_btc"] + r["fees_btc"] for r in dist.values()))
    moved = sum(r["moved_out_btc"] for r in out["moved_vs_mined"])
    consolidated = sum(r["consolidated_btc"] for r in out["moved_vs_mined"])
    # spends at heights 101..399 of the coinbases 0..298: h % 3 == 1 moved out, h % 3 == 0 consolidated
    assert moved == pytest.approx(sum(50 - 1e-5 + 2e-5 for h in range(299) if h % 3 == 1))
    assert consolidated == pytest.approx(sum(50 - 1e-5 + 2e-5 for h in range(299) if h % 3 == 0))
    assert {r["pool"] for r in out["spent_within"]} == {"all"}


def test_pool_filter_and_tables(home: Path) -> None:
    result = runner.invoke(_app(), ["miners", "onchain", "--home", str(home), "--pool", "antpool", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["pool"] == "AntPool" and [r["pool"] for r in out["distribution"]] == ["AntPool"]
    assert sum(r["mined_btc"] for r in out["moved_vs_mined"]) == pytest.approx(100 * (50 + 2e-5))
    result = runner.invoke(_app(), ["miners", "onchain", "--home", str(home)])
    assert result.exit_code == 0, result.output
    for text in ("Pool distribution", "Foundry USA", "moved out vs mined", "First hop"):
        assert text in result.stdout


def test_since_pool_and_empty_store_errors(home: Path, tmp_path: Path) -> None:
    result = runner.invoke(_app(), ["miners", "onchain", "--home", str(home), "--pool", "Nobody Pool"])
    assert result.exit_code == 2 and "--pool" in result.output
    result = runner.invoke(_app(), ["miners", "onchain", "--home", str(home), "--since", "2099-01-01"])
    assert result.exit_code == 2 and "--since" in result.output
    result = runner.invoke(_app(), ["miners", "onchain", "--home", str(home), "--since", "yesterday"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(_app(), ["miners", "onchain", "--home", str(empty)])
    assert result.exit_code == 2 and "--coinbase" in result.output


def test_data_fetch_coinbase_flag(tmp_path: Path) -> None:
    with RpcChainServer(150, bodies=onchain_bodies) as node:
        args = ["data", "fetch", "--source", "bitcoind", "--coinbase", "--base-url", node.url, "--home"]
        args += [str(tmp_path), "--rpc-user", "alice", "--rpc-password", "s3cret", "--batch", "40", "--json"]
        result = runner.invoke(main_app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["blocks_written"] == 150 and out["coinbase_outputs"] == 150 and out["coinbase_spends"] == 33
    result = runner.invoke(_app(), ["miners", "onchain", "--home", str(tmp_path), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["blocks"] == 150
    result = runner.invoke(
        main_app, ["data", "fetch", "--source", "mempool", "--coinbase", "--home", str(tmp_path)]
    )
    assert result.exit_code == 2 and "--coinbase" in result.output


def test_data_fetch_pools_from_a_local_server(tmp_path: Path) -> None:
    records = [{"id": 1, "name": "Local Pool", "addresses": ["bc1qlocal"], "tags": ["/local/"], "link": ""}]
    with RouteServer() as web:
        web.json("/pools-v2.json", records)
        url = web.url + "/pools-v2.json"
        result = runner.invoke(
            main_app, ["data", "fetch", "--source", "pools", "--base-url", url, "--home", str(tmp_path)]
        )
        assert result.exit_code == 0, result.output
        assert "1 pool definitions" in result.stdout
        result = runner.invoke(
            main_app,
            ["data", "fetch", "--source", "pools", "--base-url", url, "--home", str(tmp_path), "--json"],
        )
    assert result.exit_code == 0 and json.loads(result.stdout)["pools"] == 1
    from hashrisk.data.pools import load_pools

    assert load_pools(tmp_path).attribute("00" + b"/local/".hex(), []) == "Local Pool"
