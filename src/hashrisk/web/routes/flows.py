"""``GET /api/flows``: US DB pension rebalancing and treasury buying against miners' selling."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends

from hashrisk._json import jsonable
from hashrisk.web.models import FlowsOut
from hashrisk.web.params import ERRORS, date_q, price_q
from hashrisk.web.services import WebServices, services

router = APIRouter()


@router.get("/api/flows", response_model=FlowsOut, responses=ERRORS, tags=["flows"])
def get_flows(
    price_usd: float | None = price_q, date: dt.date | None = date_q, svc: WebServices = Depends(services)
) -> FlowsOut:
    """Institutional flows: US DB pension rebalancing (JPMorgan's framework, packaged June-2026 inputs)
    and treasury buying against miners' selling at the snapshot (``hashrisk flows pensions|btc``)."""
    from hashrisk.flows.btc import BtcFlowInputs, btc_flows

    snap = svc.snapshot_for(date, price_usd)
    flows = btc_flows(BtcFlowInputs.packaged(), snap, svc.cost_for(date, price_usd, 0.05))
    return FlowsOut(pensions=svc.pensions_summary(), btc=jsonable(flows.summary()))
