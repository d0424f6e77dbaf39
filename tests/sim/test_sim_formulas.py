"""The kernel forms of the consensus rules (``*_i64`` scalars for compiled code, ``*_xp`` array forms) and
the Poisson inversion equal the exact references, uncompiled and compiled."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numba import njit
from scipy import stats

from hashrisk.chain.pow import (
    POW_LIMIT,
    POW_LIMIT_BITS,
    TARGET_TIMESPAN_S,
    bits_to_difficulty,
    bits_to_difficulty_i64,
    bits_to_difficulty_xp,
    bits_to_target,
    expected_blocks,
    next_bits,
    next_bits_i64,
    next_bits_xp,
)
from hashrisk.chain.subsidy import (
    block_subsidy_sats,
    block_subsidy_sats_i64,
    block_subsidy_sats_xp,
    subsidy_range_sats_i64,
    subsidy_range_sats_xp,
)
from hashrisk.economics.revenue import revenue_usd_per_ths_day
from hashrisk.errors import ConsensusError
from hashrisk.sim import (
    jit,  # noqa: F401 - registers the chain's kernel forms with numba
    model,
)
from hashrisk.sim.poisson import INV_K, poisson_inv, poisson_inv_xp, poisson_lookup, poisson_start
from hashrisk.sim.xp import NumpyOps


@njit(cache=False)
def _compiled_next_bits(bits: int, first: int, last: int) -> int:
    return next_bits_i64(bits, first, last)  # type: ignore[no-any-return]


@njit(cache=False)
def _compiled_difficulty(bits: int) -> float:
    return bits_to_difficulty_i64(bits)


@njit(cache=False)
def _compiled_subsidy(first: int, last: int) -> tuple[int, int]:
    return block_subsidy_sats_i64(first), subsidy_range_sats_i64(first, last)


@njit(cache=False)
def _compiled_poisson(u: np.ndarray, lam: float) -> np.ndarray:
    out = np.empty(u.shape[0], np.int64)
    for i in range(u.shape[0]):
        out[i] = poisson_inv(u[i], lam, INV_K)
    return out


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
    want = next_bits(bits, first, first + span)
    assert next_bits_i64(bits, first, first + span) == want
    assert _compiled_next_bits(bits, first, first + span) == want
    got = next_bits_xp(np, np.array([bits]), np.array([first]), np.array([first + span]))
    assert int(got[0]) == want


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
    want = next_bits(bits, first, last)
    assert next_bits_i64(bits, first, last) == want
    assert _compiled_next_bits(bits, first, last) == want
    assert int(next_bits_xp(np, np.array([bits]), np.array([first]), np.array([last]))[0]) == want


def test_next_bits_caps_at_pow_limit() -> None:
    assert next_bits_i64(POW_LIMIT_BITS, 0, 10 * TARGET_TIMESPAN_S) == POW_LIMIT_BITS
    assert _compiled_next_bits(POW_LIMIT_BITS, 0, 10 * TARGET_TIMESPAN_S) == POW_LIMIT_BITS


@settings(max_examples=500, deadline=None)
@given(size=st.integers(min_value=1, max_value=0x1D), mantissa=st.integers(min_value=1, max_value=0x7FFFFF))
def test_bits_to_difficulty_forms(size: int, mantissa: int) -> None:
    bits = _valid_bits(size, mantissa)
    assume(bits is not None)
    assert bits is not None
    assert _compiled_difficulty(bits) == bits_to_difficulty(bits)
    assert bits_to_difficulty_xp(np, np.array([bits]))[0] == bits_to_difficulty(bits)


@pytest.mark.parametrize(
    "height", [0, 1, 209_999, 210_000, 839_999, 840_000, 1_049_999, 1_050_000, 13_440_000]
)
def test_subsidy_forms(height: int) -> None:
    assert block_subsidy_sats_i64(height) == block_subsidy_sats(height)
    assert _compiled_subsidy(height, height)[0] == block_subsidy_sats(height)
    assert block_subsidy_sats_xp(np, np.array([height]))[0] == block_subsidy_sats(height)


@pytest.mark.parametrize(
    ("first", "n"), [(1_049_990, 20), (1_050_000, 5), (951_553, 144), (1, 0), (209_000, 3_000)]
)
def test_subsidy_range_is_the_sum_of_subsidies(first: int, n: int) -> None:
    exact = sum(block_subsidy_sats(h) for h in range(first, first + n))
    assert subsidy_range_sats_i64(first, first + n - 1) == exact
    assert _compiled_subsidy(first, first + n - 1)[1] == exact
    assert subsidy_range_sats_xp(np, np.array([first]), np.array([n]))[0] == exact


def test_revenue_equals_the_economics_function() -> None:
    rng = np.random.default_rng(1)
    h, d, p, f = (
        rng.uniform(1e8, 2e9, 200),
        rng.uniform(1e13, 3e14, 200),
        rng.uniform(1e4, 2e5, 200),
        rng.random(200),
    )
    np.testing.assert_array_equal(
        model.revenue_usd_per_ths_day(d, 3.125, f, p), revenue_usd_per_ths_day(d, 3.125, f, p)
    )
    for i in range(20):
        assert model.revenue_usd_per_ths_day(d[i], 3.125, f[i], p[i]) == float(
            revenue_usd_per_ths_day(d[i], 3.125, f[i], p[i])
        )
    assert float(expected_blocks(h[0], d[0], 86_400.0)) == h[0] * 1e12 * 86_400.0 / (d[0] * 2**32)


@pytest.mark.parametrize("lam", [0.3, 5.0, 49.0, 144.0, 160.5, 600.0, 5_000.0])
def test_poisson_inversion_is_the_inverse_cdf(lam: float) -> None:
    u = np.random.default_rng(7).random(3_000)
    got = np.array([poisson_inv(x, lam, INV_K) for x in u])
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
    np.testing.assert_array_equal(poisson_inv_xp(NumpyOps(), u, np.full(u.size, lam)), got)
    np.testing.assert_array_equal(_compiled_poisson(u, lam), got)


def test_poisson_lookup_table_matches_search() -> None:
    lam = 144.0
    k0, p0, k_max = poisson_start(lam)
    tab = np.empty(512)
    tab[0] = p0
    n_tab, p_last = 1, p0
    for u in np.random.default_rng(3).random(2_000):
        k, n_tab, p_last = poisson_lookup(u, lam, k0, k_max, tab, n_tab, p_last, INV_K)
        assert k == poisson_inv(u, lam, INV_K)
    assert poisson_inv(0.5, 0.0, INV_K) == 0
    assert poisson_inv_xp(NumpyOps(), np.array([0.5]), np.array([0.0]))[0] == 0
