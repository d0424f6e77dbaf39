"""The JAX kernel equals the numpy reference on the same random numbers; the array forms of the consensus rules
and of the Poisson inversion run on jax.numpy equal the exact references; ``backend="jax"`` runs through
the engine (or says how to install JAX)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from scipy import stats
from test_sim_kernels import VARIANTS

import hashrisk.sim
from hashrisk.chain.pow import (
    POW_LIMIT,
    TARGET_TIMESPAN_S,
    bits_to_difficulty,
    bits_to_difficulty_xp,
    bits_to_target,
    next_bits,
    next_bits_xp,
)
from hashrisk.chain.subsidy import block_subsidy_sats, block_subsidy_sats_xp, subsidy_range_sats_xp
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.errors import ConsensusError, InputError
from hashrisk.sim import Scenario, kernel_numpy, simulate
from hashrisk.sim.arrays import PI_N_RETARGETS, PI_TIP, SERIES, ChunkOutputs
from hashrisk.sim.engine import draw_randoms, prepare
from hashrisk.sim.poisson import poisson_inv_xp
from hashrisk.sim.xp import NumpyOps

EXTRA_VARIANTS: dict[str, dict[str, Any]] = {
    # the 4th halving after 2024's is at height 1,050,000: every path crosses it within days
    "halving-crossing": {"start.height": 1_049_000},
    "impact-off": {"impact.enabled": False},
    # 100x too easy: ~14,400 blocks a day, several retargets (each capped at x4) on the first day
    "several-retargets-a-day": {"start.difficulty": NetworkSnapshot.embedded().difficulty / 100},
}
ALL_VARIANTS = {**VARIANTS, **EXTRA_VARIANTS}


@pytest.fixture(scope="module")
def kj() -> ModuleType:
    """The JAX kernel module (the tests skip when JAX is not installed)."""
    pytest.importorskip("jax")
    from hashrisk.sim import kernel_jax

    return kernel_jax


def _x64(fn: Callable[..., Any], *args: Any) -> np.ndarray:
    """Call an array form ``fn(xp, *arrays)`` on jax.numpy, 64-bit enabled, with numpy arrays; as numpy."""
    import jax
    import jax.numpy as jnp

    with jax.enable_x64(True):
        return np.asarray(fn(jnp, *(jnp.asarray(a) for a in args)))


def _poisson_jax(kj: ModuleType) -> Callable[..., Any]:
    return lambda _xp, u, lam: poisson_inv_xp(kj.JaxOps(), u, lam)


# ------------------------------------------------------------------------------------- array forms on jnp
def _random_valid_bits(rng: np.random.Generator, n: int) -> np.ndarray:
    sizes = rng.integers(1, 0x1D + 1, 3 * n)
    mantissas = rng.integers(1, 0x7FFFFF + 1, 3 * n)
    out = []
    for size, mantissa in zip(sizes, mantissas, strict=True):
        bits = (int(size) << 24) | int(mantissa)
        try:
            if bits_to_target(bits) <= POW_LIMIT:
                out.append(bits)
        except ConsensusError:
            continue
    assert len(out) >= n
    return np.array(out[:n], dtype=np.int64)


def test_next_bits_equals_consensus_rule(kj: ModuleType) -> None:
    rng = np.random.default_rng(2024)
    n = 20_000
    bits = _random_valid_bits(rng, n)
    first = rng.integers(-(10**9), 10**9, n)
    span = np.where(
        rng.random(n) < 0.5,
        rng.integers(-(10**7), 10**7, n),  # anything, mostly clamped
        rng.integers(
            TARGET_TIMESPAN_S // 4 - 5, TARGET_TIMESPAN_S * 4 + 6, n
        ),  # around and inside the clamps
    )
    got = _x64(next_bits_xp, bits, first, first + span)
    want = np.array(
        [next_bits(int(b), int(f), int(f + s)) for b, f, s in zip(bits, first, span, strict=True)]
    )
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    ("bits", "first", "last", "want"),
    [  # Bitcoin Core src/test/pow_tests.cpp
        (0x1D00FFFF, 1261130161, 1262152739, 0x1D00D86A),  # get_next_work
        (0x1D00FFFF, 1231006505, 1233061996, 0x1D00FFFF),  # get_next_work_pow_limit
        (0x1C05A3F4, 1279008237, 1279297671, 0x1C0168FD),  # get_next_work_lower_limit_actual
        (0x1C387F6F, 1263163443, 1269211443, 0x1D00E1FD),  # get_next_work_upper_limit_actual
    ],
)
def test_next_bits_core_vectors(kj: ModuleType, bits: int, first: int, last: int, want: int) -> None:
    got = _x64(next_bits_xp, np.array([bits]), np.array([first]), np.array([last]))
    assert int(got[0]) == want


def test_bits_to_difficulty_is_bit_exact(kj: ModuleType) -> None:
    bits = _random_valid_bits(np.random.default_rng(5), 5_000)
    got = _x64(bits_to_difficulty_xp, bits)
    want = np.array([bits_to_difficulty(int(b)) for b in bits])
    np.testing.assert_array_equal(got, want)


def test_subsidy_forms(kj: ModuleType) -> None:
    heights = np.array([0, 1, 209_999, 210_000, 839_999, 840_000, 1_049_999, 1_050_000, 13_440_000, 10**8])
    got = _x64(block_subsidy_sats_xp, heights)
    np.testing.assert_array_equal(got, [block_subsidy_sats(int(h)) for h in heights])
    first = np.array([1_049_990, 1_050_000, 951_553, 1, 209_000, 6_929_999])
    n = np.array([20, 5, 144, 0, 3_000, 2])
    got = _x64(subsidy_range_sats_xp, first, n)
    want = [
        sum(block_subsidy_sats(h) for h in range(int(f), int(f + k))) for f, k in zip(first, n, strict=True)
    ]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("lam", [0.3, 5.0, 49.0, 144.0, 160.5, 600.0, 5_000.0])
def test_poisson_inversion_is_the_inverse_cdf(kj: ModuleType, lam: float) -> None:
    u = np.random.default_rng(7).random(3_000)
    got = _x64(_poisson_jax(kj), u, np.full(u.size, lam))
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
    np.testing.assert_array_equal(got, poisson_inv_xp(NumpyOps(), u, np.full(u.size, lam)))
    assert _x64(_poisson_jax(kj), np.array([0.5]), np.array([0.0]))[0] == 0


# ------------------------------------------------------------------------------------- the kernel
def _run_both(kj: ModuleType, scenario: Scenario) -> tuple[ChunkOutputs, ChunkOutputs]:
    prep = prepare(scenario)
    rnd = draw_randoms(prep, 0, scenario.paths)
    outs = []
    for kernel in (kj.run_chunk, kernel_numpy.run_chunk):
        out = ChunkOutputs.empty(
            scenario.paths, scenario.horizon_days, prep.setup.max_retargets, n_owners=prep.setup.n_owners
        )
        kernel(prep.setup, rnd, out)
        outs.append(out)
    return outs[0], outs[1]


@pytest.mark.parametrize("variant", sorted(ALL_VARIANTS))
def test_jax_equals_numpy_reference(kj: ModuleType, variant: str) -> None:
    scenario = Scenario(paths=120, horizon_days=150, seed=5).with_params(ALL_VARIANTS[variant])
    a, b = _run_both(kj, scenario)
    for name in (*SERIES, "path_f", "owner_f"):
        x, y = getattr(a, name), getattr(b, name)
        np.testing.assert_allclose(
            x, y, rtol=1e-9, atol=1e-9 * max(1.0, float(np.nanmax(np.abs(y)))), err_msg=name
        )
    for name in ("path_i", "retarget_day", "retarget_bits"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.path_i[:, PI_N_RETARGETS].max() >= 5  # retargets happened


def test_extra_variants_exercise_what_they_name(kj: ModuleType) -> None:
    s = Scenario(paths=40, horizon_days=60, seed=5)
    halving, _ = _run_both(kj, s.with_params(EXTRA_VARIANTS["halving-crossing"]))
    assert halving.path_i[:, PI_TIP].min() >= 1_050_000
    many, _ = _run_both(kj, s.with_params(EXTRA_VARIANTS["several-retargets-a-day"]))
    day = many.retarget_day
    assert np.any((day[:, 1:] == day[:, :-1]) & (day[:, 1:] >= 0))  # two retargets on one day


def test_simulate_jax_backend_equals_numpy(kj: ModuleType) -> None:
    # 1,300 paths in chunks of 1,000: two shapes, and outputs reused across chunks
    s = Scenario(paths=1_300, horizon_days=40, seed=2)
    a = simulate(s, backend="jax", chunk_paths=1_000)
    b = simulate(s, backend="numpy")
    assert a.meta["backend"] == "jax"
    np.testing.assert_allclose(a.path_f, b.path_f, rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(a.path_i, b.path_i)
    for name in SERIES:
        np.testing.assert_allclose(a.fans[name], b.fans[name], rtol=1e-9, err_msg=name)
    assert a.retargets.equals(b.retargets)


def test_jax_backend_without_jax_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs with or without JAX: a missing JAX (real or simulated) is an InputError naming the extra."""
    monkeypatch.setitem(sys.modules, "jax", None)  # import jax -> ModuleNotFoundError
    monkeypatch.delitem(sys.modules, "hashrisk.sim.kernel_jax", raising=False)
    monkeypatch.delattr(hashrisk.sim, "kernel_jax", raising=False)
    with pytest.raises(InputError) as err:
        simulate(Scenario(paths=10, horizon_days=5), backend="jax")
    assert err.value.field == "backend"
    assert err.value.value == "jax"
    assert "pip install 'hashrisk[gpu]'" in err.value.allowed


def test_unknown_backend_lists_the_three() -> None:
    with pytest.raises(InputError, match="numba, numpy, or jax"):
        simulate(Scenario(paths=10, horizon_days=5), backend="cuda")  # type: ignore[arg-type]
