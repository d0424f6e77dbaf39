"""``GET /api/miners`` (listed miners' disclosed figures, BTC produced vs sold per quarter) and
``GET /api/hpc/progress`` (their AI/HPC contracts: MW contracted against delivered), from the packaged, cited
datasets (:mod:`hashrisk.flows.listed`, :mod:`hashrisk.flows.hpc_contracts`). No store, no network; a value a
company did not disclose is null, never 0."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hashrisk._json import jsonable
from hashrisk.errors import InputError
from hashrisk.web.params import ERRORS

router = APIRouter()


# ------------------------------------------------------------------------------------------- models
class DisclosedRow(BaseModel):
    """One company's figures for one period, in the schema of :mod:`hashrisk.flows.miners` (null = not
    disclosed); ``missing`` names the required values it lacks, ``complete`` is true when none."""

    company: str
    period: str
    btc_produced: float | None = None
    btc_held: float | None = None
    btc_sold: float | None = None
    hashrate_ths: float | None = Field(default=None, description="energized (or installed, see notes) [TH/s]")
    fleet_efficiency_j_per_th: float | None = None
    power_cost_usd_per_kwh: float | None = None
    cash_usd: float | None = None
    debt_usd: float | None = None
    hpc_revenue_usd: float | None = None
    source: str
    source_date: str
    missing: list[str]
    complete: bool
    notes: str = ""


class QuarterSales(BaseModel):
    """BTC produced and sold by one company in one calendar quarter, with how the quarter is covered."""

    company: str
    quarter: str
    btc_produced: float | None = None
    btc_sold: float | None = None
    basis_produced: str = Field(description="quarter, months or none")
    basis_sold: str
    months_produced: int
    months_sold: int
    missing_produced: str = Field(description="months not reported, comma-separated")
    missing_sold: str


class QuarterTotal(BaseModel):
    """Totals of one quarter over the companies that reported (null when none did)."""

    quarter: str
    btc_produced: float | None = None
    btc_sold: float | None = None
    n_companies_produced: int
    n_companies_sold: int
    incomplete_companies: str


class SalesOut(BaseModel):
    """Quarterly production against sales."""

    per_company: list[QuarterSales]
    totals: list[QuarterTotal]


class CoverRow(BaseModel):
    """Months of production that a company's holdings equal (latest period with both figures)."""

    company: str
    period: str | None = None
    btc_held: float | None = None
    btc_produced_per_month: float | None = None
    cover_months: float | None = None


class HoldingRow(BaseModel):
    """BTC held at the end of one disclosed period."""

    company: str
    period: str
    period_end: dt.date
    btc_held: float


class MinersOut(BaseModel):
    """Listed miners' disclosures (packaged dataset ``hashrisk/flows/data/listed_miners.csv``, one source per
    value): latest figures per company, production against sales per quarter with coverage, holdings, and the
    published Q1-2026 figure (>32,000 BTC sold by six miners) with how far the dataset reaches towards it."""

    dataset: dict[str, Any]
    period: str | None = None
    companies: list[DisclosedRow]
    missing: dict[str, list[str]]
    quarterly_sales: SalesOut
    holdings_cover_months: list[CoverRow]
    holdings: list[HoldingRow]
    published_comparison: dict[str, Any]
    share_sold_evidence: dict[str, Any]


class HpcFigures(BaseModel):
    """Contracted against delivered AI/HPC MW of one group (company or total) at one date."""

    n_contracts: float
    contracted_mw: float
    delivered_mw: float | None = Field(default=None, description="null: no delivery disclosed")
    contracted_mw_with_disclosure: float
    delivered_share_disclosed: float | None = None
    delivered_share_low: float | None = Field(
        default=None, description="delivered / contracted, undisclosed counted as none"
    )
    undelivered_mw: float
    contract_value_usd: float
    active_value_usd: float
    backlog_usd: float
    n_value_undisclosed: float


class HpcSeriesRow(HpcFigures):
    """One date (announcement or disclosure) and group of the progress table."""

    date: dt.date
    company: str


class HpcProgressOut(BaseModel):
    """Listed miners' AI/HPC contracts (packaged dataset ``hpc_contracts.csv``/``hpc_deliveries.csv``): MW
    contracted against delivered per company and in total, over time, beside VanEck's ~25% delivered share."""

    as_of: dt.date
    total: HpcFigures
    by_company: dict[str, HpcFigures]
    series: list[HpcSeriesRow]
    contracts_without_delivery_disclosure: list[str]
    vaneck_delivered_share: float
    vaneck_source: str
    assumptions: list[str]


# ------------------------------------------------------------------------------------------- routes
@router.get("/api/miners", response_model=MinersOut, responses=ERRORS, tags=["flows"])
def get_miners(
    period: str | None = Query(
        None, max_length=10, description="A period of the dataset, YYYY-MM or YYYYQn (default: each latest)."
    ),
) -> MinersOut:
    """Listed miners' disclosed figures and their BTC production against sales per quarter
    (``hashrisk miners --json`` without a file)."""
    from hashrisk.flows.listed import dataset_overview

    try:
        overview = dataset_overview(period)
    except ValueError as exc:
        raise InputError("period", period, str(exc)) from None
    return MinersOut.model_validate(jsonable(overview))


@router.get("/api/hpc/progress", response_model=HpcProgressOut, responses=ERRORS, tags=["flows"])
def get_hpc_progress(
    as_of: dt.date | None = Query(None, description="Last date (default: the newest in the data)."),
) -> HpcProgressOut:
    """AI/HPC contracts of listed miners: MW contracted against delivered over time, backlog, delivered share
    (``hashrisk hpc progress --json``)."""
    from hashrisk.flows.hpc_contracts import progress

    result = progress(as_of)
    body = {**result.summary(), "series": result.to_frame().to_dict("records")}
    return HpcProgressOut.model_validate(jsonable(body))
