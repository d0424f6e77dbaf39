"""Block subsidy, exactly as Bitcoin Core's ``GetBlockSubsidy`` (src/validation.cpp)."""

from __future__ import annotations

import datetime as dt
import operator
from typing import Any

from hashrisk.chain.pow import kernel_callable
from hashrisk.constants import HALVING_INTERVAL_BLOCKS as HALVING_INTERVAL_BLOCKS  # re-exported
from hashrisk.constants import INITIAL_SUBSIDY_SATS as INITIAL_SUBSIDY_SATS
from hashrisk.constants import SATS_PER_BTC
from hashrisk.errors import ConsensusError

COIN_SATS = SATS_PER_BTC
"""Satoshis per BTC under Core's name ``COIN`` (the same constant as :data:`hashrisk.constants.SATS_PER_BTC`)."""

GENESIS_DATE = dt.date(2009, 1, 3)
"""UTC day of the genesis block (height 0, header time 2009-01-03 18:15:05 UTC): the first subsidy era."""
HALVING_DATES: dict[int, dt.date] = {
    210_000: dt.date(2012, 11, 28),  # block 210,000 at 2012-11-28 15:24:38 UTC
    420_000: dt.date(2016, 7, 9),  # block 420,000 at 2016-07-09 16:46:13 UTC
    630_000: dt.date(2020, 5, 11),  # block 630,000 at 2020-05-11 19:23:43 UTC
    840_000: dt.date(2024, 4, 20),  # block 840,000 at 2024-04-20 00:09:27 UTC
}
"""UTC day of each past halving: halving height -> day of that block's header time (mainnet block headers,
e.g. ``bitcoin-cli getblockheader $(bitcoin-cli getblockhash 840000)``; facts, not assumptions)."""


def _check_height(height: int) -> int:
    try:
        h = operator.index(height)
    except TypeError:
        raise ConsensusError("height", height, "an integer block height >= 0") from None
    if h < 0:
        raise ConsensusError("height", height, "an integer block height >= 0")
    return h


def block_subsidy_sats(height: int) -> int:
    """Subsidy of the block at `height` [sats].

    ``halvings = height // 210000``; ``subsidy = (50 * COIN) >> halvings``, and zero once
    ``halvings >= 64`` (Core guards the shift, which would be undefined in C++).

    Parameters
    ----------
    height : int
        Block height [blocks], >= 0.

    Returns
    -------
    int
        Subsidy [sats].

    Examples
    --------
    >>> block_subsidy_sats(840_000)
    312500000
    """
    halvings = _check_height(height) // HALVING_INTERVAL_BLOCKS
    if halvings >= 64:
        return 0
    return INITIAL_SUBSIDY_SATS >> halvings


def next_halving_height(height: int) -> int:
    """First height of the next subsidy era after `height` [blocks]."""
    return (_check_height(height) // HALVING_INTERVAL_BLOCKS + 1) * HALVING_INTERVAL_BLOCKS


def total_supply_sats(up_to_height: int | None = None) -> int:
    """Sum of all subsidies of heights ``0 .. up_to_height`` inclusive [sats] (all eras when None).

    The genesis coinbase is counted here as the rule defines it, although it is unspendable.
    The full sum is 2,099,999,997,690,000 sats = 20,999,999.9769 BTC.
    """
    last = 64 * HALVING_INTERVAL_BLOCKS - 1 if up_to_height is None else _check_height(up_to_height)
    total = 0
    era = 0
    while era < 64 and era * HALVING_INTERVAL_BLOCKS <= last:
        start = era * HALVING_INTERVAL_BLOCKS
        end = min(last, start + HALVING_INTERVAL_BLOCKS - 1)
        total += (end - start + 1) * (INITIAL_SUBSIDY_SATS >> era)
        era += 1
    return total


# ------------------------------------------------------------------------------------------- kernel forms
@kernel_callable
def block_subsidy_sats_i64(height: int) -> int:
    """:func:`block_subsidy_sats` without validation, for compiled kernels (int64 height >= 0) [sats]."""
    halvings = height // HALVING_INTERVAL_BLOCKS
    if halvings >= 64:
        return 0
    return INITIAL_SUBSIDY_SATS >> halvings


@kernel_callable
def subsidy_range_sats_i64(first: int, last: int) -> int:
    """Sum of the subsidies of heights ``first .. last`` inclusive [sats] (0 when ``last < first``)."""
    total = 0
    h = first
    while h <= last:
        e = min(last, (h // HALVING_INTERVAL_BLOCKS + 1) * HALVING_INTERVAL_BLOCKS - 1)
        total += (e - h + 1) * block_subsidy_sats_i64(h)
        h = e + 1
    return total


def block_subsidy_sats_xp(xp: Any, height: Any) -> Any:
    """:func:`block_subsidy_sats_i64` element-wise on an int64 array of namespace `xp` [sats]."""
    halvings = height // HALVING_INTERVAL_BLOCKS
    shifted = xp.right_shift(xp.int64(INITIAL_SUBSIDY_SATS), xp.minimum(halvings, 63))
    return xp.where(halvings >= 64, 0, shifted)


def subsidy_range_sats_xp(xp: Any, first: Any, n: Any) -> Any:
    """Sum of the subsidies of heights ``first .. first + n - 1`` element-wise [sats] (``0 <= n < 210,000``)."""
    last = first + n - 1
    boundary = (first // HALVING_INTERVAL_BLOCKS + 1) * HALVING_INTERVAL_BLOCKS
    split = (boundary - first) * block_subsidy_sats_xp(xp, first) + (
        last - boundary + 1
    ) * block_subsidy_sats_xp(xp, boundary)
    total = xp.where(last >= boundary, split, n * block_subsidy_sats_xp(xp, first))
    return xp.where(n > 0, total, 0)
