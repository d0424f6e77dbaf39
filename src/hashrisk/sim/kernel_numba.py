"""The compiled kernel: :func:`hashrisk.sim.model.run_path` compiled by numba, paths in parallel (``prange``).

The model is written once, in :mod:`hashrisk.sim.model` (read its docstring); this module only compiles
it: ``run_path`` and the consensus rules it calls (:mod:`hashrisk.chain`'s kernel forms) are
``register_jitable`` functions, so the driver below compiles them into one machine-code loop per path.
The scenario, random numbers and outputs go in as named-tuple twins of their dataclasses
(:func:`hashrisk.sim.arrays.record`).

Tests: tests/sim/test_sim_kernels.py (compiled = uncompiled ``run_path`` exactly; = numpy reference to
1e-9 relative, integers exactly). Compiled with ``cache=True``: the first run compiles (tens of seconds),
later runs load the cache (keyed on the model's and the rules' source files, :mod:`hashrisk.sim.jit`).
No fast-math: the model's sums and the consensus integers must come out as written.
"""

from __future__ import annotations

from typing import Any

from numba import njit, prange

from hashrisk.sim.arrays import ChunkOutputs, ChunkRandoms, KernelSetup, record
from hashrisk.sim.model import run_path
from hashrisk.sim.poisson import INV_K


@njit(parallel=True, cache=True)
def _run_chunk(s: Any, rnd: Any, out: Any, inv_k: Any) -> None:  # pragma: no cover - compiled
    for p in prange(rnd.log_return.shape[0]):
        run_path(p, s, rnd, out, inv_k)


def run_chunk(setup: KernelSetup, rnd: ChunkRandoms, out: ChunkOutputs) -> None:
    """Simulate the chunk of paths of `rnd` into `out` (compiled, parallel over paths).

    The contract of :func:`hashrisk.sim.kernel_numpy.run_chunk` (same arguments, same outputs).
    """
    _run_chunk(record(setup), record(rnd), record(out.head(rnd.n_paths)), INV_K)
