"""Next-adjustment estimator: consensus lock-in, the 2015-interval quirk, early-epoch prior, band calibration."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from typer.testing import CliRunner

from hashrisk.chain.estimate import (
    MAX_FUTURE_BLOCK_TIME_S,
    estimate_next_adjustment,
    mempool_difficulty_change_pct,
    prior_interval_from_previous_epoch,
)
from hashrisk.chain.pow import bits_to_difficulty, next_bits
from hashrisk.errors import InputError

BITS = 0x17030ECD  # a 2026-era target
T0 = 1_780_000_000


def test_locked_in_equals_consensus() -> None:
    last = T0 + 2015 * 590
    est = estimate_next_adjustment(
        BITS, T0, 2016, last + 30, last_block_time=last, epoch_start_height=951_552
    )
    assert est.locked_in and est.blocks_remaining == 0
    assert est.next_bits_p50 == next_bits(BITS, T0, last)
    assert est.change_pct_p05 == est.change_pct_p50 == est.change_pct_p95
    assert est.retarget_height == 953_568


def test_2015_interval_quirk() -> None:
    """Exactly 600 s per block still raises difficulty by 2016/2015 (up to compact rounding)."""
    est = estimate_next_adjustment(BITS, T0, 2016, T0 + 2015 * 600, last_block_time=T0 + 2015 * 600)
    assert est.change_pct_p50 == pytest.approx((2016 / 2015 - 1) * 100, abs=2e-3)


def test_steady_fast_blocks_late_in_epoch() -> None:
    """1,000 blocks at 540 s: about 600/540 x 2016/2015 - 1 = +11.2% (the prior has no weight any more).

    By hand: 999 intervals in 999 x 540 s give a posterior mean interval of 540 x 999/998 s, so the mean
    timespan is 999 x 540 + 1016 x 540 x 999/998 s against the 1,209,600 s target.
    """
    est = estimate_next_adjustment(BITS, T0, 1000, T0 + 999 * 540)
    timespan = 999 * 540 + 1016 * 540 * 999 / 998
    expected = (1_209_600 / timespan - 1) * 100
    assert est.change_pct_mean == pytest.approx(expected, abs=0.01)
    assert expected == pytest.approx((600 / 540 * 2016 / 2015 - 1) * 100, abs=0.1)
    assert est.change_pct_p05 < est.change_pct_p50 < est.change_pct_p95
    assert est.lock_in_time_p05 < est.lock_in_time_p50 < est.lock_in_time_p95


def test_first_blocks_lean_on_previous_epoch() -> None:
    """With 2 blocks known, the estimate follows the previous epoch's pace, not the two blocks."""
    prior = prior_interval_from_previous_epoch(2015 * 540, 0.0)
    assert prior == pytest.approx(540.0)
    est = estimate_next_adjustment(BITS, T0, 2, T0 + 60, prior_interval_s=prior)
    assert est.mean_interval_s == pytest.approx(540, rel=0.01)
    # a previous epoch at 540 s whose retarget already raised difficulty 11.1% is back to ~600 s
    assert prior_interval_from_previous_epoch(2015 * 540, 100 * (600 / 540 - 1)) == pytest.approx(600.0)


def test_band_widens_early_and_narrows_late() -> None:
    widths = []
    for n in (2, 500, 1500, 2010):
        e = estimate_next_adjustment(BITS, T0, n, T0 + (n - 1) * 600)
        widths.append(e.change_pct_p95 - e.change_pct_p05)
    assert widths == sorted(widths, reverse=True)


def test_band_coverage_on_simulated_epochs() -> None:
    """Poisson block arrivals at a known rate: the 90% band covers the realised change ~90% of the time."""
    rng = np.random.default_rng(20260601)
    hits, runs, n_known = 0, 300, 700
    for _ in range(runs):
        interval = rng.uniform(520, 680)
        gaps = rng.exponential(interval, 2015)
        times = T0 + np.concatenate([[0.0], np.cumsum(gaps)])
        now = int(times[n_known - 1] + rng.uniform(0, 1) * gaps[n_known - 1])
        est = estimate_next_adjustment(BITS, T0, n_known, now, last_block_time=int(times[n_known - 1]))
        realised = next_bits(BITS, T0, int(times[-1]))
        change = (bits_to_difficulty(realised) / bits_to_difficulty(BITS) - 1) * 100
        hits += est.change_pct_p05 <= change <= est.change_pct_p95
    assert 0.84 <= hits / runs <= 0.96


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"blocks_mined": 0}, "blocks_mined"),
        ({"blocks_mined": 2017}, "blocks_mined"),
        ({"now": T0 - 1}, "now"),
        ({"blocks_mined": 2016}, "last_block_time"),
        ({"prior_interval_s": -1.0}, "prior_interval_s"),
        ({"band": (0.6, 0.9)}, "band"),
        ({"epoch_start_height": 1000}, "epoch_start_height"),
    ],
)
def test_bad_input(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {
        "current_bits": BITS,
        "epoch_start_time": T0,
        "blocks_mined": 10,
        "now": T0 + 6000,
    }
    args.update(kwargs)
    with pytest.raises(InputError) as info:
        estimate_next_adjustment(**args)  # type: ignore[arg-type]
    assert info.value.field == field


def _unix(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


# mempool.space's test vectors (backend/src/__tests__/api/difficulty-adjustment.test.ts)
LOCK_T0 = _unix("2023-04-20T09:57:33Z")  # first block of the epoch 786,240-788,255
LOCK_LAST = _unix("2023-05-04T14:54:26Z")  # block 788,255
LOCK_NOW = _unix("2023-05-04T14:54:09Z")  # mempool's "now": 17 s before the last block's timestamp
LOCK_BITS = 0x1705C739  # nBits of 786,240 (bitcoinj retarget headers); 788,256 has 0x1705dd01


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        (  # vector 1: the epoch's own pace (1,451 blocks in)
            (_unix("2024-02-02T15:42:06Z"), _unix("2024-02-11T22:43:01Z"), 830027 % 2016),
            {"window_start_time": _unix("2024-02-08T14:43:05Z"), "previous_change_pct": 7.333505241141637},
            8.512745140778843,
        ),
        (  # vector 2: inside the quarter-epoch window (182 blocks in), previous epoch rescaled
            (_unix("2022-08-18T11:07:00Z"), _unix("2022-08-19T14:03:53Z"), 750134 % 2016),
            {"window_start_time": _unix("2022-08-16T03:16:54Z"), "previous_change_pct": 0.6280047707459726},
            1.0420538959004633,
        ),
        (  # vector 4: lock-in, the last block's time counts
            (LOCK_T0, LOCK_NOW, 788255 % 2016),
            {"previous_change_pct": 1.7220298879531821, "last_block_time": LOCK_LAST},
            -1.4512637555574193,
        ),
    ],
)
def test_mempool_method_reproduces_its_test_vectors(
    args: tuple[int, int, int], kwargs: dict[str, float], expected: float
) -> None:
    assert mempool_difficulty_change_pct(*args, **kwargs) == pytest.approx(expected, rel=1e-12)


def test_lock_in_vector_consensus_exact_agrees_with_mempool() -> None:
    """The epoch ending at 788,255: consensus (compact rounding) vs mempool's float, within 1e-3 pp; the last
    block's timestamp is 17 s after "now" and must be accepted."""
    est = estimate_next_adjustment(
        LOCK_BITS, LOCK_T0, 2016, LOCK_NOW, last_block_time=LOCK_LAST, epoch_start_height=786_240
    )
    assert est.locked_in
    assert est.next_bits_p50 == 0x1705DD01  # the real nBits of height 788,256
    assert est.change_pct_p50 == pytest.approx(-1.4512637555574193, abs=1e-3)


def test_last_block_may_be_ahead_of_the_clock_by_two_hours() -> None:
    last = T0 + 999 * 600
    ahead = estimate_next_adjustment(BITS, T0, 1000, last - 30, last_block_time=last)
    same = estimate_next_adjustment(BITS, T0, 1000, last, last_block_time=last)
    assert ahead == same  # the exposure runs to the later of the two
    estimate_next_adjustment(BITS, T0, 1000, last - MAX_FUTURE_BLOCK_TIME_S, last_block_time=last)
    with pytest.raises(InputError) as info:
        estimate_next_adjustment(BITS, T0, 1000, last - MAX_FUTURE_BLOCK_TIME_S - 1, last_block_time=last)
    assert info.value.field == "last_block_time" and "7,200" in info.value.allowed


def test_cli_accepts_the_lock_in_vector() -> None:
    from hashrisk.cli.main import app

    result = CliRunner().invoke(
        app,
        [
            "chain", "estimate", "--bits", "0x1705c739", "--epoch-start-time", "2023-04-20T09:57:33Z",
            "--blocks-mined", "2016", "--now", "2023-05-04T14:54:09Z",
            "--last-block-time", "2023-05-04T14:54:26Z", "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert '"locked_in": true' in result.stdout


def test_mempool_method_bad_input() -> None:
    with pytest.raises(InputError) as info:
        mempool_difficulty_change_pct(T0, T0 + 10, 2016)
    assert info.value.field == "blocks_in_epoch"
    with pytest.raises(InputError) as info:
        mempool_difficulty_change_pct(T0, T0 + 10, 2015)
    assert info.value.field == "last_block_time"
