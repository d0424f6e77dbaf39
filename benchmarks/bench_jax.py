"""Kernel throughput: the numpy reference vs numba vs JAX on the same random numbers (prints figures).

    python benchmarks/bench_jax.py                              # 10,000 paths x 365 days x 32 cohorts
    python benchmarks/bench_jax.py --paths 1000 --days 120      # a small run
    python benchmarks/bench_jax.py --backends numba,jax         # leave out the (slow) numpy reference

Times ``run_chunk`` of each kernel on one chunk of pre-drawn random numbers (the engine's
``prepare`` + ``draw_randoms``; drawing is excluded), on the default scenario with ``cohorts - 1`` fleet
cohorts plus the new-deployments cohort. Compilation is excluded: numba loads or builds its cache in a
warm-up call and JAX compiles for the measured shape in a warm-up call of that shape. The JAX time includes
the copies to and from the device (the kernel's contract is numpy in, numpy out). Each figure is the best
of ``--repeat`` runs. JAX runs on its default device (printed): a GPU or TPU when jax sees one, else the CPU.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np

from hashrisk.sim import Scenario, kernel_numba, kernel_numpy
from hashrisk.sim.arrays import ChunkOutputs, ChunkRandoms, KernelSetup
from hashrisk.sim.engine import draw_randoms, prepare

Kernel = Callable[[KernelSetup, ChunkRandoms, ChunkOutputs], None]


def _kernels(names: list[str]) -> dict[str, Kernel]:
    out: dict[str, Kernel] = {}
    for name in names:
        if name == "numpy":
            out[name] = kernel_numpy.run_chunk
        elif name == "numba":
            out[name] = kernel_numba.run_chunk
        elif name == "jax":
            from hashrisk.sim import kernel_jax

            out[name] = kernel_jax.run_chunk
        else:
            raise SystemExit(f"unknown backend {name!r}: numpy, numba or jax")
    return out


def _time(kernel: Kernel, setup: KernelSetup, rnd: ChunkRandoms, out: ChunkOutputs, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        kernel(setup, rnd, out)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--paths", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--cohorts", type=int, default=32, help="kernel cohorts, new deployments included")
    parser.add_argument("--backends", default="numpy,numba,jax", help="comma-separated, in print order")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    kernels = _kernels([b.strip() for b in args.backends.split(",") if b.strip()])
    scenario = Scenario(paths=args.paths, horizon_days=args.days, seed=args.seed).with_params(
        {"fleet.cohorts": args.cohorts - 1}
    )
    prep = prepare(scenario)
    setup = prep.setup
    rnd = draw_randoms(prep, 0, args.paths, threads=min(os.cpu_count() or 1, 8))
    work = args.paths * args.days * setup.n_cohorts
    print(f"machine: {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} at start")
    if "jax" in kernels:
        import jax

        dev = jax.devices()[0]
        print(
            f"jax {jax.__version__}: default device {dev.platform}:{dev.device_kind} ({len(jax.devices())} seen)"
        )
    print(
        f"size: {args.paths:,} paths x {args.days} days x {setup.n_cohorts} cohorts = {work:.3g} cohort-path-days"
    )

    rates: dict[str, float] = {}
    outputs: dict[str, ChunkOutputs] = {}
    for name, kernel in kernels.items():
        out = ChunkOutputs.empty(args.paths, args.days, setup.max_retargets, n_owners=setup.n_owners)
        t0 = time.perf_counter()
        if name == "numba":  # compile or load the cache (shape-independent)
            small = ChunkRandoms(
                *(
                    a[: min(args.paths, 100)]
                    for a in (rnd.log_return, rnd.u_blocks, rnd.fee_mult, rnd.hash_mult)
                )
            )
            kernel(setup, small, out)
        elif name == "jax":  # compiles for this exact shape
            kernel(setup, rnd, out)
        warm = time.perf_counter() - t0
        elapsed = _time(kernel, setup, rnd, out, args.repeat)
        rates[name] = work / elapsed
        outputs[name] = out
        extra = f" (warm-up/compile {warm:.1f} s)" if name != "numpy" else ""
        print(f"{name:>6}: {elapsed:8.3f} s = {rates[name]:.3g} cohort-path-days/s{extra}")

    names = list(rates)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            print(f"ratio {b}/{a}: {rates[b] / rates[a]:.2f}x")
    ref = names[0]
    for name in names[1:]:  # a sanity check that the kernels computed the same thing
        x, y = outputs[name].path_f, outputs[ref].path_f
        rel = float(np.max(np.abs(x - y) / np.maximum(np.abs(y), 1e-300)))
        same_int = np.array_equal(outputs[name].path_i, outputs[ref].path_i)
        print(
            f"{name} vs {ref}: max relative difference of per-path figures {rel:.1e}; integers equal: {same_int}"
        )


if __name__ == "__main__":
    main()
