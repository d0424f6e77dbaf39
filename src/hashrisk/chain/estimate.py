"""Next difficulty adjustment estimated from an epoch in progress.

Model
-----
Blocks arrive as a Poisson process of unknown rate ``lam`` [blocks/s] while the difficulty is fixed.
The rate gets a Gamma prior worth ``k`` pseudo-intervals at a prior mean interval ``mu0``, and the
observed epoch updates it (Gamma-Poisson conjugacy)::

    alpha = k + (n - 1)                 # prior pseudo-intervals + observed intervals
    beta  = k * mu0 + (now - t0)        # [s] of exposure, including the time since the last block

where ``n`` blocks of the epoch are known (heights ``H0 .. H0+n-1``) and ``t0`` is the time of block H0.
The time still needed for the ``m = 2016 - n`` blocks up to the epoch's last block ``H0+2015`` is, by
memorylessness, a sum of ``m`` exponential gaps counted from `now`; integrating out ``lam`` gives
``T = beta * X`` with ``X ~ BetaPrime(m, alpha)``, so ``E[T] = beta * m / (alpha - 1)``. Every timespan
quantile is pushed through the consensus rule :func:`hashrisk.chain.pow.next_bits` (clamp, integer
division, compact rounding), which also carries the 2015-interval quirk.

Early in an epoch the estimate blends in the previous epoch like mempool.space's estimator does
(backend/src/api/difficulty-adjustment.ts: for the first 503 blocks it uses a sliding 504-block window
whose older part is the previous epoch's tail, its time scaled by the previous retarget). Here the window
is the prior: ``k = max(0, prior_blocks - (n - 1))`` pseudo-intervals at ``mu0`` = the previous epoch's
mean interval rescaled to the current difficulty (see :func:`prior_interval_from_previous_epoch`),
600 s when unknown. Once 503 intervals are observed the prior weight is zero.

Once the epoch's last block is known (``n == 2016``) the new bits are fixed: the result is exact and the
band collapses ("locked in").

Block times may run ahead of the local clock: consensus accepts a header up to two hours after the node's
network-adjusted time (Bitcoin Core ``MAX_FUTURE_BLOCK_TIME`` = 7,200 s, src/chain.h), so a last-block time up
to :data:`MAX_FUTURE_BLOCK_TIME_S` after `now` is accepted (mempool.space's lock-in test vector has the epoch's
last block 17 s after its "now"). The elapsed exposure is then counted up to the later of the two.

Baseline: :func:`mempool_difficulty_change_pct` is mempool.space's own point estimate, reimplemented from its
source (backend/src/api/difficulty-adjustment.ts, ``calcDifficultyAdjustment``, and its test vectors in
backend/src/__tests__/api/difficulty-adjustment.test.ts), used as the reference in evaluations.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from scipy import stats

from hashrisk.chain.pow import (
    RETARGET_INTERVAL_BLOCKS,
    TARGET_SPACING_S,
    bits_to_difficulty,
    next_bits,
)
from hashrisk.errors import InputError

DEFAULT_PRIOR_BLOCKS = 504
"""Length of mempool.space's blending window (a quarter epoch) [blocks]."""
MAX_FUTURE_BLOCK_TIME_S = 7_200
"""Largest lead of a block's timestamp over the clock that consensus allows [s] (Bitcoin Core
``MAX_FUTURE_BLOCK_TIME``, two hours ahead of network-adjusted time)."""
MEMPOOL_WINDOW_BLOCKS = 504
"""mempool.space's sliding window used while the epoch holds fewer than 503 blocks after its first [blocks]."""


@dataclass(frozen=True)
class AdjustmentEstimate:
    """Estimate of the next retarget.

    Attributes
    ----------
    retarget_height : int
        First height mined at the new difficulty (``H0 + 2016``).
    locked_in : bool
        True when the epoch's last block is known and the result is exact.
    blocks_mined, blocks_remaining : int
        Blocks of the epoch known / still to mine up to and including ``H0 + 2015``.
    mean_interval_s : float
        Posterior mean block interval at the current difficulty [s].
    change_pct_p05, change_pct_p50, change_pct_p95, change_pct_mean : float
        Difficulty change at the retarget [%]: 5%, 50%, 95% quantiles and the change at the mean timespan.
    next_bits_p50 : int
        Compact target at the median timespan.
    lock_in_time_p05, lock_in_time_p50, lock_in_time_p95, lock_in_time_mean : float
        Time [unix s] at which block ``H0 + 2015`` is mined, which fixes the new difficulty.
    """

    retarget_height: int | None
    locked_in: bool
    blocks_mined: int
    blocks_remaining: int
    mean_interval_s: float
    change_pct_p05: float
    change_pct_p50: float
    change_pct_p95: float
    change_pct_mean: float
    next_bits_p50: int
    lock_in_time_p05: float
    lock_in_time_p50: float
    lock_in_time_p95: float
    lock_in_time_mean: float

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def prior_interval_from_previous_epoch(previous_timespan_s: float, previous_change_pct: float) -> float:
    """Previous epoch's mean interval restated at the current difficulty [s].

    ``mu0 = previous_timespan_s / 2015 * (1 + previous_change_pct / 100)``: the previous epoch's hashrate
    would mine ``(1 + change)`` times slower at the new, higher difficulty (mempool.space's rescaling).
    """
    if not math.isfinite(previous_timespan_s) or previous_timespan_s <= 0:
        raise InputError("previous_timespan_s", previous_timespan_s, "a finite duration > 0 [s]")
    if not math.isfinite(previous_change_pct) or not -75.0 <= previous_change_pct <= 300.0:
        raise InputError("previous_change_pct", previous_change_pct, "a retarget change in [-75, 300] %")
    return previous_timespan_s / (RETARGET_INTERVAL_BLOCKS - 1) * (1.0 + previous_change_pct / 100.0)


def _change_pct(current_bits: int, new_bits: int) -> float:
    return (bits_to_difficulty(new_bits) / bits_to_difficulty(current_bits) - 1.0) * 100.0


def estimate_next_adjustment(
    current_bits: int,
    epoch_start_time: int,
    blocks_mined: int,
    now: int,
    *,
    last_block_time: int | None = None,
    epoch_start_height: int | None = None,
    prior_interval_s: float = TARGET_SPACING_S,
    prior_blocks: int = DEFAULT_PRIOR_BLOCKS,
    band: tuple[float, float] = (0.05, 0.95),
) -> AdjustmentEstimate:
    """Estimate the next difficulty adjustment from an epoch in progress.

    Parameters
    ----------
    current_bits : int
        nBits of the epoch in progress.
    epoch_start_time : int
        Header time [unix s] of the epoch's first block (height ``H0``, a multiple of 2016).
    blocks_mined : int
        Blocks of the epoch already mined, ``1 .. 2016`` (block H0 counts as 1).
    now : int
        Current time [unix s]. `last_block_time` may be up to :data:`MAX_FUTURE_BLOCK_TIME_S` after it (a
        block's timestamp may run ahead of the local clock); the exposure then runs to `last_block_time`.
    last_block_time : int, optional
        Header time of the latest block. Required when ``blocks_mined == 2016`` (lock-in), where it is the
        time of block ``H0 + 2015``.
    epoch_start_height : int, optional
        ``H0``; when given the result carries ``retarget_height = H0 + 2016``.
    prior_interval_s : float
        Prior mean interval at the current difficulty [s] (see :func:`prior_interval_from_previous_epoch`).
    prior_blocks : int
        Blending window [blocks]; 0 disables the prior (then at least 3 blocks must be known).
    band : tuple of float
        Lower and upper quantiles of the uncertainty band.

    Returns
    -------
    AdjustmentEstimate
    """
    bits_to_difficulty(current_bits)  # validates
    if not isinstance(blocks_mined, int) or not 1 <= blocks_mined <= RETARGET_INTERVAL_BLOCKS:
        raise InputError("blocks_mined", blocks_mined, "an integer in [1, 2016] (block H0 counts as 1)")
    if now < epoch_start_time:
        raise InputError("now", now, f"a unix time >= epoch_start_time ({epoch_start_time})")
    if last_block_time is not None and last_block_time > now + MAX_FUTURE_BLOCK_TIME_S:
        raise InputError(
            "last_block_time",
            last_block_time,
            f"a unix time at most {MAX_FUTURE_BLOCK_TIME_S:,} s (consensus MAX_FUTURE_BLOCK_TIME) after now ({now})",
        )
    if last_block_time is not None and last_block_time > now:
        now = last_block_time  # the chain has seen at least this much time
    if not math.isfinite(prior_interval_s) or prior_interval_s <= 0:
        raise InputError("prior_interval_s", prior_interval_s, "a finite interval > 0 [s]")
    if prior_blocks < 0:
        raise InputError("prior_blocks", prior_blocks, "an integer >= 0")
    lo, hi = band
    if not 0 < lo < 0.5 < hi < 1:
        raise InputError("band", band, "two quantiles with 0 < low < 0.5 < high < 1")
    retarget_height = None if epoch_start_height is None else epoch_start_height + RETARGET_INTERVAL_BLOCKS
    if epoch_start_height is not None and epoch_start_height % RETARGET_INTERVAL_BLOCKS:
        raise InputError("epoch_start_height", epoch_start_height, "a multiple of 2016")

    observed = blocks_mined - 1
    remaining = RETARGET_INTERVAL_BLOCKS - blocks_mined

    if remaining == 0:
        if last_block_time is None:
            raise InputError(
                "last_block_time", None, "the time of block H0+2015 when blocks_mined == 2016 (lock-in)"
            )
        new_bits = next_bits(current_bits, epoch_start_time, last_block_time)
        change = _change_pct(current_bits, new_bits)
        span = last_block_time - epoch_start_time
        return AdjustmentEstimate(
            retarget_height,
            True,
            blocks_mined,
            0,
            span / observed,
            change,
            change,
            change,
            change,
            new_bits,
            float(last_block_time),
            float(last_block_time),
            float(last_block_time),
            float(last_block_time),
        )

    k = max(0, prior_blocks - observed)
    alpha = k + observed
    beta = k * prior_interval_s + (now - epoch_start_time)
    if alpha <= 1 or beta <= 0:
        raise InputError(
            "blocks_mined", blocks_mined, "at least 3 known blocks when prior_blocks is 0 (or use a prior)"
        )
    elapsed = now - epoch_start_time
    dist = stats.betaprime(remaining, alpha, scale=beta)
    t_mean = beta * remaining / (alpha - 1)
    t_lo, t_med, t_hi = (float(x) for x in dist.ppf([lo, 0.5, hi]))

    def bits_at(rest_s: float) -> int:
        return next_bits(current_bits, epoch_start_time, epoch_start_time + round(elapsed + rest_s))

    bits_med = bits_at(t_med)
    # a longer timespan means a lower difficulty: the high time quantile gives the low change quantile
    return AdjustmentEstimate(
        retarget_height=retarget_height,
        locked_in=False,
        blocks_mined=blocks_mined,
        blocks_remaining=remaining,
        mean_interval_s=beta / (alpha - 1),
        change_pct_p05=_change_pct(current_bits, bits_at(t_hi)),
        change_pct_p50=_change_pct(current_bits, bits_med),
        change_pct_p95=_change_pct(current_bits, bits_at(t_lo)),
        change_pct_mean=_change_pct(current_bits, bits_at(t_mean)),
        next_bits_p50=bits_med,
        lock_in_time_p05=now + t_lo,
        lock_in_time_p50=now + t_med,
        lock_in_time_p95=now + t_hi,
        lock_in_time_mean=now + t_mean,
    )


def mempool_difficulty_change_pct(
    epoch_start_time: float,
    now: float,
    blocks_in_epoch: int,
    *,
    window_start_time: float | None = None,
    previous_change_pct: float = 0.0,
    last_block_time: float | None = None,
) -> float:
    """mempool.space's estimate of the next difficulty change [%] (the baseline of the evaluations).

    Reimplemented from mempool.space's source, backend/src/api/difficulty-adjustment.ts
    (``calcDifficultyAdjustment``, mempool/mempool on GitHub, 2024 version with the quarter-epoch window), and
    checked against the test vectors of backend/src/__tests__/api/difficulty-adjustment.test.ts:

    - ``blocks_in_epoch`` = height of the tip modulo 2016 (blocks mined after the epoch's first block);
    - while ``blocks_in_epoch < 503`` and the time of the block 504 below the tip is known
      (`window_start_time`), the pace is that of the 504-block window, its part in the previous epoch
      restated at the current difficulty::

          span = (now - t0) + (t0 - window_start_time) * (1 + previous_change_pct / 100)
          change = 600 / (span / 504) - 1

    - otherwise the epoch's own pace: ``change = 600 / ((T - t0) / (blocks_in_epoch + 1)) - 1`` with
      ``T = last_block_time`` once the epoch's last block is known (``blocks_in_epoch == 2015``), else `now`;
    - clamped to [-75, +300] %.

    A point estimate in floating point (no compact rounding, no band).

    Parameters
    ----------
    epoch_start_time : float
        Time of the epoch's first block ``t0`` [unix s].
    now : float
        Current time [unix s].
    blocks_in_epoch : int
        Tip height modulo 2016, 0 .. 2015.
    window_start_time : float, optional
        Time of the block 504 below the tip [unix s] (None: no window).
    previous_change_pct : float
        The previous retarget's change [%].
    last_block_time : float, optional
        Time of the tip; required when ``blocks_in_epoch == 2015``.

    Examples
    --------
    mempool's lock-in vector (epoch ending at height 788,255):

    >>> t0, last = 1681984653, 1683212066  # 2023-04-20T09:57:33Z, 2023-05-04T14:54:26Z
    >>> round(mempool_difficulty_change_pct(t0, 1683212049, 2015, last_block_time=last), 10)
    -1.4512637556
    """
    if not isinstance(blocks_in_epoch, int) or not 0 <= blocks_in_epoch < RETARGET_INTERVAL_BLOCKS:
        raise InputError("blocks_in_epoch", blocks_in_epoch, "an integer in [0, 2015] (tip height % 2016)")
    if blocks_in_epoch == RETARGET_INTERVAL_BLOCKS - 1:
        if last_block_time is None:
            raise InputError(
                "last_block_time", None, "the time of the epoch's last block (blocks_in_epoch 2015)"
            )
        end = float(last_block_time)
    else:
        end = float(now)
    if window_start_time is not None and blocks_in_epoch < MEMPOOL_WINDOW_BLOCKS - 1:
        span = max(0.0, now - epoch_start_time) + (epoch_start_time - window_start_time) * (
            1.0 + previous_change_pct / 100.0
        )
        blocks = MEMPOOL_WINDOW_BLOCKS
    else:
        span = end - epoch_start_time
        blocks = blocks_in_epoch + 1
    if span <= 0:
        raise InputError("now", now, f"a time after the epoch's first block ({epoch_start_time})")
    change = (TARGET_SPACING_S / (span / blocks) - 1.0) * 100.0
    return min(300.0, max(-75.0, change))
