"""The desk report: headline, mechanism, counterpoints, what remains uncertain, provenance.

Build it from a context (:func:`load_context` reads the snapshot and the store) with :func:`build_report`,
then render it with :func:`write_report` (HTML, self-contained) or as Markdown with SVG/PNG charts::

    >>> from hashrisk.report import build_report, load_context, write_report
    >>> report = build_report(load_context())                    # doctest: +SKIP
    >>> write_report(report, "report.html")                      # doctest: +SKIP

Sections are independent builders (:data:`hashrisk.report.sections.SECTIONS`): each returns a
:class:`Section` or a :class:`Skipped` with the reason, shown in its place.
"""

from __future__ import annotations

from hashrisk.report.build import build_report, write_report
from hashrisk.report.context import ReportContext, load_context
from hashrisk.report.model import Chart, Figures, KeyFigure, Paragraph, Report, Section, Skipped, Table

__all__ = [
    "Chart",
    "Figures",
    "KeyFigure",
    "Paragraph",
    "Report",
    "ReportContext",
    "Section",
    "Skipped",
    "Table",
    "build_report",
    "load_context",
    "write_report",
]
