"""Request and response models of the JSON API (pydantic; they make the OpenAPI spec)."""

from __future__ import annotations

import datetime as dt
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from hashrisk.economics.machine import MachineEconomics

MAX_PRICE_USD = 1e8
"""Largest BTC price the API accepts [USD/BTC]."""


class ErrorOut(BaseModel):
    """Every error: what went wrong, and for bad input the field, the value and what is allowed."""

    error: str = Field(
        description="Kind: invalid input, not found, too large, busy, timeout, not available, ..."
    )
    message: str = Field(description="Human-readable explanation.")
    field: str | None = Field(
        default=None, description="The offending field (query parameter or body field)."
    )
    value: Any = Field(default=None, description="The value received (as text when not JSON-able).")
    allowed: str | None = Field(default=None, description="What is allowed.")
    hint: str | None = None


class AsOfOut(BaseModel):
    """Which day the figures describe, where it comes from and how old it is."""

    day: dt.date
    source: str = Field(description='"store: <source>" or "embedded snapshot".')
    age_days: int
    stale: bool = Field(description="More than two days old.")


class SnapshotOut(BaseModel):
    """The network state the figures are computed on."""

    date: dt.date
    price_usd: float
    difficulty: float
    hashrate_ths: float
    fees_btc_per_block: float
    height: int
    subsidy_btc: float
    sources: dict[str, str]
    as_of: AsOfOut


class CostOut(BaseModel):
    """Production cost per BTC (``hashrisk cost``): electricity-only bounds, fleet, all-in, cost curve."""

    date: dt.date
    price_usd: float
    power_price_usd_per_kwh: float
    hashprice_usd_per_ph_day: float
    electricity_basket_usd_per_btc: dict[str, float] = Field(
        description="CBECI-style basket bounds: lower, best_guess, upper [USD/BTC]."
    )
    electricity_fleet_usd_per_btc: float
    electricity_usd_per_btc_per_cent_per_kwh: float
    all_in_usd_per_btc: dict[str, float] = Field(
        description="electricity, other_opex, depreciation and total [USD/BTC]."
    )
    breakeven_p10_usd: float
    breakeven_p50_usd: float
    breakeven_p90_usd: float
    marginal_cost_usd: float | None = Field(description="null when no cohort covers its power at the price.")
    share_unprofitable: dict[str, float] = Field(description="At the price, after a 10% and a 20% fall.")
    share_within_10pct_of_breakeven: float
    fleet_label: str


class CurvePoint(BaseModel):
    """One cohort of the cost curve (ascending breakeven)."""

    breakeven_price_usd: float
    hashrate_ths: float
    cum_share: float


class CostCurveOut(BaseModel):
    """The cost curve and who is underwater at a price."""

    date: dt.date
    price_usd: float
    hashprice_usd_per_ph_day: float
    share_unprofitable: float
    share_within_10pct: float
    marginal_cost_usd: float | None
    breakeven_p50_usd: float
    mean_breakeven_usd: float
    points: list[CurvePoint]


BreakevenOut: type[BaseModel] = create_model(
    "BreakevenOut",
    __doc__="One machine's economics (``hashrisk breakeven``).",
    **{name: (hint, ...) for name, hint in get_type_hints(MachineEconomics).items()},  # type: ignore[call-overload]
)
"""Fields and types of :class:`hashrisk.economics.machine.MachineEconomics`."""


class AdjustmentOut(BaseModel):
    """The next difficulty adjustment, with what is known and what is assumed."""

    basis: str
    bits: str
    difficulty: float
    epoch_start_height: int
    retarget_height: int
    blocks_mined: int
    blocks_remaining: int
    locked_in: bool
    change_pct: dict[str, float]
    mean_interval_s: float
    prior_interval_s: float
    days_to_lock_in: dict[str, float]
    known: list[str]
    assumed: list[str]
    lock_in_time_utc: dict[str, str] | None = None


class _RequestIn(BaseModel):
    """A JSON request body: unknown fields refused, and ``true``/``false`` refused where a number is due
    (pydantic's lax mode would read them as 1/0)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"{str(value).lower()} is not a number (a JSON number is due)")
        return value


class SimulateIn(_RequestIn):
    """A price shock through the simulator (``hashrisk stress`` for one shock), with size caps."""

    shock_pct: float = Field(
        default=-20.0, ge=-90.0, le=100.0, allow_inf_nan=False, description="Price change over the shock [%]."
    )
    shock_days: int = Field(default=30, ge=1, le=365, description="Days over which the shock unfolds.")
    horizon_days: int = Field(default=90, ge=2, le=365, description="Days simulated.")
    paths: int = Field(default=300, ge=1, le=2_000, description="Monte-Carlo paths.")
    seed: int = Field(default=2026, ge=0, le=2**32 - 1, description="Random seed.")
    vol: float | None = Field(
        default=None,
        ge=0.0,
        le=3.0,
        allow_inf_nan=False,
        description="Annualised volatility around the shock path (null: the scenario's 0.5).",
    )
    price_usd: float | None = Field(
        default=None,
        gt=0,
        le=MAX_PRICE_USD,
        allow_inf_nan=False,
        description="Start price (null: snapshot's).",
    )
    date: dt.date | None = Field(default=None, description="Start from the stored snapshot of this day.")


class Fan(BaseModel):
    """Daily quantiles over paths."""

    p05: list[float]
    p25: list[float]
    p50: list[float]
    p75: list[float]
    p95: list[float]


class SimulateOut(BaseModel):
    """Fans of the simulated series and ``hashrisk stress``'s summary of the shock."""

    paths: int
    horizon_days: int
    backend: str
    elapsed_s: float
    dates: list[dt.date]
    fans: dict[str, Fan] = Field(description="price_usd, hashrate_ths, difficulty, sold_btc, offline_share.")
    summary: dict[str, Any]


class StressIn(_RequestIn):
    """The -10/-20/-30% shocks of ``hashrisk stress`` from a day's snapshot, with size caps."""

    date: dt.date | None = Field(default=None, description="Start from the stored snapshot of this day.")
    paths: int = Field(default=300, ge=1, le=2_000, description="Monte-Carlo paths per shock.")
    horizon_days: int = Field(default=90, ge=2, le=365, description="Days simulated.")
    seed: int = Field(default=2026, ge=0, le=2**32 - 1, description="Random seed.")


class StressOut(BaseModel):
    """The -10/-20/-30% shocks of ``hashrisk stress`` from the day's snapshot: one summary per shock
    (:func:`hashrisk.sim.stress.stress_summary`: ``owners`` with production sold / treasury drawn [BTC], capital
    raised and its cost [USD], runway [months] and the sources of each balance sheet; ``ai_hpc_forced`` [BTC];
    ``amplification`` with and without the feedback; ``net_flows`` [USD/day] with their basis)."""

    date: dt.date
    price_usd: float
    paths: int
    horizon_days: int
    shock_days: int
    seed: int
    backend: str
    elapsed_s: float
    shocks: list[dict[str, Any]]


class FlowsOut(BaseModel):
    """Institutional flows: US DB pension rebalancing and BTC treasury buying against miners' selling
    (the summaries of :func:`hashrisk.flows.pensions.pension_flows` and :func:`hashrisk.flows.btc.btc_flows`;
    every input is labelled fact or assumption in their ``sources``)."""

    pensions: dict[str, Any]
    btc: dict[str, Any]


# ------------------------------------------------------------------------------------------- history
class HistorySeries(BaseModel):
    """Daily series of the tracking history, aligned with ``dates`` (null where a day has no value); the
    definitions are those of :mod:`hashrisk.analytics.tracking`."""

    price_usd: list[float | None] = Field(description="BTC price [USD/BTC].")
    hashrate_ths: list[float | None] = Field(description="Daily network hashrate [TH/s].")
    hashrate_7d_ths: list[float | None] = Field(description="7-day mean hashrate [TH/s].")
    difficulty: list[float | None] = Field(description="The day's mean difficulty.")
    hashprice_usd_per_ph_day: list[float | None] = Field(description="Revenue of 1 PH/s per day [USD].")
    revenue_subsidy_usd: list[float | None] = Field(description="Miners' subsidy revenue [USD/day].")
    revenue_fees_usd: list[float | None] = Field(description="Miners' fee revenue [USD/day].")
    cost_electricity_lower_usd_per_btc: list[float | None] = Field(
        description="Electricity-only cost, CBECI-style lower bound [USD/BTC]."
    )
    cost_electricity_best_usd_per_btc: list[float | None] = Field(
        description="Electricity-only cost, CBECI-style best guess [USD/BTC]."
    )
    cost_electricity_upper_usd_per_btc: list[float | None] = Field(
        description="Electricity-only cost, CBECI-style upper bound [USD/BTC]."
    )
    cost_all_in_usd_per_btc: list[float | None] = Field(
        description="All-in cost of the dated fleet [USD/BTC]."
    )
    share_underwater: list[float | None] = Field(description="Share of hashrate underwater [0-1].")
    share_within_10pct: list[float | None] = Field(description="Share within 10% of breakeven [0-1].")
    ribbon_fast_ths: list[float | None] = Field(description="Hash ribbon, fast moving average [TH/s].")
    ribbon_slow_ths: list[float | None] = Field(description="Hash ribbon, slow moving average [TH/s].")
    puell_multiple: list[float | None] = Field(description="Puell multiple [-].")


class RetargetOut(BaseModel):
    """One retarget in the window."""

    height: int = Field(description="First height at the new difficulty.")
    day: dt.date
    difficulty: float
    change: float | None = Field(description="difficulty / previous difficulty - 1.")
    estimated_change: float | None = Field(description="Mid-epoch estimate of the change.")


class SpanOut(BaseModel):
    """One capitulation span of the hash ribbons."""

    start: dt.date
    end: dt.date | None = Field(description="First day of the lasting recovery; null while ongoing.")
    days: int
    ongoing: bool


class HistoryOut(BaseModel):
    """The tracking history over a window (``hashrisk.analytics.tracking.tracking_history``), thinned for
    display to at most ``max_points`` days unless ``max_points`` is 0."""

    as_of: dt.date = Field(description="Newest day of the window with data.")
    since: dt.date
    until: dt.date
    days: int = Field(description="Days in the window (before thinning).")
    points: int = Field(description="Days returned.")
    thinned: bool
    dates: list[dt.date]
    series: HistorySeries
    capitulation: list[bool] = Field(description="Inside a capitulation span (any day of a thinned block).")
    retargets: list[RetargetOut]
    capitulations: list[SpanOut]
    latest: dict[str, float | bool | None] = Field(description="Every column at as_of (full data).")
    sources: dict[str, str]


class CoverageOut(BaseModel):
    """What daily history is stored (the dashboard's date picker bounds)."""

    stored: bool
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    days: int = 0


class EventOut(BaseModel):
    """One event of "What changed" (``hashrisk.analytics.tracking.Event``)."""

    day: dt.date
    kind: str
    rule: str = Field(description="The rule that fired, with its threshold.")
    message: str
    numbers: dict[str, float | int | str | None]


class ChangesOut(BaseModel):
    """The events between two days, each with the rule that fired."""

    since: dt.date
    until: dt.date
    as_of: dt.date
    count: int
    events: list[EventOut]
