"""A local SEC EDGAR stand-in (127.0.0.1 only): submissions, company facts and filing indexes in the real shapes.

Like www.sec.gov / data.sec.gov it refuses (HTTP 403) a request whose ``User-Agent`` does not declare who is
asking (no e-mail address), and it records every request with its arrival time (``time.monotonic``), so that
tests can check the client's pacing from the server's side.

Shapes (as served by EDGAR, abridged to the fields hashrisk reads plus a few others):

* ``/submissions/CIK##########.json``: ``{"cik": "1507605", "name", "tickers", "filings": {"recent": {column
  arrays}, "files": [{"name", "filingCount", "filingFrom", "filingTo"}]}}``; each extra page
  ``/submissions/<name>`` holds the same column arrays at the top level;
* ``/api/xbrl/companyfacts/CIK##########.json``: ``{"cik": 1507605, "entityName", "facts": {"us-gaap":
  {Concept: {"label", "description", "units": {unit: [{"end", "val", "accn", "fy", "fp", "form", "filed",
  "frame"}]}}}}}``;
* ``/Archives/edgar/data/<cik>/<accession without dashes>/index.json``: ``{"directory": {"item": [{"name",
  "type", "size", "last-modified"}], "name", "parent-dir"}}``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from servers import Reply, Request, RouteServer

FILING_COLUMNS = (
    "accessionNumber",
    "filingDate",
    "reportDate",
    "acceptanceDateTime",
    "act",
    "form",
    "fileNumber",
    "filmNumber",
    "items",
    "size",
    "isXBRL",
    "isInlineXBRL",
    "primaryDocument",
    "primaryDocDescription",
)


@dataclass(frozen=True)
class Filing:
    """One filing of the submissions arrays."""

    accession: str
    filed: str
    form: str
    primary: str
    items: str = ""
    description: str = ""

    def column(self, name: str) -> Any:
        values = {
            "accessionNumber": self.accession,
            "filingDate": self.filed,
            "reportDate": self.filed,
            "acceptanceDateTime": f"{self.filed}T16:05:00.000Z",
            "act": "34",
            "form": self.form,
            "fileNumber": "001-36555",
            "filmNumber": "24000000",
            "items": self.items,
            "size": 123_456,
            "isXBRL": 1,
            "isInlineXBRL": 1,
            "primaryDocument": self.primary,
            "primaryDocDescription": self.description or self.form,
        }
        return values[name]


def filing_columns(filings: list[Filing]) -> dict[str, list[Any]]:
    """The column arrays EDGAR uses for a list of filings (``filings.recent`` or an extra page)."""
    return {name: [f.column(name) for f in filings] for name in FILING_COLUMNS}


def submissions(
    cik: int, name: str, ticker: str, recent: list[Filing], pages: dict[str, list[Filing]]
) -> dict[str, Any]:
    """A submissions document with `recent` filings and extra pages named in ``filings.files``."""
    files = [
        {"name": page, "filingCount": len(fs), "filingFrom": fs[-1].filed, "filingTo": fs[0].filed}
        for page, fs in pages.items()
    ]
    return {
        "cik": str(cik),
        "entityType": "operating",
        "sic": "6199",
        "name": name,
        "tickers": [ticker],
        "exchanges": ["Nasdaq"],
        "fiscalYearEnd": "1231",
        "filings": {"recent": filing_columns(recent), "files": files},
    }


def fact(
    end: str, val: float, accn: str, form: str, filed: str, fy: int, fp: str, **extra: Any
) -> dict[str, Any]:
    """One company-facts entry (``start`` may be passed for a duration)."""
    return {"end": end, "val": val, "accn": accn, "fy": fy, "fp": fp, "form": form, "filed": filed, **extra}


def company_facts(
    cik: int, name: str, concepts: dict[str, dict[str, dict[str, list[dict[str, Any]]]]]
) -> dict[str, Any]:
    """``{"cik", "entityName", "facts": {taxonomy: {Concept: {"label", "description", "units"}}}}``."""
    facts = {
        taxonomy: {
            concept: {"label": concept, "description": f"{concept} (stand-in)", "units": units}
            for concept, units in by_concept.items()
        }
        for taxonomy, by_concept in concepts.items()
    }
    return {"cik": cik, "entityName": name, "facts": facts}


def filing_index(folder: str, names: list[str]) -> dict[str, Any]:
    """A filing folder's ``index.json`` listing `names`."""
    items = [
        {"last-modified": "2025-11-04 16:05:00", "name": n, "type": "text.gif", "size": "12345"}
        for n in names
    ]
    return {"directory": {"item": items, "name": folder, "parent-dir": folder.rsplit("/", 1)[0]}}


class EdgarStandIn:
    """The stand-in server: routes added per company; every request recorded as (path, time, user agent)."""

    def __init__(self) -> None:
        self.server = RouteServer()
        self.log: list[tuple[str, float, str]] = []
        self._lock = threading.Lock()

    def __enter__(self) -> EdgarStandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    def _guard(self, replies: list[Reply]) -> Callable[[Request], Reply]:
        """A handler answering `replies` in turn (the last repeats) to requests with a declared User-Agent."""
        queue = list(replies)

        def handler(request: Request) -> Reply:
            agent = request.headers.get("User-Agent", request.headers.get("user-agent", ""))
            with self._lock:
                self.log.append((request.path, time.monotonic(), agent))
                if "@" not in agent:  # like sec.gov: undeclared automated tools are refused
                    return Reply(
                        403,
                        "<html><body>Your Request Originates from an Undeclared Automated Tool. "
                        "Please declare your traffic by updating your user agent.</body></html>",
                        {"Content-Type": "text/html"},
                    )
                return queue[0] if len(queue) == 1 else queue.pop(0)

        return handler

    def route(self, path: str, *replies: Reply) -> None:
        """Answer `path` with `replies` in turn (the last repeats), behind the User-Agent check."""
        self.server.route(path, self._guard(list(replies)))

    def json(self, path: str, obj: Any) -> None:
        self.route(path, Reply(200, obj))

    def paths(self) -> list[str]:
        return [p for p, _, _ in self.log]

    def times(self) -> list[float]:
        return [t for _, t, _ in self.log]

    def add_company(
        self,
        cik: int,
        name: str,
        ticker: str,
        recent: list[Filing],
        pages: dict[str, list[Filing]],
        concepts: dict[str, dict[str, dict[str, list[dict[str, Any]]]]] | None,
        indexes: dict[str, list[str]],
    ) -> None:
        """Serve a company: submissions (+ pages), company facts (404 when `concepts` is None), indexes."""
        self.json(f"/submissions/CIK{cik:010d}.json", submissions(cik, name, ticker, recent, pages))
        for page, filings in pages.items():
            self.json(f"/submissions/{page}", filing_columns(filings))
        facts_path = f"/api/xbrl/companyfacts/CIK{cik:010d}.json"
        if concepts is None:
            self.route(facts_path, Reply(404, "<html>Not Found</html>", {"Content-Type": "text/html"}))
        else:
            self.json(facts_path, company_facts(cik, name, concepts))
        for accession, names in indexes.items():
            folder = f"/Archives/edgar/data/{cik}/{accession.replace('-', '')}"
            self.json(f"{folder}/index.json", filing_index(folder, names))
