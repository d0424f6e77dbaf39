"""Section builders over the tracked history (:mod:`hashrisk.analytics.tracking`): "What changed" (the events
since the reader last looked, each with the rule that fired) and "History" (price against the cost band,
hashrate and difficulty with the retargets, hashprice, revenue, the share underwater, hash ribbons and the
Puell multiple over a window). Both need stored daily history; without it they say so.

Charts draw :meth:`History.thinned` (at most :data:`~hashrisk.report.context.HISTORY_MAX_POINTS` points per
series); every figure in the tables comes from the full daily frame.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from hashrisk.display import eh_s, pct, usd
from hashrisk.report import charts_history as ch
from hashrisk.report.context import HISTORY_MAX_POINTS, ReportContext
from hashrisk.report.model import Chart, Figures, KeyFigure, Paragraph, Section, Skipped, Table

NO_HISTORY = (
    "no daily history is stored (import it with `hashrisk data import FILE` or `hashrisk update`); the "
    "embedded snapshot is a single day"
)


def _fig(key: str, label: str, value: float, text: str, basis: str = "") -> KeyFigure:
    return KeyFigure(key=key, label=label, value=float(value), text=text, basis=basis)


def number_text(name: str, value: Any) -> str:
    """One number of an event for display, by its name's unit suffix."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{name} {value}"
    v = float(value)
    if not math.isfinite(v):
        return f"{name} n/a"
    if name.endswith("_usd") or "_usd_per_btc" in name or name.startswith("price"):
        text = usd(v)
    elif name.endswith("_ths"):
        text = eh_s(v)
    elif name.startswith("share") or name in ("level", "change", "threshold") or name.endswith("_share"):
        text = pct(v)
    elif name.endswith("_pct"):
        text = f"{v:+.2f}%"
    elif float(v).is_integer() and abs(v) < 1e15:
        text = f"{int(v):,}"
    else:
        text = f"{v:,.4g}"
    return f"{name} {text}"


def event_numbers_text(numbers: dict[str, Any]) -> str:
    """All numbers of an event, ``name value; ...``."""
    return "; ".join(number_text(k, v) for k, v in numbers.items())


# --------------------------------------------------------------------------------------------- what changed
def changes_section(ctx: ReportContext) -> Section | Skipped:
    """The events from ``changes`` between the look-back day and the as-of day, newest first."""
    title = "What changed"
    events = ctx.events
    since, as_of = ctx.changes_start, ctx.as_of
    if events is None or since is None or as_of is None:
        return Skipped("changes", title, NO_HISTORY)
    basis = ctx.changes_basis or f"the last {(as_of - since).days} days"
    if since > as_of:
        note = f"Nothing new: the stored data still ends at {as_of}, which you have seen ({basis})."
        return Section(
            "changes",
            f"What changed since {as_of}",
            (
                Paragraph(note + " Use `--since-changes DATE` to list earlier events."),
                Figures((_fig("changes_count", "events since your last look", 0, "0", basis),)),
            ),
            data={"events": []},
        )
    intro = (
        f"Events from {since} to {as_of} (stored data through {as_of}; window: {basis}), newest first; each "
        "names the rule that fired. Use `--since-changes DATE` for another look-back."
    )
    rows = tuple(
        (e.day.isoformat(), e.kind, e.message, event_numbers_text(dict(e.numbers)), e.rule)
        for e in sorted(events, key=lambda e: (e.day, e.kind), reverse=True)
    )
    blocks: list[Any] = [Paragraph(intro)]
    if rows:
        blocks.append(Table(("day", "kind", "what happened", "numbers", "rule"), rows))
    else:
        blocks.append(Paragraph(f"Nothing fired between {since} and {as_of}.", kind="note"))
    blocks.append(
        Figures((_fig("changes_count", f"events since {since}", len(rows), f"{len(rows):,}", basis),))
    )
    return Section("changes", f"What changed since {since}", tuple(blocks), data={"events": events})


# --------------------------------------------------------------------------------------------- history
def _last(frame: pd.DataFrame, col: str) -> tuple[float, str]:
    s = frame[col].dropna()
    if not len(s):
        return math.nan, "n/a"
    return float(s.iloc[-1]), pd.Timestamp(s.index[-1]).date().isoformat()


def history_section(ctx: ReportContext) -> Section | Skipped:
    """History over the window: price vs cost band, hashrate/difficulty, hashprice, revenue, share
    underwater, hash ribbons, Puell multiple."""
    title = "History"
    hist = ctx.history
    if hist is None:
        return Skipped("history", title, NO_HISTORY)
    full = hist.frame
    if not len(full):
        return Skipped("history", title, f"no stored day in the window ending {ctx.as_of}")
    shown = hist.thinned(HISTORY_MAX_POINTS)
    first, last = pd.Timestamp(full.index[0]).date(), pd.Timestamp(full.index[-1]).date()
    pp = ctx.power_price_usd_per_kwh
    thin_note = (
        f"Charts show {len(shown):,} of the {len(full):,} days (thinned for display only; every figure "
        "uses every day)."
        if len(shown) < len(full)
        else f"{len(full):,} days."
    )
    under = full["share_underwater"].dropna()
    items: list[KeyFigure] = []
    for key, col, label, fmt in (
        ("hist_price_usd", "price_usd", "BTC price", usd),
        (
            "hist_cost_best_usd_per_btc",
            "cost_electricity_best_usd_per_btc",
            "electricity-only cost, best guess",
            usd,
        ),
        ("hist_cost_all_in_usd_per_btc", "cost_all_in_usd_per_btc", "all-in cost, dated fleet", usd),
        ("hist_hashrate_7d_ths", "hashrate_7d_ths", "hashrate, 7-day mean", eh_s),
        ("hist_share_underwater", "share_underwater", "hashrate underwater", pct),
        ("hist_puell_multiple", "puell_multiple", "Puell multiple", lambda v: f"{v:.2f}"),
    ):
        v, day = _last(full, col)
        items.append(
            _fig(key, f"{label}, {day}", v, fmt(v) if math.isfinite(v) else "n/a", "last day of the window")
        )
    if len(under):
        worst = pd.DatetimeIndex(under.index)[int(under.to_numpy().argmax())].date()
        items.append(
            _fig(
                "hist_share_underwater_max",
                f"most hashrate underwater in the window ({worst})",
                float(under.max()),
                pct(float(under.max())),
                f"{first} to {last}",
            )
        )
    items.append(
        _fig("hist_retargets", "retargets in the window", len(hist.retargets), f"{len(hist.retargets):,}")
    )
    items.append(
        _fig(
            "hist_capitulations",
            "capitulation spans (hash ribbons) in the window",
            len(hist.capitulations),
            f"{len(hist.capitulations):,}",
        )
    )
    sources = tuple(sorted((str(k), str(v)) for k, v in hist.sources.items()))
    blocks: list[Any] = [
        Paragraph(
            f"From {first} to {last}, as of {hist.as_of}. The cost band is the electricity-only cost of one "
            f"BTC at ${pp:g}/kWh for the machines of each day (lower .. upper bound, best guess dashed) and "
            "the dated fleet's all-in cost (electricity, other cash opex, depreciation); the shares "
            "underwater come from each day's cost curve. " + thin_note
        ),
        Chart("history_price_cost", "Price vs production cost", ch.price_vs_cost(shown, pp)),
        Chart("history_hashrate", "Hashrate and difficulty", ch.hashrate_difficulty(shown, hist.retargets)),
        Chart("history_hashprice", "Hashprice", ch.hashprice(shown)),
        Chart("history_revenue", "Miners' revenue", ch.revenue(shown)),
        Chart("history_shares", "Share underwater", ch.shares(shown)),
        Chart("history_ribbons", "Hash ribbons", ch.ribbons(shown, hist.capitulations)),
        Chart("history_puell", "Puell multiple", ch.puell(shown)),
        Figures(tuple(items)),
    ]
    if sources:
        blocks.append(Table(("input", "source"), sources, caption="Sources of the History"))
    return Section("history", f"History, {first} to {last}", tuple(blocks))


__all__ = ["changes_section", "event_numbers_text", "history_section", "number_text"]
