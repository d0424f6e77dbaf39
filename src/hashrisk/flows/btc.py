"""Mechanical BTC flows of the day: treasury buying and ETF flows against miners' production and sales.

Per day, at a network state (the embedded snapshot by default)::

    blocks/day      = expected_blocks(hashrate, difficulty, 86,400 s)       (hashrisk.chain.pow)
    production/day  = blocks/day * (subsidy + fees per block)                [BTC]
    miner_sales/day = share_sold * production/day                            [BTC]
    treasury/day    = sum(purchase BTC) / window_days                        [BTC]
    net/day         = treasury/day + etf/day - miner_sales/day               [BTC]; x price for USD

per quarter = per day x 365.25 / 4. ``share_sold`` is an assumption (the simulation's default
``treasury.share_sold``) unless given, e.g. from a miners' data file (BTC sold / BTC produced).

Each purchase's implied average price (USD paid / BTC bought) is compared with the production cost of one BTC
at the same network state (:func:`hashrisk.economics.cost.production_cost` on the default fleet) and with
JPMorgan's published estimate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from hashrisk.chain.pow import expected_blocks
from hashrisk.constants import SECONDS_PER_DAY
from hashrisk.economics.cost import NetworkState, ProductionCost
from hashrisk.economics.fleet import MINERS_SHARE_SOLD
from hashrisk.errors import InputError
from hashrisk.flows.inputs import model_from_dict, model_from_yaml, packaged_text

DAYS_PER_QUARTER = 365.25 / 4
DEFAULT_FLOWS_FILE = "btc_flows_2026-06.yaml"
DEFAULT_SHARE_SOLD: float = MINERS_SHARE_SOLD
"""Assumption shared with the simulation (``treasury.share_sold``): share of each day's production sold
(:data:`hashrisk.economics.fleet.MINERS_SHARE_SOLD`)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Purchase(_Model):
    """A disclosed treasury purchase, counted as buying spread over `window_days`."""

    buyer: str = Field(min_length=1)
    date: dt.date
    btc: float = Field(gt=0, allow_inf_nan=False)
    usd: float = Field(gt=0, allow_inf_nan=False)
    window_days: float = Field(gt=0, allow_inf_nan=False)
    source: str = Field(min_length=1)

    @property
    def implied_price_usd(self) -> float:
        """Average price paid [USD/BTC]."""
        return self.usd / self.btc


class BtcFlowInputs(_Model):
    """Inputs of :func:`btc_flows` (layout of the packaged ``btc_flows_2026-06.yaml``)."""

    label: str
    purchases: list[Purchase] = Field(default_factory=list)
    miners_share_sold: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    etf_net_btc_per_day: float | None = Field(default=None, allow_inf_nan=False)
    reference_costs_usd_per_btc: dict[str, float] = Field(default_factory=dict)
    sources: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], origin: str = "btc flows") -> BtcFlowInputs:
        """Validate a mapping; any problem is an :class:`InputError` naming the field by dotted path."""
        return model_from_dict(cls, raw, origin)

    @classmethod
    def from_yaml_text(cls, text: str, origin: str = "btc flows") -> BtcFlowInputs:
        """Parse and validate a YAML document of this layout."""
        return model_from_yaml(cls, text, origin, "flows")

    @classmethod
    def packaged(cls) -> BtcFlowInputs:
        """The packaged June-2026 inputs (every number labelled fact or assumption)."""
        return cls.from_yaml_text(packaged_text(DEFAULT_FLOWS_FILE), origin=DEFAULT_FLOWS_FILE)


@dataclass(frozen=True)
class BtcFlows:
    """Result of :func:`btc_flows`: daily and quarterly flows in BTC and USD, and the cost comparison."""

    inputs: BtcFlowInputs
    date: dt.date
    price_usd: float
    blocks_per_day: float
    reward_btc_per_block: float
    share_sold: float
    share_sold_basis: str
    production_btc_per_day: float
    components_btc_per_day: dict[str, float]
    purchases: list[dict[str, Any]]
    cost: dict[str, float]

    @property
    def net_btc_per_day(self) -> float:
        """Buying minus selling [BTC/day]: positive = net mechanical demand."""
        return sum(self.components_btc_per_day.values())

    def to_frame(self) -> pd.DataFrame:
        """One row per flow component, per day and per quarter, BTC and USD (sells negative)."""
        rows = {**self.components_btc_per_day, "net": self.net_btc_per_day}
        frame = pd.DataFrame({"btc_per_day": pd.Series(rows)})
        frame["usd_per_day"] = frame["btc_per_day"] * self.price_usd
        frame["btc_per_quarter"] = frame["btc_per_day"] * DAYS_PER_QUARTER
        frame["usd_per_quarter"] = frame["usd_per_day"] * DAYS_PER_QUARTER
        return frame

    def summary(self) -> dict[str, Any]:
        """Headline figures, JSON-ready."""
        frame = self.to_frame()
        return {
            "label": self.inputs.label,
            "date": self.date.isoformat(),
            "price_usd": self.price_usd,
            "blocks_per_day": self.blocks_per_day,
            "reward_btc_per_block": self.reward_btc_per_block,
            "miner_production_btc_per_day": self.production_btc_per_day,
            "miner_production_btc_per_quarter": self.production_btc_per_day * DAYS_PER_QUARTER,
            "miners_share_sold": self.share_sold,
            "miners_share_sold_basis": self.share_sold_basis,
            "flows": {k: {c: float(v) for c, v in row.items()} for k, row in frame.iterrows()},
            "net_btc_per_day": self.net_btc_per_day,
            "net_usd_per_day": self.net_btc_per_day * self.price_usd,
            "net_btc_per_quarter": self.net_btc_per_day * DAYS_PER_QUARTER,
            "net_usd_per_quarter": self.net_btc_per_day * self.price_usd * DAYS_PER_QUARTER,
            "purchases": self.purchases,
            "production_cost_usd_per_btc": self.cost,
            "sources": self.inputs.sources,
            "sign_convention": "buying positive, selling negative",
        }


def btc_flows(
    inputs: BtcFlowInputs,
    state: NetworkState,
    cost: ProductionCost,
    share_sold: float | None = None,
    share_sold_basis: str | None = None,
) -> BtcFlows:
    """Net mechanical BTC flow per day and per quarter at a network `state` (pure).

    Parameters
    ----------
    inputs : BtcFlowInputs
        Treasury purchases, optional ETF flow and miners' share sold, reference costs.
    state : NetworkState
        Price, difficulty, hashrate, fees, subsidy (e.g. ``NetworkSnapshot()``).
    cost : ProductionCost
        Production cost at the same state (``production_cost(state, fleet, power_price)``).
    share_sold : float, optional
        Miners' share of production sold; overrides ``inputs.miners_share_sold`` (e.g. from a miners file).
    share_sold_basis : str, optional
        Where `share_sold` comes from (shown in the result).
    """
    if share_sold is not None:
        basis = share_sold_basis or "given"
    elif inputs.miners_share_sold is not None:
        share_sold, basis = inputs.miners_share_sold, "inputs file (miners_share_sold)"
    else:
        share_sold = DEFAULT_SHARE_SOLD
        basis = "assumption: the simulation's default treasury.share_sold"
    if not share_sold >= 0:
        raise InputError(
            "share_sold", share_sold, "a share of production >= 0 (above 1: selling treasury too)"
        )
    blocks = float(expected_blocks(state.hashrate_ths, state.difficulty, SECONDS_PER_DAY))
    reward = state.subsidy_btc + state.fees_btc_per_block
    production = blocks * reward
    components = {
        "treasury_purchases": sum(p.btc / p.window_days for p in inputs.purchases),
        "etf_net": inputs.etf_net_btc_per_day or 0.0,
        "miner_sales": -share_sold * production,
    }
    summary = cost.summary()
    costs = {
        "electricity_fleet": cost.electricity_fleet_usd_per_btc,
        "electricity_basket_best_guess": summary["electricity_only_usd_per_btc"]["best_guess"],
        "all_in_fleet": cost.all_in["total"],
        "power_price_usd_per_kwh": cost.power_price_usd_per_kwh,
        **{f"reference_{k}": v for k, v in inputs.reference_costs_usd_per_btc.items()},
    }
    purchases = []
    for p in inputs.purchases:
        implied = p.implied_price_usd
        purchases.append(
            {
                **p.model_dump(mode="json"),
                "implied_price_usd": implied,
                "vs_spot": implied / state.price_usd - 1.0,
                "below_cost": {k: implied < v for k, v in costs.items() if k != "power_price_usd_per_kwh"},
            }
        )
    return BtcFlows(
        inputs=inputs,
        date=state.date,
        price_usd=state.price_usd,
        blocks_per_day=blocks,
        reward_btc_per_block=reward,
        share_sold=share_sold,
        share_sold_basis=basis,
        production_btc_per_day=production,
        components_btc_per_day=components,
        purchases=purchases,
        cost=costs,
    )
