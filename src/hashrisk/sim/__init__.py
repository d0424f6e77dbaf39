"""Monte-Carlo engine: scenario -> kernel -> results.

- :class:`Scenario` (:mod:`hashrisk.sim.scenario`): the validated YAML/JSON scenario, parameters settable by
  dotted path (``scenario.with_params({"price.vol": 0.8})``);
- :func:`simulate` (:mod:`hashrisk.sim.engine`): a pure function ``simulate(scenario, snapshot) -> SimResult``;
- :class:`SimResult` (:mod:`hashrisk.sim.result`): ``to_frame()``, ``retargets_frame()``, ``summary()``.

Kernels: :mod:`hashrisk.sim.kernel_numpy` (reference, vectorised over paths) and
:mod:`hashrisk.sim.kernel_numba` (compiled, parallel over paths), fed the same random numbers.
No I/O happens in this package.
"""

from hashrisk.sim.engine import prepare, run_paths, simulate
from hashrisk.sim.result import SimResult
from hashrisk.sim.scenario import Scenario, default_scenario_yaml

__all__ = ["Scenario", "SimResult", "default_scenario_yaml", "prepare", "run_paths", "simulate"]
