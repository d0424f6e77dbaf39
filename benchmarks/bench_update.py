"""Time of `hashrisk update` with nothing new, against the local stand-ins (127.0.0.1; goal < 3 s).

Run: ``python benchmarks/bench_update.py``. One update fills a fresh store from the Coin Metrics, mempool and
blockchain.com stand-ins (tests/data); the timed second update finds nothing new.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "data"))

from servers import RouteServer
from update_standins import FIRST, serve, write_config

from hashrisk.data.config import load_config
from hashrisk.data.update import update

GOAL_S = 3.0


def main() -> None:
    with RouteServer() as srv, tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        config = load_config(path=write_config(home, srv.url))
        serve(srv, FIRST.replace(day=FIRST.day + 10))
        first = update(config, home)
        assert first.status == "ok", first.to_dict()
        t0 = time.perf_counter()
        again = update(config, home)
        elapsed = time.perf_counter() - t0
        changed = sum(r.changed for r in again.results)
        print(f"update with nothing new: {elapsed:.2f} s (goal < {GOAL_S:g} s), {changed} rows changed")
        for r in again.results:
            print("  " + r.line())


if __name__ == "__main__":
    main()
