"""The network as a fleet of cohorts, and the CBECI-style profitable-hardware basket.

A cohort is one hardware class x one power-price bucket x one overhead (PUE) level. Its hashrate is
``total_hashrate_ths * class_share * power_bucket_share * pue_share``, so cohorts always sum to the
network's hashrate. The default mix (package file ``fleet_default.toml``) is a labelled assumption that the
user overrides with a TOML file of the same layout (:meth:`FleetSpec.from_toml_text`).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from scipy import stats

from hashrisk._validate import check_positive
from hashrisk.economics.catalog import find_model, load_catalog
from hashrisk.economics.machine import breakeven_power_price_usd_per_kwh, breakeven_price_usd
from hashrisk.errors import InputError, from_validation_error

FloatArray = npt.NDArray[np.float64]
_SHARE_TOL = 1e-6

MINERS_SHARE_SOLD = 0.8
"""Share of each day's production miners sell on the day. Assumption (public miners sold over 32,000 BTC in
Q1 2026, more than they mined: production plus treasury); the simulation's ``treasury.share_sold`` default
and the BTC-flows default."""


def _check_shares(name: str, shares: list[float]) -> None:
    if any(s < 0 for s in shares) or abs(sum(shares) - 1.0) > _SHARE_TOL:
        raise ValueError(f"{name} must be >= 0 and sum to 1 (got sum {sum(shares):.6g})")


class HardwareClass(BaseModel):
    """One hardware class: a catalog model (or an explicit efficiency) and its share of hashrate."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    model: str | None = None
    efficiency_j_per_th: float | None = Field(default=None, gt=0)
    share: float = Field(ge=0, le=1)
    hardware_usd_per_th: float = Field(ge=0)

    @model_validator(mode="after")
    def _one_source(self) -> HardwareClass:
        if (self.model is None) == (self.efficiency_j_per_th is None):
            raise ValueError("give exactly one of `model` (a catalog name) or `efficiency_j_per_th`")
        return self

    def efficiency(self) -> float:
        """Efficiency [J/TH]: the explicit value, or the catalog model's spec."""
        if self.efficiency_j_per_th is not None:
            return self.efficiency_j_per_th
        assert self.model is not None
        return float(find_model(self.model)["efficiency_j_per_th"])


class PowerPriceSpec(BaseModel):
    """Power-price distribution across hashrate: a lognormal cut into buckets, or explicit buckets."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    distribution: Literal["lognormal", "buckets"] = "lognormal"
    median_usd_per_kwh: float | None = Field(default=None, gt=0)
    sigma: float | None = Field(default=None, gt=0)
    buckets: int = Field(default=12, ge=1, le=1000)
    values_usd_per_kwh: list[float] | None = None
    shares: list[float] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PowerPriceSpec:
        if self.distribution == "lognormal":
            if self.median_usd_per_kwh is None or self.sigma is None:
                raise ValueError("a lognormal needs median_usd_per_kwh and sigma")
        else:
            if not self.values_usd_per_kwh or self.shares is None:
                raise ValueError("distribution = 'buckets' needs values_usd_per_kwh and shares")
            if len(self.values_usd_per_kwh) != len(self.shares):
                raise ValueError("values_usd_per_kwh and shares must have the same length")
            if any(not math.isfinite(v) or v < 0 for v in self.values_usd_per_kwh):
                raise ValueError("values_usd_per_kwh must be finite and >= 0")
            _check_shares("power_price.shares", self.shares)
        return self

    def discretise(self) -> tuple[FloatArray, FloatArray]:
        """Bucket values [USD/kWh] and hashrate shares; lognormal buckets are equal-share, at mid-quantiles."""
        if self.distribution == "buckets":
            assert self.values_usd_per_kwh is not None and self.shares is not None
            return np.asarray(self.values_usd_per_kwh, float), np.asarray(self.shares, float)
        assert self.median_usd_per_kwh is not None and self.sigma is not None
        q = (np.arange(self.buckets) + 0.5) / self.buckets
        values = self.median_usd_per_kwh * np.exp(self.sigma * stats.norm.ppf(q))
        return values, np.full(self.buckets, 1.0 / self.buckets)


class OverheadSpec(BaseModel):
    """Facility overhead (PUE) levels across hashrate."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    pue: list[float]
    share: list[float]

    @model_validator(mode="after")
    def _consistent(self) -> OverheadSpec:
        if not self.pue or len(self.pue) != len(self.share):
            raise ValueError("overhead.pue and overhead.share must be non-empty and of the same length")
        if any(not math.isfinite(p) or p < 1 for p in self.pue):
            raise ValueError("overhead.pue values must be >= 1")
        _check_shares("overhead.share", self.share)
        return self


class CostSpec(BaseModel):
    """Non-electricity cost assumptions for the all-in cost."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    depreciation_days: float = Field(gt=0)
    other_opex_share_of_power: float = Field(ge=0)


class FleetSpec(BaseModel):
    """A fleet description (the layout of ``fleet_default.toml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str = "user fleet"
    costs: CostSpec
    classes: list[HardwareClass] = Field(min_length=1)
    power_price: PowerPriceSpec
    overhead: OverheadSpec

    @field_validator("classes")
    @classmethod
    def _class_shares(cls, classes: list[HardwareClass]) -> list[HardwareClass]:
        _check_shares("classes.share", [c.share for c in classes])
        names = [c.name for c in classes]
        if len(set(names)) != len(names):
            raise ValueError("class names must be unique")
        return classes

    @classmethod
    def from_toml_text(cls, text: str, origin: str = "fleet file") -> FleetSpec:
        """Parse and validate a fleet TOML document.

        Raises
        ------
        InputError
            Naming the field (dotted path), the value and what is allowed.
        """
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError("fleet", origin, f"a valid TOML document ({exc})") from None
        try:
            spec = cls.model_validate(raw)
        except ValidationError as exc:
            raise from_validation_error(exc, origin, default_field="fleet") from None
        for c in spec.classes:  # resolve catalog names now, so a typo fails here
            c.efficiency()
        return spec

    @classmethod
    def default(cls) -> FleetSpec:
        """The packaged default fleet (labelled assumptions)."""
        return _default_spec()


@lru_cache(maxsize=1)
def _default_spec() -> FleetSpec:
    text = resources.files("hashrisk.economics").joinpath("data/fleet_default.toml").read_text("utf-8")
    return FleetSpec.from_toml_text(text, origin="fleet_default.toml")


VINTAGE_MAX_AGE_YEARS = 6.0
"""Oldest hardware in a vintage fleet [years since release]. Assumption: S9-era machines (2016) were still
hashing in 2022 at cheap power; older ones are scrap."""
VINTAGE_HALF_LIFE_YEARS = 2.0
"""Half-life of a release's share of the installed fleet [years]. Assumption: machines are replaced on a
2-4 year cycle as each generation roughly halves J/TH."""
VINTAGE_HARDWARE_USD_PER_TH = 20.0
"""Hardware cost of every class of a vintage fleet [USD per TH/s] (it only prices new deployments, which use
the newest class). Assumption: the order of new-ASIC prices in 2022-2025."""


def vintage_fleet_spec(
    as_of: str | pd.Period | Any,
    *,
    max_age_years: float = VINTAGE_MAX_AGE_YEARS,
    half_life_years: float = VINTAGE_HALF_LIFE_YEARS,
    hardware_usd_per_th: float = VINTAGE_HARDWARE_USD_PER_TH,
    base: FleetSpec | None = None,
) -> FleetSpec:
    """A fleet for a past date, built from the ASIC catalog: every model released in the `max_age_years`
    before `as_of`, weighted by the age of its release.

    ``share_i ∝ 2^(-age_i / half_life_years)`` with ``age_i`` = years from the model's release month to
    `as_of` (the catalog's maker specs are facts; the weighting, the age cut-off and the hardware cost are
    labelled assumptions). Power prices, overheads and cost settings come from `base` (the default fleet).
    Used to start backcasts and calibrations in the past, when the default mid-2026 mix did not exist.

    Parameters
    ----------
    as_of : date-like or "YYYY-MM"
        The date the fleet is for.

    Raises
    ------
    InputError
        If no catalog model was released in the window, or a parameter is not positive.
    """
    check_positive("max_age_years", max_age_years)
    check_positive("half_life_years", half_life_years)
    month = pd.Period(as_of, freq="M") if not isinstance(as_of, pd.Period) else as_of.asfreq("M")
    cat = load_catalog(released_by=month)
    age_years = np.asarray([(month - r).n / 12.0 for r in cat["release_month"]], dtype=np.float64)
    keep = age_years <= max_age_years
    if not keep.any():
        raise InputError(
            "as_of", str(month), f"a month with catalog models released in the {max_age_years:g} years before"
        )
    cat, age_years = cat[keep], age_years[keep]
    weight = np.exp2(-age_years / half_life_years)
    weight /= weight.sum()
    spec = base if base is not None else FleetSpec.default()
    classes = [
        HardwareClass(
            name=f"{row.model} ({row.release_month})",
            model=str(row.model),
            share=float(w),
            hardware_usd_per_th=hardware_usd_per_th,
        )
        for row, w in zip(cat.itertuples(), weight, strict=True)
    ]
    # renormalise the last share so the classes sum to one exactly
    total = sum(c.share for c in classes[:-1])
    classes[-1] = classes[-1].model_copy(update={"share": max(0.0, 1.0 - total)})
    return spec.model_copy(
        update={
            "label": f"vintage fleet {month} (catalog models of the last {max_age_years:g} years, "
            f"half-life {half_life_years:g} years: assumption)",
            "classes": classes,
        }
    )


def check_catalog_date(day: Any) -> None:
    """Refuse a day before the first release of the ASIC catalog, naming the field ``date``.

    Raises
    ------
    InputError
        ``no ASIC of the catalog was released by D; the catalog starts at YYYY-MM``.
    """
    first = load_catalog()["release_month"].min()
    if day is None or pd.Period(day, freq="M") < first:
        raise InputError(
            "date",
            str(day),
            f"a day from {first} on (no ASIC of the catalog was released by {day}; the catalog starts at {first})",
        )


def dated_fleet_spec(day: Any | None, base: FleetSpec | None = None) -> FleetSpec:
    """The fleet of a day: `base` (the default mid-2026 fleet) when `day` is None, else the vintage fleet of
    the day (:func:`vintage_fleet_spec`): the machines of its time.

    Raises
    ------
    InputError
        Naming ``date``, for a day before the catalog's first release (see :func:`check_catalog_date`).
    """
    if day is None:
        return base if base is not None else FleetSpec.default()
    check_catalog_date(day)
    return vintage_fleet_spec(day, base=base)


@dataclass(frozen=True)
class Fleet:
    """Cohort arrays (one element per cohort) and the cost assumptions.

    Attributes
    ----------
    hardware_class : ndarray of str
    efficiency_j_per_th : ndarray [J/TH]
    pue : ndarray [-]
    power_price_usd_per_kwh : ndarray [USD/kWh]
    hashrate_ths : ndarray [TH/s]
    hardware_usd_per_th : ndarray [USD/(TH/s)]
    depreciation_days : float [days]
    other_opex_share_of_power : float [-]
    label : str
    """

    hardware_class: npt.NDArray[np.str_]
    efficiency_j_per_th: FloatArray
    pue: FloatArray
    power_price_usd_per_kwh: FloatArray
    hashrate_ths: FloatArray
    hardware_usd_per_th: FloatArray
    depreciation_days: float
    other_opex_share_of_power: float
    label: str = "fleet"
    assumptions: dict[str, str] = field(default_factory=dict)

    @property
    def total_hashrate_ths(self) -> float:
        """Sum of cohort hashrates [TH/s]."""
        return float(self.hashrate_ths.sum())

    @property
    def mean_efficiency_j_per_th(self) -> float:
        """Hashrate-weighted efficiency [J/TH] (without overhead)."""
        return float(np.average(self.efficiency_j_per_th, weights=self.hashrate_ths))

    @property
    def mean_wall_efficiency_j_per_th(self) -> float:
        """Hashrate-weighted efficiency including facility overhead, ``e * pue`` [J/TH]."""
        return float(np.average(self.efficiency_j_per_th * self.pue, weights=self.hashrate_ths))

    def to_frame(self) -> pd.DataFrame:
        """One row per cohort."""
        return pd.DataFrame(
            {
                "hardware_class": self.hardware_class,
                "efficiency_j_per_th": self.efficiency_j_per_th,
                "pue": self.pue,
                "power_price_usd_per_kwh": self.power_price_usd_per_kwh,
                "hashrate_ths": self.hashrate_ths,
                "hardware_usd_per_th": self.hardware_usd_per_th,
            }
        )

    def summary(self) -> dict[str, Any]:
        """Headline figures of the fleet."""
        return {
            "label": self.label,
            "cohorts": int(self.hashrate_ths.size),
            "total_hashrate_ths": self.total_hashrate_ths,
            "mean_efficiency_j_per_th": self.mean_efficiency_j_per_th,
            "mean_wall_efficiency_j_per_th": self.mean_wall_efficiency_j_per_th,
            "mean_power_price_usd_per_kwh": float(
                np.average(self.power_price_usd_per_kwh, weights=self.hashrate_ths)
            ),
            "assumption": True,
        }


def build_fleet(spec: FleetSpec, total_hashrate_ths: float) -> Fleet:
    """Cohorts of `spec` scaled so that their hashrates sum to `total_hashrate_ths` [TH/s]."""
    total = float(check_positive("total_hashrate_ths", total_hashrate_ths))
    prices, price_share = spec.power_price.discretise()
    pue = np.asarray(spec.overhead.pue, float)
    pue_share = np.asarray(spec.overhead.share, float)
    cls_share = np.array([c.share for c in spec.classes])
    eff = np.array([c.efficiency() for c in spec.classes])
    hw = np.array([c.hardware_usd_per_th for c in spec.classes])
    names = np.array([c.name for c in spec.classes])
    # cohort grid: class x price bucket x pue level, flattened in that order
    shape = (cls_share.size, prices.size, pue.size)
    share = cls_share[:, None, None] * price_share[None, :, None] * pue_share[None, None, :]
    idx_c, idx_p, idx_o = (a.ravel() for a in np.indices(shape))
    keep = share.ravel() > 0
    return Fleet(
        hardware_class=names[idx_c][keep],
        efficiency_j_per_th=eff[idx_c][keep],
        pue=pue[idx_o][keep],
        power_price_usd_per_kwh=prices[idx_p][keep],
        hashrate_ths=total * share.ravel()[keep],
        hardware_usd_per_th=hw[idx_c][keep],
        depreciation_days=spec.costs.depreciation_days,
        other_opex_share_of_power=spec.costs.other_opex_share_of_power,
        label=spec.label,
    )


CBECI_PUE = {"lower": 1.01, "best_guess": 1.10, "upper": 1.20}
"""Cambridge Bitcoin Electricity Consumption Index PUE bounds (CBECI methodology)."""


@dataclass(frozen=True)
class BasketBound:
    """One CBECI bound: the basket efficiency, its PUE, and the electricity cost per BTC it implies."""

    pue: float
    efficiency_j_per_th: float
    models: tuple[str, ...]
    electricity_cost_usd_per_btc: float


def profitable_basket(
    *,
    hashprice_usd_per_ph_day: float,
    power_price_usd_per_kwh: float,
    difficulty: float,
    subsidy_btc: float,
    fees_btc_per_block: float,
    released_by: str | pd.Period | None = None,
    catalog: pd.DataFrame | None = None,
) -> dict[str, BasketBound]:
    """CBECI-style profitable-hardware basket with lower / best-guess / upper bounds.

    For each bound with its PUE (1.01 / 1.10 / 1.20), the basket is every catalog model released by
    `released_by` whose breakeven power price at that PUE is at least `power_price_usd_per_kwh`.
    Lower bound: the most efficient model; best guess: the equal-weighted mean efficiency of the basket;
    upper bound: the least efficient profitable model. The cost is the electricity cost per BTC at that
    efficiency and PUE (CBECI methodology, University of Cambridge, ccaf.io/cbnsi/cbeci/methodology).

    Raises
    ------
    InputError
        If no catalog model is profitable at that power price.
    """
    frame = load_catalog(released_by) if catalog is None else catalog
    if frame.empty:
        check_catalog_date(released_by)
    eff = frame["efficiency_j_per_th"].to_numpy(float)
    out: dict[str, BasketBound] = {}
    for bound, pue in CBECI_PUE.items():
        ok = breakeven_power_price_usd_per_kwh(eff, hashprice_usd_per_ph_day, pue) >= power_price_usd_per_kwh
        if not ok.any():
            raise InputError(
                "power_price_usd_per_kwh",
                power_price_usd_per_kwh,
                f"a power price at which at least one catalog model released by {released_by or 'now'} is "
                f"profitable at PUE {pue}",
            )
        basket = eff[ok]
        pick = {"lower": basket.min(), "best_guess": basket.mean(), "upper": basket.max()}[bound]
        cost = breakeven_price_usd(
            pick, power_price_usd_per_kwh, difficulty, subsidy_btc, fees_btc_per_block, pue
        )
        out[bound] = BasketBound(pue, float(pick), tuple(frame["model"][ok]), float(cost))
    return out
