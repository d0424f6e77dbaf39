"""A writer killed with SIGKILL in the middle of a batch leaves the store openable, with the old or the new
batch and never half of one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hashrisk.data.store import Store

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")

N_OLD = 1_000_000
N_NEW = 1_600_000

_WRITER = textwrap.dedent(
    """
    import logging, sys
    import numpy as np, pandas as pd
    from hashrisk.data.store import Store

    class Say(logging.Handler):
        def emit(self, record):
            print(record.getMessage(), flush=True)

    logger = logging.getLogger("hashrisk.data.store")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(Say())
    n = int(sys.argv[2])
    heights = np.arange(n)
    batch = pd.DataFrame({"height": heights, "difficulty": 2.0, "fees_sats": 7, "tx_count": 2,
                          "time": 1_231_006_505 + 300 * heights})
    with Store(sys.argv[1]) as store:
        store.upsert_blocks(batch, "new")
    print("closed", flush=True)
    """
)


def _old_batch(home: Path) -> None:
    heights = np.arange(N_OLD)
    frame = pd.DataFrame(
        {
            "height": heights,
            "difficulty": 1.0,
            "fees_sats": 0,
            "tx_count": 1,
            "time": 1_231_006_505 + 300 * heights,
        }
    )
    with Store(home) as store:
        assert store.upsert_blocks(frame, "old") == N_OLD


def _state(home: Path) -> str:
    """'old' or 'new' when the blocks table holds exactly one whole batch; fails otherwise."""
    with Store(home, lock_timeout_s=30) as store:  # opens (replaying the WAL if any) and migrates nothing
        rows = store.con.execute(
            "SELECT count(*), min(difficulty), max(difficulty), count(DISTINCT source), min(source), "
            "sum(fees_sats), max(height) FROM blocks"
        ).fetchone()
        logged = store.con.execute("SELECT count(*) FROM imports WHERE source = 'new'").fetchone()
    assert rows is not None and logged is not None
    count, low, high, sources, source, fees, top = rows
    if (count, low, high, sources, source, fees, top) == (N_OLD, 1.0, 1.0, 1, "old", 0, N_OLD - 1):
        assert logged[0] == 0
        return "old"
    assert (count, low, high, sources, source, fees, top) == (N_NEW, 2.0, 2.0, 1, "new", 7 * N_NEW, N_NEW - 1)
    assert logged[0] == 1
    return "new"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("wait_for", "delay_s"),
    [("writing", 0.0), ("writing", 0.3), ("writing", 0.8), ("committed", 0.0)],
)
def test_sigkill_mid_import_leaves_old_or_new_batch(tmp_path: Path, wait_for: str, delay_s: float) -> None:
    home = tmp_path / "store"
    _old_batch(home)
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(home), str(N_NEW)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    marker = {"writing": "upsert blocks (replace): writing", "committed": "upsert blocks: committed"}[
        wait_for
    ]
    seen: list[str] = []
    try:
        for line in proc.stdout:  # "writing": validated, the INSERT has begun; "committed": COMMIT returned
            seen.append(line.strip())
            if line.startswith(marker):
                break
        else:
            pytest.fail(
                f"writer ended before {wait_for!r}: {seen} {proc.stderr.read() if proc.stderr else ''}"
            )
        time.sleep(delay_s)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    state = _state(home)  # asserts a whole batch, old or new
    if wait_for == "committed":
        assert state == "new"  # a committed batch survives the kill (WAL replay)
    elif delay_s == 0.0:
        assert proc.returncode == -signal.SIGKILL and state == "old"
    # after either outcome the store takes the next batch as usual
    with Store(home) as store:
        again = pd.DataFrame({"height": [N_NEW + 5], "difficulty": [3.0]})
        assert store.upsert_blocks(again, "later") == 1
        assert store.last_block_height() == N_NEW + 5
