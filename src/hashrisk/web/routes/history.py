"""``GET /api/history``, ``/api/history/coverage`` and ``/api/changes``: the tracking history over a window
and "What changed" (:mod:`hashrisk.analytics.tracking`), cached per store state (a write to the store makes
a new state), so repeated requests are answered from memory."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from hashrisk.errors import InputError
from hashrisk.web.models import ChangesOut, CoverageOut, HistoryOut
from hashrisk.web.params import ERRORS
from hashrisk.web.services import WebServices, services

router = APIRouter(tags=["history"])

MAX_POINTS = 100_000
DEFAULT_POINTS = 1_000

since_q = Query(None, description="First day of the window (default: two years before `until`).")
until_q = Query(None, description="Last day of the window (default: `date`, else the newest stored day).")
as_of_q = Query(
    None, description="The as-of day (the dashboard's date picker): `until` when that is not given."
)


def _until(until: dt.date | None, date: dt.date | None) -> dt.date | None:
    if until is not None and date is not None and until != date:
        raise InputError("until", until.isoformat(), f"the same day as date ({date}) when both are given")
    return until if until is not None else date


def _json(body: bytes) -> Response:
    return Response(content=body, media_type="application/json")


@router.get("/api/history/coverage", response_model=CoverageOut, responses=ERRORS)
def get_coverage(svc: WebServices = Depends(services)) -> CoverageOut:
    """Which days of daily history are stored (``stored`` false when none)."""
    return CoverageOut.model_validate(svc.coverage())


@router.get("/api/history", response_model=HistoryOut, responses=ERRORS)
def get_history(
    since: dt.date | None = since_q,
    until: dt.date | None = until_q,
    date: dt.date | None = as_of_q,
    max_points: int = Query(
        DEFAULT_POINTS,
        ge=0,
        le=MAX_POINTS,
        description="Most days returned, thinned for display (every k-th day; 0: every day).",
    ),
    svc: WebServices = Depends(services),
) -> Response:
    """The daily tracking history: price against the cost band, hashrate, difficulty and retargets,
    hashprice, revenue, the share underwater, hash ribbons and capitulation spans, the Puell multiple."""
    if max_points == 1:
        raise InputError("max_points", max_points, "0 (every day) or a whole number >= 2")
    start, end = svc.window(since, _until(until, date), None)
    return _json(svc.history_json(start, end, max_points))


@router.get("/api/changes", response_model=ChangesOut, responses=ERRORS)
def get_changes(
    since: dt.date | None = Query(None, description="First day (default: 30 days before `until`)."),
    until: dt.date | None = until_q,
    date: dt.date | None = as_of_q,
    svc: WebServices = Depends(services),
) -> Response:
    """What changed: the events between two days, each with the rule that fired and its numbers."""
    start, end = svc.window(since, _until(until, date), 30)
    return _json(svc.changes_json(start, end))
