"""Compact encoding and retarget, pinned to Bitcoin Core's own unit-test vectors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hashrisk.chain.pow import (
    DIFF1_TARGET,
    POW_LIMIT,
    POW_LIMIT_BITS,
    TARGET_TIMESPAN_S,
    bits_to_difficulty,
    bits_to_target,
    clamp_timespan_s,
    decode_compact,
    difficulty_to_target,
    expected_blocks,
    hashrate_ths_from_difficulty,
    next_bits,
    target_to_bits,
    target_to_difficulty,
)
from hashrisk.errors import ConsensusError, InputError

# src/test/arith_uint256_tests.cpp, bignum_SetCompact: (compact, value, GetCompact(negative), negative, overflow)
SET_COMPACT_VECTORS = [
    (0x00000000, 0, 0x00000000, False, False),
    (0x00123456, 0, 0x00000000, False, False),
    (0x01003456, 0, 0x00000000, False, False),
    (0x02000056, 0, 0x00000000, False, False),
    (0x03000000, 0, 0x00000000, False, False),
    (0x04000000, 0, 0x00000000, False, False),
    (0x00923456, 0, 0x00000000, False, False),
    (0x01803456, 0, 0x00000000, False, False),
    (0x02800056, 0, 0x00000000, False, False),
    (0x03800000, 0, 0x00000000, False, False),
    (0x04800000, 0, 0x00000000, False, False),
    (0x01123456, 0x12, 0x01120000, False, False),
    (0x01FEDCBA, 0x7E, 0x01FE0000, True, False),
    (0x02123456, 0x1234, 0x02123400, False, False),
    (0x03123456, 0x123456, 0x03123456, False, False),
    (0x04123456, 0x12345600, 0x04123456, False, False),
    (0x04923456, 0x12345600, 0x04923456, True, False),
    (0x05009234, 0x92340000, 0x05009234, False, False),
    (
        0x20123456,
        0x1234560000000000000000000000000000000000000000000000000000000000,
        0x20123456,
        False,
        False,
    ),
]


@pytest.mark.parametrize(("compact", "value", "recompact", "negative", "overflow"), SET_COMPACT_VECTORS)
def test_set_compact_vectors(
    compact: int, value: int, recompact: int, negative: bool, overflow: bool
) -> None:
    d = decode_compact(compact)
    assert (d.target, d.negative, d.overflow) == (value, negative, overflow)
    assert target_to_bits(d.target, negative=d.negative) == recompact


def test_overflow_vector_and_no_sign_bit_on_encode() -> None:
    d = decode_compact(0xFF123456)
    assert d.overflow and not d.negative
    assert target_to_bits(0x80) == 0x02008000  # GetCompact never sets 0x00800000 for a positive number


@pytest.mark.parametrize(
    ("bits", "what"),
    [
        (0x04923456, "non-negative"),
        (0xFF123456, "fits in 256 bits"),
        (0x01003456, "non-zero"),
        (0, "non-zero"),
    ],
)
def test_invalid_bits_raise_named_error(bits: int, what: str) -> None:
    with pytest.raises(ConsensusError) as info:
        bits_to_target(bits)
    assert info.value.field == "bits" and what in str(info.value)


@pytest.mark.parametrize("bad", [-1, 1 << 32, 1.5, "0x1d00ffff"])
def test_bits_out_of_range(bad: object) -> None:
    with pytest.raises(ConsensusError, match="32-bit"):
        bits_to_target(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-1, 1 << 256])
def test_target_out_of_range(bad: int) -> None:
    with pytest.raises(ConsensusError, match="target"):
        target_to_bits(bad)


# src/test/pow_tests.cpp: (last retarget time, last block time, nBits, expected)
POW_VECTORS = [
    (1261130161, 1262152739, 0x1D00FFFF, 0x1D00D86A),  # get_next_work
    (1231006505, 1233061996, 0x1D00FFFF, 0x1D00FFFF),  # get_next_work_pow_limit
    (1279008237, 1279297671, 0x1C05A3F4, 0x1C0168FD),  # get_next_work_lower_limit_actual
    (1263163443, 1269211443, 0x1C387F6F, 0x1D00E1FD),  # get_next_work_upper_limit_actual
]


@pytest.mark.parametrize(("first", "last", "bits", "expected"), POW_VECTORS)
def test_core_retarget_vectors(first: int, last: int, bits: int, expected: int) -> None:
    assert next_bits(bits, first, last) == expected


def test_pow_limit_and_difficulty_one() -> None:
    assert target_to_bits(POW_LIMIT) == POW_LIMIT_BITS
    assert bits_to_target(POW_LIMIT_BITS) == DIFF1_TARGET
    assert bits_to_difficulty(POW_LIMIT_BITS) == 1.0


def test_difficulty_at_block_730000() -> None:
    # period 729,792..731,807 (Electrum checkpoint target): difficulty 28,587,155,782,195.14
    bits = target_to_bits(difficulty_to_target(28_587_155_782_195.14))
    assert bits == 0x1709D897
    assert bits_to_difficulty(bits) == pytest.approx(28_587_155_782_195.14, rel=1e-15)


@pytest.mark.parametrize("bad", [0.0, -5.0, float("nan"), float("inf")])
def test_difficulty_to_target_rejects(bad: float) -> None:
    with pytest.raises(InputError, match="difficulty"):
        difficulty_to_target(bad)


@given(st.integers(min_value=1, max_value=(1 << 256) - 1))
def test_compact_round_trip_is_a_truncation(target: int) -> None:
    bits = target_to_bits(target)
    back = bits_to_target(bits)
    # compact keeps the 3 (or 2, after the sign-bit shift) most significant bytes, rounding toward zero
    assert back <= target
    size = (target.bit_length() + 7) // 8
    assert target - back < 1 << max(0, 8 * (size - 2))
    assert target_to_bits(back) == bits  # idempotent


@given(st.integers(min_value=0x03000000, max_value=0x20FFFFFF).filter(lambda b: b & 0x7FFFFF != 0))
def test_valid_bits_round_trip(bits: int) -> None:
    d = decode_compact(bits)
    if d.negative or d.overflow or d.target == 0:
        return
    canon = target_to_bits(d.target)
    assert bits_to_target(canon) == d.target


@given(
    st.integers(min_value=0x1B000000, max_value=0x1D00FFFF).filter(
        lambda b: 0x008000 <= b & 0xFFFFFF < 0x800000
    ),
    st.integers(min_value=-10 * TARGET_TIMESPAN_S, max_value=10 * TARGET_TIMESPAN_S),
)
def test_retarget_clamp(bits: int, timespan: int) -> None:
    """The new target is within [old/4, old*4] (up to compact truncation) and never above powLimit."""
    old = bits_to_target(bits)
    new = bits_to_target(next_bits(bits, 1_600_000_000, 1_600_000_000 + timespan))
    clamped = clamp_timespan_s(timespan)
    assert TARGET_TIMESPAN_S // 4 <= clamped <= 4 * TARGET_TIMESPAN_S
    exact = min(old * clamped // TARGET_TIMESPAN_S, POW_LIMIT)
    assert new == bits_to_target(target_to_bits(exact))  # only compact truncation on top of the clamp
    assert new <= min(4 * old, POW_LIMIT)
    assert new >= (old // 4) - ((old // 4) >> 15)  # truncation loses < 2**-15 (mantissa >= 0x8000)


def test_difficulty_and_hashrate_helpers() -> None:
    # 1 hash per second for 2**32 s finds one block at difficulty 1
    assert float(expected_blocks(1e-12, 1.0, 2**32)) == pytest.approx(1.0)
    # snapshot: difficulty 138,955,357,012,247 at 600 s/block is ~995 EH/s
    assert float(hashrate_ths_from_difficulty(138_955_357_012_247)) == pytest.approx(9.947e8, rel=1e-3)
    assert float(expected_blocks(hashrate_ths_from_difficulty(5e13), 5e13, 86_400)) == pytest.approx(144.0)
    assert target_to_difficulty(DIFF1_TARGET // 2) == 2.0
