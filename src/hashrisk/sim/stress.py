"""The canned price shocks of `hashrisk stress`, the report and the dashboard: one recipe, one summary.

A shock is the base scenario with a GBM price of zero drift and the shock spread evenly over its window
(:class:`hashrisk.sim.scenario.ShockSpec`); :func:`run_stress` runs it (and its counterfactual without the
owners' AI/HPC flows) and :func:`stress_summary` collects the figures the three front ends show:

- who is forced to sell, per owner (the listed miners, then the rest of the network): BTC sold split into
  production sold (the routine ``share_sold``) and treasury drawn down (to keep cash at its floor), capital
  raised [USD] and its issuance cost [USD], and months of runway (:class:`hashrisk.sim.result.OwnerOutcome`);
- the BTC that the AI/HPC capex alone forces onto the market: treasury BTC drawn with the owners' scheduled
  AI/HPC flows minus without them (the same shock and seed rerun with every owner's ``flows`` emptied;
  paired path by path);
- the amplification of the price fall by the feedback of net mechanical sales: the price with the feedback
  against the exogenous price of the same random numbers, which is exactly the price of the same shock and
  seed rerun with the feedback off (a test checks the identity), so it needs no second run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from hashrisk.sim.arrays import OF_DRAWN_BTC, OF_RAISED_USD, OF_SOLD_PRODUCTION_BTC
from hashrisk.sim.engine import REST, resolve_owners
from hashrisk.sim.result import Quantiles, SimResult
from hashrisk.sim.scenario import Scenario, TreasurySpec

CANNED_SHOCKS = (-0.10, -0.20, -0.30)
"""The shocks `hashrisk stress` runs without --shock (and the report shows)."""

FORCED_BTC_EPS = 1e-8
"""Treasury BTC drawn above this counts a path as forced to sell [BTC] (below: floating-point residue)."""
FORCED_USD_EPS = 0.01
"""Capital raised above this counts a path as forced to raise [USD]."""
Runner = Callable[[Scenario], SimResult]
"""How a front end runs one scenario (its kernel, progress bar, snapshot): ``run(scenario) -> SimResult``."""

AI_HPC_NONE = (
    "No owner has scheduled AI/HPC flows in this scenario (with today's dataset the default listed owners have "
    "no AI/HPC contract announced by their balance-sheet day), so the counterfactual without them is the same "
    "scenario and the BTC the AI/HPC capex forces onto the market is 0 exactly; give owners with contracts "
    "(scenario `owners[].flows`) to measure it."
)
AMPLIFICATION_DEFINITION = (
    "price fall with the feedback of net mechanical sales (on) against without it (off): 'off' is the "
    "exogenous price of the same random numbers, identical to rerunning the same shock and seed with the "
    "feedback off; ratio > 1: the feedback deepens the fall"
)


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


def with_treasury_buying(base: Scenario, usd_per_day: float) -> Scenario:
    """`base` with ``net_flows.treasury_buying_usd_per_day = usd_per_day`` [USD/day] when it leaves it at 0
    (a scenario that sets its own value keeps it)."""
    if base.net_flows.treasury_buying_usd_per_day != 0.0:
        return base
    return base.with_params({"net_flows.treasury_buying_usd_per_day": float(usd_per_day)})


def without_ai_hpc(scenario: Scenario, res: SimResult) -> Scenario | None:
    """The counterfactual of `scenario` (run as `res`) with every owner's scheduled AI/HPC flows emptied;
    None when no owner has any (the counterfactual would be the same scenario)."""
    owners = resolve_owners(scenario, res.start.date)
    if not any(o.flows for o in owners):
        return None
    return scenario.with_params(
        {"owners": [o.model_copy(update={"flows": []}).model_dump(mode="json") for o in owners]}
    )


def run_stress(
    base: Scenario,
    shock: float,
    days: int,
    vol: float | None,
    run: Runner,
    *,
    net_flows_basis: str = "",
) -> tuple[SimResult, dict[str, Any]]:
    """Run one shock of `base` with `run`, and its counterfactual without AI/HPC flows when owners have any.

    Returns the shocked run and :func:`stress_summary` of it; `net_flows_basis` says where the scenario's
    ``net_flows`` come from (shown with them).
    """
    scenario = stress_scenario(base, shock, days, vol)
    res = run(scenario)
    counterfactual = without_ai_hpc(scenario, res)
    no_hpc = None if counterfactual is None else run(counterfactual)
    return res, stress_summary(res, shock, days, without_hpc=no_hpc, net_flows_basis=net_flows_basis)


def _q(values: npt.ArrayLike) -> dict[str, float]:
    return Quantiles.of(values).to_dict()


def _rest_sources() -> dict[str, str]:
    fields = TreasurySpec.model_fields
    return {
        f"treasury.{name}": str(fields[name].description)
        for name in ("initial_btc", "initial_cash_days_of_opex", "share_sold", "debt_service_usd_per_day")
    }


def owner_sales(res: SimResult) -> list[dict[str, Any]]:
    """Per owner (the listed ones, then the rest of the network), over the horizon, quantiles over paths:
    BTC sold [BTC] = production sold + treasury drawn down (per path), the drawdown's share of the owner's
    BTC at the start, capital raised and its issuance cost [USD], runway [months], and the sources of the
    owner's balance sheet (each value a cited document or 'assumption: ...')."""
    specs = {o.name: o for o in resolve_owners(res.scenario, res.start.date)}
    out = []
    for i, o in enumerate(res.owner_outcomes()):
        of = res.owner_f[:, i, :]
        prod, drawn, raised = of[:, OF_SOLD_PRODUCTION_BTC], of[:, OF_DRAWN_BTC], of[:, OF_RAISED_USD]
        spec = specs.get(o.owner)
        out.append(
            {
                "owner": o.owner,
                "listed": o.owner != REST,
                "btc_start": o.btc_start,
                "cash_usd_start": o.cash_usd_start,
                "produced_btc": o.produced_btc.to_dict(),
                "sold_btc": _q(prod + drawn),
                "sold_production_btc": o.sold_production_btc.to_dict(),
                "treasury_drawn_btc": o.treasury_drawn_btc.to_dict(),
                "treasury_drawn_share_of_start_btc": o.treasury_drawn_share.to_dict(),
                "capital_raised_usd": o.capital_raised_usd.to_dict(),
                "raise_cost_usd": o.raise_cost_usd.to_dict(),
                "runway_months": o.runway_months.to_dict(),
                "forced_share_of_paths": float(np.mean((drawn > FORCED_BTC_EPS) | (raised > FORCED_USD_EPS))),
                "sources": dict(spec.sources) if spec is not None else _rest_sources(),
            }
        )
    return out


def ai_hpc_forced(res: SimResult, without_hpc: SimResult | None) -> dict[str, Any]:
    """BTC the owners' AI/HPC flows alone force onto the market: per path, the treasury BTC drawn by all
    owners with the flows minus without them (same shock and seed) [BTC]; likewise capital raised [USD]."""
    if without_hpc is None:
        zero = _q(np.zeros(res.n_paths))
        return {"treasury_drawn_btc": zero, "capital_raised_usd": zero, "rerun": False, "note": AI_HPC_NONE}
    on, off = res.owner_f, without_hpc.owner_f
    return {
        "treasury_drawn_btc": _q(on[:, :, OF_DRAWN_BTC].sum(axis=1) - off[:, :, OF_DRAWN_BTC].sum(axis=1)),
        "capital_raised_usd": _q(on[:, :, OF_RAISED_USD].sum(axis=1) - off[:, :, OF_RAISED_USD].sum(axis=1)),
        "rerun": True,
        "note": "treasury BTC drawn (and capital raised) by all owners with their scheduled AI/HPC flows minus "
        "the same shock and seed rerun with every owner's flows emptied, per path",
    }


def stress_summary(
    res: SimResult,
    shock: float,
    days: int,
    *,
    without_hpc: SimResult | None = None,
    net_flows_basis: str = "",
) -> dict[str, Any]:
    """The figures `hashrisk stress`, the report and the dashboard show for one shock.

    `without_hpc` is the counterfactual run without the owners' AI/HPC flows (:func:`without_ai_hpc`; None
    when they have none: the difference is then 0 and said so). Use :func:`run_stress` to get both.
    """
    s = res.figures()
    d = min(days, res.n_days - 1)
    h0 = res.start.hashrate_ths
    h_fan = res.fans["hashrate_ths"][d]
    offline_vs_start = {"p05": 1 - h_fan[4] / h0, "p50": 1 - h_fan[2] / h0, "p95": 1 - h_fan[0] / h0}
    worst = s.hashrate_min_ratio
    sold_mean = res.means["sold_btc"]
    amp = s.amplification
    rts = s.retargets[:2]
    nf = res.scenario.net_flows
    buy_usd = nf.treasury_buying_usd_per_day + nf.etf_usd_per_day
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
            # the start day's expected sales (gross, comparable with the sales above); the feedback's baseline is
            # net of the mechanical buying (net_baseline_btc_per_day)
            "baseline_btc_per_day": float(res.meta["impact_baseline_sold_btc_per_day"])
            + (buy_usd / res.start.price_usd if res.scenario.impact.baseline == "start" else 0.0),
            "net_baseline_btc_per_day": float(res.meta["impact_baseline_sold_btc_per_day"]),
            "total_btc": s.miner_btc_sold.total_btc.to_dict(),
            "forced_btc": s.miner_btc_sold.forced_btc.to_dict(),
        },
        "owners": owner_sales(res),
        "ai_hpc_forced": ai_hpc_forced(res, without_hpc),
        "net_flows": {
            "treasury_buying_usd_per_day": nf.treasury_buying_usd_per_day,
            "etf_usd_per_day": nf.etf_usd_per_day,
            "basis": net_flows_basis or "the scenario's net_flows",
        },
        "amplification": {
            "definition": AMPLIFICATION_DEFINITION,
            "feedback": res.scenario.impact.enabled,
            "max_drawdown_on_p50": amp.max_drawdown_on.p50,
            "max_drawdown_off_p50": amp.max_drawdown_off.p50,
            "max_drawdown_ratio_p50": amp.max_drawdown_ratio_p50,
            "vol_on_p50": amp.vol_annualised_on.p50,
            "vol_off_p50": amp.vol_annualised_off.p50,
            "vol_ratio_mean": amp.vol_ratio_mean,
        },
    }
