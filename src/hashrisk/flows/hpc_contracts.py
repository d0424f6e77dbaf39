"""AI/HPC contracts of listed bitcoin miners as cited data: MW contracted against delivered, backlog, funding gap.

Data (packaged, ``hashrisk/flows/data``; Apache-2.0, the figures are the companies' disclosures)
--------------------------------------------------------------------------------------------------
``hpc_contracts.csv``
    One row per company-tenant-campus relationship at its latest disclosed size: ``contract_id``, ``company``,
    ``ticker``, ``tenant``, ``end_user``, ``site``, ``announced_date`` (first agreement), ``it_mw`` (critical IT
    [MW]), ``contract_value_usd`` (the company's figure over the initial term [USD]), ``term_years``,
    ``capex_usd_per_it_mw_low``/``_high`` (capex guidance per critical-IT MW [USD/MW]), ``capex_total_usd`` and
    ``capex_total_scope``, ``planned_first_date``/``planned_full_date`` (last day of the period the company gave),
    ``milestones`` (text), the source (``source_title``, ``source_date``, ``source_url``) and optionally a second
    original source for the fields named in ``source2_fields``.
``hpc_deliveries.csv``
    ``contract_id``, ``as_of``, ``mw_delivered`` (cumulative critical IT delivered [MW] as disclosed), ``basis``,
    ``source_title``, ``source_date``, ``source_url``.

Values come only from the companies' own releases and filings (SEC EDGAR, investor-relations sites, wire services
carrying the company's release; see :data:`ALLOWED_SOURCE_DOMAINS`). A value not found there is empty (NaN), never 0
and never estimated. The loaders accept frames of the same columns (the user's own data, or synthetic test data).

Model (labelled assumptions, each overridable by passing other data)
-------------------------------------------------------------------
At a date ``t`` a contract counts as contracted from its ``announced_date`` at its latest disclosed ``it_mw``
(expansions are back-dated to the first agreement). Its delivered MW ``d_i(t)`` is the latest disclosure with
``as_of <= t``; without one it is unknown (NaN). Per group (company, or all)::

    contracted_mw        = sum it_mw_i
    delivered_mw         = sum of the known d_i(t)            (NaN when no contract of the group has one)
    disclosed_share      = delivered_mw / sum(it_mw_i over contracts with a disclosure)   (NaN if none)
    delivered_share_low  = delivered_mw / contracted_mw      (undisclosed delivery counted as none: a lower bound)
    undelivered_mw       = contracted_mw - delivered_mw      (the matching upper bound)
    backlog_usd          = sum value_i * (1 - d_i / it_mw_i)  (d_i = 0 where undisclosed; value_i NaN is skipped)

``backlog_usd`` is the contract value attached to capacity not yet delivered: a proxy for revenue not yet earned
that ignores revenue already billed on delivered MW. ``active_value_usd`` sums the values of contracts whose term
has not ended, counting the term from the announcement (a lower bound on the end date, as revenue starts only on
delivery). VanEck (June 2026) put the delivered share of leased capacity at about 25%.

Funding gap from the contracts (replaces the capacity implied from VanEck's $50bn in ``hpc_site_template.yaml``)::

    gap_usd = sum_i undelivered_mw_i * capex_i

with ``capex_i`` the midpoint of the contract's own capex guidance per critical-IT MW when disclosed, else the
template's capex per MW (``portfolio.capex_usd_per_it_mw``, TeraWulf's guidance: applied to another company's
contract it is an ASSUMPTION) or the ``capex_usd_per_it_mw`` passed in. Low/high use the guidance range or the
template's range. No funding already raised is subtracted. VanEck's ~$50bn short-term and up to $221bn long-term
needs stay the published comparison.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from hashrisk._yaml import load_yaml
from hashrisk.errors import InputError
from hashrisk.flows.inputs import packaged_text

CONTRACTS_FILE = "hpc_contracts.csv"
DELIVERIES_FILE = "hpc_deliveries.csv"
TEMPLATE_FILE = "hpc_site_template.yaml"
TOTAL = "TOTAL"

ALLOWED_SOURCE_DOMAINS = (
    "sec.gov",
    "globenewswire.com",
    "businesswire.com",
    "prnewswire.com",
    "accesswire.com",
    "newsfilecorp.com",
    # investor-relations sites of the companies in the dataset
    "investors.corescientific.com",
    "investors.terawulf.com",
    "investors.ciphermining.com",
    "ir.applieddigital.com",
    "iren.com",
    "hut8.com",
    "investor.galaxy.com",
    "riotplatforms.com",
)
"""Domains (and their subdomains) accepted as original sources: SEC EDGAR, the wires that carry companies' own
releases, and the companies' investor-relations sites."""

CONTRACT_COLUMNS = (
    "contract_id",
    "company",
    "ticker",
    "tenant",
    "end_user",
    "site",
    "announced_date",
    "it_mw",
    "contract_value_usd",
    "term_years",
    "capex_usd_per_it_mw_low",
    "capex_usd_per_it_mw_high",
    "capex_total_usd",
    "capex_total_scope",
    "planned_first_date",
    "planned_full_date",
    "milestones",
    "source_title",
    "source_date",
    "source_url",
    "source2_title",
    "source2_date",
    "source2_url",
    "source2_fields",
    "notes",
)
REQUIRED_CONTRACT_COLUMNS = (
    "contract_id",
    "company",
    "announced_date",
    "it_mw",
    "source_title",
    "source_date",
)
DELIVERY_COLUMNS = (
    "contract_id",
    "as_of",
    "mw_delivered",
    "basis",
    "source_title",
    "source_date",
    "source_url",
)
REQUIRED_DELIVERY_COLUMNS = ("contract_id", "as_of", "mw_delivered", "source_title", "source_date")
_NUMERIC = (
    "it_mw",
    "contract_value_usd",
    "term_years",
    "capex_usd_per_it_mw_low",
    "capex_usd_per_it_mw_high",
)
_DATES = ("announced_date", "planned_first_date", "planned_full_date", "source_date", "source2_date")


# ------------------------------------------------------------------------------------------- loading
def _packaged_csv(name: str) -> pd.DataFrame:
    """A packaged CSV whose leading ``#`` lines are its header comment (licence, description)."""
    text = resources.files("hashrisk.flows").joinpath(f"data/{name}").read_text("utf-8")
    return read_commented_csv(text)


def read_commented_csv(text: str) -> pd.DataFrame:
    """CSV text with optional leading ``#`` comment lines; every column read as text (parsed by the loaders)."""
    lines = text.splitlines()
    start = 0
    while start < len(lines) and lines[start].lstrip().startswith("#"):
        start += 1
    return pd.read_csv(io.StringIO("\n".join(lines[start:])), dtype=str, keep_default_na=False)


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def iso_date_cell(value: Any, fld: str, required: bool) -> dt.date | None:
    """A dataset cell as a date (ISO ``YYYY-MM-DD``); None for an empty optional cell; InputError naming `fld`."""
    s = _text(value)
    if not s:
        if required:
            raise InputError(fld, value, "an ISO date YYYY-MM-DD")
        return None
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        raise InputError(fld, value, "an ISO date YYYY-MM-DD") from None


def _number(value: Any, fld: str, required: bool) -> float:
    """A positive finite number, or NaN for an empty cell (an undisclosed value is NaN, never 0)."""
    s = _text(value)
    if not s:
        if required:
            raise InputError(fld, value, "a number > 0")
        return math.nan
    try:
        x = float(s)
    except ValueError:
        raise InputError(fld, value, "a number > 0, or an empty cell when undisclosed") from None
    if not (math.isfinite(x) and x > 0):
        raise InputError(fld, value, "a number > 0, or an empty cell when undisclosed (never 0)")
    return x


def load_contracts(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The contracts table, validated: dates as ``datetime.date``, amounts as floats (NaN where undisclosed).

    Parameters
    ----------
    frame : pandas.DataFrame, optional
        Rows in the layout of the packaged ``hpc_contracts.csv`` (missing optional columns are added empty);
        default: the packaged dataset.
    """
    raw = _packaged_csv(CONTRACTS_FILE) if frame is None else frame.copy()
    missing = [c for c in REQUIRED_CONTRACT_COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(
            "contracts.columns", sorted(raw.columns), f"the columns {list(REQUIRED_CONTRACT_COLUMNS)}"
        )
    rows: list[dict[str, Any]] = []
    for i, rec in enumerate(raw.to_dict("records")):
        row: dict[str, Any] = {c: _text(rec.get(c)) for c in CONTRACT_COLUMNS}
        where = f"contracts[{i}]"
        if not row["contract_id"]:
            raise InputError(f"{where}.contract_id", rec.get("contract_id"), "a non-empty id")
        for c in _NUMERIC:
            row[c] = _number(rec.get(c), f"{where}.{c}", required=c == "it_mw")
        for c in ("capex_total_usd",):
            row[c] = _number(rec.get(c), f"{where}.{c}", required=False)
        for c in _DATES:
            row[c] = iso_date_cell(
                rec.get(c), f"{where}.{c}", required=c in ("announced_date", "source_date")
            )
        lo, hi = row["capex_usd_per_it_mw_low"], row["capex_usd_per_it_mw_high"]
        if math.isnan(lo) != math.isnan(hi) or (not math.isnan(lo) and lo > hi):
            raise InputError(f"{where}.capex_usd_per_it_mw_low", (lo, hi), "both empty, or low <= high")
        if not row["source_title"]:
            raise InputError(
                f"{where}.source_title", rec.get("source_title"), "the title of the source document"
            )
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(CONTRACT_COLUMNS))
    dup = out["contract_id"][out["contract_id"].duplicated()].tolist()
    if dup:
        raise InputError("contracts.contract_id", dup, "unique ids")
    return out


def load_deliveries(frame: pd.DataFrame | None = None, contracts: pd.DataFrame | None = None) -> pd.DataFrame:
    """The deliveries table, validated against the contracts (known id, not before the announcement, not above
    the contracted MW), sorted by contract and date.

    Parameters
    ----------
    frame : pandas.DataFrame, optional
        Rows in the layout of the packaged ``hpc_deliveries.csv``; default: the packaged dataset.
    contracts : pandas.DataFrame, optional
        Output of :func:`load_contracts` (default: the packaged contracts).
    """
    con = load_contracts() if contracts is None else contracts
    raw = _packaged_csv(DELIVERIES_FILE) if frame is None else frame.copy()
    missing = [c for c in REQUIRED_DELIVERY_COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(
            "deliveries.columns", sorted(raw.columns), f"the columns {list(REQUIRED_DELIVERY_COLUMNS)}"
        )
    by_id = con.set_index("contract_id")
    rows: list[dict[str, Any]] = []
    for i, rec in enumerate(raw.to_dict("records")):
        where = f"deliveries[{i}]"
        row: dict[str, Any] = {c: _text(rec.get(c)) for c in DELIVERY_COLUMNS}
        cid = row["contract_id"]
        if cid not in by_id.index:
            raise InputError(f"{where}.contract_id", cid, "the id of a contract in the contracts table")
        row["as_of"] = iso_date_cell(rec.get("as_of"), f"{where}.as_of", required=True)
        row["source_date"] = iso_date_cell(rec.get("source_date"), f"{where}.source_date", required=True)
        s = _text(rec.get("mw_delivered"))
        try:
            mw = float(s)
        except ValueError:
            raise InputError(f"{where}.mw_delivered", rec.get("mw_delivered"), "a number >= 0") from None
        if not (math.isfinite(mw) and mw >= 0):
            raise InputError(f"{where}.mw_delivered", mw, "a number >= 0 (a disclosed 0 only)")
        contracted = float(by_id["it_mw"].loc[cid])
        if mw > contracted:
            raise InputError(
                f"{where}.mw_delivered", mw, f"at most the contracted {contracted:g} MW of {cid}"
            )
        if row["as_of"] < by_id.at[cid, "announced_date"]:
            raise InputError(f"{where}.as_of", row["as_of"], f"on or after {cid}'s announcement")
        if not row["source_title"]:
            raise InputError(
                f"{where}.source_title", rec.get("source_title"), "the title of the source document"
            )
        row["mw_delivered"] = mw
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(DELIVERY_COLUMNS))
    return out.sort_values(["contract_id", "as_of"], kind="stable").reset_index(drop=True)


def source_problems(contracts: pd.DataFrame, deliveries: pd.DataFrame) -> list[str]:
    """Rows whose sources are not an https URL on an allowed original-source domain (empty list when all are)."""
    problems: list[str] = []

    def check(where: str, url: str, required: bool) -> None:
        if not url:
            if required:
                problems.append(f"{where}: no URL")
            return
        parsed = urlparse(url)
        host = (parsed.hostname or "").lower()
        if parsed.scheme != "https":
            problems.append(f"{where}: {url} is not https")
        if not any(host == d or host.endswith("." + d) for d in ALLOWED_SOURCE_DOMAINS):
            problems.append(f"{where}: {host} is not an allowed original-source domain")

    for rec in contracts.to_dict("records"):
        cid = rec["contract_id"]
        check(f"{cid}.source_url", _text(rec["source_url"]), True)
        url2 = _text(rec["source2_url"])
        check(f"{cid}.source2_url", url2, False)
        if url2 and not (_text(rec["source2_title"]) and rec["source2_date"] is not None):
            problems.append(f"{cid}: source2 needs a title and a date")
    for rec in deliveries.to_dict("records"):
        check(f"{rec['contract_id']}@{rec['as_of']}.source_url", _text(rec["source_url"]), True)
    return problems


# ------------------------------------------------------------------------------------------- VanEck / template
@dataclass(frozen=True)
class PublishedComparison:
    """VanEck's published figures and the template's default capex, each with its provenance string."""

    delivered_share: float
    short_term_gap_usd: float
    long_term_need_usd: float
    capex_usd_per_it_mw: float
    capex_range_usd_per_it_mw: tuple[float, float]
    sources: dict[str, str]


def published_comparison() -> PublishedComparison:
    """Read VanEck's ~25% / ~$50bn / up to $221bn and the default capex from ``hpc_site_template.yaml``."""
    raw = load_yaml(packaged_text(TEMPLATE_FILE), "site", TEMPLATE_FILE)
    pf: dict[str, Any] = raw["portfolio"]
    src: dict[str, str] = raw.get("sources", {})
    keys = (
        "portfolio.delivered_share",
        "portfolio.published.short_term_gap_usd",
        "portfolio.published.long_term_need_usd",
        "portfolio.capex_usd_per_it_mw",
        "portfolio.capex_range_usd_per_it_mw",
    )
    lo, hi = pf["capex_range_usd_per_it_mw"]
    return PublishedComparison(
        delivered_share=float(pf["delivered_share"]),
        short_term_gap_usd=float(pf["published"]["short_term_gap_usd"]),
        long_term_need_usd=float(pf["published"]["long_term_need_usd"]),
        capex_usd_per_it_mw=float(pf["capex_usd_per_it_mw"]),
        capex_range_usd_per_it_mw=(float(lo), float(hi)),
        sources={k: src.get(k, "") for k in keys},
    )


# ------------------------------------------------------------------------------------------- progress
def _as_date(as_of: dt.date | str | None, default: dt.date) -> dt.date:
    if as_of is None:
        return default
    if isinstance(as_of, str):
        d = iso_date_cell(as_of, "as_of", required=True)
        assert d is not None
        return d
    return as_of


def _newest_date(contracts: pd.DataFrame, deliveries: pd.DataFrame) -> dt.date:
    dates = list(contracts["announced_date"]) + list(deliveries["as_of"])
    if not dates:
        raise InputError("contracts", 0, "at least one contract")
    newest: dt.date = max(dates)
    return newest


def _delivered_at(contracts: pd.DataFrame, deliveries: pd.DataFrame, t: dt.date) -> dict[str, float]:
    """Latest disclosed delivered MW per contract at ``t`` (contracts without a disclosure are absent)."""
    known = deliveries[deliveries["as_of"] <= t]
    out: dict[str, float] = {}
    for cid, grp in known.groupby("contract_id", sort=False):
        out[str(cid)] = float(grp.sort_values("as_of", kind="stable")["mw_delivered"].iloc[-1])
    return out


def _group_stats(con: pd.DataFrame, delivered: dict[str, float], t: dt.date) -> dict[str, float]:
    mw = con["it_mw"].to_numpy(float)
    d = np.array([delivered.get(c, math.nan) for c in con["contract_id"]], float)
    has = ~np.isnan(d)
    d0 = np.where(has, d, 0.0)
    value = con["contract_value_usd"].to_numpy(float)
    contracted = float(mw.sum())
    delivered_mw = float(d0.sum())
    disclosed_mw = float(mw[has].sum())
    ends = [
        a + dt.timedelta(days=365.25 * y) if not math.isnan(y) else None
        for a, y in zip(con["announced_date"], con["term_years"], strict=True)
    ]
    active = np.array([e is None or e > t for e in ends], bool)
    vmask = ~np.isnan(value)
    return {
        "n_contracts": float(len(con)),
        "contracted_mw": contracted,
        "delivered_mw": delivered_mw if has.any() else math.nan,
        "contracted_mw_with_disclosure": disclosed_mw,
        "delivered_share_disclosed": delivered_mw / disclosed_mw if disclosed_mw > 0 else math.nan,
        "delivered_share_low": delivered_mw / contracted if contracted > 0 else math.nan,
        "undelivered_mw": contracted - delivered_mw,
        "contract_value_usd": float(value[vmask].sum()),
        "active_value_usd": float(value[vmask & active].sum()),
        "backlog_usd": float((value * (1.0 - d0 / mw))[vmask].sum()),
        "n_value_undisclosed": float((~vmask).sum()),
    }


@dataclass(frozen=True)
class HpcProgress:
    """Result of :func:`progress`: MW contracted against delivered over time, per company and in total."""

    as_of: dt.date
    table: pd.DataFrame
    contracts: pd.DataFrame
    deliveries: pd.DataFrame
    published: PublishedComparison
    assumptions: tuple[str, ...] = field(default=())

    def latest(self, company: str = TOTAL) -> dict[str, float]:
        """The figures of `company` (or ``"TOTAL"``) at :attr:`as_of`."""
        rows = self.table[(self.table["company"] == company) & (self.table["date"] == self.as_of)]
        if rows.empty:
            raise InputError("company", company, f"one of {sorted(set(self.table['company']))}")
        rec = rows.iloc[-1].to_dict()
        return {str(k): float(v) for k, v in rec.items() if k not in ("date", "company")}

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per date (announcements and disclosures up to ``as_of``) and company, plus TOTAL."""
        return self.table.copy()

    def summary(self) -> dict[str, Any]:
        """Headline figures at ``as_of`` next to VanEck's ~25% delivered share, JSON-ready."""
        total = self.latest(TOTAL)
        companies = sorted(c for c in set(self.table["company"]) if c != TOTAL)
        undisclosed = sorted(set(self.contracts["contract_id"]) - set(self.deliveries["contract_id"]))
        return {
            "as_of": self.as_of.isoformat(),
            "total": total,
            "by_company": {c: self.latest(c) for c in companies if self._has(c)},
            "contracts_without_delivery_disclosure": undisclosed,
            "vaneck_delivered_share": self.published.delivered_share,
            "vaneck_source": self.published.sources["portfolio.delivered_share"],
            "assumptions": list(self.assumptions),
        }

    def _has(self, company: str) -> bool:
        return bool(((self.table["company"] == company) & (self.table["date"] == self.as_of)).any())


ASSUMPTIONS = (
    "assumption: a contract counts from its announced_date at its latest disclosed MW (expansions back-dated)",
    "assumption: a contract without a delivery disclosure has unknown delivered MW; delivered_share_low and "
    "undelivered_mw/backlog count it as not delivered (lower bound on delivery, upper bound on the rest)",
    "assumption: backlog_usd = contract value x undelivered share (value of capacity not yet delivered)",
    "assumption: active_value_usd counts a term from the announcement (revenue starts only on delivery)",
)


def progress(
    as_of: dt.date | str | None = None,
    contracts: pd.DataFrame | None = None,
    deliveries: pd.DataFrame | None = None,
) -> HpcProgress:
    """MW contracted against delivered over time, per company and in total, with the $ backlog (pure).

    Parameters
    ----------
    as_of : date or ISO str, optional
        Last date of the table (default: the newest announcement or disclosure in the data).
    contracts, deliveries : pandas.DataFrame, optional
        Raw frames in the packaged layouts (validated here); default: the packaged dataset.
    """
    con = load_contracts(contracts)
    dlv = load_deliveries(deliveries, con)
    end = _as_date(as_of, _newest_date(con, dlv))
    dates = sorted({d for d in list(con["announced_date"]) + list(dlv["as_of"]) if d <= end} | {end})
    records: list[dict[str, Any]] = []
    for t in dates:
        live = con[con["announced_date"] <= t]
        if live.empty:
            continue
        delivered = _delivered_at(live, dlv, t)
        for company, grp in live.groupby("company", sort=True):
            records.append({"date": t, "company": str(company), **_group_stats(grp, delivered, t)})
        records.append({"date": t, "company": TOTAL, **_group_stats(live, delivered, t)})
    if not records:
        raise InputError("as_of", end.isoformat(), "a date on or after the first announcement")
    table = pd.DataFrame.from_records(records)
    return HpcProgress(end, table, con, dlv, published_comparison(), ASSUMPTIONS)


# ------------------------------------------------------------------------------------------- funding gap
@dataclass(frozen=True)
class ContractFundingGap:
    """Result of :func:`funding_gap_from_contracts`: capital still needed to deliver the contracted MW."""

    as_of: dt.date
    per_contract: pd.DataFrame
    short_term_gap_usd: dict[str, float]
    contracted_mw: float
    delivered_mw: float
    published: PublishedComparison
    assumptions: tuple[str, ...]

    @property
    def delivered_share(self) -> float:
        """Delivered / contracted MW, undisclosed delivery counted as none (the share the gap uses)."""
        return self.delivered_mw / self.contracted_mw if self.contracted_mw > 0 else math.nan

    def portfolio_update(self) -> dict[str, float]:
        """Fields for ``hpc.PortfolioSpec.model_copy(update=...)``: the dataset's leased MW and delivered share."""
        return {"leased_it_mw": self.contracted_mw, "delivered_share": self.delivered_share}

    def sources_update(self) -> dict[str, str]:
        """Provenance of :meth:`portfolio_update`'s fields, for a site's ``sources`` (same keys as the template)."""
        n = len(self.per_contract)
        return {
            "portfolio.leased_it_mw": f"fact: critical-IT MW of the {n} contracts in {CONTRACTS_FILE} announced by "
            f"{self.as_of.isoformat()} (the companies' disclosures; replaces the template's implied value)",
            "portfolio.delivered_share": f"fact, lower bound: delivered MW disclosed in {DELIVERIES_FILE} by "
            f"{self.as_of.isoformat()} / contracted MW, a contract without a delivery disclosure counted as "
            "none delivered (VanEck's ~25% stays the published comparison)",
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per contract: undelivered MW, capex per MW used (with its basis), gap."""
        return self.per_contract.copy()

    def summary(self) -> dict[str, Any]:
        """Gap (low/point/high) next to VanEck's ~$50bn short-term and up to $221bn long-term, JSON-ready."""
        p = self.published
        return {
            "as_of": self.as_of.isoformat(),
            "contracted_mw": self.contracted_mw,
            "delivered_mw": self.delivered_mw,
            "undelivered_mw": self.contracted_mw - self.delivered_mw,
            "short_term_gap_usd": self.short_term_gap_usd,
            "vaneck_short_term_gap_usd": p.short_term_gap_usd,
            "vaneck_long_term_need_usd": p.long_term_need_usd,
            "ratio_to_vaneck_short_term": self.short_term_gap_usd["point"] / p.short_term_gap_usd,
            "vaneck_sources": {k: v for k, v in p.sources.items() if "published" in k},
            "capex_basis": sorted(set(self.per_contract["capex_basis"])),
            "assumptions": list(self.assumptions),
        }


def funding_gap_from_contracts(
    capex_usd_per_it_mw: float | None = None,
    as_of: dt.date | str | None = None,
    contracts: pd.DataFrame | None = None,
    deliveries: pd.DataFrame | None = None,
) -> ContractFundingGap:
    """Short-term funding gap of the contracted AI/HPC capacity: undelivered MW x capex per MW (pure).

    Parameters
    ----------
    capex_usd_per_it_mw : float, optional
        Capex per critical-IT MW [USD/MW] for contracts without their own guidance (default: the template's
        ``portfolio.capex_usd_per_it_mw`` with its range for low/high). Contracts with guidance keep it.
    as_of : date or ISO str, optional
        Date of the delivered MW (default: newest date in the data).
    contracts, deliveries : pandas.DataFrame, optional
        Raw frames in the packaged layouts; default: the packaged dataset.
    """
    if capex_usd_per_it_mw is not None and not (
        math.isfinite(capex_usd_per_it_mw) and capex_usd_per_it_mw > 0
    ):
        raise InputError("capex_usd_per_it_mw", capex_usd_per_it_mw, "a finite number > 0")
    con = load_contracts(contracts)
    dlv = load_deliveries(deliveries, con)
    end = _as_date(as_of, _newest_date(con, dlv))
    pub = published_comparison()
    live = con[con["announced_date"] <= end]
    delivered = _delivered_at(live, dlv, end)
    if capex_usd_per_it_mw is None:
        d_lo, d_hi = pub.capex_range_usd_per_it_mw
        d_pt = pub.capex_usd_per_it_mw
        d_basis = "assumption: template default capex per critical-IT MW (hpc_site_template.yaml portfolio)"
    else:
        d_lo = d_pt = d_hi = float(capex_usd_per_it_mw)
        d_basis = "assumption: capex per critical-IT MW given by the user"
    rows: list[dict[str, Any]] = []
    for rec in live.to_dict("records"):
        lo, hi = float(rec["capex_usd_per_it_mw_low"]), float(rec["capex_usd_per_it_mw_high"])
        if math.isnan(lo):
            c_lo, c_pt, c_hi, basis = d_lo, d_pt, d_hi, d_basis
        else:
            c_lo, c_pt, c_hi = lo, (lo + hi) / 2.0, hi
            basis = f"fact: the company's capex guidance ({rec['source_title']}, {rec['source_date']})"
        d = delivered.get(rec["contract_id"], math.nan)
        und = float(rec["it_mw"]) - (0.0 if math.isnan(d) else d)
        rows.append(
            {
                "contract_id": rec["contract_id"],
                "company": rec["company"],
                "it_mw": float(rec["it_mw"]),
                "delivered_mw": d,
                "undelivered_mw": und,
                "capex_usd_per_it_mw": c_pt,
                "capex_basis": basis,
                "gap_low_usd": und * c_lo,
                "gap_usd": und * c_pt,
                "gap_high_usd": und * c_hi,
            }
        )
    per = pd.DataFrame.from_records(rows)
    gap = {
        "low": float(per["gap_low_usd"].sum()),
        "point": float(per["gap_usd"].sum()),
        "high": float(per["gap_high_usd"].sum()),
    }
    contracted = float(per["it_mw"].sum())
    delivered_mw = float(np.nansum(per["delivered_mw"].to_numpy(float)))
    assumptions = (
        *ASSUMPTIONS[:2],
        "assumption: no funding already raised is subtracted (the gap is capex still to be spent)",
        d_basis,
    )
    return ContractFundingGap(end, per, gap, contracted, delivered_mw, pub, assumptions)
