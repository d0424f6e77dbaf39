"""Local stand-ins (127.0.0.1) for ``hashrisk update``: Coin Metrics, mempool and blockchain.com on one
`RouteServer`, each in its real response shape, serving daily data from `FIRST` to a chosen last day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from servers import RouteServer

FIRST = dt.date(2026, 11, 10)
DAY_S = 86_400
TIP0 = 960_000  # mempool tip height on FIRST


def _unix(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp())


def _days(last: dt.date) -> list[dt.date]:
    return [FIRST + dt.timedelta(days=i) for i in range((last - FIRST).days + 1)]


def _price(i: int) -> float:
    return 90_000.0 + 100.0 * i


def _chart(name: str, unit: str, points: list[tuple[int, float]]) -> dict[str, Any]:
    return {
        "status": "ok",
        "name": name,
        "unit": unit,
        "period": "day",
        "values": [{"x": x, "y": y} for x, y in points],
    }


def _block(height: int, ts: int) -> dict[str, Any]:
    return {
        "id": f"{height:064x}",
        "height": height,
        "version": 0x20000000,
        "timestamp": ts,
        "bits": 0x17022B91,
        "nonce": 1,
        "difficulty": 1.5e14,
        "merkle_root": "ab" * 32,
        "tx_count": 3000,
        "size": 1_500_000,
        "weight": 3_990_000,
        "previousblockhash": f"{height - 1:064x}",
        "mediantime": ts - 3000,
        "extras": {"totalFees": 2_000_000, "reward": 312_500_000 + 2_000_000, "pool": {"slug": "foundryusa"}},
    }


def serve(srv: RouteServer, last: dt.date, *, down: tuple[str, ...] = ()) -> None:
    """Answer every source's routes with days `FIRST`..`last`; sources in `down` answer HTTP 503."""
    days = _days(last)
    rows = [
        {
            "asset": "btc",
            "time": f"{d.isoformat()}T00:00:00.000000000Z",
            "PriceUSD": str(_price(i)),
            "HashRate": str(1.0e9 + 1e6 * i),
            "DiffMean": "150000000000000",
            "BlkCnt": "144",
            "FeeTotNtv": "3.1",
            "IssTotNtv": "450",
        }
        for i, d in enumerate(days)
    ]
    srv.json("/timeseries/asset-metrics", {"data": rows}, status=503 if "coinmetrics" in down else 200)
    xs = [_unix(d) for d in days]
    blockchain = {
        "hash-rate": _chart("Hash Rate", "TH/s", [(x, 1.0e9 + 1e6 * i) for i, x in enumerate(xs)]),
        "difficulty": _chart("Difficulty", "Difficulty", [(x, 1.5e14) for x in xs]),
        "market-price": _chart("Market Price (USD)", "USD", [(x, _price(i)) for i, x in enumerate(xs)]),
        "transaction-fees": _chart("Transaction Fees", "BTC", [(x, 3.0) for x in xs]),
        "n-blocks-total": _chart("Blocks", "Blocks", [(x, TIP0 + 144 * i) for i, x in enumerate(xs)]),
    }
    for name, body in blockchain.items():
        srv.json(f"/charts/{name}", body, status=503 if "blockchain" in down else 200)
    mstatus = 503 if "mempool" in down else 200
    hashrate = {
        "hashrates": [{"timestamp": x, "avgHashrate": (1.0e9 + 1e6 * i) * 1e12} for i, x in enumerate(xs)],
        "difficulty": [],
        "currentHashrate": 1.0e21,
        "currentDifficulty": 1.5e14,
    }
    for period in ("1w", "1m", "3m", "6m", "1y", "2y", "3y", "all"):
        srv.json(f"/api/v1/mining/hashrate/{period}", hashrate, status=mstatus)
    prices = {"prices": [{"time": x + 43_200, "USD": _price(i)} for i, x in enumerate(xs)][::-1]}
    srv.json("/api/v1/historical-price", prices, status=mstatus)
    adjustments = [[_unix(FIRST) - 3 * DAY_S, 959_616, 1.5e14, 1.01]]
    srv.json("/api/v1/mining/difficulty-adjustments", adjustments, status=mstatus)
    tip = TIP0 + 144 * (len(days) - 1)
    tip_time = xs[-1] + 43_200
    srv.json("/api/v1/blocks", [_block(tip - k, tip_time - 600 * k) for k in range(15)], status=mstatus)
    h0 = tip - tip % 2016
    first = [_block(h0 + 14 - k, tip_time - 600 * (tip - h0 - 14 + k)) for k in range(15)]
    srv.json(f"/api/v1/blocks/{h0 + 14}", first, status=mstatus)


def write_config(home: Path, url: str, *, bitcoind: str | None = None, cookie: Path | None = None) -> Path:
    """A config.toml pointing every source at the stand-in (and at an RPC stand-in when given)."""
    home.mkdir(parents=True, exist_ok=True)
    node = (
        f'[sources.bitcoind]\nenabled = true\nrpc_url = "{bitcoind}"\ncookie_file = "{cookie}"\n'
        if bitcoind
        else ""
    )
    text = (
        f'[sources.coinmetrics]\nbase_url = "{url}"\napi_key_env = "HASHRISK_TEST_NO_KEY"\n'
        f'[sources.mempool]\nbase_url = "{url}/api"\n'
        f'[sources.blockchain]\nbase_url = "{url}"\n'
        f"{node}[http]\ntimeout_s = 5.0\n"
    )
    path = home / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path
