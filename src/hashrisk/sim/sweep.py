"""Parameter sweeps: one scenario, a grid of parameter values, a tidy table of results.

A grid names scenario parameters by dotted path (the paths :meth:`Scenario.with_params` takes) and lists
values for each; the points are their Cartesian product (``mode: product``) or the values taken side by side
(``mode: zip``, all lists of one length). Every point is simulated with the base scenario's seed, so points
differ only by their parameters (common random numbers: differences between points are not Monte-Carlo
noise), and a point's result does not depend on the backend or on which worker ran it.

Backends (:func:`run_sweep`):

- ``serial``: in this process;
- ``processes``: a local process pool (``concurrent.futures`` with the ``spawn`` start method, one numba
  thread per worker so workers do not oversubscribe the cores);
- ``dask``: a Dask distributed cluster: the scheduler at ``scheduler`` (``tcp://host:8786``), or a
  ``LocalCluster`` of `workers` processes when no address is given.

The grid file (YAML)::

    base: scenario.yaml          # optional: a scenario file, relative to the grid file
    scenario: {paths: 2000}      # optional: parameters set on the base before the grid (dotted or nested)
    mode: product                # product | zip
    params:
      price.vol: [0.4, 0.6, 0.8]
      fleet.hysteresis: [0.0, 0.05]

No I/O happens here except what the caller passes in (the CLI loads the files).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hashrisk._yaml import load_yaml
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.errors import InputError, from_validation_error
from hashrisk.sim.engine import Backend, simulate
from hashrisk.sim.result import SimResult
from hashrisk.sim.scenario import PRICE_MODELS, Scenario

SweepBackend = Literal["serial", "processes", "dask"]
SWEEP_BACKENDS: tuple[SweepBackend, ...] = ("serial", "processes", "dask")
MAX_POINTS = 10_000
"""Largest grid a sweep accepts (a guard against a typo exploding the product)."""


class SweepGrid(BaseModel):
    """A sweep: base scenario settings and the parameter grid (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    base: str | None = Field(default=None, description="Scenario file, relative to the grid file.")
    scenario: dict[str, Any] = Field(
        default_factory=dict, description="Parameters set on the base scenario before the grid."
    )
    mode: Literal["product", "zip"] = Field(default="product", description="product | zip.")
    params: dict[str, list[Any]] = Field(min_length=1, description="Dotted parameter path -> values.")

    @field_validator("params")
    @classmethod
    def _non_empty(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for name, values in value.items():
            if not values:
                raise ValueError(f"`{name}` lists no values")
        return value

    @classmethod
    def from_yaml_text(cls, text: str, origin: str = "grid") -> SweepGrid:
        """Parse a grid document.

        Raises
        ------
        InputError
            Invalid YAML, unknown keys, empty value lists (the field is named).
        """
        raw = load_yaml(text, "grid", origin)
        if not isinstance(raw, Mapping):
            raise InputError("grid", type(raw).__name__, f"a mapping with `params` (in {origin})")
        try:
            return cls.model_validate(dict(raw))
        except ValidationError as exc:
            raise from_validation_error(
                exc, origin, default_field="scenario", unions={"price": PRICE_MODELS}
            ) from None

    def points(self) -> list[dict[str, Any]]:
        """The grid points as parameter mappings, in order.

        Raises
        ------
        InputError
            ``zip`` lists of different lengths, or more than :data:`MAX_POINTS` points.
        """
        names = list(self.params)
        lists = [self.params[n] for n in names]
        if self.mode == "zip":
            lengths = {n: len(v) for n, v in self.params.items()}
            if len(set(lengths.values())) != 1:
                raise InputError("mode", "zip", f"value lists of one length (got {lengths})")
            combos: list[tuple[Any, ...]] = list(zip(*lists, strict=True))
        else:
            n_points = math.prod(len(v) for v in lists)
            if n_points > MAX_POINTS:
                raise InputError("params", f"{n_points:,} points", f"at most {MAX_POINTS:,} grid points")
            combos = list(itertools.product(*lists))
        return [dict(zip(names, combo, strict=True)) for combo in combos]


def apply_settings(base: Scenario, settings: Mapping[str, Any]) -> Scenario:
    """`base` with `settings` applied: nested mappings become dotted paths (``{"price": {"vol": 1}}`` sets
    ``price.vol`` and keeps the other price fields), except where the base's value is null (then the
    mapping is set whole, e.g. ``fleet.spec``).

    Raises
    ------
    InputError
        A path that names no field, or a value the scenario rejects.
    """
    flat: dict[str, Any] = {}

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            path = f"{prefix}{key}"
            if isinstance(value, Mapping) and value and base.get_param(path) is not None:
                walk(value, path + ".")
            else:
                flat[path] = value

    walk(settings, "")
    return base.with_params(flat) if flat else base


def sweep_metrics(res: SimResult) -> dict[str, float]:
    """The flat metrics a sweep reports per point (all from :meth:`SimResult.figures`).

    Names: ``first_retarget_change_pct_p05/p50/p95`` [%], ``p_first_drop_10pct`` and
    ``p_any_drop_10pct`` (probability of a retarget of at least -10%), ``end_price_usd_p50``,
    ``end_hashrate_ths_p50``, ``end_difficulty_p50``, ``offline_share_max_p50``, ``sold_btc_total_p50``
    [BTC over the horizon], ``forced_btc_mean``, ``max_drawdown_on_p50``/``_off_p50`` (with and without the
    sales feedback), ``vol_ratio_mean``, ``recovery_days_p50`` (NaN when no path recovered).
    """
    s = res.figures()
    ch = s.first_retarget.change_pct
    drops = s.difficulty_drop
    amp = s.amplification
    return {
        "first_retarget_change_pct_p05": ch.p05,
        "first_retarget_change_pct_p50": ch.p50,
        "first_retarget_change_pct_p95": ch.p95,
        "p_first_drop_10pct": drops.p_first_retarget["10"],
        "p_any_drop_10pct": drops.p_any_retarget["10"],
        "end_price_usd_p50": s.end["price_usd"].p50,
        "end_hashrate_ths_p50": s.end["hashrate_ths"].p50,
        "end_difficulty_p50": s.end["difficulty"].p50,
        "offline_share_max_p50": s.offline_share.max_over_horizon.p50,
        "sold_btc_total_p50": s.miner_btc_sold.total_btc.p50,
        "forced_btc_mean": s.miner_btc_sold.forced_btc.mean,
        "max_drawdown_on_p50": amp.max_drawdown_on.p50,
        "max_drawdown_off_p50": amp.max_drawdown_off.p50,
        "vol_ratio_mean": amp.vol_ratio_mean,
        "recovery_days_p50": s.hashrate_recovery.days_from_start.p50,
    }


def limit_numba_threads(threads: int) -> None:
    """Cap numba's threads in this worker (0: leave numba's setting), so workers do not oversubscribe."""
    if threads > 0:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]


PointFunction = Callable[[Scenario, NetworkSnapshot | None, Backend, int], dict[str, float]]


def simulate_point(
    scenario: Scenario, snapshot: NetworkSnapshot | None, kernel: Backend, threads: int
) -> dict[str, float]:
    """Run one grid point and return its metrics (the function the workers execute; picklable).

    `threads` caps numba's threads in this worker (0: leave numba's setting).
    """
    limit_numba_threads(threads)
    return sweep_metrics(simulate(scenario, snapshot, backend=kernel))


@dataclass(frozen=True)
class SweepResult:
    """A finished sweep: one row per grid point.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``point`` (0-based), one column per swept parameter (named by its dotted path), then the metrics of
        :func:`sweep_metrics`.
    params : list of str
        The swept parameter paths.
    meta : dict
        Backend, workers, scheduler, points, paths per point, elapsed seconds.
    """

    frame: pd.DataFrame
    params: list[str]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The tidy results table (a copy)."""
        return self.frame.copy()

    def summary(self) -> dict[str, Any]:
        """JSON-ready: the rows as records, the swept parameters and the run's metadata."""
        records = self.frame.astype(object).where(self.frame.notna(), None).to_dict(orient="records")
        return {"params": self.params, "points": records, "meta": dict(self.meta)}


def _scenarios(base: Scenario, points: Sequence[Mapping[str, Any]]) -> list[Scenario]:
    out = []
    for i, p in enumerate(points):
        try:
            out.append(base.with_params(p))
        except InputError as exc:
            raise InputError(exc.field, exc.value, exc.allowed, hint=f"grid point {i}: {dict(p)}") from None
    return out


def _run_dask(
    fn: Callable[..., Any],
    arg_lists: Sequence[Sequence[Any]],
    scheduler: str | None,
    workers: int,
) -> list[Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError(
            "backend",
            "dask",
            "serial or processes (install the 'scale' extra for Dask: pip install 'hashrisk[scale]')",
        ) from None
    cluster = None
    try:
        if scheduler is None:
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = Client(cluster)
        else:
            try:
                client = Client(scheduler, timeout="10s")
            except OSError as exc:
                raise InputError(
                    "--scheduler", scheduler, f"the address of a running Dask scheduler ({exc})"
                ) from None
        try:
            futures = client.map(fn, *[list(a) for a in arg_lists], pure=False)
            return list(client.gather(futures))
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


def check_sweep_backend(backend: str, workers: int, scheduler: str | None) -> SweepBackend:
    """The backend a run uses (``dask`` whenever a `scheduler` is given), after checking it and `workers`.

    Raises
    ------
    InputError
        An unknown backend or a worker count outside [1, 512].
    """
    if scheduler is not None:
        return "dask"
    if backend not in SWEEP_BACKENDS:
        raise InputError("backend", backend, f"one of {', '.join(SWEEP_BACKENDS)}")
    if not 1 <= workers <= 512:
        raise InputError("workers", workers, "a whole number of workers in [1, 512]")
    return backend


def map_tasks(
    fn: Callable[..., Any],
    *arg_lists: Sequence[Any],
    backend: SweepBackend = "serial",
    workers: int = 2,
    scheduler: str | None = None,
) -> list[Any]:
    """``[fn(*args) for args in zip(*arg_lists)]`` on a sweep backend, results in order.

    The machinery :func:`run_sweep` uses, open to other batch jobs (backcast evaluations): ``serial`` in this
    process, ``processes`` on a spawn-started local pool, ``dask`` on the cluster at `scheduler` or a
    ``LocalCluster`` of `workers`. `fn` and the arguments must be picklable for the last two.

    Raises
    ------
    InputError
        An unknown backend or a bad worker count.
    """
    backend = check_sweep_backend(backend, workers, scheduler)
    if backend == "serial":
        return [fn(*args) for args in zip(*arg_lists, strict=True)]
    if backend == "processes":
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            return list(pool.map(fn, *arg_lists))
    return _run_dask(fn, arg_lists, scheduler, workers)


def run_sweep(
    base: Scenario,
    points: Sequence[Mapping[str, Any]],
    snapshot: NetworkSnapshot | None = None,
    *,
    backend: SweepBackend = "serial",
    workers: int = 2,
    scheduler: str | None = None,
    kernel: Backend = "numba",
    point_function: PointFunction = simulate_point,
) -> SweepResult:
    """Simulate `base` at every grid point and collect the metrics in a tidy table.

    Parameters
    ----------
    base : Scenario
        The scenario every point starts from (its seed is used at every point).
    points : sequence of mappings
        Dotted parameter path -> value, one mapping per point (:meth:`SweepGrid.points`).
    snapshot : NetworkSnapshot, optional
        Start state (the embedded snapshot when None; needed when the scenario names a start date).
    backend : {"serial", "processes", "dask"}
        Where the points run (see the module docstring).
    workers : int
        Processes for ``processes``, or for the ``LocalCluster`` of ``dask`` without a `scheduler`.
    scheduler : str, optional
        Address of a Dask scheduler (implies ``dask``).
    kernel : str
        Simulation kernel, a backend of :func:`hashrisk.sim.engine.simulate`.
    point_function : callable
        What a worker runs per point (default :func:`simulate_point`; must be picklable).

    Returns
    -------
    SweepResult

    Raises
    ------
    InputError
        An unknown backend, a bad worker count, or a grid point the scenario rejects (named by path).
    """
    backend = check_sweep_backend(backend, workers, scheduler)
    if not points:
        raise InputError("params", "[]", "at least one grid point")
    scenarios = _scenarios(base, points)
    t0 = time.perf_counter()
    n = len(scenarios)
    # serial runs leave numba's threads alone (0); workers get one thread each
    threads = 0 if backend == "serial" else 1
    rows = map_tasks(
        point_function,
        scenarios,
        [snapshot] * n,
        [kernel] * n,
        [threads] * n,
        backend=backend,
        workers=workers,
        scheduler=scheduler,
    )
    elapsed = time.perf_counter() - t0
    names = list(points[0])
    frame = pd.DataFrame(
        [{"point": i, **dict(p), **r} for i, (p, r) in enumerate(zip(points, rows, strict=True))]
    )
    meta = {
        "backend": backend,
        "workers": 1 if backend == "serial" else workers,
        "scheduler": scheduler,
        "kernel": kernel,
        "points": n,
        "paths_per_point": base.paths,
        "horizon_days": base.horizon_days,
        "seed": base.seed,
        "elapsed_s": elapsed,
        "points_per_s": n / elapsed if elapsed > 0 else math.nan,
    }
    return SweepResult(frame=frame, params=names, meta=meta)
