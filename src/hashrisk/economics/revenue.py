"""Mining revenue per unit of hashrate, and hashprice.

All functions broadcast over scalars, numpy arrays and pandas Series.

The expected number of blocks one TH/s finds per day is ``86,400 * 1e12 / (difficulty * 2**32)``, so::

    revenue_btc_per_ths_day = 86,400e12 * (subsidy_btc + fees_btc_per_block) / (difficulty * 2**32)
    hashprice_usd_per_ph_day = 1,000 * revenue_btc_per_ths_day * price_usd
    hashprice_sats_per_th_day = 1e8 * revenue_btc_per_ths_day

Reference: Luxor Hashrate Index, "hashprice" (expected USD value of 1 PH/s of hashrate per day).
Block 730,000 (difficulty 28,587,155,782,195.14, subsidy 6.25 BTC) gives 439.8 sats/TH/day subsidy-only.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hashrisk._validate import check_nonnegative, check_positive
from hashrisk.constants import HASHES_PER_DIFFICULTY, SATS_PER_BTC, SECONDS_PER_DAY

FloatArray = npt.NDArray[np.float64]


def blocks_per_ths_day(difficulty: npt.ArrayLike) -> FloatArray:
    """Expected blocks found per day by 1 TH/s at `difficulty` [blocks/(TH/s)/day]."""
    d = check_positive("difficulty", difficulty)
    return SECONDS_PER_DAY * 1e12 / (d * HASHES_PER_DIFFICULTY)


def revenue_btc_per_ths_day(
    difficulty: npt.ArrayLike, subsidy_btc: npt.ArrayLike, fees_btc_per_block: npt.ArrayLike = 0.0
) -> FloatArray:
    """Expected revenue of 1 TH/s per day [BTC/(TH/s)/day].

    Parameters
    ----------
    difficulty : array_like
        Network difficulty [-].
    subsidy_btc : array_like
        Block subsidy [BTC/block].
    fees_btc_per_block : array_like
        Mean fees per block [BTC/block].
    """
    reward = check_nonnegative("subsidy_btc", subsidy_btc) + check_nonnegative(
        "fees_btc_per_block", fees_btc_per_block
    )
    return blocks_per_ths_day(difficulty) * reward


def revenue_usd_per_ths_day(
    difficulty: npt.ArrayLike,
    subsidy_btc: npt.ArrayLike,
    fees_btc_per_block: npt.ArrayLike,
    price_usd: npt.ArrayLike,
) -> FloatArray:
    """Expected revenue of 1 TH/s per day [USD/(TH/s)/day] at BTC price `price_usd` [USD/BTC]."""
    return revenue_btc_per_ths_day(difficulty, subsidy_btc, fees_btc_per_block) * check_positive(
        "price_usd", price_usd
    )


def hashprice_usd_per_ph_day(
    difficulty: npt.ArrayLike,
    subsidy_btc: npt.ArrayLike,
    fees_btc_per_block: npt.ArrayLike,
    price_usd: npt.ArrayLike,
) -> FloatArray:
    """Hashprice [USD/(PH/s)/day] = 1,000 x USD revenue per TH/s per day."""
    return 1_000.0 * revenue_usd_per_ths_day(difficulty, subsidy_btc, fees_btc_per_block, price_usd)


def hashprice_sats_per_th_day(
    difficulty: npt.ArrayLike, subsidy_btc: npt.ArrayLike, fees_btc_per_block: npt.ArrayLike = 0.0
) -> FloatArray:
    """Hashprice in satoshis [sats/(TH/s)/day] (price-free)."""
    return SATS_PER_BTC * revenue_btc_per_ths_day(difficulty, subsidy_btc, fees_btc_per_block)
