"""Mine, convert to AI/HPC, or both: per-site cash flows, NPV, IRR, payback, and the industry funding gap.

Site model (monthly cash flows over ``horizon_years``, mid-month timing, capex at ``t = 0`` undiscounted)
---------------------------------------------------------------------------------------------------
Mining on ``M`` MW of site power with fleet efficiency ``e`` [J/TH] and overhead ``pue``::

    TH/s = 1e6 * M / (e * pue)
    revenue/day = TH/s * revenue_usd_per_ths_day(difficulty, subsidy(t), fees, price) * (1 + g)**t
    power/day   = TH/s * energy_kwh_per_ths_day(e, pue) * p_kwh ;  other/day = share * power/day
    profit/day  = max(revenue - power - other, 0)       (machines switch off when underwater)

with the consensus subsidy at the projected height (144 blocks/day from the snapshot's height), so halvings
cut revenue on schedule; ``g`` (default 0) is an assumed yearly drift of USD revenue per TH beyond halvings.
Mining capex: infrastructure per MW plus hardware per TH/s at ``t = 0``; hardware is bought again at the end
of each ``hardware_life_years`` only if mining is profitable then (else mining stops for good).

HPC on the same site: critical-IT MW ``I = M * it_mw_per_site_mw``; capex ``I * capex_usd_per_it_mw`` spread
evenly over ``build_years``; from then on lease revenue::

    lease/month = I * lease_usd_per_it_mw_year / 12 * delivery_ratio * (1 + escalator)**s * (1 - pd)**s

(``s`` years since the end of the build; ``pd`` the tenant's yearly default probability: revenue stops on a
default, no re-leasing), less operating costs ``(1 - noi_margin)`` of revenue. ``delivery_ratio`` is the share of
contracted capacity actually delivered and billed (capex is spent on all of it).

Options: ``mine`` (all MW mine), ``convert`` (all MW to HPC; the site is idle during the build), ``both``
(``both_hpc_share`` of the MW to HPC, the rest mines from ``t = 0``). Each is valued as a greenfield project:
``NPV = sum CF_m / (1 + r)**t_m``; IRR solves NPV = 0 with :func:`scipy.optimize.brentq`; payback is the first
time cumulative undiscounted cash flow reaches 0.

Portfolio funding gap (the industry's AI/HPC pivot)
--------------------------------------------------
``short_term_gap = leased_it_mw * (1 - delivered_share) * capex_usd_per_it_mw - funded_usd``: capital still to
be raised for leases signed but not delivered; ``long_term_need = pipeline_gross_mw * it_mw_per_gross_mw *
capex_usd_per_it_mw``: converting the whole power pipeline. VanEck (June 2026) put these at about $50bn and up
to $221bn with about 25% of leased capacity delivered and over 27 GW of power controlled by listed miners.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.optimize import brentq

from hashrisk.chain.subsidy import block_subsidy_sats
from hashrisk.constants import SATS_PER_BTC
from hashrisk.economics.cost import NetworkState
from hashrisk.economics.machine import energy_kwh_per_ths_day
from hashrisk.economics.revenue import revenue_usd_per_ths_day
from hashrisk.errors import InputError
from hashrisk.flows.inputs import model_from_dict, model_from_yaml, packaged_text

if TYPE_CHECKING:
    from hashrisk.flows.hpc_contracts import ContractFundingGap

FloatArray = npt.NDArray[np.float64]
BLOCKS_PER_YEAR = 144 * 365.25
DAYS_PER_MONTH = 365.25 / 12
OPTIONS = ("mine", "convert", "both")
DEFAULT_SITE_FILE = "hpc_site_template.yaml"


def lease_usd_per_it_mw_year(contract_value_usd: float, term_years: float, it_mw: float) -> float:
    """Average lease revenue of a contract per critical-IT MW per year [USD/(MW*year)].

    ``contract_value_usd / term_years / it_mw``; e.g. TeraWulf-Fluidstack (Aug 2025): $3.7bn over 10 years for
    about 200 MW of critical IT load gives $1.85M per MW-year.
    """
    for name, v in (("contract_value_usd", contract_value_usd), ("term_years", term_years), ("it_mw", it_mw)):
        if not (math.isfinite(v) and v > 0):
            raise InputError(name, v, "a finite number > 0")
    return contract_value_usd / term_years / it_mw


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MiningSpec(_Model):
    """Mining on the site: fleet, power price, costs."""

    efficiency_j_per_th: float = Field(gt=0, allow_inf_nan=False)
    pue: float = Field(ge=1, allow_inf_nan=False)
    power_price_usd_per_kwh: float = Field(ge=0, allow_inf_nan=False)
    other_opex_share_of_power: float = Field(ge=0, allow_inf_nan=False)
    infrastructure_capex_usd_per_mw: float = Field(ge=0, allow_inf_nan=False)
    hardware_usd_per_th: float = Field(ge=0, allow_inf_nan=False)
    hardware_life_years: float = Field(gt=0, allow_inf_nan=False)


class HpcSpec(_Model):
    """AI/HPC colocation on the site: lease, costs, build, delivery and tenant credit."""

    it_mw_per_site_mw: float = Field(gt=0, le=1, allow_inf_nan=False)
    lease_usd_per_it_mw_year: float = Field(ge=0, allow_inf_nan=False)
    noi_margin: float = Field(ge=0, le=1, allow_inf_nan=False)
    escalator_per_year: float = Field(default=0.0, gt=-1, allow_inf_nan=False)
    capex_usd_per_it_mw: float = Field(ge=0, allow_inf_nan=False)
    build_years: float = Field(ge=0, allow_inf_nan=False)
    delivery_ratio: float = Field(ge=0, le=1, allow_inf_nan=False)
    tenant_default_prob_per_year: float = Field(ge=0, lt=1, allow_inf_nan=False)


class NetworkPath(_Model):
    """How mining revenue evolves: the snapshot (or `price_usd`), halvings, and an assumed drift."""

    price_usd: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    revenue_drift_per_year: float = Field(default=0.0, gt=-1, allow_inf_nan=False)


class PortfolioSpec(_Model):
    """Inputs of the industry funding gap (see the module docstring)."""

    leased_it_mw: float = Field(ge=0, allow_inf_nan=False)
    delivered_share: float = Field(ge=0, le=1, allow_inf_nan=False)
    capex_usd_per_it_mw: float = Field(gt=0, allow_inf_nan=False)
    capex_range_usd_per_it_mw: tuple[float, float] | None = None
    pipeline_gross_mw: float = Field(ge=0, allow_inf_nan=False)
    it_mw_per_gross_mw: float = Field(gt=0, le=1, allow_inf_nan=False)
    funded_usd: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    published: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _range(self) -> PortfolioSpec:
        r = self.capex_range_usd_per_it_mw
        if r is not None and not (0 < r[0] <= self.capex_usd_per_it_mw <= r[1]):
            raise ValueError(
                "capex_range_usd_per_it_mw must be [low, high] around capex_usd_per_it_mw, low > 0"
            )
        return self


class SiteSpec(_Model):
    """A site (and optionally the industry portfolio) for :func:`evaluate_site` / :func:`funding_gap`."""

    name: str
    template: bool = False
    site_mw: float = Field(gt=0, allow_inf_nan=False)
    horizon_years: float = Field(gt=0, le=50, allow_inf_nan=False)
    discount_rate: float = Field(gt=-1, allow_inf_nan=False)
    both_hpc_share: float = Field(default=0.5, ge=0, le=1, allow_inf_nan=False)
    mining: MiningSpec
    hpc: HpcSpec
    network: NetworkPath = Field(default_factory=NetworkPath)
    portfolio: PortfolioSpec | None = None
    sources: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], origin: str = "site") -> SiteSpec:
        """Validate a mapping; any problem is an :class:`InputError` naming the field by dotted path."""
        return model_from_dict(cls, raw, origin)

    @classmethod
    def from_yaml_text(cls, text: str, origin: str = "site") -> SiteSpec:
        """Parse and validate a site YAML document (layout of the packaged ``hpc_site_template.yaml``)."""
        return model_from_yaml(cls, text, origin, "site")

    @classmethod
    def packaged(cls) -> SiteSpec:
        """The packaged template site (every number labelled fact or assumption in its ``sources``)."""
        return cls.from_yaml_text(packaged_text(DEFAULT_SITE_FILE), origin=DEFAULT_SITE_FILE)


# ------------------------------------------------------------------------------------------- valuation
def npv_usd(cash_flows_usd: npt.ArrayLike, times_years: npt.ArrayLike, rate: float) -> float:
    """Net present value ``sum CF / (1 + rate)**t`` [USD]."""
    cf, t = np.asarray(cash_flows_usd, float), np.asarray(times_years, float)
    return float(np.sum(cf * (1.0 + rate) ** -t))


def irr(cash_flows_usd: npt.ArrayLike, times_years: npt.ArrayLike) -> float:
    """Internal rate of return (yearly) by Brent's method on ``[-0.99, 10]``; NaN if NPV does not change sign."""
    cf, t = np.asarray(cash_flows_usd, float), np.asarray(times_years, float)
    lo, hi = -0.99, 10.0
    f_lo, f_hi = npv_usd(cf, t, lo), npv_usd(cf, t, hi)
    if not (math.isfinite(f_lo) and math.isfinite(f_hi)) or f_lo * f_hi > 0:
        return math.nan
    return float(brentq(lambda r: npv_usd(cf, t, r), lo, hi, xtol=1e-12, rtol=1e-12, maxiter=200))


def payback_years(cash_flows_usd: npt.ArrayLike, times_years: npt.ArrayLike) -> float:
    """First time the cumulative undiscounted cash flow reaches 0 (linear within a step) [years]; NaN if never."""
    cf, t = np.asarray(cash_flows_usd, float), np.asarray(times_years, float)
    cum = np.cumsum(cf)
    if cum[0] >= 0:
        return float(t[0])
    hit = np.nonzero(cum >= 0)[0]
    if hit.size == 0:
        return math.nan
    i = int(hit[0])
    frac = -cum[i - 1] / cf[i]
    return float(t[i - 1] + frac * (t[i] - t[i - 1]))


@dataclass(frozen=True)
class OptionValue:
    """One option's cash flows and value."""

    option: str
    hpc_share: float
    times_years: FloatArray
    mining_usd: FloatArray
    hpc_usd: FloatArray
    capex_usd: FloatArray
    npv_usd: float
    irr: float
    payback_years: float

    @property
    def cash_flow_usd(self) -> FloatArray:
        """Net cash flow per step [USD]."""
        out: FloatArray = self.mining_usd + self.hpc_usd - self.capex_usd
        return out

    def summary(self) -> dict[str, Any]:
        """Headline figures."""
        return {
            "option": self.option,
            "hpc_share": self.hpc_share,
            "npv_usd": self.npv_usd,
            "irr": self.irr,
            "payback_years": self.payback_years,
            "capex_usd": float(self.capex_usd.sum()),
            "mining_profit_usd": float(self.mining_usd.sum()),
            "hpc_noi_usd": float(self.hpc_usd.sum()),
        }


@dataclass(frozen=True)
class SiteValuation:
    """Result of :func:`evaluate_site`: the three options and the per-MW economics at ``t = 0``."""

    spec: SiteSpec
    price_usd: float
    hashprice_usd_per_ph_day: float
    per_mw: dict[str, float]
    options: dict[str, OptionValue]

    def best(self) -> str:
        """The option with the highest NPV."""
        return max(self.options, key=lambda k: self.options[k].npv_usd)

    def summary(self) -> dict[str, Any]:
        """Headline figures, JSON-ready."""
        return {
            "site": self.spec.name,
            "template": self.spec.template,
            "site_mw": self.spec.site_mw,
            "horizon_years": self.spec.horizon_years,
            "discount_rate": self.spec.discount_rate,
            "price_usd": self.price_usd,
            "hashprice_usd_per_ph_day": self.hashprice_usd_per_ph_day,
            "per_mw": self.per_mw,
            "options": {k: v.summary() for k, v in self.options.items()},
            "best_option_by_npv": self.best(),
        }

    def to_frame(self) -> pd.DataFrame:
        """Monthly cash flows of every option (columns ``<option>_<part>``)."""
        cols: dict[str, FloatArray] = {}
        for k, v in self.options.items():
            cols[f"{k}_mining_usd"] = v.mining_usd
            cols[f"{k}_hpc_usd"] = v.hpc_usd
            cols[f"{k}_capex_usd"] = v.capex_usd
            cols[f"{k}_cash_flow_usd"] = v.cash_flow_usd
        first = next(iter(self.options.values()))
        return pd.DataFrame(cols, index=pd.Index(first.times_years, name="t_years"))


def _mining_profit_per_mw_month(
    spec: SiteSpec, state: NetworkState, price: float, t: FloatArray
) -> tuple[FloatArray, float]:
    m = spec.mining
    heights = state_height(state) + BLOCKS_PER_YEAR * t
    subsidy = np.array([block_subsidy_sats(int(h)) for h in heights], float) / SATS_PER_BTC
    ths_per_mw = 1e6 / (m.efficiency_j_per_th * m.pue)
    drift = (1.0 + spec.network.revenue_drift_per_year) ** t
    rev_day = ths_per_mw * revenue_usd_per_ths_day(state.difficulty, subsidy, state.fees_btc_per_block, price)
    power_day = ths_per_mw * energy_kwh_per_ths_day(m.efficiency_j_per_th, m.pue) * m.power_price_usd_per_kwh
    profit_day = np.maximum(rev_day * drift - power_day * (1.0 + m.other_opex_share_of_power), 0.0)
    return profit_day * DAYS_PER_MONTH, ths_per_mw


def state_height(state: NetworkState) -> int:
    """Block height of the state (``height`` of a ``NetworkSnapshot``); InputError when it has none."""
    height = getattr(state, "height", None)
    if not isinstance(height, int):
        raise InputError("state.height", height, "a network state with a block height (a NetworkSnapshot)")
    return height


def _option(
    spec: SiteSpec, option: str, share: float, t: FloatArray, mining_mw_month: FloatArray, ths_per_mw: float
) -> OptionValue:
    m, h = spec.mining, spec.hpc
    n = t.size
    mine_mw = spec.site_mw * (1.0 - share)
    it_mw = spec.site_mw * share * h.it_mw_per_site_mw
    capex = np.zeros(n)
    running = np.zeros(n, bool)
    # mining capex: infrastructure and hardware at t=0; hardware bought again at the end of each life only if
    # mining is profitable then (otherwise the machines are not replaced and mining stops for good)
    if mine_mw > 0:
        hw = mine_mw * ths_per_mw * m.hardware_usd_per_th
        capex[0] += mine_mw * m.infrastructure_capex_usd_per_mw + hw
        start = 0
        while start < n:
            end = int(np.searchsorted(t, t[start] + m.hardware_life_years - 1e-9))
            running[start:end] = True
            if end >= n or mining_mw_month[end] <= 0:
                break
            capex[end] += hw
            start = end
    mining = np.where(running, mine_mw * mining_mw_month, 0.0)
    hpc = np.zeros(n)
    if it_mw > 0:
        build = h.build_years
        building = t < build
        total_capex = it_mw * h.capex_usd_per_it_mw
        if building.any():
            capex[building] += total_capex / building.sum()
        else:
            capex[0] += total_capex
        s = np.maximum(t - build, 0.0)
        lease = it_mw * h.lease_usd_per_it_mw_year / 12.0 * h.delivery_ratio
        lease_t = lease * (1.0 + h.escalator_per_year) ** s * (1.0 - h.tenant_default_prob_per_year) ** s
        hpc = np.where(building, 0.0, lease_t * h.noi_margin)
    cf, times = _timed_flows(mining + hpc, capex, t)
    return OptionValue(
        option=option,
        hpc_share=share,
        times_years=t,
        mining_usd=mining,
        hpc_usd=hpc,
        capex_usd=capex,
        npv_usd=npv_usd(cf, times, spec.discount_rate),
        irr=irr(cf, times),
        payback_years=payback_years(cf, times),
    )


def _timed_flows(operating: FloatArray, capex: FloatArray, t: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Capex at the start of each month, operating cash flow at mid-month, in time order."""
    times = np.concatenate([t, t + 1.0 / 24.0])
    cf = np.concatenate([-capex, operating])
    order = np.argsort(times, kind="stable")
    return cf[order], times[order]


def evaluate_site(spec: SiteSpec, state: NetworkState) -> SiteValuation:
    """Value the site's three options (mine, convert, both) at the network `state` (pure).

    Parameters
    ----------
    spec : SiteSpec
        Site, mining and HPC parameters (see the module docstring).
    state : NetworkState
        Difficulty, fees, price and height (a ``NetworkSnapshot``); ``spec.network.price_usd`` overrides the price.
    """
    price = float(spec.network.price_usd or state.price_usd)
    n = round(spec.horizon_years * 12)
    t = np.arange(n) / 12.0
    mining_mw_month, ths_per_mw = _mining_profit_per_mw_month(spec, state, price, t)
    shares = {"mine": 0.0, "convert": 1.0, "both": spec.both_hpc_share}
    options = {k: _option(spec, k, v, t, mining_mw_month, ths_per_mw) for k, v in shares.items()}
    rev_ths_day = float(
        revenue_usd_per_ths_day(state.difficulty, state.subsidy_btc, state.fees_btc_per_block, price)
    )
    m, h = spec.mining, spec.hpc
    power_kwh_day = ths_per_mw * float(energy_kwh_per_ths_day(m.efficiency_j_per_th, m.pue))
    per_mw = {
        "mining_ths_per_mw": ths_per_mw,
        "mining_revenue_usd_per_mw_year": ths_per_mw * rev_ths_day * 365.25,
        "mining_power_usd_per_mw_year": power_kwh_day * m.power_price_usd_per_kwh * 365.25,
        "mining_profit_usd_per_mw_year_t0": float(mining_mw_month[0]) * 12.0,
        "mining_capex_usd_per_mw": m.infrastructure_capex_usd_per_mw + ths_per_mw * m.hardware_usd_per_th,
        "hpc_lease_usd_per_it_mw_year": h.lease_usd_per_it_mw_year,
        "hpc_noi_usd_per_site_mw_year": h.lease_usd_per_it_mw_year * h.noi_margin * h.it_mw_per_site_mw,
        "hpc_capex_usd_per_site_mw": h.capex_usd_per_it_mw * h.it_mw_per_site_mw,
    }
    return SiteValuation(
        spec=spec,
        price_usd=price,
        hashprice_usd_per_ph_day=1000.0 * rev_ths_day,
        per_mw=per_mw,
        options=options,
    )


# ------------------------------------------------------------------------------------------- portfolio
@dataclass(frozen=True)
class FundingGap:
    """Result of :func:`funding_gap`: short-term gap and long-term need at the capex point and range."""

    spec: PortfolioSpec
    short_term_gap_usd: dict[str, float]
    long_term_need_usd: dict[str, float]
    implied_leased_it_mw: dict[str, float]

    def summary(self) -> dict[str, Any]:
        """Headline figures with the published ones next to them."""
        return {
            "inputs": self.spec.model_dump(),
            "short_term_gap_usd": self.short_term_gap_usd,
            "long_term_need_usd": self.long_term_need_usd,
            "implied_leased_it_mw_for_published_short_term_gap": self.implied_leased_it_mw,
            "published": self.spec.published,
        }

    def to_frame(self) -> pd.DataFrame:
        """Gap and need by capex case."""
        return pd.DataFrame(
            {"short_term_gap_usd": self.short_term_gap_usd, "long_term_need_usd": self.long_term_need_usd}
        )


def funding_gap(spec: PortfolioSpec) -> FundingGap:
    """Industry funding gap of the AI/HPC pivot (pure); see the module docstring for the formulas."""
    capex = {"point": spec.capex_usd_per_it_mw}
    if spec.capex_range_usd_per_it_mw is not None:
        capex = {"low": spec.capex_range_usd_per_it_mw[0], **capex, "high": spec.capex_range_usd_per_it_mw[1]}
    undelivered = spec.leased_it_mw * (1.0 - spec.delivered_share)
    short = {k: undelivered * c - spec.funded_usd for k, c in capex.items()}
    long = {k: spec.pipeline_gross_mw * spec.it_mw_per_gross_mw * c for k, c in capex.items()}
    implied: dict[str, float] = {}
    published_short = spec.published.get("short_term_gap_usd")
    if published_short is not None and spec.delivered_share < 1:
        implied = {
            k: (published_short + spec.funded_usd) / ((1.0 - spec.delivered_share) * c)
            for k, c in capex.items()
        }
    return FundingGap(spec, short, long, implied)


def with_contracts_portfolio(spec: SiteSpec, gap: ContractFundingGap) -> SiteSpec:
    """`spec` with its portfolio's leased MW and delivered share from the contracts dataset (pure).

    ``portfolio.leased_it_mw`` and ``portfolio.delivered_share`` become the contracted MW and the delivered share
    of :func:`hashrisk.flows.hpc_contracts.funding_gap_from_contracts` (`gap`), and their ``sources`` say so; the
    other portfolio inputs (capex, pipeline, VanEck's published figures) stay. A spec without a portfolio is
    returned unchanged.
    """
    if spec.portfolio is None:
        return spec
    portfolio = spec.portfolio.model_copy(update=gap.portfolio_update())
    return spec.model_copy(
        update={"portfolio": portfolio, "sources": {**spec.sources, **gap.sources_update()}}
    )
