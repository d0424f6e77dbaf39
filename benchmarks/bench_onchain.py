"""Benchmark: pools and coinbase flows (`sync_blocks(..., coinbase=...)`) on full-size synthetic blocks.

A local Bitcoin Core-like JSON-RPC server (``tests/data/servers.py``) answers ``getblock <hash> 2`` with about
4,000 transactions per block in Bitcoin Core's verbosity-2 shape (each with a ``hex`` of a typical size); every
block's coinbase pays a known pool, and from height 101 on each block spends the coinbase of the block 101
below it. The server runs in a child process of its own (its own interpreter: it does not compete with the
client for the GIL): `servers.FastRpcServer`, plain sockets and keep-alive, sending each answer as its
pre-serialised pieces (the 4,000 transactions are shared bytes, never joined or copied per request). After the
scan, three probes time the parts alone: the server (``getblock`` answers read over a raw socket with
``recv_into``, nothing decoded), the client's HTTP read (`BitcoinRPC.post_raw`), and the split of one answer
(`_Txs.from_raw` and the coinbase's decode). Each chain length runs in its own process, and the peak RSS
printed is taken right after the scan: it should stay flat as the chain grows (memory bounded by the batch).

Run::

    python benchmarks/bench_onchain.py                      # chains of 100 and 300 blocks
    python benchmarks/bench_onchain.py --lengths 200 --txs 4000 --batch 25

Goal: >= 20 blocks/s scanned.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import json
import multiprocessing
import os
import pstats
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "data"))

from servers import BlockBody, FastRpcServer, RpcChainServer, coinbase_json, tx_json, txid_of

from hashrisk.chain.subsidy import block_subsidy_sats
from hashrisk.data.bitcoind import BitcoinRPC, _Txs, sync_blocks
from hashrisk.data.coinbase import CoinbaseLedger
from hashrisk.data.pools import load_pools
from hashrisk.data.store import Store

TAGS = ("/Foundry USA Pool/", "Mined by AntPool", "MARA Pool", "/ViaBTC/", "/nobody/")


def make_bodies(n_txs: int) -> object:
    fillers = []
    for variant in range(4):  # pre-serialised filler transactions (never spending a coinbase)
        txs = [
            tx_json(
                txid_of("f", variant, k),
                [(txid_of("x", variant, k), 0), (txid_of("y", variant, k), 1)],
                [(40_000, f"bc1qdest{k:034d}"), (9_000, f"bc1qchange{k:032d}")],
                1_000,
                hex_chars=440,
            )
            for k in range(n_txs - 2)
        ]
        fillers.append(json.dumps(txs, separators=(",", ":"))[1:-1].encode())  # pre-serialised bytes

    def body(height: int, salt: str) -> BlockBody:
        fees = 1_000 * (n_txs - 1)
        value = block_subsidy_sats(height) + fees
        cb = coinbase_json(
            txid_of("cb", salt, height),
            height,
            TAGS[height % 5],
            [(value, f"bc1qpool{height % 5}"), (0, None)],
        )
        spent = height - 101
        if spent >= 0:
            spend_value = block_subsidy_sats(spent) + fees - 1_000
            spend = tx_json(
                txid_of("s", height),
                [(txid_of("cb", salt, spent), 0)],
                [(spend_value, "bc1qexchange")],
                1_000,
            )
        else:
            spend = tx_json(txid_of("s", height), [(txid_of("z", height), 0)], [(1, "bc1qexchange")], 1_000)
        head = json.dumps([cb, spend], separators=(",", ":"))[:-1].encode()
        filler = fillers[height % len(fillers)]
        parts = (head, b",", filler, b"]")
        return BlockBody(n_txs, fees, lambda: b"".join(parts), tx_parts=lambda: parts)

    return body


def _serve(blocks: int, n_txs: int, conn: Any) -> None:
    """Child process: hold the stand-in server (its own interpreter and GIL) until told to stop."""
    with (
        RpcChainServer(blocks, bodies=make_bodies(n_txs)) as chain,  # type: ignore[arg-type]
        FastRpcServer(chain) as server,
    ):
        sample = chain.blocks[0].body
        size_mb = sum(len(p) for p in sample.parts()) / 1e6 if sample else 0.0
        conn.send((server.url, [b.hash for b in chain.blocks], size_mb))
        conn.recv()


def raw_getblocks(url: str, hashes: list[str]) -> float:
    """Seconds to receive every ``getblock <hash> 2`` answer over one keep-alive socket, read with
    ``recv_into`` into one buffer and nothing decoded: the server's own rate (plus the kernel's copy)."""
    host, port = url.removeprefix("http://").split(":")
    auth = base64.b64encode(b"alice:s3cret").decode()
    buf = bytearray(1 << 16)  # grown to the largest answer (and then reused)
    view = memoryview(buf)
    with socket.create_connection((host, int(port))) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t0 = time.perf_counter()
        for k, block_hash in enumerate(hashes):
            body = json.dumps([{"jsonrpc": "1.0", "id": k, "method": "getblock", "params": [block_hash, 2]}])
            sock.sendall(
                f"POST / HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {auth}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}".encode()
            )
            got = 0
            while (end := buf.find(b"\r\n\r\n", 0, got)) < 0:
                got += sock.recv_into(view[got:])
            head = bytes(buf[:end]).lower()
            length = int(head.split(b"content-length:")[1].split(b"\r\n")[0])
            total = end + 4 + length
            if total > len(buf):
                view.release()
                buf.extend(bytes(total - len(buf)))
                view = memoryview(buf)
            while got < total:
                got += sock.recv_into(view[got:total])
            assert buf[end + 4 : end + 6] == b"[{", bytes(buf[end + 4 : end + 80])
        return time.perf_counter() - t0


def run_one(blocks: int, n_txs: int, batch: int, profile: bool = False) -> dict[str, float]:
    pools = load_pools()
    ctx = multiprocessing.get_context("fork")
    here, there = ctx.Pipe()
    child = ctx.Process(target=_serve, args=(blocks, n_txs, there), daemon=True)
    child.start()
    try:
        url, hashes, size_mb = here.recv()
        with (
            tempfile.TemporaryDirectory() as home,
            Store(home) as store,
            BitcoinRPC(url, user="alice", password="s3cret") as rpc,
        ):
            profiler = cProfile.Profile() if profile else None
            if profiler is not None:
                profiler.enable()
            t0 = time.perf_counter()
            report = sync_blocks(store, rpc, batch=batch, coinbase=CoinbaseLedger(store), pools=pools)
            seconds = time.perf_counter() - t0
            if profiler is not None:
                profiler.disable()
                pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(15)
            spends = store.con.execute("SELECT count(*) FROM coinbase_spends").fetchone()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the scan's, before the probes
        # then the parts on their own: the server, the client's HTTP read, the split of one answer
        server_s = raw_getblocks(url, hashes)
        with BitcoinRPC(url, user="alice", password="s3cret") as rpc:
            t0 = time.perf_counter()
            for block_hash in hashes:
                _, raw = rpc.post_raw([("getblock", (block_hash, 2))])
            fetch_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in range(10):
            txs = _Txs.from_raw(raw, n_txs, hashes[-1])
            assert txs is not None and len(txs.in_txid) == 2 * (n_txs - 2) + 1
            txs.tx(0)
        split_s = (time.perf_counter() - t0) / 10
    finally:
        here.send("stop")
        child.join(10)
    return {
        "blocks": report.blocks_written,
        "seconds": seconds,
        "blocks_per_s": report.blocks_written / seconds,
        "tx_per_s": report.blocks_written * n_txs / seconds,
        "block_json_mb": size_mb,
        "spends": float(spends[0] if spends else 0),
        "server_blocks_per_s": blocks / server_s,
        "fetch_blocks_per_s": blocks / fetch_s,
        "split_ms": split_s * 1000,
        "peak_rss_mb": peak_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--txs", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help="with --one: cProfile the sync (stderr)")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.txs, args.batch, args.profile)))
        return
    print(f"coinbase-flow scan: {args.txs} tx/block, batch {args.batch}, one process per chain length")
    print(f"  load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    for n in args.lengths:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--txs", str(args.txs), "--batch", str(args.batch)],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"  {int(r['blocks']):5d} blocks ({r['block_json_mb']:.1f} MB JSON each): {r['seconds']:6.1f} s, "
            f"{r['blocks_per_s']:6.1f} blocks/s, {r['tx_per_s']:9,.0f} tx/s, {int(r['spends'])} coinbase spends, "
            f"peak RSS {r['peak_rss_mb']:.0f} MB"
        )
        print(
            f"        server alone (raw socket, nothing decoded) {r['server_blocks_per_s']:.0f} blocks/s; "
            f"client HTTP read alone (BitcoinRPC.post_raw) {r['fetch_blocks_per_s']:.0f} blocks/s; "
            f"split of one answer {r['split_ms']:.0f} ms"
        )
    print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
