"""The reference kernel: :func:`hashrisk.sim.model.run_xp` on numpy, vectorised over paths.

The model (equations in :mod:`hashrisk.sim.model`) is written once over an array namespace; this module
runs it on numpy (:class:`hashrisk.sim.xp.NumpyOps`). :mod:`hashrisk.sim.kernel_numba` (the per-path form)
and :mod:`hashrisk.sim.kernel_jax` (the same array form on JAX) must give the same numbers: 1e-9 relative,
integers exactly, on the same random numbers (tests/sim/test_sim_kernels.py, test_sim_kernel_jax.py).
"""

from __future__ import annotations

from hashrisk.sim.arrays import ChunkOutputs, ChunkRandoms, KernelSetup
from hashrisk.sim.model import run_xp, store_xp_results
from hashrisk.sim.xp import NumpyOps


def run_chunk(setup: KernelSetup, rnd: ChunkRandoms, out: ChunkOutputs) -> None:
    """Simulate the chunk of paths of `rnd` into the first rows of `out` (reference implementation).

    Parameters
    ----------
    setup : KernelSetup
        The prepared scenario.
    rnd : ChunkRandoms
        The chunk's random numbers, shape ``(P, n_days)`` each.
    out : ChunkOutputs
        Outputs with at least P rows.
    """
    o = out.head(rnd.n_paths)
    series, scalars = run_xp(
        NumpyOps(),
        setup,
        rnd.log_return,
        rnd.u_blocks,
        rnd.fee_mult,
        rnd.hash_mult,
        o.retarget_day,
        o.retarget_bits,
    )
    store_xp_results(o, series, scalars)
