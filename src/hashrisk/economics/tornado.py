"""What remains uncertain: one-at-a-time sensitivity ("tornado") of the headline cost figures.

The headline figures of :func:`hashrisk.economics.cost.production_cost` rest on labelled assumptions (the
fleet file, the uniform power price, the fees of the day). A tornado moves **one assumption at a time** to a
low and a high value, keeps every other input at its base value, and recomputes the headline figures with
the same library functions (:func:`~hashrisk.economics.cost.all_in_cost_usd_per_btc` and
:func:`~hashrisk.economics.cost.cost_curve`, i.e. exactly what ``production_cost`` computes):

``electricity_fleet_usd_per_btc``
    view (a): ``e_wall * p_kwh * difficulty * 2**32 / (reward * 3.6e18)`` with ``e_wall`` the
    hashrate-weighted wall efficiency ``sum(w_i e_i pue_i)`` [USD/BTC];
``all_in_usd_per_btc``
    view (c): electricity ``* (1 + other_opex_share)`` plus depreciation
    ``sum(w_i hw_i) / depreciation_days / revenue_btc_per_ths_day`` [USD/BTC];
``share_unprofitable``
    view (b): the share of hashrate whose breakeven at its own power price and PUE is above the price [-].

The bar of an assumption is the interval between its low and high results; bars are ranked by their width
(the "swing"). One-at-a-time ranges ignore interactions between assumptions: the tornado says which
assumption matters most, not the joint uncertainty.

Every range below is an **assumption** with its rationale (``AssumptionRange.rationale``); pass your own
ranges to :func:`tornado` to replace them.

References: Saltelli et al. (2008), *Global Sensitivity Analysis: The Primer*, ch. 1 (one-at-a-time
designs); Howard (1988), "Decision analysis: practice and promise", Management Science 34(6) (tornado
diagrams).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hashrisk._validate import check_nonnegative
from hashrisk.economics.cost import NetworkState, all_in_cost_usd_per_btc, cost_curve
from hashrisk.economics.fleet import FleetSpec, build_fleet
from hashrisk.errors import InputError

METRICS: tuple[str, ...] = ("electricity_fleet_usd_per_btc", "all_in_usd_per_btc", "share_unprofitable")
"""The headline figures a tornado recomputes (see the module docstring)."""

METRIC_LABELS: dict[str, str] = {
    "electricity_fleet_usd_per_btc": "electricity-only cost of the fleet [USD/BTC]",
    "all_in_usd_per_btc": "all-in cost of the fleet [USD/BTC]",
    "share_unprofitable": "share of hashrate underwater at the price [-]",
}


@dataclass(frozen=True)
class CostInputs:
    """The inputs of the headline cost figures that a tornado varies.

    Attributes
    ----------
    fleet_spec : FleetSpec
        Fleet description (hardware mix, power-price distribution, PUE mix, cost assumptions).
    power_price_usd_per_kwh : float
        Uniform power price of views (a) and (c) [USD/kWh].
    fees_btc_per_block : float
        Mean fees per block [BTC/block].
    cohort_power_price_scale : float
        Multiplier on every cohort's own power price (view (b)) [-].
    hardware_cost_scale : float
        Multiplier on every class's hardware cost per TH/s (depreciation) [-].
    """

    fleet_spec: FleetSpec
    power_price_usd_per_kwh: float
    fees_btc_per_block: float
    cohort_power_price_scale: float = 1.0
    hardware_cost_scale: float = 1.0


def headline_metrics(state: NetworkState, inputs: CostInputs) -> dict[str, float]:
    """The headline figures (:data:`METRICS`) of `state` under `inputs`.

    With default scales and the snapshot's fees these equal ``production_cost(state, fleet, p)``'s
    ``electricity_fleet_usd_per_btc``, ``all_in["total"]`` and ``curve.share_unprofitable(price)``.
    """
    fleet = build_fleet(inputs.fleet_spec, state.hashrate_ths)
    fleet = dataclasses.replace(
        fleet,
        power_price_usd_per_kwh=fleet.power_price_usd_per_kwh * inputs.cohort_power_price_scale,
        hardware_usd_per_th=fleet.hardware_usd_per_th * inputs.hardware_cost_scale,
    )
    d, s, f = state.difficulty, state.subsidy_btc, inputs.fees_btc_per_block
    parts = all_in_cost_usd_per_btc(fleet, inputs.power_price_usd_per_kwh, d, s, f)
    curve = cost_curve(fleet, d, s, f)
    return {
        "electricity_fleet_usd_per_btc": float(parts["electricity"]),
        "all_in_usd_per_btc": float(parts["total"]),
        "share_unprofitable": float(curve.share_unprofitable(state.price_usd)),
    }


# ------------------------------------------------------------------------------------------ assumptions
def _spec_with(spec: FleetSpec, **changes: Any) -> FleetSpec:
    data = spec.model_dump()
    for dotted, value in changes.items():
        node = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value
    return FleetSpec.model_validate(data)


def _mix_shift(spec: FleetSpec, shift: float) -> FleetSpec:
    """Move `shift` of hashrate share from the least to the most efficient class (negative: the reverse).

    The move is capped by the share the giving class holds.
    """
    eff = np.array([c.efficiency() for c in spec.classes])
    newest, oldest = int(np.argmin(eff)), int(np.argmax(eff))
    shares = [c.share for c in spec.classes]
    give, take = (oldest, newest) if shift >= 0 else (newest, oldest)
    moved = min(abs(shift), shares[give])
    shares[give] -= moved
    shares[take] += moved
    data = spec.model_dump()
    for cls, share in zip(data["classes"], shares, strict=True):
        cls["share"] = share
    return FleetSpec.model_validate(data)


def _set_power_price(x: CostInputs, v: float) -> CostInputs:
    return dataclasses.replace(x, power_price_usd_per_kwh=v)


def _set_cohort_scale(x: CostInputs, v: float) -> CostInputs:
    return dataclasses.replace(x, cohort_power_price_scale=v)


def _set_sigma(x: CostInputs, v: float) -> CostInputs:
    return dataclasses.replace(x, fleet_spec=_spec_with(x.fleet_spec, **{"power_price.sigma": v}))


def _set_mix(x: CostInputs, v: float) -> CostInputs:
    return dataclasses.replace(x, fleet_spec=_mix_shift(x.fleet_spec, v))


def _set_pue(x: CostInputs, v: float) -> CostInputs:
    spec = _spec_with(x.fleet_spec, **{"overhead.pue": [v], "overhead.share": [1.0]})
    return dataclasses.replace(x, fleet_spec=spec)


def _set_fees_scale(x: CostInputs, v: float) -> CostInputs:
    return dataclasses.replace(x, fees_btc_per_block=x.fees_btc_per_block * v)


def _set_other_opex(x: CostInputs, v: float) -> CostInputs:
    return dataclasses.replace(
        x, fleet_spec=_spec_with(x.fleet_spec, **{"costs.other_opex_share_of_power": v})
    )


def _set_depreciation(x: CostInputs, v: float) -> CostInputs:
    return dataclasses.replace(x, fleet_spec=_spec_with(x.fleet_spec, **{"costs.depreciation_days": v}))


def _set_hardware_scale(x: CostInputs, v: float) -> CostInputs:
    return dataclasses.replace(x, hardware_cost_scale=v)


def _base_pue(x: CostInputs) -> float:
    o = x.fleet_spec.overhead
    return float(np.average(o.pue, weights=o.share))


def _base_sigma(x: CostInputs) -> float:
    sigma = x.fleet_spec.power_price.sigma
    return float("nan") if sigma is None else float(sigma)


@dataclass(frozen=True)
class _Knob:
    label: str
    unit: str
    apply: Callable[[CostInputs, float], CostInputs]
    base: Callable[[CostInputs], float]
    lower: float
    upper: float
    needs_lognormal: bool = False


KNOBS: dict[str, _Knob] = {
    "power_price_usd_per_kwh": _Knob(
        "uniform power price (views a, c)",
        "USD/kWh",
        _set_power_price,
        lambda x: x.power_price_usd_per_kwh,
        0.0,
        10.0,
    ),
    "cohort_power_price_scale": _Knob(
        "cohorts' own power prices (cost curve)", "x", _set_cohort_scale, lambda x: 1.0, 0.01, 100.0
    ),
    "power_price_sigma": _Knob(
        "spread of power prices across hashrate (log-sd)",
        "-",
        _set_sigma,
        _base_sigma,
        1e-6,
        5.0,
        needs_lognormal=True,
    ),
    "fleet_mix_shift": _Knob(
        "fleet efficiency mix (share moved from the oldest to the newest class)",
        "share",
        _set_mix,
        lambda x: 0.0,
        -1.0,
        1.0,
    ),
    "pue": _Knob("facility overhead (PUE, whole fleet)", "-", _set_pue, _base_pue, 1.0, 3.0),
    "fees_scale": _Knob("transaction fees per block", "x", _set_fees_scale, lambda x: 1.0, 0.0, 1_000.0),
    "other_opex_share_of_power": _Knob(
        "other cash opex (share of the power bill)",
        "share",
        _set_other_opex,
        lambda x: x.fleet_spec.costs.other_opex_share_of_power,
        0.0,
        10.0,
    ),
    "depreciation_days": _Knob(
        "hardware depreciation life",
        "days",
        _set_depreciation,
        lambda x: x.fleet_spec.costs.depreciation_days,
        1.0,
        10_000.0,
    ),
    "hardware_cost_scale": _Knob(
        "hardware cost per TH/s", "x", _set_hardware_scale, lambda x: 1.0, 0.0, 100.0
    ),
}
"""The assumptions a tornado can vary, by name (``AssumptionRange.name``)."""


@dataclass(frozen=True)
class AssumptionRange:
    """One assumption's low and high setting (values in the unit of :data:`KNOBS` ``[name]``).

    Attributes
    ----------
    name : str
        A key of :data:`KNOBS`.
    low, high : float
        The two settings tried.
    rationale : str
        Why this range (itself an assumption unless it cites a source).
    """

    name: str
    low: float
    high: float
    rationale: str


DEFAULT_RANGES: tuple[AssumptionRange, ...] = (
    AssumptionRange(
        "power_price_usd_per_kwh",
        0.04,
        0.06,
        "±$0.01/kWh around JPMorgan's $0.05/kWh reference, the step the bank quotes its cost per (assumption)",
    ),
    AssumptionRange(
        "cohort_power_price_scale",
        0.8,
        1.2,
        "every cohort's power price ±20% (median $0.036-0.054/kWh for the default fleet; assumption)",
    ),
    AssumptionRange(
        "power_price_sigma",
        0.25,
        0.45,
        "log-sd 0.25-0.45 around the default 0.35 (assumption)",
    ),
    AssumptionRange(
        "fleet_mix_shift",
        -0.10,
        0.10,
        "10 points of hashrate share moved between the least and the most efficient class (assumption)",
    ),
    AssumptionRange(
        "pue",
        1.01,
        1.20,
        "whole fleet at CBECI's lower (1.01) or upper (1.20) PUE (CBECI methodology bounds)",
    ),
    AssumptionRange(
        "fees_scale",
        0.5,
        2.0,
        "half or double the snapshot's fees per block (assumption)",
    ),
    AssumptionRange(
        "other_opex_share_of_power",
        0.10,
        0.30,
        "10-30% of the power bill for staff, maintenance, hosting and pool fees (assumption)",
    ),
    AssumptionRange(
        "depreciation_days",
        730.0,
        1460.0,
        "2 to 4 years of straight-line depreciation (assumption)",
    ),
    AssumptionRange(
        "hardware_cost_scale",
        0.7,
        1.3,
        "hardware prices per TH/s ±30% (assumption)",
    ),
)
"""The ranges of the report's tornado (each one a labelled assumption with its rationale)."""


@dataclass(frozen=True)
class TornadoBar:
    """The headline figures at one assumption's low and high setting.

    Attributes
    ----------
    name, label, unit, rationale : str
        The assumption.
    base_value, low_value, high_value : float
        Its base, low and high settings.
    low, high : dict[str, float]
        The headline figures (:data:`METRICS`) at the low and high setting.
    """

    name: str
    label: str
    unit: str
    rationale: str
    base_value: float
    low_value: float
    high_value: float
    low: dict[str, float]
    high: dict[str, float]

    def swing(self, metric: str) -> float:
        """Width of the bar for `metric`: ``|high - low|``."""
        return abs(self.high[metric] - self.low[metric])


@dataclass(frozen=True)
class Tornado:
    """Result of :func:`tornado`: the base figures and one bar per assumption."""

    price_usd: float
    base: dict[str, float]
    bars: tuple[TornadoBar, ...]

    def ranked(self, metric: str) -> list[TornadoBar]:
        """Bars sorted by their swing for `metric`, widest first."""
        if metric not in METRICS:
            raise InputError("metric", metric, f"one of {list(METRICS)}")
        return sorted(self.bars, key=lambda b: b.swing(metric), reverse=True)

    def to_frame(self) -> pd.DataFrame:
        """One row per (assumption, metric): settings, base, low, high and swing."""
        rows = [
            {
                "assumption": b.name,
                "label": b.label,
                "unit": b.unit,
                "base_value": b.base_value,
                "low_value": b.low_value,
                "high_value": b.high_value,
                "metric": m,
                "base": self.base[m],
                "low": b.low[m],
                "high": b.high[m],
                "swing": b.swing(m),
                "rationale": b.rationale,
            }
            for b in self.bars
            for m in METRICS
        ]
        return pd.DataFrame(rows)

    def summary(self) -> dict[str, Any]:
        """JSON-ready: base figures, and per metric the assumptions ranked by swing."""
        return {
            "price_usd": self.price_usd,
            "base": dict(self.base),
            "metrics": {
                m: [
                    {
                        "assumption": b.name,
                        "label": b.label,
                        "low_value": b.low_value,
                        "high_value": b.high_value,
                        "low": b.low[m],
                        "high": b.high[m],
                        "swing": b.swing(m),
                    }
                    for b in self.ranked(m)
                ]
                for m in METRICS
            },
            "method": "one assumption at a time, others at base (see hashrisk.economics.tornado)",
            "assumption": True,
        }


def tornado(
    state: NetworkState,
    fleet_spec: FleetSpec,
    power_price_usd_per_kwh: float = 0.05,
    ranges: Sequence[AssumptionRange] = DEFAULT_RANGES,
) -> Tornado:
    """One-at-a-time sensitivity of the headline cost figures to each assumption.

    Parameters
    ----------
    state : NetworkState
        Price, difficulty, fees, subsidy and hashrate (e.g. a ``NetworkSnapshot``).
    fleet_spec : FleetSpec
        The base fleet.
    power_price_usd_per_kwh : float
        Base uniform power price [USD/kWh].
    ranges : sequence of AssumptionRange
        The assumptions to vary and their low/high settings. ``power_price_sigma`` is left out (not an
        error) when the fleet's power prices are explicit buckets rather than a lognormal.

    Returns
    -------
    Tornado

    Raises
    ------
    InputError
        For an unknown assumption name or a setting outside what the model accepts.
    """
    pp = float(check_nonnegative("power_price_usd_per_kwh", power_price_usd_per_kwh))
    base_inputs = CostInputs(fleet_spec, pp, state.fees_btc_per_block)
    base = headline_metrics(state, base_inputs)
    lognormal = fleet_spec.power_price.distribution == "lognormal"
    bars = []
    for r in ranges:
        knob = KNOBS.get(r.name)
        if knob is None:
            raise InputError("ranges.name", r.name, f"one of {sorted(KNOBS)}")
        if knob.needs_lognormal and not lognormal:
            continue
        for side, value in (("low", r.low), ("high", r.high)):
            if not (np.isfinite(value) and knob.lower <= value <= knob.upper):
                raise InputError(
                    f"ranges.{r.name}.{side}", value, f"a number in [{knob.lower}, {knob.upper}]"
                )
        bars.append(
            TornadoBar(
                name=r.name,
                label=knob.label,
                unit=knob.unit,
                rationale=r.rationale,
                base_value=knob.base(base_inputs),
                low_value=float(r.low),
                high_value=float(r.high),
                low=headline_metrics(state, knob.apply(base_inputs, r.low)),
                high=headline_metrics(state, knob.apply(base_inputs, r.high)),
            )
        )
    return Tornado(price_usd=float(state.price_usd), base=base, bars=tuple(bars))
