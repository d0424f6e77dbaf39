"""Listed Bitcoin miners' disclosed figures: a packaged, cited dataset and typed helpers.

The dataset ``hashrisk/flows/data/listed_miners.csv`` is in long ("tidy") form: one row per value, and every
value carries its own source (document title, its date, its address). Figures are the companies' own
disclosures (monthly production updates, quarterly results, SEC filings), read on the company's investor-relations
site, on sec.gov or on the wire service that carried the company's release. Nothing is estimated or interpolated:
a value that was not found has no row, and every helper here shows it as missing (NaN), never as zero.

Kinds: ``reported`` (read in the source) or ``derived`` by the identity::

    sold = produced + bought - (held_end - held_start)

(only where every term is reported and ``sold`` is not; the row's note states the identity).

Units: the file may carry hashrate in EH/s (metric names ending ``_ehs``); :func:`load_listed_miners` converts
them to TH/s (``_ths``), the package's canonical unit. Money is USD, power cost USD/kWh, efficiency J/TH.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any, Final
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from hashrisk.flows.miners import REQUIRED_COLUMNS, MinersData, miners_from_dict, parse_period

DATA_FILE: Final = "listed_miners.csv"
COLUMNS: Final = (
    "company",
    "ticker",
    "period",
    "metric",
    "value",
    "unit",
    "kind",
    "note",
    "source_title",
    "source_date",
    "source_url",
)
KINDS: Final = ("reported", "derived")
IDENTITY: Final = "sold = produced + bought - (held_end - held_start)"
EHS_TO_THS: Final = 1e6
"""1 EH/s = 1e6 TH/s."""

METRIC_UNITS: Final[dict[str, str]] = {
    "btc_produced": "BTC",
    "btc_sold": "BTC",
    "btc_bought": "BTC",
    "btc_held": "BTC",
    "btc_pledged_or_loaned": "BTC",
    "installed_hashrate_ehs": "EH/s",
    "energized_hashrate_ehs": "EH/s",
    "avg_operating_hashrate_ehs": "EH/s",
    "installed_hashrate_ths": "TH/s",
    "energized_hashrate_ths": "TH/s",
    "avg_operating_hashrate_ths": "TH/s",
    "fleet_efficiency_j_per_th": "J/TH",
    "power_cost_usd_per_kwh": "USD/kWh",
    "cash_usd": "USD",
    "debt_usd": "USD",
    "hpc_revenue_usd": "USD",
}
"""Every metric the file may carry, with its unit (the ``_ehs`` ones become ``_ths`` on loading)."""

ALLOWED_SOURCE_DOMAINS: Final = (
    "sec.gov",
    "prnewswire.com",
    "globenewswire.com",
    "businesswire.com",
    "accesswire.com",
    "newsfilecorp.com",
    "ir.mara.com",
    "riotplatforms.com",
    "investors.cleanspark.com",
    "investors.corescientific.com",
    "ir.bitdeer.com",
    "ir.cangoonline.com",
    "investor.bitfarms.com",
    "hut8.com",
    "investors.ciphermining.com",
    "iren.com",
    "investors.terawulf.com",
)
"""Original sources only: SEC EDGAR, the wire services that carry companies' own releases, and IR sites."""

IDENTITY_TOLERANCE_BTC: Final = 1.0
IDENTITY_TOLERANCE_REL: Final = 0.005
"""Tolerance of the holdings identity: ``max(1 BTC, 0.5% of held_end)``; releases round to whole BTC and call
holdings 'approximately'."""


def source_domain_allowed(url: str) -> bool:
    """True when ``url`` is https and its host is one of :data:`ALLOWED_SOURCE_DOMAINS` (or a subdomain)."""
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower()
    if parsed.scheme != "https" or not host:
        return False
    return any(host == d or host.endswith("." + d) for d in ALLOWED_SOURCE_DOMAINS)


def _packaged_text() -> str:
    return resources.files("hashrisk.flows").joinpath("data", DATA_FILE).read_text(encoding="utf-8")


def _period_bounds(text: str) -> tuple[pd.Timestamp, pd.Timestamp, str]:
    p = parse_period(text)
    return pd.Timestamp(p.start_time).normalize(), pd.Timestamp(p.end_time).normalize(), p.freqstr[0]


def parse_listed_text(text: str) -> pd.DataFrame:
    """Parse the dataset's CSV text (``#`` comment lines skipped) into the long frame.

    See :func:`load_listed_miners` for the columns and units.
    """
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    raw = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"listed miners data lacks columns {missing}; expected {list(COLUMNS)}")
    frame = raw[list(COLUMNS)].copy()
    for col in COLUMNS:
        frame[col] = frame[col].str.strip()
    frame["value"] = pd.to_numeric(frame["value"], errors="raise").astype(float)
    ehs = frame["metric"].str.endswith("_ehs")
    frame.loc[ehs, "value"] = frame.loc[ehs, "value"] * EHS_TO_THS
    frame.loc[ehs, "metric"] = frame.loc[ehs, "metric"].str.replace(r"_ehs$", "_ths", regex=True)
    frame.loc[ehs, "unit"] = "TH/s"
    bounds = [_period_bounds(p) for p in frame["period"]]
    frame["period_start"] = [b[0] for b in bounds]
    frame["period_end"] = [b[1] for b in bounds]
    frame["freq"] = [b[2] for b in bounds]
    frame["source_date"] = pd.to_datetime(frame["source_date"], format="%Y-%m-%d").dt.date
    return frame.reset_index(drop=True)


def load_listed_miners() -> pd.DataFrame:
    """The packaged dataset as a long frame, one row per value.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS` plus ``period_start``, ``period_end`` (Timestamps) and ``freq`` (``M``/``Q``).
        Hashrate metrics are in TH/s (``*_ths``), converted from the file's EH/s (1 EH/s = 1e6 TH/s).
    """
    return parse_listed_text(_packaged_text())


def _latest_period(frame: pd.DataFrame) -> pd.Series:
    """Per company, the period with the latest end (monthly before quarterly at the same end)."""
    order = frame.assign(_q=(frame["freq"] == "Q").astype(int)).sort_values(["company", "period_end", "_q"])
    return order.groupby("company")["period"].last()


def listed_miners_wide(period: str | None = None, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Company x metric table for one period, or for each company's latest period.

    Parameters
    ----------
    period : str, optional
        ``YYYY-MM`` or ``YYYYQn``. Without it, each company's latest period in the data.
    frame : pandas.DataFrame, optional
        A long frame as from :func:`load_listed_miners` (default: the packaged dataset).

    Returns
    -------
    pandas.DataFrame
        Index ``company``; a ``period`` column and one column per metric. A metric the company did not disclose
        for that period is NaN (never 0).
    """
    data = load_listed_miners() if frame is None else frame
    if period is not None:
        parse_period(period)
        sel = data[data["period"] == period.strip()]
    else:
        latest = _latest_period(data)
        sel = data[data["period"] == data["company"].map(latest)]
    wide = sel.pivot_table(index="company", columns="metric", values="value", aggfunc="first")
    metrics = sorted(m for m in METRIC_UNITS if not m.endswith("_ehs"))
    wide = wide.reindex(columns=metrics)  # every metric a column: undisclosed ones are NaN, never 0
    wide.columns.name = None
    wide.insert(0, "period", sel.groupby("company")["period"].first())
    return wide


def _quarter_of(ts: pd.Timestamp) -> str:
    return f"{ts.year}Q{(ts.month - 1) // 3 + 1}"


def _months_in(quarter: str) -> list[str]:
    p = parse_period(quarter)
    start = pd.Timestamp(p.start_time)
    return [f"{start.year}-{start.month + i:02d}" for i in range(3)]


def quarterly_sales(frame: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """BTC produced and sold per company and calendar quarter, and totals per quarter.

    A company's quarter uses its quarterly figure where it reports one; otherwise it sums the months it reported
    in that quarter and lists the missing months. Nothing is filled in: a quarter with no reported month of a
    metric is NaN for that metric.

    Returns
    -------
    (per_company, totals) : tuple of pandas.DataFrame
        ``per_company`` columns: company, quarter, btc_produced, btc_sold, basis_produced / basis_sold
        (``quarter``, ``months`` or ``none``), months_produced / months_sold (months summed), missing_produced /
        missing_sold (comma-separated missing months, ``""`` when complete or quarterly).
        ``totals`` columns: quarter, btc_produced, btc_sold (sum over companies that reported, NaN when none),
        n_companies_produced, n_companies_sold, incomplete_companies (companies whose quarter is partial).
    """
    data = load_listed_miners() if frame is None else frame
    flows = data[data["metric"].isin(["btc_produced", "btc_sold"])].copy()
    flows["quarter"] = [_quarter_of(ts) for ts in flows["period_start"]]
    rows: list[dict[str, object]] = []
    for (company, quarter), grp in flows.groupby(["company", "quarter"], sort=True):
        rec: dict[str, object] = {"company": company, "quarter": quarter}
        for metric, short in (("btc_produced", "produced"), ("btc_sold", "sold")):
            g = grp[grp["metric"] == metric]
            q = g[g["freq"] == "Q"]
            m = g[g["freq"] == "M"]
            if len(q):
                rec[metric] = float(q["value"].iloc[0])
                rec[f"basis_{short}"] = "quarter"
                rec[f"months_{short}"] = 3
                rec[f"missing_{short}"] = ""
            elif len(m):
                have = sorted(set(m["period"]))
                rec[metric] = float(m.drop_duplicates("period")["value"].sum())
                rec[f"basis_{short}"] = "months"
                rec[f"months_{short}"] = len(have)
                rec[f"missing_{short}"] = ",".join(x for x in _months_in(str(quarter)) if x not in have)
            else:
                rec[metric] = math.nan
                rec[f"basis_{short}"] = "none"
                rec[f"months_{short}"] = 0
                rec[f"missing_{short}"] = ",".join(_months_in(str(quarter)))
        rows.append(rec)
    per = pd.DataFrame(
        rows,
        columns=[
            "company",
            "quarter",
            "btc_produced",
            "btc_sold",
            "basis_produced",
            "basis_sold",
            "months_produced",
            "months_sold",
            "missing_produced",
            "missing_sold",
        ],
    )
    tot_rows: list[dict[str, object]] = []
    for quarter, grp in per.groupby("quarter", sort=True):
        partial = ((grp["basis_produced"] == "months") & (grp["missing_produced"] != "")) | (
            (grp["basis_sold"] == "months") & (grp["missing_sold"] != "")
        )
        incomplete = grp[partial]["company"]
        tot_rows.append(
            {
                "quarter": quarter,
                "btc_produced": float(grp["btc_produced"].sum(min_count=1)),
                "btc_sold": float(grp["btc_sold"].sum(min_count=1)),
                "n_companies_produced": int(grp["btc_produced"].notna().sum()),
                "n_companies_sold": int(grp["btc_sold"].notna().sum()),
                "incomplete_companies": ",".join(sorted(incomplete)),
            }
        )
    totals = pd.DataFrame(
        tot_rows,
        columns=[
            "quarter",
            "btc_produced",
            "btc_sold",
            "n_companies_produced",
            "n_companies_sold",
            "incomplete_companies",
        ],
    )
    return per, totals


def holdings_cover_months(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Months of production that each company's holdings equal, on its latest period with both figures.

    ``cover_months = btc_held / monthly_production``, where monthly production is the period's ``btc_produced``
    divided by the months in the period (1 or 3). Companies without both figures in one period get NaN.

    Returns
    -------
    pandas.DataFrame
        Index ``company``; columns period, btc_held, btc_produced_per_month, cover_months.
    """
    data = load_listed_miners() if frame is None else frame
    out: dict[str, dict[str, object]] = {}
    for company, grp in data.groupby("company", sort=True):
        held: dict[str, float] = {}
        produced: dict[str, float] = {}
        ends: dict[str, pd.Timestamp] = {}
        freqs: dict[str, str] = {}
        for rec in grp.itertuples():
            per = str(rec.period)
            ends[per] = pd.Timestamp(str(rec.period_end))
            freqs[per] = str(rec.freq)
            if rec.metric == "btc_held":
                held[per] = float(str(rec.value))
            elif rec.metric == "btc_produced":
                produced[per] = float(str(rec.value))
        both = [p for p in held if p in produced]
        rec_out: dict[str, object] = {
            "period": None,
            "btc_held": math.nan,
            "btc_produced_per_month": math.nan,
            "cover_months": math.nan,
        }
        if both:
            p = max(both, key=lambda x: ends[x])
            per_month = produced[p] / (3 if freqs[p] == "Q" else 1)
            rec_out = {
                "period": p,
                "btc_held": held[p],
                "btc_produced_per_month": per_month,
                "cover_months": held[p] / per_month if per_month > 0 else math.nan,
            }
        out[str(company)] = rec_out
    result = pd.DataFrame.from_dict(out, orient="index")
    result.index.name = "company"
    return result


def identity_terms(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every company-period where all terms of the holdings identity are in the data, with its residual.

    ``held_start`` is the ``btc_held`` of the period that ends the day before this period starts (either
    frequency). ``residual = produced + bought - (held_end - held_start) - sold`` [BTC]; ``tolerance`` is
    ``max(IDENTITY_TOLERANCE_BTC, IDENTITY_TOLERANCE_REL * held_end)``. ``sold_kind`` says whether ``sold`` was
    reported or derived.
    """
    data = load_listed_miners() if frame is None else frame
    cols = ["company", "period", "produced", "bought", "held_start", "held_end", "sold", "sold_kind"]
    rows: list[dict[str, object]] = []
    for company, grp in data.groupby("company", sort=True):
        held = grp[grp["metric"] == "btc_held"]
        held_by_end = {
            pd.Timestamp(e): float(v) for e, v in zip(held["period_end"], held["value"], strict=True)
        }
        for period, g in grp.groupby("period"):
            vals = dict(zip(g["metric"], g["value"], strict=False))
            kinds = dict(zip(g["metric"], g["kind"], strict=False))
            start = pd.Timestamp(g["period_start"].iloc[0]) - pd.Timedelta(days=1)
            needed = ("btc_produced", "btc_bought", "btc_held", "btc_sold")
            if not all(k in vals for k in needed) or start not in held_by_end:
                continue
            rows.append(
                {
                    "company": company,
                    "period": period,
                    "produced": float(vals["btc_produced"]),
                    "bought": float(vals["btc_bought"]),
                    "held_start": held_by_end[start],
                    "held_end": float(vals["btc_held"]),
                    "sold": float(vals["btc_sold"]),
                    "sold_kind": kinds["btc_sold"],
                }
            )
    out = pd.DataFrame(rows, columns=cols)
    out["residual"] = out["produced"] + out["bought"] - (out["held_end"] - out["held_start"]) - out["sold"]
    out["tolerance"] = np.maximum(IDENTITY_TOLERANCE_BTC, IDENTITY_TOLERANCE_REL * out["held_end"].abs())
    return out


_MINER_METRICS: Final[dict[str, str]] = {
    "btc_produced": "btc_produced",
    "btc_held": "btc_held",
    "btc_sold": "btc_sold",
    "fleet_efficiency_j_per_th": "fleet_efficiency_j_per_th",
    "power_cost_usd_per_kwh": "power_cost_usd_per_kwh",
    "cash_usd": "cash_usd",
    "debt_usd": "debt_usd",
    "hpc_revenue_usd": "hpc_revenue_usd",
}


def listed_miner_rows(period: str | None = None, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows in the schema of :mod:`hashrisk.flows.miners` (its ``REQUIRED_COLUMNS``), one per company.

    Values come from :func:`listed_miners_wide` (one period, or each company's latest). ``hashrate_ths`` is the
    energized hashrate, or the installed (deployed) hashrate where only that is disclosed (then ``notes`` says
    so). ``source`` joins the titles of the documents used; ``source_date`` is the newest of their dates. Nothing
    is filled in: a required value that was not disclosed is NaN and named in ``missing``, and ``complete`` is
    False, so such a row cannot pass :class:`hashrisk.flows.miners.MinerRow` validation until the user supplies it.

    Returns
    -------
    pandas.DataFrame
        Columns ``REQUIRED_COLUMNS`` + ``missing`` (comma-separated names), ``complete`` (bool), ``notes``.
    """
    data = load_listed_miners() if frame is None else frame
    wide = listed_miners_wide(period, data)
    rows: list[dict[str, object]] = []
    for company, rec in wide.iterrows():
        per = str(rec["period"])
        used = data[(data["company"] == company) & (data["period"] == per)]
        row: dict[str, object] = {"company": company, "period": per}
        notes: list[str] = []
        for col, metric in _MINER_METRICS.items():
            row[col] = float(rec[metric]) if metric in rec.index and pd.notna(rec[metric]) else math.nan
        energized = rec.get("energized_hashrate_ths", math.nan)
        installed = rec.get("installed_hashrate_ths", math.nan)
        if pd.notna(energized):
            row["hashrate_ths"] = float(energized)
        elif pd.notna(installed):
            row["hashrate_ths"] = float(installed)
            notes.append("hashrate_ths is the installed (deployed) hashrate; energized not disclosed")
        else:
            row["hashrate_ths"] = math.nan
        row["source"] = "; ".join(sorted(set(used["source_title"])))
        dates: list[dt.date] = list(used["source_date"])
        row["source_date"] = max(dates).isoformat() if dates else ""
        missing = [
            c for c in REQUIRED_COLUMNS if isinstance(row.get(c), float) and math.isnan(float(str(row[c])))
        ]
        row["missing"] = ",".join(missing)
        row["complete"] = not missing
        row["notes"] = "; ".join(notes)
        rows.append(row)
    return pd.DataFrame(rows, columns=[*REQUIRED_COLUMNS, "missing", "complete", "notes"])


# ------------------------------------------------------------------------------------------- published comparison
@dataclass(frozen=True)
class PublishedSales:
    """A published total of BTC sold by named listed miners in one quarter (a cited fact, not recomputed)."""

    period: str
    value: float
    qualifier: str
    tickers: tuple[str, ...]
    companies: tuple[str, ...]
    wording: str
    source: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {
            **asdict(self),
            "metric": "btc_sold",
            "tickers": list(self.tickers),
            "companies": list(self.companies),
        }


PUBLISHED_Q1_2026_SALES: Final = PublishedSales(
    period="2026Q1",
    value=32_000.0,
    qualifier="over",
    tickers=("MARA", "CLSK", "RIOT", "CANG", "CORZ", "BTDR"),
    companies=("MARA", "CleanSpark", "Riot Platforms", "Cango", "Core Scientific", "Bitdeer"),
    wording="public companies like MARA, CleanSpark, Riot Platforms, Cango, Core Scientific, and Bitdeer sold "
    "over 32,000 BTC in the first quarter of 2026",
    source="fact as reported: desk note 'Bitcoin Mining in the Red: Can the Shift to AI Be a Lifeline?' "
    "(June 2026), citing the memeburn article on JPMorgan's analysis "
    "(https://memeburn.com/bitcoin-mining-is-near-a-breaking-point-jpmorgan-just-explained-why/); a press figure, "
    "not a company disclosure",
)
"""The published Q1-2026 total of BTC sold by six listed miners (cited, not recomputed)."""


def published_sales_comparison(frame: pd.DataFrame | None = None) -> dict[str, Any]:
    """How far the dataset reaches towards the published ">32,000 BTC sold in 2026Q1 by six listed miners".

    Per named company (matched by ticker): its 2026Q1 ``btc_sold`` from :func:`quarterly_sales` (NaN when the
    dataset has none) with the months it covers. ``dataset_btc_sold`` sums the companies that have a figure (NaN
    when none has: absent data is not zero sales); ``share_of_published`` is that sum over 32,000 (a ceiling on the
    share of the true total, as the published figure is a lower bound), NaN without data. ``latest_sold_quarter``
    is the newest quarter with any sold figure in the dataset.

    Returns
    -------
    dict
        JSON-ready (NaN for missing values): the published figure with its source, per-company coverage,
        ``companies_with_figure`` / ``companies_named``, ``dataset_btc_sold``, ``share_of_published`` and ``text``.
    """
    data = load_listed_miners() if frame is None else frame
    pub = PUBLISHED_Q1_2026_SALES
    quarter = pub.period
    per, _ = quarterly_sales(data)
    tickers = dict(zip(data["company"], data["ticker"], strict=False))
    by_ticker = {t: c for c, t in tickers.items()}
    companies: list[dict[str, object]] = []
    for ticker, name in zip(pub.tickers, pub.companies, strict=True):
        company = by_ticker.get(ticker)
        rec = per[(per["company"] == company) & (per["quarter"] == quarter)] if company else per.iloc[0:0]
        sold = float(rec["btc_sold"].iloc[0]) if len(rec) else math.nan
        companies.append(
            {
                "ticker": ticker,
                "company": company or name,
                "in_dataset": company is not None,
                "btc_sold": sold,
                "months_sold": int(rec["months_sold"].iloc[0]) if len(rec) else 0,
                "missing_sold": str(rec["missing_sold"].iloc[0])
                if len(rec)
                else ",".join(_months_in(quarter)),
            }
        )
    have = [c for c in companies if not math.isnan(float(str(c["btc_sold"])))]
    total = float(sum(float(str(c["btc_sold"])) for c in have)) if have else math.nan
    value = pub.value
    with_sold = per[per["btc_sold"].notna()]
    latest = str(max(with_sold["quarter"])) if len(with_sold) else None
    if have:
        reach = (
            f"the dataset has {quarter} sales for {len(have)} of the {len(companies)} companies named: "
            f"{total:,.0f} BTC, {total / value:.0%} of the published {value:,.0f}"
        )
    else:
        reach = (
            f"the dataset has no {quarter} sales figure for any of the {len(companies)} companies named "
            f"(its latest sales figure is for {latest or 'no quarter'}), so it cannot confirm or refute the figure"
        )
    return {
        "published": pub.to_dict(),
        "companies": companies,
        "companies_named": len(companies),
        "companies_with_figure": len(have),
        "dataset_btc_sold": total,
        "share_of_published": total / value if have else math.nan,
        "latest_sold_quarter": latest,
        "text": f"Published: {pub.qualifier} {value:,.0f} BTC sold in {quarter} by {', '.join(pub.companies)} "
        f"({pub.source}); {reach}.",
    }


MIN_SHARE_SOLD_COMPANIES: Final = 3
MIN_SHARE_SOLD_QUARTERS: Final = 4
"""Evidence needed before the simulator's default share sold is derived from the dataset: reported produced AND
sold figures of at least this many companies over at least this many calendar quarters (assumption: fewer
would let one company's treasury policy stand for the industry's)."""


def share_sold_evidence(frame: pd.DataFrame | None = None) -> dict[str, Any]:
    """The company-periods with both ``btc_produced`` and ``btc_sold`` reported, and whether they suffice.

    ``share_sold = sum sold / sum produced`` over those periods (NaN without any). ``sufficient`` is True only
    with :data:`MIN_SHARE_SOLD_COMPANIES` companies over :data:`MIN_SHARE_SOLD_QUARTERS` quarters; until then the
    simulator keeps its labelled default (``hashrisk.economics.fleet.MINERS_SHARE_SOLD``).
    """
    data = load_listed_miners() if frame is None else frame
    rep = data[(data["kind"] == "reported") & data["metric"].isin(["btc_produced", "btc_sold"])]
    wide = rep.pivot_table(index=["company", "period"], columns="metric", values="value", aggfunc="first")
    wide = wide.reindex(columns=["btc_produced", "btc_sold"]).dropna()
    periods = [f"{c} {p}" for c, p in wide.index]
    companies = sorted({c for c, _ in wide.index})
    quarters = sorted({_quarter_of(pd.Timestamp(parse_period(p).start_time)) for _, p in wide.index})
    produced = float(wide["btc_produced"].sum())
    share = float(wide["btc_sold"].sum()) / produced if produced > 0 else math.nan
    sufficient = len(companies) >= MIN_SHARE_SOLD_COMPANIES and len(quarters) >= MIN_SHARE_SOLD_QUARTERS
    why = (
        f"{len(periods)} company-periods with reported produced and sold ({', '.join(periods) or 'none'}): "
        f"{len(companies)} companies over {len(quarters)} quarters, fewer than the {MIN_SHARE_SOLD_COMPANIES} "
        f"companies over {MIN_SHARE_SOLD_QUARTERS} quarters required; the simulator keeps its labelled default"
        if not sufficient
        else f"{len(periods)} company-periods of {len(companies)} companies over {len(quarters)} quarters"
    )
    return {
        "periods": periods,
        "companies": companies,
        "quarters": quarters,
        "share_sold": share,
        "sufficient": sufficient,
        "text": why,
    }


def complete_miners_data(rows: pd.DataFrame, origin: str = DATA_FILE) -> MinersData | None:
    """The ``complete`` rows of :func:`listed_miner_rows` as validated :class:`~hashrisk.flows.miners.MinersData`
    for :func:`~hashrisk.flows.miners.miner_stress`; None when no row is complete (incomplete rows are left out,
    never filled in)."""
    done = rows[rows["complete"].astype(bool)]
    if done.empty:
        return None
    records = [{c: rec[c] for c in REQUIRED_COLUMNS} for rec in done.to_dict("records")]
    return miners_from_dict({"description": f"packaged dataset {origin}", "rows": records}, origin)


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [{str(k): v for k, v in rec.items()} for rec in frame.to_dict("records")]


def dataset_overview(period: str | None = None, frame: pd.DataFrame | None = None) -> dict[str, Any]:
    """Everything the shells show of the dataset, JSON-ready (NaN where a value was not disclosed, never 0).

    Keys: ``dataset`` (file, companies, periods, values), ``period`` (asked or None for each company's latest),
    ``companies`` (:func:`listed_miner_rows` records, ``missing`` as a list), ``missing`` (company -> missing
    required values), ``quarterly_sales`` (``per_company`` and ``totals`` of :func:`quarterly_sales`),
    ``holdings_cover_months`` (:func:`holdings_cover_months` records), ``holdings`` (every ``btc_held`` value with
    its period end), ``published_comparison`` (:func:`published_sales_comparison`) and ``share_sold_evidence``
    (:func:`share_sold_evidence`).

    Raises
    ------
    ValueError
        When `period` is not a period of the dataset (the message lists the ones it has).
    """
    data = load_listed_miners() if frame is None else frame
    periods = sorted(set(data["period"]))
    if period is not None and period.strip() not in periods:
        raise ValueError(f"a period of the dataset: {', '.join(periods)}")
    rows = listed_miner_rows(period, data)
    companies = []
    for rec in _records(rows):
        rec["missing"] = [m for m in str(rec["missing"]).split(",") if m]
        companies.append(rec)
    per, totals = quarterly_sales(data)
    cover = holdings_cover_months(data).reset_index()
    held = data[data["metric"] == "btc_held"].sort_values(["company", "period_end"])
    holdings = [
        {"company": c, "period": p, "period_end": e.date().isoformat(), "btc_held": float(v)}
        for c, p, e, v in zip(held["company"], held["period"], held["period_end"], held["value"], strict=True)
    ]
    return {
        "dataset": {
            "file": DATA_FILE,
            "companies": sorted(set(data["company"])),
            "periods": periods,
            "values": len(data),
        },
        "period": None if period is None else period.strip(),
        "companies": companies,
        "missing": {str(c["company"]): c["missing"] for c in companies if c["missing"]},
        "quarterly_sales": {"per_company": _records(per), "totals": _records(totals)},
        "holdings_cover_months": [
            {**r, "period": r["period"] if isinstance(r["period"], str) else None} for r in _records(cover)
        ],
        "holdings": holdings,
        "published_comparison": published_sales_comparison(data),
        "share_sold_evidence": share_sold_evidence(data),
    }


def coverage_text(basis: str, months: int, missing: str, none: str = "not disclosed") -> str:
    """How a quarter of :func:`quarterly_sales` is covered, in words: ``quarterly figure``, ``2 of 3 months
    (missing 2024-07)`` or `none` (nothing disclosed)."""
    if basis == "quarter":
        return "quarterly figure"
    if basis == "none":
        return none
    return f"{months} of 3 months" + (f" (missing {missing})" if missing else "")
