"""Response models of ``GET /api/onchain`` (pools and coinbase flows from the user's node, issue 15)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PoolShareOut(BaseModel):
    """One pool's share of the window's blocks (implied hashrate share) with a Wilson interval."""

    pool: str = Field(description='Pool name from mempool/mining-pools definitions, or "unknown".')
    blocks: int = Field(description="Blocks in the window [blocks].")
    share: float = Field(description="Share of the window's blocks (all pools) [fraction].")
    share_low: float = Field(description="Lower bound of the 95% Wilson score interval [fraction].")
    share_high: float = Field(description="Upper bound of the 95% Wilson score interval [fraction].")
    subsidy_btc: float = Field(description="Subsidy of its blocks [BTC].")
    fees_btc: float = Field(description="Fees of its blocks [BTC].")


class MovedDayOut(BaseModel):
    """Coinbase BTC moved out on one UTC day against BTC mined that day."""

    date: str = Field(description="UTC day (YYYY-MM-DD).")
    mined_btc: float = Field(description="Coinbase outputs claimed (subsidy + fees) [BTC].")
    moved_out_btc: float = Field(description="First-hop value sent outside the spending pool [BTC].")
    consolidated_btc: float = Field(description="First-hop value sent to the pool's own addresses [BTC].")
    moved_share: float | None = Field(
        description="moved_out / mined (null when nothing was mined) [fraction]."
    )


class FirstHopOut(BaseModel):
    """The transactions spending coinbase outputs on one UTC day (of the spend)."""

    date: str
    pool: str = Field(description='The pool, or "all".')
    spending_txs: int
    coinbase_spent_btc: float = Field(description="Coinbase outputs spent [BTC].")
    outputs: int
    btc_out: float = Field(description="Value of the spending transactions' outputs [BTC].")
    outputs_consolidation: int
    btc_consolidation: float = Field(description="To addresses of the same pool [BTC].")
    outputs_out: int
    btc_out_moved: float = Field(description="To anyone else [BTC].")


class SpentWithinOut(BaseModel):
    """Share of one day's mined coinbase BTC spent within 1, 7 and 30 days (null while not yet known)."""

    date: str
    pool: str
    mined_btc: float
    spent_1d_btc: float | None
    share_1d: float | None
    spent_7d_btc: float | None
    share_7d: float | None
    spent_30d_btc: float | None
    share_30d: float | None


class BesideSalesOut(BaseModel):
    """One quarter: on-chain coinbase BTC moved out beside the listed miners' disclosed sales."""

    quarter: str
    days_scanned: int
    mined_btc: float
    moved_out_btc: float
    disclosed_sold_btc: float | None
    disclosed_produced_btc: float | None


class OnchainOut(BaseModel):
    """Pools and coinbase flows measured on the user's own node (``hashrisk miners onchain``)."""

    stored: bool = Field(description="False when no block was scanned with --coinbase (every list empty).")
    pool: str | None = Field(default=None, description="The pool filter, as stored.")
    blocks: int = Field(default=0, description="Blocks in the window, all pools [blocks].")
    first_time: str | None = None
    last_time: str | None = None
    distribution: list[PoolShareOut] = []
    moved_vs_mined: list[MovedDayOut] = []
    first_hop: list[FirstHopOut] = []
    spent_within: list[SpentWithinOut] = []
    beside_disclosed_sales: list[BesideSalesOut] = []
    note: str = Field(
        default="Share of blocks estimates share of hashrate. 'Moved out' is a first hop to an address outside "
        "the pool, not a sale; listed miners are a subset of all miners: set beside, not equated.",
    )
