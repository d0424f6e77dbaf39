"""Bitcoin Core JSON-RPC client and block sync against a local synthetic chain (127.0.0.1 only)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from servers import RpcChainServer

from hashrisk.chain.subsidy import block_subsidy_sats
from hashrisk.data.bitcoind import BitcoinRPC, read_cookie, sync_blocks
from hashrisk.data.http import HttpOptions, RetryPolicy
from hashrisk.data.store import Store
from hashrisk.errors import DataError, InputError

FAST = HttpOptions(timeout_s=5.0, sleep=lambda s: None, retry=RetryPolicy(max_attempts=2))


@pytest.fixture()
def node() -> Iterator[RpcChainServer]:
    with RpcChainServer(300) as server:
        yield server


def rpc_for(server: RpcChainServer, **kwargs: object) -> BitcoinRPC:
    creds: dict[str, object] = {"user": "alice", "password": "s3cret"}
    creds.update(kwargs)
    return BitcoinRPC(server.url, options=FAST, **creds)  # type: ignore[arg-type]


def assert_store_matches_node(store: Store, server: RpcChainServer) -> None:
    frame = store.blocks_frame()
    assert list(frame.index) == list(range(len(server.blocks)))
    assert frame["hash"].tolist() == [b.hash for b in server.blocks]
    assert frame["fees_sats"].tolist() == [b.fees_sats for b in server.blocks]
    assert frame["tx_count"].tolist() == [b.txs for b in server.blocks]


def test_calls_and_types(node: RpcChainServer) -> None:
    with rpc_for(node) as rpc:
        info = rpc.getblockchaininfo()
        assert info["chain"] == "main" and info["blocks"] == 299
        h = rpc.getblockhash(10)
        assert h == node.blocks[10].hash
        header = rpc.getblockheader(h)
        assert header["height"] == 10 and header["previousblockhash"] == node.blocks[9].hash
        stats = rpc.getblockstats(10)
        assert stats["subsidy"] == block_subsidy_sats(10) and stats["blockhash"] == h


def test_batch_is_one_http_request(node: RpcChainServer) -> None:
    with rpc_for(node) as rpc:
        hashes = rpc.block_hashes(list(range(50)))
        assert rpc.requests_made == 1
    assert hashes == [b.hash for b in node.blocks[:50]]
    assert node.max_batch == 50


def test_jsonrpc_2_answers_are_accepted(node: RpcChainServer) -> None:
    with rpc_for(node, jsonrpc="2.0") as rpc:
        assert rpc.block_hashes([1, 2]) == [node.blocks[1].hash, node.blocks[2].hash]
        with pytest.raises(DataError, match=r"getblockhash\(9999,\) failed: code -8"):
            rpc.getblockhash(9999)


def test_rpc_error_names_the_call(node: RpcChainServer) -> None:
    with rpc_for(node) as rpc, pytest.raises(DataError) as err:
        rpc.batch([("getblockhash", (1,)), ("getblockhash", (10_000,))])
    assert "getblockhash(10000,)" in str(err.value) and "out" in str(err.value).lower()
    with rpc_for(node) as rpc, pytest.raises(DataError, match="Method not found"):
        rpc.call("nosuchmethod")


def test_cookie_auth(node: RpcChainServer, tmp_path: Path) -> None:
    node.credentials.add(("__cookie__", "c0ffee"))
    cookie = tmp_path / ".cookie"
    cookie.write_text("__cookie__:c0ffee")
    assert read_cookie(cookie) == ("__cookie__", "c0ffee")
    with BitcoinRPC(node.url, cookie_file=cookie, options=FAST) as rpc:
        assert rpc.getblockchaininfo()["blocks"] == 299


def test_missing_or_bad_cookie_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read the RPC cookie file"):
        BitcoinRPC("http://127.0.0.1:1", cookie_file=tmp_path / "nope", options=FAST)
    bad = tmp_path / ".cookie"
    bad.write_text("no-colon")
    with pytest.raises(DataError, match="__cookie__:<password>"):
        BitcoinRPC("http://127.0.0.1:1", cookie_file=bad, options=FAST)


def test_conflicting_credentials_are_input_errors() -> None:
    with pytest.raises(InputError):
        BitcoinRPC("http://127.0.0.1:1", user="u", options=FAST)
    with pytest.raises(InputError):
        BitcoinRPC("http://127.0.0.1:1", cookie_file="x", user="u", password="p", options=FAST)


def test_wrong_password_is_a_clear_error(node: RpcChainServer) -> None:
    with rpc_for(node, password="wrong") as rpc, pytest.raises(DataError) as err:
        rpc.getblockchaininfo()
    assert "HTTP 401" in str(err.value) and "refused" in str(err.value)


def test_wrong_chain_is_refused(hashrisk_home: Path) -> None:
    with RpcChainServer(20, chain="regtest") as server, Store() as store, rpc_for(server) as rpc:
        with pytest.raises(DataError, match="'regtest', expected 'main'"):
            sync_blocks(store, rpc)
        assert store.last_block_height() is None
        report = sync_blocks(store, rpc, chain="regtest")
        assert report.blocks_written == 20


def test_sync_from_empty_store(node: RpcChainServer, hashrisk_home: Path) -> None:
    with Store() as store, rpc_for(node) as rpc:
        report = sync_blocks(store, rpc, batch=64)
        assert report.first_height == 0 and report.last_height == 299
        assert report.blocks_written == 300 and report.rolled_back == 0
        assert report.requests == 1 + 2 * 5  # getblockchaininfo, then stats + headers per batch
        assert node.max_batch == 64
        assert_store_matches_node(store, node)
        frame = store.blocks_frame(0, 0)
        row = frame.iloc[0]
        genesis = node.blocks[0]
        assert row["time"] == pd.Timestamp(genesis.time, unit="s", tz="UTC")
        assert row["bits"] == f"{genesis.bits:08x}"
        assert row["chainwork"] == genesis.chainwork
        assert row["subsidy_sats"] == 50 * 100_000_000
        assert row["difficulty"] == pytest.approx(node.blocks[0].header(0)["difficulty"])


def test_resume_from_last_stored_height(node: RpcChainServer, hashrisk_home: Path) -> None:
    with Store() as store, rpc_for(node) as rpc:
        first = sync_blocks(store, rpc, stop=149, batch=50)
        assert first.last_height == 149 and store.last_block_height() == 149
        calls_before = node.calls.get("getblockstats", 0)
        second = sync_blocks(store, rpc, batch=50)
        assert second.first_height == 150 and second.last_height == 299
        assert node.calls["getblockstats"] - calls_before == 150
        node.mine(7)
        third = sync_blocks(store, rpc)
        assert (third.first_height, third.last_height, third.blocks_written) == (300, 306, 7)
        nothing = sync_blocks(store, rpc)
        assert nothing.blocks_written == 0 and nothing.first_height is None
        assert_store_matches_node(store, node)


@pytest.mark.parametrize(("depth", "extra"), [(3, 0), (5, 2), (40, 1)])
def test_reorg_rolls_back_to_the_fork_point(
    node: RpcChainServer, hashrisk_home: Path, depth: int, extra: int
) -> None:
    with Store() as store, rpc_for(node) as rpc:
        sync_blocks(store, rpc, batch=100)
        old_tip = node.blocks[-1].hash
        node.reorg(depth, extra=extra)
        report = sync_blocks(store, rpc, batch=100)
        fork = 299 - depth
        assert report.fork_heights == [fork]
        assert report.rolled_back == depth
        assert report.first_height == fork + 1 and report.last_height == 299 + extra
        assert store.block_hash(299) != old_tip
        assert_store_matches_node(store, node)


def test_reorg_during_the_sync_is_caught_at_the_next_batch(node: RpcChainServer, hashrisk_home: Path) -> None:
    with Store() as store, rpc_for(node) as rpc:
        # 1 getblockchaininfo + 2 requests per batch: reorg once heights 0..149 are stored
        node.schedule_reorg(after_requests=1 + 2 * 3, depth=170)  # replaces heights 130..299
        report = sync_blocks(store, rpc, batch=50)
        assert report.fork_heights == [129]
        assert report.rolled_back == 20
        assert report.last_height == 299
        assert_store_matches_node(store, node)


def test_node_behind_the_store_rolls_back(node: RpcChainServer, hashrisk_home: Path) -> None:
    with Store() as store, rpc_for(node) as rpc:
        sync_blocks(store, rpc)
        node.reorg(10, extra=-5)
        report = sync_blocks(store, rpc)
        assert report.tip_height == 294
        assert report.rolled_back == 10
        assert_store_matches_node(store, node)


def test_malformed_answer_leaves_the_store_untouched(node: RpcChainServer, hashrisk_home: Path) -> None:
    with Store() as store, rpc_for(node) as rpc:
        sync_blocks(store, rpc, stop=99)
        bad = {"height": 150, "blockhash": node.blocks[150].hash, "time": "noon"}
        node.blocks[150].stats_json = json.dumps(bad)
        with pytest.raises(DataError, match=r"getblockstats\(150\)"):
            sync_blocks(store, rpc, batch=100)
        assert store.last_block_height() == 99


def test_bad_arguments(node: RpcChainServer, hashrisk_home: Path) -> None:
    with Store() as store, rpc_for(node) as rpc:
        with pytest.raises(InputError):
            sync_blocks(store, rpc, batch=0)
        with pytest.raises(InputError):
            sync_blocks(store, rpc, start=-1)


def test_progress_bar_runs(node: RpcChainServer, hashrisk_home: Path) -> None:
    with Store() as store, rpc_for(node) as rpc:
        report = sync_blocks(store, rpc, batch=100, progress=True)
        assert report.blocks_written == 300


def test_blocks_that_do_not_link_up_are_refused(node: RpcChainServer, hashrisk_home: Path) -> None:
    broken = node.blocks[50]
    header = json.loads(broken.header_json)
    header["previousblockhash"] = "ab" * 32
    broken.header_json = json.dumps(header)
    with Store() as store, rpc_for(node) as rpc:
        with pytest.raises(DataError, match=r"blocks 0\.\.99 .* do not link up"):
            sync_blocks(store, rpc, batch=100)
        assert store.last_block_height() is None


@pytest.mark.parametrize(
    ("text", "sats"),
    [
        ("20999999.97690000", 2_099_999_997_690_000),  # every bitcoin there will ever be
        ("0.00000001", 1),
        ("0.00000000", 0),
        ("3.12500000", 312_500_000),
        ("0.29999999", 29_999_999),
        ("21000000.00000000", 2_100_000_000_000_000),
        ("12345678.87654321", 1_234_567_887_654_321),
    ],
)
def test_amounts_are_exact_sats(text: str, sats: int) -> None:
    """round(x * 1e8) of the float orjson reads from an 8-decimal amount is exact up to 21e6 BTC.

    x * 1e8 < 2.1e15 < 2**53, so each 8-decimal amount's nearest double lies within half a unit of the
    last place of an integer's neighbourhood: the product is within 0.5 of the exact integer and rounds to it.
    """
    import orjson

    from hashrisk.data.bitcoind import _sats

    value = orjson.loads(f'{{"value":{text}}}'.encode())["value"]
    assert _sats(value, "value", "url") == sats
    assert isinstance(_sats(value, "value", "url"), int)


def test_every_8_decimal_amount_near_the_cap_is_exact() -> None:
    import orjson

    from hashrisk.data.bitcoind import _sats

    for sats in [*range(2_099_999_997_690_000 - 5_000, 2_099_999_997_690_000 + 5_000), *range(0, 10_000)]:
        text = f"{sats // 100_000_000}.{sats % 100_000_000:08d}"
        assert _sats(orjson.loads(text), "v", "u") == sats, text
