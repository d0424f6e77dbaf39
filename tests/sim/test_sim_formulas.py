"""The kernel's njit copies of library formulas equal the library functions they copy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from hashrisk.chain.pow import (
    POW_LIMIT,
    POW_LIMIT_BITS,
    TARGET_TIMESPAN_S,
    bits_to_difficulty,
    bits_to_target,
    expected_blocks,
    next_bits,
)
from hashrisk.chain.subsidy import block_subsidy_sats
from hashrisk.economics.revenue import revenue_usd_per_ths_day
from hashrisk.errors import ConsensusError
from hashrisk.sim import kernel_numba as kn
from hashrisk.sim import kernel_numpy as kp


def _valid_bits(size: int, mantissa: int) -> int | None:
    bits = (size << 24) | mantissa
    try:
        target = bits_to_target(bits)
    except ConsensusError:
        return None
    return bits if target <= POW_LIMIT else None


@settings(max_examples=3000, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=0x1D),
    mantissa=st.integers(min_value=1, max_value=0x7FFFFF),
    first=st.integers(min_value=-(10**9), max_value=10**9),
    span=st.one_of(
        st.integers(min_value=-(10**7), max_value=10**7),
        st.integers(min_value=TARGET_TIMESPAN_S // 4 - 5, max_value=TARGET_TIMESPAN_S * 4 + 5),
    ),
)
def test_next_bits_equals_consensus_rule(size: int, mantissa: int, first: int, span: int) -> None:
    bits = _valid_bits(size, mantissa)
    assume(bits is not None)
    assert bits is not None
    assert kn.next_bits(bits, first, first + span) == next_bits(bits, first, first + span)


@pytest.mark.parametrize(
    ("bits", "first", "last"),
    [
        (0x1D00FFFF, 1261130161, 1262152739),  # Core pow_tests get_next_work -> 0x1d00d86a
        (0x1D00FFFF, 1231006505, 1233061996),  # limited by powLimit
        (0x1B0404CB, 1279008237, 1279297671),  # clamped at 1/4 timespan
        (0x1C387F6F, 1263163443, 1269211443),  # clamped at 4x timespan
        (0x1702068F, 0, 1_209_000),  # the embedded snapshot's bits, 600 s blocks
        (0x03123456, 0, 4_838_400),  # tiny targets: GetCompact of a small integer
        (0x04800000 >> 8 | 0x04000000, 0, 302_400),
    ],
)
def test_next_bits_pinned(bits: int, first: int, last: int) -> None:
    assert kn.next_bits(bits, first, last) == next_bits(bits, first, last)


def test_next_bits_caps_at_pow_limit() -> None:
    assert kn.next_bits(POW_LIMIT_BITS, 0, 10 * TARGET_TIMESPAN_S) == POW_LIMIT_BITS


@settings(max_examples=500, deadline=None)
@given(size=st.integers(min_value=1, max_value=0x1D), mantissa=st.integers(min_value=1, max_value=0x7FFFFF))
def test_bits_to_difficulty_copies(size: int, mantissa: int) -> None:
    bits = _valid_bits(size, mantissa)
    assume(bits is not None)
    assert bits is not None
    assert kn.bits_to_difficulty(bits) == bits_to_difficulty(bits)
    assert kp.bits_to_difficulty_vec(np.array([bits]))[0] == bits_to_difficulty(bits)


@pytest.mark.parametrize(
    "height", [0, 1, 209_999, 210_000, 839_999, 840_000, 1_049_999, 1_050_000, 13_440_000]
)
def test_subsidy_copies(height: int) -> None:
    assert kn.subsidy_sats(height) == block_subsidy_sats(height)
    assert kp.subsidy_sats_vec(np.array([height]))[0] == block_subsidy_sats(height)


@pytest.mark.parametrize(
    ("first", "n"), [(1_049_990, 20), (1_050_000, 5), (951_553, 144), (1, 0), (209_000, 3_000)]
)
def test_subsidy_range_is_the_sum_of_subsidies(first: int, n: int) -> None:
    exact = sum(block_subsidy_sats(h) for h in range(first, first + n))
    assert kn.subsidy_range_sats(first, first + n - 1) == exact
    assert kp.subsidy_range_sats_vec(np.array([first]), np.array([n]))[0] == exact


def test_expected_blocks_and_revenue_copies() -> None:
    rng = np.random.default_rng(1)
    for _ in range(200):
        h, d, p, f = rng.uniform(1e8, 2e9), rng.uniform(1e13, 3e14), rng.uniform(1e4, 2e5), rng.uniform(0, 1)
        assert kn.expected_blocks(h, d, 86_400.0) == float(expected_blocks(h, d, 86_400.0))
        assert kn.revenue_usd_per_ths_day(d, 3.125, f, p) == float(revenue_usd_per_ths_day(d, 3.125, f, p))


@pytest.mark.parametrize("lam", [0.3, 5.0, 49.0, 144.0, 160.5, 600.0, 5_000.0])
def test_poisson_inversion_is_the_inverse_cdf(lam: float) -> None:
    u = np.random.default_rng(7).random(3_000)
    got = np.array([kn.poisson_inv(x, lam, kn.INV_K) for x in u])
    want = stats.poisson.ppf(u, lam).astype(np.int64)
    differ = got != want
    if differ.any():  # only where u is within rounding of a CDF step
        k = want[differ]
        assert np.all(
            np.minimum(
                abs(stats.poisson.cdf(k, lam) - u[differ]), abs(stats.poisson.cdf(k - 1, lam) - u[differ])
            )
            < 1e-12
        )
    np.testing.assert_array_equal(kp.poisson_inv_vec(u, np.full(u.size, lam)), got)


def test_poisson_lookup_table_matches_search() -> None:
    lam = 144.0
    k0, p0, k_max = kn.poisson_start(lam)
    tab = np.empty(512)
    tab[0] = p0
    n_tab, p_last = 1, p0
    for u in np.random.default_rng(3).random(2_000):
        k, n_tab, p_last = kn.poisson_lookup(u, lam, k0, k_max, tab, n_tab, p_last, kn.INV_K)
        assert k == kn.poisson_inv(u, lam, kn.INV_K)
    assert kn.poisson_inv(0.5, 0.0, kn.INV_K) == 0
