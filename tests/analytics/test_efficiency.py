"""The fleet's efficiency against published production costs: the implied efficiency by hand, its round trip
with ``breakeven_price_usd``, NaN for missing states, the verdict rules, and the real 2022-2026 comparison."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest

from hashrisk.analytics.efficiency import (
    PUBLISHED_COSTS,
    TRACK_TOLERANCE,
    EfficiencyComparison,
    PublishedCost,
    efficiency_comparison,
    implied_wall_efficiency_j_per_th,
)
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.data.stored_snapshot import snapshot_for_date
from hashrisk.economics.fleet import Fleet, FleetSpec, HardwareClass, build_fleet, dated_fleet_spec
from hashrisk.economics.machine import breakeven_price_usd
from hashrisk.errors import InputError


def _fleet(wall_j_per_th: float) -> Fleet:
    """A one-class fleet at PUE 1, so its wall efficiency is `wall_j_per_th`."""
    spec = FleetSpec.default()
    spec = spec.model_copy(
        update={
            "classes": [
                HardwareClass(
                    name="x", efficiency_j_per_th=wall_j_per_th, share=1.0, hardware_usd_per_th=20.0
                )
            ],
            "overhead": spec.overhead.model_copy(update={"pue": [1.0], "share": [1.0]}),
        }
    )
    return build_fleet(spec, 1e9)


def _ref(day: str, j_per_th: float) -> PublishedCost:
    return PublishedCost("test", dt.date.fromisoformat(day), None, j_per_th, None, "t", day, "", "synthetic")


def _state(day: str) -> NetworkSnapshot:
    return NetworkSnapshot.embedded().override(source="test", date=dt.date.fromisoformat(day))


# ------------------------------------------------------------------------------------------- the formula
def test_implied_efficiency_by_hand() -> None:
    """cost = e * p * D * 2^32 / (reward * 3.6e18), so e = cost * reward * 3.6e18 / (p * D * 2^32).

    D = 1e14, reward 3.125 + 0.125 = 3.25 BTC, p = $0.05/kWh, cost $50,000:
    e = 50,000 * 3.25 * 3.6e18 / (0.05 * 1e14 * 4,294,967,296) = 5.85e23 / 2.147483648e22 = 27.2412 J/TH.
    """
    e = implied_wall_efficiency_j_per_th(50_000.0, 0.05, 1e14, 3.125, 0.125)
    assert float(e) == pytest.approx(5.85e23 / 2.147483648e22, rel=1e-12)
    assert float(e) == pytest.approx(27.2412, abs=5e-5)


def test_hayes_2015_inverse() -> None:
    """Hayes (2015): difficulty 60,883,825,480, $0.135/kWh, 0.75 W per GH/s (750 J/TH), 12.5 BTC -> $588.36.
    The inverse gives back 750 J/TH (to the rounding of the published cent)."""
    e = implied_wall_efficiency_j_per_th(588.36, 0.135, 60_883_825_480, 12.5, 0.0)
    assert float(e) == pytest.approx(750.0, rel=1e-5)


def test_round_trip_with_breakeven_vectorised() -> None:
    eff = np.array([15.0, 21.5, 38.0, 98.0])
    power = np.array([0.03, 0.05, 0.05, 0.08])
    d = np.array([2.9e13, 5.4e13, 8.3e13, 1.39e14])
    cost = breakeven_price_usd(eff, power, d, 3.125, 0.023)
    back = implied_wall_efficiency_j_per_th(cost, power, d, 3.125, 0.023)
    assert back.shape == (4,)
    np.testing.assert_allclose(back, eff, rtol=1e-12)
    # broadcasting: one cost against a grid of power prices halves the efficiency when the price doubles
    grid = implied_wall_efficiency_j_per_th(78_000.0, np.array([0.05, 0.10]), 1.39e14, 3.125, 0.023)
    assert grid[0] == pytest.approx(2 * grid[1], rel=1e-12)


@pytest.mark.parametrize(
    ("cost", "power", "field"), [(-1.0, 0.05, "cost_usd_per_btc"), (1.0, 0.0, "power_price")]
)
def test_bad_inputs_name_the_field(cost: float, power: float, field: str) -> None:
    with pytest.raises(InputError, match=field):
        implied_wall_efficiency_j_per_th(cost, power, 1e14, 3.125, 0.0)


def test_published_costs_cite_their_sources() -> None:
    assert len(PUBLISHED_COSTS) == 5
    for ref in PUBLISHED_COSTS:
        assert ref.source_title and ref.source_date and "reporting" in ref.note
        assert (ref.cost_usd_per_btc is None) != (ref.efficiency_j_per_th is None)
    jpm_2026 = next(r for r in PUBLISHED_COSTS if r.date == dt.date(2026, 6, 22))
    assert jpm_2026.cost_usd_per_btc == 78_000.0 and jpm_2026.power_price_usd_per_kwh == 0.05


# ------------------------------------------------------------------------------------------- the comparison
def test_missing_states_give_nan_never_zero() -> None:
    snap = NetworkSnapshot.embedded()
    key = "2026-06-22"
    comp = efficiency_comparison(
        {key: snap}, {key: build_fleet(dated_fleet_spec(snap.date), snap.hashrate_ths)}
    )
    frame = comp.to_frame()
    assert list(frame["date"].astype(str)) == sorted(r.key for r in PUBLISHED_COSTS)
    missing = frame[frame["date"].astype(str) != key]
    for col in (
        "hashrisk_wall_efficiency_j_per_th",
        "hashrisk_electricity_cost_usd_per_btc",
        "ratio_hashrisk_to_published",
    ):
        assert missing[col].isna().all(), col
    jpm = missing[missing["publisher"] == "JPMorgan"]
    assert jpm["published_efficiency_j_per_th"].isna().all()  # no state: no implied efficiency
    assert (frame["published_efficiency_j_per_th"].fillna(1.0) != 0).all()
    assert missing["state_day"].isna().all()
    row = frame[frame["date"].astype(str) == key].iloc[0]
    by_hand = 78_000.0 * snap.reward_btc_per_block * 3.6e18 / (0.05 * snap.difficulty * 2**32)
    assert row["published_efficiency_j_per_th"] == pytest.approx(by_hand, rel=1e-12)
    assert row["state_day"] == snap.date
    assert comp.supported == "undetermined" and "no reference dated up to" in comp.verdict
    summary = comp.summary()
    assert summary["rows"][0]["hashrisk_wall_efficiency_j_per_th"] is None  # JSON-ready: NaN -> None


def _compare(
    early_pub: tuple[float, float], early_own: tuple[float, float], late_pub: float, late_own: float
) -> EfficiencyComparison:
    days = ("2022-01-01", "2023-01-01", "2026-01-01")
    refs = [_ref(d, e) for d, e in zip(days, (*early_pub, late_pub), strict=True)]
    states: dict[str, NetworkSnapshot | None] = {d: _state(d) for d in days}
    fleets: dict[str, Fleet | None] = {
        d: _fleet(e) for d, e in zip(days, (*early_own, late_own), strict=True)
    }
    return efficiency_comparison(states, fleets, refs)


def test_verdict_when_the_later_figure_breaks_its_own_trend() -> None:
    """Early figures 40 -> 30 J/TH (-25% a year) project 30 * 0.75^3 ≈ 12.7 J/TH for 2026; a fleet at 13 J/TH
    agrees, a published 30 J/TH does not: the dated fleet is supported."""
    comp = _compare((40.0, 30.0), (40.0, 30.0), 30.0, 13.0)
    assert comp.supported == "dated vintage fleet"
    assert comp.stats["trend_change_per_year"] == pytest.approx(-0.25, abs=2e-3)
    assert comp.stats["trend_efficiency_j_per_th"] == pytest.approx(30.0 * 0.75**3, rel=0.01)
    assert "older ~30 J/TH fleet" in comp.verdict


def test_verdict_when_everything_agrees_or_the_fleet_lags() -> None:
    assert _compare((40.0, 30.0), (40.0, 30.0), 12.5, 13.0).supported == "dated vintage fleet"
    # the fleet tracks history, the late figure follows the trend, the fleet does not: the older fleet
    assert _compare((40.0, 30.0), (40.0, 30.0), 12.7, 25.0).supported.startswith("older fleet")
    # the fleet is persistently 30-40% too efficient: the older fleet
    assert _compare((40.0, 30.0), (28.0, 21.0), 30.0, 18.0).supported.startswith("older fleet")
    # no pattern within the tolerance
    assert _compare((40.0, 30.0), (60.0, 20.0), 30.0, 25.0).supported == "undetermined"


# ------------------------------------------------------------------------------------------- the real data
def test_real_2024_05_16_within_the_band_of_the_dated_fleet(reference_home: Path) -> None:
    """JPMorgan's ~$45,000 of 2024-05-16 at $0.05/kWh on that day's stored network state (difficulty ≈ 83.1 T,
    3.125 BTC + ≈ 0.16 BTC fees) implies ≈ 29.8 J/TH at the wall; the dated vintage fleet of May 2024 is
    ≈ 28.8 J/TH. Pinned to 3%: the published figure is rounded to the $1,000 (±1.1% of $45,000) and the
    note's exact network day is not reported (fees move the reward by ~1-2% between days). The ratio must lie
    within the comparison's agreement tolerance (15%); it is ≈ 0.97."""
    snap = snapshot_for_date("2024-05-16", home=reference_home)
    implied = float(
        implied_wall_efficiency_j_per_th(
            45_000.0, 0.05, snap.difficulty, snap.subsidy_btc, snap.fees_btc_per_block
        )
    )
    fleet = build_fleet(dated_fleet_spec(snap.date), snap.hashrate_ths)
    assert implied == pytest.approx(29.8, rel=0.03)
    assert fleet.mean_wall_efficiency_j_per_th == pytest.approx(28.8, rel=0.03)
    assert abs(fleet.mean_wall_efficiency_j_per_th / implied - 1) <= TRACK_TOLERANCE


def test_real_comparison_measured_relation(reference_home: Path) -> None:
    """On the real history the dated fleet is 3-16% more efficient than every published figure up to 2024
    (ratios ≈ 0.84, 0.93, 0.87, 0.97: median gap ≈ 10%, inside the 15% tolerance), while JPMorgan's $78,000
    of June 2026 implies ≈ 29.6 J/TH on the embedded 2026-06-01 state against ≈ 18.6 J/TH for the dated fleet
    (ratio ≈ 0.63). The early figures' own trend (≈ -23% a year) projects ≈ 17.5 J/TH for mid-2026, so the
    rules side with the dated fleet. These are the measured numbers, pinned loosely (5%) so that a catalog
    addition shows up as a deliberate change here."""
    states: dict[str, NetworkSnapshot | None] = {}
    for ref in PUBLISHED_COSTS:
        states[ref.key] = (
            snapshot_for_date(ref.date, home=reference_home)
            if ref.date.year < 2026
            else NetworkSnapshot.embedded()
        )
    fleets: dict[str, Fleet | None] = {
        k: build_fleet(dated_fleet_spec(s.date), s.hashrate_ths) for k, s in states.items() if s is not None
    }
    comp = efficiency_comparison(states, fleets)
    ratios = dict(
        zip(comp.to_frame()["date"].astype(str), comp.to_frame()["ratio_hashrisk_to_published"], strict=True)
    )
    assert ratios == pytest.approx(
        {"2022-07-14": 0.84, "2023-09-07": 0.93, "2024-01-01": 0.87, "2024-05-16": 0.97, "2026-06-22": 0.63},
        rel=0.05,
    )
    assert all(r < 1 for r in ratios.values())  # the dated fleet is always the more efficient
    assert comp.stats["early_median_abs_gap"] < TRACK_TOLERANCE < comp.stats["late_median_abs_gap"]
    assert comp.stats["trend_efficiency_j_per_th"] == pytest.approx(17.5, rel=0.05)
    assert comp.supported == "dated vintage fleet"
    assert not any(math.isnan(r) for r in ratios.values())
