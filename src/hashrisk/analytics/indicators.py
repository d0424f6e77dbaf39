"""Miner indicators on stored daily history, and a forward-return backtest of their signals.

Pure functions of a daily frame (as :meth:`hashrisk.data.store.Store.daily_frame` returns it; checked by
:func:`hashrisk.analytics.history.check_daily`). All moving averages are simple moving averages over
calendar days that include the current day, ``SMA_n(x)_t = (x_t + ... + x_{t-n+1}) / n``, and are NaN
until n days are available or when a day in the window is missing.

Indicators
----------
Hash ribbons (:func:`hash_ribbons`)
    Charles Edwards (Capriole Investments), "Hash Ribbons & Bitcoin Bottoms", 2019
    (https://medium.com/capriole/hash-ribbons-bitcoin-bottoms-60da13095836; TradingView script "Hash
    Ribbons" by capriole_charles). Miners capitulate while ``SMA_30(hashrate) < SMA_60(hashrate)``; the
    capitulation ends when the 30-day SMA crosses back above the 60-day SMA; the buy signal is given when,
    after the capitulation has ended, price momentum is positive: ``SMA_10(price) > SMA_20(price)``.
    Published check: Edwards announced the end of the 2022 capitulation, 71 days long, and a buy signal on
    2022-08-20 (https://twitter.com/caprioleio, 20 August 2022, as reported by u.today).
Puell multiple (:func:`puell_multiple`)
    David Puell (2019): daily issuance value in USD over its 365-day moving average,
    ``puell_t = subsidy_btc_t * price_usd_t / SMA_365(subsidy_btc * price_usd)_t`` (issuance only, fees
    excluded, as Glassnode and LookIntoBitcoin compute it). The zones below 0.5 and above 4 are chart
    conventions of the metric's published charts, not laws; both thresholds are parameters.
Difficulty ribbon (:func:`difficulty_ribbon`)
    Willy Woo, "Difficulty Ribbon" (woobull.com, 2019): SMAs of difficulty over 9, 14, 25, 40, 60, 90,
    128 and 200 days; the ribbon compresses (and the short averages dip under the long ones) when miners
    capitulate. Compression is measured as Glassnode's "Difficulty Ribbon Compression" does, as the
    normalised standard deviation of the SMAs: ``compression_t = std(SMA_k,t) / mean(SMA_k,t)``.
Hashprice (:func:`hashprice_history`)
    :func:`hashrisk.economics.revenue.hashprice_usd_per_ph_day` with each day's mean reward per block
    (Luxor's definition: expected USD earned by 1 PH/s in a day), and the same in sats/TH/day.
Miner revenue (:func:`miner_revenue`)
    ``revenue_btc = subsidy_btc + fees_btc`` [BTC/day], ``revenue_usd = revenue_btc * price_usd``.

Backtest (:func:`backtest_signals`)
    For a signal on day t and a horizon of h days, the forward return is ``price_{t+h} / price_t - 1``.
    Each signal's returns are compared with the unconditional returns of every day on which that signal
    could have fired (its indicator defined) and whose forward price is stored, and with random draws of
    the same number of days from those (with replacement): ``p_random_mean`` is the share of draws whose
    mean return is at least the signal's mean, a one-sided randomisation p-value. Signals are dated on the
    day they are known in real time (no look-ahead), and forward windows of nearby signals overlap, so
    the counts overstate the independent evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hashrisk.analytics.history import (
    DAILY_COLUMNS,
    check_daily,
    frame_records,
    hashprice_series,
    parse_day,
    spells,
    to_day,
)
from hashrisk.economics.revenue import hashprice_sats_per_th_day
from hashrisk.errors import InputError

HASH_RIBBON_SOURCE = (
    "Charles Edwards, 'Hash Ribbons & Bitcoin Bottoms', Capriole Investments, 2019, "
    "https://medium.com/capriole/hash-ribbons-bitcoin-bottoms-60da13095836"
)
PUELL_SOURCE = "David Puell, 'The Puell Multiple', 2019 (as computed by Glassnode and LookIntoBitcoin)"
DIFFICULTY_RIBBON_SOURCE = "Willy Woo, 'Difficulty Ribbon', woobull.com, 2019"
DIFFICULTY_RIBBON_WINDOWS = (9, 14, 25, 40, 60, 90, 128, 200)
"""Willy Woo's difficulty-ribbon SMA lengths [days]."""
DEFAULT_HORIZONS = (30, 90, 180, 365)
"""Forward-return horizons of the backtest [days]."""
DEFAULT_MIN_RECOVERY_DAYS = 7
"""Shortest hash-ribbon recovery that ends a capitulation [days]. Assumption, chosen on Coin Metrics data
2009-2025: every recovery there lasted either 1-2 days (noise of the block-count hashrate estimate) or
17 days and more, so any value from 3 to 17 gives the same episodes."""
PUELL_MIN_GAP_DAYS = 30
"""Days above the low Puell threshold needed before a new low-zone entry counts as a new signal.
Assumption: the daily Puell multiple flickers across 0.5 for days at a time."""


def _sma(series: pd.Series, days: int) -> pd.Series:
    return series.rolling(days, min_periods=days).mean()


def _check_window(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(name, value, "a whole number of days >= 1")
    return int(value)


# --------------------------------------------------------------------------------------- hash ribbons
@dataclass(frozen=True)
class HashRibbons:
    """Hash ribbons of a daily history (see the module docstring for the definition and source).

    Attributes
    ----------
    frame : pandas.DataFrame
        Daily: ``hashrate_ths``, ``hashrate_sma_short_ths``, ``hashrate_sma_long_ths``, ``price_usd``,
        ``price_sma_fast_usd``, ``price_sma_slow_usd``, ``capitulation`` (bool: inside an episode),
        ``buy_signal`` (bool: the charted buy day of an episode).
    episodes : pandas.DataFrame
        One row per capitulation episode: ``start`` (first day with the short SMA below the long one),
        ``end`` (first day of the recovery that ends it, NaT while ongoing), ``days``, ``ongoing`` (also
        True while the recovery that would end it has lasted fewer than ``min_recovery_days`` days at the
        last day; ``end`` is then the tentative crossing day),
        ``known_end`` (``end + min_recovery_days - 1``: when the end is certain in real time),
        ``buy_date`` (first day on or after ``end`` with ``SMA_fast(price) > SMA_slow(price)``, before the
        next episode; NaT if none), ``signal_date`` (``max(buy_date, known_end)``: when the buy is known in
        real time), ``price_at_buy_usd``.
    params : dict
        Window lengths [days] and ``min_recovery_days``.
    """

    frame: pd.DataFrame
    episodes: pd.DataFrame
    params: dict[str, int]

    def to_frame(self) -> pd.DataFrame:
        """The daily frame."""
        return self.frame

    def summary(self) -> dict[str, Any]:
        """Definition, latest state and every episode, JSON-ready."""
        last = self.frame.dropna(subset=["hashrate_sma_long_ths"])
        latest: dict[str, Any] = {}
        if len(last):
            row = last.iloc[-1]
            latest = {
                "date": to_day(last.index[-1]),
                "hashrate_sma_short_ths": float(row["hashrate_sma_short_ths"]),
                "hashrate_sma_long_ths": float(row["hashrate_sma_long_ths"]),
                "capitulation": bool(row["capitulation"]),
            }
        p = self.params
        return {
            "definition": (
                f"capitulation while SMA{p['short_days']}(hashrate) < SMA{p['long_days']}(hashrate); it ends "
                f"when the short SMA crosses back above and stays there {p['min_recovery_days']} days or more "
                f"(shorter recoveries are treated as noise and merged); buy signal on the first day from the "
                f"end with SMA{p['price_fast_days']}(price) > SMA{p['price_slow_days']}(price)"
            ),
            "source": HASH_RIBBON_SOURCE,
            "params": dict(self.params),
            "latest": latest,
            "episodes": frame_records(self.episodes),
        }


def hash_ribbons(
    daily: pd.DataFrame,
    *,
    short_days: int = 30,
    long_days: int = 60,
    price_fast_days: int = 10,
    price_slow_days: int = 20,
    min_recovery_days: int = DEFAULT_MIN_RECOVERY_DAYS,
) -> HashRibbons:
    """Hash ribbons: miner capitulation episodes and the buy signal (Edwards, 2019).

    With ``s_t = SMA_short(hashrate)_t`` and ``l_t = SMA_long(hashrate)_t``, a day is *capitulating* when
    ``s_t < l_t``. Runs of capitulating days separated by a recovery (``s_t >= l_t``) shorter than
    `min_recovery_days` are merged into one episode: Coin Metrics' hashrate is a block-count estimate
    (``difficulty * 2**32 * blocks / 86400``) with about 8% Poisson noise per day, and near a crossing the
    two SMAs flicker across each other for a day or two. The episode ends on the first day of the lasting
    recovery (the crossing day, as Edwards charts it); that end is certain ``min_recovery_days - 1`` days
    later. ``min_recovery_days=1`` reproduces the raw crossings. The buy day is the first day on or after
    the end with ``SMA_fast(price) > SMA_slow(price)``, if it comes before the next episode starts.

    Parameters
    ----------
    daily : pandas.DataFrame
        Daily history with ``hashrate_ths`` [TH/s] and ``price_usd`` [USD/BTC], indexed by UTC day.
    short_days, long_days : int
        Hashrate SMA lengths [days] (Edwards: 30 and 60).
    price_fast_days, price_slow_days : int
        Price SMA lengths of the momentum condition [days] (Edwards: 10 and 20).
    min_recovery_days : int
        Shortest recovery that ends an episode [days] (default :data:`DEFAULT_MIN_RECOVERY_DAYS`).

    Returns
    -------
    HashRibbons

    Raises
    ------
    InputError
        Bad frame (see :func:`~hashrisk.analytics.history.check_daily`) or window lengths (short must be
        below long, fast below slow).
    """
    windows = {
        "short_days": _check_window("short_days", short_days),
        "long_days": _check_window("long_days", long_days),
        "price_fast_days": _check_window("price_fast_days", price_fast_days),
        "price_slow_days": _check_window("price_slow_days", price_slow_days),
        "min_recovery_days": _check_window("min_recovery_days", min_recovery_days),
    }
    if windows["short_days"] >= windows["long_days"]:
        raise InputError("short_days", short_days, f"fewer days than long_days ({long_days})")
    if windows["price_fast_days"] >= windows["price_slow_days"]:
        raise InputError(
            "price_fast_days", price_fast_days, f"fewer days than price_slow_days ({price_slow_days})"
        )
    d = check_daily(daily, ["hashrate_ths", "price_usd"])
    s = _sma(d["hashrate_ths"], windows["short_days"])
    lo = _sma(d["hashrate_ths"], windows["long_days"])
    fast = _sma(d["price_usd"], windows["price_fast_days"])
    slow = _sma(d["price_usd"], windows["price_slow_days"])
    defined = s.notna() & lo.notna() & slow.notna()
    if not defined.any():
        raise InputError(
            "daily",
            f"{len(d)} days from {d.index[0].date()} to {d.index[-1].date()}",
            f"at least {windows['long_days']} consecutive days of hashrate_ths and "
            f"{windows['price_slow_days']} of price_usd",
        )
    below = (s < lo).where(s.notna() & lo.notna())
    eps = spells(below, windows["min_recovery_days"])
    momentum = (fast > slow).to_numpy() & fast.notna().to_numpy() & slow.notna().to_numpy()
    index = d.index
    n = len(index)
    recovery = windows["min_recovery_days"]
    start_pos = index.searchsorted(eps["start"]).astype(int)
    end_pos = np.where(eps["ongoing"], n, index.searchsorted(eps["end"].fillna(index[-1]))).astype(int)
    # an end is certain once the recovery has lasted `recovery` days; before that the episode is ongoing
    unconfirmed = ~eps["ongoing"].to_numpy() & (end_pos + recovery - 1 > n - 1)
    ongoing = eps["ongoing"].to_numpy() | unconfirmed
    capitulation = np.zeros(n, dtype=bool)
    buy = np.zeros(n, dtype=bool)
    known_end = np.full(len(eps), np.datetime64("NaT"), dtype="datetime64[ns]")
    buy_date = known_end.copy()
    signal_date = known_end.copy()
    price_at_buy = np.full(len(eps), np.nan)
    prices = d["price_usd"].to_numpy()
    for i in range(len(eps)):
        a, b = int(start_pos[i]), int(end_pos[i])
        capitulation[a:b] = True
        if ongoing[i]:
            continue
        known = b + recovery - 1
        known_end[i] = index[known].to_datetime64()
        nxt = int(start_pos[i + 1]) if i + 1 < len(eps) else n
        hits = np.flatnonzero(momentum[b:nxt])
        if hits.size:
            j = b + int(hits[0])
            buy[j] = True
            buy_date[i] = index[j].to_datetime64()
            signal_date[i] = index[max(j, known)].to_datetime64()
            price_at_buy[i] = prices[j]
    episodes = eps.assign(
        ongoing=ongoing,
        known_end=known_end,
        buy_date=buy_date,
        signal_date=signal_date,
        price_at_buy_usd=price_at_buy,
    )
    frame = pd.DataFrame(
        {
            "hashrate_ths": d["hashrate_ths"],
            "hashrate_sma_short_ths": s,
            "hashrate_sma_long_ths": lo,
            "price_usd": d["price_usd"],
            "price_sma_fast_usd": fast,
            "price_sma_slow_usd": slow,
            "capitulation": capitulation,
            "buy_signal": buy,
        },
        index=index,
    )
    return HashRibbons(frame=frame, episodes=episodes, params=windows)


# --------------------------------------------------------------------------------------- other series
def puell_multiple(daily: pd.DataFrame, window_days: int = 365) -> pd.DataFrame:
    """Puell multiple: daily issuance in USD over its `window_days` SMA (Puell, 2019).

    ``issuance_usd_t = subsidy_btc_t * price_usd_t``; ``puell_t = issuance_usd_t / SMA_window(issuance_usd)_t``.

    Parameters
    ----------
    daily : pandas.DataFrame
        Daily history with ``subsidy_btc`` [BTC/day issued] and ``price_usd`` [USD/BTC].
    window_days : int
        Length of the moving average [days] (365 in the published definition).

    Returns
    -------
    pandas.DataFrame
        Daily ``issuance_usd`` [USD/day] and ``puell_multiple`` [-].
    """
    w = _check_window("window_days", window_days)
    d = check_daily(daily, ["subsidy_btc", "price_usd"])
    issuance = d["subsidy_btc"] * d["price_usd"]
    return pd.DataFrame({"issuance_usd": issuance, "puell_multiple": issuance / _sma(issuance, w)})


def difficulty_ribbon(
    daily: pd.DataFrame, windows: Sequence[int] = DIFFICULTY_RIBBON_WINDOWS
) -> pd.DataFrame:
    """Difficulty ribbon (Woo, 2019): SMAs of difficulty and their compression.

    Parameters
    ----------
    daily : pandas.DataFrame
        Daily history with ``difficulty`` (the day's mean difficulty).
    windows : sequence of int
        SMA lengths [days] (default Woo's 9/14/25/40/60/90/128/200).

    Returns
    -------
    pandas.DataFrame
        Daily ``difficulty_sma_{n}d`` per window, and ``ribbon_compression``
        ``= std(SMAs) / mean(SMAs)`` (population std; NaN until the longest SMA is defined).
    """
    ws = [_check_window("windows", int(w)) for w in windows]
    if len(ws) < 2 or len(set(ws)) != len(ws):
        raise InputError("windows", list(windows), "at least two distinct SMA lengths [days]")
    d = check_daily(daily, ["difficulty"])
    out = pd.DataFrame({f"difficulty_sma_{w}d": _sma(d["difficulty"], w) for w in sorted(ws)}, index=d.index)
    values = out.to_numpy()
    complete = ~np.isnan(values).any(axis=1)
    compression = np.full(len(out), np.nan)
    if complete.any():
        v = values[complete]
        compression[complete] = v.std(axis=1) / v.mean(axis=1)
    out["ribbon_compression"] = compression
    return out


def hashprice_history(daily: pd.DataFrame) -> pd.DataFrame:
    """Daily hashprice in USD/(PH/s)/day and sats/(TH/s)/day.

    See :func:`hashrisk.analytics.history.hashprice_series`; the sats figure is
    :func:`hashrisk.economics.revenue.hashprice_sats_per_th_day` of the same reward and difficulty.
    """
    d = check_daily(daily, ["price_usd", "difficulty", "blocks", "fees_btc", "subsidy_btc"])
    usd = hashprice_series(d)
    ok = (
        d[["difficulty", "blocks", "fees_btc", "subsidy_btc"]].notna().all(axis=1) & (d["blocks"] > 0)
    ).to_numpy()
    sats = np.full(len(d), np.nan)
    if ok.any():
        sub = d[ok]
        sats[ok] = hashprice_sats_per_th_day(
            sub["difficulty"].to_numpy(),
            (sub["subsidy_btc"] / sub["blocks"]).to_numpy(),
            (sub["fees_btc"] / sub["blocks"]).to_numpy(),
        )
    return pd.DataFrame({"hashprice_usd_per_ph_day": usd, "hashprice_sats_per_th_day": sats}, index=d.index)


def miner_revenue(daily: pd.DataFrame) -> pd.DataFrame:
    """Miners' daily revenue: subsidy plus fees, in BTC and USD.

    Returns
    -------
    pandas.DataFrame
        Daily ``subsidy_btc``, ``fees_btc``, ``revenue_btc`` [BTC/day], ``revenue_usd`` [USD/day] and
        ``fee_share`` (fees / revenue) [-].
    """
    d = check_daily(daily, ["subsidy_btc", "fees_btc", "price_usd"])
    revenue = d["subsidy_btc"] + d["fees_btc"]
    return pd.DataFrame(
        {
            "subsidy_btc": d["subsidy_btc"],
            "fees_btc": d["fees_btc"],
            "revenue_btc": revenue,
            "revenue_usd": revenue * d["price_usd"],
            "fee_share": d["fees_btc"] / revenue.where(revenue > 0),
        }
    )


# --------------------------------------------------------------------------------------- backtest
@dataclass(frozen=True)
class Backtest:
    """Forward returns after each signal, against the unconditional returns.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (signal, horizon): ``signal``, ``horizon_days``, ``n`` (signals with a stored forward
        price), ``mean_return``, ``median_return``, ``share_positive``, ``n_unconditional``,
        ``mean_unconditional``, ``median_unconditional``, ``share_positive_unconditional``,
        ``excess_mean``, ``excess_median``, ``p_random_mean``.
    events : pandas.DataFrame
        One row per signal day: ``signal``, ``date``, ``price_usd`` and ``return_{h}d`` per horizon.
    n_draws : int
        Random draws behind ``p_random_mean``.
    """

    table: pd.DataFrame
    events: pd.DataFrame
    n_draws: int

    def to_frame(self) -> pd.DataFrame:
        """The (signal, horizon) table."""
        return self.table

    def summary(self) -> dict[str, Any]:
        """Table and events as records, JSON-ready."""
        return {
            "method": (
                "forward return price[t+h]/price[t]-1 after each signal day t, against every day the "
                "signal could have fired (unconditional); p_random_mean = share of random same-size sets "
                f"of days ({self.n_draws} draws, with replacement) whose mean return is at least the "
                "signal's; forward windows of nearby signals overlap"
            ),
            "table": frame_records(self.table),
            "events": frame_records(self.events),
        }


def backtest_signals(
    price_usd: pd.Series,
    signals: Mapping[str, pd.DatetimeIndex],
    eligible: Mapping[str, pd.Series],
    horizons: Sequence[int] = DEFAULT_HORIZONS,
    rng: int | np.random.Generator | None = None,
    n_draws: int = 2000,
) -> Backtest:
    """Forward returns after signal days, with counts and the unconditional comparison.

    Parameters
    ----------
    price_usd : pandas.Series
        Daily price [USD/BTC] on a complete calendar (tz-naive days), NaN where missing.
    signals : mapping of str to DatetimeIndex
        Signal name -> days it fired.
    eligible : mapping of str to pandas.Series
        Signal name -> boolean daily series, True on days the signal could have fired (its indicator was
        defined); these days form the unconditional sample.
    horizons : sequence of int
        Forward horizons [days].
    rng : int, Generator or None
        Randomness of the draws behind ``p_random_mean``.
    n_draws : int
        Number of random draws.

    Returns
    -------
    Backtest
    """
    hs = [_check_window("horizons", int(h)) for h in horizons]
    if not hs:
        raise InputError("horizons", list(horizons), "at least one horizon [days]")
    if n_draws < 1:
        raise InputError("n_draws", n_draws, "an integer >= 1")
    gen = np.random.default_rng(rng)
    idx = pd.DatetimeIndex(price_usd.index)
    values = price_usd.to_numpy(dtype=float)
    forward = {h: pd.Series(price_usd.shift(-h).to_numpy() / values - 1.0, index=idx) for h in hs}
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for name, days in signals.items():
        days = pd.DatetimeIndex(days)
        for day in days:
            rec: dict[str, Any] = {
                "signal": name,
                "date": day,
                "price_usd": float(price_usd.get(day, np.nan)),
            }
            for h in hs:
                rec[f"return_{h}d"] = float(forward[h].get(day, np.nan))
            events.append(rec)
        mask = eligible[name].reindex(idx, fill_value=False).to_numpy(dtype=bool)
        for h in hs:
            fr = forward[h]
            sig = fr.reindex(days).dropna().to_numpy()
            unc = fr[mask].dropna().to_numpy()
            row: dict[str, Any] = {"signal": name, "horizon_days": h, "n": int(sig.size)}
            row.update(_stats(sig, ""))
            row["n_unconditional"] = int(unc.size)
            row.update(_stats(unc, "_unconditional"))
            row["excess_mean"] = row["mean_return"] - row["mean_return_unconditional"]
            row["excess_median"] = row["median_return"] - row["median_return_unconditional"]
            if sig.size and unc.size:
                draws = unc[gen.integers(0, unc.size, size=(n_draws, sig.size))].mean(axis=1)
                row["p_random_mean"] = float(np.mean(draws >= sig.mean()))
            else:
                row["p_random_mean"] = np.nan
            rows.append(row)
    table = pd.DataFrame(rows)
    table = table.rename(
        columns={
            "mean_return_unconditional": "mean_unconditional",
            "median_return_unconditional": "median_unconditional",
        }
    )
    event_cols = ["signal", "date", "price_usd", *(f"return_{h}d" for h in hs)]
    return Backtest(table=table, events=pd.DataFrame(events, columns=event_cols), n_draws=n_draws)


def _stats(x: np.ndarray[Any, np.dtype[np.float64]], suffix: str) -> dict[str, float]:
    if x.size == 0:
        return {
            f"mean_return{suffix}": np.nan,
            f"median_return{suffix}": np.nan,
            f"share_positive{suffix}": np.nan,
        }
    return {
        f"mean_return{suffix}": float(x.mean()),
        f"median_return{suffix}": float(np.median(x)),
        f"share_positive{suffix}": float(np.mean(x > 0)),
    }


# --------------------------------------------------------------------------------------- all together
@dataclass(frozen=True)
class Indicators:
    """Every indicator on one daily history, with the signals and their backtest.

    Attributes
    ----------
    frame : pandas.DataFrame
        Daily, from `start`: the hash-ribbon columns, ``puell_multiple``, ``issuance_usd``, the difficulty
        ribbon, hashprice and miner revenue.
    ribbons : HashRibbons
    signals : dict of str to DatetimeIndex
        ``hash_ribbon_buy`` (episodes' ``signal_date``), ``capitulation_start``, ``capitulation_end``
        (``known_end``) and ``puell_below_{low}`` (first day of each spell below the low threshold after
        :data:`PUELL_MIN_GAP_DAYS` days above), in the window.
    backtest : Backtest
    params : dict
    """

    frame: pd.DataFrame
    ribbons: HashRibbons
    signals: dict[str, pd.DatetimeIndex]
    backtest: Backtest
    params: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The daily indicator frame."""
        return self.frame

    def summary(self) -> dict[str, Any]:
        """Latest values, hash-ribbon episodes, signals and the backtest, JSON-ready."""
        f = self.frame
        latest: dict[str, Any] = {}
        for col in (
            "price_usd",
            "hashrate_ths",
            "hashrate_sma_short_ths",
            "hashrate_sma_long_ths",
            "puell_multiple",
            "ribbon_compression",
            "hashprice_usd_per_ph_day",
            "hashprice_sats_per_th_day",
            "revenue_btc",
            "revenue_usd",
            "fee_share",
        ):
            s = f[col].dropna()
            latest[col] = {"date": to_day(s.index[-1]), "value": float(s.iloc[-1])} if len(s) else None
        ribbons = self.ribbons.summary()
        window_start = f.index[0] if len(f) else None
        ribbons["episodes"] = [
            e
            for e in ribbons["episodes"]
            if window_start is None or e["end"] is None or pd.Timestamp(e["end"]) >= window_start
        ]
        return {
            "first": to_day(f.index[0]) if len(f) else None,
            "last": to_day(f.index[-1]) if len(f) else None,
            "params": dict(self.params),
            "latest": latest,
            "capitulation_now": bool(f["capitulation"].iloc[-1]) if len(f) else False,
            "hash_ribbons": ribbons,
            "puell_multiple": {"source": PUELL_SOURCE, "zones": self.params.get("puell_zones")},
            "difficulty_ribbon": {
                "source": DIFFICULTY_RIBBON_SOURCE,
                "windows_days": list(self.params.get("difficulty_windows", DIFFICULTY_RIBBON_WINDOWS)),
                "compression": "std / mean of the SMAs",
            },
            "signals": {k: [to_day(x) for x in v] for k, v in self.signals.items()},
            "backtest": self.backtest.summary(),
        }


def compute_indicators(
    daily: pd.DataFrame,
    *,
    start: str | pd.Timestamp | None = None,
    min_recovery_days: int = DEFAULT_MIN_RECOVERY_DAYS,
    horizons: Sequence[int] = DEFAULT_HORIZONS,
    puell_low: float = 0.5,
    puell_high: float = 4.0,
    rng: int | np.random.Generator | None = None,
    n_draws: int = 2000,
) -> Indicators:
    """All indicators, their signals and the forward-return backtest on one daily history.

    Parameters
    ----------
    daily : pandas.DataFrame
        Daily history with the columns of :data:`hashrisk.analytics.history.DAILY_COLUMNS`.
    start : date-like, optional
        First day reported and backtested; the history before it only warms up the moving averages.
    min_recovery_days : int
        See :func:`hash_ribbons`.
    horizons : sequence of int
        Backtest horizons [days].
    puell_low, puell_high : float
        Puell zone thresholds (chart conventions; the low one defines the ``puell_below_*`` signal).
    rng : int, Generator or None
        Randomness of the backtest's random draws.
    n_draws : int
        Random draws per (signal, horizon).

    Returns
    -------
    Indicators
    """
    if not (np.isfinite(puell_low) and np.isfinite(puell_high) and 0 < puell_low < puell_high):
        raise InputError("puell_low", puell_low, f"a number > 0 below puell_high ({puell_high})")
    d = check_daily(daily, DAILY_COLUMNS)
    rib = hash_ribbons(d, min_recovery_days=min_recovery_days)
    puell = puell_multiple(d)
    ribbon = difficulty_ribbon(d)
    frame = pd.concat([rib.frame, puell, ribbon, hashprice_history(d), miner_revenue(d)], axis=1)
    first = d.index[0] if start is None else max(d.index[0], parse_day(start, "start"))
    if first > d.index[-1]:
        raise InputError("start", to_day(first), f"a day up to the last stored day ({to_day(d.index[-1])})")
    ep = rib.episodes

    def in_window(days: pd.Series) -> pd.DatetimeIndex:
        out = pd.DatetimeIndex(days.dropna())
        return pd.DatetimeIndex(out[(out >= first) & (out <= d.index[-1])])

    low = puell["puell_multiple"] < puell_low
    low_spells = spells(low.where(puell["puell_multiple"].notna()), PUELL_MIN_GAP_DAYS)
    puell_name = f"puell_below_{puell_low:g}"
    signals = {
        "hash_ribbon_buy": in_window(ep["signal_date"]),
        "capitulation_start": in_window(ep["start"]),
        "capitulation_end": in_window(ep["known_end"]),
        puell_name: in_window(low_spells["start"]),
    }
    ribbon_ok = rib.frame[["hashrate_sma_long_ths", "price_sma_slow_usd"]].notna().all(axis=1) & (
        d.index >= first
    )
    puell_ok = puell["puell_multiple"].notna() & (d.index >= first)
    eligible = {
        "hash_ribbon_buy": ribbon_ok,
        "capitulation_start": ribbon_ok,
        "capitulation_end": ribbon_ok,
        puell_name: puell_ok,
    }
    bt = backtest_signals(d["price_usd"], signals, eligible, horizons, rng=rng, n_draws=n_draws)
    params: dict[str, Any] = {
        **rib.params,
        "puell_window_days": 365,
        "puell_zones": {"low": puell_low, "high": puell_high, "basis": "chart convention (assumption)"},
        "puell_min_gap_days": PUELL_MIN_GAP_DAYS,
        "difficulty_windows": list(DIFFICULTY_RIBBON_WINDOWS),
        "horizons_days": [int(h) for h in horizons],
        "n_draws": n_draws,
    }
    return Indicators(
        frame=frame.loc[first:],
        ribbons=rib,
        signals=signals,
        backtest=bt,
        params=params,
    )
