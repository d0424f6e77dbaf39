"""The network state hashrisk starts from: `NetworkSnapshot`, a value object (no store, no I/O but TOML).

The embedded default is 2026-06-01, the latest day of the project's reference data. Every field carries its
source. A snapshot can be overridden field by field from a TOML file (``hashrisk cost --snapshot FILE``) or
from keyword arguments (CLI flags such as ``--price``). The snapshot of a stored day is built by
:func:`hashrisk.data.stored_snapshot.snapshot_for_date`.

TOML layout (every key optional; unknown keys are rejected)::

    date = "2026-06-01"
    price_usd = 71329.0
    difficulty = 138955357012247.0
    hashrate_ths = 0.98e9
    fees_btc_per_block = 0.023
    height = 951552

    [sources]            # optional: where your numbers come from
    price_usd = "my desk's close"
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hashrisk.chain.subsidy import block_subsidy_sats
from hashrisk.constants import SATS_PER_BTC
from hashrisk.errors import InputError

_CM = "Coin Metrics community daily data (CC BY-NC 4.0)"
EMBEDDED_SOURCES: dict[str, str] = {
    "date": "latest day of the project's reference data (DESIGN.md, 2026-06-01)",
    "price_usd": f"{_CM}: PriceUSD close, 2026-06-01",
    "difficulty": "Electrum mainnet checkpoints: target of the period from height 951,552",
    "hashrate_ths": f"{_CM}: 7-day mean HashRate to 2026-06-01 (~980 EH/s)",
    "fees_btc_per_block": f"{_CM}: FeeTotNtv ~3.3 BTC/day over ~144 blocks/day, 2026-06-01",
    "height": "first height of the difficulty period in force (951,552 = 472 x 2016)",
    "subsidy_btc": "consensus: block_subsidy_sats(height), 3.125 BTC since height 840,000 (2024-04-20)",
}


class NetworkSnapshot(BaseModel):
    """One day's network state.

    Attributes
    ----------
    date : datetime.date
        The day described (UTC).
    price_usd : float
        BTC price [USD/BTC].
    difficulty : float
        Difficulty in force [dimensionless, difficulty-1 target = 0xffff * 2**208].
    hashrate_ths : float
        Network hashrate [TH/s], a trailing mean (7 days for the embedded snapshot).
    fees_btc_per_block : float
        Mean transaction fees per block [BTC/block].
    height : int
        A block height inside the difficulty period in force; it fixes the subsidy.
    sources : dict[str, str]
        Where each field comes from.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    date: dt.date = dt.date(2026, 6, 1)
    price_usd: float = 71_329.0
    difficulty: float = 138_955_357_012_247.0
    hashrate_ths: float = 0.98e9
    fees_btc_per_block: float = 0.023
    height: int = 951_552
    sources: dict[str, str] = Field(default_factory=lambda: dict(EMBEDDED_SOURCES))

    @field_validator("price_usd", "difficulty", "hashrate_ths")
    @classmethod
    def _positive_finite(cls, value: float) -> float:
        if not math.isfinite(value) or value <= 0:
            raise ValueError("must be a finite number > 0")
        return value

    @field_validator("fees_btc_per_block")
    @classmethod
    def _fees(cls, value: float) -> float:
        if not math.isfinite(value) or value < 0 or value > 21_000_000:
            raise ValueError("must be a finite number of BTC per block >= 0")
        return value

    @field_validator("height")
    @classmethod
    def _height(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must be a block height >= 0")
        return value

    @property
    def subsidy_btc(self) -> float:
        """Block subsidy at `height` [BTC/block], from the consensus rule."""
        return block_subsidy_sats(self.height) / SATS_PER_BTC

    @property
    def reward_btc_per_block(self) -> float:
        """Subsidy plus mean fees [BTC/block]."""
        return self.subsidy_btc + self.fees_btc_per_block

    # ------------------------------------------------------------------ constructors
    @classmethod
    def embedded(cls) -> NetworkSnapshot:
        """The embedded 2026-06-01 snapshot (facts from DESIGN.md, each with its source)."""
        return cls()

    def override(self, source: str = "user override", **changes: Any) -> NetworkSnapshot:
        """A copy with some fields replaced (``None`` values are ignored); the sources record `source`.

        Raises
        ------
        InputError
            If a field is unknown or a value is not allowed.
        """
        changes = {k: v for k, v in changes.items() if v is not None}
        unknown = sorted(set(changes) - set(type(self).model_fields) - {"sources"})
        if unknown:
            raise InputError(unknown[0], changes[unknown[0]], f"one of {sorted(type(self).model_fields)}")
        given_sources = changes.pop("sources", {}) or {}
        sources = dict(self.sources)
        sources.update({key: source for key in changes})
        sources.update(given_sources)
        data = self.model_dump()
        data.update(changes)
        data["sources"] = sources
        return _validated(data, origin=source)

    @classmethod
    def from_toml(cls, path: str | Path, base: NetworkSnapshot | None = None) -> NetworkSnapshot:
        """Read overrides from a TOML file on top of `base` (the embedded snapshot by default).

        Raises
        ------
        InputError
            If the file is missing, is not valid TOML, or a field is unknown or out of range.
        """
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError("snapshot", str(path), "an existing TOML file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError("snapshot", str(path), f"a valid TOML file ({exc})") from None
        sources = raw.pop("sources", {})
        if not isinstance(sources, dict):
            raise InputError("sources", sources, 'a TOML table of field = "source" strings')
        base = base or cls.embedded()
        return base.override(source=f"file {path.name}", sources=sources, **raw)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, with the derived subsidy."""
        out = self.model_dump(mode="json")
        out["subsidy_btc"] = self.subsidy_btc
        return out


def _validated(data: dict[str, Any], origin: str) -> NetworkSnapshot:
    try:
        return NetworkSnapshot.model_validate(data)
    except ValidationError as exc:
        from hashrisk.errors import from_validation_error

        raise from_validation_error(exc, origin, default_field="snapshot") from None
