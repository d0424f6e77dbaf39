"""``GET /api/onchain``: pools and coinbase flows from the user's own node (issue 15).

Reads what ``hashrisk data fetch --source bitcoind --coinbase`` stored (read-only) and answers
`hashrisk.analytics.onchain.requested_onchain_view`, set beside the listed miners' disclosed sales. With nothing
stored the answer is ``stored: false`` with empty lists (not an error: the dashboard panel says how to scan).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query

from hashrisk.chain.subsidy import GENESIS_DATE
from hashrisk.errors import InputError
from hashrisk.web.models_onchain import OnchainOut
from hashrisk.web.params import ERRORS
from hashrisk.web.services import WebServices, services

router = APIRouter(tags=["onchain"])


@router.get("/api/onchain", response_model=OnchainOut, responses=ERRORS)
def get_onchain(
    since: dt.date | None = Query(None, description="First UTC day of blocks (default: everything scanned)."),
    pool: str | None = Query(
        None, max_length=100, description='Only this pool (case-insensitive, e.g. "Foundry USA", "unknown").'
    ),
    svc: WebServices = Depends(services),
) -> OnchainOut:
    """Pool distribution (95% Wilson intervals), coinbase BTC moved vs mined per day, first hop, spent-within
    shares, and quarters beside the listed miners' disclosed sales."""
    from hashrisk.analytics.onchain import requested_onchain_view
    from hashrisk.data.coinbase import read_onchain
    from hashrisk.data.store import Store
    from hashrisk.flows.listed import quarterly_sales

    if since is not None and not GENESIS_DATE <= since <= dt.datetime.now(dt.UTC).date():
        raise InputError(
            "since", since.isoformat(), f"a UTC day from {GENESIS_DATE} (the genesis block) to today"
        )
    with Store(svc.home, read_only=True) as store:
        data = read_onchain(store, since)
    if data["last_time"] is None:
        return OnchainOut(stored=False)
    view = requested_onchain_view(
        data,
        since=since,
        pool=pool,
        sales_totals=quarterly_sales()[1],
        since_field="since",
        pool_field="pool",
    )
    return OnchainOut(stored=True, **view.to_dict())
