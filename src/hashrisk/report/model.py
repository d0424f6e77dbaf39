"""The report's building blocks: sections made of key figures, tables, paragraphs and charts.

A section builder (see :mod:`hashrisk.report.sections`) returns either a :class:`Section` or a
:class:`Skipped` naming what input is missing. Renderers (:mod:`hashrisk.report.render`) turn the list into
HTML or Markdown; they never compute numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class KeyFigure:
    """One number of the report, with its display text and basis.

    Attributes
    ----------
    key : str
        Stable identifier (``data-key`` in the HTML), e.g. ``"all_in_usd_per_btc"``.
    label : str
        What it is, in words (unique within the report).
    value : float
        The number in its canonical unit (the unit is in `key`).
    text : str
        The number as displayed.
    basis : str
        How it was obtained / what it assumes.
    """

    key: str
    label: str
    value: float
    text: str
    basis: str = ""


@dataclass(frozen=True)
class Figures:
    """A table of key figures (measure | value | basis)."""

    items: tuple[KeyFigure, ...]
    caption: str = ""


@dataclass(frozen=True)
class Table:
    """A plain table of display strings."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text (rendered escaped); `kind` is ``"text"`` or ``"note"``."""

    text: str
    kind: str = "text"


@dataclass(frozen=True)
class Chart:
    """A plotly figure with a caption (`figure` is a ``plotly.graph_objects.Figure``)."""

    key: str
    title: str
    figure: Any
    caption: str = ""


Block = Figures | Table | Paragraph | Chart


@dataclass(frozen=True)
class Section:
    """A built section of the report."""

    key: str
    title: str
    blocks: tuple[Block, ...]
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def figures(self) -> dict[str, KeyFigure]:
        """Every key figure of the section, by key."""
        return {f.key: f for b in self.blocks if isinstance(b, Figures) for f in b.items}

    @property
    def charts(self) -> list[Chart]:
        """The section's charts, in order."""
        return [b for b in self.blocks if isinstance(b, Chart)]


@dataclass(frozen=True)
class Skipped:
    """A section left out, with the reason (shown in the report in its place)."""

    key: str
    title: str
    reason: str


@dataclass(frozen=True)
class Report:
    """The built report: title, date, and its sections in order."""

    title: str
    subtitle: str
    sections: tuple[Section | Skipped, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def section(self, key: str) -> Section | Skipped:
        """The section with `key` (KeyError when absent)."""
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    @property
    def figures(self) -> dict[str, KeyFigure]:
        """Every key figure of every built section, by key (keys are unique across the report)."""
        out: dict[str, KeyFigure] = {}
        for s in self.sections:
            if isinstance(s, Section):
                out.update(s.figures)
        return out

    def summary(self) -> dict[str, Any]:
        """JSON-ready: sections (built or skipped with the reason) and every key figure's value."""
        return {
            "title": self.title,
            "subtitle": self.subtitle,
            "sections": [
                {"key": s.key, "title": s.title, "built": isinstance(s, Section)}
                | ({"skipped": s.reason} if isinstance(s, Skipped) else {})
                for s in self.sections
            ],
            "figures": {k: (f.value if math.isfinite(f.value) else None) for k, f in self.figures.items()},
            "meta": dict(self.meta),
        }
