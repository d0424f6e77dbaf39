"""Per-day fixed-bin histograms of the daily series and of the retargets, folded in chunk by chunk.

Compiled (numba, ``cache=True``); :mod:`hashrisk.sim.result` calls them after each chunk of paths (see its
docstring for the memory choice). Axis kinds: :data:`AXIS_LOG_RATIO`, :data:`AXIS_LOG1P`, :data:`AXIS_LINEAR`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from hashrisk.chain.pow import bits_to_difficulty_i64
from hashrisk.sim import jit  # noqa: F401 - registers the kernel forms and the cache locators

AXIS_LOG_RATIO = 0
"""Bin ``log(v / ref)``."""
AXIS_LOG1P = 1
"""Bin ``log(1 + v)``."""
AXIS_LINEAR = 2
"""Bin ``v``."""


@njit(parallel=True, cache=True)
def accumulate_daily(
    values: np.ndarray,
    kind: int,
    ref: float,
    lo: float,
    inv_width: float,
    counts: np.ndarray,
    vmin: np.ndarray,
    vmax: np.ndarray,
    vsum: np.ndarray,
) -> None:
    """Add the per-path daily `values` ``(P, D)`` into per-day fixed-bin histograms ``counts (D, B)``.

    Day ``d``'s value goes to bin ``floor((x - lo) * inv_width)`` clipped to ``[0, B-1]``, with ``x`` the
    value transformed by `kind` (:data:`AXIS_LOG_RATIO`: ``log(v) - log(ref)``, :data:`AXIS_LOG1P`,
    :data:`AXIS_LINEAR`), logarithms taken in float32; the exact per-day minimum, maximum and sum are updated
    in float64. Parallel over days (each day's row belongs to one thread).
    """
    n_p, n_d = values.shape
    n_b = counts.shape[1]
    log_ref = math.log(ref)
    floor_x = -1e300
    for d in prange(n_d):
        mn = vmin[d]
        mx = vmax[d]
        acc = 0.0
        for p in range(n_p):
            v64 = float(values[p, d])
            v = np.float32(v64)  # float32 logarithms: twice as fast, ample for bins >= 1e-4 wide
            if kind == AXIS_LOG_RATIO:
                x = float(math.log(v)) - log_ref if v > 0 else floor_x
            elif kind == AXIS_LOG1P:
                x = float(math.log1p(v)) if v > -1 else floor_x
            else:
                x = v64
            f = (x - lo) * inv_width
            if f < 0:
                i = 0
            elif f >= n_b - 1:
                i = n_b - 1
            else:
                i = int(f)
            counts[d, i] += 1
            mn = min(mn, v64)
            mx = max(mx, v64)
            acc += v64
        vmin[d] = mn
        vmax[d] = mx
        vsum[d] += acc


@njit(cache=True)
def accumulate_retargets(
    day: np.ndarray,
    bits: np.ndarray,
    bits0: int,
    d0: float,
    level_lo: float,
    level_inv_width: float,
    change_lo: float,
    change_inv_width: float,
    reach: np.ndarray,
    day_counts: np.ndarray,
    level_counts: np.ndarray,
    change_counts: np.ndarray,
    extremes: np.ndarray,
    first_change: np.ndarray,
    min_change: np.ndarray,
) -> None:
    """Fold a chunk's recorded retargets (``day``, ``bits``: ``(P, R)``, day -1 = none) into histograms.

    Per retarget j: reach count, day histogram, histogram of ``log(difficulty / d0)`` and of
    ``log(new / old)``, and ``extremes[j] = (min level, max level, min change, max change)`` as ratios.
    Per path: ``first_change`` and ``min_change`` (fractions; left NaN without a retarget).
    """
    n_p, n_r = day.shape
    n_days = day_counts.shape[1]
    nl = level_counts.shape[1]
    nc = change_counts.shape[1]
    diff0 = bits_to_difficulty_i64(bits0)
    for p in range(n_p):
        prev = diff0
        worst = np.inf
        for j in range(n_r):
            t = day[p, j]
            if t < 0:
                break
            dj = bits_to_difficulty_i64(bits[p, j])
            level = dj / d0
            change = dj / prev
            prev = dj
            reach[j] += 1
            day_counts[j, min(max(t, 0), n_days - 1)] += 1
            i = math.floor((math.log(level) - level_lo) * level_inv_width)
            level_counts[j, min(max(i, 0), nl - 1)] += 1
            i = math.floor((math.log(change) - change_lo) * change_inv_width)
            change_counts[j, min(max(i, 0), nc - 1)] += 1
            extremes[j, 0] = min(extremes[j, 0], level)
            extremes[j, 1] = max(extremes[j, 1], level)
            extremes[j, 2] = min(extremes[j, 2], change)
            extremes[j, 3] = max(extremes[j, 3], change)
            if j == 0:
                first_change[p] = change - 1.0
            worst = min(worst, change)
        if worst < np.inf:
            min_change[p] = worst - 1.0
