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
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from hashrisk._validate import check_nonnegative, check_positive
from hashrisk.constants import (
    HASHES_PER_DIFFICULTY as HASHES_PER_DIFFICULTY,  # re-exported: the rules' constants
)
from hashrisk.constants import HASHES_PER_TH
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
F = TypeVar("F", bound=Callable[..., Any])
POW_LIMIT_BIT_LENGTH = POW_LIMIT.bit_length()
"""Bit length of :data:`POW_LIMIT`."""

KERNEL_FUNCTIONS: list[Callable[..., Any]] = []
"""Scalar functions of ``hashrisk.chain`` written for compiled kernels (see :func:`kernel_callable`)."""


def kernel_callable(fn: F) -> F:
    """Mark `fn` as callable from compiled kernels: plain Python here (chain does not import numba);
    :mod:`hashrisk.sim.model` registers every marked function with ``numba.extending.register_jitable``.

    A marked function takes and returns scalars (int64 integers, float64 floats), uses only arithmetic,
    ``if``/``while`` and other marked functions, and equals its consensus reference on every input it
    accepts (tests/chain).
    """
    KERNEL_FUNCTIONS.append(fn)
    return fn


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
    return bits_to_difficulty_i64(bits)


@kernel_callable
def bits_to_difficulty_i64(bits: int) -> float:
    """``GetDifficulty`` without validation, for compiled kernels: ``0xffff / mantissa * 256^(29 - size)``
    by repeated multiplication/division by 256, as Core (`bits` must encode a positive target)."""
    shift = (bits >> 24) & 0xFF
    diff = 65535.0 / float(bits & 0x00FFFFFF)
    while shift < 29:
        diff *= 256.0
        shift += 1
    while shift > 29:
        diff /= 256.0
        shift -= 1
    return diff


def bits_to_difficulty_xp(xp: Any, bits: Any) -> Any:
    """:func:`bits_to_difficulty_i64` element-wise on int64 arrays of namespace `xp` (numpy, jax.numpy).

    ``ldexp(0xffff / mantissa, 8 (29 - size))``: scaling by a power of two is exact in binary floating
    point, so this equals Core's loop bit for bit (normal numbers).
    """
    return xp.ldexp(65535.0 / (bits & 0x00FFFFFF).astype(xp.float64), 8 * (29 - ((bits >> 24) & 0xFF)))


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
    return expected_blocks_unchecked(  # type: ignore[no-any-return]
        check_nonnegative("hashrate_ths", hashrate_ths),
        check_positive("difficulty", difficulty),
        check_nonnegative("seconds", seconds),
    )


@kernel_callable
def expected_blocks_unchecked(hashrate_ths: Any, difficulty: Any, seconds: Any) -> Any:
    """:func:`expected_blocks` without validation, for kernels: scalars or arrays of any namespace."""
    return hashrate_ths * HASHES_PER_TH * seconds / (difficulty * HASHES_PER_DIFFICULTY)


def hashrate_ths_from_difficulty(
    difficulty: ArrayLike, block_interval_s: ArrayLike = TARGET_SPACING_S
) -> FloatArray:
    """Hashrate implied by `difficulty` at a mean block interval [TH/s].

    ``hashrate_ths = difficulty * 2**32 / block_interval_s / 1e12``; broadcasts.
    """
    hashes_per_s = check_positive("difficulty", difficulty) * HASHES_PER_DIFFICULTY
    return hashes_per_s / check_positive("block_interval_s", block_interval_s) / 1e12


# ------------------------------------------------------------------------------- retarget in int64 (kernels)
# A compact target is ``M * 256^(size-3)`` with ``M < 2^23``, so ``target * timespan // 1209600`` followed by
# ``GetCompact`` only needs ``A = M * timespan < 2^46`` and the result's bit length; the new mantissa is
# ``floor(A * 2^(E - m) / 1209600)`` with ``E = 8 (size - 3)`` and ``m = 8 (size' - 3)`` (nested floors of
# positive integers collapse), all in int64.
@kernel_callable
def _bit_length_i64(x: int) -> int:
    n = 0
    while x > 0:
        x >>= 1
        n += 1
    return n


@kernel_callable
def _compact_small_i64(value: int) -> int:
    """``GetCompact`` of a target below 2^32."""
    size = (_bit_length_i64(value) + 7) // 8
    compact = value << (8 * (3 - size)) if size <= 3 else value >> (8 * (size - 3))
    if compact & 0x00800000:
        compact >>= 8
        size += 1
    return compact | (size << 24)


@kernel_callable
def next_bits_i64(bits: int, first_time: int, last_time: int) -> int:
    """:func:`next_bits` in int64 arithmetic for compiled kernels, for targets up to powLimit.

    ``timespan = clamp(last - first, 302400, 4838400)``; ``target' = min(target * timespan // 1209600,
    powLimit)``; returns ``GetCompact(target')``. `bits` must encode a positive target <= powLimit (no
    validation); every intermediate stays below 2^63 (see the comment above).
    """
    span = last_time - first_time
    if span < TARGET_TIMESPAN_S // 4:
        span = TARGET_TIMESPAN_S // 4
    elif span > TARGET_TIMESPAN_S * 4:
        span = TARGET_TIMESPAN_S * 4
    size = bits >> 24
    word = bits & 0x007FFFFF
    if size <= 3:
        return _compact_small_i64(((word >> (8 * (3 - size))) * span) // TARGET_TIMESPAN_S)
    a = word * span  # < 2^46
    e = 8 * (size - 3)
    # j0 = largest j with T * 2^j <= a; the new target floor(a 2^e / T) then has bit length j0 + e + 1
    d = _bit_length_i64(a) - _bit_length_i64(TARGET_TIMESPAN_S)
    if d >= 0:  # noqa: SIM108 - the two shifts keep every intermediate below 2^63
        j0 = d if (TARGET_TIMESPAN_S << d) <= a else d - 1
    else:
        j0 = d if (a << (-d)) >= TARGET_TIMESPAN_S else d - 1
    n = j0 + e + 1
    if n <= 0:
        return 0
    if n > POW_LIMIT_BIT_LENGTH:
        return POW_LIMIT_BITS
    new_size = (n + 7) // 8
    if new_size <= 3:
        return _compact_small_i64((a << e) // TARGET_TIMESPAN_S)
    j = e - 8 * (new_size - 3)
    mant = (a << j) // TARGET_TIMESPAN_S if j >= 0 else a // (TARGET_TIMESPAN_S << (-j))
    if mant & 0x00800000:
        mant >>= 8
        new_size += 1
    return mant | (new_size << 24)


def _bit_length_xp(xp: Any, x: Any) -> Any:
    """Bit length of int64 values in ``[0, 2^53)`` (exact through the float exponent; 0 for 0)."""
    return xp.frexp(x.astype(xp.float64))[1].astype(xp.int64)


def _compact_small_xp(xp: Any, value: Any) -> Any:
    """:func:`_compact_small_i64` element-wise."""
    size = (_bit_length_xp(xp, value) + 7) // 8
    compact = xp.where(
        size <= 3, value << (8 * xp.maximum(3 - size, 0)), value >> (8 * xp.maximum(size - 3, 0))
    )
    carry = (compact & 0x00800000) != 0
    return xp.where(carry, compact >> 8, compact) | (xp.where(carry, size + 1, size) << 24)


def next_bits_xp(xp: Any, bits: Any, first_time: Any, last_time: Any) -> Any:
    """:func:`next_bits_i64` element-wise, branch-free, on int64 arrays of namespace `xp`.

    Both sides of every branch are computed; shifts are clamped to non-negative amounts in the unused ones.
    """
    t = xp.int64(TARGET_TIMESPAN_S)
    span = xp.clip(last_time - first_time, TARGET_TIMESPAN_S // 4, TARGET_TIMESPAN_S * 4)
    size = bits >> 24
    word = bits & 0x007FFFFF
    small_size = size <= 3
    a = word * span  # < 2^46
    e = 8 * (size - 3)
    d = _bit_length_xp(xp, a) - _bit_length_xp(xp, t)
    up = t << xp.maximum(d, 0)
    down = a << xp.maximum(-d, 0)
    j0 = xp.where(d >= 0, xp.where(up <= a, d, d - 1), xp.where(down >= t, d, d - 1))
    n = j0 + e + 1
    new_size = (n + 7) // 8
    small_new = new_size <= 3
    value = xp.where(
        small_size,
        ((word >> (8 * xp.maximum(3 - size, 0))) * span) // t,
        (a << xp.clip(e, 0, 62)) // t,
    )
    compact_small = _compact_small_xp(xp, xp.where(small_size | small_new, value, 0))
    j = e - 8 * (new_size - 3)
    mant = xp.where(j >= 0, (a << xp.clip(j, 0, 62)) // t, a // (t << xp.clip(-j, 0, 40)))
    carry = (mant & 0x00800000) != 0
    large = xp.where(carry, mant >> 8, mant) | (xp.where(carry, new_size + 1, new_size) << 24)
    out = xp.where(small_new, compact_small, large)
    out = xp.where(n > POW_LIMIT_BIT_LENGTH, POW_LIMIT_BITS, out)
    out = xp.where(n <= 0, 0, out)
    return xp.where(small_size, compact_small, out)
