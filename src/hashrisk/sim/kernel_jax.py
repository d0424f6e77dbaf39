"""The JAX kernel: :func:`hashrisk.sim.model.run_xp` on ``jax.numpy``, one ``lax.scan`` over days.

The model (equations in :mod:`hashrisk.sim.model`) is written once over an array namespace; this module
supplies JAX's backend pieces (:class:`JaxOps`: ``.at[]`` updates, ``lax.while_loop``, ``lax.scan``) and
jits it, so that it runs on whatever device JAX sees (GPU or TPU when present, the CPU otherwise). It
consumes the same pre-drawn random arrays (:class:`~hashrisk.sim.arrays.ChunkRandoms`) and writes the same
:class:`~hashrisk.sim.arrays.ChunkOutputs` (copied back from the device), equal to the numpy reference to
1e-9 relative, integers exactly (tests/sim/test_sim_kernel_jax.py).

Everything runs in 64 bits (``jax.enable_x64`` around the call, so the user's global JAX setting is left
alone): float64 money and prices, int64 heights, times and nBits.

Compilation: one jitted function per shape (paths, days, cohorts, recorded retargets) and per value of the
``static`` fields of :class:`~hashrisk.sim.arrays.KernelSetup` (lead time, deployment cohort); JAX caches
it for the process. The other fields are traced arguments (converted by their declared types), so a sweep
over them does not recompile. Imported only when ``backend="jax"`` is asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.scipy.special import gammaln

from hashrisk.sim.arrays import (
    STATIC_FIELDS,
    ChunkOutputs,
    ChunkRandoms,
    KernelParams,
    KernelSetup,
    convert_setup,
)
from hashrisk.sim.model import run_xp, store_xp_results
from hashrisk.sim.xp import DayStep, NumpyOps

_UNROLL_COHORTS = 64
"""Up to this many cohorts the ordered sums are unrolled (fused); above, a scan keeps compile time flat."""
_DTYPES: dict[type, Any] = {float: jnp.float64, int: jnp.int64, bool: jnp.bool_}


class JaxOps(NumpyOps):
    """JAX backend of :func:`hashrisk.sim.model.run_xp` (what differs from :class:`hashrisk.sim.xp.NumpyOps`)."""

    xp: Any = jnp

    @staticmethod
    def gammaln(x: Any) -> Any:
        """``log |Gamma(x)|``."""
        return gammaln(x)

    @staticmethod
    def while_loop(cond: Callable[[Any], Any], body: Callable[[Any], Any], state: Any) -> Any:
        """``lax.while_loop``."""
        return lax.while_loop(cond, body, state)

    @staticmethod
    def set_row(a: Any, i: Any, value: Any) -> Any:
        """``a.at[i].set(value)``."""
        return a.at[i].set(value)

    @staticmethod
    def add_col(a: Any, j: int, value: Any) -> Any:
        """``a.at[:, j].add(value)``."""
        return a.at[:, j].add(value)

    @staticmethod
    def scatter(a: Any, rows: Any, cols: Any, value: Any) -> Any:
        """``a.at[rows, cols].set(value)``, out-of-range columns dropped."""
        return a.at[rows, cols].set(value, mode="drop")

    @classmethod
    def sum_cohorts(cls, x: Any) -> Any:
        """Sum over cohorts (last axis) one cohort after the other: the reference's summation order.

        Unrolled up to :data:`_UNROLL_COHORTS` cohorts; a ``lax.scan`` over cohorts (same order) above, so
        that 1,000 cohorts compile in seconds rather than a quarter of a minute.
        """
        if x.shape[-1] <= _UNROLL_COHORTS:
            return super().sum_cohorts(x)
        total, _ = lax.scan(
            lambda acc, col: (acc + col, None), jnp.zeros(x.shape[:-1], x.dtype), jnp.moveaxis(x, -1, 0)
        )
        return total

    @staticmethod
    def scan_days(step: DayStep, state: Any, xs: Sequence[Any], n_days: int) -> tuple[Any, tuple[Any, ...]]:
        """``lax.scan`` over days (the columns of `xs`); the daily outputs come back as ``(P, D)``."""
        state, ys = lax.scan(step, state, (jnp.arange(n_days, dtype=jnp.int64), *(x.T for x in xs)))
        return state, tuple(y.T for y in ys)


@partial(jax.jit, static_argnames=("static",))
def _run(
    traced: dict[str, Any],
    log_return: Any,
    u_blocks: Any,
    fee_mult: Any,
    hash_mult: Any,
    rt_day: Any,
    rt_bits: Any,
    *,
    static: tuple[tuple[str, Any], ...],
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    s = KernelParams(**traced, **dict(static))
    return run_xp(JaxOps(), s, log_return, u_blocks, fee_mult, hash_mult, rt_day, rt_bits)


def run_chunk(setup: KernelSetup, rnd: ChunkRandoms, out: ChunkOutputs) -> None:
    """Simulate the chunk of paths of `rnd` into the first rows of `out` on JAX's default device.

    The contract of :func:`hashrisk.sim.kernel_numpy.run_chunk` (same arguments, same outputs).
    """
    o = out.head(rnd.n_paths)
    with jax.enable_x64(True):
        fields = convert_setup(setup, lambda t, v: jnp.asarray(v, _DTYPES[t]), jnp.asarray)
        static = tuple((name, int(getattr(setup, name))) for name in sorted(STATIC_FIELDS))
        traced = {name: v for name, v in fields.items() if name not in STATIC_FIELDS}
        series, scalars = _run(
            traced,
            jnp.asarray(rnd.log_return, jnp.float64),
            jnp.asarray(rnd.u_blocks, jnp.float64),
            jnp.asarray(rnd.fee_mult, jnp.float64),
            jnp.asarray(rnd.hash_mult, jnp.float64),
            jnp.asarray(o.retarget_day, jnp.int32),
            jnp.asarray(o.retarget_bits, jnp.int64),
            static=static,
        )
        series, scalars = jax.device_get((series, scalars))
    store_xp_results(o, tuple(np.asarray(x) for x in series), {k: np.asarray(v) for k, v in scalars.items()})
