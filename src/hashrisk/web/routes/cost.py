"""``GET /api/cost``, ``/api/cost-curve`` and ``/api/breakeven``: production cost, cost curve, one machine."""

from __future__ import annotations

import datetime as dt
import math

from fastapi import APIRouter, Depends, Query

from hashrisk.economics.machine import machine_economics
from hashrisk.economics.revenue import hashprice_usd_per_ph_day
from hashrisk.web.models import BreakevenOut, CostCurveOut, CostOut, CurvePoint
from hashrisk.web.params import ERRORS, date_q, price_q
from hashrisk.web.services import WebServices, services

router = APIRouter(tags=["economics"])


@router.get("/api/cost", response_model=CostOut, responses=ERRORS)
def get_cost(
    price_usd: float | None = price_q,
    power_price_usd_per_kwh: float = Query(
        0.05, ge=0, le=5, allow_inf_nan=False, description="Uniform power price [USD/kWh]."
    ),
    date: dt.date | None = date_q,
    svc: WebServices = Depends(services),
) -> CostOut:
    """Production cost per BTC: electricity-only (fleet, CBECI-style bounds), all-in, cost curve."""
    headline = svc.cost_for(date, price_usd, power_price_usd_per_kwh).headline()
    return CostOut.model_validate(headline, from_attributes=True)


@router.get("/api/cost-curve", response_model=CostCurveOut, responses=ERRORS)
def get_cost_curve(
    price_usd: float | None = price_q, date: dt.date | None = date_q, svc: WebServices = Depends(services)
) -> CostCurveOut:
    """The cost curve (cohorts by breakeven) and the share of hashrate underwater at the price."""
    snap = svc.snapshot_for(date, price_usd)
    price = snap.price_usd
    curve = svc.curve_for(date)
    frame = curve.to_frame()
    summ = curve.summary(price)
    return CostCurveOut.model_validate(
        {
            **summ,
            "date": snap.date,
            "hashprice_usd_per_ph_day": float(
                hashprice_usd_per_ph_day(snap.difficulty, snap.subsidy_btc, snap.fees_btc_per_block, price)
            ),
            "marginal_cost_usd": summ["marginal_cost_usd"]
            if math.isfinite(summ["marginal_cost_usd"])
            else None,
            "points": [
                CurvePoint(breakeven_price_usd=b, hashrate_ths=h, cum_share=s)
                for b, h, s in zip(
                    frame["breakeven_price_usd"], frame["hashrate_ths"], frame["cum_share"], strict=True
                )
            ],
        }
    )


@router.get("/api/breakeven", response_model=BreakevenOut, responses=ERRORS)
def get_breakeven(
    model: str = Query(
        ..., min_length=1, max_length=100, description='ASIC catalog model, e.g. "Antminer S19j Pro".'
    ),
    power_price_usd_per_kwh: float = Query(0.06, ge=0, le=5, allow_inf_nan=False),
    pue: float = Query(1.0, ge=1, le=3, allow_inf_nan=False, description="Facility overhead (PUE)."),
    price_usd: float | None = price_q,
    date: dt.date | None = date_q,
    svc: WebServices = Depends(services),
) -> BreakevenOut:
    """One machine: revenue, daily profit, breakeven power price and breakeven BTC price."""
    econ = machine_economics(model, svc.snapshot_for(date, price_usd), power_price_usd_per_kwh, pue)
    return BreakevenOut.model_validate(econ, from_attributes=True)
