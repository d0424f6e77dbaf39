"""One conversion of library results to JSON-ready Python values (used by the CLI, the store and the web API)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def jsonable(obj: Any) -> Any:
    """`obj` with mappings/sequences converted recursively: numpy scalars and arrays to Python values, NaN,
    infinities and NaT to None, dates and times to ISO strings; mapping keys become strings."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if obj is pd.NaT:
        return None
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return obj
