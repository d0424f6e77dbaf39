"""Rolling-origin evaluation: metrics by hand, CRPS against scoringrules, regimes, leakage (poisoning the
future changes nothing), backends, the estimator replay against mempool's method, and the CLI."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scoringrules as sr
import typer
from typer.testing import CliRunner

from hashrisk.cli.evaluate_cmd import parse_horizons, register_evaluate_commands
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.errors import InputError
from hashrisk.sim import Scenario
from hashrisk.sim.evaluate import (
    OriginCase,
    classify_regime,
    crps_log_pct,
    evaluate,
    evaluate_adjustment_estimates,
    forecast_samples,
    origin_case,
    reliability,
    score_case,
    summarize,
    summarize_estimates,
    synthetic_epochs,
)

app = typer.Typer(pretty_exceptions_enable=False)


@app.callback()
def _root() -> None:
    """Test app."""


register_evaluate_commands(app)
runner = CliRunner()

H0 = 2016 * 360  # 725,760: a 2022-era height (subsidy 6.25 BTC)
START = pd.Timestamp("2022-01-01", tz="UTC")


def _frames(days: int = 360, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic stored history: daily rows and a retarget every 14 days from 2022-01-21 10:00 UTC."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range(START, periods=days, freq="D", name="date")
    hashrate = 2.0e8 * np.exp(np.linspace(0.0, 0.3, days))
    daily = pd.DataFrame(
        {
            "price_usd": 40_000.0 * np.exp(np.cumsum(rng.normal(0.0, 0.03, days))),
            "hashrate_ths": hashrate,
            "difficulty": hashrate * 1e12 * 600 / 2**32,
            "blocks": 144.0,
            "fees_btc": 20.0,
        },
        index=idx,
    )
    n = (days - 30) // 14
    times = START + pd.Timedelta(days=20, hours=10) + pd.to_timedelta(14 * np.arange(n), unit="D")
    diffs = daily["difficulty"].reindex(times.normalize()).to_numpy()
    retargets = pd.DataFrame(
        {"time": times, "difficulty": diffs}, index=pd.Index(H0 + 2016 * np.arange(n), name="height")
    )
    return daily, retargets


def _case(**kw: object) -> OriginCase:
    fields: dict[str, object] = {
        "height": H0,
        "origin_time": pd.Timestamp("2022-01-21T10:00Z"),
        "day": dt.date(2022, 1, 21),
        "difficulty": 100.0,
        "snapshot": NetworkSnapshot(),
        "trend_pace": math.log(1.02),
        "regime": "growth",
        "mode": "conditional",
        "horizons": 2,
        "scenario": Scenario(),
    }
    fields.update(kw)
    return OriginCase(**fields)  # type: ignore[arg-type]


def test_score_case_by_hand() -> None:
    """Ten samples per horizon: quantiles, log errors, band membership, PIT and CRPS by hand."""
    samples = np.column_stack([np.arange(101.0, 111.0), np.arange(96.0, 106.0)])
    samples[0, 1] = np.nan  # one path did not reach the second retarget
    rt = pd.DataFrame(
        {
            "difficulty": [100.0, 105.0, 99.0],
            "time": pd.to_datetime(["2022-01-21", "2022-02-04", "2022-02-18"]),
        },
        index=[H0, H0 + 2016, H0 + 4032],
    )
    rows = score_case(_case(), samples, rt)
    assert [r["horizon"] for r in rows] == [1, 2]
    r1, r2 = rows
    x1 = np.arange(101.0, 111.0)
    assert r1["sim_p50"] == pytest.approx(105.5)
    assert r1["err_log_pct_simulation"] == pytest.approx(100 * math.log(105.5 / 105))
    assert r1["err_log_pct_persistence"] == pytest.approx(100 * math.log(100 / 105))
    assert r1["err_log_pct_trend"] == pytest.approx(100 * math.log(102 / 105))
    assert r1["pit"] == pytest.approx(0.45)  # 101..104 below 105 (0.4); the tie at 105 counts a half
    assert r1["in_band50"] and r1["in_band90"]
    # CRPS = E|X - y| - E|X - X'| / 2 on the 100 ln(x / D0) scale
    y, x = 100 * math.log(105 / 100), 100 * np.log(x1 / 100)
    by_hand = np.mean(np.abs(x - y)) - 0.5 * np.mean(np.abs(x[:, None] - x[None, :]))
    assert r1["crps_log_pct"] == pytest.approx(by_hand, rel=1e-9)
    assert r2["share_reached"] == pytest.approx(0.9)
    assert r2["sim_p50"] == pytest.approx(101.0)  # median of 97..105
    assert r2["sim_p25"] == pytest.approx(99.0)  # 97..105: p25 = 99, p05 = 97.4
    assert r2["in_band50"] is True and r2["in_band90"] is True  # truth 99 on the band's edge


def test_crps_matches_scoringrules() -> None:
    rng = np.random.default_rng(3)
    x = rng.lognormal(0.0, 0.05, 500) * 1e13
    d0, truth = 1e13, 1.03e13
    want = float(sr.crps_ensemble(100 * math.log(truth / d0), 100 * np.log(x / d0)))
    assert crps_log_pct(truth, x, d0) == pytest.approx(want, rel=1e-12)
    # and a normal ensemble's CRPS approaches the closed form of crps_normal
    z = rng.normal(0.0, 2.0, 20_000)
    ens = float(sr.crps_ensemble(1.0, z))
    assert ens == pytest.approx(float(sr.crps_normal(1.0, 0.0, 2.0)), rel=0.02)


def test_summarize_by_hand() -> None:
    rows = pd.DataFrame(
        {
            "mode": ["conditional"] * 4,
            "regime": ["growth", "growth", "drawdown", "growth"],
            "horizon": [1, 1, 1, 2],
            "err_log_pct_simulation": [2.0, -4.0, 1.0, 3.0],
            "err_log_pct_persistence": [4.0, -8.0, 2.0, 6.0],
            "err_log_pct_trend": [1.0, -2.0, 4.0, 3.0],
            "crps_log_pct": [1.0, 2.0, 3.0, 1.0],
            "in_band50": [True, False, False, True],
            "in_band90": [True, True, False, True],
            "pit": [0.4, 0.9, 0.99, 0.5],
        }
    )
    t = summarize(rows).set_index(["mode", "regime", "horizon"])
    a = t.loc[("conditional", "all", 1)]
    assert a["n"] == 3
    assert a["mae_log_pct"] == pytest.approx(7 / 3)
    assert a["rmse_log_pct"] == pytest.approx(math.sqrt(21 / 3))
    assert a["bias_log_pct"] == pytest.approx(-1 / 3)
    assert a["coverage50"] == pytest.approx(1 / 3) and a["coverage90"] == pytest.approx(2 / 3)
    assert a["crps_log_pct"] == pytest.approx(2.0)
    assert a["mae_log_pct_persistence"] == pytest.approx(14 / 3)
    assert a["skill_vs_persistence"] == pytest.approx(0.5)
    assert a["skill_vs_trend"] == pytest.approx(1 - (7 / 3) / (7 / 3))
    assert a["crps_skill_vs_persistence"] == pytest.approx(1 - 2.0 / (14 / 3))
    assert t.loc[("conditional", "growth", 1)]["n"] == 2
    assert ("conditional", "halving", 1) not in t.index
    rel = reliability(rows).set_index("nominal")
    assert rel.loc[0.2, "observed"] == pytest.approx(0.5)  # |pit - 0.5| <= 0.1: 0.4 and 0.5
    assert rel.loc[0.9, "observed"] == pytest.approx(0.75)


def test_regimes() -> None:
    idx = pd.date_range("2021-01-01", periods=500, freq="D", tz="UTC")
    prices = pd.Series(np.linspace(30_000, 60_000, 500), index=idx)
    assert classify_regime(prices, dt.date(2022, 3, 1)) == "growth"
    falling = prices.copy()
    falling.loc[falling.index >= pd.Timestamp("2022-02-01", tz="UTC")] = 40_000.0
    assert classify_regime(falling, dt.date(2022, 3, 1)) == "drawdown"  # 40k <= 0.8 x ~54k
    assert classify_regime(falling, dt.date(2024, 1, 25)) == "halving"  # 86 days before 2024-04-20
    assert classify_regime(falling, dt.date(2024, 7, 20)) == "halving"  # 91 days after
    assert classify_regime(falling, dt.date(2024, 7, 21)) == "growth"  # 92 days after


def _poison(frame: pd.DataFrame, mask: np.ndarray, cols: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for c in cols:
        out.loc[mask, c] = out.loc[mask, c] * 10.0
    return out


@pytest.mark.parametrize("mode", ["conditional", "unconditional"])
def test_poisoning_the_future_does_not_change_the_forecast(mode: str) -> None:
    """Every stored value after the origin's day is multiplied by 10 (in conditional mode except the realised
    price path, an input by design): the forecast is identical. Poisoning the day before changes it."""
    daily, rt = _frames()
    height = int(rt.index[8])
    day = pd.Timestamp(rt.loc[height, "time"]).normalize()
    base = Scenario(seed=11)
    case = origin_case(base, daily, rt, height, mode=mode, horizons=2, paths=100)  # type: ignore[arg-type]
    ref = forecast_samples(case)["samples"]
    assert np.isfinite(ref).mean() > 0.9

    after = np.asarray(daily.index >= day)
    cols = ["hashrate_ths", "difficulty", "blocks", "fees_btc"]
    if mode == "unconditional":
        cols.append("price_usd")
    else:  # prices beyond the simulated path
        end = day + pd.Timedelta(days=case.scenario.horizon_days)
        daily = _poison(daily, np.asarray(daily.index >= end), ["price_usd"])
    poisoned = _poison(daily, after, cols)
    rt_p = _poison(rt, np.asarray(rt.index > height), ["difficulty"])
    rt_p["time"] = rt_p["time"].where(rt_p.index <= height, rt_p["time"] + pd.Timedelta(days=3))
    case_p = origin_case(base, poisoned, rt_p, height, mode=mode, horizons=2, paths=100)  # type: ignore[arg-type]
    np.testing.assert_array_equal(forecast_samples(case_p)["samples"], ref)
    assert (case_p.trend_pace, case_p.recent_adjustment_sd) == (case.trend_pace, case.recent_adjustment_sd)
    assert case_p.snapshot == case.snapshot and case_p.regime == case.regime

    before = np.asarray((daily.index < day) & (daily.index >= day - pd.Timedelta(days=7)))
    case_b = origin_case(
        base,
        _poison(daily, before, ["hashrate_ths", "price_usd"]),
        rt,
        height,
        mode=mode,
        horizons=2,
        paths=100,
    )  # type: ignore[arg-type]
    assert not np.array_equal(forecast_samples(case_b)["samples"], ref, equal_nan=True)


def test_origin_case_reads_the_right_days() -> None:
    daily, rt = _frames()
    height = int(rt.index[8])
    case = origin_case(Scenario(), daily, rt, height, mode="conditional", horizons=2, paths=50)
    day = pd.Timestamp(rt.loc[height, "time"]).normalize()
    prev = daily.loc[day - pd.Timedelta(days=1)]
    assert case.snapshot.price_usd == pytest.approx(prev["price_usd"])
    assert case.snapshot.hashrate_ths == pytest.approx(
        daily.loc[day - pd.Timedelta(days=7) : day - pd.Timedelta(days=1), "hashrate_ths"].mean()
    )
    assert case.snapshot.fees_btc_per_block == pytest.approx(20 / 144)
    assert case.snapshot.height == height and case.difficulty == rt.loc[height, "difficulty"]
    assert case.scenario.price.model == "path"
    assert case.scenario.price.prices_usd[0] == pytest.approx(daily.loc[day, "price_usd"])  # type: ignore[union-attr]
    assert case.scenario.fleet.spec is not None and "2022-05" in case.scenario.fleet.spec.label
    # the trend: mean log adjustment of the 6 retargets up to the origin
    d = rt["difficulty"].to_numpy()
    assert case.trend_pace == pytest.approx(np.mean(np.diff(np.log(d[:9]))[-6:]))
    assert case.recent_adjustment_sd == pytest.approx(np.std(np.diff(np.log(d[:9])), ddof=1))
    unc = origin_case(Scenario(), daily, rt, height, mode="unconditional", horizons=2, paths=50)
    assert unc.scenario.price.model == "bootstrap"
    assert unc.scenario.horizon_days == 42
    with pytest.raises(InputError) as err:
        origin_case(Scenario(), daily, rt, height + 1, mode="conditional")
    assert err.value.field == "height"


def test_evaluate_small_case_end_to_end() -> None:
    daily, rt = _frames()
    res = evaluate(
        Scenario(seed=5), daily, rt, heights=[int(rt.index[8]), int(rt.index[10])], horizons=2, paths=100
    )
    assert res.meta["origins"] == 2 and res.meta["cases"] == 4
    assert len(res.rows) == 8  # 2 origins x 2 modes x 2 horizons
    t = res.table
    assert set(t["regime"]) >= {"all"}
    assert (t["n"] + t["n_missing"]).loc[t["regime"] == "all"].eq(2).all()
    doc = res.summary()
    assert doc["reliability"] and doc["scores"][0]["mode"] == "conditional"
    json.dumps(doc)


@pytest.mark.slow
def test_backends_agree() -> None:
    daily, rt = _frames()
    kw = {"heights": [int(rt.index[8])], "horizons": 2, "paths": 100, "modes": ("unconditional",)}
    serial = evaluate(Scenario(seed=5), daily, rt, **kw)  # type: ignore[arg-type]
    procs = evaluate(Scenario(seed=5), daily, rt, backend="processes", workers=1, **kw)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(serial.rows, procs.rows)


def test_estimator_replay_against_mempool_on_synthetic_chains() -> None:
    """Steady chains: our 90% band covers the outcome about 90% of the time at every fraction, and by 90% of
    the epoch both estimators are within about a point."""
    epochs = synthetic_epochs(120, 20260601, growth_per_epoch_mean=0.0, growth_per_epoch_sd=0.0)
    rows = evaluate_adjustment_estimates(epochs)
    assert len(rows) == 120 * 5
    t = summarize_estimates(rows).set_index("fraction")
    assert t["coverage90_ours"].between(0.8, 0.98).all()
    assert t.loc[0.9, "mae_ours_pp"] < 1.0 and t.loc[0.9, "mae_mempool_pp"] < 1.0
    assert (t["band90_width_pp"].diff().dropna() < 0).all()  # the band narrows as the epoch fills
    # exact row: the realised change is the consensus change of the epoch's first and last times
    r = rows.iloc[0]
    assert r["err_ours_pp"] == pytest.approx(r["ours_p50"] - r["realised_pct"])


def test_horizons_option() -> None:
    assert parse_horizons("1-6") == (1, 6)
    assert parse_horizons("4") == (1, 4)
    for bad in ("0-3", "6-1", "x", "1-13"):
        with pytest.raises(InputError) as err:
            parse_horizons(bad)
        assert err.value.field == "--horizons"


def test_cli_without_history(hashrisk_home: Path) -> None:
    result = runner.invoke(app, ["evaluate", "--paths", "10"])
    assert result.exit_code == 2
    assert "hashrisk data import" in result.stderr
    result = runner.invoke(app, ["evaluate", "--estimator"])
    assert result.exit_code == 2 and "--synthetic" in result.stderr
    result = runner.invoke(app, ["evaluate", "--mode", "sideways"])
    assert result.exit_code == 2 and "--mode" in result.stderr
    result = runner.invoke(app, ["evaluate", "--unexplained-scale", "-0.1"])
    assert result.exit_code == 2 and "--unexplained-scale" in result.stderr


def test_cli_estimator_on_synthetic_epochs(tmp_path: Path) -> None:
    out = tmp_path / "est.csv"
    result = runner.invoke(app, ["evaluate", "--synthetic", "20", "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [round(s["fraction"], 2) for s in doc["scores"]] == [0.1, 0.25, 0.5, 0.75, 0.9]
    assert len(pd.read_csv(out)) == 100


@pytest.mark.slow
def test_real_history_two_origins(reference_home: Path, tmp_path: Path) -> None:
    """Two real 2022 origins through the CLI: rows for both modes and 6 horizons, the file for the report."""
    out = tmp_path / "eval.csv"
    result = runner.invoke(
        app,
        [
            "evaluate", "--since", "2022-06-01", "--until", "2022-06-30", "--paths", "100",
            "--backend", "serial", "--home", str(reference_home), "--out", str(out), "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["meta"]["origins"] == 2
    rows = pd.read_csv(out)
    assert len(rows) == 2 * 2 * 6
    assert set(rows["regime"]) == {"drawdown"}
    assert rows["err_log_pct_simulation"].abs().max() < 30


def test_report_section_reads_a_saved_evaluation(tmp_path: Path) -> None:
    """The report's "How good is the model" renders from `hashrisk evaluate --out` rows, and is skipped with the
    command to run when no file is given (the report never runs the evaluation)."""
    from types import SimpleNamespace

    from hashrisk.report.model import Section, Skipped
    from hashrisk.report.sections_evaluation import evaluation_section

    daily, rt = _frames()
    res = evaluate(Scenario(seed=5), daily, rt, heights=[int(rt.index[8])], horizons=2, paths=100)
    out = tmp_path / "eval.csv"
    res.rows.to_csv(out, index=False)
    sec = evaluation_section(SimpleNamespace(evaluation_file=out))  # type: ignore[arg-type]
    assert isinstance(sec, Section)
    assert sec.figures["conditional_mae_k2"].value == pytest.approx(
        res.table.query("mode == 'conditional' and regime == 'all' and horizon == 2")["mae_log_pct"].iloc[0]
    )
    assert sec.charts and sec.charts[0].key == "evaluation_reliability"
    skipped = evaluation_section(SimpleNamespace(evaluation_file=None))  # type: ignore[arg-type]
    assert isinstance(skipped, Skipped) and "hashrisk evaluate --out" in skipped.reason
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    skipped = evaluation_section(SimpleNamespace(evaluation_file=bad))  # type: ignore[arg-type]
    assert isinstance(skipped, Skipped) and "missing" in skipped.reason
