"""Benchmark: `sync_blocks` from a local JSON-RPC server into a fresh store.

A threaded Bitcoin Core-like server on 127.0.0.1 (``tests/data/servers.py``) holds a synthetic chain with
precomputed JSON answers; the sync copies every block into a new DuckDB store in a temporary folder and the
script prints blocks per second for each batch size.

Run::

    python benchmarks/bench_rpc_sync.py                      # 50,000 blocks, batch sizes 250..5000
    python benchmarks/bench_rpc_sync.py --blocks 20000 --batch 2000

Goal: >= 2,000 blocks/s with batching.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "data"))

from servers import RpcChainServer

from hashrisk.data.bitcoind import BitcoinRPC, sync_blocks
from hashrisk.data.store import Store


def run(server: RpcChainServer, batch: int) -> tuple[float, int, int]:
    """Sync the whole chain into a fresh store; return (seconds, blocks written, HTTP requests)."""
    with tempfile.TemporaryDirectory() as home:
        rpc = BitcoinRPC(server.url, user="alice", password="s3cret")
        with rpc, Store(home) as store:
            t0 = time.perf_counter()
            report = sync_blocks(store, rpc, batch=batch, progress=False)
            seconds = time.perf_counter() - t0
            assert store.last_block_height() == server.tip
        return seconds, report.blocks_written, report.requests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=50_000, help="chain length [blocks]")
    parser.add_argument("--batch", type=int, action="append", help="batch size(s) [blocks]")
    parser.add_argument("--repeat", type=int, default=1, help="runs per batch size (best is reported)")
    args = parser.parse_args(argv)
    batches = args.batch or [250, 1000, 2000, 5000]
    t0 = time.perf_counter()
    with RpcChainServer(args.blocks) as server:
        print(f"chain of {args.blocks:,} synthetic blocks built in {time.perf_counter() - t0:.1f} s")
        best = 0.0
        for batch in batches:
            runs = [run(server, batch) for _ in range(args.repeat)]
            seconds, written, requests = min(runs)
            rate = written / seconds
            best = max(best, rate)
            print(
                f"batch {batch:>6,}: {written:,} blocks in {seconds:6.2f} s = {rate:8,.0f} blocks/s "
                f"({requests} HTTP requests)"
            )
    print(f"best: {best:,.0f} blocks/s (goal >= 2,000)")
    return 0 if best >= 2_000 else 1


if __name__ == "__main__":
    raise SystemExit(main())
