"""``GET /api/snapshot`` and ``GET /api/next-adjustment``: the network state (with its "as of") and the next retarget
(from the stored blocks of the period in progress when the store holds them)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends

from hashrisk.data.stored_snapshot import as_of
from hashrisk.web.models import AdjustmentOut, SnapshotOut
from hashrisk.web.params import ERRORS, date_q
from hashrisk.web.services import WebServices, services

snapshot_router = APIRouter()
chain_router = APIRouter()


@snapshot_router.get("/api/snapshot", response_model=SnapshotOut, responses=ERRORS, tags=["data"])
def get_snapshot(date: dt.date | None = date_q, svc: WebServices = Depends(services)) -> SnapshotOut:
    """The network snapshot, with the source of every field."""
    snap = svc.snapshot_for(date)
    return SnapshotOut.model_validate({**snap.to_dict(), "as_of": as_of(snap).to_dict()})


@chain_router.get("/api/next-adjustment", response_model=AdjustmentOut, responses=ERRORS, tags=["chain"])
def get_next_adjustment(date: dt.date | None = date_q, svc: WebServices = Depends(services)) -> AdjustmentOut:
    """The next difficulty adjustment: the estimate, what is known and what is assumed."""
    return AdjustmentOut.model_validate(svc.adjustment_for(date).summary())
