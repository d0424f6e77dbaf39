"""numba glue for the compiled kernels: the consensus rules' kernel forms and a cache that sees them.

- Every function of :mod:`hashrisk.chain` marked ``kernel_callable`` is registered with
  ``numba.extending.register_jitable`` (chain stays free of numba): called from Python it is the plain
  function; called from compiled code it compiles into the caller.
- numba's on-disk cache (``cache=True``) checks only the source file of the cached function, not of the
  functions it inlines; a kernel whose model or consensus rules changed would load stale machine code.
  Kernels in :data:`KERNEL_FILES` are cached under a stamp of every file of :data:`MODEL_SOURCES` too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from numba.core import caching
from numba.extending import register_jitable as register_jitable  # re-exported for the kernels

from hashrisk.chain import pow as _pow
from hashrisk.chain import subsidy as _subsidy

for _fn in _pow.KERNEL_FUNCTIONS:
    register_jitable(_fn)

_SIM = Path(__file__).resolve().parent
MODEL_SOURCES = tuple(
    str(p)
    for p in (
        Path(_pow.__file__).resolve(),
        Path(_subsidy.__file__).resolve(),
        _SIM / "arrays.py",
        _SIM / "poisson.py",
        _SIM / "model.py",
        _SIM / "jit.py",
    )
)
"""Files whose change invalidates the compiled kernels."""
KERNEL_FILES = frozenset(str(_SIM / name) for name in ("kernel_numba.py", "histograms.py"))
"""Files whose cached functions depend on :data:`MODEL_SOURCES`."""


class _StampAll:
    """Locator mixin: the source stamp covers the kernel's file and :data:`MODEL_SOURCES`."""

    _py_file: str

    def get_source_stamp(self) -> Any:
        stamps = []
        for path in (self._py_file, *MODEL_SOURCES):
            st = os.stat(path)
            stamps.append((path, st.st_mtime, st.st_size))
        return tuple(stamps)

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> Any:
        if os.path.realpath(py_file) not in KERNEL_FILES:
            return None
        return super().from_function(py_func, py_file)  # type: ignore[misc]


class _UserProvided(_StampAll, caching.UserProvidedCacheLocator):
    pass


class _InTree(_StampAll, caching.InTreeCacheLocator):
    pass


class _UserWide(_StampAll, caching.UserWideCacheLocator):
    pass


# numba keeps its locator list in a private attribute (numba 0.60-0.6x). Should a release rename it, the kernels
# keep numba's default locators: correct for users, who do not edit the model's files between runs.
_LOCATORS = getattr(caching.CacheImpl, "_locator_classes", None)
if isinstance(_LOCATORS, list):
    for _cls in (_UserWide, _InTree, _UserProvided):  # numba tries them in order: these three first
        if _cls not in _LOCATORS:
            _LOCATORS.insert(0, _cls)
