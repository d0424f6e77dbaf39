"""US defined-benefit pension rebalancing: drift, the flow that restores targets, funded status, glide paths.

The method is JPMorgan's published framework for the quarter-end rebalancing of US defined-benefit (DB)
pension plans: assume the plans were fully rebalanced at the end of the previous quarter, apply the
quarter-to-date (QTD) returns of equities and bonds, and compute the trade that restores the target weights
(JPMorgan Flows & Liquidity, as summarised e.g. by Investing.com on 2025-09-11 and in June 2024 coverage of
the note "quarter-end pension selling"). Only part of that *theoretical imbalance* is expected to trade in a
quarter: JPMorgan assumes about one third (the *execution ratio*).

Per segment (public = state and local plans, corporate = private single-employer plans) with assets ``A``
and target weights ``e`` (equities), ``b`` (bonds) and ``o`` (other: alternatives, real estate, cash)::

    S = A * (e + b)                 the liquid sleeve that is rebalanced (other assets are not traded)
    w = e / (e + b)                 equity weight inside the sleeve
    r_s = w * r_e + (1 - w) * r_b   sleeve return
    equity_flow = w * S * (1 + r_s) - w * S * (1 + r_e) = S * w * (1 - w) * (r_b - r_e)

so the flow is negative (equity selling) when equities beat bonds. Summed over segments it is the theoretical
imbalance; ``expected = execution_ratio * theoretical``.

Funded status uses a single-equivalent cash flow at the liabilities' duration ``D`` [years]: with discount
rate ``y0`` at the quarter start and ``y1`` at the as-of date, ``t`` years later::

    L1 = L0 * (1 + y0)**D / (1 + y1)**(D - t)        A1 = A0 * (1 + e*r_e + b*r_b + o*r_o)

(contributions and benefit payments within the quarter are ignored). A glide path (corporate plans) maps the
funded ratio to a target equity weight; when the funded ratio crosses a step during the quarter the change of
target is a de-risking flow ``A1 * (equity_target(FR1) - equity_target(FR0))``, reported separately from the
rebalancing imbalance (JPMorgan's figures do not include it).

Each input can carry a half-width in ``uncertainty``; the result reports a linear worst-case band of the
theoretical imbalance, ``sum_i |dF/dx_i| * h_i`` (one input moved at a time by +-h_i; a move of an
allocation weight is offset in ``other``, a move of a segment's share of assets in the other segment).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hashrisk.errors import InputError, from_validation_error
from hashrisk.flows.inputs import model_from_dict, model_from_yaml, packaged_text

SHARE_TOL = 1e-6
"""Tolerance on weights and shares that must sum to 1."""

DAYS_PER_YEAR = 365.25

CASES: dict[str, str] = {
    "2026-06": "pensions_2026q2_jpm.yaml",
    "2025-q3": "pensions_2025q3_jpm.yaml",
}
"""Packaged input files (``hashrisk flows pensions --case NAME``); the first is the default."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Allocation(_Model):
    """Target weights of total assets [-]; they must sum to 1."""

    equity: float = Field(ge=0, le=1, allow_inf_nan=False)
    bonds: float = Field(ge=0, le=1, allow_inf_nan=False)
    other: float = Field(default=0.0, ge=0, le=1, allow_inf_nan=False)

    @model_validator(mode="after")
    def _sums_to_one(self) -> Allocation:
        total = self.equity + self.bonds + self.other
        if abs(total - 1.0) > SHARE_TOL:
            raise ValueError(f"equity + bonds + other must sum to 1 (got {total:.6g})")
        if self.equity + self.bonds <= 0:
            raise ValueError("equity + bonds must be > 0 (the rebalanced sleeve)")
        return self


class GlideStep(Allocation):
    """One step of a glide path: the target allocation from a funded ratio upward."""

    funded_ratio_at_least: float = Field(ge=0, allow_inf_nan=False)


class Returns(_Model):
    """Quarter-to-date total returns by asset class [-] (0.05 = +5%)."""

    equity: float = Field(gt=-1, allow_inf_nan=False)
    bonds: float = Field(gt=-1, allow_inf_nan=False)
    other: float = Field(default=0.0, gt=-1, allow_inf_nan=False)


class PensionSegment(_Model):
    """A group of plans (public or corporate) with its allocation, liabilities and optional glide path."""

    name: str
    kind: Literal["public", "corporate"]
    share_of_assets: float = Field(ge=0, le=1, allow_inf_nan=False)
    allocation: Allocation
    funded_ratio_start: float = Field(gt=0, allow_inf_nan=False)
    discount_rate_start: float = Field(gt=-1, lt=1, allow_inf_nan=False)
    discount_rate_end: float = Field(gt=-1, lt=1, allow_inf_nan=False)
    liability_duration_years: float = Field(ge=0, le=100, allow_inf_nan=False)
    glide_path: list[GlideStep] | None = None

    @field_validator("glide_path")
    @classmethod
    def _ascending(cls, steps: list[GlideStep] | None) -> list[GlideStep] | None:
        if steps is None:
            return None
        if not steps:
            raise ValueError("a glide path needs at least one step (or leave it out)")
        thresholds = [s.funded_ratio_at_least for s in steps]
        if thresholds != sorted(thresholds) or len(set(thresholds)) != len(thresholds):
            raise ValueError(f"funded_ratio_at_least must be strictly ascending (got {thresholds})")
        if thresholds[0] > 0:
            raise ValueError("the first glide-path step must start at funded_ratio_at_least: 0")
        return steps

    def equity_target(self, funded_ratio: float) -> float:
        """Glide-path equity weight at `funded_ratio` (the stated allocation without a glide path) [-]."""
        if self.glide_path is None:
            return self.allocation.equity
        step = [s for s in self.glide_path if s.funded_ratio_at_least <= funded_ratio][-1]
        return step.equity


class PensionInputs(_Model):
    """Everything the rebalancing model needs; see the module docstring for the formulas.

    ``sources`` maps dotted field paths to their provenance (``fact: ...`` / ``assumption: ...``);
    ``uncertainty`` maps dotted paths of numeric inputs to half-widths used for the band;
    ``published`` holds the figures to compare with (negative = equity selling) [USD].
    """

    label: str
    quarter_start: dt.date
    as_of: dt.date
    total_assets_usd: float = Field(gt=0, allow_inf_nan=False)
    returns: Returns
    execution_ratio: float = Field(ge=0, le=1, allow_inf_nan=False)
    segments: list[PensionSegment] = Field(min_length=1)
    published: dict[str, float] = Field(default_factory=dict)
    uncertainty: dict[str, float] = Field(default_factory=dict)
    sources: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> PensionInputs:
        if self.as_of <= self.quarter_start:
            raise ValueError(f"as_of ({self.as_of}) must be after quarter_start ({self.quarter_start})")
        total = sum(s.share_of_assets for s in self.segments)
        if abs(total - 1.0) > SHARE_TOL:
            raise ValueError(f"segments' share_of_assets must sum to 1 (got {total:.6g})")
        names = [s.name for s in self.segments]
        if len(set(names)) != len(names):
            raise ValueError(f"segment names must be unique (got {names})")
        bad = {k: v for k, v in self.uncertainty.items() if not (math.isfinite(v) and v >= 0)}
        if bad:
            raise ValueError(f"uncertainty half-widths must be finite and >= 0 (got {bad})")
        return self

    @property
    def years(self) -> float:
        """Length of the quarter-to-date window [years]."""
        return (self.as_of - self.quarter_start).days / DAYS_PER_YEAR

    @classmethod
    def from_dict(cls, raw: dict[str, Any], origin: str = "pension inputs") -> PensionInputs:
        """Validate a mapping; any problem is an :class:`InputError` naming the field by dotted path."""
        return model_from_dict(cls, raw, origin)

    @classmethod
    def from_yaml_text(cls, text: str, origin: str = "pension inputs") -> PensionInputs:
        """Parse and validate a YAML document of this layout (see the packaged ``pensions_*.yaml``)."""
        return model_from_yaml(cls, text, origin, "pensions")

    @classmethod
    def packaged(cls, case: str = "2026-06") -> PensionInputs:
        """A packaged case (``"2026-06"`` or ``"2025-q3"``), every number labelled fact or assumption."""
        if case not in CASES:
            raise InputError("case", case, f"one of {', '.join(CASES)}")
        return cls.from_yaml_text(packaged_text(CASES[case]), origin=CASES[case])


@dataclass(frozen=True)
class SegmentFlow:
    """One segment's quarter: drift, rebalancing flow, funded status and de-risking.

    Flows are trades into equities [USD]: negative = equity selling (bonds are bought by the same amount).
    """

    name: str
    kind: str
    assets_start_usd: float
    sleeve_usd: float
    equity_weight_in_sleeve: float
    equity_weight_in_sleeve_after: float
    equity_weight_total_after: float
    rebalancing_flow_usd: float
    assets_end_usd: float
    liabilities_start_usd: float
    liabilities_end_usd: float
    funded_ratio_start: float
    funded_ratio_end: float
    derisking_flow_usd: float

    @property
    def drift(self) -> float:
        """Equity weight in the sleeve after the returns minus its target [-]."""
        return self.equity_weight_in_sleeve_after - self.equity_weight_in_sleeve

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, with the drift."""
        out = dict(self.__dict__)
        out["drift"] = self.drift
        return out


@dataclass(frozen=True)
class PensionFlows:
    """Result of :func:`pension_flows`: per-segment flows, totals, the uncertainty band and comparisons."""

    inputs: PensionInputs
    segments: tuple[SegmentFlow, ...]
    theoretical_imbalance_usd: float
    expected_flow_usd: float
    derisking_flow_usd: float
    sensitivity_usd_per_unit_spread: float
    band_usd: tuple[float, float]
    band_contributions_usd: dict[str, float] = field(default_factory=dict)

    def implied_return_spread(self, imbalance_usd: float) -> float:
        """Equity-minus-bond QTD return that gives `imbalance_usd` with these allocations [-].

        ``r_e - r_b = -imbalance / K`` with ``K = sum S * w * (1 - w)``.
        """
        return -imbalance_usd / self.sensitivity_usd_per_unit_spread

    def comparison(self) -> dict[str, Any]:
        """The published figures next to the model's, with the implied return spread."""
        out: dict[str, Any] = {}
        model = {
            "theoretical_imbalance_usd": self.theoretical_imbalance_usd,
            "expected_flow_usd": self.expected_flow_usd,
        }
        for key, value in self.inputs.published.items():
            entry: dict[str, Any] = {
                "published": value,
                "source": self.inputs.sources.get(f"published.{key}"),
            }
            if key in model:
                entry["model"] = model[key]
                entry["model_minus_published"] = model[key] - value
                entry["relative_difference"] = (model[key] - value) / abs(value) if value else math.nan
            out[key] = entry
        if "theoretical_imbalance_usd" in self.inputs.published:
            spread = self.implied_return_spread(self.inputs.published["theoretical_imbalance_usd"])
            out["implied_equity_minus_bond_return"] = spread
        lo, hi = self.band_usd
        scale = {"theoretical_imbalance_usd": 1.0, "expected_flow_usd": self.inputs.execution_ratio}
        for key, k in scale.items():
            if key in self.inputs.published:
                out[key]["band"] = [k * lo, k * hi]
                out[key]["within_band"] = k * lo <= self.inputs.published[key] <= k * hi
        return out

    def summary(self) -> dict[str, Any]:
        """Headline figures, JSON-ready."""
        r = self.inputs.returns
        return {
            "label": self.inputs.label,
            "quarter_start": self.inputs.quarter_start.isoformat(),
            "as_of": self.inputs.as_of.isoformat(),
            "total_assets_usd": self.inputs.total_assets_usd,
            "returns_qtd": {"equity": r.equity, "bonds": r.bonds, "other": r.other},
            "equity_minus_bond_return": r.equity - r.bonds,
            "theoretical_imbalance_usd": self.theoretical_imbalance_usd,
            "execution_ratio": self.inputs.execution_ratio,
            "expected_flow_usd": self.expected_flow_usd,
            "derisking_flow_usd": self.derisking_flow_usd,
            "band_usd": list(self.band_usd),
            "band_contributions_usd": self.band_contributions_usd,
            "sensitivity_usd_per_pct_point_spread": self.sensitivity_usd_per_unit_spread / 100.0,
            "segments": [s.to_dict() for s in self.segments],
            "published": self.comparison(),
            "sources": self.inputs.sources,
            "sign_convention": "flows are trades into equities: negative = equity selling, bond buying",
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per segment."""
        return pd.DataFrame([s.to_dict() for s in self.segments]).set_index("name")


def _segment_flow(seg: PensionSegment, inputs: PensionInputs) -> SegmentFlow:
    r = inputs.returns
    a0 = inputs.total_assets_usd * seg.share_of_assets
    al = seg.allocation
    sleeve = a0 * (al.equity + al.bonds)
    w = al.equity / (al.equity + al.bonds)
    r_s = w * r.equity + (1 - w) * r.bonds
    flow = sleeve * w * (1 - w) * (r.bonds - r.equity)
    r_p = al.equity * r.equity + al.bonds * r.bonds + al.other * r.other
    a1 = a0 * (1 + r_p)
    l0 = a0 / seg.funded_ratio_start
    d, t = seg.liability_duration_years, inputs.years
    l1 = l0 * (1 + seg.discount_rate_start) ** d / (1 + seg.discount_rate_end) ** max(d - t, 0.0)
    fr1 = a1 / l1
    derisk = a1 * (seg.equity_target(fr1) - seg.equity_target(seg.funded_ratio_start))
    return SegmentFlow(
        name=seg.name,
        kind=seg.kind,
        assets_start_usd=a0,
        sleeve_usd=sleeve,
        equity_weight_in_sleeve=w,
        equity_weight_in_sleeve_after=w * (1 + r.equity) / (1 + r_s),
        equity_weight_total_after=al.equity * (1 + r.equity) / (1 + r_p),
        rebalancing_flow_usd=flow,
        assets_end_usd=a1,
        liabilities_start_usd=l0,
        liabilities_end_usd=l1,
        funded_ratio_start=seg.funded_ratio_start,
        funded_ratio_end=fr1,
        derisking_flow_usd=derisk,
    )


def _imbalance(inputs: PensionInputs) -> float:
    return sum(_segment_flow(s, inputs).rebalancing_flow_usd for s in inputs.segments)


def _set_path(data: dict[str, Any], path: str, delta: float) -> None:
    """Add `delta` to the numeric leaf at dotted `path`, keeping weights and shares summing to 1."""
    parts = path.split(".")
    node: Any = data
    try:
        for p in parts[:-1]:
            node = node[int(p)] if isinstance(node, list) else node[p]
        leaf = parts[-1]
        old = node[leaf]
    except (KeyError, IndexError, ValueError, TypeError):
        raise InputError(f"uncertainty.{path}", path, "a dotted path to a numeric input") from None
    if isinstance(old, bool) or not isinstance(old, int | float):
        raise InputError(f"uncertainty.{path}", old, "a dotted path to a numeric input")
    node[leaf] = old + delta
    if parts[-2:-1] == ["allocation"] and leaf in ("equity", "bonds"):
        node["other"] = node.get("other", 0.0) - delta
    elif parts[0] == "segments" and leaf == "share_of_assets":
        segs = data["segments"]
        if len(segs) != 2:
            raise InputError(
                f"uncertainty.{path}", path, "share_of_assets uncertainty only with exactly two segments"
            )
        other = segs[1 - int(parts[1])]
        other["share_of_assets"] = other["share_of_assets"] - delta


def _band(inputs: PensionInputs, central: float) -> tuple[tuple[float, float], dict[str, float]]:
    contributions: dict[str, float] = {}
    for path, half in inputs.uncertainty.items():
        moves = []
        for sign in (1.0, -1.0):
            data = inputs.model_dump()
            _set_path(data, path, sign * half)
            try:
                moved = PensionInputs.model_validate(data)
            except ValidationError as exc:
                cause = from_validation_error(exc, f"the inputs moved by uncertainty.{path}")
                raise InputError(
                    f"uncertainty.{path}", half, f"a half-width that keeps the inputs valid ({cause})"
                ) from None
            moves.append(abs(_imbalance(moved) - central))
        contributions[path] = max(moves)
    spread = sum(contributions.values())
    return (central - spread, central + spread), contributions


def pension_flows(inputs: PensionInputs) -> PensionFlows:
    """Rebalancing flows of US DB pensions for a quarter-to-date window (pure: inputs -> result).

    Parameters
    ----------
    inputs : PensionInputs
        Total assets, segment shares and allocations, QTD returns, execution ratio, liabilities.

    Returns
    -------
    PensionFlows
        Per-segment drift and flows, the theoretical imbalance, the expected flow
        (``execution_ratio * theoretical``), de-risking flows, and a linear worst-case band.

    References
    ----------
    JPMorgan Flows & Liquidity quarter-end rebalancing estimates for US DB pensions (reported by Investing.com,
    2025-09-11: "$9.4 trillion ... about $18 billion in equity selling, rather than their theoretical $55 billion
    imbalance"; execution of about one third: Investing.com, JPMorgan note on quarter-end rebalancing, 2024).
    """
    segs = tuple(_segment_flow(s, inputs) for s in inputs.segments)
    theoretical = sum(s.rebalancing_flow_usd for s in segs)
    sensitivity = sum(
        s.sleeve_usd * s.equity_weight_in_sleeve * (1 - s.equity_weight_in_sleeve) for s in segs
    )
    band, contributions = _band(inputs, theoretical)
    return PensionFlows(
        inputs=inputs,
        segments=segs,
        theoretical_imbalance_usd=theoretical,
        expected_flow_usd=inputs.execution_ratio * theoretical,
        derisking_flow_usd=sum(s.derisking_flow_usd for s in segs),
        sensitivity_usd_per_unit_spread=sensitivity,
        band_usd=band,
        band_contributions_usd=contributions,
    )
