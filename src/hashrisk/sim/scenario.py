"""The scenario: everything a simulation run needs, as one validated pydantic model.

A scenario is written as YAML (or JSON, which YAML reads too); ``hashrisk scenario new FILE`` writes the
annotated default (:func:`default_scenario_yaml`), with every field's description as a comment. Each
default number is either a **fact** (with its source and date) or a labelled **assumption** that the user
is expected to override; the descriptions say which.

Parameters are addressed by dotted path (``"price.vol"``, ``"fleet.deploy.lead_time_days"``,
``"fleet.spec.classes.0.share"``) so calibration and sweeps can set them programmatically::

    >>> s = Scenario().with_params({"price.vol": 0.8, "paths": 500})
    >>> s.get_param("price.vol")
    0.8

Nothing here reads files: ``Scenario.from_yaml_text`` parses text; the CLI reads files and fills the
``csv``/``file`` references (price paths, fleet TOML) before the engine runs.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import textwrap
import types
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hashrisk._yaml import load_yaml
from hashrisk.economics.fleet import FleetSpec
from hashrisk.errors import InputError, from_validation_error

DEFAULT_MAX_PATHS = 2_000_000
"""Default ceiling on ``paths`` (override with the environment variable ``HASHRISK_MAX_PATHS``)."""
MAX_HORIZON_DAYS = 3_650
"""Longest horizon accepted [days] (ten years)."""
FITTED_MAX_GROWTH_PER_YEAR = 1.0
"""Deployment cap fitted on the 2016-2021 origins of the rolling-origin evaluation (hashrisk.sim.evaluate)."""
FITTED_UNEXPLAINED_LOG_SD = 0.08
"""Log-sd per 14 days of unexplained hashrate moves: minimum mean CRPS (both modes) of the 2016-2021 origins on
the grid 0.04-0.12 (step 0.02), with the fitted deployment cap."""
PRICE_MODELS = ("gbm", "jump", "bootstrap", "path")


def max_paths() -> int:
    """The configured ceiling on ``paths``: ``$HASHRISK_MAX_PATHS`` or 2,000,000.

    Raises
    ------
    InputError
        If the environment variable is not a positive integer.
    """
    raw = os.environ.get("HASHRISK_MAX_PATHS")
    if raw is None or raw.strip() == "":
        return DEFAULT_MAX_PATHS
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise InputError("HASHRISK_MAX_PATHS", raw, "a positive integer") from None
    if value < 1:
        raise InputError("HASHRISK_MAX_PATHS", raw, "a positive integer")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


# --------------------------------------------------------------------------------------------- start state
class StartSpec(_Model):
    """Start state: the network snapshot the paths start from, with optional field overrides."""

    start_date: dt.date | None = Field(
        default=None,
        description="Start from the stored snapshot of this day (YYYY-MM-DD; the CLI resolves it from the data "
        "store). null: the embedded 2026-06-01 snapshot (facts from Coin Metrics and Electrum checkpoints; "
        "`hashrisk cost --json` shows them with sources).",
    )
    price_usd: float | None = Field(
        default=None, gt=0, allow_inf_nan=False, description="Override the start BTC price [USD/BTC]."
    )
    difficulty: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="Override the difficulty in force [-]; it is rounded to a compact nBits like the chain's.",
    )
    hashrate_ths: float | None = Field(
        default=None, gt=0, allow_inf_nan=False, description="Override the start network hashrate [TH/s]."
    )
    fees_btc_per_block: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, description="Override the start fees [BTC/block]."
    )
    height: int | None = Field(
        default=None,
        ge=0,
        description="Override the height of the last block mined at the start [blocks]. The embedded "
        "snapshot's 951,552 is the first block of its difficulty period (mined at the start time).",
    )
    epoch_start_offset_s: int | None = Field(
        default=None,
        ge=0,
        description="Seconds before the start at which the current period's first block was mined. null: "
        "0 when `height` is a period's first block, else (blocks already mined in the period) x the mean "
        "block interval at the start hashrate (assumption).",
    )


# --------------------------------------------------------------------------------------------- price models
class ShockSpec(_Model):
    """A deterministic move overlaid on a price model's drift."""

    total_return: float = Field(
        gt=-1,
        le=10,
        allow_inf_nan=False,
        description="Price change over the shock window as a fraction (-0.2 = -20%). Each of the first `days` "
        "daily log returns gets log(1 + total_return) / days added; after the window the model's own drift "
        "applies.",
    )
    days: int = Field(default=30, ge=1, le=MAX_HORIZON_DAYS, description="Length of the shock window [days].")


class _StochasticPrice(_Model):
    drift: float = Field(
        default=0.0,
        ge=-5,
        le=5,
        allow_inf_nan=False,
        description="Expected return [1/year, continuously compounded]: E[P_t] = P_0 exp(drift t). "
        "Assumption: 0 (no view on the direction of the price).",
    )
    shock: ShockSpec | None = Field(
        default=None, description="Optional deterministic shock on top of the drift (see `hashrisk stress`)."
    )


class GbmPrice(_StochasticPrice):
    """Geometric Brownian motion: ``r_t = (drift - vol^2/2)/365 + vol/sqrt(365) Z_t``, Z standard normal."""

    model: Literal["gbm"] = Field(default="gbm", description="Price model: gbm | jump | bootstrap | path.")
    vol: float = Field(
        default=0.5,
        ge=0,
        le=5,
        allow_inf_nan=False,
        description="Annualised volatility of daily log returns [1/sqrt(year)]. Assumption: 0.5, of the order "
        "of BTC's realised volatility in 2024-25 (40-60%).",
    )


class JumpPrice(_StochasticPrice):
    """GBM plus Merton log-normal jumps, or GBM with Student-t daily shocks (fat tails).

    Merton (1976): ``r_t = (drift - vol^2/2 - rate k)/365 + vol/sqrt(365) Z_t + sum_{i<=N_t} J_i`` with
    ``N_t ~ Poisson(rate/365)``, ``J_i ~ N(jump_mean, jump_vol^2)``, ``k = exp(jump_mean + jump_vol^2/2) - 1``
    (the compensator keeps ``E[P_t] = P_0 exp(drift t)``).
    Student-t: ``r_t = (drift - vol^2/2)/365 + vol/sqrt(365) T_t sqrt((df-2)/df)``, T_t Student-t with `df`
    degrees of freedom scaled to unit variance (E[exp r] is infinite for t tails, so `drift` sets the
    log-drift ``drift - vol^2/2`` here, not the mean).
    """

    model: Literal["jump"] = Field(default="jump", description="Price model: gbm | jump | bootstrap | path.")
    vol: float = Field(
        default=0.45,
        ge=0,
        le=5,
        allow_inf_nan=False,
        description="Annualised volatility of the diffusion part [1/sqrt(year)]. Assumption (with the jumps "
        "the total is near 0.5).",
    )
    tails: Literal["merton", "student_t"] = Field(
        default="merton", description="merton: log-normal jumps; student_t: fat-tailed daily shocks."
    )
    jump_rate_per_year: float = Field(
        default=8.0,
        ge=0,
        le=365,
        allow_inf_nan=False,
        description="Mean number of jumps per year (merton). Assumption.",
    )
    jump_mean: float = Field(
        default=-0.03,
        ge=-2,
        le=2,
        allow_inf_nan=False,
        description="Mean log size of a jump (merton). Assumption: crashes slightly more often than spikes.",
    )
    jump_vol: float = Field(
        default=0.06,
        ge=0,
        le=2,
        allow_inf_nan=False,
        description="Standard deviation of the log jump size (merton). Assumption.",
    )
    df: float = Field(
        default=4.0,
        gt=2,
        le=1000,
        allow_inf_nan=False,
        description="Degrees of freedom of the Student-t shocks (student_t). Assumption: daily crypto returns "
        "show tail indices of about 3-5.",
    )


def _check_prices(prices: list[float] | None) -> list[float] | None:
    if prices is not None:
        for i, p in enumerate(prices):
            if not math.isfinite(p) or p <= 0:
                raise ValueError(f"every price must be finite and > 0: prices_usd[{i}] = {p!r}")
    return prices


def _check_dates(dates: list[dt.date] | None) -> list[dt.date] | None:
    if dates is not None:
        for i in range(1, len(dates)):
            if (dates[i] - dates[i - 1]).days != 1:
                raise ValueError(
                    f"dates must be consecutive days: {dates[i - 1]} is followed by {dates[i]} "
                    "(a gap, or a repeated or unsorted date)"
                )
    return dates


def _check_lengths(dates: list[dt.date] | None, prices: list[float] | None) -> None:
    if dates is not None and (prices is None or len(dates) != len(prices)):
        raise ValueError("dates and prices_usd must have the same length")


class BootstrapPrice(_StochasticPrice):
    """Moving-block bootstrap of historical daily log returns.

    Each path is a concatenation of blocks of `block_days` consecutive historical returns, each block
    starting at a uniformly drawn day. With `demean` the historical mean is removed and ``drift/365`` added.
    """

    model: Literal["bootstrap"] = Field(
        default="bootstrap", description="Price model: gbm | jump | bootstrap | path."
    )
    log_returns: list[float] | None = Field(
        default=None, description="Historical daily log returns (e.g. from the data store)."
    )
    prices_usd: list[float] | None = Field(
        default=None, description="Historical daily prices [USD/BTC], used when `log_returns` is null."
    )
    dates: list[dt.date] | None = Field(default=None, description="Dates of `prices_usd` (consecutive days).")
    csv: str | None = Field(
        default=None,
        description="A CSV file `date,price_usd` (path relative to the scenario file); the CLI loads it "
        "into `prices_usd` and `dates`.",
    )
    from_store: bool = Field(
        default=False,
        description="Use the daily prices in the local data store (the CLI loads them into `log_returns`: "
        "returns between consecutive stored days from `history_start` to `history_end`).",
    )
    history_start: dt.date | None = Field(
        default=None, description="First stored day used with `from_store` (null: the first stored price)."
    )
    history_end: dt.date | None = Field(
        default=None, description="Last stored day used with `from_store` (null: the last stored price)."
    )
    block_days: int = Field(
        default=10,
        ge=1,
        le=365,
        description="Block length [days]. Assumption: 10 days keeps short-range volatility clustering.",
    )
    demean: bool = Field(
        default=True,
        description="Remove the historical mean return and use `drift` instead. Assumption: true (the "
        "history's trend is not a forecast).",
    )

    _prices = field_validator("prices_usd")(_check_prices)
    _dates = field_validator("dates")(_check_dates)

    @field_validator("log_returns")
    @classmethod
    def _finite(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and any(not math.isfinite(r) for r in value):
            raise ValueError("log_returns must be finite numbers")
        return value

    @model_validator(mode="after")
    def _source(self) -> BootstrapPrice:
        if self.log_returns is None and self.prices_usd is None and self.csv is None and not self.from_store:
            raise ValueError("give `log_returns`, `prices_usd`, `csv` or `from_store: true`")
        if self.history_start and self.history_end and self.history_start > self.history_end:
            raise ValueError("history_start must not be after history_end")
        _check_lengths(self.dates, self.prices_usd)
        return self


class PathPrice(_Model):
    """A deterministic price path: day ``t`` of the simulation has price ``prices_usd[t]``.

    The path's first price replaces the snapshot's start price; its dates, when given, must be consecutive
    days, and it must cover the horizon. With the sales feedback on, the path is the exogenous price and
    the impact of miners' sales is applied on top of it.
    """

    model: Literal["path"] = Field(default="path", description="Price model: gbm | jump | bootstrap | path.")
    prices_usd: list[float] | None = Field(default=None, description="Daily prices [USD/BTC], day 0 first.")
    dates: list[dt.date] | None = Field(default=None, description="Dates of `prices_usd` (consecutive days).")
    csv: str | None = Field(
        default=None,
        description="A CSV file `date,price_usd` (path relative to the scenario file, or --price-path); the "
        "CLI loads it into `prices_usd` and `dates`.",
    )

    _prices = field_validator("prices_usd")(_check_prices)
    _dates = field_validator("dates")(_check_dates)

    @model_validator(mode="after")
    def _source(self) -> PathPrice:
        if self.prices_usd is None and self.csv is None:
            raise ValueError("give `prices_usd` (with optional `dates`) or `csv`")
        if self.prices_usd is not None and len(self.prices_usd) < 1:
            raise ValueError("prices_usd must hold at least one price")
        _check_lengths(self.dates, self.prices_usd)
        return self


PriceModel = Annotated[GbmPrice | JumpPrice | BootstrapPrice | PathPrice, Field(discriminator="model")]


# --------------------------------------------------------------------------------------------- fees
class FeeSpec(_Model):
    """Transaction fees per block.

    ``fees_btc_per_block_t = level * (P_t / P_0)^e * exp(sigma eps_t - sigma^2/2)``, ``eps_t`` iid standard
    normal (mean-one lognormal noise), with ``e = 0`` for ``level`` and ``e = 1`` for ``proportional``
    (fee demand in BTC rising and falling with the price).
    """

    model: Literal["level", "proportional"] = Field(
        default="level",
        description="level: fees per block fluctuate around a constant level [BTC]; proportional: the level "
        "scales with price / start price.",
    )
    level_btc_per_block: float | None = Field(
        default=None,
        ge=0,
        le=1_000,
        allow_inf_nan=False,
        description="Mean fees [BTC/block]. null: the start snapshot's (fact: 0.023 BTC/block on 2026-06-01, "
        "Coin Metrics FeeTotNtv ~3.3 BTC/day).",
    )
    sigma: float = Field(
        default=0.3,
        ge=0,
        le=3,
        allow_inf_nan=False,
        description="Log-sd of the daily fee noise. Assumption: 0.3.",
    )


# --------------------------------------------------------------------------------------------- fleet
class DeploySpec(_Model):
    """New hardware: orders respond to the all-in margin of new machines and arrive after a lead time.

    ``orders_ths_t = installed_ths_t * max_growth_per_year / 365 * clip(margin_t / full_margin, 0, 1)`` with
    ``margin_t = 1 - allin_cost_usd_per_ths_day / revenue_usd_per_ths_day_t`` (all-in = power and other cash
    opex + hardware depreciation); orders of day t start hashing on day ``t + lead_time_days`` in one
    dedicated "new deployments" cohort. The pipeline at the start holds the orders the rule places at the
    start state (steady state).
    """

    enabled: bool = Field(default=True, description="Model new deployments.")
    hardware_class: str | None = Field(
        default=None,
        description="Hardware class of new machines (a class name of the fleet). null: the fleet's most "
        "efficient class.",
    )
    power_price_usd_per_kwh: float | None = Field(
        default=None,
        ge=0,
        allow_inf_nan=False,
        description="Power price of new sites [USD/kWh]. null: the fleet's median power price (assumption).",
    )
    pue: float = Field(
        default=1.10,
        ge=1,
        le=3,
        allow_inf_nan=False,
        description="Overhead of new sites. Assumption: 1.10, CBECI's best-guess PUE.",
    )
    lead_time_days: int = Field(
        default=90,
        ge=1,
        le=1_000,
        description="Days from order to hashing. Assumption: about a quarter (delivery, installation).",
    )
    max_growth_per_year: float = Field(
        default=FITTED_MAX_GROWTH_PER_YEAR,
        ge=0,
        le=10,
        allow_inf_nan=False,
        description="Cap on new orders as a share of installed hashrate per year. Assumption, fitted: 1.0 "
        "minimised the difficulty MAE at 2-6 retargets of `hashrisk evaluate` on the 2016-2021 origins (grid "
        "0.5-1.5; the earlier assumption 0.5 left the median 3-7% low).",
    )
    full_margin: float = Field(
        default=0.5,
        gt=0,
        le=1,
        allow_inf_nan=False,
        description="All-in margin of new machines at which orders reach the cap (linear below). Assumption.",
    )


class FleetBehaviour(_Model):
    """The fleet as cost cohorts and how they behave.

    Cohorts: the economics fleet model (:func:`hashrisk.economics.fleet.build_fleet`) sorted by cash cost per
    TH/s and cut into `cohorts` equal-hashrate groups (cost = the group's hashrate-weighted mean).
    Each day a cohort compares the expected revenue per TH/s (hashprice at the day's price, difficulty,
    subsidy and fees) with its cash cost (power x PUE + other cash opex): ratio ``r = revenue / cost``.
    An online cohort switches off when ``r < 1 - hysteresis``; an offline one switches back on after
    ``r >= 1 + hysteresis`` held for `on_lag_days` consecutive days; after `retire_after_days` consecutive
    days with ``r < 1`` it retires for good (the new-deployments cohort never retires).
    """

    cohorts: int = Field(
        default=32, ge=1, le=1_000, description="Number of equal-hashrate cost cohorts the fleet is cut into."
    )
    spec: FleetSpec | None = Field(
        default=None,
        description="Fleet description (layout of hashrisk/economics/data/fleet_default.toml). null: the "
        "packaged default fleet (labelled assumptions).",
    )
    file: str | None = Field(
        default=None,
        description="A fleet TOML file (path relative to the scenario file); the CLI loads it into `spec`.",
    )
    initial_online: Literal["profitable", "all"] = Field(
        default="profitable",
        description="profitable: cohorts with r >= 1 - hysteresis at the start are online and sum to the "
        "start hashrate, the others are installed but off; all: every cohort online. Assumption.",
    )
    hysteresis: float = Field(
        default=0.05,
        ge=0,
        lt=1,
        allow_inf_nan=False,
        description="Half-width of the on/off band around breakeven. Assumption: 5% (switching has costs).",
    )
    on_lag_days: int = Field(
        default=3,
        ge=1,
        le=365,
        description="Days the ratio must stay above 1 + hysteresis before an offline cohort restarts. "
        "Assumption.",
    )
    retire_after_days: int | None = Field(
        default=90,
        ge=1,
        le=MAX_HORIZON_DAYS,
        description="Consecutive days underwater (r < 1) after which a cohort retires for good. null: never. "
        "Assumption: a quarter.",
    )
    deploy: DeploySpec = Field(default_factory=DeploySpec, description="New deployments.")
    unexplained_log_sd: float = Field(
        default=FITTED_UNEXPLAINED_LOG_SD,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Hashrate moves no price explains (curtailment, bans, weather, hardware waves): the online "
        "hashrate is multiplied by exp(z), z a daily random walk from 0 with this log-sd per 14 days (one "
        "retarget period); it widens the bands and leaves the median. Assumption, fitted by minimum CRPS of "
        "`hashrisk evaluate` on the 2016-2021 origins. 0: off.",
    )


# --------------------------------------------------------------------------------------------- treasuries
class TreasurySpec(_Model):
    """The rest of the network: the miners outside ``owners``, one owner of the fleet's cohorts.

    Private and hosted miners, whose balance sheets are not disclosed; they also own new deployments.
    Each day it sells ``share_sold`` of its production and pays power, other cash opex and debt service in
    cash; a shortfall is met by selling its BTC, then by borrowing at the cost of capital
    (:class:`FinancingSpec`).
    """

    initial_btc: float = Field(
        default=0.0,
        ge=0,
        allow_inf_nan=False,
        description="BTC held by the miners outside `owners` at the start. Assumption: 0 (not disclosed; "
        "private and hosted miners are taken to sell what they mine).",
    )
    initial_cash_days_of_opex: float = Field(
        default=30.0,
        ge=0,
        allow_inf_nan=False,
        description="Cash at the start, in days of their start cash opex. Assumption.",
    )
    share_sold: float = Field(
        default=1.0,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Share of each day's production sold on the day. Assumption: 1 (they sell their "
        "production; issue 16 / the June-2026 reporting).",
    )
    debt_service_usd_per_day: float = Field(
        default=0.0,
        ge=0,
        allow_inf_nan=False,
        description="Interest and amortisation paid by them [USD/day]. Assumption: 0 (not disclosed; listed "
        "miners' debt is in `owners`).",
    )


# --------------------------------------------------------------------------------------------- owners
class DebtSpec(_Model):
    """One debt instrument of an owner: interest paid daily in cash, principal repaid in cash at maturity.

    Convertibles are treated as debt repaid in cash (assumption: conversion needs the share price above the
    conversion price, which a falling BTC price makes unlikely within a stress horizon).
    """

    name: str = Field(min_length=1, description="Instrument, e.g. '0% convertible notes due 2030'.")
    principal_usd: float = Field(ge=0, allow_inf_nan=False, description="Principal outstanding [USD].")
    annual_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Coupon or interest rate per year (0 for zero-coupon notes; the default when not given).",
    )
    maturity: dt.date | None = Field(default=None, description="Repayment date (null: beyond any horizon).")
    source: str = Field(default="", description="Document, date and link, or 'assumption: ...'.")


class CashFlowSpec(_Model):
    """A scheduled cash flow of an owner: AI/HPC capex (negative) or lease revenue (positive), spread evenly
    over ``[start, end]`` (one day when ``end`` is null)."""

    label: str = Field(min_length=1, description="What it is, e.g. 'HPC capex, Denton phase 2'.")
    start: dt.date = Field(description="First day of the flow.")
    end: dt.date | None = Field(default=None, description="Last day (null: the start day only).")
    usd: float = Field(allow_inf_nan=False, description="Total over [start, end] [USD]; + inflow, - outflow.")
    source: str = Field(default="", description="Document, date and link, or 'assumption: ...'.")

    @model_validator(mode="after")
    def _ordered(self) -> CashFlowSpec:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class OwnerSpec(_Model):
    """A listed miner (or a group of similar ones) with its own balance sheet.

    Its hashrate is one cohort of its own efficiency and power price (it switches off on the same rule as
    the fleet's cohorts). Each day it adds its production to its BTC, sells ``share_sold`` of the production,
    and pays in cash: power (while online), other costs, interest, principal at maturity, and its scheduled
    flows (AI/HPC capex out, lease revenue in). When cash falls below ``cash_floor_usd`` it sells treasury
    BTC or raises capital (``policy``; see :class:`FinancingSpec`).
    """

    name: str = Field(min_length=1, description="Company or group name.")
    hashrate_ths: float = Field(gt=0, allow_inf_nan=False, description="Hashrate at the start [TH/s].")
    efficiency_j_per_th: float = Field(
        gt=0, le=1_000, allow_inf_nan=False, description="Fleet efficiency at the machine [J/TH]."
    )
    pue: float = Field(
        default=1.10,
        ge=1,
        le=3,
        allow_inf_nan=False,
        description="Facility overhead. Assumption when not given: 1.10, CBECI's best-guess PUE.",
    )
    power_price_usd_per_kwh: float = Field(
        gt=0, le=1, allow_inf_nan=False, description="All-in power price [USD/kWh]."
    )
    other_costs_usd_per_day: float = Field(
        default=0.0,
        ge=0,
        allow_inf_nan=False,
        description="Cash costs other than power (site opex, SG&A) [USD/day]. Assumption when not given: 0.",
    )
    btc: float = Field(ge=0, allow_inf_nan=False, description="BTC held at the start (incl. pledged).")
    cash_usd: float = Field(ge=0, allow_inf_nan=False, description="Cash and equivalents at the start [USD].")
    cash_floor_usd: float = Field(
        default=0.0,
        ge=0,
        allow_inf_nan=False,
        description="Cash below which the owner sells BTC or raises capital [USD]. Assumption when not given: 0.",
    )
    share_sold: float = Field(
        ge=0, le=1, allow_inf_nan=False, description="Share of each day's production sold on the day."
    )
    policy: Literal["sell_btc", "raise_capital"] = Field(
        default="sell_btc",
        description="Meeting a shortfall: sell_btc (treasury first, then capital), raise_capital (capital "
        "while it costs at most financing.max_raise_cost, else BTC first). Assumption when not given: sell_btc.",
    )
    debt: list[DebtSpec] = Field(default_factory=list, description="Debt and convertibles outstanding.")
    flows: list[CashFlowSpec] = Field(
        default_factory=list, description="Scheduled cash flows: AI/HPC capex (-) and lease revenue (+)."
    )
    sources: dict[str, str] = Field(
        default_factory=dict,
        description="Per field: the document, date and link the value comes from, or 'assumption: ...'.",
    )


class FinancingSpec(_Model):
    """The cost of raising capital, dearer as BTC falls (mining equities move with BTC).

    ``cost(P) = min(0.95, cost_at_start * (P0 / P)^price_elasticity)``: the share of gross proceeds lost to
    the issue discount and fees; raising ``x`` USD of cash issues ``x / (1 - cost)``.
    """

    cost_at_start: float = Field(
        default=0.05,
        ge=0,
        lt=1,
        allow_inf_nan=False,
        description="Issuance cost at the start price (discount + fees, share of gross). Assumption: 5%, the "
        "order of at-the-market programme and convertible issue costs.",
    )
    price_elasticity: float = Field(
        default=2.0,
        ge=0,
        le=10,
        allow_inf_nan=False,
        description="cost x (P0/P)^elasticity. Assumption: 2 (mining equities move 2-3x BTC; a 30% fall "
        "doubles the cost).",
    )
    max_raise_cost: float = Field(
        default=0.15,
        ge=0,
        lt=1,
        allow_inf_nan=False,
        description="Above this cost, raise_capital owners sell BTC first. Assumption.",
    )


class NetFlowSpec(_Model):
    """Mechanical buying that offsets miners' selling in the price feedback [USD/day]."""

    treasury_buying_usd_per_day: float = Field(
        default=0.0,
        ge=0,
        allow_inf_nan=False,
        description="Corporate treasuries' buying (`hashrisk flows btc` measures it). Assumption: 0 unless "
        "given.",
    )
    etf_usd_per_day: float = Field(
        default=0.0,
        allow_inf_nan=False,
        description="Net ETF flows (+ buying). Assumption: 0 unless given.",
    )


# --------------------------------------------------------------------------------------------- price impact
class ImpactSpec(_Model):
    """Price impact of miners' net sales (square-root law), applied to the next day's price.

    ``impact_t = k * sigma_daily * sqrt(net_sold_usd_t / daily_volume_usd)``;
    ``P_{t+1} = P_t * exp(r_t - impact_t)`` with ``r_t`` the exogenous log return and
    ``net_sold_usd_t = max(0, sold_btc_t - baseline_btc) * P_t``. The impact is permanent (assumption).
    References for the law: Tóth et al. (2011), Phys. Rev. X 1, 021006; Bouchaud, Bonart, Donier and
    Gould (2018), *Trades, Quotes and Prices*, ch. 12 (prefactor of order 1).
    """

    enabled: bool = Field(default=True, description="Apply the feedback of miners' sales on the price.")
    k: float = Field(
        default=1.0,
        ge=0,
        le=100,
        allow_inf_nan=False,
        description="Prefactor of the square-root law. Assumption: 1 (empirical values are of order 1).",
    )
    daily_volume_usd: float = Field(
        default=15e9,
        gt=0,
        allow_inf_nan=False,
        description="Daily BTC spot volume that absorbs the sales [USD/day]. Assumption: $15bn, the order of "
        "reported spot volume in 2025-26 (headline figures range ~$10-50bn with wash-trade filters).",
    )
    sigma_daily: float | None = Field(
        default=None,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Daily volatility in the law. null: the price model's (vol / sqrt(365); bootstrap: sd of "
        "the returns), or 0.5/sqrt(365) for a deterministic path (assumption).",
    )
    baseline: Literal["start", "none"] = Field(
        default="start",
        description="start: the start day's expected sales are already in the exogenous price model and only "
        "sales above them move the price; none: every sale does. Assumption: start.",
    )


# --------------------------------------------------------------------------------------------- scenario
class Scenario(_Model):
    """A complete simulation scenario (see the module docstring and each field's description)."""

    name: str = Field(default="default", description="A label for the scenario.")
    start: StartSpec = Field(default_factory=StartSpec, description="Start state.")
    horizon_days: int = Field(
        default=365, ge=1, le=MAX_HORIZON_DAYS, description="Days simulated (day 0 is the start day)."
    )
    paths: int = Field(
        default=10_000,
        ge=1,
        description="Monte-Carlo paths (at most $HASHRISK_MAX_PATHS, default 2,000,000).",
    )
    seed: int = Field(
        default=2026,
        ge=0,
        description="Seed of numpy.random.SeedSequence: same seed, same result, whatever the chunk size.",
    )
    price: PriceModel = Field(default_factory=GbmPrice, description="Exogenous price model.")
    fees: FeeSpec = Field(default_factory=FeeSpec, description="Transaction fees.")
    fleet: FleetBehaviour = Field(default_factory=FleetBehaviour, description="Fleet cohorts and behaviour.")
    owners: list[OwnerSpec] | None = Field(
        default=None,
        description="Listed miners (or groups) with their own balance sheets. null: the packaged groups "
        "(hashrisk/sim/data/owners_default.yaml, built from the cited listed-miner datasets); []: none.",
    )
    treasury: TreasurySpec = Field(
        default_factory=TreasurySpec, description="The rest of the network (miners outside `owners`)."
    )
    financing: FinancingSpec = Field(default_factory=FinancingSpec, description="Cost of raising capital.")
    net_flows: NetFlowSpec = Field(
        default_factory=NetFlowSpec, description="Mechanical buying netted against sales in the feedback."
    )
    impact: ImpactSpec = Field(
        default_factory=ImpactSpec, description="Price impact of net mechanical sales."
    )

    def __init__(self, **data: Any) -> None:
        """Keyword construction; a bad value raises :class:`InputError` naming the field (dotted path)."""
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise from_validation_error(
                exc, "scenario", default_field="scenario", unions={"price": PRICE_MODELS}
            ) from None

    @field_validator("paths")
    @classmethod
    def _paths_limit(cls, value: int) -> int:
        limit = max_paths()
        if value > limit:
            raise ValueError(
                f"at most {limit:,} paths (the limit is set by the environment variable HASHRISK_MAX_PATHS)"
            )
        return value

    # ----------------------------------------------------------------- construction and parameters
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], origin: str = "scenario") -> Scenario:
        """Validate a plain mapping.

        Raises
        ------
        InputError
            Naming the field by dotted path, the value and what is allowed.
        """
        if not isinstance(data, Mapping):
            raise InputError("scenario", type(data).__name__, f"a mapping of fields (in {origin})")
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise from_validation_error(
                exc, origin, default_field="scenario", unions={"price": PRICE_MODELS}
            ) from None

    @classmethod
    def from_yaml_text(cls, text: str, origin: str = "scenario") -> Scenario:
        """Parse a YAML (or JSON) scenario document; an empty document is the default scenario.

        Raises
        ------
        InputError
            If the text is not YAML, or a field is unknown or out of range.
        """
        raw = load_yaml(text, "scenario", origin)
        return cls.from_dict({} if raw is None else raw, origin)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready nested dict (dates as ISO strings)."""
        return self.model_dump(mode="json")

    def to_yaml_text(self) -> str:
        """The scenario as annotated YAML (every field with its description as a comment)."""
        return _render_yaml(self)

    def get_param(self, path: str) -> Any:
        """Value of the parameter at a dotted `path` (``"price.vol"``, ``"fleet.spec.classes.0.share"``).

        Raises
        ------
        InputError
            If the path does not name a field.
        """
        node: Any = self.model_dump()
        for part in _split(path):
            node = _child(node, part, path)
        return node

    def with_params(self, params: Mapping[str, Any]) -> Scenario:
        """A validated copy with parameters set by dotted path, e.g. ``{"price.vol": 0.8}``.

        Setting ``price.model`` switches the price model (its other fields are reset to that model's
        defaults unless also given).

        Raises
        ------
        InputError
            If a path does not name a field or a value is not allowed.
        """
        data: dict[str, Any] = self.model_dump()
        items = sorted(params.items(), key=lambda kv: kv[0] != "price.model")
        for path, value in items:
            parts = _split(path)
            if path == "price.model":
                data["price"] = {"model": value}
                continue
            node: Any = data
            for part in parts[:-1]:
                node = _child(node, part, path)
                if node is None:
                    raise InputError(path, value, f"a field under a set parent (`{part}` is null)")
            last = parts[-1]
            if isinstance(node, list):
                node[_index(node, last, path)] = value
            elif isinstance(node, dict):
                node[last] = value  # unknown names are rejected by validation (extra="forbid")
            else:
                raise InputError(path, value, "a path into the scenario's fields")
        return Scenario.from_dict(data, origin="parameters")

    @property
    def price_model(self) -> str:
        """Name of the price model."""
        return self.price.model


def _split(path: str) -> list[str]:
    parts = path.split(".")
    if not path or any(p == "" for p in parts):
        raise InputError("parameter", path, "a dotted path such as price.vol")
    return parts


def _index(node: list[Any], part: str, path: str) -> int:
    try:
        i = int(part)
    except ValueError:
        raise InputError(path, part, "a list index (0, 1, ...)") from None
    if not 0 <= i < len(node):
        raise InputError(path, i, f"a list index in [0, {len(node) - 1}]")
    return i


def _child(node: Any, part: str, path: str) -> Any:
    if isinstance(node, dict):
        if part not in node:
            raise InputError(path, part, f"one of {sorted(node)}")
        return node[part]
    if isinstance(node, list):
        return node[_index(node, part, path)]
    raise InputError(path, part, "a path into the scenario's fields")


# --------------------------------------------------------------------------------------------- annotated YAML
def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value)
    return json.dumps(value)


def _comment(text: str, indent: str) -> list[str]:
    return [f"{indent}# {line}" for line in textwrap.wrap(" ".join(text.split()), width=100)]


def _model_class(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel class inside an annotation like ``X``, ``X | None`` or ``Annotated[...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = get_origin(annotation)
    if origin is Annotated:
        return _model_class(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        found = [m for m in (_model_class(a) for a in get_args(annotation)) if m is not None]
        return found[0] if len(found) == 1 else None
    return None


def _doc_comment(cls: type[BaseModel], indent: str) -> list[str]:
    doc = textwrap.dedent("\n".join((cls.__doc__ or "").split("\n")[1:])).strip()
    head = (cls.__doc__ or "").strip().split("\n")[0]
    out: list[str] = _comment(head, indent) if head else []
    for para in doc.split("\n\n"):
        if para.strip():
            out.append(f"{indent}#")
            out.extend(_comment(para, indent))
    return out


def _render_model(model: BaseModel, indent: str, out: list[str]) -> None:
    fields = type(model).model_fields
    names = sorted(fields, key=lambda n: n != "model")  # a union's tag first
    for name in names:
        info = fields[name]
        value = getattr(model, name)
        if isinstance(value, BaseModel) and not isinstance(value, FleetSpec):
            out.extend(_doc_comment(type(value), indent))
            out.append(f"{indent}{name}:")
            _render_model(value, indent + "  ", out)
            continue
        if info.description:
            out.extend(_comment(info.description, indent))
        if isinstance(value, BaseModel | list | dict):
            raw = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
            dumped = yaml.safe_dump({name: raw}, sort_keys=False)
            out.extend(indent + line for line in dumped.rstrip("\n").split("\n"))
        else:
            out.append(f"{indent}{name}: {_yaml_scalar(value)}")


def _render_yaml(scenario: Scenario) -> str:
    out = [
        "# hashrisk simulation scenario (YAML; JSON works too).",
        "# Written by `hashrisk scenario new`. Every default number is either a FACT (with its source) or a",
        "# labelled ASSUMPTION you are expected to override. Run it with `hashrisk simulate THIS_FILE`.",
        "# Fields can also be set by dotted path from Python: Scenario.with_params({'price.vol': 0.8}).",
        "",
    ]
    _render_model(scenario, "", out)
    out += ["", "# Other price models (replace the `price:` block above with one of these):"]
    for cls, extra in (
        (JumpPrice, {}),
        (BootstrapPrice, {"csv": "btc_prices.csv"}),
        (PathPrice, {"csv": "price_path.csv"}),
    ):
        out.append("#")
        block = _doc_comment(cls, "")
        block.append("price:")
        _render_model(cls.model_validate(extra), "  ", block)
        out.extend("# " + line.removeprefix("# ") if line.startswith("# ") else "# " + line for line in block)
    return "\n".join(out) + "\n"


def default_scenario_yaml() -> str:
    """The annotated default scenario, as ``hashrisk scenario new`` writes it."""
    return Scenario().to_yaml_text()


def field_descriptions(model: type[BaseModel] = Scenario, prefix: str = "") -> dict[str, str]:
    """Every field's dotted path and description (for documentation and the assumption audit)."""
    out: dict[str, str] = {}
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        out[path] = info.description or ""
        sub = _model_class(info.annotation)
        if sub is not None and sub is not FleetSpec:
            out.update(field_descriptions(sub, path + "."))
    return out


__all__ = [
    "BootstrapPrice",
    "DeploySpec",
    "FeeSpec",
    "FleetBehaviour",
    "GbmPrice",
    "ImpactSpec",
    "JumpPrice",
    "PathPrice",
    "Scenario",
    "ShockSpec",
    "StartSpec",
    "TreasurySpec",
    "default_scenario_yaml",
    "max_paths",
]
