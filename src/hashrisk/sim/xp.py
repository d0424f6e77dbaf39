"""The backend pieces of the vectorised model: what numpy and JAX do differently, and nothing else.

:func:`hashrisk.sim.model.run_xp` is written once against an array namespace ``ops.xp`` (numpy or
jax.numpy); the few operations that differ between an eager, mutable backend and a traced, immutable one
are methods of an ``ops`` object. :class:`NumpyOps` is numpy's (in-place updates, Python loops);
:class:`hashrisk.sim.kernel_jax.JaxOps` is JAX's (``.at[]`` updates, ``lax.while_loop``, ``lax.scan``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import special

DayStep = Callable[[Any, tuple[Any, ...]], tuple[Any, tuple[Any, ...]]]
"""``step(state, (t, *today's random numbers)) -> (state, today's outputs)``."""


class NumpyOps:
    """numpy backend: arrays are updated in place, loops are Python loops."""

    xp: Any = np

    @staticmethod
    def gammaln(x: Any) -> Any:
        """``log |Gamma(x)|``."""
        return special.gammaln(x)

    @staticmethod
    def while_loop(cond: Callable[[Any], Any], body: Callable[[Any], Any], state: Any) -> Any:
        """``while cond(state): state = body(state)``."""
        while bool(cond(state)):
            state = body(state)
        return state

    @staticmethod
    def set_row(a: Any, i: Any, value: Any) -> Any:
        """``a[i] = value``; returns the updated array."""
        a[i] = value
        return a

    @staticmethod
    def add_col(a: Any, j: int, value: Any) -> Any:
        """``a[:, j] += value``; returns the updated array."""
        a[:, j] += value
        return a

    @staticmethod
    def scatter(a: Any, rows: Any, cols: Any, value: Any) -> Any:
        """``a[rows, cols] = value`` where ``cols < a.shape[1]`` (others dropped); returns the array."""
        keep = cols < a.shape[1]
        a[rows[keep], cols[keep]] = np.broadcast_to(value, rows.shape)[keep]
        return a

    @classmethod
    def sum_cohorts(cls, x: Any) -> Any:
        """Sum over the last axis one cohort after the other (the compiled kernel's order)."""
        total = cls.xp.zeros(x.shape[:-1], x.dtype)
        for c in range(x.shape[-1]):
            total = total + x[..., c]
        return total

    @staticmethod
    def scan_days(step: DayStep, state: Any, xs: Sequence[Any], n_days: int) -> tuple[Any, tuple[Any, ...]]:
        """Run ``state, ys = step(state, (t, *columns t of xs))`` for each day; stack ``ys`` as ``(P, D)``."""
        out: list[Any] = []
        for t in range(n_days):
            state, ys = step(state, (t, *(x[:, t] for x in xs)))
            if not out:
                out = [np.empty((np.shape(y)[0], n_days), dtype=np.result_type(y)) for y in ys]
            for o, y in zip(out, ys, strict=True):
                o[:, t] = y
        return state, tuple(out)
