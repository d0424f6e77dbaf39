"""SEC EDGAR: listed miners' balance-sheet facts (XBRL company facts) and their production-update filings.

Two EDGAR APIs (US-government data, no key; https://www.sec.gov/os/accessing-edgar-data):

* submissions, ``{base}/submissions/CIK##########.json``: the company (name, tickers) and its filings as
  column arrays under ``filings.recent`` (the latest ~1,000), older ones in the extra pages named in
  ``filings.files`` (``{base}/submissions/<name>``, the same arrays at the top level); every page is read;
* company facts, ``{base}/api/xbrl/companyfacts/CIK##########.json``:
  ``facts.<taxonomy>.<Concept>.units.<unit>[]`` with ``end``, ``val``, ``accn``, ``fy``, ``fp``, ``form``,
  ``filed`` and ``frame`` (and ``start`` for durations).

The SEC requires a descriptive ``User-Agent`` (a name and an e-mail address) and at most 10 requests per second
per user: :func:`check_user_agent` refuses to run without one (``--user-agent`` or ``HASHRISK_SEC_USER_AGENT``),
and one client with a sliding-window limit of :data:`SEC_RATE_LIMIT` (8 per second, a margin under the SEC's
10) serves every request, retries included (429 and 5xx are retried, honouring ``Retry-After``).

Extracted concepts (:data:`CONCEPTS`; instants only, per period end):

========  ==============================================================================================
group     concepts
========  ==============================================================================================
crypto    us-gaap ``CryptoAssetNumberOfUnits``, ``CryptoAssetFairValue``, ``CryptoAssetFairValueCurrent``,
          ``CryptoAssetFairValueNoncurrent``, ``CryptoAssetCost`` (ASU 2023-08, US GAAP taxonomy 2024 on)
cash      us-gaap ``CashAndCashEquivalentsAtCarryingValue``,
          ``CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalents``; ifrs-full ``CashAndCashEquivalents``
debt      us-gaap ``LongTermDebt``, ``LongTermDebtCurrent``, ``LongTermDebtNoncurrent``,
          ``ConvertibleNotesPayable``, ``ConvertibleNotesPayableCurrent``, ``ConvertibleLongTermNotesPayable``,
          ``ConvertibleDebtNoncurrent``, ``DebtCurrent``, ``NotesPayable``; ifrs-full ``Borrowings``,
          ``CurrentBorrowingsAndCurrentPortionOfNoncurrentBorrowings``, ``NoncurrentPortionOfNoncurrentBorrowings``
========  ==============================================================================================

Limits of the company-facts API, stated rather than papered over: it carries only facts *without dimensions*
and only standard taxonomies (us-gaap, ifrs-full, dei, srt). A bitcoin count tagged only per crypto asset
(``CryptoAssetAxis``), or with a company's own concept (``mara:...``, pre-2024 "digital assets"), is not in it:
such a concept is reported **missing**, never zero. IFRS filers (Bitfarms, Bitdeer, IREN's 20-F years) have
no crypto-asset concept in ifrs-full. Facts whose period ends before the genesis block (2009-01-03; a shell's
history under the same CIK) are dropped: the store's days start there.

When a period end is reported in several filings (a 10-Q, then as the comparative of the next 10-K), the
latest filing wins (then the larger accession number): restated values replace earlier ones.

Production updates: recent 8-K (items 7.01/8.01 or a press-release exhibit) and 6-K filings are listed as links
(form, filing date, accession, primary document, and exhibit 99.1 when the filing's ``index.json`` lists a
file named like one), returned in the report, never stored as figures.

Nothing here touches the store: :func:`get_edgar` returns rows for the ``miners`` table
(:data:`hashrisk.data.schema.MINERS`) and the report; :func:`hashrisk.data.sync.fetch` writes them.
:func:`edgar_holdings` turns stored rows into one row per company and period end.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

import numpy as np
import pandas as pd

from hashrisk.chain.subsidy import GENESIS_DATE
from hashrisk.data.http import (
    HttpClient,
    HttpOptions,
    HttpStatusError,
    PayloadError,
    RateLimiter,
    field_float,
    field_int,
    field_str,
    require_list,
    require_mapping,
    source_meta,
)
from hashrisk.errors import InputError

__all__ = [
    "CIK_TABLE_FILE",
    "CONCEPTS",
    "DEFAULT_ARCHIVES_URL",
    "DEFAULT_BASE_URL",
    "HOLDINGS_COLUMNS",
    "SEC_RATE_LIMIT",
    "SOURCE",
    "USER_AGENT_ENV",
    "Concept",
    "check_user_agent",
    "edgar_holdings",
    "fact_id",
    "get_edgar",
    "load_ciks",
    "parse_company_facts",
    "resolve_companies",
]

SOURCE: Final = "edgar"
DEFAULT_BASE_URL: Final = "https://data.sec.gov"
"""Root of the submissions and company-facts APIs."""
DEFAULT_ARCHIVES_URL: Final = "https://www.sec.gov"
"""Root of the filing archives (``/Archives/edgar/data/<cik>/<accession>/...``)."""
SEC_RATE_LIMIT: Final = (8, 1.0)
"""Client-side limit: 8 requests in any 1 s window (the SEC allows at most 10 per second per user)."""
USER_AGENT_ENV: Final = "HASHRISK_SEC_USER_AGENT"
CIK_TABLE_FILE: Final = "edgar_ciks.csv"
LICENSE: Final = "SEC EDGAR: US-government data (public domain); https://www.sec.gov/privacy#dissemination"
RECENT_LINKS: Final = 6
"""Production-update links listed per company by default (one ``index.json`` request each)."""
MAX_PAGES: Final = 50
"""Most extra submissions pages read per company (EDGAR has a handful even for old filers)."""

_EXHIBIT_99_1 = re.compile(r"ex(hibit)?[-_ ]?99[-_.]?0?1(?!\d)", re.IGNORECASE)
_PRODUCTION_ITEMS = ("7.01", "8.01")


@dataclass(frozen=True)
class Concept:
    """One extracted XBRL concept: taxonomy, name and group (``crypto``, ``cash`` or ``debt``)."""

    taxonomy: str
    name: str
    group: str

    @property
    def qname(self) -> str:
        """``taxonomy:Name`` (the ``concept`` column of the ``miners`` table)."""
        return f"{self.taxonomy}:{self.name}"


def _concepts(taxonomy: str, group: str, names: str) -> tuple[Concept, ...]:
    return tuple(Concept(taxonomy, n, group) for n in names.split())


CONCEPTS: Final[tuple[Concept, ...]] = (
    *_concepts(
        "us-gaap",
        "crypto",
        "CryptoAssetNumberOfUnits CryptoAssetFairValue CryptoAssetFairValueCurrent "
        "CryptoAssetFairValueNoncurrent CryptoAssetCost",
    ),
    *_concepts(
        "us-gaap",
        "cash",
        "CashAndCashEquivalentsAtCarryingValue CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalents",
    ),
    *_concepts("ifrs-full", "cash", "CashAndCashEquivalents"),
    *_concepts(
        "us-gaap",
        "debt",
        "LongTermDebt LongTermDebtCurrent LongTermDebtNoncurrent ConvertibleNotesPayable "
        "ConvertibleNotesPayableCurrent ConvertibleLongTermNotesPayable ConvertibleDebtNoncurrent DebtCurrent "
        "NotesPayable",
    ),
    *_concepts(
        "ifrs-full",
        "debt",
        "Borrowings CurrentBorrowingsAndCurrentPortionOfNoncurrentBorrowings "
        "NoncurrentPortionOfNoncurrentBorrowings",
    ),
)
"""Every concept read from company facts (see the module docstring)."""

HOLDINGS_COLUMNS: Final = (
    "btc_units",
    "crypto_fair_value_usd",
    "crypto_cost_usd",
    "cash_usd",
    "debt_usd",
)


# ---------------------------------------------------------------------------------------------- inputs
def check_user_agent(user_agent: str | None) -> str:
    """The User-Agent to send to EDGAR: `user_agent`, else ``$HASHRISK_SEC_USER_AGENT``; refused if not descriptive.

    The SEC asks automated clients to declare who they are: a name and an e-mail address
    (``"Jane Doe jane@example.com"``). Never empty.

    Raises
    ------
    InputError
        Naming ``--user-agent`` when none is given, or it has no e-mail address or is not printable ASCII.
    """
    value = user_agent if user_agent is not None else os.environ.get(USER_AGENT_ENV)
    allowed = (
        'a descriptive User-Agent with your name and e-mail address, e.g. "Jane Doe jane@example.com" '
        f"(SEC EDGAR refuses anonymous clients); pass --user-agent or set {USER_AGENT_ENV}"
    )
    if value is None or not value.strip():
        raise InputError("--user-agent", "(none)", allowed)
    text = " ".join(value.split())
    if not text.isascii() or not text.isprintable() or len(text) > 200:
        raise InputError("--user-agent", value, allowed)
    if not re.search(r"[^@\s]+@[^@\s]+\.[^@\s]+", text) or len(text.split()) < 2:
        raise InputError("--user-agent", value, allowed)
    return text


def _cik(value: Any, field: str = "--company") -> int:
    text = str(value).strip().upper().removeprefix("CIK")
    if not text.isdigit() or not 0 < int(text) < 10**10:
        raise InputError(field, value, "a ticker of the packaged table or a CIK of 1 to 10 digits")
    return int(text)


def load_ciks() -> pd.DataFrame:
    """The packaged ticker -> CIK table (``hashrisk/data/edgar_ciks.csv``), one row per company.

    Returns
    -------
    pandas.DataFrame
        Columns ``ticker``, ``cik`` (int), ``name``, ``forms``, ``submissions_url``, ``evidence_url``, ``note``.
    """
    text = resources.files("hashrisk.data").joinpath(CIK_TABLE_FILE).read_text(encoding="utf-8")
    frame = pd.read_csv(io.StringIO(text), comment="#", dtype=str, keep_default_na=False)
    frame["cik"] = frame["cik"].map(lambda v: _cik(v, f"{CIK_TABLE_FILE}: cik"))
    return frame


def resolve_companies(companies: Sequence[str] | None = None) -> list[tuple[str | None, int]]:
    """``(ticker or None, cik)`` for each of `companies` (tickers of the packaged table or CIKs); all if None.

    Raises
    ------
    InputError
        A value that is neither a packaged ticker nor a CIK (the message lists the tickers).
    """
    table = load_ciks()
    by_ticker = dict(zip(table["ticker"].str.upper(), table["cik"], strict=True))
    by_cik = {cik: t for t, cik in by_ticker.items()}
    if not companies:
        return list(by_ticker.items())
    out: list[tuple[str | None, int]] = []
    for raw in companies:
        key = str(raw).strip().upper()
        if key in by_ticker:
            item: tuple[str | None, int] = (key, by_ticker[key])
        elif key.removeprefix("CIK").isdigit():
            cik = _cik(key)
            item = (by_cik.get(cik), cik)
        else:
            raise InputError(
                "--company", raw, f"a ticker of the packaged table ({', '.join(by_ticker)}) or a CIK (digits)"
            )
        if item not in out:
            out.append(item)
    return out


def fact_id(cik: int, concept: str, period_end: str, unit: str) -> str:
    """The ``miners`` key of one fact: ``CIK(10 digits):taxonomy:Concept:YYYY-MM-DD:unit``."""
    return f"{int(cik):010d}:{concept}:{period_end}:{unit}"


# ---------------------------------------------------------------------------------------------- parsing
def _date_text(value: Any, url: str, record: str) -> str:
    if not isinstance(value, str):
        raise PayloadError(SOURCE, url, record, f"expected a date YYYY-MM-DD, got {value!r}")
    try:
        return dt.date.fromisoformat(value.strip()[:10]).isoformat()
    except ValueError:
        raise PayloadError(SOURCE, url, record, f"expected a date YYYY-MM-DD, got {value!r}") from None


def parse_company_facts(
    payload: Any, url: str, cik: int, since: dt.date | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Rows for the ``miners`` table from one company-facts document, and what was found.

    Parameters
    ----------
    payload : Any
        The decoded JSON (``{"cik", "entityName", "facts": {taxonomy: {Concept: {"units": {...}}}}}``).
    url : str
        Where it came from (errors).
    cik : int
        The company asked for; the document's ``cik`` must match.
    since : date, optional
        Keep period ends on or after this day.

    Returns
    -------
    rows : pandas.DataFrame
        Columns of :data:`hashrisk.data.schema.MINERS` (``fact`` first); one row per (concept, period end,
        unit), the latest filing's value.
    info : dict
        ``found`` / ``missing`` (concept names of :data:`CONCEPTS`), ``entity`` (name), ``skipped``
        (``{"durations": n, "before_genesis": n}``).

    Raises
    ------
    PayloadError
        A document not in the documented shape (named by record).
    """
    doc = require_mapping(payload, SOURCE, url, "<body>")
    doc_cik = field_int(doc, "cik", SOURCE, url, "<body>")
    if doc_cik != cik:
        raise PayloadError(SOURCE, url, "<body>.cik", f"expected CIK {cik}, got {doc_cik}")
    facts = require_mapping(doc.get("facts", {}), SOURCE, url, "facts")
    rows: dict[str, dict[str, Any]] = {}
    found: list[str] = []
    skipped = {"durations": 0, "before_genesis": 0, "before_since": 0}
    genesis = GENESIS_DATE.isoformat()
    for concept in CONCEPTS:
        taxonomy = require_mapping(facts.get(concept.taxonomy, {}), SOURCE, url, f"facts.{concept.taxonomy}")
        if concept.name not in taxonomy:
            continue
        where = f"facts.{concept.qname}"
        node = require_mapping(taxonomy[concept.name], SOURCE, url, where)
        units = require_mapping(node.get("units"), SOURCE, url, f"{where}.units")
        kept = 0
        for unit, items in units.items():
            for i, item in enumerate(require_list(items, SOURCE, url, f"{where}.units.{unit}")):
                record = f"{where}.units.{unit}[{i}]"
                obj = require_mapping(item, SOURCE, url, record)
                if obj.get("start") is not None:
                    skipped["durations"] += 1
                    continue
                end = _date_text(obj.get("end"), url, f"{record}.end")
                if end < genesis:
                    skipped["before_genesis"] += 1
                    continue
                if since is not None and end < since.isoformat():
                    skipped["before_since"] += 1
                    continue
                value = field_float(obj, "val", SOURCE, url, record)
                if value is None or not np.isfinite(value):
                    raise PayloadError(
                        SOURCE, url, f"{record}.val", f"expected a finite number, got {value!r}"
                    )
                row: dict[str, Any] = {
                    "fact": fact_id(cik, concept.qname, end, str(unit)),
                    "cik": cik,
                    "concept": concept.qname,
                    "period_end": end,
                    "unit": str(unit),
                    "value": value,
                    "form": field_str(obj, "form", SOURCE, url, record),
                    "filed": _date_text(obj.get("filed"), url, f"{record}.filed"),
                    "fiscal_year": field_int(obj, "fy", SOURCE, url, record, optional=True),
                    "fiscal_period": field_str(obj, "fp", SOURCE, url, record, optional=True),
                    "accession": field_str(obj, "accn", SOURCE, url, record),
                    "frame": field_str(obj, "frame", SOURCE, url, record, optional=True),
                }
                kept += 1
                key = str(row["fact"])
                old = rows.get(key)
                if old is None or (row["filed"], row["accession"]) > (old["filed"], old["accession"]):
                    rows[key] = row
        if kept:
            found.append(concept.qname)
    columns = [
        "fact",
        "cik",
        "concept",
        "period_end",
        "unit",
        "value",
        "form",
        "filed",
        "fiscal_year",
        "fiscal_period",
        "accession",
        "frame",
    ]
    frame = pd.DataFrame(list(rows.values()), columns=columns)
    frame = frame.sort_values(["concept", "period_end", "unit"], kind="stable").reset_index(drop=True)
    info = {
        "entity": doc.get("entityName"),
        "found": found,
        "missing": [c.qname for c in CONCEPTS if c.qname not in found],
        "skipped": skipped,
    }
    return frame, info


_FILING_FIELDS = ("accessionNumber", "filingDate", "form", "primaryDocument")


def _filing_columns(page: Any, url: str, record: str) -> list[dict[str, Any]]:
    """One dict per filing from a submissions page's column arrays (all of equal length)."""
    cols = require_mapping(page, SOURCE, url, record)
    n: int | None = None
    arrays: dict[str, list[Any]] = {}
    for name in (*_FILING_FIELDS, "items", "primaryDocDescription"):
        if name not in cols:
            if name in _FILING_FIELDS:
                raise PayloadError(SOURCE, url, f"{record}.{name}", "field is missing")
            continue
        arrays[name] = require_list(cols[name], SOURCE, url, f"{record}.{name}")
        if n is None:
            n = len(arrays[name])
        elif len(arrays[name]) != n:
            raise PayloadError(
                SOURCE, url, f"{record}.{name}", f"has {len(arrays[name])} entries, accessionNumber has {n}"
            )
    return [{k: v[i] for k, v in arrays.items()} for i in range(n or 0)]


def _production_candidate(filing: Mapping[str, Any]) -> bool:
    form = str(filing.get("form", ""))
    if form == "6-K":
        return True
    if form != "8-K":
        return False
    items = str(filing.get("items") or "")
    return any(item in items for item in _PRODUCTION_ITEMS)


def _archive_folder(archives_url: str, cik: int, accession: str) -> str:
    return f"{archives_url.rstrip('/')}/Archives/edgar/data/{cik}/{accession.replace('-', '')}"


# ---------------------------------------------------------------------------------------------- fetching
def _client(user_agent: str, base_url: str, options: HttpOptions | None) -> HttpClient:
    """One client for every EDGAR host: the User-Agent on every request and the SEC rate limit."""
    opts = options or HttpOptions()
    limit = opts.rate_limit if opts.rate_limit is not None else SEC_RATE_LIMIT
    return HttpClient(
        base_url,
        source=SOURCE,
        timeout_s=opts.timeout_s,
        headers={"User-Agent": user_agent},
        retry=opts.retry,
        rate_limiter=RateLimiter(limit[0], limit[1], clock=opts.clock, sleep=opts.sleep),
        rng=opts.rng,
        sleep=opts.sleep,
        wall_clock=opts.wall_clock,
        transport=opts.transport,
    )


def _submissions(
    http: HttpClient, base_url: str, cik: int, urls: list[str]
) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """(company header, every filing from ``recent`` and the extra pages, number of extra pages)."""
    url = f"{base_url}/submissions/CIK{cik:010d}.json"
    urls.append(url)
    doc = require_mapping(http.get_json(url), SOURCE, url, "<body>")
    doc_cik = field_int(doc, "cik", SOURCE, url, "<body>")
    if doc_cik != cik:
        raise PayloadError(SOURCE, url, "<body>.cik", f"expected CIK {cik}, got {doc_cik}")
    filings_node = require_mapping(doc.get("filings"), SOURCE, url, "filings")
    filings = _filing_columns(filings_node.get("recent"), url, "filings.recent")
    pages = require_list(filings_node.get("files", []), SOURCE, url, "filings.files")
    if len(pages) > MAX_PAGES:
        raise PayloadError(SOURCE, url, "filings.files", f"{len(pages)} pages, more than {MAX_PAGES}")
    for i, page in enumerate(pages):
        name = field_str(require_mapping(page, SOURCE, url, f"filings.files[{i}]"), "name", SOURCE, url, "")
        if not name or "/" in name or not name.endswith(".json"):
            raise PayloadError(
                SOURCE, url, f"filings.files[{i}].name", f"expected a .json file name, got {name!r}"
            )
        page_url = f"{base_url}/submissions/{name}"
        urls.append(page_url)
        filings.extend(_filing_columns(http.get_json(page_url), page_url, "<body>"))
    header = {
        "name": doc.get("name"),
        "tickers": [str(t) for t in doc.get("tickers") or []],
        "fiscal_year_end": doc.get("fiscalYearEnd"),
    }
    return header, filings, len(pages)


def _exhibit(http: HttpClient, folder: str, urls: list[str]) -> str | None:
    """URL of the exhibit 99.1 file in a filing folder's ``index.json``, or None when none is listed."""
    url = f"{folder}/index.json"
    urls.append(url)
    try:
        doc = require_mapping(http.get_json(url), SOURCE, url, "<body>")
    except HttpStatusError as exc:
        if exc.status == 404:
            return None
        raise
    directory = require_mapping(doc.get("directory"), SOURCE, url, "directory")
    for i, item in enumerate(require_list(directory.get("item", []), SOURCE, url, "directory.item")):
        name = field_str(require_mapping(item, SOURCE, url, f"directory.item[{i}]"), "name", SOURCE, url, "")
        if name and _EXHIBIT_99_1.search(name) and name.lower().endswith((".htm", ".html", ".txt", ".pdf")):
            return f"{folder}/{name}"
    return None


def get_edgar(
    companies: Sequence[str] | None = None,
    *,
    user_agent: str | None = None,
    since: dt.date | None = None,
    base_url: str = DEFAULT_BASE_URL,
    archives_url: str | None = None,
    links: int = RECENT_LINKS,
    options: HttpOptions | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fetch listed miners' XBRL facts and recent production-update filings from SEC EDGAR (no store access).

    Parameters
    ----------
    companies : sequence of str, optional
        Tickers of the packaged table (:func:`load_ciks`) or CIKs; default: every packaged company.
    user_agent : str, optional
        Descriptive User-Agent (name and e-mail); default ``$HASHRISK_SEC_USER_AGENT`` (required).
    since : date, optional
        Keep facts with a period end, and links with a filing date, on or after this day.
    base_url : str, optional
        Root of the submissions and company-facts APIs.
    archives_url : str, optional
        Root of the filing archives; default `DEFAULT_ARCHIVES_URL`, or `base_url` when that is not the SEC's.
    links : int, optional
        Production-update filings listed per company (most recent first; one request each for exhibit 99.1).
    options : HttpOptions, optional
        Timeouts, retries, sleep/clock; ``rate_limit`` replaces :data:`SEC_RATE_LIMIT` (never raise it).

    Returns
    -------
    rows : pandas.DataFrame
        Rows for the ``miners`` table (see :func:`parse_company_facts`), every company together.
    report : dict
        ``companies`` (per company: ``ticker``, ``cik``, ``name``, ``filings``, ``submission_pages``,
        ``facts`` (rows), ``found``, ``missing``, ``skipped``, ``links``) and the `source_meta` provenance.

    Raises
    ------
    InputError
        No or a non-descriptive User-Agent; an unknown company.
    DataError
        HTTP errors after retries (403: the SEC refused the request), malformed or truncated JSON
        (`PayloadError`). Nothing is returned, so nothing is stored.
    """
    agent = check_user_agent(user_agent)
    if isinstance(links, bool) or not isinstance(links, int) or links < 0:
        raise InputError("links", links, "a whole number >= 0 of filings per company")
    targets = resolve_companies(companies)
    base = base_url.rstrip("/")
    if archives_url is None:
        archives_url = DEFAULT_ARCHIVES_URL if base == DEFAULT_BASE_URL else base
    urls: list[str] = []
    frames: list[pd.DataFrame] = []
    reports: list[dict[str, Any]] = []
    http = _client(agent, base, options)
    try:
        for ticker, cik in targets:
            header, filings, pages = _submissions(http, base, cik, urls)
            facts_url = f"{base}/api/xbrl/companyfacts/CIK{cik:010d}.json"
            urls.append(facts_url)
            try:
                payload: Any = http.get_json(facts_url)
            except HttpStatusError as exc:
                if exc.status != 404:
                    raise
                payload = {"cik": cik, "entityName": header["name"], "facts": {}}  # no XBRL facts at all
            rows, info = parse_company_facts(payload, facts_url, cik, since)
            frames.append(rows)
            candidates = [
                f
                for f in filings
                if _production_candidate(f) and (since is None or str(f["filingDate"]) >= since.isoformat())
            ]
            candidates.sort(key=lambda f: (str(f["filingDate"]), str(f["accessionNumber"])), reverse=True)
            listed = []
            for f in candidates[:links]:
                accession = str(f["accessionNumber"])
                folder = _archive_folder(archives_url, cik, accession)
                listed.append(
                    {
                        "form": f["form"],
                        "filed": str(f["filingDate"]),
                        "accession": accession,
                        "items": f.get("items") or None,
                        "description": f.get("primaryDocDescription") or None,
                        "primary_document_url": f"{folder}/{f['primaryDocument']}",
                        "exhibit_99_1_url": _exhibit(http, folder, urls),
                    }
                )
            reports.append(
                {
                    "ticker": ticker or next(iter(header["tickers"]), None),
                    "cik": cik,
                    "name": header["name"] or info["entity"],
                    "filings": len(filings),
                    "submission_pages": pages + 1,
                    "facts": len(rows),
                    "found": info["found"],
                    "missing": info["missing"],
                    "skipped": info["skipped"],
                    "links": listed,
                }
            )
        meta = source_meta(SOURCE, urls, http, license=LICENSE, user_agent=agent)
    finally:
        http.close()
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    meta["companies"] = reports
    return frame, meta


# ---------------------------------------------------------------------------------------------- holdings
def _first(wide: pd.DataFrame, names: Sequence[str]) -> tuple[pd.Series, pd.Series]:
    """Per row, the first non-missing of columns `names` and the name it came from (NaN / None if none)."""
    value = pd.Series(np.nan, index=wide.index, dtype="float64")
    source = pd.Series(None, index=wide.index, dtype=object)
    for name in names:
        if name not in wide.columns:
            continue
        take = value.isna() & wide[name].notna()
        value = value.mask(take, wide[name])
        source = source.mask(take, name)
    return value, source


def _qname(name: str) -> str:
    return f"ifrs-full:{name[5:]}" if name.startswith("ifrs_") else f"us-gaap:{name}"


def _sum_both(wide: pd.DataFrame, a: str, b: str) -> pd.Series:
    if a not in wide.columns or b not in wide.columns:
        return pd.Series(np.nan, index=wide.index, dtype="float64")
    return wide[a] + wide[b]  # NaN unless both are reported


def edgar_holdings(rows: pd.DataFrame) -> pd.DataFrame:
    """Stored ``miners`` rows -> one row per company (CIK) and period end: BTC, crypto value, cash, debt.

    Pure: pass the rows as read from the store (``SELECT * FROM miners``) or as :func:`get_edgar` returns
    them. Only USD amounts enter the money columns (other currencies stay in the long rows); a value no
    concept reports stays NaN, never zero. Rules, first available wins (the ``*_concept`` columns name it)::

        btc_units              CryptoAssetNumberOfUnits (any non-currency unit; the filer's count)
        crypto_fair_value_usd  CryptoAssetFairValue; CryptoAssetFairValueCurrent + ...Noncurrent (both
                               reported); ...Current; ...Noncurrent
        crypto_cost_usd        CryptoAssetCost
        cash_usd               CashAndCashEquivalentsAtCarryingValue; ifrs CashAndCashEquivalents;
                               CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalents
        debt_usd               LongTermDebt; LongTermDebtCurrent + LongTermDebtNoncurrent (both);
                               LongTermDebtNoncurrent; ConvertibleNotesPayable; ConvertibleLongTermNotesPayable;
                               ConvertibleDebtNoncurrent; ifrs Borrowings; ifrs current + noncurrent
                               borrowings (both)

    Parameters
    ----------
    rows : pandas.DataFrame
        Columns ``cik``, ``concept`` (``taxonomy:Name``), ``period_end``, ``unit``, ``value`` (others ignored).

    Returns
    -------
    pandas.DataFrame
        Index (``cik``, ``period_end``) (period end as a Timestamp), columns :data:`HOLDINGS_COLUMNS` and
        ``<column>_concept`` for each; sorted.
    """
    need = {"cik", "concept", "period_end", "unit", "value"}
    if not isinstance(rows, pd.DataFrame) or not need <= set(rows.columns):
        raise InputError("rows", type(rows).__name__, f"a DataFrame with columns {sorted(need)}")
    out_cols = [c for name in HOLDINGS_COLUMNS for c in (name, f"{name}_concept")]
    if rows.empty:
        index = pd.MultiIndex.from_arrays([[], pd.DatetimeIndex([])], names=["cik", "period_end"])
        return pd.DataFrame(columns=out_cols, index=index)
    data = rows.loc[:, list(need)].copy()
    data["cik"] = data["cik"].astype("int64")
    data["period_end"] = pd.to_datetime(data["period_end"])
    data["name"] = data["concept"].astype(str).str.split(":").str[-1]
    data.loc[data["concept"].astype(str).str.startswith("ifrs-full:"), "name"] = "ifrs_" + data["name"]
    keep = data["unit"].astype(str).eq("USD") | data["name"].eq("CryptoAssetNumberOfUnits")
    data = data.loc[keep]
    if data.empty:
        return edgar_holdings(rows.iloc[0:0])
    wide = data.pivot_table(index=["cik", "period_end"], columns="name", values="value", aggfunc="last")
    wide["_fv_both"] = _sum_both(wide, "CryptoAssetFairValueCurrent", "CryptoAssetFairValueNoncurrent")
    wide["_ltd_both"] = _sum_both(wide, "LongTermDebtCurrent", "LongTermDebtNoncurrent")
    wide["_ifrs_both"] = _sum_both(
        wide,
        "ifrs_CurrentBorrowingsAndCurrentPortionOfNoncurrentBorrowings",
        "ifrs_NoncurrentPortionOfNoncurrentBorrowings",
    )
    rules = {
        "btc_units": ["CryptoAssetNumberOfUnits"],
        "crypto_fair_value_usd": [
            "CryptoAssetFairValue",
            "_fv_both",
            "CryptoAssetFairValueCurrent",
            "CryptoAssetFairValueNoncurrent",
        ],
        "crypto_cost_usd": ["CryptoAssetCost"],
        "cash_usd": [
            "CashAndCashEquivalentsAtCarryingValue",
            "ifrs_CashAndCashEquivalents",
            "CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalents",
        ],
        "debt_usd": [
            "LongTermDebt",
            "_ltd_both",
            "LongTermDebtNoncurrent",
            "ConvertibleNotesPayable",
            "ConvertibleLongTermNotesPayable",
            "ConvertibleDebtNoncurrent",
            "ifrs_Borrowings",
            "_ifrs_both",
        ],
    }
    labels = {
        "_fv_both": "us-gaap:CryptoAssetFairValueCurrent+CryptoAssetFairValueNoncurrent",
        "_ltd_both": "us-gaap:LongTermDebtCurrent+LongTermDebtNoncurrent",
        "_ifrs_both": "ifrs-full:CurrentBorrowingsAndCurrentPortionOfNoncurrentBorrowings"
        "+NoncurrentPortionOfNoncurrentBorrowings",
    }
    out = pd.DataFrame(index=wide.index)
    for column, names in rules.items():
        value, source = _first(wide, names)
        out[column] = value
        out[f"{column}_concept"] = source.map(
            lambda n: labels.get(n, _qname(n)) if isinstance(n, str) else None
        )
    out = out.loc[:, out_cols].sort_index()
    out.index = out.index.set_names(["cik", "period_end"])
    return out
