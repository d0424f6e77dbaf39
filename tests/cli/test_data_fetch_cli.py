"""`hashrisk data fetch` against local servers (127.0.0.1 only): JSON output, tables, exit status 2 on errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

from servers import Reply, RouteServer, RpcChainServer

from hashrisk.cli.main import app
from hashrisk.data.store import Store

runner = CliRunner()
T0 = 1_780_272_000  # 2026-06-01 00:00:00 UTC
DAY = 86_400


def chart(unit: str, ys: list[float]) -> dict[str, Any]:
    xs = [T0 - DAY, T0]
    return {
        "status": "ok",
        "name": unit,
        "unit": unit,
        "period": "day",
        "values": [{"x": x, "y": y} for x, y in zip(xs, ys, strict=True)],
    }


@pytest.fixture()
def web() -> Iterator[RouteServer]:
    with RouteServer() as server:
        server.json("/charts/hash-rate", chart("Hash Rate TH/s", [9.0e8, 9.1e8]))
        server.json("/charts/difficulty", chart("Difficulty", [1.39e14, 1.39e14]))
        server.json("/charts/market-price", chart("USD", [70_500.0, 71_329.0]))
        server.json("/charts/transaction-fees", chart("BTC", [3.4, 3.3]))
        server.json("/charts/n-blocks-total", chart("Blocks", [952_446, 952_590]))
        server.json(
            "/timeseries/asset-metrics",
            {
                "data": [
                    {
                        "asset": "btc",
                        "time": "2026-06-01T00:00:00.000000000Z",
                        "PriceUSD": "71329",
                        "BlkCnt": "144",
                    }
                ]
            },
        )
        yield server


@pytest.fixture()
def node(tmp_path: Path) -> Iterator[tuple[RpcChainServer, Path]]:
    cookie = tmp_path / ".cookie"
    cookie.write_text("__cookie__:feedbeef\n")
    with RpcChainServer(120, cookie="feedbeef") as server:
        yield server, cookie


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["data", "fetch", *args])


def err(result: Any) -> str:
    """stderr with rich's line wrapping undone."""
    return " ".join(result.stderr.split())


def test_blockchain_json(web: RouteServer, hashrisk_home: Path) -> None:
    result = invoke("--source", "blockchain", "--base-url", web.url, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["source"] == "blockchain" and out["daily"]["rows"] == 2
    assert out["store"] == str(hashrisk_home / "hashrisk.duckdb")
    with Store(read_only=True) as store:
        assert store.daily_frame(source="blockchain")["price_usd"].tolist() == [70_500.0, 71_329.0]


def test_coinmetrics_table_output_and_home(web: RouteServer, tmp_path: Path) -> None:
    home = tmp_path / "elsewhere"
    result = invoke(
        "--source", "coinmetrics", "--base-url", web.url, "--home", str(home), "--since", "2026-06-01"
    )
    assert result.exit_code == 0, result.output
    assert "Fetched coinmetrics" in result.stdout and "daily" in result.stdout
    assert web.hits("/timeseries/asset-metrics")[0].query["start_time"] == ["2026-06-01"]
    with Store(home, read_only=True) as store:
        assert store.daily_frame().loc["2026-06-01", "price_usd"] == 71_329


def test_bitcoind_with_cookie(node: tuple[RpcChainServer, Path], hashrisk_home: Path) -> None:
    server, cookie = node
    result = invoke("--source", "bitcoind", "--base-url", server.url, "--rpc-cookie", str(cookie), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["blocks_written"] == 120 and out["last_height"] == 119 and out["chain"] == "main"
    server.mine(5)
    again = invoke("--source", "bitcoind", "--base-url", server.url, "--rpc-cookie", str(cookie))
    assert again.exit_code == 0, again.output
    assert "node tip 124" in again.stdout
    with Store(read_only=True) as store:
        assert store.last_block_height() == 124


def test_bitcoind_with_user_password_and_since(
    node: tuple[RpcChainServer, Path], hashrisk_home: Path
) -> None:
    server, _ = node
    args = (
        "--source",
        "bitcoind",
        "--base-url",
        server.url,
        "--rpc-user",
        "alice",
        "--rpc-password",
        "s3cret",
    )
    result = invoke(*args, "--since", "100", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["first_height"] == 100


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--rpc-user", "alice", "--rpc-password", "nope"), "HTTP 401"),
        (("--rpc-user", "alice"), "both a user and a password"),
        (("--rpc-cookie", "/nonexistent/.cookie"), "cannot read the RPC cookie file"),
        (("--rpc-user", "alice", "--rpc-password", "s3cret", "--since", "2024-01-01"), "block height"),
        (("--rpc-user", "alice", "--rpc-password", "s3cret", "--chain", "test"), "expected 'test'"),
    ],
)
def test_bitcoind_errors_exit_2(
    node: tuple[RpcChainServer, Path], hashrisk_home: Path, args: tuple[str, ...], message: str
) -> None:
    server, _ = node
    result = invoke("--source", "bitcoind", "--base-url", server.url, *args)
    assert result.exit_code == 2
    assert message in err(result) and "Traceback" not in result.output
    assert result.stdout == ""


def test_malformed_payload_exits_2_and_leaves_the_store(web: RouteServer, hashrisk_home: Path) -> None:
    web.route("/charts/market-price", Reply(200, b'{"status": "ok", "values": [{"x": 1, "y": "high"}]}'))
    result = invoke("--source", "blockchain", "--base-url", web.url, "--json")
    assert result.exit_code == 2
    assert "blockchain: malformed response" in err(result) and "values[0].y" in err(result)
    with Store(read_only=True) as store:
        assert store.daily_frame().empty


def test_unknown_source_and_misplaced_flags_exit_2(web: RouteServer, hashrisk_home: Path) -> None:
    result = invoke("--source", "kraken")
    assert result.exit_code == 2 and "coinmetrics, mempool, blockchain, bitcoind" in err(result)
    result = invoke("--source", "mempool", "--rpc-user", "alice", "--base-url", web.url)
    assert result.exit_code == 2 and "only with --source bitcoind" in err(result)
    result = invoke("--source", "blockchain", "--since", "last week", "--base-url", web.url)
    assert result.exit_code == 2 and "YYYY-MM-DD" in err(result)
