"""Measured history: hashrate sensitivity to price, miner indicators and their backtest.

Pure functions of a daily frame (``hashrisk.data.store.Store().daily_frame()``); no I/O.

- :func:`~.sensitivity.measure_sensitivity` -> :class:`~.sensitivity.SensitivityResult` (``hashrisk sensitivity``)
- :func:`~.indicators.compute_indicators` -> :class:`~.indicators.Indicators` (``hashrisk indicators``)
- :func:`~.indicators.hash_ribbons` -> :class:`~.indicators.HashRibbons`
"""

from __future__ import annotations

from hashrisk.analytics.indicators import (
    HashRibbons,
    Indicators,
    compute_indicators,
    difficulty_ribbon,
    hash_ribbons,
    hashprice_history,
    miner_revenue,
    puell_multiple,
)
from hashrisk.analytics.sensitivity import SensitivityResult, measure_sensitivity

__all__ = [
    "HashRibbons",
    "Indicators",
    "SensitivityResult",
    "compute_indicators",
    "difficulty_ribbon",
    "hash_ribbons",
    "hashprice_history",
    "measure_sensitivity",
    "miner_revenue",
    "puell_multiple",
]
