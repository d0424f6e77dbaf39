"""The day's block count: inversion of the Poisson CDF, written once per form (scalar and array).

``n = F^-1(u; lam)``: the smallest ``k`` with ``P(X <= k) >= u``, ``X ~ Poisson(lam)`` (0 when ``lam <= 0``).
The search starts at ``kl = floor(lam - 7 sqrt(lam) - 2)`` (the mass below it is < 1e-14) with
``p(kl) = exp(-lam + kl log(lam) - lgamma(kl + 1))`` (``exp(-lam)`` when ``kl <= 0``) and adds
``p(k) = p(k-1) * (lam * (1/k))`` until the cdf reaches ``u`` or ``k = floor(lam + 10 sqrt(lam) + 20)``.

- Scalar form (:func:`poisson_start`, :func:`poisson_lookup`, :func:`poisson_inv`): plain Python that numba
  compiles where a kernel calls it (``register_jitable``). :func:`poisson_lookup` keeps the partial sums of
  the current rate, so a rate that holds for several days costs a binary search.
- Array form (:func:`poisson_inv_xp`): the same partial sums element-wise over an array namespace
  (numpy or jax.numpy), :data:`POISSON_UNROLL` terms per trip of the backend's while loop.

Both sum the same terms in the same order; the tests check them against ``scipy.stats.poisson.ppf`` and
each other.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from numba.extending import register_jitable

INV_K: npt.NDArray[np.float64] = np.concatenate((np.zeros(1), 1.0 / np.arange(1, 4097, dtype=np.float64)))
"""``INV_K[k] = 1.0 / k`` (correctly rounded, so equal to computing it): the scalar search multiplies."""
POISSON_UNROLL = 8
"""Terms summed per while-loop trip of the array form (the same terms in the same order; fewer trips)."""


@register_jitable
def poisson_start(lam: float) -> tuple[int, float, int]:
    """Start of the inversion for rate `lam` > 0: ``(kl, p(kl), k_max)`` (see the module docstring)."""
    root = math.sqrt(lam)
    k = math.floor(lam - 7.0 * root - 2.0)
    if k <= 0:
        k = 0
        p = math.exp(-lam)
    else:
        p = math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1.0))
    return k, p, int(lam + 10.0 * root + 20.0)


@register_jitable
def poisson_lookup(
    u: float,
    lam: float,
    k_start: int,
    k_max: int,
    cdf_tab: npt.NDArray[np.float64],
    n_tab: int,
    p_last: float,
    inv_k: npt.NDArray[np.float64],
) -> tuple[int, int, float]:
    """Smallest ``k >= k_start`` with ``cdf(k) >= u``, remembering the partial sums.

    ``cdf_tab[:n_tab]`` holds the cdf at ``k_start + i`` computed so far for this `lam` (``p_last`` the last
    term; start with ``cdf_tab[0] = p(k_start)``, ``n_tab = 1``): a `u` below the last one is a branch-free
    binary search; otherwise the sum continues (and the table grows; it needs ``k_max - k_start + 1``
    entries).

    Returns
    -------
    k, n_tab, p_last : int, int, float
        The draw and the updated table state.
    """
    if u <= cdf_tab[n_tab - 1]:
        base = 0
        size = n_tab
        while size > 1:  # lower bound: leftmost i with u <= cdf_tab[i]
            half = size >> 1
            base = base + half if cdf_tab[base + half - 1] < u else base
            size -= half
        return k_start + base, n_tab, p_last
    k = k_start + n_tab - 1
    cdf = cdf_tab[n_tab - 1]
    p = p_last
    n_inv = inv_k.shape[0]
    while u > cdf and k < k_max:
        k += 1
        p = p * (lam * (inv_k[k] if k < n_inv else 1.0 / k))
        cdf += p
        cdf_tab[n_tab] = cdf
        n_tab += 1
    return k, n_tab, p


@register_jitable
def poisson_inv(u: float, lam: float, inv_k: npt.NDArray[np.float64]) -> int:
    """Inverse Poisson CDF of one uniform `u` at rate `lam` (0 when ``lam <= 0``), without memory."""
    if lam <= 0.0:
        return 0
    k, p, k_max = poisson_start(lam)
    tab = np.empty(k_max - k + 1)
    tab[0] = p
    return poisson_lookup(u, lam, k, k_max, tab, 1, p, inv_k)[0]


def poisson_inv_xp(ops: Any, u: Any, lam: Any) -> Any:
    """:func:`poisson_inv` element-wise on arrays; `ops` is the backend (:class:`hashrisk.sim.xp.NumpyOps`)."""
    xp = ops.xp
    pos = lam > 0.0
    lam_s = xp.where(pos, lam, 1.0)
    root = xp.sqrt(lam_s)
    k = xp.floor(lam_s - 7.0 * root - 2.0)
    low = k <= 0.0
    k = xp.where(low, 0.0, k)
    log_p = -lam_s + k * xp.log(lam_s) - ops.gammaln(k + 1.0)
    p = xp.where(low, xp.exp(-lam_s), xp.exp(xp.where(low, 0.0, log_p)))
    k_int = k.astype(xp.int64)
    k_max = (lam_s + 10.0 * root + 20.0).astype(xp.int64)

    def body(state: tuple[Any, Any, Any, Any]) -> tuple[Any, Any, Any, Any]:
        k_i, p_k, cdf, act = state
        for _ in range(POISSON_UNROLL):
            k_i = xp.where(act, k_i + 1, k_i)
            p_k = xp.where(act, p_k * (lam_s * (1.0 / xp.maximum(k_i, 1).astype(xp.float64))), p_k)
            cdf = xp.where(act, cdf + p_k, cdf)
            act = act & (u > cdf) & (k_i < k_max)
        return k_i, p_k, cdf, act

    active = pos & (u > p) & (k_int < k_max)
    k_int, _, _, _ = ops.while_loop(lambda s: xp.any(s[3]), body, (k_int, p, p, active))
    return xp.where(pos, k_int, 0)
