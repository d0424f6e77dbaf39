"""Read a written report back (HTML or Markdown) with the standard library only, for the report tests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class ParsedHtml:
    sections: list[tuple[str, str]] = field(default_factory=list)  # (key, status) in order
    figures: dict[str, tuple[float, str]] = field(default_factory=dict)  # key -> (data-value, display text)
    scripts: list[dict[str, str | None]] = field(default_factory=list)
    links: list[dict[str, str | None]] = field(default_factory=list)
    srcs: list[str] = field(default_factory=list)  # every src= attribute (img, iframe, ...)
    charts: list[str] = field(default_factory=list)  # data-chart keys
    skipped_reasons: dict[str, str] = field(default_factory=dict)
    inline_script_chars: int = 0


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = ParsedHtml()
        self._fig: tuple[str, float] | None = None
        self._text: list[str] = []
        self._section: str | None = None
        self._skip_reason = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if "src" in a and a["src"] is not None:
            self.out.srcs.append(a["src"])
        if tag == "script":
            self.out.scripts.append(a)
            self._in_script = True
        elif tag == "link":
            self.out.links.append(a)
        elif tag == "section" and a.get("data-section"):
            self._section = a["data-section"]
            self.out.sections.append((a["data-section"] or "", a.get("data-status") or ""))
        elif tag == "td" and a.get("data-key"):
            self._fig = (a["data-key"] or "", float(a["data-value"] or "nan"))
            self._text = []
        elif tag == "figure" and a.get("data-chart"):
            self.out.charts.append(a["data-chart"] or "")
        elif tag == "p" and a.get("class") == "skipped-reason":
            self._skip_reason = True
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._fig is not None:
            self.out.figures[self._fig[0]] = (self._fig[1], "".join(self._text).strip())
            self._fig = None
        elif tag == "p" and self._skip_reason and self._section is not None:
            self.out.skipped_reasons[self._section] = "".join(self._text).strip()
            self._skip_reason = False
        elif tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._fig is not None or self._skip_reason:
            self._text.append(data)
        if self._in_script:
            self.out.inline_script_chars += len(data)


def parse_html(text: str) -> ParsedHtml:
    """Sections, key figures, scripts, links and charts of a report written as HTML."""
    p = _Parser()
    p.feed(text)
    p.close()
    return p.out


@dataclass
class ParsedMarkdown:
    headings: list[str]
    rows: dict[str, list[str]]  # first cell -> the other cells, over every table
    images: list[str]
    skipped: list[str]


def parse_markdown(text: str) -> ParsedMarkdown:
    """Level-2 headings, table rows (by their first cell), image paths and skipped notes of a Markdown report."""
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            rows[cells[0]] = cells[1:]
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    skipped = re.findall(r"^\*Skipped: (.+)\*$", text, flags=re.M)
    return ParsedMarkdown(headings, rows, images, skipped)
