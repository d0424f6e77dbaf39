"""Pools and coinbase flows synced from a local JSON-RPC stand-in (getblock verbosity 2), reorgs included."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from servers import BlockBody, RouteServer, RpcChainServer, coinbase_json, tx_json, txid_of

from hashrisk.analytics.onchain import pool_distribution, spent_within
from hashrisk.chain.subsidy import block_subsidy_sats
from hashrisk.data.bitcoind import BitcoinRPC, sync_blocks
from hashrisk.data.coinbase import CoinbaseLedger, read_onchain
from hashrisk.data.http import HttpOptions, RetryPolicy
from hashrisk.data.pools import UNKNOWN, load_pools
from hashrisk.data.store import Store

FAST = HttpOptions(timeout_s=10.0, sleep=lambda s: None, retry=RetryPolicy(max_attempts=2))
POOLS = load_pools()
FOUNDRY_ADDR = "bc1qxhmdufsvnuaaaer4ynz88fspdsxq2h9e9cetdj"  # listed for Foundry USA
ANTPOOL_ADDR = "12dRugNcdxK39288NjcDV4GX7rMsKCGn6B"  # listed for AntPool
MARA_ADDR = "15MdAHnkxt9TMC2Rj595hsg8Hnv693pPBB"  # listed for MARA Pool
UNKNOWN_ADDR = "bc1qunknownminerpayout000000000000000000"
EXCHANGE = ("bc1qexchangehotwallet0000000000000000000", "bc1qexchangehotwallet1111111111111111111")
# height % 4 -> (coinbase tag, payout address, expected pool)
LAYOUT = {
    0: ("/Foundry USA Pool/#dropgold/", "bc1qfoundrypayoutnotlisted00000000000000", "Foundry USA"),
    1: ("/some miner/", ANTPOOL_ADDR, "AntPool"),
    2: ("MARA Pool", MARA_ADDR, "MARA Pool"),
    3: ("/nobody/", UNKNOWN_ADDR, UNKNOWN),
}
N_BLOCKS = 700
CONSOLIDATE_AFTER = 101  # spend heights: coinbase of h spent at h + 101 (h % 5 == 0) to the pool's address
MOVE_AFTER = 300  # and at h + 300 (h % 7 == 0) to exchanges


def cb_txid(salt: str, height: int) -> str:
    return txid_of("cb", salt, height)


def consolidation_address(height: int) -> str:
    pool = LAYOUT[height % 4][2]
    return {"Foundry USA": FOUNDRY_ADDR, "AntPool": ANTPOOL_ADDR, "MARA Pool": MARA_ADDR}.get(
        pool, UNKNOWN_ADDR
    )


def coinbase_value(height: int, salt: str = "main") -> int:
    """Subsidy + fees (1,000 sats per non-coinbase transaction)."""
    return block_subsidy_sats(height) + 1_000 * (2 + len(spends_at(height, salt)))


def spends_at(height: int, salt: str) -> list[tuple[int, str]]:
    """(spent coinbase height, kind) of the spends in block `height` (only on the main branch)."""
    if salt != "main":
        return []
    out = []
    h = height - CONSOLIDATE_AFTER
    if h >= 0 and h % 5 == 0:
        out.append((h, "consolidate"))
    h = height - MOVE_AFTER
    if h >= 0 and h % 7 == 0 and h % 5 != 0:  # never spend an output twice
        out.append((h, "move"))
    return out


def body(height: int, salt: str) -> BlockBody:
    tag, payout, _ = LAYOUT[height % 4]
    value = coinbase_value(height, salt)
    txs = [coinbase_json(cb_txid(salt, height), height, tag, [(value, payout), (0, None)])]
    for k in range(2):  # fillers spending non-coinbase outputs
        txs.append(
            tx_json(
                txid_of("f", salt, height, k), [(txid_of("x", height, k), 1)], [(50_000, EXCHANGE[0])], 1_000
            )
        )
    for spent, kind in spends_at(height, salt):
        value = coinbase_value(spent) - 1_000
        outs = (
            [(value, consolidation_address(spent))]
            if kind == "consolidate"
            else [(value // 2, EXCHANGE[0]), (value - value // 2, EXCHANGE[1])]
        )
        txs.append(tx_json(txid_of("s", salt, height, spent), [(cb_txid("main", spent), 0)], outs, 1_000))
    fees = 1_000 * (len(txs) - 1)
    text = json.dumps(txs, separators=(",", ":"))
    return BlockBody(len(txs), fees, lambda: text)


@pytest.fixture(scope="module")
def node() -> Iterator[RpcChainServer]:
    with RpcChainServer(N_BLOCKS, bodies=body) as server:
        yield server


def _sync(home: Path, server: RpcChainServer, batch: int = 50) -> dict[str, object]:
    with Store(home) as store, BitcoinRPC(server.url, user="alice", password="s3cret", options=FAST) as rpc:
        return sync_blocks(store, rpc, batch=batch, coinbase=CoinbaseLedger(store), pools=POOLS).to_dict()


def _read(home: Path) -> dict[str, object]:
    with Store(home, read_only=True) as store:
        return read_onchain(store)


def test_attribution_from_shipped_definitions() -> None:
    foundry = ("03" + "b1a00e" + b"/Foundry USA Pool/#dropgold/".hex(), [None])
    assert POOLS.attribute(*foundry) == "Foundry USA"
    assert POOLS.attribute("00", ["1KFHE7w8BhaENAswwryaoccDb6qcT6DbYY"]) == "F2Pool"  # listed address only
    assert POOLS.attribute("00" + b"Mined by AntPool".hex(), []) == "AntPool"
    assert POOLS.attribute("00" + b"/hello/".hex(), ["bc1qnotlisted", None]) == UNKNOWN
    assert POOLS.attribute("zz", []) == UNKNOWN  # bad hex is no tag


def test_sync_pools_outputs_spends(node: RpcChainServer, tmp_path: Path) -> None:
    report = _sync(tmp_path, node)
    assert report["blocks_written"] == N_BLOCKS and report["last_height"] == N_BLOCKS - 1
    data = _read(tmp_path)
    bp = data["block_pools"]
    assert isinstance(bp, pd.DataFrame)
    assert bp["pool"].tolist() == [LAYOUT[h % 4][2] for h in range(N_BLOCKS)]
    assert bp["subsidy_sats"].tolist() == [block_subsidy_sats(h) for h in range(N_BLOCKS)]
    outputs = data["outputs"]
    assert isinstance(outputs, pd.DataFrame)
    assert len(outputs) == N_BLOCKS  # the zero-value witness commitment is not tracked
    assert outputs["value_sats"].tolist() == [coinbase_value(h) for h in range(N_BLOCKS)]
    spends = data["spends"]
    assert isinstance(spends, pd.DataFrame)
    expected = sorted((h + 0, s) for h in range(N_BLOCKS) for s, _ in spends_at(h, "main"))
    assert len(spends) == len(expected)
    by_txid = {cb_txid("main", h): h for h in range(N_BLOCKS)}
    assert sorted((int(r.height), by_txid[r.txid]) for r in spends.itertuples()) == expected
    for r in spends.itertuples():
        kind = dict(spends_at(int(r.height), "main"))[by_txid[r.txid]]
        if kind == "consolidate":  # to the pool's listed address, or to the unknown miner's coinbase address
            assert (r.n_outputs, r.n_to_pool, r.value_to_pool_sats) == (1, 1, r.value_out_sats)
        else:
            assert (r.n_outputs, r.n_to_pool, r.value_to_pool_sats) == (2, 0, 0)
        assert r.value_out_sats == r.value_sats - 1_000


def _hand_spent_within(server: RpcChainServer, days: int) -> pd.Series:
    """Share of each day's mined coinbase BTC spent within `days` days, computed directly from the plan."""
    times = {b.height: b.time for b in server.blocks}
    last = max(times.values())
    mined: dict[dt.date, int] = {}
    spent: dict[dt.date, int] = {}
    for h in range(len(server.blocks)):
        day = dt.datetime.fromtimestamp(times[h], dt.UTC).date()
        mined[day] = mined.get(day, 0) + coinbase_value(h)
        for spent_h, _ in spends_at(h, "main"):
            sday = dt.datetime.fromtimestamp(times[spent_h], dt.UTC).date()
            if times[h] - times[spent_h] <= days * 86_400:
                spent[sday] = spent.get(sday, 0) + coinbase_value(spent_h)
    out = {}
    for day, total in mined.items():
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC).timestamp()
        out[day] = spent.get(day, 0) / total if last >= end + days * 86_400 else float("nan")
    return pd.Series(out).sort_index()


def test_shares_equal_hand_computed(node: RpcChainServer, tmp_path: Path) -> None:
    _sync(tmp_path, node)
    data = _read(tmp_path)
    table = spent_within(data["outputs"], data["spends"], data["last_time"])  # type: ignore[arg-type]
    total = table[table["pool"] == "all"].set_index("date")
    for days in (1, 7, 30):
        hand = _hand_spent_within(node, days)
        got = total[f"share_{days}d"]
        got.index = [pd.Timestamp(d).date() for d in got.index]
        pd.testing.assert_series_equal(got.sort_index(), hand, check_names=False, check_index_type=False)
    assert total["share_1d"].notna().any() and total["share_30d"].isna().all()
    dist = pool_distribution(data["block_pools"])  # type: ignore[arg-type]
    assert dist.set_index("pool")["blocks"].to_dict() == {
        "Foundry USA": 175,
        "AntPool": 175,
        "MARA Pool": 175,
        UNKNOWN: 175,
    }
    assert dist["share"].sum() == pytest.approx(1.0)


def test_reorg_removes_orphaned_spends(tmp_path: Path) -> None:
    with RpcChainServer(420, bodies=body) as server:
        _sync(tmp_path, server)
        orphaned = [b.height for b in server.blocks[-4:]]
        held = [h for h in orphaned if spends_at(h, "main")]
        assert held, "the orphaned blocks must hold a spend"
        before = _read(tmp_path)["spends"]
        assert isinstance(before, pd.DataFrame) and set(held) <= set(before["height"])
        server.reorg(4, extra=2)  # the fork's blocks hold no spends and other coinbases
        report = _sync(tmp_path, server)
        assert report["rolled_back"] == 4 and report["fork_heights"] == [orphaned[0] - 1]
        data = _read(tmp_path)
        spends, outputs, bp = data["spends"], data["outputs"], data["block_pools"]
        assert isinstance(spends, pd.DataFrame) and isinstance(outputs, pd.DataFrame)
        assert not set(orphaned) & set(spends["height"])
        orphan_cb = {cb_txid("main", h) for h in orphaned}
        assert not orphan_cb & set(outputs["txid"])
        assert {cb_txid("fork", h) for h in orphaned} <= set(outputs["txid"])
        assert isinstance(bp, pd.DataFrame) and len(bp) == len(server.blocks)
        # a resync of the same chain changes nothing and finds the same rows
        assert _sync(tmp_path, server)["blocks_written"] == 0
        assert len(_read(tmp_path)["spends"]) == len(spends)  # type: ignore[arg-type]


def test_pools_download(tmp_path: Path) -> None:
    from hashrisk.data.sync import fetch

    records = [{"id": 1, "name": "Test Pool", "addresses": ["bc1qtest"], "tags": ["/test/"], "link": ""}]
    with RouteServer() as web:
        web.json("/pools-v2.json", records)
        out = fetch("pools", base_url=web.url + "/pools-v2.json", home=tmp_path)
    assert out["pools"] == 1
    defs = load_pools(tmp_path)
    assert defs.attribute("00", ["bc1qtest"]) == "Test Pool"
    assert len(load_pools(None)) > 100


def _spaced(height: int, salt: str) -> BlockBody:
    """The same blocks in a JSON layout with spaces: the raw split cannot be trusted and must fall back."""
    compact = body(height, salt)
    text = json.dumps(json.loads(compact.tx_json()))
    return BlockBody(compact.n_tx, compact.fees_sats, lambda: text)


def test_fallback_layout_gives_same_rows(tmp_path: Path) -> None:
    rows = {}
    for name, maker in (("compact", body), ("spaced", _spaced)):
        with RpcChainServer(330, bodies=maker) as server:
            _sync(tmp_path / name, server, batch=40)
        data = _read(tmp_path / name)
        rows[name] = {k: data[k] for k in ("block_pools", "outputs", "spends")}
    for key in ("block_pools", "outputs", "spends"):
        a, b = rows["compact"][key], rows["spaced"][key]
        assert isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame) and len(a) > 0
        keys = [c for c in ("height", "txid", "vout") if c in a.columns]
        pd.testing.assert_frame_equal(
            a.sort_values(keys).reset_index(drop=True), b.sort_values(keys).reset_index(drop=True)
        )
    assert len(rows["compact"]["spends"]) == sum(len(spends_at(h, "main")) for h in range(330))


def test_raw_split_matches_full_decode() -> None:
    from hashrisk.data.bitcoind import _Txs

    raw_body = body(405, "main")
    text = raw_body.tx_json()
    assert isinstance(text, str)
    raw = ('[{"result":{"hash":"ab","height":405,"tx":' + text + '},"error":null,"id":0}]').encode()
    fast = _Txs.from_raw(raw, raw_body.n_tx, "ab")
    assert fast is not None
    slow = _Txs.from_parsed(json.loads(text), "url", "rec")
    assert (fast.in_txid, fast.in_vout, fast.in_tx) == (slow.in_txid, slow.in_vout, slow.in_tx)
    for j in range(raw_body.n_tx):
        assert fast.tx(j) == slow.tx(j)
    assert _Txs.from_raw(raw, raw_body.n_tx + 1, "ab") is None  # nTx disagrees: decode everything
    assert _Txs.from_raw(raw, raw_body.n_tx, "cd") is None  # another block
    for old, new in (
        (b'","vout":', b'", "vout":'),
        (b'{"txid":"', b'{"txid": "'),
        (b',"scriptSig"', b'},{"scriptSig"'),  # vout last in its object
    ):
        assert _Txs.from_raw(raw.replace(old, new, 2), raw_body.n_tx, "ab") is None  # another layout
