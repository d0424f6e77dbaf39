"""Block subsidy, exactly as Bitcoin Core's ``GetBlockSubsidy`` (src/validation.cpp)."""

from __future__ import annotations

import operator

from hashrisk.constants import HALVING_INTERVAL_BLOCKS as HALVING_INTERVAL_BLOCKS  # re-exported
from hashrisk.constants import INITIAL_SUBSIDY_SATS as INITIAL_SUBSIDY_SATS
from hashrisk.constants import SATS_PER_BTC
from hashrisk.errors import ConsensusError

COIN_SATS = SATS_PER_BTC
"""Satoshis per BTC under Core's name ``COIN`` (the same constant as :data:`hashrisk.constants.SATS_PER_BTC`)."""


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
