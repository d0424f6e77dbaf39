"""Calibration of the listed miners' selling against what they disclosed (issue 16, point 4). Pure: no I/O.

Two steps, each a function the shells call with frames they read (the CLI reads the store):

Fit (:func:`fit_share_sold`)
    Per company of the six the June-2026 reporting names, the share of production sold
    ``share_sold = sum btc_sold / sum btc_produced`` over the fit window's disclosed periods: the rule of
    :func:`hashrisk.flows.owners.listed_owner_specs` (``share_sold_from_periods``, called here, not copied),
    applied to the periods that lie inside the window. A company with no period holding both figures keeps
    the simulator's labelled default. The cash floor and the financing parameters are **not** fitted: the
    dataset holds too few cash and debt figures to identify them (the result counts them); they stay
    labelled assumptions.

Test quarter (:func:`simulate_test_quarter`)
    Conditional on the realised price path: from the stored snapshot of the day before the quarter, the
    simulator runs over the quarter's days on the stored daily closes, with the listed owners of that day
    (:func:`hashrisk.flows.owners.with_listed_owners`) carrying the fitted ``share_sold``; the unexplained
    hashrate moves and the sales feedback stay the scenario's defaults. The listed owners' BTC sold (production
    sold + treasury drawn) is summed per path and compared with the published total (for 2026Q1 the reporting's
    "over 32,000 BTC", :data:`hashrisk.flows.listed.PUBLISHED_Q1_2026_SALES`) and, per company, with the dataset's
    disclosed sales of that quarter. Goal (issue 16): the median within 25% of the published total. Without the
    quarter's prices in the store the result says which days are missing and how to get them; no price is invented.

Timing convention: a stored snapshot describes the network at the end of its day (its height is that day's last
block), i.e. at the start of the quarter's first day; the simulation's day 0 is the quarter's first day, and day
``t``'s price is the stored close of the quarter's day ``t``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.economics.fleet import MINERS_SHARE_SOLD
from hashrisk.errors import InputError
from hashrisk.flows.listed import PUBLISHED_Q1_2026_SALES, PublishedSales, load_listed_miners, quarterly_sales
from hashrisk.flows.owners import (
    OWNER_COMPANIES,
    OWNER_TICKERS,
    SHARE_SOLD_YEARS,
    listed_owner_specs,
    load_listed_debt,
    share_sold_from_periods,
    with_listed_owners,
)
from hashrisk.sim.arrays import OF_DRAWN_BTC, OF_SOLD_PRODUCTION_BTC
from hashrisk.sim.backcast import with_price_path
from hashrisk.sim.engine import Backend, simulate
from hashrisk.sim.result import Quantiles
from hashrisk.sim.scenario import Scenario

FIT_START: Final = dt.date(SHARE_SOLD_YEARS[0], 1, 1)
FIT_END: Final = dt.date(SHARE_SOLD_YEARS[-1], 12, 31)
"""The default fit window, and the widest one allowed: the years whose periods
:func:`~hashrisk.flows.owners.listed_owner_specs` derives ``share_sold`` from."""
TEST_QUARTER: Final = "2026Q1"
GOAL_REL_ERROR: Final = 0.25
"""Issue 16's goal: the simulated median within 25% of the disclosed quarterly total."""
PUBLISHED: Final[dict[str, PublishedSales]] = {PUBLISHED_Q1_2026_SALES.period: PUBLISHED_Q1_2026_SALES}
"""Published quarterly totals of the six companies' sales, by quarter (only 2026Q1 is known)."""
GET_PRICES_HINT: Final = (
    "`hashrisk update` (fetches the newest daily data into the store) or `hashrisk data import FILE` (a Coin "
    "Metrics daily CSV covering the days)"
)
_QUARTER_RE: Final = re.compile(r"^(\d{4})Q([1-4])$")
_SUMMARY_RE: Final = re.compile(r" over (?P<periods>.+)$")


# ------------------------------------------------------------------------------------------- parsing
def parse_fit_window(text: str) -> tuple[dt.date, dt.date]:
    """``"YYYY-MM-DD:YYYY-MM-DD"`` -> (start, end), inside :data:`FIT_START` .. :data:`FIT_END`.

    Raises
    ------
    InputError
        Naming ``--fit``, the value and what is allowed.
    """
    allowed = (
        f"START:END as YYYY-MM-DD:YYYY-MM-DD with START <= END, inside {FIT_START}:{FIT_END} (the years "
        "listed_owner_specs derives share_sold from)"
    )
    parts = text.strip().split(":")
    if len(parts) != 2:
        raise InputError("--fit", text, allowed)
    try:
        start, end = (dt.date.fromisoformat(p.strip()) for p in parts)
    except ValueError:
        raise InputError("--fit", text, allowed) from None
    if start > end or start < FIT_START or end > FIT_END:
        raise InputError("--fit", text, allowed)
    return start, end


def quarter_days(quarter: str) -> tuple[dt.date, dt.date]:
    """``"YYYYQn"`` -> (first day, last day) of the calendar quarter.

    Raises
    ------
    InputError
        Naming ``--test``, the value and what is allowed.
    """
    m = _QUARTER_RE.match(quarter.strip())
    if m is None:
        raise InputError("--test", quarter, "a calendar quarter YYYYQn, e.g. 2026Q1")
    year, q = int(m.group(1)), int(m.group(2))
    first = dt.date(year, 3 * q - 2, 1)
    nxt = dt.date(year + 1, 1, 1) if q == 4 else dt.date(year, 3 * q + 1, 1)
    return first, nxt - dt.timedelta(days=1)


# ------------------------------------------------------------------------------------------- fit
@dataclass(frozen=True)
class FitRow:
    """One company's fit: disclosed BTC produced and sold over the periods used [BTC], and the share sold."""

    company: str
    ticker: str
    produced_btc: float
    sold_btc: float
    share_sold: float
    basis: str
    periods: list[str]
    missing: list[str]


@dataclass(frozen=True)
class FitResult:
    """Result of :func:`fit_share_sold`: one row per company, the counts of cash and debt figures, and notes."""

    start: dt.date
    end: dt.date
    rows: list[FitRow]
    cash_figures: int
    debt_figures: int
    debt_instrument_rows: int
    not_fitted: str
    notes: tuple[str, ...] = ()

    def share_sold(self) -> dict[str, float]:
        """Company -> fitted share sold (only the companies with disclosed periods)."""
        return {r.company: r.share_sold for r in self.rows if r.basis == "fitted"}

    def to_frame(self) -> pd.DataFrame:
        """The fit table, one row per company."""
        return pd.DataFrame([asdict(r) for r in self.rows])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "window": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "companies": [asdict(r) for r in self.rows],
            "cash_figures": self.cash_figures,
            "debt_figures": self.debt_figures,
            "debt_instrument_rows": self.debt_instrument_rows,
            "not_fitted": self.not_fitted,
            "notes": list(self.notes),
        }


def _missing_in_window(company: str, per: pd.DataFrame, start: dt.date, end: dt.date) -> list[str]:
    """Quarters of the window whose produced or sold figure is absent (``2024Q1``: both, ``2024Q1 sold``: one)
    or partial (``2024Q2 sold: 2024-06``: the months missing)."""
    out: list[str] = []
    for p in pd.period_range(pd.Period(start, freq="Q"), pd.Period(end, freq="Q"), freq="Q"):
        q = f"{p.year}Q{p.quarter}"
        rec = per[(per["company"] == company) & (per["quarter"] == q)]
        gone = [m for m in ("produced", "sold") if rec.empty or rec[f"basis_{m}"].iloc[0] == "none"]
        if len(gone) == 2:
            out.append(q)
            continue
        out.extend(f"{q} {m}" for m in gone)
        out.extend(
            f"{q} {m}: {rec[f'missing_{m}'].iloc[0]}"
            for m in ("produced", "sold")
            if m not in gone and rec[f"missing_{m}"].iloc[0]
        )
    return out


def fit_share_sold(
    start: dt.date = FIT_START,
    end: dt.date = FIT_END,
    listed: pd.DataFrame | None = None,
    debt: pd.DataFrame | None = None,
    tickers: tuple[str, ...] = OWNER_TICKERS,
) -> FitResult:
    """The fit table: per company, disclosed BTC produced and sold over the window and the share sold.

    ``share_sold = sum btc_sold / sum btc_produced`` over the company's periods that lie inside
    ``[start, end]`` and hold both figures (a quarter is skipped when months inside it are counted): the rule of
    :func:`hashrisk.flows.owners.listed_owner_specs`, applied to those periods. Without such a period the
    company keeps the simulator's default ``MINERS_SHARE_SOLD`` (basis ``default``).

    Parameters
    ----------
    start, end : datetime.date
        The fit window (inclusive), inside :data:`FIT_START` .. :data:`FIT_END`.
    listed : pandas.DataFrame, optional
        Long frame as from :func:`hashrisk.flows.listed.load_listed_miners` (default: the packaged dataset).
    debt : pandas.DataFrame, optional
        Frame as from :func:`hashrisk.flows.owners.load_listed_debt` (default: the packaged dataset).
    tickers : tuple of str
        Companies, by ticker (default: the six the reporting names).

    Returns
    -------
    FitResult
    """
    if start > end or start < FIT_START or end > FIT_END:
        raise InputError("fit window", f"{start}:{end}", f"START <= END inside {FIT_START}:{FIT_END}")
    data = load_listed_miners() if listed is None else listed
    dbt = load_listed_debt() if debt is None else debt
    inside = data[(data["period_start"] >= pd.Timestamp(start)) & (data["period_end"] <= pd.Timestamp(end))]
    per, _ = quarterly_sales(data)
    names = dict(zip(OWNER_TICKERS, OWNER_COMPANIES, strict=True))
    rows: list[FitRow] = []
    cash = debt_n = instruments = 0
    for ticker in tickers:
        all_rows = data[data["ticker"] == ticker]
        company = str(all_rows["company"].iloc[0]) if len(all_rows) else names.get(ticker, ticker)
        sel = inside[inside["ticker"] == ticker]
        cash += int((sel["metric"] == "cash_usd").sum())
        debt_n += int((sel["metric"] == "debt_usd").sum())
        instruments += int(
            ((dbt["ticker"] == ticker) & (dbt["as_of"] >= start) & (dbt["as_of"] <= end)).sum()
        )
        missing = _missing_in_window(company, per, start, end)
        found = share_sold_from_periods(sel)
        if found is None:
            rows.append(
                FitRow(company, ticker, math.nan, math.nan, MINERS_SHARE_SOLD, "default", [], missing)
            )
            continue
        share, text = found
        m = _SUMMARY_RE.search(text)
        periods = sorted(m.group("periods").split(", ")) if m else []
        used = sel[sel["period"].isin(periods) & sel["metric"].isin(["btc_produced", "btc_sold"])]
        sums = used.drop_duplicates(["period", "metric"]).groupby("metric")["value"].sum()
        produced, sold = float(sums.get("btc_produced", math.nan)), float(sums.get("btc_sold", math.nan))
        rows.append(FitRow(company, ticker, produced, sold, share, "fitted", periods, missing))
    quarters = len(pd.period_range(pd.Period(start, freq="Q"), pd.Period(end, freq="Q"), freq="Q"))
    not_fitted = (
        f"not fitted: the cash floor and the financing parameters (issuance cost, its price elasticity, the "
        f"raise ceiling). Over {start}:{end} the dataset holds {cash} cash figure(s) and {debt_n} debt figure(s) "
        f"in listed_miners.csv and {instruments} instrument row(s) in listed_debt.csv for {len(tickers)} "
        f"companies x {quarters} quarters; a cash floor or a cost of raising shows only in a series of cash "
        "balances and raises around the sales, which the dataset does not hold. They stay labelled assumptions "
        "(hashrisk.flows.owners.CASH_FLOOR_DAYS; scenario.financing)."
    )
    notes = (
        "share_sold = sum btc_sold / sum btc_produced over the periods inside the window with both figures "
        "(the hashrisk.flows.owners rule; a quarter is skipped when its months are counted); 'default' = "
        f"the simulator's labelled {MINERS_SHARE_SOLD} (no such period)",
        "only disclosed figures are used: a missing figure is listed, never filled in",
    )
    return FitResult(start, end, rows, cash, debt_n, instruments, not_fitted, notes)


# ------------------------------------------------------------------------------------------- test quarter
@dataclass(frozen=True)
class CompanyTest:
    """One listed owner over the test quarter: simulated BTC sold [BTC] against the dataset's disclosure."""

    company: str
    share_sold: float
    share_sold_basis: str
    sold_btc: Quantiles
    sold_production_btc: Quantiles
    treasury_drawn_btc: Quantiles
    disclosed_sold_btc: float
    disclosed_coverage: str


@dataclass(frozen=True)
class QuarterTest:
    """Result of :func:`simulate_test_quarter`: ``status`` is ``ran`` or ``missing_data`` (``missing`` says
    what is missing and how to get it)."""

    quarter: str
    first_day: dt.date
    last_day: dt.date
    start_day: dt.date
    status: str
    missing: dict[str, Any] = field(default_factory=dict)
    paths: int = 0
    total_sold_btc: Quantiles | None = None
    companies: list[CompanyTest] = field(default_factory=list)
    covered: list[str] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)
    published: dict[str, Any] | None = None
    rel_error_p50: float = math.nan
    within_goal: bool | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (dates as ISO text)."""
        out = asdict(self)
        for k in ("first_day", "last_day", "start_day"):
            out[k] = getattr(self, k).isoformat()
        return out


def _ranges(days: list[dt.date]) -> list[str]:
    """Consecutive days as ``first..last`` runs (a single day alone)."""
    out: list[str] = []
    i = 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and (days[j + 1] - days[j]).days == 1:
            j += 1
        out.append(days[i].isoformat() if i == j else f"{days[i]}..{days[j]}")
        i = j + 1
    return out


def missing_price_days(daily: pd.DataFrame, first: dt.date, last: dt.date) -> list[dt.date]:
    """Days of ``[first, last]`` without a finite positive ``price_usd`` in `daily` (UTC day index)."""
    want = pd.date_range(first, last, freq="D", tz="UTC")
    if daily.empty or "price_usd" not in daily.columns:
        return [d.date() for d in want]
    idx = pd.DatetimeIndex(daily.index)
    idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    prices = pd.Series(daily["price_usd"].to_numpy(dtype=np.float64), index=idx.normalize()).reindex(want)
    bad = ~np.isfinite(prices.to_numpy()) | (prices.to_numpy() <= 0)
    return [d.date() for d in want[bad]]


def _disclosed(per: pd.DataFrame, company: str, quarter: str) -> tuple[float, str]:
    rec = per[(per["company"] == company) & (per["quarter"] == quarter)]
    if rec.empty or rec["basis_sold"].iloc[0] == "none":
        return math.nan, "not disclosed in the dataset"
    r = rec.iloc[0]
    if r["basis_sold"] == "quarter":
        return float(r["btc_sold"]), "quarterly figure"
    miss = f", missing {r['missing_sold']}" if r["missing_sold"] else ""
    return float(r["btc_sold"]), f"{int(r['months_sold'])} of 3 months{miss}"


def simulate_test_quarter(
    fit: FitResult,
    quarter: str,
    daily: pd.DataFrame,
    snapshot: NetworkSnapshot | None,
    *,
    snapshot_problem: str | None = None,
    paths: int = 1000,
    seed: int = 2026,
    base: Scenario | None = None,
    listed: pd.DataFrame | None = None,
    backend: Backend = "numba",
) -> QuarterTest:
    """Simulate `quarter` on its realised prices from the day before it and compare with the disclosures.

    Parameters
    ----------
    fit : FitResult
        From :func:`fit_share_sold`: the owners carry its ``share_sold`` (fitted companies).
    quarter : str
        ``YYYYQn``.
    daily : pandas.DataFrame
        The stored daily frame (UTC day index, ``price_usd`` [USD/BTC]), e.g. ``Store.daily_frame()``.
    snapshot : NetworkSnapshot or None
        The stored snapshot of the day before the quarter; None when the store has none.
    snapshot_problem : str, optional
        Why there is no snapshot (the store's message), shown in ``missing``.
    paths, seed : int
        Monte-Carlo paths and seed.
    base : Scenario, optional
        The scenario whose defaults apply (default ``Scenario()``); its owners are replaced by the listed ones.
    listed : pandas.DataFrame, optional
        Long listed-miners frame for the disclosed per-company sales (default: the packaged dataset).
    backend : {"numba", "numpy", "jax"}
        Simulation kernel.

    Returns
    -------
    QuarterTest
        ``status="missing_data"`` with ``missing`` (``price_days``: the runs of days without a stored close,
        ``snapshot``: the missing start snapshot, ``how_to_get``) when the store lacks them: no price is made up.
    """
    first, last = quarter_days(quarter)
    start_day = first - dt.timedelta(days=1)
    days = (last - first).days + 1
    gaps = missing_price_days(daily, first, last)
    missing: dict[str, Any] = {}
    if gaps:
        missing["price_days"] = _ranges(gaps)
        missing["price_days_count"] = len(gaps)
    if snapshot is None or snapshot.date != start_day:
        missing["snapshot"] = f"no stored snapshot of {start_day} (the day before {quarter})" + (
            f": {snapshot_problem}" if snapshot_problem else ""
        )
    if missing:
        missing["how_to_get"] = GET_PRICES_HINT
        return QuarterTest(quarter, first, last, start_day, "missing_data", missing)
    assert snapshot is not None
    scenario = (Scenario() if base is None else base).with_params(
        {"paths": paths, "seed": seed, "owners": None}
    )
    scenario = with_listed_owners(scenario, start_day)
    fitted = fit.share_sold()
    owners = [
        o.model_copy(
            update={
                "share_sold": fitted[o.name],
                "sources": {
                    **o.sources,
                    "share_sold": f"fitted on {fit.start}:{fit.end} (hashrisk miners calibrate)",
                },
            }
        )
        if o.name in fitted
        else o
        for o in scenario.owners or []
    ]
    scenario = scenario.with_params({"owners": [o.model_dump(mode="json") for o in owners]})
    prices = daily["price_usd"]
    feedback = scenario.impact.enabled
    scenario = with_price_path(scenario, prices, first, days).with_params({"impact.enabled": feedback})
    start = snapshot.override(
        source=f"store: state at the end of {start_day} (the start of {first})", date=first
    )
    res = simulate(scenario, start, backend=backend)
    of = res.owner_f.astype(np.float64)
    n_listed = len(owners)
    sold = of[:, :n_listed, OF_SOLD_PRODUCTION_BTC] + of[:, :n_listed, OF_DRAWN_BTC]
    total = Quantiles.of(sold.sum(axis=1))
    per, _ = quarterly_sales(load_listed_miners() if listed is None else listed)
    basis = {r.company: r.basis for r in fit.rows}
    companies: list[CompanyTest] = []
    for i, o in enumerate(owners):
        disclosed, coverage = _disclosed(per, o.name, quarter)
        companies.append(
            CompanyTest(
                company=o.name,
                share_sold=o.share_sold,
                share_sold_basis=basis.get(o.name, "builder"),
                sold_btc=Quantiles.of(sold[:, i]),
                sold_production_btc=Quantiles.of(of[:, i, OF_SOLD_PRODUCTION_BTC]),
                treasury_drawn_btc=Quantiles.of(of[:, i, OF_DRAWN_BTC]),
                disclosed_sold_btc=disclosed,
                disclosed_coverage=coverage,
            )
        )
    left_out = listed_owner_specs(start_day).left_out
    pub = PUBLISHED.get(quarter)
    rel = total.p50 / pub.value - 1.0 if pub is not None else math.nan
    notes = (
        f"conditional on the realised prices: closes of {first}..{last} from the store; the network starts from "
        f"the stored snapshot of {start_day} (its end-of-day state); sales feedback "
        f"{'on (on top of the realised path)' if feedback else 'off'}; unexplained hashrate moves: the "
        "scenario's default",
        f"owners: the listed miners of {start_day} (hashrisk.flows.owners.listed_owner_specs) with the fitted "
        "share_sold; cash floor, financing and other costs: the builder's labelled assumptions",
        "BTC sold = production sold (share_sold) + treasury drawn to keep cash at the floor, per path, summed "
        "over the listed owners; p05/p50/p95 over paths",
        "the epoch's elapsed time at the start is not set from stored retargets (the first retarget's timing "
        "is approximate)",
    )
    return QuarterTest(
        quarter,
        first,
        last,
        start_day,
        "ran",
        paths=paths,
        total_sold_btc=total,
        companies=companies,
        covered=[o.name for o in owners],
        left_out=dict(left_out),
        published=None if pub is None else pub.to_dict(),
        rel_error_p50=rel,
        within_goal=None if pub is None else bool(abs(rel) <= GOAL_REL_ERROR),
        notes=notes,
    )


@dataclass(frozen=True)
class Calibration:
    """The fit table and the test quarter (:func:`calibrate`)."""

    fit: FitResult
    test: QuarterTest

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``fit``, ``test``, ``goal_rel_error``."""
        return {"fit": self.fit.to_dict(), "test": self.test.to_dict(), "goal_rel_error": GOAL_REL_ERROR}


def calibrate(
    fit_window: tuple[dt.date, dt.date],
    quarter: str,
    daily: pd.DataFrame,
    snapshot: NetworkSnapshot | None,
    **kwargs: Any,
) -> Calibration:
    """:func:`fit_share_sold` over `fit_window`, then :func:`simulate_test_quarter` (keyword arguments pass on to it).

    Raises
    ------
    InputError
        When the fit window does not end before the test quarter starts (no look-ahead).
    """
    first, _ = quarter_days(quarter)
    if fit_window[1] >= first:
        raise InputError(
            "--fit",
            f"{fit_window[0]}:{fit_window[1]}",
            f"a window that ends before the test quarter ({first})",
        )
    fit = fit_share_sold(*fit_window)
    return Calibration(fit, simulate_test_quarter(fit, quarter, daily, snapshot, **kwargs))
