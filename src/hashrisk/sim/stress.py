"""The canned price shocks of `hashrisk stress`, the report and the dashboard: one recipe, one summary.

A shock is the base scenario with a GBM price of zero drift and the shock spread evenly over its window
(:class:`hashrisk.sim.scenario.ShockSpec`); the summary collects the figures the three front ends show.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hashrisk.sim.result import SimResult
from hashrisk.sim.scenario import Scenario

CANNED_SHOCKS = (-0.10, -0.20, -0.30)
"""The shocks `hashrisk stress` runs without --shock (and the report shows)."""


def stress_scenario(base: Scenario, shock: float, days: int, vol: float | None) -> Scenario:
    """`base` with a GBM price: drift 0, `vol` (the base's GBM/jump vol when None, else 0.5), and a shock of
    `shock` spread over `days` days."""
    vol_base = getattr(base.price, "vol", 0.5)
    return base.with_params(
        {
            "price.model": "gbm",
            "price.vol": vol_base if vol is None else vol,
            "price.drift": 0.0,
            "price.shock": {"total_return": shock, "days": days},
        }
    )


def stress_summary(res: SimResult, shock: float, days: int) -> dict[str, Any]:
    """The figures `hashrisk stress` reports for one shock."""
    s = res.figures()
    d = min(days, res.n_days - 1)
    h0 = res.start.hashrate_ths
    h_fan = res.fans["hashrate_ths"][d]
    offline_vs_start = {"p05": 1 - h_fan[4] / h0, "p50": 1 - h_fan[2] / h0, "p95": 1 - h_fan[0] / h0}
    worst = s.hashrate_min_ratio
    sold_mean = res.means["sold_btc"]
    amp = s.amplification
    rts = s.retargets[:2]
    return {
        "shock_pct": 100.0 * shock,
        "shock_days": days,
        "price_at_shock_end_usd": {
            k: float(res.fans["price_usd"][d][j]) for j, k in ((0, "p05"), (2, "p50"), (4, "p95"))
        },
        "hashrate_offline_vs_start_at_shock_end": offline_vs_start,
        "hashrate_offline_vs_start_worst_day": {
            "p05": 1 - worst.p95,
            "p50": 1 - worst.p50,
            "p95": 1 - worst.p05,
        },
        "fleet_offline_share_at_shock_end": {
            k: float(res.fans["offline_share"][d][j]) for j, k in ((0, "p05"), (2, "p50"), (4, "p95"))
        },
        "next_retargets": [
            {
                k: r[k]
                for k in (
                    "height",
                    "date_p50",
                    "share_of_paths",
                    "change_pct_p05",
                    "change_pct_p50",
                    "change_pct_p95",
                    "difficulty_p05",
                    "difficulty_p50",
                    "difficulty_p95",
                )
            }
            for r in rts
        ],
        "p_first_retarget_drop": s.difficulty_drop.p_first_retarget,
        "p_any_retarget_drop": s.difficulty_drop.p_any_retarget,
        "btc_sold": {
            "during_shock_btc_per_day_mean": float(np.mean(sold_mean[:d])) if d > 0 else float(sold_mean[0]),
            "baseline_btc_per_day": float(res.meta["impact_baseline_sold_btc_per_day"]),
            "total_btc": s.miner_btc_sold.total_btc.to_dict(),
            "forced_btc": s.miner_btc_sold.forced_btc.to_dict(),
        },
        "amplification": {
            "max_drawdown_on_p50": amp.max_drawdown_on.p50,
            "max_drawdown_off_p50": amp.max_drawdown_off.p50,
            "max_drawdown_ratio_p50": amp.max_drawdown_ratio_p50,
            "vol_on_p50": amp.vol_annualised_on.p50,
            "vol_off_p50": amp.vol_annualised_off.p50,
            "vol_ratio_mean": amp.vol_ratio_mean,
        },
    }
