"""Monte-Carlo engine: scenario -> kernel -> results.

- :class:`Scenario` (:mod:`hashrisk.sim.scenario`): the validated YAML/JSON scenario, parameters settable by
  dotted path (``scenario.with_params({"price.vol": 0.8})``);
- :func:`simulate` (:mod:`hashrisk.sim.engine`): a pure function ``simulate(scenario, snapshot) -> SimResult``;
- :class:`SimResult` (:mod:`hashrisk.sim.result`): ``to_frame()``, ``retargets_frame()``, ``summary()``.

The model's daily step is written once, in :mod:`hashrisk.sim.model`: ``run_path`` (one path, plain Python;
:mod:`hashrisk.sim.kernel_numba` compiles it, parallel over paths) and ``run_xp`` (all paths at once against an
array namespace; :mod:`hashrisk.sim.kernel_numpy` runs it with numpy as the reference and
:mod:`hashrisk.sim.kernel_jax` with ``jax.numpy``). All three backends are fed the same random numbers and agree
to 1e-9 relative (integers exactly). No I/O happens in this package.
"""

from hashrisk.sim.engine import prepare, run_paths, simulate
from hashrisk.sim.result import SimResult
from hashrisk.sim.scenario import Scenario, default_scenario_yaml

__all__ = ["Scenario", "SimResult", "default_scenario_yaml", "prepare", "run_paths", "simulate"]
