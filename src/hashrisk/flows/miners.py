"""Listed miners under stress: cash cost per BTC, runway, and the BTC they must sell at a price P.

Data schema (one row per company and period; YAML ``rows:`` list or CSV columns of the same names)
----------------------------------------------------------------------------------------------------
Required, per row:

======================================  =============================================================
``company``                             company name
``period``                              reporting period: ``2026Q1`` (quarter), ``2026-03`` (month) or
                                        ``2026`` (year); per company, rows must be in increasing order
``btc_produced``                        BTC mined in the period [BTC]
``btc_held``                            BTC held at the end of the period [BTC]
``btc_sold``                            BTC sold in the period [BTC]
``hashrate_ths``                        energized hashrate at the end of the period [TH/s]
``fleet_efficiency_j_per_th``           fleet efficiency [J/TH] (at the wall unless ``pue`` is given)
``power_cost_usd_per_kwh``              all-in power cost [USD/kWh]
``cash_usd``                            cash and equivalents at the end of the period [USD]
``debt_usd``                            debt and convertibles outstanding [USD]
``hpc_revenue_usd``                     AI/HPC hosting revenue in the period [USD]
``source``                              where the row's figures come from (report, press release)
``source_date``                         date of that source (YYYY-MM-DD)
======================================  =============================================================

Optional: ``pue`` (>= 1, default 1), ``other_cash_opex_usd`` and ``interest_usd`` (non-power cash costs and
interest paid in the period, default 0: without them the cash shortfall counts power only).
A YAML file may also carry ``template: true`` (illustrative numbers: the CLI warns), ``description`` and
``reported_aggregates`` (published totals to compare with, each with its source). A CSV file may carry a
comment line ``# template: true``.

Model (per company, on its latest period, at BTC price ``P`` and the network's difficulty and fees)
--------------------------------------------------------------------------------------------------
``production = hashrate * revenue_btc_per_ths_day(difficulty, subsidy, fees)`` [BTC/day];
``power = hashrate * 0.024 * e * pue * p_kwh`` [USD/day]; cash cost per BTC (power only) is
:func:`hashrisk.economics.machine.breakeven_price_usd`. Per month (365.25/12 days), with other opex and interest
spread evenly over the period::

    cash_need   = power + other_opex + interest - hpc_revenue
    btc_to_sell = max(cash_need, 0) / P                   (BTC that must be sold to pay the bills)
    drawdown    = max(btc_to_sell - production, 0)        (of which from the treasury)
    net_burn    = max(cash_need - production * P, 0)      (cash burn after selling all production)
    runway      = (cash + btc_held * P) / net_burn        (months; infinite without a burn)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hashrisk.economics.cost import NetworkState
from hashrisk.economics.machine import breakeven_price_usd, energy_kwh_per_ths_day
from hashrisk.economics.revenue import revenue_btc_per_ths_day
from hashrisk.errors import InputError, from_validation_error
from hashrisk.flows.inputs import parse_yaml_mapping

DAYS_PER_MONTH = 365.25 / 12

REQUIRED_COLUMNS = (
    "company",
    "period",
    "btc_produced",
    "btc_held",
    "btc_sold",
    "hashrate_ths",
    "fleet_efficiency_j_per_th",
    "power_cost_usd_per_kwh",
    "cash_usd",
    "debt_usd",
    "hpc_revenue_usd",
    "source",
    "source_date",
)
OPTIONAL_COLUMNS = ("pue", "other_cash_opex_usd", "interest_usd")

_PERIOD = re.compile(r"^(\d{4})(?:Q([1-4])|-(0[1-9]|1[0-2]))?$")


def parse_period(text: str) -> pd.Period:
    """``2026Q1`` -> quarterly, ``2026-03`` -> monthly, ``2026`` -> yearly period; else ValueError."""
    m = _PERIOD.match(text.strip())
    if m is None:
        raise ValueError("a period like 2026Q1, 2026-03 or 2026")
    freq = "Q" if m.group(2) else "M" if m.group(3) else "Y"
    return pd.Period(text.strip(), freq=freq)


def _months(period: pd.Period) -> int:
    return {"Q": 3, "M": 1}.get(period.freqstr[0], 12)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MinerRow(_Model):
    """One company-period of the miners' data (see the module docstring for units)."""

    company: str = Field(min_length=1)
    period: str
    btc_produced: float = Field(ge=0, allow_inf_nan=False)
    btc_held: float = Field(ge=0, allow_inf_nan=False)
    btc_sold: float = Field(ge=0, allow_inf_nan=False)
    hashrate_ths: float = Field(gt=0, allow_inf_nan=False)
    fleet_efficiency_j_per_th: float = Field(gt=0, allow_inf_nan=False)
    power_cost_usd_per_kwh: float = Field(ge=0, allow_inf_nan=False)
    cash_usd: float = Field(ge=0, allow_inf_nan=False)
    debt_usd: float = Field(ge=0, allow_inf_nan=False)
    hpc_revenue_usd: float = Field(ge=0, allow_inf_nan=False)
    source: str = Field(min_length=1)
    source_date: dt.date
    pue: float = Field(default=1.0, ge=1, allow_inf_nan=False)
    other_cash_opex_usd: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    interest_usd: float = Field(default=0.0, ge=0, allow_inf_nan=False)

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        parse_period(value)
        return value.strip()

    @property
    def period_obj(self) -> pd.Period:
        """The period as a pandas Period."""
        return parse_period(self.period)


class ReportedAggregate(_Model):
    """A published total to compare the file's rows with (e.g. BTC sold by listed miners in a quarter)."""

    period: str
    metric: Literal["btc_sold", "btc_produced", "btc_held"]
    value: float = Field(ge=0, allow_inf_nan=False)
    qualifier: Literal["about", "over", "under"] = "about"
    companies: list[str] = Field(default_factory=list)
    source: str = Field(min_length=1)

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        parse_period(value)
        return value.strip()


class MinersData(_Model):
    """A miners' data file: rows plus the template flag and published aggregates."""

    template: bool = False
    description: str = ""
    reported_aggregates: list[ReportedAggregate] = Field(default_factory=list)
    rows: list[MinerRow] = Field(min_length=1)

    def frame(self) -> pd.DataFrame:
        """The rows as a frame (one row per company and period)."""
        return pd.DataFrame([r.model_dump() for r in self.rows])

    def latest(self) -> dict[str, MinerRow]:
        """Each company's latest row."""
        out: dict[str, MinerRow] = {}
        for r in self.rows:
            if r.company not in out or r.period_obj > out[r.company].period_obj:
                out[r.company] = r
        return out


def _check_order(rows: list[MinerRow], origin: str) -> None:
    last: dict[str, tuple[int, pd.Period]] = {}
    for i, r in enumerate(rows):
        p = r.period_obj
        if r.company in last:
            j, prev = last[r.company]
            if p.freqstr != prev.freqstr or p <= prev:
                raise InputError(
                    f"rows.{i}.period",
                    r.period,
                    f"a period after {prev} (row {j}) for {r.company}, same frequency: rows of a company "
                    f"in increasing period order (in {origin})",
                )
        last[r.company] = (i, p)


def miners_from_dict(raw: dict[str, Any], origin: str = "miners data") -> MinersData:
    """Validate a mapping ``{template?, description?, reported_aggregates?, rows: [...]}``.

    Raises
    ------
    InputError
        Naming the field as ``rows.<i>.<field>`` (row index from 0), the value and what is allowed; also for
        periods out of order within a company.
    """
    try:
        data = MinersData.model_validate(raw)
    except ValidationError as exc:
        raise from_validation_error(exc, origin) from None
    _check_order(data.rows, origin)
    return data


def _csv_value(column: str, text: str) -> Any:
    text = text.strip()
    if column in ("company", "period", "source", "source_date"):
        return text
    if text == "" and column in OPTIONAL_COLUMNS:
        return None
    return text  # pydantic converts numeric strings and reports bad ones by field


def miners_from_csv_text(text: str, origin: str = "miners.csv") -> MinersData:
    """Parse the CSV layout: a header with the column names of the schema, ``#`` lines are comments.

    A comment line ``# template: true`` marks the file as a template.

    Raises
    ------
    InputError
        For missing or unknown columns, and for any bad value (field ``rows.<i>.<column>``).
    """
    lines = text.splitlines()
    template = any(re.match(r"^#\s*template\s*:\s*true\s*$", ln.strip(), re.I) for ln in lines)
    body = [ln for ln in lines if not ln.lstrip().startswith("#") and ln.strip()]
    if not body:
        raise InputError("miners", origin, "a CSV file with a header line and at least one row")
    reader = csv.DictReader(io.StringIO("\n".join(body)))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError("columns", ", ".join(missing), f"all of {', '.join(REQUIRED_COLUMNS)} (in {origin})")
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise InputError(
            "columns",
            ", ".join(unknown),
            f"only {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)} (in {origin})",
        )
    rows: list[dict[str, Any]] = []
    for rec in reader:
        row = {k.strip(): _csv_value(k.strip(), v or "") for k, v in rec.items() if k is not None}
        rows.append({k: v for k, v in row.items() if v is not None})
    return miners_from_dict({"template": template, "rows": rows}, origin)


def miners_from_text(text: str, fmt: Literal["yaml", "csv"], origin: str = "miners data") -> MinersData:
    """Parse miners' data from YAML (or JSON) or CSV text."""
    if fmt == "csv":
        return miners_from_csv_text(text, origin)
    return miners_from_dict(parse_yaml_mapping(text, origin, "miners"), origin)


def miners_format(path: str | Path) -> Literal["yaml", "csv"]:
    """File format from the name: ``.csv`` is CSV; ``.yaml``/``.yml``/``.json`` is YAML."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".yaml", ".yml", ".json"):
        return "yaml"
    raise InputError("miners", str(path), "a .yaml, .yml, .json or .csv file")


def load_miners(path: str | Path) -> MinersData:
    """Loader: read and validate a miners' data file (YAML or CSV, chosen by the file name)."""
    path = Path(path)
    fmt = miners_format(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("miners", str(path), f"a readable UTF-8 file ({exc.__class__.__name__})") from None
    return miners_from_text(text, fmt, origin=path.name)


@dataclass(frozen=True)
class MinerStress:
    """Result of :func:`miner_stress`: one row per company (latest period) and aggregates."""

    price_usd: float
    difficulty: float
    reward_btc_per_block: float
    template: bool
    companies: pd.DataFrame
    aggregates: dict[str, Any]
    reported: list[dict[str, Any]]

    def to_frame(self) -> pd.DataFrame:
        """One row per company."""
        return self.companies

    def summary(self) -> dict[str, Any]:
        """Headline figures, JSON-ready."""
        records = self.companies.reset_index().to_dict(orient="records")
        return {
            "price_usd": self.price_usd,
            "difficulty": self.difficulty,
            "reward_btc_per_block": self.reward_btc_per_block,
            "template": self.template,
            "companies": records,
            "aggregates": self.aggregates,
            "reported_aggregates": self.reported,
        }


def _reported(data: MinersData) -> list[dict[str, Any]]:
    frame = data.frame()
    out = []
    for agg in data.reported_aggregates:
        rows = frame[frame["period"] == agg.period]
        if agg.companies:
            rows = rows[rows["company"].isin(agg.companies)]
        total = float(rows[agg.metric].sum()) if len(rows) else None
        entry: dict[str, Any] = {**agg.model_dump(), "file_total": total, "rows_in_file": len(rows)}
        if total is None:
            entry["file_consistent"] = None  # none of the named companies is in the file
        elif agg.qualifier == "over":
            entry["file_consistent"] = total > agg.value
        elif agg.qualifier == "under":
            entry["file_consistent"] = total < agg.value
        out.append(entry)
    return out


def miner_stress(data: MinersData, state: NetworkState, price_usd: float | None = None) -> MinerStress:
    """Stress each company's latest period at BTC price `price_usd` (default: the state's price).

    Parameters
    ----------
    data : MinersData
        Validated miners' data (see :func:`load_miners`).
    state : NetworkState
        Difficulty, subsidy and fees (e.g. ``NetworkSnapshot()``); its price is the default `price_usd`.
    price_usd : float, optional
        BTC price for the stress [USD/BTC].

    Returns
    -------
    MinerStress
        Per company: production, cash cost per BTC, cash need, BTC to sell, treasury drawdown, runway;
        aggregates across companies.
    """
    price = float(state.price_usd if price_usd is None else price_usd)
    if not (math.isfinite(price) and price > 0):
        raise InputError("price_usd", price, "a finite BTC price > 0")
    d, s, f = state.difficulty, state.subsidy_btc, state.fees_btc_per_block
    latest = data.latest()
    rows = list(latest.values())
    h = np.array([r.hashrate_ths for r in rows])
    e = np.array([r.fleet_efficiency_j_per_th for r in rows])
    pue = np.array([r.pue for r in rows])
    p_kwh = np.array([r.power_cost_usd_per_kwh for r in rows])
    months = np.array([_months(r.period_obj) for r in rows], float)
    prod_day = h * revenue_btc_per_ths_day(d, s, f)
    power_month = h * energy_kwh_per_ths_day(e, pue) * p_kwh * DAYS_PER_MONTH
    other_month = np.array([r.other_cash_opex_usd + r.interest_usd for r in rows]) / months
    hpc_month = np.array([r.hpc_revenue_usd for r in rows]) / months
    prod_month = prod_day * DAYS_PER_MONTH
    need = power_month + other_month - hpc_month
    to_sell = np.maximum(need, 0.0) / price
    burn = np.maximum(need - prod_month * price, 0.0)
    held = np.array([r.btc_held for r in rows])
    cash = np.array([r.cash_usd for r in rows])
    with np.errstate(divide="ignore"):
        runway = np.where(burn > 0, (cash + held * price) / np.where(burn > 0, burn, 1.0), np.inf)
        runway_cash = np.where(burn > 0, cash / np.where(burn > 0, burn, 1.0), np.inf)
    produced = np.array([r.btc_produced for r in rows])
    sold = np.array([r.btc_sold for r in rows])
    frame = pd.DataFrame(
        {
            "company": [r.company for r in rows],
            "period": [r.period for r in rows],
            "source": [r.source for r in rows],
            "source_date": [r.source_date.isoformat() for r in rows],
            "hashrate_ths": h,
            "production_btc_per_month": prod_month,
            "reported_btc_produced_per_month": produced / months,
            "cash_cost_power_usd_per_btc": breakeven_price_usd(e, p_kwh, d, s, f, pue),
            "cash_cost_all_usd_per_btc": (power_month + other_month) / prod_month,
            "power_usd_per_month": power_month,
            "other_cash_usd_per_month": other_month,
            "hpc_revenue_usd_per_month": hpc_month,
            "cash_need_usd_per_month": need,
            "btc_to_sell_per_month": to_sell,
            "share_of_production_to_sell": to_sell / prod_month,
            "treasury_drawdown_btc_per_month": np.maximum(to_sell - prod_month, 0.0),
            "net_burn_usd_per_month": burn,
            "runway_months": runway,
            "runway_cash_only_months": runway_cash,
            "btc_held": held,
            "treasury_usd": held * price,
            "cash_usd": cash,
            "debt_usd": np.array([r.debt_usd for r in rows]),
            "reported_share_sold": np.divide(
                sold, produced, out=np.full_like(sold, np.nan), where=produced > 0
            ),
            "other_costs_given": [r.other_cash_opex_usd + r.interest_usd > 0 for r in rows],
        }
    ).set_index("company")
    by_period = data.frame().groupby("period")[["btc_produced", "btc_sold", "btc_held"]].sum()
    aggregates = {
        "companies": len(rows),
        "production_btc_per_month": float(prod_month.sum()),
        "btc_to_sell_per_month": float(to_sell.sum()),
        "treasury_drawdown_btc_per_month": float(frame["treasury_drawdown_btc_per_month"].sum()),
        "net_burn_usd_per_month": float(burn.sum()),
        "btc_held": float(held.sum()),
        "cash_usd": float(cash.sum()),
        "debt_usd": float(frame["debt_usd"].sum()),
        "companies_with_burn": int((burn > 0).sum()),
        "min_runway_months": float(runway.min()),
        "share_of_production_to_sell": float(to_sell.sum() / prod_month.sum()),
        "by_period": {str(k): {c: float(v) for c, v in row.items()} for k, row in by_period.iterrows()},
    }
    return MinerStress(
        price_usd=price,
        difficulty=d,
        reward_btc_per_block=s + f,
        template=data.template,
        companies=frame,
        aggregates=aggregates,
        reported=_reported(data),
    )
