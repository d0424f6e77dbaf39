"""Production cost per BTC and the network's cost curve.

Three views, each an object with ``to_frame()`` / ``summary()``:

(a) electricity-only cost at one uniform power price, JPMorgan-style: linear in the power price,
    ``cost = e_wall * p_kwh * difficulty * 2**32 / (reward * 3.6e18)`` with ``e_wall`` the fleet's
    hashrate-weighted efficiency including overhead; plus the CBECI-style basket bounds;
(b) the cost curve: the hashrate-weighted distribution of cohort breakeven prices (electricity only, at
    each cohort's own power price and PUE), with the marginal (most expensive running) cost;
(c) all-in cost: (a) plus other cash opex and straight-line hardware depreciation (labelled assumptions).

Price sensitivity is the density of the cost curve just below the price: the share of hashrate whose
margin ``(P - breakeven) / P`` lies in ``[0, x)`` would go underwater if the price fell by ``x``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hashrisk._validate import check_fraction, check_nonnegative, check_positive
from hashrisk.economics.fleet import BasketBound, Fleet, profitable_basket
from hashrisk.economics.machine import NetworkState as NetworkState
from hashrisk.economics.machine import breakeven_price_usd
from hashrisk.economics.revenue import hashprice_usd_per_ph_day, revenue_btc_per_ths_day

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CostCurve:
    """Hashrate-weighted distribution of breakeven BTC prices, sorted ascending.

    Attributes
    ----------
    breakeven_price_usd : ndarray
        Cohort breakeven prices, ascending [USD/BTC].
    hashrate_ths : ndarray
        Cohort hashrates in the same order [TH/s].
    cohort : ndarray of str
        Cohort labels in the same order.
    """

    breakeven_price_usd: FloatArray
    hashrate_ths: FloatArray
    cohort: npt.NDArray[np.str_]

    @property
    def _cum_share(self) -> FloatArray:
        cum = np.cumsum(self.hashrate_ths)
        share: FloatArray = cum / cum[-1]
        return share  # exactly 1.0 at the top, so nothing is "unprofitable" above every breakeven

    def _share_above(self, price_usd: FloatArray) -> FloatArray:
        cum = np.concatenate([[0.0], self._cum_share])
        return 1.0 - cum[np.searchsorted(self.breakeven_price_usd, price_usd, side="right")]

    def share_unprofitable(self, price_usd: npt.ArrayLike) -> FloatArray:
        """Share of hashrate whose breakeven is above `price_usd` (broadcasts over prices) [-]."""
        return self._share_above(check_positive("price_usd", price_usd))

    def share_within(self, price_usd: npt.ArrayLike, pct: npt.ArrayLike) -> FloatArray:
        """Share of hashrate still profitable but with a margin below `pct` of the price [-].

        The cohorts with ``P * (1 - pct) < breakeven <= P``: the hashrate a fall of `pct` puts underwater.
        """
        p = check_positive("price_usd", price_usd)
        return self._share_above(p * (1.0 - check_fraction("pct", pct))) - self._share_above(p)

    def quantile(self, q: npt.ArrayLike) -> FloatArray:
        """Breakeven price below which a share `q` of hashrate lies [USD/BTC]."""
        qq = check_fraction("q", q)
        i = np.searchsorted(self._cum_share, qq, side="left").clip(0, self.breakeven_price_usd.size - 1)
        out: FloatArray = self.breakeven_price_usd[i]
        return out

    def marginal_cost_usd(self, price_usd: float) -> float:
        """Breakeven of the most expensive cohort still running at `price_usd` (NaN if none runs) [USD/BTC]."""
        running = self.breakeven_price_usd[self.breakeven_price_usd <= price_usd]
        return float(running[-1]) if running.size else float("nan")

    def mean_usd(self) -> float:
        """Hashrate-weighted mean breakeven [USD/BTC]."""
        return float(np.average(self.breakeven_price_usd, weights=self.hashrate_ths))

    def to_frame(self) -> pd.DataFrame:
        """The curve: one row per cohort, ascending, with the cumulative share of hashrate."""
        return pd.DataFrame(
            {
                "cohort": self.cohort,
                "breakeven_price_usd": self.breakeven_price_usd,
                "hashrate_ths": self.hashrate_ths,
                "cum_share": self._cum_share,
            }
        )

    def summary(self, price_usd: float) -> dict[str, Any]:
        """Headline figures at `price_usd`."""
        q10, q50, q90 = self.quantile([0.1, 0.5, 0.9])
        return {
            "price_usd": price_usd,
            "mean_breakeven_usd": self.mean_usd(),
            "breakeven_p10_usd": float(q10),
            "breakeven_p50_usd": float(q50),
            "breakeven_p90_usd": float(q90),
            "marginal_cost_usd": self.marginal_cost_usd(price_usd),
            "share_unprofitable": float(self.share_unprofitable(price_usd)),
            "share_within_10pct": float(self.share_within(price_usd, 0.10)),
        }


def cost_curve(fleet: Fleet, difficulty: float, subsidy_btc: float, fees_btc_per_block: float) -> CostCurve:
    """Cost curve (b) of `fleet`: each cohort's electricity breakeven at its own power price and PUE."""
    be = breakeven_price_usd(
        fleet.efficiency_j_per_th,
        fleet.power_price_usd_per_kwh,
        difficulty,
        subsidy_btc,
        fees_btc_per_block,
        fleet.pue,
    )
    order = np.argsort(be, kind="stable")
    labels = np.char.add(
        np.char.add(fleet.hardware_class.astype(str), " @ $"),
        np.char.add(
            np.char.mod("%.3f/kWh PUE ", fleet.power_price_usd_per_kwh), np.char.mod("%.2f", fleet.pue)
        ),
    )
    return CostCurve(be[order], fleet.hashrate_ths[order], labels[order])


def all_in_cost_usd_per_btc(
    fleet: Fleet,
    power_price_usd_per_kwh: npt.ArrayLike,
    difficulty: float,
    subsidy_btc: float,
    fees_btc_per_block: float,
) -> dict[str, FloatArray]:
    """All-in cost (c) at a uniform power price [USD/BTC], split into its parts (hashrate-weighted).

    ``electricity = e * pue * p_kwh * hashes_per_btc``; ``other_opex = share * electricity``;
    ``depreciation = hardware_usd_per_th / depreciation_days / revenue_btc_per_ths_day``.
    """
    pp = check_nonnegative("power_price_usd_per_kwh", power_price_usd_per_kwh)
    w = fleet.hashrate_ths / fleet.hashrate_ths.sum()
    btc_per_ths_day = revenue_btc_per_ths_day(difficulty, subsidy_btc, fees_btc_per_block)
    wall = float(np.sum(w * fleet.efficiency_j_per_th * fleet.pue))
    electricity = breakeven_price_usd(wall, pp, difficulty, subsidy_btc, fees_btc_per_block)
    other = fleet.other_opex_share_of_power * electricity
    depreciation = np.full_like(
        electricity, float(np.sum(w * fleet.hardware_usd_per_th)) / fleet.depreciation_days / btc_per_ths_day
    )
    return {
        "electricity": electricity,
        "other_opex": other,
        "depreciation": depreciation,
        "total": electricity + other + depreciation,
    }


@dataclass(frozen=True)
class CostHeadline:
    """The headline figures of a :class:`ProductionCost` (``GET /api/cost``), flat and typed.

    ``electricity_basket_usd_per_btc`` holds the CBECI-style bounds (lower, best_guess, upper),
    ``all_in_usd_per_btc`` the parts of the all-in cost, ``share_unprofitable`` the share of hashrate
    underwater at the price and after a 10% and a 20% fall; ``marginal_cost_usd`` is None when no cohort
    covers its power at the price. Units as in the names.
    """

    date: dt.date
    price_usd: float
    power_price_usd_per_kwh: float
    hashprice_usd_per_ph_day: float
    electricity_basket_usd_per_btc: dict[str, float]
    electricity_fleet_usd_per_btc: float
    electricity_usd_per_btc_per_cent_per_kwh: float
    all_in_usd_per_btc: dict[str, float]
    breakeven_p10_usd: float
    breakeven_p50_usd: float
    breakeven_p90_usd: float
    marginal_cost_usd: float | None
    share_unprofitable: dict[str, float]
    share_within_10pct_of_breakeven: float
    fleet_label: str


@dataclass(frozen=True)
class ProductionCost:
    """Production cost of one BTC at a snapshot: views (a), (b) and (c), and price sensitivity."""

    date: dt.date
    price_usd: float
    power_price_usd_per_kwh: float
    hashprice_usd_per_ph_day: float
    electricity_fleet_usd_per_btc: float
    electricity_per_cent_usd_per_btc: float
    basket: dict[str, BasketBound]
    all_in: dict[str, float]
    curve: CostCurve
    fleet: Fleet

    def share_unprofitable_at_moves(self, moves: tuple[float, ...] = (0.0, -0.10, -0.20)) -> dict[str, float]:
        """Share of hashrate underwater if the price moved by each fraction (difficulty unchanged)."""
        prices = self.price_usd * (1.0 + np.asarray(moves))
        shares = self.curve.share_unprofitable(prices)
        return {f"{m:+.0%}": float(s) for m, s in zip(moves, shares, strict=True)}

    def summary(self) -> dict[str, Any]:
        """All headline figures, JSON-ready."""
        return {
            "date": self.date.isoformat(),
            "price_usd": self.price_usd,
            "power_price_usd_per_kwh": self.power_price_usd_per_kwh,
            "hashprice_usd_per_ph_day": self.hashprice_usd_per_ph_day,
            "electricity_only_usd_per_btc": {
                "lower": self.basket["lower"].electricity_cost_usd_per_btc,
                "best_guess": self.basket["best_guess"].electricity_cost_usd_per_btc,
                "upper": self.basket["upper"].electricity_cost_usd_per_btc,
                "method": "CBECI-style profitable-hardware basket at a uniform power price "
                "(PUE 1.01 / 1.10 / 1.20)",
                "basket_efficiency_j_per_th": {k: b.efficiency_j_per_th for k, b in self.basket.items()},
            },
            "electricity_only_fleet_usd_per_btc": self.electricity_fleet_usd_per_btc,
            "electricity_usd_per_btc_per_cent_per_kwh": self.electricity_per_cent_usd_per_btc,
            "all_in_usd_per_btc": self.all_in,
            "cost_curve": self.curve.summary(self.price_usd),
            "share_unprofitable": self.share_unprofitable_at_moves(),
            "share_within_10pct_of_breakeven": float(self.curve.share_within(self.price_usd, 0.10)),
            "fleet": self.fleet.summary(),
        }

    def headline(self) -> CostHeadline:
        """The headline figures, flat and typed (the same numbers as :meth:`summary`)."""
        q10, q50, q90 = self.curve.quantile([0.1, 0.5, 0.9])
        marginal = self.curve.marginal_cost_usd(self.price_usd)
        return CostHeadline(
            date=self.date,
            price_usd=self.price_usd,
            power_price_usd_per_kwh=self.power_price_usd_per_kwh,
            hashprice_usd_per_ph_day=self.hashprice_usd_per_ph_day,
            electricity_basket_usd_per_btc={
                k: self.basket[k].electricity_cost_usd_per_btc for k in ("lower", "best_guess", "upper")
            },
            electricity_fleet_usd_per_btc=self.electricity_fleet_usd_per_btc,
            electricity_usd_per_btc_per_cent_per_kwh=self.electricity_per_cent_usd_per_btc,
            all_in_usd_per_btc=dict(self.all_in),
            breakeven_p10_usd=float(q10),
            breakeven_p50_usd=float(q50),
            breakeven_p90_usd=float(q90),
            marginal_cost_usd=marginal if math.isfinite(marginal) else None,
            share_unprofitable=self.share_unprofitable_at_moves(),
            share_within_10pct_of_breakeven=float(self.curve.share_within(self.price_usd, 0.10)),
            fleet_label=self.fleet.label,
        )

    def to_frame(self) -> pd.DataFrame:
        """The cost curve as a frame."""
        return self.curve.to_frame()


def production_cost(
    state: NetworkState, fleet: Fleet, power_price_usd_per_kwh: float = 0.05
) -> ProductionCost:
    """All production-cost views for a network state.

    Parameters
    ----------
    state : NetworkState
        Price, difficulty, fees, subsidy and date (e.g. a ``NetworkSnapshot``).
    fleet : Fleet
        Cohorts (see :func:`hashrisk.economics.fleet.build_fleet`).
    power_price_usd_per_kwh : float
        Uniform power price for views (a) and (c) [USD/kWh]; JPMorgan's reference is $0.05/kWh.
    """
    pp = float(check_nonnegative("power_price_usd_per_kwh", power_price_usd_per_kwh))
    d, s, f = state.difficulty, state.subsidy_btc, state.fees_btc_per_block
    hp = float(hashprice_usd_per_ph_day(d, s, f, state.price_usd))
    basket = profitable_basket(
        hashprice_usd_per_ph_day=hp,
        power_price_usd_per_kwh=pp,
        difficulty=d,
        subsidy_btc=s,
        fees_btc_per_block=f,
        released_by=pd.Period(state.date, freq="M"),
    )
    all_in = {k: float(v) for k, v in all_in_cost_usd_per_btc(fleet, pp, d, s, f).items()}
    per_cent = float(breakeven_price_usd(fleet.mean_wall_efficiency_j_per_th, 0.01, d, s, f))
    return ProductionCost(
        date=state.date,
        price_usd=state.price_usd,
        power_price_usd_per_kwh=pp,
        hashprice_usd_per_ph_day=hp,
        electricity_fleet_usd_per_btc=all_in["electricity"],
        electricity_per_cent_usd_per_btc=per_cent,
        basket=basket,
        all_in=all_in,
        curve=cost_curve(fleet, d, s, f),
        fleet=fleet,
    )
