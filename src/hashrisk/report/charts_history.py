"""Plotly figures of the History section: each draws columns of
:attr:`hashrisk.analytics.tracking.History.frame` (thinned for display by the caller) and, where useful, the
History's retargets and capitulation spans. They draw numbers computed elsewhere and compute none."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from hashrisk.constants import TH_PER_EH
from hashrisk.report.charts import COST_COLOR, LAYOUT, PRICE_COLOR, _rgba

LEGEND_BELOW: dict[str, Any] = {"orientation": "h", "y": -0.22}


def _x(frame: pd.DataFrame) -> list[str]:
    return [t.strftime("%Y-%m-%d") for t in pd.DatetimeIndex(frame.index)]


def _line(frame: pd.DataFrame, col: str, name: str, color: str, fmt: str, **kw: Any) -> go.Scatter:
    return go.Scatter(
        x=_x(frame),
        y=frame[col].to_numpy(float),
        mode="lines",
        name=name,
        line={"color": color, "width": kw.pop("width", 1.6), **kw.pop("line", {})},
        hovertemplate=f"%{{x}}: {fmt}<extra>{name}</extra>",
        **kw,
    )


def _scale(*series: pd.Series) -> str:
    """``"log"`` when the positive values span more than two orders of magnitude (the whole history), else
    ``"linear"``."""
    values = pd.concat([x[x > 0] for x in series]).dropna()
    if not len(values) or values.max() <= 100 * values.min():
        return "linear"
    return "log"


def _layout(fig: go.Figure, title: str, **kw: Any) -> go.Figure:
    fig.update_layout(**LAYOUT, title=title, legend=LEGEND_BELOW, hovermode="x unified")
    fig.update_layout(**kw)
    return fig


def price_vs_cost(frame: pd.DataFrame, power_price_usd_per_kwh: float) -> go.Figure:
    """The price against the production-cost band over time: electricity-only lower .. upper (best guess
    dashed) and the dated fleet's all-in cost."""
    x = _x(frame)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x + x[::-1],
            y=list(frame["cost_electricity_upper_usd_per_btc"].to_numpy(float))
            + list(frame["cost_electricity_lower_usd_per_btc"].to_numpy(float)[::-1]),
            fill="toself",
            fillcolor=_rgba(COST_COLOR, 0.18),
            line={"width": 0},
            hoverinfo="skip",
            name=f"electricity-only, lower .. upper @ ${power_price_usd_per_kwh:g}/kWh",
        )
    )
    fig.add_trace(
        _line(
            frame,
            "cost_electricity_best_usd_per_btc",
            "electricity-only, best guess",
            COST_COLOR,
            "$%{y:,.0f}",
            line={"dash": "dash"},
        )
    )
    fig.add_trace(_line(frame, "cost_all_in_usd_per_btc", "all-in, dated fleet", "#7f7f7f", "$%{y:,.0f}"))
    fig.add_trace(_line(frame, "price_usd", "BTC price", PRICE_COLOR, "$%{y:,.0f}", width=2))
    return _layout(
        fig,
        "BTC price against the cost of producing one BTC",
        yaxis={"title": "USD per BTC", "tickformat": "$,.0f", "type": "log"},
    )


def hashrate_difficulty(frame: pd.DataFrame, retargets: pd.DataFrame) -> go.Figure:
    """Daily and 7-day hashrate [EH/s] with difficulty [T] on a second axis, each retarget marked."""
    scaled = pd.DataFrame(
        {
            "daily": frame["hashrate_ths"] / TH_PER_EH,
            "mean7": frame["hashrate_7d_ths"] / TH_PER_EH,
            "difficulty": frame["difficulty"] / 1e12,
        },
        index=frame.index,
    )
    fig = go.Figure()
    fig.add_trace(
        _line(scaled, "daily", "hashrate, daily", _rgba("#ff7f0e", 0.45), "%{y:,.1f} EH/s", width=1)
    )
    fig.add_trace(_line(scaled, "mean7", "hashrate, 7-day mean", "#ff7f0e", "%{y:,.1f} EH/s", width=2))
    fig.add_trace(
        _line(scaled, "difficulty", "difficulty", "#444", "%{y:,.2f} T", yaxis="y2", line={"shape": "hv"})
    )
    if len(retargets):
        days = pd.to_datetime(retargets["day"])
        change = retargets["change"].to_numpy(float)
        fig.add_trace(
            go.Scatter(
                x=[d.strftime("%Y-%m-%d") for d in days],
                y=retargets["difficulty"].to_numpy(float) / 1e12,
                yaxis="y2",
                mode="markers",
                marker={
                    "symbol": "diamond",
                    "size": 7 if len(retargets) <= 100 else 4,
                    "color": ["#2ca02c" if c >= 0 else PRICE_COLOR for c in change],
                },
                customdata=[[int(h), 100 * c] for h, c in zip(retargets["height"], change, strict=True)],
                name="retarget (green up, red down)",
                hovertemplate="retarget at %{customdata[0]:,}: %{customdata[1]:+.2f}%<extra></extra>",
            )
        )
    return _layout(
        fig,
        "Hashrate and difficulty, with each retarget",
        yaxis={
            "title": "hashrate [EH/s]",
            "type": _scale(scaled["daily"], scaled["mean7"]),
            "exponentformat": "power",
        },
        yaxis2={
            "title": "difficulty [10^12]",
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "type": _scale(scaled["difficulty"]),
            "exponentformat": "power",
        },
        margin={"r": 80},
    )


def hashprice(frame: pd.DataFrame) -> go.Figure:
    """Daily hashprice [USD/PH/day]."""
    fig = go.Figure(_line(frame, "hashprice_usd_per_ph_day", "hashprice", COST_COLOR, "$%{y:,.2f}/PH/day"))
    return _layout(
        fig,
        "Hashprice: revenue of 1 PH/s per day",
        yaxis={"title": "USD per PH/s per day", "type": _scale(frame["hashprice_usd_per_ph_day"])},
    )


def revenue(frame: pd.DataFrame) -> go.Figure:
    """Miners' daily revenue in USD, subsidy and fees stacked."""
    fig = go.Figure()
    for col, name, color in (
        ("revenue_subsidy_usd", "subsidy", COST_COLOR),
        ("revenue_fees_usd", "fees", "#ff7f0e"),
    ):
        fig.add_trace(
            go.Scatter(
                x=_x(frame),
                y=frame[col].to_numpy(float) / 1e6,
                mode="lines",
                stackgroup="revenue",
                name=name,
                line={"color": color, "width": 1},
                hovertemplate=f"%{{x}}: $%{{y:,.2f}}m<extra>{name}</extra>",
            )
        )
    return _layout(fig, "Miners' revenue per day: subsidy and fees", yaxis={"title": "USD million per day"})


def shares(frame: pd.DataFrame) -> go.Figure:
    """Share of hashrate underwater and within 10% of breakeven, day by day."""
    fig = go.Figure()
    fig.add_trace(
        _line(frame, "share_underwater", "underwater", PRICE_COLOR, "%{y:.1%}", fill="tozeroy", width=1.5)
    )
    fig.add_trace(_line(frame, "share_within_10pct", "within 10% of breakeven", "#ff7f0e", "%{y:.1%}"))
    return _layout(
        fig,
        "Share of hashrate underwater and within 10% of breakeven",
        yaxis={"title": "share of hashrate", "tickformat": ".0%", "rangemode": "tozero"},
    )


def ribbons(frame: pd.DataFrame, capitulations: pd.DataFrame) -> go.Figure:
    """Hash ribbons (fast and slow hashrate moving averages, EH/s) with the capitulation spans shaded."""
    scaled = pd.DataFrame(
        {"fast": frame["ribbon_fast_ths"] / TH_PER_EH, "slow": frame["ribbon_slow_ths"] / TH_PER_EH},
        index=frame.index,
    )
    fig = go.Figure()
    fig.add_trace(_line(scaled, "fast", "fast moving average", "#1f77b4", "%{y:,.1f} EH/s"))
    fig.add_trace(_line(scaled, "slow", "slow moving average", "#9467bd", "%{y:,.1f} EH/s"))
    if len(frame):
        last = pd.Timestamp(frame.index[-1])
        for start, end in zip(capitulations["start"], capitulations["end"], strict=True):
            fig.add_vrect(
                x0=pd.Timestamp(start).strftime("%Y-%m-%d"),
                x1=(last if pd.isna(end) else pd.Timestamp(end)).strftime("%Y-%m-%d"),
                fillcolor=_rgba(PRICE_COLOR, 0.15),
                line_width=0,
                layer="below",
            )
    return _layout(
        fig,
        f"Hash ribbons, capitulation shaded ({len(capitulations)} span(s))",
        yaxis={"title": "hashrate [EH/s]", "type": _scale(scaled["fast"], scaled["slow"])},
    )


def puell(frame: pd.DataFrame) -> go.Figure:
    """The Puell multiple with its customary 0.5 and 4 reference lines."""
    fig = go.Figure(_line(frame, "puell_multiple", "Puell multiple", COST_COLOR, "%{y:.2f}"))
    for y, text in ((0.5, "0.5"), (4.0, "4")):
        fig.add_hline(y=y, line={"color": "#999", "width": 1, "dash": "dot"}, annotation_text=text)
    return _layout(fig, "Puell multiple: daily issuance in USD over its 365-day mean", yaxis={"title": "-"})
