"""The next difficulty adjustment as the report and the web API state it: from stored blocks when the caller
passes the period in progress (read from the store by the shell), else from the snapshot alone, saying which
facts are known and what is assumed. No I/O: the shells pass the stored frames in.

Both paths call :func:`hashrisk.chain.estimate.estimate_next_adjustment` (Gamma-Poisson estimate pushed
through the consensus retarget rule); they differ only in what they feed it:

stored blocks
    the real time of the period's first block ``H0`` and of the latest stored block, the number of blocks
    mined, the nBits in force; the prior pace is the previous period's (from the stored retargets) when
    they are stored, else 600 s.
snapshot
    the snapshot's height fixes ``H0`` and the blocks mined (the embedded snapshot's 951,552 is a period's
    first block); block times are not known, so the observed part of the period and the prior both run at
    the pace the snapshot's 7-day hashrate implies at the difficulty in force,
    ``interval = 600 s * hashrate_from_difficulty / hashrate`` (assumption: the hashrate stays at its
    7-day mean). Times are then only known relative to the snapshot day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from hashrisk.chain.estimate import (
    AdjustmentEstimate,
    estimate_next_adjustment,
    prior_interval_from_previous_epoch,
)
from hashrisk.chain.pow import (
    bits_to_difficulty,
    difficulty_to_target,
    hashrate_ths_from_difficulty,
    target_to_bits,
)
from hashrisk.constants import RETARGET_INTERVAL_BLOCKS, SECONDS_PER_DAY, TARGET_SPACING_S, TH_PER_EH
from hashrisk.data.snapshot import NetworkSnapshot


@dataclass(frozen=True)
class AdjustmentInfo:
    """The estimate and what it rests on.

    Attributes
    ----------
    estimate : AdjustmentEstimate
        The result of :func:`estimate_next_adjustment`.
    basis : {"stored blocks", "snapshot"}
        What the estimate was fed.
    bits : int
        nBits in force.
    epoch_start_height, retarget_height, blocks_mined : int
        The period in progress.
    now_s : int
        Reference time of the estimate [unix s] (the latest stored block, or 00:00 UTC of the snapshot day).
    absolute_times : bool
        True when the times are real block times (stored blocks), False when only relative times mean
        something (snapshot).
    prior_interval_s : float
        Prior mean block interval [s].
    known, assumed : tuple of str
        Facts the estimate uses, and its assumptions, in words.
    history : pandas.DataFrame or None
        Stored retargets up to the period in progress (height, time, difficulty, adjustment), if any.
    """

    estimate: AdjustmentEstimate
    basis: Literal["stored blocks", "snapshot"]
    bits: int
    epoch_start_height: int
    retarget_height: int
    blocks_mined: int
    now_s: int
    absolute_times: bool
    prior_interval_s: float
    known: tuple[str, ...]
    assumed: tuple[str, ...]
    history: pd.DataFrame | None = None

    def days_to_lock_in(self) -> dict[str, float]:
        """Days from the reference time until the period's last block (which fixes the new difficulty)."""
        e = self.estimate
        return {
            q: (t - self.now_s) / SECONDS_PER_DAY
            for q, t in (
                ("p05", e.lock_in_time_p05),
                ("p50", e.lock_in_time_p50),
                ("p95", e.lock_in_time_p95),
            )
        }

    def summary(self) -> dict[str, Any]:
        """JSON-ready."""
        out: dict[str, Any] = {
            "basis": self.basis,
            "bits": f"0x{self.bits:08x}",
            "difficulty": bits_to_difficulty(self.bits),
            "epoch_start_height": self.epoch_start_height,
            "retarget_height": self.retarget_height,
            "blocks_mined": self.blocks_mined,
            "blocks_remaining": self.estimate.blocks_remaining,
            "locked_in": self.estimate.locked_in,
            "change_pct": {
                "p05": self.estimate.change_pct_p05,
                "p50": self.estimate.change_pct_p50,
                "p95": self.estimate.change_pct_p95,
            },
            "mean_interval_s": self.estimate.mean_interval_s,
            "prior_interval_s": self.prior_interval_s,
            "days_to_lock_in": self.days_to_lock_in(),
            "known": list(self.known),
            "assumed": list(self.assumed),
        }
        if self.absolute_times:
            out["lock_in_time_utc"] = {
                q: dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="minutes")
                for q, t in (
                    ("p05", self.estimate.lock_in_time_p05),
                    ("p50", self.estimate.lock_in_time_p50),
                    ("p95", self.estimate.lock_in_time_p95),
                )
            }
        return out


def _unix(ts: Any) -> int:
    return int(pd.Timestamp(ts).timestamp())


def _history(retargets: pd.DataFrame | None, up_to_height: int) -> pd.DataFrame | None:
    if retargets is None or retargets.empty:
        return None
    rt = retargets.loc[retargets.index <= up_to_height, ["time", "difficulty", "adjustment"]]
    return rt if len(rt) else None


def _previous_epoch_prior(retargets: pd.DataFrame | None, h0: int) -> tuple[float, str] | None:
    """Prior interval from the stored retargets at H0 - 2016 and H0 (times and the adjustment at H0)."""
    if retargets is None:
        return None
    prev = h0 - RETARGET_INTERVAL_BLOCKS
    if h0 not in retargets.index or prev not in retargets.index:
        return None
    t_prev: Any = retargets.at[prev, "time"]
    t_h0: Any = retargets.at[h0, "time"]
    adj: Any = retargets.at[h0, "adjustment"]
    if pd.isna(t_prev) or pd.isna(t_h0) or pd.isna(adj):
        return None
    # the stored period-start times span 2016 intervals; the previous epoch's timespan covers 2015 of them
    span = (_unix(t_h0) - _unix(t_prev)) * (RETARGET_INTERVAL_BLOCKS - 1) / RETARGET_INTERVAL_BLOCKS
    if span <= 0:
        return None
    change = (float(adj) - 1.0) * 100.0
    try:
        prior = prior_interval_from_previous_epoch(span, change)
    except ValueError:
        return None
    return prior, (
        f"prior pace: the previous period (stored retargets at heights {prev:,} and {h0:,}: "
        f"{span / (RETARGET_INTERVAL_BLOCKS - 1):.1f} s per block, restated at the new difficulty "
        f"{prior:.1f} s), weighted as mempool.space's 504-block window"
    )


def _from_blocks(
    snapshot: NetworkSnapshot, blocks: pd.DataFrame, retargets: pd.DataFrame | None
) -> AdjustmentInfo | None:
    h0 = snapshot.height - snapshot.height % RETARGET_INTERVAL_BLOCKS
    rows = blocks.loc[(blocks.index >= h0) & (blocks.index <= snapshot.height)]
    if h0 not in rows.index or rows["time"].isna().any() or rows["bits"].isna().any():
        return None
    last = int(rows.index.max())
    bits = int(str(rows.at[last, "bits"]), 16)
    t0 = _unix(rows.at[h0, "time"])
    last_time = _unix(rows.at[last, "time"])
    now = max(_unix(t) for t in rows["time"])
    n = last - h0 + 1
    prior = _previous_epoch_prior(retargets, h0)
    prior_s, prior_note = (
        prior
        if prior is not None
        else (float(TARGET_SPACING_S), "prior pace: 600 s per block (no previous period stored)")
    )
    est = estimate_next_adjustment(
        bits,
        t0,
        n,
        now,
        last_block_time=last_time,
        epoch_start_height=h0,
        prior_interval_s=prior_s,
    )
    src = str(rows.at[last, "source"]) if "source" in rows.columns else "store"

    def utc(t: int) -> str:
        return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")

    known = (
        f"difficulty in force {bits_to_difficulty(bits):,.0f} (nBits 0x{bits:08x}, stored block {last:,})",
        f"period from height {h0:,} (mined {utc(t0)}); "
        f"new difficulty from height {h0 + RETARGET_INTERVAL_BLOCKS:,}",
        f"{n:,} of 2,016 blocks mined by block {last:,} ({utc(last_time)}; source: {src})",
    )
    assumed = (
        "blocks arrive as a Poisson process at an unknown constant rate (Gamma-Poisson posterior)",
        prior_note,
    )
    return AdjustmentInfo(
        estimate=est,
        basis="stored blocks",
        bits=bits,
        epoch_start_height=h0,
        retarget_height=h0 + RETARGET_INTERVAL_BLOCKS,
        blocks_mined=n,
        now_s=now,
        absolute_times=True,
        prior_interval_s=prior_s,
        known=known,
        assumed=assumed,
        history=_history(retargets, h0),
    )


def next_adjustment(
    snapshot: NetworkSnapshot,
    blocks: pd.DataFrame | None = None,
    retargets: pd.DataFrame | None = None,
) -> AdjustmentInfo:
    """Estimate the next difficulty adjustment from stored blocks when possible, else from the snapshot.

    Parameters
    ----------
    snapshot : NetworkSnapshot
        The network state (its height fixes the period in progress).
    blocks : pandas.DataFrame, optional
        Stored blocks of the period (``Store.blocks_frame``), indexed by height with ``time`` and ``bits``.
    retargets : pandas.DataFrame, optional
        Stored retargets (``Store.retargets_frame``), for the prior pace and the history.

    Returns
    -------
    AdjustmentInfo
    """
    if blocks is not None and len(blocks):
        info = _from_blocks(snapshot, blocks, retargets)
        if info is not None:
            return info
    h0 = snapshot.height - snapshot.height % RETARGET_INTERVAL_BLOCKS
    n = snapshot.height - h0 + 1
    bits = target_to_bits(difficulty_to_target(snapshot.difficulty))
    d = bits_to_difficulty(bits)
    interval = TARGET_SPACING_S * float(hashrate_ths_from_difficulty(d)) / snapshot.hashrate_ths
    now = int(dt.datetime.combine(snapshot.date, dt.time(), tzinfo=dt.UTC).timestamp())
    t0 = now - round((n - 1) * interval)
    est = estimate_next_adjustment(bits, t0, n, now, epoch_start_height=h0, prior_interval_s=interval)
    src = snapshot.sources
    known = (
        f"difficulty in force {snapshot.difficulty:,.0f} ({src.get('difficulty', 'snapshot')})",
        f"height {snapshot.height:,}: period from height {h0:,}, "
        f"new difficulty from height {h0 + RETARGET_INTERVAL_BLOCKS:,} "
        f"({src.get('height', 'snapshot')})",
        f"network hashrate {snapshot.hashrate_ths / TH_PER_EH:,.1f} EH/s ({src.get('hashrate_ths', 'snapshot')})",
    )
    observed = (
        "the period has only its first block, so the estimate is the prior alone"
        if n == 1
        else f"no block times are stored: the period's {n - 1:,} mined intervals are taken"
    )
    assumed = (
        f"{observed}: the pace the hashrate implies at this difficulty, {interval:.1f} s per block "
        "(assumption: hashrate stays at its 7-day mean)",
        "the prior is weighted as mempool.space's 504-block window; blocks are a Poisson process",
        "times are relative to 00:00 UTC of the snapshot day (the period's real start time is not in the "
        "snapshot)",
    )
    return AdjustmentInfo(
        estimate=est,
        basis="snapshot",
        bits=bits,
        epoch_start_height=h0,
        retarget_height=h0 + RETARGET_INTERVAL_BLOCKS,
        blocks_mined=n,
        now_s=now,
        absolute_times=False,
        prior_interval_s=interval,
        known=known,
        assumed=assumed,
        history=_history(retargets, h0),
    )
