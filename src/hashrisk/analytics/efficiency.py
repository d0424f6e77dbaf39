"""The fleet's efficiency assumption against published production-cost series.

A published electricity-only production cost at a stated power price pins down the network's wall efficiency
(efficiency times facility overhead) that the publisher's model implies, because the cost is linear in it
(see :func:`hashrisk.economics.machine.breakeven_price_usd`)::

    cost_usd_per_btc = e_wall * p_kwh * difficulty * 2**32 / (reward_btc * 3.6e18)
    e_wall           = cost_usd_per_btc / breakeven_price_usd(1 J/TH, p_kwh, difficulty, subsidy, fees)

:func:`efficiency_comparison` sets these implied efficiencies (and directly published ones, such as
CoinShares' network average) beside hashrisk's dated vintage fleet of the same day
(:func:`hashrisk.economics.fleet.dated_fleet_spec`), and derives from the numbers which assumption the evidence
supports. Pure: the caller resolves the network state of each reference date (nothing here reads a store).

The references in :data:`PUBLISHED_COSTS` are facts *as reported* (press reporting of the bank's or firm's
note, never the note itself); each carries its source title, date and address.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hashrisk._validate import check_nonnegative, check_positive
from hashrisk.economics.fleet import Fleet
from hashrisk.economics.machine import NetworkState, breakeven_price_usd

FloatArray = npt.NDArray[np.float64]

EARLY_CUTOFF = dt.date(2024, 12, 31)
"""References dated up to this day are the *track record* (2022-2024); later ones are tested against it."""
TRACK_TOLERANCE = 0.15
"""Largest relative gap [-] between hashrisk's dated-fleet wall efficiency and a published (or implied) one
that still counts as agreement. Labelled choice: the published costs are rounded to $1,000 (up to ~4% of
$13,000), the reporting does not say which day's difficulty and fees the notes used (difficulty moves ~3-5%
between retargets, fees by more), and CBECI's overhead (PUE 1.10 best guess, 1.01-1.20 bounds) differs from
the fleet's by up to ~10%."""
MAX_STATE_GAP_DAYS = 31
"""Farthest stored day from a reference date that may stand for it [days] (the caller applies it)."""

_JPM_PRICE_NOTE = (
    "power price $0.05/kWh assumed, as in the bank's later notes (the reporting does not state it for this "
    "note)"
)


@dataclass(frozen=True)
class PublishedCost:
    """One published production-cost (or network-efficiency) figure, as reported.

    Attributes
    ----------
    publisher : str
        Who made the estimate (e.g. ``"JPMorgan"``).
    date : datetime.date
        Date of the note (the day the figure describes, as far as the reporting says).
    cost_usd_per_btc : float or None
        Published electricity-only production cost [USD/BTC]; None when the figure is an efficiency.
    efficiency_j_per_th : float or None
        Published network wall efficiency [J/TH] (W/TH); None when only a cost was published.
    power_price_usd_per_kwh : float or None
        Power price behind the cost [USD/kWh] (stated, or assumed as `note` says).
    source_title, source_date, source_url : str
        The reporting cited (``source_url`` may be empty for the project's own reference reporting).
    note : str
        What the figure is and what was assumed to use it.
    """

    publisher: str
    date: dt.date
    cost_usd_per_btc: float | None
    efficiency_j_per_th: float | None
    power_price_usd_per_kwh: float | None
    source_title: str
    source_date: str
    source_url: str
    note: str = ""

    @property
    def key(self) -> str:
        """The reference's date as ISO text (the key of the `states` and `fleets` mappings)."""
        return self.date.isoformat()

    @property
    def source(self) -> str:
        """``title, date, url`` in one line."""
        return ", ".join(part for part in (self.source_title, self.source_date, self.source_url) if part)


PUBLISHED_COSTS: tuple[PublishedCost, ...] = (
    PublishedCost(
        publisher="JPMorgan",
        date=dt.date(2022, 7, 14),
        cost_usd_per_btc=13_000.0,
        efficiency_j_per_th=None,
        power_price_usd_per_kwh=0.05,
        source_title='CoinDesk, "Bitcoin Production Cost Has Dropped to About $13K, JPMorgan Says"',
        source_date="2022-07-14",
        source_url="https://www.coindesk.com/business/2022/07/14/"
        "bitcoin-production-cost-has-dropped-to-about-13k-jpmorgan-says",
        note="reporting of the bank's note: ~$13,000 electricity cost per BTC, from CBECI's electricity "
        f"consumption; {_JPM_PRICE_NOTE}",
    ),
    PublishedCost(
        publisher="JPMorgan",
        date=dt.date(2023, 9, 7),
        cost_usd_per_btc=18_000.0,
        efficiency_j_per_th=None,
        power_price_usd_per_kwh=0.05,
        source_title='Coinfeednews, "JPMorgan revises estimate for the cost of bitcoin production"',
        source_date="2023-09-07",
        source_url="https://coinfeednews.com/2023/09/07/crypto-1115/",
        note="reporting of the bank's note: ~$18,000 per BTC with CBECI's revised methodology ($21,000 with "
        f"the old one); {_JPM_PRICE_NOTE}",
    ),
    PublishedCost(
        publisher="JPMorgan",
        date=dt.date(2024, 5, 16),
        cost_usd_per_btc=45_000.0,
        efficiency_j_per_th=None,
        power_price_usd_per_kwh=0.05,
        source_title="Cointeeth news flash (BlockBeats)",
        source_date="2024-05-16",
        source_url="https://cointeeth.com/news-flash/516834",
        note="reporting of the bank's note: ~$45,000 per BTC 'at the current hashrate and energy "
        f"consumption'; {_JPM_PRICE_NOTE}",
    ),
    PublishedCost(
        publisher="JPMorgan",
        date=dt.date(2026, 6, 22),
        cost_usd_per_btc=78_000.0,
        efficiency_j_per_th=None,
        power_price_usd_per_kwh=0.05,
        source_title="the project's reference reporting: DESIGN.md, 'Facts for the embedded snapshot' "
        "(desk notes of June 2026)",
        source_date="2026-06-22",
        source_url="",
        note="reporting of the bank's note of 22 June 2026: ~$78,000 per BTC at $0.05/kWh (stated; earlier in "
        "2026 $90,000, then $77,000); behaves as pure electricity cost",
    ),
    PublishedCost(
        publisher="CoinShares",
        date=dt.date(2024, 1, 1),
        cost_usd_per_btc=None,
        efficiency_j_per_th=34.0,
        power_price_usd_per_kwh=None,
        source_title='"CoinShares Mining Report 2024" as summarised by Coin Trolly',
        source_date="2024-01-01",
        source_url="https://cointrolly.com/coinshares-mining-report-2024-coin-trolly",
        note="reporting of the firm's Bitcoin Mining Report 2024 (January 2024): network average efficiency "
        "~34 W/TH (= J/TH); the exact day is not given, 2024-01-01 stands for it",
    ),
)
"""Published production costs and network efficiencies, as reported (each with its source)."""


def implied_wall_efficiency_j_per_th(
    cost_usd_per_btc: npt.ArrayLike,
    power_price_usd_per_kwh: npt.ArrayLike,
    difficulty: npt.ArrayLike,
    subsidy_btc: npt.ArrayLike,
    fees_btc_per_block: npt.ArrayLike = 0.0,
) -> FloatArray:
    """Wall efficiency that an electricity-only production cost implies [J/TH].

    The inverse of :func:`hashrisk.economics.machine.breakeven_price_usd` in the efficiency (with PUE 1, so
    the result includes facility overhead)::

        e_wall = cost * reward_btc * 3.6e18 / (p_kwh * difficulty * 2**32)
               = cost / breakeven_price_usd(1.0, p_kwh, difficulty, subsidy_btc, fees_btc_per_block)

    Broadcasts over its arguments like the rest of :mod:`hashrisk.economics`.

    Parameters
    ----------
    cost_usd_per_btc : array_like
        Electricity-only production cost [USD/BTC], >= 0.
    power_price_usd_per_kwh : array_like
        Power price the cost assumes [USD/kWh], > 0.
    difficulty : array_like
        Network difficulty [-].
    subsidy_btc, fees_btc_per_block : array_like
        Block reward parts [BTC/block].

    Returns
    -------
    ndarray
        Wall efficiency (efficiency x PUE) [J/TH].

    Raises
    ------
    InputError
        For a negative cost or a power price that is not positive.
    """
    cost = check_nonnegative("cost_usd_per_btc", cost_usd_per_btc)
    price = check_positive("power_price_usd_per_kwh", power_price_usd_per_kwh)
    per_j_per_th = breakeven_price_usd(1.0, price, difficulty, subsidy_btc, fees_btc_per_block)
    out: FloatArray = cost / per_j_per_th
    return out


@dataclass(frozen=True)
class EfficiencyRow:
    """One reference beside hashrisk's dated fleet (NaN where the network state or fleet is missing).

    Attributes
    ----------
    reference : PublishedCost
        The published figure.
    published_efficiency_j_per_th : float
        Published wall efficiency, or the one implied by the published cost [J/TH].
    efficiency_basis : str
        ``"published"``, ``"implied by the cost"`` or ``"no network state"``.
    hashrisk_wall_efficiency_j_per_th : float
        ``Fleet.mean_wall_efficiency_j_per_th`` of the dated fleet [J/TH].
    hashrisk_electricity_cost_usd_per_btc : float
        Electricity cost per BTC of the dated fleet at the reference's power price [USD/BTC].
    ratio_hashrisk_to_published : float
        ``hashrisk_wall_efficiency / published_efficiency`` [-]; at the same power price and network state it is
        also the ratio of the costs.
    state_day : datetime.date or None
        Day of the network state used (None when none).
    """

    reference: PublishedCost
    published_efficiency_j_per_th: float
    efficiency_basis: str
    hashrisk_wall_efficiency_j_per_th: float
    hashrisk_electricity_cost_usd_per_btc: float
    ratio_hashrisk_to_published: float
    state_day: dt.date | None


@dataclass(frozen=True)
class EfficiencyComparison:
    """Published efficiencies and costs against hashrisk's dated fleet, with a derived verdict.

    Attributes
    ----------
    rows : tuple of EfficiencyRow
        One per reference, sorted by date.
    verdict : str
        Which assumption the numbers support, in words (see :func:`efficiency_comparison` for the rules).
    supported : str
        ``"dated vintage fleet"``, ``"older fleet implied by the published cost"`` or ``"undetermined"``.
    stats : dict
        The numbers the verdict is derived from.
    """

    rows: tuple[EfficiencyRow, ...]
    verdict: str
    supported: str
    stats: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per reference (NaN, never zero, where a number cannot be computed)."""
        nan = math.nan
        return pd.DataFrame(
            {
                "publisher": [r.reference.publisher for r in self.rows],
                "date": [r.reference.date for r in self.rows],
                "published_cost_usd_per_btc": [
                    nan if r.reference.cost_usd_per_btc is None else r.reference.cost_usd_per_btc
                    for r in self.rows
                ],
                "power_price_usd_per_kwh": [
                    nan
                    if r.reference.power_price_usd_per_kwh is None
                    else r.reference.power_price_usd_per_kwh
                    for r in self.rows
                ],
                "published_efficiency_j_per_th": [r.published_efficiency_j_per_th for r in self.rows],
                "efficiency_basis": [r.efficiency_basis for r in self.rows],
                "hashrisk_wall_efficiency_j_per_th": [r.hashrisk_wall_efficiency_j_per_th for r in self.rows],
                "hashrisk_electricity_cost_usd_per_btc": [
                    r.hashrisk_electricity_cost_usd_per_btc for r in self.rows
                ],
                "ratio_hashrisk_to_published": [r.ratio_hashrisk_to_published for r in self.rows],
                "state_day": [r.state_day for r in self.rows],
                "source": [r.reference.source for r in self.rows],
            }
        )

    def summary(self) -> dict[str, Any]:
        """JSON-ready: the verdict, the statistics behind it, and one entry per reference."""
        frame = self.to_frame()
        rows = []
        for rec in frame.to_dict(orient="records"):
            rows.append(
                {
                    k: (
                        v.isoformat()
                        if isinstance(v, dt.date)
                        else None
                        if isinstance(v, float) and not math.isfinite(v)
                        else v
                    )
                    for k, v in rec.items()
                }
            )
        return {"supported": self.supported, "verdict": self.verdict, **self.stats, "rows": rows}


def _median(values: Sequence[float]) -> float:
    return float(np.median(values)) if len(values) else math.nan


def _years(day: dt.date) -> float:
    return day.year + (day.timetuple().tm_yday - 1) / 365.25


def _row(ref: PublishedCost, state: NetworkState | None, fleet: Fleet | None) -> EfficiencyRow:
    nan = math.nan
    published, basis = nan, "no network state"
    if ref.efficiency_j_per_th is not None:
        published, basis = float(ref.efficiency_j_per_th), "published"
    elif state is not None and ref.cost_usd_per_btc is not None and ref.power_price_usd_per_kwh is not None:
        published = float(
            implied_wall_efficiency_j_per_th(
                ref.cost_usd_per_btc,
                ref.power_price_usd_per_kwh,
                state.difficulty,
                state.subsidy_btc,
                state.fees_btc_per_block,
            )
        )
        basis = "implied by the cost"
    wall = cost = nan
    if state is not None and fleet is not None:
        wall = fleet.mean_wall_efficiency_j_per_th
        if ref.power_price_usd_per_kwh is not None:
            cost = float(
                breakeven_price_usd(
                    wall,
                    ref.power_price_usd_per_kwh,
                    state.difficulty,
                    state.subsidy_btc,
                    state.fees_btc_per_block,
                )
            )
    ratio = wall / published if math.isfinite(wall) and math.isfinite(published) and published > 0 else nan
    return EfficiencyRow(ref, published, basis, wall, cost, ratio, None if state is None else state.date)


def _verdict(rows: Sequence[EfficiencyRow], tol: float, cutoff: dt.date) -> tuple[str, str, dict[str, Any]]:
    done = [r for r in rows if math.isfinite(r.ratio_hashrisk_to_published)]
    early = [r for r in done if r.reference.date <= cutoff]
    late = [r for r in done if r.reference.date > cutoff]
    stats: dict[str, Any] = {
        "tolerance": tol,
        "early_cutoff": cutoff.isoformat(),
        "early_references": len(early),
        "late_references": len(late),
        "early_median_abs_gap": _median([abs(r.ratio_hashrisk_to_published - 1) for r in early]),
        "late_median_abs_gap": _median([abs(r.ratio_hashrisk_to_published - 1) for r in late]),
        "early_median_ratio": _median([r.ratio_hashrisk_to_published for r in early]),
        "late_median_ratio": _median([r.ratio_hashrisk_to_published for r in late]),
        "trend_efficiency_j_per_th": math.nan,
        "trend_change_per_year": math.nan,
    }
    if not early or not late:
        missing = "up to" if not early else "after"
        text = (
            f"Undetermined: no reference dated {missing} {cutoff.isoformat()} has a network state to compare "
            "with (import the daily history to test the fleet against the published series)."
        )
        return "undetermined", text, stats
    last = max(late, key=lambda r: r.reference.date)
    pub_l, own_l = last.published_efficiency_j_per_th, last.hashrisk_wall_efficiency_j_per_th
    gap_e, gap_l = stats["early_median_abs_gap"], stats["late_median_abs_gap"]
    who = f"{last.reference.publisher}'s {last.reference.date.year}"
    older = f"the older ~{pub_l:.0f} J/TH fleet that {who} cost implies"
    head = (
        f"Up to {cutoff.year} the dated vintage fleet is within {gap_e:.0%} (median) of the {len(early)} published "
        f"or implied efficiencies (median ratio hashrisk/published {stats['early_median_ratio']:.2f}); after "
        f"it the gap is {gap_l:.0%} ({own_l:.1f} J/TH against {pub_l:.1f} J/TH "
        f"on {last.reference.date.isoformat()})."
    )
    # the published series' own trend: log-linear fit of the early published/implied efficiencies
    pts = [(r.reference.date, r.published_efficiency_j_per_th) for r in early]
    trend = math.nan
    if len({d for d, _ in pts}) >= 2:
        slope, icpt = np.polyfit([_years(d) for d, _ in pts], np.log([e for _, e in pts]), 1)
        trend = float(math.exp(icpt + slope * _years(last.reference.date)))
        stats["trend_efficiency_j_per_th"] = trend
        stats["trend_change_per_year"] = float(math.expm1(slope))
    if gap_e <= tol and gap_l <= tol:
        return (
            "dated vintage fleet",
            f"{head} Both within {tol:.0%}: the evidence supports the dated vintage fleet.",
            stats,
        )
    if gap_e <= tol:
        if math.isfinite(trend) and abs(own_l / trend - 1) <= tol < abs(pub_l / trend - 1):
            text = (
                f"{head} The published series' own trend up to {cutoff.year} "
                f"({stats['trend_change_per_year']:+.0%} a year) projects {trend:.1f} J/TH for "
                f"{last.reference.date.isoformat()}, within {tol:.0%} of the dated fleet and not of {pub_l:.1f} "
                f"J/TH: the evidence supports the dated vintage fleet over {older}; the later figure implies "
                "that the fleet stopped renewing, which the earlier figures do not show."
            )
            return "dated vintage fleet", text, stats
        if math.isfinite(trend) and abs(pub_l / trend - 1) <= tol:
            text = (
                f"{head} The published series' own trend projects {trend:.1f} J/TH, within {tol:.0%} of the "
                f"later figure: the evidence supports {older} over the dated vintage fleet."
            )
            return "older fleet implied by the published cost", text, stats
        return (
            "undetermined",
            f"{head} Neither the dated fleet nor the later figure matches the published series' trend within "
            f"{tol:.0%}: undetermined.",
            stats,
        )
    ratio_e, ratio_l = stats["early_median_ratio"], stats["late_median_ratio"]
    if ratio_e < 1 - tol and ratio_l < 1 - tol:
        text = (
            f"{head} The dated fleet is more efficient than every period's published figures by more than "
            f"{tol:.0%} (median ratio {ratio_e:.2f} up to {cutoff.year}, {ratio_l:.2f} after): the evidence "
            f"supports {older}."
        )
        return "older fleet implied by the published cost", text, stats
    return (
        "undetermined",
        f"{head} The dated fleet does not track the published series within {tol:.0%}: undetermined.",
        stats,
    )


def efficiency_comparison(
    states: Mapping[str, NetworkState | None],
    fleets: Mapping[str, Fleet | None],
    references: Sequence[PublishedCost] = PUBLISHED_COSTS,
    *,
    tolerance: float = TRACK_TOLERANCE,
    early_cutoff: dt.date = EARLY_CUTOFF,
) -> EfficiencyComparison:
    """Compare published production costs and efficiencies with hashrisk's dated fleet.

    For each reference: the wall efficiency it publishes, or the one its cost implies at its power price on the
    network state of its day (:func:`implied_wall_efficiency_j_per_th`); the dated fleet's hashrate-weighted
    wall efficiency (``Fleet.mean_wall_efficiency_j_per_th``) and its electricity cost at the same power price
    (``breakeven_price_usd(e_wall, p_kwh, difficulty, subsidy, fees)``); and their ratio.

    Verdict rules (``r`` = hashrisk / published wall efficiency; *early* = references dated up to
    `early_cutoff`, *late* = after; ``tol`` = `tolerance`, default :data:`TRACK_TOLERANCE` = 15%):

    1. No early or no late reference with both numbers: ``"undetermined"``.
    2. Median ``|r - 1|`` within ``tol`` both early and late: the dated vintage fleet.
    3. Early within ``tol``, late not: fit ``log(e)`` linearly in time through the early published/implied
       efficiencies and project it to the latest late reference's date. If the dated fleet is within ``tol``
       of the projection and the late published figure is not: the dated vintage fleet (the later figure breaks
       its own series' trend). If the late figure is within ``tol`` of the projection: the older fleet the
       late published cost implies. Otherwise undetermined.
    4. Early not within ``tol``: the older fleet when the median ``r`` is below ``1 - tol`` both early and late
       (hashrisk's fleet is persistently too efficient); otherwise undetermined.

    Parameters
    ----------
    states : mapping of str to NetworkState or None
        By reference date (ISO): the network state of the stored day nearest it (None when none is stored within
        :data:`MAX_STATE_GAP_DAYS`). Missing keys count as None.
    fleets : mapping of str to Fleet or None
        By reference date (ISO): the dated fleet of that day (``build_fleet(dated_fleet_spec(day), hashrate)``).
    references : sequence of PublishedCost
        The published figures (default :data:`PUBLISHED_COSTS`).
    tolerance : float
        Largest relative gap counted as agreement [-].
    early_cutoff : datetime.date
        Last day of the track record.

    Returns
    -------
    EfficiencyComparison
        NaN cells where a state or fleet is missing (never zeros).
    """
    tol = float(check_positive("tolerance", tolerance))
    rows = tuple(
        _row(ref, states.get(ref.key), fleets.get(ref.key))
        for ref in sorted(references, key=lambda r: (r.date, r.publisher))
    )
    supported, verdict, stats = _verdict(rows, tol, early_cutoff)
    return EfficiencyComparison(rows=rows, verdict=verdict, supported=supported, stats=stats)
