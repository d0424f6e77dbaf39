"""Subsidy schedule (consensus: GetBlockSubsidy)."""

from __future__ import annotations

import pytest

from hashrisk.chain.subsidy import block_subsidy_sats, next_halving_height, total_supply_sats
from hashrisk.errors import ConsensusError


@pytest.mark.parametrize(
    ("height", "sats"),
    [
        (0, 5_000_000_000),
        (209_999, 5_000_000_000),
        (210_000, 2_500_000_000),
        (630_000, 625_000_000),
        (839_999, 625_000_000),
        (840_000, 312_500_000),
        (1_049_999, 312_500_000),
        (1_050_000, 156_250_000),
        (6_929_999, 1),
        (6_930_000, 0),
        (13_440_000, 0),
        (10**12, 0),
    ],
)
def test_subsidy_schedule(height: int, sats: int) -> None:
    assert block_subsidy_sats(height) == sats


def test_total_supply_is_20999999_9769_btc() -> None:
    assert total_supply_sats() == 2_099_999_997_690_000
    # cross-check by brute force over eras
    assert total_supply_sats() == sum(210_000 * block_subsidy_sats(e * 210_000) for e in range(64))


def test_supply_up_to_a_height() -> None:
    assert total_supply_sats(0) == 5_000_000_000
    assert total_supply_sats(210_000) == 210_000 * 5_000_000_000 + 2_500_000_000


def test_next_halving() -> None:
    assert next_halving_height(951_552) == 1_050_000
    assert next_halving_height(840_000) == 1_050_000


@pytest.mark.parametrize("bad", [-1, 1.5, "840000"])
def test_bad_height(bad: object) -> None:
    with pytest.raises(ConsensusError, match="height"):
        block_subsidy_sats(bad)  # type: ignore[arg-type]
