"""Synthetic daily histories for the analytics tests (built from stated formulas, no real data)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

BLOCKS = 144
HASHES_PER_DIFFICULTY = 2**32


def network_frame(
    price_usd: Sequence[float] | np.ndarray,
    hashrate_ths: Sequence[float] | np.ndarray,
    start: str = "2020-01-06",
    *,
    subsidy_per_block: float = 3.125,
    fees_per_block: float = 0.1,
    difficulty: Sequence[float] | np.ndarray | None = None,
) -> pd.DataFrame:
    """A daily frame shaped like ``Store.daily_frame()`` (UTC index, Int64 blocks, per-day totals).

    Difficulty follows the Coin Metrics identity ``hashrate = difficulty * 2**32 * blocks / 86400 / 1e12``
    with 144 blocks a day, unless given.
    """
    price = np.asarray(price_usd, dtype=float)
    rate = np.asarray(hashrate_ths, dtype=float)
    n = len(price)
    index = pd.date_range(start, periods=n, freq="D", tz="UTC", name="date")
    diff = (
        rate * 1e12 * 86_400 / (HASHES_PER_DIFFICULTY * BLOCKS)
        if difficulty is None
        else np.asarray(difficulty, dtype=float)
    )
    return pd.DataFrame(
        {
            "source": "synthetic",
            "price_usd": price,
            "hashrate_ths": rate,
            "difficulty": diff,
            "blocks": pd.array([BLOCKS] * n, dtype="Int64"),
            "fees_btc": np.full(n, fees_per_block * BLOCKS),
            "subsidy_btc": np.full(n, subsidy_per_block * BLOCKS),
        },
        index=index,
    )


def distributed_lag_history(
    n_weeks: int,
    betas: Callable[[pd.Timestamp], Sequence[float]],
    *,
    start: str = "2019-01-07",
    seed: int = 1,
    sigma_x: float = 0.08,
    sigma_e: float = 0.01,
    growth: float = 0.01,
) -> pd.DataFrame:
    """Weekly levels with a built-in distributed-lag elasticity, held constant over each Monday-Sunday week.

    ``x_t ~ N(0, sigma_x)`` are weekly log-price changes; ``y_t = growth + sum_k b_k(t) x_{t-k} + e_t`` with
    ``e_t ~ N(0, sigma_e)`` and ``b(t) = betas(sunday of week t)``. Levels are cumulative sums; every day of
    a week carries the week's level, so weekly means equal the levels exactly. `start` must be a Monday.
    """
    assert pd.Timestamp(start).day_of_week == 0
    rng = np.random.default_rng(seed)
    burn = 30
    x = rng.normal(0.0, sigma_x, n_weeks + burn)
    e = rng.normal(0.0, sigma_e, n_weeks + burn)
    sundays = pd.date_range(start, periods=n_weeks, freq="W-SUN")
    y = np.zeros(n_weeks + burn)
    for t in range(burn, n_weeks + burn):
        b = betas(sundays[t - burn])
        y[t] = growth + sum(bk * x[t - k] for k, bk in enumerate(b)) + e[t]
    log_p = np.log(30_000.0) + np.cumsum(x)[burn:]
    log_h = np.log(5e8) + np.cumsum(y)[burn:]
    return network_frame(np.repeat(np.exp(log_p), 7), np.repeat(np.exp(log_h), 7), start=start)
