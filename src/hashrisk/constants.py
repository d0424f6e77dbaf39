"""The one home of the project's constants: units of time and money, and Bitcoin's consensus parameters.

Every other module imports these names from here (``hashrisk.chain`` re-exports the consensus ones next to
the rules that use them). The consensus values are mainnet's, as Bitcoin Core defines them (file given per
constant); they are facts of the protocol, not assumptions.
"""

from __future__ import annotations

from typing import Final

# ------------------------------------------------------------------------------------------ units
SECONDS_PER_DAY: Final = 86_400
"""Seconds in a day [s/day] (UTC days; block times are unix seconds)."""
DAYS_PER_YEAR: Final = 365.0
"""Days per year used to annualise daily figures (volatility, deployment rates) [days/year]."""
TH_PER_EH: Final = 1e6
"""TH/s per EH/s (display conversion only; every stored and computed hashrate is in TH/s)."""
TH_PER_PH: Final = 1e3
"""TH/s per PH/s (hashprice is quoted per PH/s per day)."""
HASHES_PER_TH: Final = 1e12
"""Hashes per second in one TH/s."""

# ------------------------------------------------------------------------------------------ consensus
SATS_PER_BTC: Final = 100_000_000
"""Satoshis per BTC (src/consensus/amount.h ``COIN``)."""
HALVING_INTERVAL_BLOCKS: Final = 210_000
"""``consensus.nSubsidyHalvingInterval`` (src/kernel/chainparams.cpp)."""
INITIAL_SUBSIDY_SATS: Final = 50 * SATS_PER_BTC
"""Subsidy of the blocks of the first era [sats] (src/validation.cpp ``GetBlockSubsidy``)."""
TARGET_SPACING_S: Final = 600
"""``consensus.nPowTargetSpacing`` [s]."""
RETARGET_INTERVAL_BLOCKS: Final = 2016
"""``DifficultyAdjustmentInterval()`` = nPowTargetTimespan / nPowTargetSpacing [blocks]."""
TARGET_TIMESPAN_S: Final = RETARGET_INTERVAL_BLOCKS * TARGET_SPACING_S
"""``consensus.nPowTargetTimespan`` = 1,209,600 s (two weeks)."""
POW_LIMIT_BITS: Final = 0x1D00FFFF
"""Mainnet ``consensus.powLimit`` in compact form (src/kernel/chainparams.cpp)."""
HASHES_PER_DIFFICULTY: Final = 2**32
"""Expected hashes per block at difficulty 1 is 2**256 / (DIFF1_TARGET + 1) ~= 2**32 (the usual convention)."""
