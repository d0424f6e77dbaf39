"""`hashrisk sensitivity` and `hashrisk indicators`: the shell over :mod:`hashrisk.analytics`.

Both read the daily history from the local store (``Store().daily_frame()``), call the library and render
rich tables or one JSON object. Register them on the main app with :func:`register`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from hashrisk.analytics.history import DAILY_COLUMNS, parse_day
from hashrisk.analytics.indicators import DEFAULT_MIN_RECOVERY_DAYS, compute_indicators
from hashrisk.analytics.sensitivity import DRAWDOWN_HORIZONS, measure_sensitivity
from hashrisk.cli.common import JSON_OPTION, console, emit_json, handle_errors, read_user_text
from hashrisk.data.store import Store
from hashrisk.display import eh_s, pct, usd
from hashrisk.economics.fleet import FleetSpec
from hashrisk.errors import DataError, InputError

HOME_OPTION = typer.Option(
    None, "--home", help="Data directory (default: $HASHRISK_HOME or the user data dir).", file_okay=False
)
START_OPTION = typer.Option(
    None, "--start", help="First day analysed (YYYY-MM-DD); earlier history still warms up averages and lags."
)
END_OPTION = typer.Option(
    None, "--end", help="Last day of history used (YYYY-MM-DD; default: the last stored)."
)


def load_history(home: Path | None, start: str | None, end: str | None) -> pd.DataFrame:
    """The stored daily history up to `end` (all of it before `start` too, for warm-up).

    Raises
    ------
    DataError
        When the store holds no daily rows up to `end` (the message says how to get some).
    InputError
        For an unreadable `start` or `end`, or `start` after `end`.
    """
    if start is not None and end is not None and parse_day(start, "--start") > parse_day(end, "--end"):
        raise InputError("--start", start, f"a day on or before --end ({end})")
    with Store(home, read_only=True) as store:
        frame = store.daily_frame(end=end)
        where = store.path
    if frame.empty or frame["price_usd"].isna().all():
        upto = f" up to {end}" if end is not None else ""
        raise DataError(
            f"no daily price history{upto} in the store {where}; get some with `hashrisk data import FILE` "
            "(e.g. a Coin Metrics CSV) or `hashrisk data fetch`"
        )
    return frame.loc[:, list(DAILY_COLUMNS)]


def _num(x: Any, fmt: str = "{:+.2f}") -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else fmt.format(x)


def _ci(e: dict[str, Any]) -> str:
    return f"{_num(e['long_run'])} [{_num(e['ci_low'])}, {_num(e['ci_high'])}]"


def _parse_horizons(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(
            "--horizons", text, "comma-separated whole numbers of days, e.g. 30,90,180,365"
        ) from None
    if not values or any(v < 1 for v in values):
        raise InputError("--horizons", text, "comma-separated whole numbers of days >= 1")
    return values


def register(app: typer.Typer) -> None:
    """Add `sensitivity` and `indicators` to the main `app`."""
    app.command("sensitivity")(sensitivity)
    app.command("indicators")(indicators)


# ------------------------------------------------------------------------------------------- sensitivity
@handle_errors
def sensitivity(
    start: str | None = START_OPTION,
    end: str | None = END_OPTION,
    lags: int = typer.Option(8, "--lags", help="Weekly lags of the distributed-lag model (0..K)."),
    window_weeks: int = typer.Option(104, "--window-weeks", help="Rolling-window length, in weeks."),
    confidence: float = typer.Option(0.95, "--confidence", help="Confidence level of the intervals."),
    hac_maxlags: int | None = typer.Option(
        None, "--hac-maxlags", help="Newey-West lag (default: floor(4 (T/100)^(2/9)))."
    ),
    within: float = typer.Option(
        0.10, "--within", help="Mechanical band: share of hashrate within this fraction of breakeven."
    ),
    fleet_file: Path | None = typer.Option(
        None, "--fleet", help="Fleet TOML for the mechanical view (default: packaged current assumption)."
    ),
    home: Path | None = HOME_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Elasticity of hashrate to price and hashprice per halving cycle, and the verdict on 'more sensitive'."""
    fleet = (
        None
        if fleet_file is None
        else FleetSpec.from_toml_text(
            read_user_text(fleet_file, "--fleet", "TOML file"), origin=str(fleet_file)
        )
    )
    daily = load_history(home, start, end)
    result = measure_sensitivity(
        daily,
        lags=lags,
        window_weeks=window_weeks,
        confidence=confidence,
        hac_maxlags=hac_maxlags,
        start=start,
        fleet=fleet,
        within_pct=within,
    )
    summary = result.summary()
    if json_out:
        emit_json(summary)
        return
    p = summary["params"]
    conf = f"{confidence:.0%}"
    table = Table(
        title=f"Long-run elasticity of hashrate, Σ lags 0-{lags} weeks ({conf} CI, Newey-West), "
        f"weeks {p['first_week']} .. {p['last_week']}"
    )
    for col in ("period", "weeks", "to BTC price", "to hashprice"):
        table.add_column(col, justify="left" if col == "period" else "right")
    rows: dict[str, dict[str, Any]] = {}
    for e in summary["full_sample"] + summary["cycles"]:
        rows.setdefault(e["period"], {"weeks": e["n_weeks"]})[e["regressor"]] = e
    for period, r in rows.items():
        table.add_row(
            "all weeks" if period == "all" else period,
            str(r["weeks"]),
            _ci(r["price"]) if "price" in r else "n/a",
            _ci(r["hashprice"]) if "hashprice" in r else "n/a",
        )
    console.print(table)
    if summary["differences"]:
        diff = Table(
            title=f"Current cycle ({p['current_cycle']}) minus earlier cycles (joint regression, HAC)"
        )
        for col in ("baseline", "Δ price elasticity", "p", "Δ hashprice elasticity", "p "):
            diff.add_column(col, justify="left" if col == "baseline" else "right")
        by_base: dict[str, dict[str, Any]] = {}
        for dd in summary["differences"]:
            by_base.setdefault(dd["baseline"], {})[dd["regressor"]] = dd
        for base, r in by_base.items():
            cells = []
            for name in ("price", "hashprice"):
                dd = r.get(name)
                cells += (
                    [
                        f"{_num(dd['difference'])} [{_num(dd['ci_low'])}, {_num(dd['ci_high'])}]",
                        _num(dd["p_value"], "{:.2f}"),
                    ]
                    if dd
                    else ["n/a", ""]
                )
            diff.add_row(base, *cells)
        console.print(diff)
    verdict = summary["verdict"]
    colour = {"supported": "green", "contradicted": "red"}.get(verdict["answer"], "yellow")
    console.print(f"[bold]Claim:[/] {escape(verdict['claim'])}", highlight=False)
    console.print(f"[bold {colour}]Verdict: {escape(verdict['text'])}[/]", highlight=False)
    console.print(f"[dim]Test: {escape(verdict['test'])}[/]", highlight=False)
    per = summary["drawdowns"]["per_cycle"]
    if per:
        h = DRAWDOWN_HORIZONS[1]
        dtab = Table(title=f"Difficulty around price drawdowns ({summary['drawdowns']['definition']})")
        for col in ("cycle", "drawdowns", f"difficulty {h}d before", f"{h}d after", "slowdown (log pts)"):
            dtab.add_column(col, justify="left" if col == "cycle" else "right")
        for r in per:
            dtab.add_row(
                str(r["cycle"]),
                str(r["n"]),
                pct(_nan(r[f"difficulty_before_{h}d"])),
                pct(_nan(r[f"difficulty_after_{h}d"])),
                _num(r[f"difficulty_slowdown_{h}d"], "{:+.3f}"),
            )
        console.print(dtab)
    roll = summary["rolling"].get("price")
    if roll:
        lt = roll["latest"]
        console.print(
            f"Rolling {window_weeks}-week price elasticity, window ending {lt['week']}: {_ci(lt)}; "
            f"range {_num(roll['min']['long_run'])} ({roll['min']['week']}) .. "
            f"{_num(roll['max']['long_run'])} ({roll['max']['week']})",
            highlight=False,
        )
    mech = summary["mechanical"]
    if "latest" in mech:
        lt = mech["latest"]
        console.print(
            f"Mechanical: {pct(lt['share_within'])} of hashrate within {within:.0%} of breakeven and "
            f"{pct(lt['share_unprofitable'])} underwater on {lt['week']} (hashprice "
            f"${lt['hashprice_usd_per_ph_day']:.2f}/PH/day, median breakeven {usd(lt['breakeven_p50_usd'])}); "
            f"fleet: {mech['fleet']}.",
            highlight=False,
        )
        console.print(f"[dim]Note: {escape(mech['note'])}.[/]", highlight=False)


def _nan(x: Any) -> float:
    return float("nan") if x is None else float(x)


# ------------------------------------------------------------------------------------------- indicators
@handle_errors
def indicators(
    start: str | None = START_OPTION,
    end: str | None = END_OPTION,
    min_recovery_days: int = typer.Option(
        DEFAULT_MIN_RECOVERY_DAYS,
        "--min-recovery-days",
        help="Shortest hash-ribbon recovery that ends a capitulation (1 = raw crossings).",
    ),
    horizons: str = typer.Option(
        "30,90,180,365", "--horizons", help="Backtest horizons in days, comma-separated."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the backtest's random draws."),
    home: Path | None = HOME_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Hash ribbons, Puell multiple, difficulty ribbon, hashprice, miner revenue, and a signal backtest."""
    hs = _parse_horizons(horizons)
    daily = load_history(home, start, end)
    result = compute_indicators(
        daily, start=start, min_recovery_days=min_recovery_days, horizons=hs, rng=seed
    )
    summary = result.summary()
    if json_out:
        emit_json(summary)
        return
    latest = summary["latest"]
    table = Table(title=f"Miner indicators, {summary['first']} .. {summary['last']}")
    table.add_column("indicator")
    table.add_column("latest", justify="right")
    table.add_column("day")
    shown: dict[str, tuple[str, Callable[[float], str]]] = {
        "price_usd": ("BTC price", usd),
        "hashrate_ths": ("hashrate (daily estimate)", eh_s),
        "hashrate_sma_short_ths": ("hashrate 30-day SMA", eh_s),
        "hashrate_sma_long_ths": ("hashrate 60-day SMA", eh_s),
        "puell_multiple": ("Puell multiple", lambda x: f"{x:.2f}"),
        "ribbon_compression": ("difficulty ribbon compression (std/mean)", lambda x: f"{x:.4f}"),
        "hashprice_usd_per_ph_day": ("hashprice", lambda x: f"${x:,.2f}/PH/day"),
        "hashprice_sats_per_th_day": ("hashprice", lambda x: f"{x:,.1f} sats/TH/day"),
        "revenue_btc": ("miner revenue", lambda x: f"{x:,.1f} BTC/day"),
        "revenue_usd": ("miner revenue", lambda x: f"${x / 1e6:,.1f}M/day"),
        "fee_share": ("fees share of revenue", pct),
    }
    for key, (label, fmt) in shown.items():
        item = latest.get(key)
        if item is not None:
            table.add_row(label, fmt(item["value"]), item["date"])
    state = "yes (capitulation under way)" if summary["capitulation_now"] else "no"
    table.add_row("hash ribbons: miners capitulating", state, summary["last"] or "")
    console.print(table)

    rib = summary["hash_ribbons"]
    eps = Table(title="Hash-ribbon capitulations (Edwards, 2019)")
    for col in ("start", "end", "days", "buy signal", "known on", "price at buy"):
        eps.add_column(col, justify="right" if col in ("days", "price at buy") else "left")
    for e in rib["episodes"]:
        eps.add_row(
            e["start"],
            (e["end"] or "") + (" (ongoing)" if e["ongoing"] else ""),
            str(e["days"]),
            e["buy_date"] or "-",
            e["signal_date"] or "-",
            usd(_nan(e["price_at_buy_usd"])),
        )
    console.print(eps)
    console.print(f"[dim]{escape(rib['definition'])}. Source: {escape(rib['source'])}.[/]", highlight=False)

    bt = Table(title="Forward returns after each signal vs every eligible day (unconditional)")
    for col in (
        "signal",
        "horizon",
        "n",
        "median",
        "share > 0",
        "uncond. median",
        "uncond. > 0",
        "p (mean, random)",
    ):
        bt.add_column(col, justify="left" if col == "signal" else "right")
    for r in summary["backtest"]["table"]:
        bt.add_row(
            str(r["signal"]),
            f"{r['horizon_days']}d",
            str(r["n"]),
            pct(_nan(r["median_return"])),
            pct(_nan(r["share_positive"]), 0),
            pct(_nan(r["median_unconditional"])),
            pct(_nan(r["share_positive_unconditional"]), 0),
            _num(r["p_random_mean"], "{:.2f}"),
        )
    console.print(bt)
    console.print(f"[dim]{escape(summary['backtest']['method'])}.[/]", highlight=False)
