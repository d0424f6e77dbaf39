"""Per-machine economics: daily profit, breakeven power price, breakeven BTC price.

Energy per day of a machine of efficiency ``e`` [J/TH] per TH/s, at power usage effectiveness ``pue``::

    kwh_per_ths_day = e * pue * 86,400 / 3.6e6 = 0.024 * e * pue          [kWh/(TH/s)/day]

so, with ``h`` the hashprice per TH/s per day [USD]::

    breakeven_power_price_usd_per_kwh = h / (0.024 * e * pue)
    breakeven_price_usd = 0.024 * e * pue * p_kwh / revenue_btc_per_ths_day
                        = e * pue * p_kwh * difficulty * 2**32 / (reward_btc * 3.6e18)

The last line is also the electricity cost of producing one BTC (Hayes 2015, "A Cost of Production Model
for Bitcoin": difficulty 60,883,825,480, $0.135/kWh, 0.75 W per GH/s and 12.5 BTC give $588.36/BTC).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from hashrisk._validate import check_nonnegative, check_positive, check_pue
from hashrisk.constants import TH_PER_PH
from hashrisk.economics.catalog import find_model
from hashrisk.economics.revenue import hashprice_usd_per_ph_day, revenue_btc_per_ths_day

KWH_PER_J = 1.0 / 3.6e6
KWH_PER_W_DAY = 24.0 / 1_000.0
FloatArray = npt.NDArray[np.float64]


class NetworkState(Protocol):
    """What the economics models need of a network snapshot (``hashrisk.data.snapshot.NetworkSnapshot`` fits)."""

    @property
    def date(self) -> dt.date: ...
    @property
    def price_usd(self) -> float: ...
    @property
    def difficulty(self) -> float: ...
    @property
    def hashrate_ths(self) -> float: ...
    @property
    def fees_btc_per_block(self) -> float: ...
    @property
    def subsidy_btc(self) -> float: ...


def energy_kwh_per_ths_day(efficiency_j_per_th: npt.ArrayLike, pue: npt.ArrayLike = 1.0) -> FloatArray:
    """Energy drawn per TH/s per day, including facility overhead [kWh/(TH/s)/day]."""
    return KWH_PER_W_DAY * check_positive("efficiency_j_per_th", efficiency_j_per_th) * check_pue("pue", pue)


def daily_profit_usd(
    hashrate_ths: npt.ArrayLike,
    power_w: npt.ArrayLike,
    hashprice_usd_per_ph_day: npt.ArrayLike,
    power_price_usd_per_kwh: npt.ArrayLike,
    pue: npt.ArrayLike = 1.0,
) -> FloatArray:
    """Daily profit of one machine after electricity [USD/day].

    ``hashrate_ths * hashprice / 1000 - power_w * pue * 0.024 * power_price``.
    """
    revenue = (
        check_positive("hashrate_ths", hashrate_ths)
        * check_nonnegative("hashprice_usd_per_ph_day", hashprice_usd_per_ph_day)
        / 1_000.0
    )
    cost = (
        check_positive("power_w", power_w)
        * check_pue("pue", pue)
        * KWH_PER_W_DAY
        * check_nonnegative("power_price_usd_per_kwh", power_price_usd_per_kwh)
    )
    return revenue - cost


def breakeven_power_price_usd_per_kwh(
    efficiency_j_per_th: npt.ArrayLike, hashprice_usd_per_ph_day: npt.ArrayLike, pue: npt.ArrayLike = 1.0
) -> FloatArray:
    """Power price at which a machine's revenue equals its electricity bill [USD/kWh]."""
    hashprice_per_th = check_nonnegative("hashprice_usd_per_ph_day", hashprice_usd_per_ph_day) / 1_000.0
    return hashprice_per_th / energy_kwh_per_ths_day(efficiency_j_per_th, pue)


def breakeven_price_usd(
    efficiency_j_per_th: npt.ArrayLike,
    power_price_usd_per_kwh: npt.ArrayLike,
    difficulty: npt.ArrayLike,
    subsidy_btc: npt.ArrayLike,
    fees_btc_per_block: npt.ArrayLike = 0.0,
    pue: npt.ArrayLike = 1.0,
) -> FloatArray:
    """BTC price at which a machine just covers its electricity = electricity cost per BTC [USD/BTC].

    Parameters
    ----------
    efficiency_j_per_th : array_like
        Machine efficiency [J/TH].
    power_price_usd_per_kwh : array_like
        Power price [USD/kWh].
    difficulty : array_like
        Network difficulty [-].
    subsidy_btc, fees_btc_per_block : array_like
        Block reward parts [BTC/block].
    pue : array_like
        Power usage effectiveness (facility overhead) [-], >= 1.
    """
    power_cost = energy_kwh_per_ths_day(efficiency_j_per_th, pue) * check_nonnegative(
        "power_price_usd_per_kwh", power_price_usd_per_kwh
    )
    return power_cost / revenue_btc_per_ths_day(difficulty, subsidy_btc, fees_btc_per_block)


@dataclass(frozen=True)
class MachineEconomics:
    """One catalog machine at a network state (``hashrisk breakeven``, ``GET /api/breakeven``).

    Attributes
    ----------
    model, maker, source : str
        The catalog entry and the source of its spec.
    hashrate_ths, power_w, efficiency_j_per_th : float
        Spec [TH/s], [W], [J/TH].
    date : datetime.date
        Day of the network state.
    price_usd, power_price_usd_per_kwh, pue : float
        BTC price [USD/BTC], power price [USD/kWh], facility overhead [-].
    hashprice_usd_per_ph_day, daily_revenue_usd, daily_profit_usd : float
        Hashprice [USD/(PH/s)/day]; the machine's revenue and profit after electricity [USD/day].
    breakeven_power_price_usd_per_kwh, breakeven_price_usd : float
        Power price [USD/kWh] and BTC price [USD/BTC] at which the machine just covers its electricity.
    """

    model: str
    maker: str
    hashrate_ths: float
    power_w: float
    efficiency_j_per_th: float
    source: str
    date: dt.date
    price_usd: float
    power_price_usd_per_kwh: float
    pue: float
    hashprice_usd_per_ph_day: float
    daily_revenue_usd: float
    daily_profit_usd: float
    breakeven_power_price_usd_per_kwh: float
    breakeven_price_usd: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the date as ISO text), in field order."""
        return {**asdict(self), "date": self.date.isoformat()}


def machine_economics(
    model: str, state: NetworkState, power_price_usd_per_kwh: float, pue: float = 1.0
) -> MachineEconomics:
    """The economics of catalog `model` at `state`: revenue, profit, breakeven power and BTC prices.

    Raises
    ------
    UnknownNameError
        If `model` is not in the catalog (the hint names the closest ones).
    InputError
        For a negative power price or a PUE below 1.
    """
    row = find_model(model)
    d, s, f = state.difficulty, state.subsidy_btc, state.fees_btc_per_block
    hp = float(hashprice_usd_per_ph_day(d, s, f, state.price_usd))
    hashrate, power, eff = (
        float(row["hashrate_ths"]),
        float(row["power_w"]),
        float(row["efficiency_j_per_th"]),
    )
    return MachineEconomics(
        model=str(row["model"]),
        maker=str(row["maker"]),
        hashrate_ths=hashrate,
        power_w=power,
        efficiency_j_per_th=eff,
        source=str(row["source"]),
        date=state.date,
        price_usd=state.price_usd,
        power_price_usd_per_kwh=power_price_usd_per_kwh,
        pue=pue,
        hashprice_usd_per_ph_day=hp,
        daily_revenue_usd=hashrate * hp / TH_PER_PH,
        daily_profit_usd=float(daily_profit_usd(hashrate, power, hp, power_price_usd_per_kwh, pue)),
        breakeven_power_price_usd_per_kwh=float(breakeven_power_price_usd_per_kwh(eff, hp, pue)),
        breakeven_price_usd=float(breakeven_price_usd(eff, power_price_usd_per_kwh, d, s, f, pue)),
    )
