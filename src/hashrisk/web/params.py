"""Query parameters shared by several routes (one definition, so the OpenAPI spec states them once)."""

from __future__ import annotations

from typing import Any

from fastapi import Query

from hashrisk.web.models import MAX_PRICE_USD, ErrorOut

price_q = Query(
    None,
    gt=0,
    le=MAX_PRICE_USD,
    allow_inf_nan=False,
    description="BTC price [USD] (default: snapshot's).",
)
date_q = Query(None, description="Use the stored snapshot of this day (default: the embedded one).")

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorOut,
        "description": "A request body that is not valid JSON, or a Host header the server does not answer.",
    },
    404: {
        "model": ErrorOut,
        "description": "Nothing stored for the date, a name not in the catalog (with the closest names), "
        "or an unknown route.",
    },
    422: {"model": ErrorOut, "description": "Invalid input: the field, the value and what is allowed."},
}
"""The error responses every API route documents."""
