"""Exogenous price paths: daily log returns drawn from the scenario's price model (pure, no I/O).

The engine draws every random number outside the kernels; this module turns a price model and its random
generators into the ``(paths, days)`` array of exogenous log returns ``r[p, t]`` that moves the price from
day ``t`` to day ``t + 1``::

    P_exo[p, t + 1] = P_exo[p, t] * exp(r[p, t])

(the last column is never used). The sales feedback is applied on top of it by the kernels.

Models (see :mod:`hashrisk.sim.scenario` for the parameters):

- ``gbm``: ``r = (mu - s^2/2)/365 + s/sqrt(365) Z``;
- ``jump``: GBM plus Merton compound-Poisson log-normal jumps (compensated), or Student-t shocks;
- ``bootstrap``: moving blocks of historical daily log returns, optionally demeaned;
- ``path``: a deterministic path of prices.

A ``shock`` adds ``log(1 + total_return) / days`` to each of the first ``days`` returns.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hashrisk.constants import DAYS_PER_YEAR
from hashrisk.errors import InputError
from hashrisk.sim.scenario import BootstrapPrice, GbmPrice, JumpPrice, PathPrice, ShockSpec

FloatArray = npt.NDArray[np.float64]
DEFAULT_SIGMA_DAILY = 0.5 / math.sqrt(DAYS_PER_YEAR)
"""Daily volatility used by the price-impact law when the price model has none. Assumption: 50%/year."""
N_PRICE_STREAMS = 3
"""Random streams a price model may use: main shocks, jump counts, jump sizes."""

PriceSpec = GbmPrice | JumpPrice | BootstrapPrice | PathPrice


def parse_price_csv(text: str, field: str = "price.csv") -> tuple[list[dt.date], list[float]]:
    """Parse a ``date,price_usd`` CSV document (header required; other columns ignored).

    Parameters
    ----------
    text : str
        The CSV text.
    field : str
        Name used in error messages (the scenario field or the command-line option).

    Returns
    -------
    dates, prices_usd : list of datetime.date, list of float
        Consecutive days and their prices [USD/BTC].

    Raises
    ------
    InputError
        If the header lacks ``date``/``price_usd``, a row does not parse, a price is not finite and > 0,
        or the dates are not consecutive days (gaps, repeats, unsorted).
    """
    reader = csv.reader(io.StringIO(text))
    dates: list[dt.date] = []
    prices: list[float] = []
    try:
        header = [h.strip() for h in next(reader, [])]
        if "date" not in header or "price_usd" not in header:
            raise InputError(field, "line 1", "a CSV with a header holding the columns date,price_usd")
        i_date, i_price = header.index("date"), header.index("price_usd")
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            raw_date = row[i_date].strip() if i_date < len(row) else ""
            raw_price = row[i_price].strip() if i_price < len(row) else ""
            try:
                day = dt.date.fromisoformat(raw_date[:10])
            except ValueError:
                raise InputError(
                    field, f"line {line}, column {i_date + 1}", "an ISO date YYYY-MM-DD"
                ) from None
            try:
                price = float(raw_price)
            except ValueError:
                price = math.nan
            if not math.isfinite(price) or price <= 0:
                raise InputError(field, f"line {line}, column {i_price + 1}", "a finite price in USD > 0")
            if dates and (day - dates[-1]).days != 1:
                raise InputError(
                    field,
                    f"line {line}, column {i_date + 1}",
                    "consecutive daily dates (the day after the previous line's: no gap, repeat or unsorted row)",
                )
            dates.append(day)
            prices.append(price)
    except csv.Error as exc:
        # the csv module's messages describe the fault (NUL byte, field too large), never the content
        raise InputError(field, f"line {reader.line_num}", f"a readable CSV ({exc})") from None
    if not prices:
        raise InputError(field, "no rows", "at least one date,price_usd row")
    return dates, prices


def log_returns_from_prices(prices_usd: Sequence[float] | FloatArray) -> FloatArray:
    """Daily log returns ``log(P[t+1] / P[t])`` of a price series [-]."""
    p = np.asarray(prices_usd, dtype=float)
    out: FloatArray = np.diff(np.log(p))
    return out


@dataclass(frozen=True)
class PreparedPrice:
    """A validated price model, ready to draw returns.

    Attributes
    ----------
    spec : GbmPrice | JumpPrice | BootstrapPrice | PathPrice
        The scenario's model.
    n_days : int
        Horizon [days].
    start_price_usd : float or None
        The path model's first price (replaces the snapshot's); None for the other models.
    sigma_daily : float
        Daily volatility of the model [-], for the price-impact law.
    history : ndarray or None
        Bootstrap: the (demeaned, re-drifted) historical returns.
    deterministic : ndarray or None
        Path: the fixed returns; other models: the shock overlay (zeros when none), shape ``(n_days,)``.
    """

    spec: PriceSpec
    n_days: int
    start_price_usd: float | None
    sigma_daily: float
    history: FloatArray | None
    deterministic: FloatArray


def shock_overlay(shock: ShockSpec | None, n_days: int) -> FloatArray:
    """Additive daily log drift of a shock: ``log(1 + total_return) / days`` on days ``0 .. days-1``."""
    out = np.zeros(n_days)
    if shock is not None:
        out[: min(shock.days, n_days)] = math.log1p(shock.total_return) / shock.days
    return out


def prepare_price(spec: PriceSpec, n_days: int) -> PreparedPrice:
    """Validate `spec` against the horizon and precompute what the draws need.

    Raises
    ------
    InputError
        If a file reference was not loaded, a path does not cover the horizon, or a bootstrap history is
        shorter than one block.
    """
    if isinstance(spec, PathPrice):
        if spec.prices_usd is None:
            raise InputError(
                "price.csv", spec.csv, "a price path loaded into price.prices_usd (the CLI loads it)"
            )
        if len(spec.prices_usd) < n_days:
            raise InputError(
                "price.prices_usd",
                f"{len(spec.prices_usd)} prices",
                f"at least horizon_days = {n_days} daily prices (day 0 first)",
            )
        ret = np.zeros(n_days)
        ret[: n_days - 1] = log_returns_from_prices(spec.prices_usd[:n_days])
        realised = float(np.std(ret[: n_days - 1])) if n_days > 2 else 0.0
        return PreparedPrice(
            spec, n_days, float(spec.prices_usd[0]), realised or DEFAULT_SIGMA_DAILY, None, ret
        )
    overlay = shock_overlay(spec.shock, n_days)
    if isinstance(spec, BootstrapPrice):
        if spec.log_returns is not None:
            hist = np.asarray(spec.log_returns, dtype=float)
        elif spec.prices_usd is not None:
            hist = log_returns_from_prices(spec.prices_usd)
        elif spec.from_store:
            raise InputError(
                "price.from_store", True, "stored returns loaded into price.log_returns (the CLI loads them)"
            )
        else:
            raise InputError(
                "price.csv", spec.csv, "a price history loaded into price.prices_usd (the CLI loads it)"
            )
        if hist.size < spec.block_days:
            raise InputError(
                "price.block_days",
                spec.block_days,
                f"a block no longer than the history ({hist.size} daily returns)",
            )
        if spec.demean:
            hist = hist - hist.mean() + spec.drift / DAYS_PER_YEAR
        sigma = float(np.std(hist))
        return PreparedPrice(spec, n_days, None, sigma or DEFAULT_SIGMA_DAILY, hist, overlay)
    if isinstance(spec, JumpPrice) and spec.tails == "merton":
        var = spec.vol**2 + spec.jump_rate_per_year * (spec.jump_mean**2 + spec.jump_vol**2)
        sigma = math.sqrt(var / DAYS_PER_YEAR)
    else:
        sigma = spec.vol / math.sqrt(DAYS_PER_YEAR)
    return PreparedPrice(spec, n_days, None, sigma or DEFAULT_SIGMA_DAILY, None, overlay)


def draw_log_returns(
    prep: PreparedPrice, gens: Sequence[np.random.Generator], n_paths: int, out: FloatArray
) -> None:
    """Fill ``out[:n_paths, :n_days]`` with exogenous daily log returns of `prep`'s model.

    Each model draws from its own generators in a fixed order (``gens[0]`` the main shocks, ``gens[1]`` the
    jump counts, ``gens[2]`` the jump sizes) and always row by row, so the first rows are the same whatever
    `n_paths` is (prefix-stable: a path's numbers do not depend on how many paths are drawn with it).

    Parameters
    ----------
    prep : PreparedPrice
        From :func:`prepare_price`.
    gens : sequence of numpy.random.Generator
        At least :data:`N_PRICE_STREAMS` generators for this block of paths.
    n_paths : int
        Rows to fill.
    out : ndarray, shape (>= n_paths, n_days), float64, C-contiguous
        Destination.
    """
    spec, n_days = prep.spec, prep.n_days
    dst = out[:n_paths]
    shape = (n_paths, n_days)
    if isinstance(spec, PathPrice):
        dst[:] = prep.deterministic
        return
    if isinstance(spec, BootstrapPrice):
        assert prep.history is not None
        hist, block = prep.history, spec.block_days
        n_blocks = -(-n_days // block)
        starts = gens[0].integers(0, hist.size - block + 1, size=(n_paths, n_blocks))
        idx = (starts[:, :, None] + np.arange(block)).reshape(n_paths, n_blocks * block)[:, :n_days]
        dst[:] = hist[idx]
    elif isinstance(spec, JumpPrice) and spec.tails == "student_t":
        scale = spec.vol / math.sqrt(DAYS_PER_YEAR) * math.sqrt((spec.df - 2.0) / spec.df)
        dst[:] = gens[0].standard_t(spec.df, size=shape)
        dst *= scale
        dst += (spec.drift - 0.5 * spec.vol**2) / DAYS_PER_YEAR
    else:
        assert isinstance(spec, GbmPrice | JumpPrice)
        gens[0].standard_normal(out=dst)
        dst *= spec.vol / math.sqrt(DAYS_PER_YEAR)
        drift = spec.drift - 0.5 * spec.vol**2
        if isinstance(spec, JumpPrice):
            rate = spec.jump_rate_per_year / DAYS_PER_YEAR
            kappa = math.expm1(spec.jump_mean + 0.5 * spec.jump_vol**2)
            drift -= spec.jump_rate_per_year * kappa
            counts = gens[1].poisson(rate, size=shape).astype(float)
            sizes = gens[2].standard_normal(size=shape)
            dst += counts * spec.jump_mean + np.sqrt(counts) * spec.jump_vol * sizes
        dst += drift / DAYS_PER_YEAR
    dst += prep.deterministic
