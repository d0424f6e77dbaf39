"""Proof-of-work rules: compact nBits <-> 256-bit target, difficulty, and the 2016-block retarget.

Everything here is integer arithmetic exactly as Bitcoin Core does it:

- ``arith_uint256::SetCompact`` / ``GetCompact`` (src/arith_uint256.cpp) for the compact encoding;
- ``CalculateNextWorkRequired`` (src/pow.cpp) for the retarget;
- ``GetDifficulty`` (src/rpc/blockchain.cpp) for the floating-point difficulty that RPC reports.

Targets are Python ints in ``[0, 2**256)``; arithmetic that Core does in ``arith_uint256`` wraps modulo
``2**256`` here too.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from hashrisk._validate import check_nonnegative, check_positive
from hashrisk.constants import (
    HASHES_PER_DIFFICULTY as HASHES_PER_DIFFICULTY,  # re-exported: the rules' constants
)
from hashrisk.constants import POW_LIMIT_BITS as POW_LIMIT_BITS
from hashrisk.constants import RETARGET_INTERVAL_BLOCKS as RETARGET_INTERVAL_BLOCKS
from hashrisk.constants import TARGET_SPACING_S as TARGET_SPACING_S
from hashrisk.constants import TARGET_TIMESPAN_S as TARGET_TIMESPAN_S
from hashrisk.errors import ConsensusError, InputError

UINT256_MOD = 1 << 256
POW_LIMIT = (1 << 224) - 1
"""Mainnet ``consensus.powLimit`` = 0x00000000ffff...ff (src/kernel/chainparams.cpp); compact 0x1d00ffff."""
DIFF1_TARGET = 0xFFFF << 208
"""Target of difficulty 1 (the decoded 0x1d00ffff), the numerator of every difficulty."""

FloatArray = npt.NDArray[np.float64]
ArrayLike = float | npt.ArrayLike


@dataclass(frozen=True)
class CompactDecoding:
    """Raw result of ``SetCompact``: the value and Core's two flags."""

    target: int
    negative: bool
    overflow: bool


def _as_bits(bits: int, field: str = "bits") -> int:
    try:
        value = operator.index(bits)
    except TypeError:
        raise ConsensusError(field, bits, "an unsigned 32-bit integer, e.g. 0x1d00ffff") from None
    if not 0 <= value < 1 << 32:
        raise ConsensusError(field, bits, "an unsigned 32-bit integer in [0, 0xffffffff]")
    return value


def decode_compact(bits: int) -> CompactDecoding:
    """``arith_uint256::SetCompact`` with its ``fNegative`` and ``fOverflow`` flags, without judging them.

    The compact format is a 1-byte exponent (size in bytes) and a 23-bit mantissa with a sign bit::

        size = bits >> 24; word = bits & 0x007fffff
        word = word >> 8*(3-size); target = word  if size <= 3
        target = word << 8*(size-3)          otherwise
        negative = word != 0 and bits & 0x00800000
        overflow = word != 0 and (size > 34 or (word > 0xff and size > 33) or (word > 0xffff and size > 32))

    On overflow Core's value wraps modulo 2**256; it is returned wrapped here too.
    """
    bits = _as_bits(bits)
    size = bits >> 24
    word = bits & 0x007FFFFF
    if size <= 3:
        word >>= 8 * (3 - size)  # Core shifts nWord in place: the flags below see the shifted word
        target = word
    else:
        target = (word << (8 * (size - 3))) % UINT256_MOD
    negative = word != 0 and (bits & 0x00800000) != 0
    overflow = word != 0 and (size > 34 or (word > 0xFF and size > 33) or (word > 0xFFFF and size > 32))
    return CompactDecoding(target=target, negative=negative, overflow=overflow)


def bits_to_target(bits: int) -> int:
    """Decode compact `bits` into the 256-bit target, rejecting what consensus rejects.

    ``CheckProofOfWork`` (src/pow.cpp) refuses a negative, zero or overflowing target; so does this.

    Parameters
    ----------
    bits : int
        Compact target (nBits), an unsigned 32-bit integer.

    Returns
    -------
    int
        The target, ``0 < target < 2**256``.

    Raises
    ------
    ConsensusError
        If the encoding is negative, overflows 256 bits, or decodes to zero.

    Examples
    --------
    >>> hex(bits_to_target(0x1d00ffff))
    '0xffff0000000000000000000000000000000000000000000000000000'
    """
    d = decode_compact(bits)
    if d.negative:
        raise ConsensusError("bits", hex(bits), "a non-negative compact target (sign bit 0x00800000 clear)")
    if d.overflow:
        raise ConsensusError("bits", hex(bits), "a compact target that fits in 256 bits (exponent too large)")
    if d.target == 0:
        raise ConsensusError("bits", hex(bits), "a compact target that decodes to a non-zero target")
    return d.target


def target_to_bits(target: int, negative: bool = False) -> int:
    """Encode a 256-bit `target` as compact bits, ``arith_uint256::GetCompact``.

    The mantissa is truncated (rounded toward zero) to 3 bytes; if its top bit would be set the mantissa is
    shifted right one byte and the exponent incremented, so a positive number never looks negative.

    Parameters
    ----------
    target : int
        Target, ``0 <= target < 2**256``.
    negative : bool
        Set the sign bit (Core's ``fNegative`` argument); only meaningful for a non-zero mantissa.

    Raises
    ------
    ConsensusError
        If `target` is negative or does not fit in 256 bits.
    """
    try:
        value = operator.index(target)
    except TypeError:
        raise ConsensusError("target", target, "an integer in [0, 2**256)") from None
    if not 0 <= value < UINT256_MOD:
        raise ConsensusError("target", target, "an integer in [0, 2**256)")
    size = (value.bit_length() + 7) // 8
    compact = (value << (8 * (3 - size))) if size <= 3 else (value >> (8 * (size - 3)))
    compact &= 0xFFFFFFFF
    if compact & 0x00800000:
        compact >>= 8
        size += 1
    compact |= size << 24
    if negative and (compact & 0x007FFFFF):
        compact |= 0x00800000
    return compact


def bits_to_difficulty(bits: int) -> float:
    """Difficulty of compact `bits` as Bitcoin Core's RPC reports it (``GetDifficulty``, src/rpc/blockchain.cpp).

    ``difficulty = 0xffff / mantissa * 256**(29 - exponent)``, computed in doubles by repeated
    multiplication/division by 256 exactly as Core does.

    Raises
    ------
    ConsensusError
        For bits that are not a valid positive target.
    """
    bits_to_target(bits)  # validate
    shift = (bits >> 24) & 0xFF
    diff = 0x0000FFFF / float(bits & 0x00FFFFFF)
    while shift < 29:
        diff *= 256.0
        shift += 1
    while shift > 29:
        diff /= 256.0
        shift -= 1
    return diff


def target_to_difficulty(target: int) -> float:
    """Difficulty of a 256-bit target: ``DIFF1_TARGET / target`` as a float (exact rational, rounded once)."""
    if target <= 0:
        raise ConsensusError("target", target, "a positive integer target")
    return float(Fraction(DIFF1_TARGET, target))


def difficulty_to_target(difficulty: float) -> int:
    """Target of a difficulty: ``floor(DIFF1_TARGET / difficulty)``, exact rational arithmetic.

    Parameters
    ----------
    difficulty : float
        Difficulty, finite and > 0.

    Raises
    ------
    InputError
        If `difficulty` is not finite and positive, or the target would not fit in 256 bits.
    """
    if not isinstance(difficulty, int | float | Fraction) or not math.isfinite(difficulty) or difficulty <= 0:
        raise InputError("difficulty", difficulty, "a finite number > 0")
    target = math.floor(Fraction(DIFF1_TARGET) / Fraction(difficulty))
    if target >= UINT256_MOD:
        raise InputError(
            "difficulty", difficulty, f"a difficulty >= {float(Fraction(DIFF1_TARGET, UINT256_MOD))}"
        )
    if target == 0:
        raise InputError("difficulty", difficulty, f"a difficulty <= {DIFF1_TARGET}")
    return target


def clamp_timespan_s(actual_timespan_s: int) -> int:
    """Clamp a retarget timespan to ``[T/4, 4T]`` with ``T = 1,209,600 s``, as ``CalculateNextWorkRequired``."""
    return min(max(actual_timespan_s, TARGET_TIMESPAN_S // 4), TARGET_TIMESPAN_S * 4)


def next_bits(last_bits: int, first_block_time: int, last_block_time: int) -> int:
    """The compact target of the next period, ``CalculateNextWorkRequired`` (src/pow.cpp).

    ::

        timespan = clamp(last_block_time - first_block_time, 302400, 4838400)
        target   = SetCompact(last_bits) * timespan // 1209600      (256-bit integers)
        target   = min(target, powLimit)
        bits     = GetCompact(target)

    The caller passes the time of the period's first block (height ``2016*k``) and last block
    (``2016*k + 2015``): Core measures 2015 intervals but divides by 2016 target spacings (the
    "off-by-one" of the original client), so a period mined at exactly 600 s per block still raises the
    difficulty by a factor 2016/2015.

    Parameters
    ----------
    last_bits : int
        nBits of the period that ends.
    first_block_time, last_block_time : int
        Header timestamps [unix s] of the period's first and last blocks.

    Returns
    -------
    int
        nBits of the next period.

    Examples
    --------
    >>> hex(next_bits(0x1d00ffff, 1261130161, 1262152739))  # Bitcoin Core pow_tests get_next_work
    '0x1d00d86a'
    """
    for name, value in (("first_block_time", first_block_time), ("last_block_time", last_block_time)):
        try:
            operator.index(value)
        except TypeError:
            raise InputError(name, value, "an integer unix time [s]") from None
    timespan = clamp_timespan_s(int(last_block_time) - int(first_block_time))
    target = bits_to_target(last_bits)
    target = (target * timespan) % UINT256_MOD // TARGET_TIMESPAN_S
    target = min(target, POW_LIMIT)
    return target_to_bits(target)


def expected_blocks(hashrate_ths: ArrayLike, difficulty: ArrayLike, seconds: ArrayLike) -> FloatArray:
    """Expected number of blocks found by `hashrate_ths` over `seconds` at `difficulty`.

    ``blocks = hashrate_ths * 1e12 * seconds / (difficulty * 2**32)`` [blocks]; broadcasts.
    """
    hashes = check_nonnegative("hashrate_ths", hashrate_ths) * 1e12 * check_nonnegative("seconds", seconds)
    return hashes / (check_positive("difficulty", difficulty) * HASHES_PER_DIFFICULTY)


def hashrate_ths_from_difficulty(
    difficulty: ArrayLike, block_interval_s: ArrayLike = TARGET_SPACING_S
) -> FloatArray:
    """Hashrate implied by `difficulty` at a mean block interval [TH/s].

    ``hashrate_ths = difficulty * 2**32 / block_interval_s / 1e12``; broadcasts.
    """
    hashes_per_s = check_positive("difficulty", difficulty) * HASHES_PER_DIFFICULTY
    return hashes_per_s / check_positive("block_interval_s", block_interval_s) / 1e12
