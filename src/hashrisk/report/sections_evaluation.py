"""Section "How good is the model": the rolling-origin evaluation of the simulator, read from a saved results
file (``hashrisk evaluate --out FILE.csv|.parquet``). The report never runs the evaluation itself (minutes of
simulation); without a file the section is skipped with the command that makes one.

Shows, per mode (on the realised prices / on the price model), the error and coverage of the simulated
difficulty by horizon against persistence and the trend, the scores by regime, and a reliability diagram
(observed against nominal coverage of the central bands; a calibrated forecast lies on the diagonal).
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any, cast

import pandas as pd
import plotly.graph_objects as go

from hashrisk.data.input_file import read_input_file
from hashrisk.report.context import ReportContext
from hashrisk.report.model import Chart, Figures, KeyFigure, Paragraph, Section, Skipped, Table
from hashrisk.sim.evaluate import REGIMES, reliability, summarize

KEY = "evaluation"
TITLE = "How good is the model"
HOW_TO = (
    "no saved evaluation: run `hashrisk evaluate --out evaluation.csv` (about 2-5 minutes for 2016-2025) and "
    "pass the file to the report"
)
REQUIRED = (
    "origin_date",
    "mode",
    "regime",
    "horizon",
    "err_log_pct_simulation",
    "err_log_pct_persistence",
    "err_log_pct_trend",
    "crps_log_pct",
    "in_band50",
    "in_band90",
    "pit",
)
MODE_COLORS = {"conditional": "#1f77b4", "unconditional": "#ff7f0e"}


def read_evaluation(path: str | Path) -> pd.DataFrame:
    """The rows of a saved evaluation (.csv or .parquet).

    Raises
    ------
    ValueError
        Unknown suffix or missing columns (the message names them).
    OSError
        The file cannot be read.
    """
    p = Path(path)
    if p.suffix.lower() not in (".csv", ".parquet"):
        raise ValueError(f"{p}: an evaluation file ends in .csv or .parquet")
    data = io.BytesIO(read_input_file(p, field="--evaluation"))  # a regular file under the size limit
    rows = pd.read_parquet(data) if p.suffix.lower() == ".parquet" else pd.read_csv(data)
    missing = [c for c in REQUIRED if c not in rows.columns]
    if missing:
        raise ValueError(f"{p}: not a `hashrisk evaluate --out` file (missing {', '.join(missing)})")
    for c in ("in_band50", "in_band90"):
        rows[c] = rows[c].map(lambda v: v if isinstance(v, bool) else str(v).lower() == "true")
    return rows


def _f(x: Any, spec: str) -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def reliability_chart(rows: pd.DataFrame) -> go.Figure:
    """Observed coverage of the central bands against their nominal level, one line per mode."""
    rel = reliability(rows)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot", "color": "#888"}, name="calibrated")
    )
    for mode, g in rel.groupby("mode", sort=False):
        fig.add_trace(
            go.Scatter(
                x=g["nominal"],
                y=g["observed"],
                mode="lines+markers",
                name=str(mode),
                line={"color": MODE_COLORS.get(str(mode), "#2ca02c")},
                hovertemplate="nominal %{x:.0%}: observed %{y:.0%}<extra></extra>",
            )
        )
    fig.update_layout(
        template="plotly_white",
        height=420,
        margin={"l": 70, "r": 30, "t": 60, "b": 50},
        title="Reliability of the simulated bands (all horizons)",
        xaxis={"title": "nominal coverage of the central band", "tickformat": ".0%", "range": [0, 1]},
        yaxis={"title": "observed coverage", "tickformat": ".0%", "range": [0, 1]},
    )
    return fig


def evaluation_section(ctx: ReportContext) -> Section | Skipped:
    """The section "How good is the model" from ``ctx.evaluation_file`` (skipped with how to make one if absent)."""
    path = ctx.evaluation_file
    if path is None:
        return Skipped(KEY, TITLE, HOW_TO)
    try:
        rows = read_evaluation(path)
    except (OSError, ValueError) as exc:
        return Skipped(KEY, TITLE, f"cannot read the evaluation file ({exc}); {HOW_TO}")
    if rows.empty:
        return Skipped(KEY, TITLE, f"the evaluation file {path} holds no rows; {HOW_TO}")
    table = summarize(rows)
    blocks: list[Any] = []
    first, last = str(rows["origin_date"].min()), str(rows["origin_date"].max())
    n_origins = rows["origin_date"].nunique()
    blocks.append(
        Paragraph(
            f"From every retarget between {first} and {last} ({n_origins} origins) the simulator forecast the "
            "difficulty of the next retargets using only what was known that day (stored data before it, the "
            "vintage fleet of its month, default behaviour): on the realised prices (conditional) and on the "
            "price model (unconditional, a bootstrap of past returns). Errors are 100 x ln(forecast / real); "
            "persistence keeps the difficulty in force, the trend carries the last six adjustments forward."
        )
    )
    items: list[KeyFigure] = []
    for mode, g in table[table["regime"] == "all"].groupby("mode", sort=False):
        far = g[g["horizon"] == g["horizon"].max()].iloc[0]
        k = int(far["horizon"])
        items.append(
            KeyFigure(
                key=f"{mode}_mae_k{k}",
                label=f"{mode}: mean |error| at retarget {k}",
                value=float(far["mae_log_pct"]),
                text=f"{far['mae_log_pct']:.1f}% (persistence {far['mae_log_pct_persistence']:.1f}%)",
                basis=f"{int(far['n'])} origins",
            )
        )
        items.append(
            KeyFigure(
                key=f"{mode}_coverage90",
                label=f"{mode}: real value inside the 90% band",
                value=float(g["coverage90"].mean()),
                text=f"{g['coverage90'].mean():.0%} (all horizons)",
                basis="nominal 90%",
            )
        )
    blocks.append(Figures(tuple(items), caption="Headline scores of the saved evaluation"))
    for mode, g in table[table["regime"] == "all"].groupby("mode", sort=False):
        blocks.append(
            Table(
                columns=(
                    "retarget",
                    "n",
                    "mean |error|",
                    "RMS",
                    "bias",
                    "50% band",
                    "90% band",
                    "CRPS",
                    "persistence",
                    "trend",
                    "skill vs persistence",
                ),
                rows=tuple(
                    (
                        str(int(r["horizon"])),
                        str(int(r["n"])),
                        f"{_f(r['mae_log_pct'], '.2f')}%",
                        f"{_f(r['rmse_log_pct'], '.2f')}%",
                        f"{_f(r['bias_log_pct'], '+.2f')}%",
                        _f(r["coverage50"], ".0%"),
                        _f(r["coverage90"], ".0%"),
                        _f(r["crps_log_pct"], ".2f"),
                        f"{_f(r['mae_log_pct_persistence'], '.2f')}%",
                        f"{_f(r['mae_log_pct_trend'], '.2f')}%",
                        _f(r["skill_vs_persistence"], "+.0%"),
                    )
                    for r in g.to_dict(orient="records")
                ),
                caption=f"{mode}: error and coverage by horizon (retargets ahead)",
            )
        )
    by_regime = []
    for key, g in table[table["regime"].isin(REGIMES)].groupby(["mode", "regime"], sort=False):
        mode, regime = cast(tuple[str, str], key)
        w = g["n"].to_numpy(dtype=float)
        if w.sum() <= 0:
            continue
        by_regime.append(
            (
                str(mode),
                str(regime),
                str(int(g["n"].max())),
                f"{(g['mae_log_pct'] * w).sum() / w.sum():.2f}%",
                f"{(g['mae_log_pct_persistence'] * w).sum() / w.sum():.2f}%",
                f"{(g['bias_log_pct'] * w).sum() / w.sum():+.2f}%",
                f"{(g['coverage90'] * w).sum() / w.sum():.0%}",
            )
        )
    if by_regime:
        blocks.append(
            Table(
                columns=("mode", "regime", "origins", "mean |error|", "persistence", "bias", "90% band"),
                rows=tuple(by_regime),
                caption="By regime, pooled over horizons: drawdown (close >= 20% below its 1-year high), "
                "halving (±91 days), growth (the rest)",
            )
        )
    blocks.append(
        Chart(
            "evaluation_reliability",
            "Reliability diagram",
            reliability_chart(rows),
            caption="Share of real difficulties inside the central band of each nominal size; below the diagonal "
            "the bands are too narrow.",
        )
    )
    blocks.append(Paragraph(f"Source: {path} (`hashrisk evaluate --out`).", kind="note"))
    return Section(KEY, TITLE, tuple(blocks), data={"scores": table.to_dict(orient="records")})
