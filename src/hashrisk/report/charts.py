"""Plotly figures of the report (and of the dashboard's server-side pieces). They only draw numbers computed
elsewhere; each function takes library results and returns a ``plotly.graph_objects.Figure``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from hashrisk.analytics.adjustment import AdjustmentInfo
from hashrisk.constants import TH_PER_EH
from hashrisk.economics.cost import CostCurve, ProductionCost
from hashrisk.economics.tornado import METRIC_LABELS, Tornado

PRICE_COLOR = "#d62728"
COST_COLOR = "#1f77b4"
SHOCK_COLORS = ("#1f77b4", "#ff7f0e", "#d62728", "#2ca02c", "#9467bd")
LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "margin": {"l": 70, "r": 30, "t": 60, "b": 50},
    "height": 420,
    "font": {"family": "Helvetica, Arial, sans-serif", "size": 13},
}


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def cost_vs_price(
    cost: ProductionCost, published: Sequence[tuple[str, float]] = (), title: str = ""
) -> go.Figure:
    """Production-cost views as ranges and points against the price line.

    Rows: the CBECI-style basket (lower .. upper, best guess marked), the fleet's electricity-only cost, the
    all-in cost (stacked: electricity, other opex, depreciation), the cost curve's p10 .. p90 (median
    marked), and published estimates given in `published` as (label, USD/BTC).
    """
    s = cost.summary()
    elec = s["electricity_only_usd_per_btc"]
    curve = s["cost_curve"]
    allin = cost.all_in
    fig = go.Figure()
    y_basket = f"electricity-only, CBECI-style basket @ ${cost.power_price_usd_per_kwh:g}/kWh"
    y_fleet = f"electricity-only, fleet @ ${cost.power_price_usd_per_kwh:g}/kWh"
    y_allin = f"all-in, fleet @ ${cost.power_price_usd_per_kwh:g}/kWh"
    y_curve = "cost curve (cohorts' own power prices)"
    fig.add_trace(
        go.Bar(
            y=[y_basket],
            x=[elec["upper"] - elec["lower"]],
            base=[elec["lower"]],
            orientation="h",
            marker_color=_rgba(COST_COLOR, 0.35),
            name="basket lower .. upper",
            hovertemplate="$%{base:,.0f} .. $%{x:,.0f} wide<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            y=[y_basket, y_fleet, y_curve],
            x=[elec["best_guess"], cost.electricity_fleet_usd_per_btc, curve["breakeven_p50_usd"]],
            mode="markers",
            marker={"symbol": "diamond", "size": 13, "color": COST_COLOR},
            name="best guess / fleet / median",
            hovertemplate="$%{x:,.0f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            y=[y_curve],
            x=[curve["breakeven_p90_usd"] - curve["breakeven_p10_usd"]],
            base=[curve["breakeven_p10_usd"]],
            orientation="h",
            marker_color=_rgba("#9467bd", 0.35),
            name="cost curve p10 .. p90",
            hovertemplate="$%{base:,.0f} + $%{x:,.0f}<extra></extra>",
        )
    )
    base = 0.0
    for part, color in (("electricity", "#1f77b4"), ("other_opex", "#17becf"), ("depreciation", "#7f7f7f")):
        fig.add_trace(
            go.Bar(
                y=[y_allin],
                x=[allin[part]],
                base=[base],
                orientation="h",
                marker_color=color,
                name=f"all-in: {part.replace('_', ' ')}",
                hovertemplate=f"{part}: $%{{x:,.0f}}<extra></extra>",
            )
        )
        base += allin[part]
    for label, value in published:
        fig.add_trace(
            go.Scatter(
                y=[label],
                x=[value],
                mode="markers",
                marker={"symbol": "x", "size": 13, "color": "#444"},
                name="published estimate",
                hovertemplate="$%{x:,.0f}<extra></extra>",
            )
        )
    fig.add_vline(
        x=cost.price_usd,
        line={"color": PRICE_COLOR, "width": 2, "dash": "dash"},
        annotation_text=f"BTC ${cost.price_usd:,.0f}",
        annotation_position="top",
    )
    fig.update_layout(
        **LAYOUT,
        title=title or f"Production cost of 1 BTC vs the price, {cost.date}",
        barmode="overlay",
        xaxis_title="USD per BTC",
        xaxis_tickformat="$,.0f",
        legend={"orientation": "h", "y": -0.2},
    )
    fig.update_layout(height=460, margin={"l": 330})
    return fig


def cost_curve(curve: CostCurve, price_usd: float, title: str = "") -> go.Figure:
    """The cost curve as a step chart: breakeven price against cumulative hashrate [EH/s], with the price
    line, the price after a 10% fall, and the hashrate underwater shaded."""
    frame = curve.to_frame()
    eh = frame["hashrate_ths"].to_numpy() / TH_PER_EH
    right = np.cumsum(eh)
    left = right - eh
    be = frame["breakeven_price_usd"].to_numpy()
    x = np.stack([left, right], axis=1).ravel()
    y = np.repeat(be, 2)
    under = be > price_usd
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            mode="lines",
            line={"color": COST_COLOR, "width": 2},
            fill="tozeroy",
            fillcolor=_rgba(COST_COLOR, 0.12),
            name="breakeven (electricity, own power price and PUE)",
            hovertemplate="%{x:,.0f} EH/s: $%{y:,.0f}<extra></extra>",
        )
    )
    if under.any():
        xu = np.stack([left[under], right[under]], axis=1).ravel()
        fig.add_trace(
            go.Scatter(
                x=xu,
                y=np.repeat(be[under], 2),
                mode="lines",
                line={"color": PRICE_COLOR, "width": 3},
                name="underwater at the price",
                hovertemplate="%{x:,.0f} EH/s: $%{y:,.0f}<extra></extra>",
            )
        )
    share = float(curve.share_unprofitable(price_usd))
    fig.add_hline(
        y=price_usd,
        line={"color": PRICE_COLOR, "width": 2, "dash": "dash"},
        annotation_text=f"BTC ${price_usd:,.0f}: {100 * share:.1f}% of hashrate underwater",
        annotation_position="top left",
    )
    fig.add_hline(
        y=0.9 * price_usd,
        line={"color": "#ff7f0e", "width": 1, "dash": "dot"},
        annotation_text=f"-10%: {100 * float(curve.share_unprofitable(0.9 * price_usd)):.1f}% underwater",
        annotation_position="bottom left",
    )
    fig.update_layout(
        **LAYOUT,
        title=title or "Cost curve: hashrate by breakeven BTC price",
        xaxis_title="cumulative hashrate, cheapest first [EH/s]",
        yaxis_title="breakeven BTC price [USD]",
        yaxis_tickformat="$,.0f",
        showlegend=True,
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def fan(
    runs: Sequence[tuple[str, Any]],
    series: str,
    scale: float,
    unit: str,
    title: str,
    start_value: float | None = None,
) -> go.Figure:
    """Quantile fans (p05..p95 band, p25..p75 band, median line) of one simulated `series`, one colour per
    run; `runs` holds (label, SimResult) pairs; values are divided by `scale` for display in `unit`."""
    fig = go.Figure()
    for i, (label, res) in enumerate(runs):
        color = SHOCK_COLORS[i % len(SHOCK_COLORS)]
        dates = [d.isoformat() for d in res.dates]
        q = res.fans[series] / scale
        for lo, hi, alpha in ((0, 4, 0.12), (1, 3, 0.25)):
            fig.add_trace(
                go.Scatter(
                    x=dates + dates[::-1],
                    y=np.concatenate([q[:, hi], q[::-1, lo]]),
                    fill="toself",
                    fillcolor=_rgba(color, alpha),
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=label,
                )
            )
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=q[:, 2],
                mode="lines",
                line={"color": color, "width": 2},
                name=f"{label} (median, p25-p75, p05-p95)",
                legendgroup=label,
                hovertemplate=f"{label} %{{x}}: %{{y:,.1f}} {unit}<extra></extra>",
            )
        )
    if start_value is not None:
        fig.add_hline(y=start_value / scale, line={"color": "#888", "width": 1, "dash": "dot"})
    fig.update_layout(
        **LAYOUT,
        title=title,
        yaxis_title=unit,
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def tornado_chart(
    t: Tornado, metric: str, scale: float = 1.0, fmt: str = "$,.0f", unit: str = ""
) -> go.Figure:
    """Horizontal bars from the low to the high result of each assumption around the base (widest on top)."""
    bars = [b for b in t.ranked(metric) if b.swing(metric) > 0][::-1]
    base = t.base[metric] / scale
    labels = [f"{b.label} [{b.low_value:g} .. {b.high_value:g}]" for b in bars]
    lows = np.array([b.low[metric] for b in bars]) / scale
    highs = np.array([b.high[metric] for b in bars]) / scale
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=labels,
            x=lows - base,
            base=base,
            orientation="h",
            marker_color="#1f77b4",
            name="low setting",
            hovertemplate="%{y}: %{customdata}<extra>low</extra>",
            customdata=[f"{v:{fmt.lstrip('$')}}" for v in lows],
        )
    )
    fig.add_trace(
        go.Bar(
            y=labels,
            x=highs - base,
            base=base,
            orientation="h",
            marker_color="#ff7f0e",
            name="high setting",
            hovertemplate="%{y}: %{customdata}<extra>high</extra>",
            customdata=[f"{v:{fmt.lstrip('$')}}" for v in highs],
        )
    )
    fig.add_vline(x=base, line={"color": "#333", "width": 1})
    fig.update_layout(
        **LAYOUT,
        title=f"What moves the {METRIC_LABELS[metric]}",
        barmode="overlay",
        xaxis_title=unit or METRIC_LABELS[metric],
        xaxis_tickformat=fmt,
        legend={"orientation": "h", "y": -0.25},
    )
    fig.update_layout(height=max(300, 60 + 45 * len(bars)), margin={"l": 430})
    return fig


def adjustment_chart(info: AdjustmentInfo) -> go.Figure:
    """Stored retarget history (last 26 adjustments) with the estimate of the next one and its 90% band."""
    fig = go.Figure()
    e = info.estimate
    if info.history is not None:
        h = info.history.tail(26)
        fig.add_trace(
            go.Bar(
                x=[f"{int(k):,}" for k in h.index],
                y=(h["adjustment"].to_numpy(float) - 1.0) * 100.0,
                marker_color="#7f7f7f",
                name="stored retargets",
                hovertemplate="height %{x}: %{y:+.2f}%<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[f"{info.retarget_height:,}"],
            y=[e.change_pct_p50],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [e.change_pct_p95 - e.change_pct_p50],
                "arrayminus": [e.change_pct_p50 - e.change_pct_p05],
            },
            mode="markers",
            marker={"size": 14, "color": PRICE_COLOR, "symbol": "diamond"},
            name="next retarget: median and 90% band",
            hovertemplate="%{y:+.2f}%<extra>estimate</extra>",
        )
    )
    fig.update_layout(
        **LAYOUT,
        title=f"Difficulty change at height {info.retarget_height:,} (estimate, basis: {info.basis})",
        yaxis_title="difficulty change [%]",
        xaxis_title="first height at the new difficulty",
        xaxis_type="category",
        legend={"orientation": "h", "y": -0.25},
    )
    return fig
