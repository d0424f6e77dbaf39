"""Renderers: a :class:`~hashrisk.report.model.Report` as one self-contained HTML file, or as Markdown with
SVG charts in a folder next to it.

HTML: plotly.js is embedded once, inline (no CDN, no external script or stylesheet; the file works offline).
Every key figure's cell carries ``data-key`` and ``data-value`` (the exact number) next to its display text,
and every section carries ``data-section`` and ``data-status`` (``built`` or ``skipped``), so the report can
be read back by machines.

Markdown: charts are rendered to SVG with kaleido, which drives a local Chrome/Chromium (``BROWSER_PATH``
overrides where it is); without one, :func:`write_markdown` raises a clear :class:`InputError`.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from hashrisk.errors import InputError
from hashrisk.report.model import Chart, Figures, Paragraph, Report, Section, Skipped, Table

CHART_WIDTH_PX = 1000
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; margin: 0;
       background: #fafafa; line-height: 1.5; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 32px 64px; background: #fff; }
header h1 { margin-bottom: 0; font-size: 1.9em; }
header p.subtitle { color: #555; margin-top: 4px; }
nav ol { columns: 2; font-size: 0.95em; }
nav a { color: #1f4e8c; text-decoration: none; }
section { border-top: 1px solid #e3e3e3; padding-top: 8px; margin-top: 28px; }
section h2 { font-size: 1.35em; color: #1f3b5c; }
p.note { color: #555; font-size: 0.92em; border-left: 3px solid #ccc; padding-left: 10px; }
p.skipped-reason { color: #8a5a00; background: #fff6e0; padding: 8px 12px; border-radius: 4px; }
table { border-collapse: collapse; margin: 12px 0 20px; font-size: 0.9em; width: 100%; }
th, td { border-bottom: 1px solid #e6e6e6; padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f3f5f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; font-weight: 600; }
table.figures td:first-child { width: 38%; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 4px 0; color: #333; }
figure { margin: 8px 0 18px; }
figcaption { color: #555; font-size: 0.9em; }
.headline table.figures td.num { font-size: 1.15em; color: #1f3b5c; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _figures_html(block: Figures) -> str:
    rows = "".join(
        f'<tr><td>{_e(f.label)}</td><td class="num" data-key="{_e(f.key)}" data-value="{f.value!r}">'
        f"{_e(f.text)}</td><td>{_e(f.basis)}</td></tr>"
        for f in block.items
    )
    cap = f"<caption>{_e(block.caption)}</caption>" if block.caption else ""
    return (
        f'<table class="figures">{cap}<thead><tr><th>measure</th><th>value</th><th>basis</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _table_html(block: Table) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in block.columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in block.rows)
    cap = f"<caption>{_e(block.caption)}</caption>" if block.caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _chart_html(block: Chart, include_plotlyjs: bool) -> str:
    div = block.figure.to_html(
        full_html=False,
        include_plotlyjs=include_plotlyjs,
        include_mathjax=False,
        config=PLOTLY_CONFIG,
        div_id=f"chart-{block.key}",
        default_height=f"{block.figure.layout.height or 420}px",
    )
    cap = f"<figcaption>{_e(block.caption)}</figcaption>" if block.caption else ""
    return f'<figure data-chart="{_e(block.key)}">{div}{cap}</figure>'


def to_html(report: Report) -> str:
    """The report as one self-contained HTML document (plotly.js inline, no external resources)."""
    parts: list[str] = []
    plotly_included = False
    toc = []
    for s in report.sections:
        status = "built" if isinstance(s, Section) else "skipped"
        toc.append(
            f'<li><a href="#{_e(s.key)}">{_e(s.title)}</a>{" (skipped)" if status == "skipped" else ""}</li>'
        )
        out = [
            f'<section id="{_e(s.key)}" class="{_e(s.key)}" data-section="{_e(s.key)}" data-status="{status}">'
        ]
        out.append(f"<h2>{_e(s.title)}</h2>")
        if isinstance(s, Skipped):
            out.append(f'<p class="skipped-reason">Skipped: {_e(s.reason)}</p>')
        else:
            for b in s.blocks:
                if isinstance(b, Paragraph):
                    out.append(f'<p class="{_e(b.kind)}">{_e(b.text)}</p>')
                elif isinstance(b, Figures):
                    out.append(_figures_html(b))
                elif isinstance(b, Table):
                    out.append(_table_html(b))
                else:
                    out.append(_chart_html(b, include_plotlyjs=not plotly_included))
                    plotly_included = True
        out.append("</section>")
        parts.append("\n".join(out))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="hashrisk">'
        f"<title>{_e(report.title)}</title><style>{CSS}</style></head><body><main>"
        f'<header><h1>{_e(report.title)}</h1><p class="subtitle">{_e(report.subtitle)}</p></header>'
        f"<nav><ol>{''.join(toc)}</ol></nav>" + "\n".join(parts) + "</main></body></html>\n"
    )


# ------------------------------------------------------------------------------------------------ markdown
def find_chrome() -> str | None:
    """A Chrome/Chromium executable kaleido can drive: ``$BROWSER_PATH``, else what choreographer finds."""
    env = os.environ.get("BROWSER_PATH")
    if env:
        return env if os.access(env, os.X_OK) else None
    try:
        from choreographer.browsers.chromium import Chromium
    except ImportError:
        return None
    found: str | None = Chromium.find_browser(skip_local=False)
    return found


def _md_cell(text: object) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_table(columns: tuple[str, ...], rows: list[tuple[str, ...]], caption: str) -> list[str]:
    out = [f"**{_md_cell(caption)}**", ""] if caption else []
    out.append("| " + " | ".join(_md_cell(c) for c in columns) + " |")
    out.append("|" + "|".join("---" for _ in columns) + "|")
    out.extend("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows)
    out.append("")
    return out


def to_markdown(
    report: Report, image_dir_name: str, image_ext: str = "svg"
) -> tuple[str, list[tuple[Chart, str]]]:
    """The Markdown text and the charts to render, as (chart, relative image path) pairs."""
    lines = [f"# {report.title}", "", f"*{report.subtitle}*", ""]
    lines += [f"{i}. [{s.title}](#{s.key.replace('_', '-')})" for i, s in enumerate(report.sections, 1)]
    lines.append("")
    images: list[tuple[Chart, str]] = []
    for s in report.sections:
        lines += [f'<a id="{s.key.replace("_", "-")}"></a>', "", f"## {s.title}", ""]
        if isinstance(s, Skipped):
            lines += [f"*Skipped: {s.reason}*", ""]
            continue
        for b in s.blocks:
            if isinstance(b, Paragraph):
                lines += [f"> {b.text}" if b.kind == "note" else b.text, ""]
            elif isinstance(b, Figures):
                lines += _md_table(
                    ("measure", "value", "basis"), [(f.label, f.text, f.basis) for f in b.items], b.caption
                )
            elif isinstance(b, Table):
                lines += _md_table(b.columns, list(b.rows), b.caption)
            else:
                rel = f"{image_dir_name}/{b.key}.{image_ext}"
                images.append((b, rel))
                lines += [f"![{b.title}]({rel})", ""]
                if b.caption:
                    lines += [f"*{b.caption}*", ""]
    return "\n".join(lines), images


def write_markdown(report: Report, path: Path, image_format: str = "svg") -> list[Path]:
    """Write the report as Markdown at `path` and its charts to ``<stem>_files/`` next to it.

    Returns the files written (the .md first).

    Raises
    ------
    InputError
        If no Chrome/Chromium is available to render the charts, or `image_format` is not svg/png.
    """
    if image_format not in ("svg", "png"):
        raise InputError("image_format", image_format, "svg or png")
    chrome = find_chrome()
    if chrome is None:
        raise InputError(
            "--format",
            "md",
            "html, or md with Chrome/Chromium installed to draw the charts",
            hint="install Chromium (Debian: apt-get install chromium) or set BROWSER_PATH to a Chrome "
            "executable; `--format html` needs no browser",
        )
    folder_name = f"{path.stem}_files"
    text, images = to_markdown(report, folder_name, image_format)
    folder = path.parent / folder_name
    folder.mkdir(parents=True, exist_ok=True)
    written = [path]
    if images:
        import plotly.io as pio

        targets = [folder / Path(rel).name for _, rel in images]
        pio.write_images(
            [c.figure for c, _ in images],
            targets,
            format=image_format,
            width=CHART_WIDTH_PX,
            height=[int(c.figure.layout.height or 420) for c, _ in images],
        )
        written += targets
    path.write_text(text, encoding="utf-8")
    return written
