"""Listed miners as simulator owners: balance sheets built from the cited datasets (pure, no network).

:func:`listed_owner_specs` turns the packaged datasets into mappings of :class:`hashrisk.sim.scenario.OwnerSpec`
for the six listed miners that the June-2026 reporting names (MARA Holdings, CleanSpark, Riot Platforms, Cango,
Core Scientific, Bitdeer), as of a day:

- ``listed_miners.csv`` (:func:`hashrisk.flows.listed.load_listed_miners`): hashrate, efficiency, power price, BTC
  held, cash, BTC sold and produced;
- ``listed_debt.csv`` (:func:`load_listed_debt`, this module): debt and convertibles with their maturities;
- ``hpc_contracts.csv`` and ``hpc_deliveries.csv`` (:mod:`hashrisk.flows.hpc_contracts`): AI/HPC capex and lease
  revenue.

Each field takes the company's **latest period ending on or before** ``as_of`` that has it (fields may so come
from different periods; the source names the period). A value the dataset does not have becomes a labelled
``assumption: ...`` in ``sources`` (never a silent zero); a company without any hashrate figure is left out, with
the reason. Rules (each a labelled assumption where it is not a disclosed figure):

- ``hashrate_ths``: energized, else installed, else average operating hashrate of the latest period with one.
- ``share_sold = sum btc_sold / sum btc_produced`` over the 2024-2025 periods with both (a quarter is skipped
  when months inside it are counted), else the simulator's default (0.8).
- power cost per day ``= hashrate_ths * efficiency_j_per_th * pue * 24 / 1000 * power_price_usd_per_kwh``
  [USD/day]; ``other_costs_usd_per_day = 10%`` of it; ``cash_floor_usd = 30`` days of it.
- debt: each instrument's latest row with ``as_of`` on or before the day, kept when its principal is positive
  and it matures after the day.
- AI/HPC, per contract announced by the day: undelivered MW ``u = it_mw - delivered`` (delivered = latest
  disclosure, 0 when none is disclosed: an assumption). Capex ``= capex_total_usd * u / it_mw`` when the total is
  disclosed, else ``u *`` the company's guidance midpoint per MW, else ``u * $9M`` (the midpoint of the reporting's
  $8-10M per critical-IT MW: an assumption), spread evenly from ``as_of`` to ``planned_full_date`` (or
  ``as_of + 365`` days when absent or past). Lease revenue ``= contract_value_usd / term_years / 365`` per day
  per contract, times the delivered share, for ``term_years`` from delivery: delivered MW from ``as_of``, the
  undelivered MW from the day after the capex ends (the planned date; no further delay is modelled).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Final

import pandas as pd
import yaml

from hashrisk.economics.fleet import MINERS_SHARE_SOLD, FleetSpec, build_fleet
from hashrisk.economics.machine import energy_kwh_per_ths_day
from hashrisk.errors import InputError
from hashrisk.flows.hpc_contracts import iso_date_cell, load_contracts, load_deliveries, read_commented_csv
from hashrisk.flows.listed import PUBLISHED_Q1_2026_SALES, load_listed_miners, source_domain_allowed
from hashrisk.sim.scenario import OwnerSpec, Scenario

DEBT_FILE: Final = "listed_debt.csv"
DEBT_COLUMNS: Final = (
    "company",
    "ticker",
    "instrument",
    "as_of",
    "principal_usd",
    "coupon_rate",
    "maturity_date",
    "put_date",
    "note",
    "source_title",
    "source_date",
    "source_url",
)
OWNER_TICKERS: Final = PUBLISHED_Q1_2026_SALES.tickers
"""The six companies the June-2026 reporting names (MARA, CLSK, RIOT, CANG, CORZ, BTDR)."""
OWNER_COMPANIES: Final = PUBLISHED_Q1_2026_SALES.companies
SNAPSHOT_DAY: Final = dt.date(2026, 6, 1)
"""The embedded snapshot's day: the packaged ``owners_default.yaml`` is built as of it."""

HPC_CAPEX_USD_PER_IT_MW: Final = 9.0e6
"""Capex per critical-IT MW [USD/MW] for a contract without its own figure. Assumption: the midpoint of the
$8-10M per critical-IT MW that the reporting of June 2026 gives for AI/HPC conversion (issue 16)."""
OTHER_COSTS_SHARE_OF_POWER: Final = 0.10
"""Cash costs other than power as a share of the power bill. Assumption (issue 16's brief; the network fleet
uses 20% in fleet_default.toml, which includes hosting overheads that owner-operators do not pay)."""
CASH_FLOOR_DAYS: Final = 30.0
"""Cash floor in days of power cost at the start. Assumption: a month of power bills as working capital."""
SHARE_SOLD_YEARS: Final = (2024, 2025)
"""Years whose periods give a company's own share sold."""
DEFAULT_PUE: Final = 1.10
POLICY: Final = "sell_btc"
_HASHRATE_METRICS: Final = (
    ("energized_hashrate_ths", "energized"),
    ("installed_hashrate_ths", "installed"),
    ("avg_operating_hashrate_ths", "average operating"),
)


# ------------------------------------------------------------------------------------------- debt dataset
def _packaged_debt_text() -> str:
    return resources.files("hashrisk.flows").joinpath("data", DEBT_FILE).read_text(encoding="utf-8")


def _float(value: str, where: str, lo: float, hi: float) -> float:
    try:
        x = float(value)
    except ValueError:
        raise InputError(where, value, f"a number in [{lo:g}, {hi:g}]") from None
    if not (math.isfinite(x) and lo <= x <= hi):
        raise InputError(where, value, f"a number in [{lo:g}, {hi:g}]")
    return x


def load_listed_debt(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The listed miners' debt dataset, validated (errors name the line, the field and the value).

    Parameters
    ----------
    frame : pandas.DataFrame, optional
        Rows in the layout of the packaged ``listed_debt.csv`` (all columns text); default: the packaged file.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DEBT_COLUMNS`; ``as_of``, ``maturity_date``, ``put_date``, ``source_date`` as
        ``datetime.date`` (None when empty), ``principal_usd`` [USD] and ``coupon_rate`` [1/year] as floats.

    Raises
    ------
    InputError
        A missing column, an empty required field, a bad number or date, or a source that is not an https
        address on an original-source domain (``hashrisk.flows.listed.ALLOWED_SOURCE_DOMAINS``).
    """
    raw = read_commented_csv(_packaged_debt_text()) if frame is None else frame.copy()
    missing = [c for c in DEBT_COLUMNS if c not in raw.columns]
    if missing:
        raise InputError("listed_debt.columns", sorted(raw.columns), f"the columns {list(DEBT_COLUMNS)}")
    rows: list[dict[str, Any]] = []
    for i, rec in enumerate(raw.to_dict("records")):
        where = f"listed_debt[line {i + 1}]"
        row: dict[str, Any] = {c: "" if rec.get(c) is None else str(rec.get(c)).strip() for c in DEBT_COLUMNS}
        for c in ("company", "ticker", "instrument", "source_title"):
            if not row[c] or row[c].lower() == "nan":
                raise InputError(f"{where}.{c}", rec.get(c), "a non-empty text")
        row["as_of"] = iso_date_cell(row["as_of"], f"{where}.as_of", required=True)
        row["source_date"] = iso_date_cell(row["source_date"], f"{where}.source_date", required=True)
        row["maturity_date"] = iso_date_cell(row["maturity_date"], f"{where}.maturity_date", required=False)
        row["put_date"] = iso_date_cell(row["put_date"], f"{where}.put_date", required=False)
        row["principal_usd"] = _float(row["principal_usd"], f"{where}.principal_usd", 0.0, 1e12)
        row["coupon_rate"] = _float(row["coupon_rate"], f"{where}.coupon_rate", 0.0, 1.0)
        if not source_domain_allowed(row["source_url"]):
            raise InputError(
                f"{where}.source_url", row["source_url"], "an https address on an original-source domain"
            )
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(DEBT_COLUMNS))
    dup = out[out.duplicated(["ticker", "instrument", "as_of"])]
    if len(dup):
        first = dup.iloc[0]
        raise InputError(
            "listed_debt.instrument",
            f"{first['ticker']} {first['instrument']} {first['as_of']}",
            "one row per ticker, instrument and as_of",
        )
    return out


# ------------------------------------------------------------------------------------------- result
@dataclass(frozen=True)
class ListedOwners:
    """Result of :func:`listed_owner_specs`: OwnerSpec mappings and what was left out, with why."""

    as_of: dt.date
    owners: list[dict[str, Any]]
    left_out: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def validated(self) -> list[OwnerSpec]:
        """Each mapping checked by :class:`~hashrisk.sim.scenario.OwnerSpec` (raises on a bad one)."""
        return [OwnerSpec.model_validate(o) for o in self.owners]


# ------------------------------------------------------------------------------------------- helpers
def _cite(rec: Any) -> str:
    return f"fact: {rec.source_title}, {rec.source_date}, {rec.source_url} (period {rec.period})"


def _latest(rows: pd.DataFrame, metric: str) -> Any | None:
    """The row of `metric` in the latest period (monthly before quarterly at the same end), or None."""
    m = rows[rows["metric"] == metric]
    if m.empty:
        return None
    m = m.assign(_m=(m["freq"] == "M").astype(int)).sort_values(["period_end", "_m"], kind="stable")
    return next(m.tail(1).itertuples())


def _cited_or(rows: pd.DataFrame, metric: str, fallback: float, assumption: str) -> tuple[float, str]:
    """The latest disclosed `metric` with its citation, else `fallback` labelled ``assumption: ...``."""
    rec = _latest(rows, metric)
    if rec is None:
        return fallback, f"assumption: {assumption}"
    return float(rec.value), _cite(rec)


def _fleet_means() -> tuple[float, float]:
    """The default network fleet's hashrate-weighted efficiency [J/TH] and power price [USD/kWh], rounded."""
    fleet = build_fleet(FleetSpec.default(), 1.0)
    return round(fleet.mean_efficiency_j_per_th, 4), round(
        float(fleet.summary()["mean_power_price_usd_per_kwh"]), 4
    )


def share_sold_from_periods(rows: pd.DataFrame) -> tuple[float, str] | None:
    """sum sold / sum produced over the 2024-2025 periods with both; None without any."""
    sel = rows[
        rows["metric"].isin(["btc_produced", "btc_sold"])
        & rows["period_start"].dt.year.isin(SHARE_SOLD_YEARS)
    ]
    wide = sel.pivot_table(index=["period", "freq"], columns="metric", values="value", aggfunc="first")
    wide = wide.reindex(columns=["btc_produced", "btc_sold"]).dropna().reset_index()
    if wide.empty:
        return None
    months = {p for p, f in zip(wide["period"], wide["freq"], strict=True) if f == "M"}

    def covered(period: str) -> bool:
        year, q = int(period[:4]), int(period[-1])
        return any(f"{year}-{3 * (q - 1) + k:02d}" in months for k in (1, 2, 3))

    keep = wide[(wide["freq"] == "M") | ~wide["period"].map(covered)]
    produced = float(keep["btc_produced"].sum())
    if produced <= 0:
        return None
    sold = float(keep["btc_sold"].sum())
    periods = ", ".join(sorted(keep["period"]))
    return sold / produced, f"{sold:g} BTC sold / {produced:g} BTC produced over {periods}"


def _rows(frame: pd.DataFrame) -> list[Any]:
    """The frame's rows as named tuples (typed loosely: the columns are mixed)."""
    return list(frame.itertuples())


def _days(start: dt.date, end: dt.date) -> int:
    return (end - start).days + 1


def hpc_flows(
    ticker: str,
    as_of: dt.date,
    contracts: pd.DataFrame,
    deliveries: pd.DataFrame,
    capex_usd_per_it_mw: float = HPC_CAPEX_USD_PER_IT_MW,
) -> list[dict[str, Any]]:
    """CashFlowSpec mappings of one company's AI/HPC contracts as of a day (rules in the module docstring).

    Parameters
    ----------
    ticker : str
        The company's ticker in the contracts table.
    as_of : datetime.date
        Start day: contracts announced after it are ignored, delivered MW is the latest disclosure by it.
    contracts, deliveries : pandas.DataFrame
        Validated frames from :func:`~hashrisk.flows.hpc_contracts.load_contracts` and
        :func:`~hashrisk.flows.hpc_contracts.load_deliveries`.
    capex_usd_per_it_mw : float
        Capex per critical-IT MW [USD/MW] for a contract without its own figure (an assumption).
    """
    flows: list[dict[str, Any]] = []
    live = contracts[(contracts["ticker"] == ticker) & (contracts["announced_date"] <= as_of)]
    for rec in _rows(live):
        cid, it_mw = str(rec.contract_id), float(rec.it_mw)
        cite = f"{rec.source_title}, {rec.source_date}, {rec.source_url}"
        dl = deliveries[(deliveries["contract_id"] == cid) & (deliveries["as_of"] <= as_of)]
        if len(dl):
            last = _rows(dl.sort_values("as_of", kind="stable"))[-1]
            delivered, delivered_on = float(last.mw_delivered), last.as_of
            d_src = (
                f"delivered {delivered:g} MW as of {last.as_of} ({last.source_title}, {last.source_date}, "
            )
            d_src += f"{last.source_url})"
        else:
            delivered, delivered_on = 0.0, as_of
            d_src = "assumption: no delivery disclosed by the start, counted as 0 MW delivered"
        undelivered = it_mw - delivered
        planned = rec.planned_full_date
        if planned is not None and planned > as_of:
            capex_end, end_src = planned, f"planned_full_date {planned} ({cite})"
        else:
            capex_end = as_of + dt.timedelta(days=365)
            end_src = "assumption: as_of + 365 days (planned_full_date absent or past)"
        if undelivered > 0:
            if not math.isnan(float(rec.capex_total_usd)):
                capex = float(rec.capex_total_usd) * undelivered / it_mw
                c_src = f"fact: capex_total_usd {float(rec.capex_total_usd):g} x {undelivered:g}/{it_mw:g} MW"
                c_src += f" undelivered ({cite})"
            elif not math.isnan(float(rec.capex_usd_per_it_mw_low)):
                mid = (float(rec.capex_usd_per_it_mw_low) + float(rec.capex_usd_per_it_mw_high)) / 2.0
                capex = undelivered * mid
                c_src = f"fact: the company's capex guidance midpoint {mid:g} USD/MW x {undelivered:g} MW ({cite})"
            else:
                capex = undelivered * capex_usd_per_it_mw
                c_src = f"assumption: {capex_usd_per_it_mw:g} USD per critical-IT MW (midpoint of the reporting's "
                c_src += f"$8-10M) x {undelivered:g} MW undelivered of {it_mw:g} ({cite})"
            flows.append(
                {
                    "label": f"HPC capex, {cid}",
                    "start": as_of,
                    "end": capex_end,
                    "usd": -capex,
                    "source": f"{c_src}; spread evenly from as_of to {end_src}; {d_src}",
                }
            )
        value, term = float(rec.contract_value_usd), float(rec.term_years)
        if math.isnan(value) or math.isnan(term):
            continue
        per_day = value / term / 365.0
        r_src = f"fact: contract_value_usd {value:g} / term_years {term:g} / 365 per day ({cite})"
        term_days = round(term * 365)
        if delivered > 0:
            end = delivered_on + dt.timedelta(days=term_days - 1)
            if end >= as_of:
                flows.append(
                    {
                        "label": f"HPC lease revenue, {cid} (delivered MW)",
                        "start": as_of,
                        "end": end,
                        "usd": per_day * delivered / it_mw * _days(as_of, end),
                        "source": f"{r_src} x {delivered:g}/{it_mw:g} MW delivered; {d_src}",
                    }
                )
        if undelivered > 0:
            start = capex_end + dt.timedelta(days=1)
            end = start + dt.timedelta(days=term_days - 1)
            flows.append(
                {
                    "label": f"HPC lease revenue, {cid} (MW delivered at the planned date)",
                    "start": start,
                    "end": end,
                    "usd": per_day * undelivered / it_mw * _days(start, end),
                    "source": f"{r_src} x {undelivered:g}/{it_mw:g} MW; assumption: revenue starts the day "
                    f"after the capex ends ({end_src}), with no further delay",
                }
            )
    return flows


def _debt(ticker: str, as_of: dt.date, debt: pd.DataFrame) -> list[dict[str, Any]]:
    rows = debt[(debt["ticker"] == ticker) & (debt["as_of"] <= as_of)]
    out: list[dict[str, Any]] = []
    for _, grp in rows.groupby("instrument", sort=True):
        rec = _rows(grp.sort_values("as_of", kind="stable"))[-1]
        if rec.principal_usd <= 0 or (rec.maturity_date is not None and rec.maturity_date <= as_of):
            continue
        note = " (holder put date ignored: DebtSpec has no put field)" if rec.put_date is not None else ""
        out.append(
            {
                "name": str(rec.instrument),
                "principal_usd": float(rec.principal_usd),
                "annual_rate": float(rec.coupon_rate),
                "maturity": rec.maturity_date,
                "source": f"fact: {rec.source_title}, {rec.source_date}, {rec.source_url} (as of {rec.as_of})"
                + note,
            }
        )
    return out


# ------------------------------------------------------------------------------------------- builder
def listed_owner_specs(
    as_of: dt.date,
    listed: pd.DataFrame | None = None,
    debt: pd.DataFrame | None = None,
    contracts: pd.DataFrame | None = None,
    deliveries: pd.DataFrame | None = None,
    tickers: tuple[str, ...] = OWNER_TICKERS,
    capex_usd_per_it_mw: float = HPC_CAPEX_USD_PER_IT_MW,
) -> ListedOwners:
    """OwnerSpec mappings of the listed miners as of a day, every value with its source or a labelled assumption.

    Parameters
    ----------
    as_of : datetime.date
        Start day: each field uses the company's latest period ending on or before it.
    listed : pandas.DataFrame, optional
        Long frame as from :func:`hashrisk.flows.listed.load_listed_miners` (default: the packaged dataset).
    debt : pandas.DataFrame, optional
        Validated frame as from :func:`load_listed_debt` (default: the packaged dataset).
    contracts, deliveries : pandas.DataFrame, optional
        Validated AI/HPC frames (:func:`~hashrisk.flows.hpc_contracts.load_contracts`,
        :func:`~hashrisk.flows.hpc_contracts.load_deliveries`); default: the packaged datasets.
    tickers : tuple of str
        Companies to build, by ticker (default: the six the reporting names).
    capex_usd_per_it_mw : float
        Capex per critical-IT MW [USD/MW] for contracts without their own figure (assumption: $9M).

    Returns
    -------
    ListedOwners
        ``owners`` (mappings that :class:`~hashrisk.sim.scenario.OwnerSpec` validates, in `tickers` order),
        ``left_out`` (company -> reason) and ``notes``.
    """
    data = load_listed_miners() if listed is None else listed
    dbt = load_listed_debt() if debt is None else debt
    con = load_contracts() if contracts is None else contracts
    dlv = load_deliveries(None, con) if deliveries is None else deliveries
    eff_fleet, price_fleet = _fleet_means()
    cutoff = pd.Timestamp(as_of)
    names = dict(zip(OWNER_TICKERS, OWNER_COMPANIES, strict=True))
    owners: list[dict[str, Any]] = []
    left_out: dict[str, str] = {}
    for ticker in tickers:
        rows = data[(data["ticker"] == ticker) & (data["period_end"] <= cutoff)]
        name = str(rows["company"].iloc[0]) if len(rows) else names.get(ticker, ticker)
        src: dict[str, str] = {}
        hashrate: Any | None = None
        for metric, label in _HASHRATE_METRICS:
            rec = _latest(rows, metric)
            if rec is not None and (hashrate is None or rec.period_end > hashrate[0].period_end):
                hashrate = (rec, label)
        if hashrate is None:
            left_out[name] = (
                f"no hashrate (energized, installed or average operating) for a period ending on or before "
                f"{as_of} in the listed-miners dataset"
            )
            continue
        rec, label = hashrate
        hashrate_ths = float(rec.value)
        src["hashrate_ths"] = f"{_cite(rec)}; {label} hashrate"
        eff, src["efficiency_j_per_th"] = _cited_or(
            rows,
            "fleet_efficiency_j_per_th",
            eff_fleet,
            f"not in the dataset; the default network fleet's hashrate-weighted mean at the machine, "
            f"{eff_fleet:.4g} J/TH (fleet_default.toml; about 20.9 J/TH at the wall / PUE 1.1)",
        )
        price, src["power_price_usd_per_kwh"] = _cited_or(
            rows,
            "power_cost_usd_per_kwh",
            price_fleet,
            f"not in the dataset; the default network fleet's hashrate-weighted mean power price, "
            f"{price_fleet:.4g} USD/kWh (fleet_default.toml)",
        )
        src["pue"] = f"assumption: {DEFAULT_PUE} (the simulator's default facility overhead)"
        btc, src["btc"] = _cited_or(rows, "btc_held", 0.0, "0, not disclosed in the dataset")
        power_usd_per_day = hashrate_ths * float(energy_kwh_per_ths_day(eff, DEFAULT_PUE)) * price
        floor = round(CASH_FLOOR_DAYS * power_usd_per_day, 2)
        cash, src["cash_usd"] = _cited_or(
            rows,
            "cash_usd",
            floor,
            "not disclosed in the dataset; starts at its cash floor (no sale on the first day just to reach it)",
        )
        share = share_sold_from_periods(rows)
        if share is not None:
            share_sold = share[0]
            src["share_sold"] = f"fact (derived): {share[1]}"
        else:
            share_sold = MINERS_SHARE_SOLD
            src["share_sold"] = (
                f"assumption: {MINERS_SHARE_SOLD} (the simulator's default; the dataset has no 2024-2025 period "
                "with both BTC sold and produced)"
            )
        src["cash_floor_usd"] = (
            f"assumption: {CASH_FLOOR_DAYS:g} days of the owner's power cost at the start "
            f"({power_usd_per_day:,.0f} USD/day = hashrate x efficiency x PUE x 24 h x power price)"
        )
        src["other_costs_usd_per_day"] = (
            f"assumption: {OTHER_COSTS_SHARE_OF_POWER:.0%} of the power cost ({power_usd_per_day:,.0f} USD/day)"
        )
        src["policy"] = (
            f"assumption: {POLICY} (treasury BTC first, then capital; the reporting describes treasury drawdowns)"
        )
        debts = _debt(ticker, as_of, dbt)
        src["debt"] = (
            f"fact: {len(debts)} instrument(s) of {DEBT_FILE} outstanding on {as_of} (each with its source)"
            if debts
            else f"assumption: none, no instrument of {DEBT_FILE} outstanding on {as_of} (not disclosed in the "
            "dataset is not the same as no debt)"
        )
        flows = hpc_flows(ticker, as_of, con, dlv, capex_usd_per_it_mw)
        src["flows"] = (
            f"{len(flows)} AI/HPC flow(s) from hpc_contracts.csv and hpc_deliveries.csv (each with its source)"
            if flows
            else "assumption: none, no AI/HPC contract of the company in hpc_contracts.csv announced by "
            f"{as_of}"
        )
        owners.append(
            {
                "name": name,
                "hashrate_ths": hashrate_ths,
                "efficiency_j_per_th": eff,
                "pue": DEFAULT_PUE,
                "power_price_usd_per_kwh": price,
                "other_costs_usd_per_day": round(OTHER_COSTS_SHARE_OF_POWER * power_usd_per_day, 2),
                "btc": btc,
                "cash_usd": cash,
                "cash_floor_usd": floor,
                "share_sold": share_sold,
                "policy": POLICY,
                "debt": debts,
                "flows": flows,
                "sources": src,
            }
        )
    notes = (
        f"each field uses the company's latest period ending on or before {as_of}; fields may come from "
        "different periods (the source names the period)",
        "assumption: figures disclosed after the period are used as of the period's end (no look-ahead check "
        "on source_date)",
    )
    return ListedOwners(as_of, owners, left_out, notes)


# ------------------------------------------------------------------------------------------- packaged YAML
def default_owners_yaml(as_of: dt.date = SNAPSHOT_DAY) -> str:
    """The text of ``hashrisk/sim/data/owners_default.yaml``: a header and ``owners:`` from
    :func:`listed_owner_specs` (each mapping validated by OwnerSpec)."""
    result = listed_owner_specs(as_of)
    result.validated()
    left = "".join(f"#   {c}: {why}\n" for c, why in result.left_out.items()) or "#   none\n"
    header = (
        "# hashrisk packaged default owners: listed miners with their own balance sheets for the simulator.\n"
        f"# GENERATED by scripts/build_default_owners.py from the cited datasets as of {as_of.isoformat()} "
        "(the embedded\n"
        "# snapshot day): hashrisk/flows/data/listed_miners.csv, listed_debt.csv, hpc_contracts.csv,\n"
        "# hpc_deliveries.csv. DO NOT EDIT BY HAND: change the datasets and rerun the script.\n"
        "# Licence: this file is part of hashrisk (Apache-2.0); the figures are the cited companies' public\n"
        "#   disclosures. Each owner's `sources` gives the document, date and link of every value, or\n"
        "#   'assumption: ...' with its rationale.\n"
        "# Left out (no hashrate in the dataset):\n" + left
    )
    body = yaml.safe_dump(
        {"as_of": as_of.isoformat(), "owners": result.owners}, sort_keys=False, allow_unicode=True, width=100
    )
    return header + body


def with_listed_owners(scenario: Scenario, start: dt.date) -> Scenario:
    """`scenario` with the listed owners of its start day when it names none (``owners: null``).

    The simulator itself uses the packaged owners only for a start on their day (2026-06-01); a start on a
    stored day gets the datasets' latest periods on or before it (:func:`listed_owner_specs`), so every
    front end starting from a stored day (CLI, report, dashboard) calls this first. A scenario that names
    its owners (even ``[]``) is returned as it is.
    """
    if scenario.owners is not None:
        return scenario
    owners = listed_owner_specs(start).validated()
    return scenario.with_params({"owners": [o.model_dump(mode="json") for o in owners]})
