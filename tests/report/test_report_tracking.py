"""The report's "What changed" and "History" sections: on a synthetic store their figures and events are
those of :mod:`hashrisk.analytics.tracking`; without a store they say what is missing; the charts render as
HTML and (with Chromium) as SVG; the command-line options --since and --since-changes."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest
from reportparse import parse_html, parse_markdown
from typer.testing import CliRunner

from hashrisk.analytics.tracking import HistorySettings, changes, tracking_history
from hashrisk.cli.main import app
from hashrisk.data.store import Store
from hashrisk.report import Section, Skipped, build_report, load_context, write_report
from hashrisk.report.context import HISTORY_MAX_POINTS
from hashrisk.report.render import find_chrome
from hashrisk.report.sections import SECTIONS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from history_store import write_synthetic

TRACKING = tuple(s for s in SECTIONS if s[0] in ("headline", "changes", "history"))
AS_OF = dt.date(2023, 6, 19)
HISTORY_CHARTS = [
    "history_price_cost",
    "history_hashrate",
    "history_hashprice",
    "history_revenue",
    "history_shares",
    "history_ribbons",
    "history_puell",
]
runner = CliRunner()


@pytest.fixture(scope="module")
def store_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("tracking-home")
    write_synthetic(home)
    return home


def library_history(home: Path, start: dt.date | None) -> object:
    with Store(home, read_only=True) as store:
        daily, rt = store.daily_frame(), store.retargets_frame()
    return tracking_history(
        daily, rt if len(rt) else None, start=start, end=AS_OF, settings=HistorySettings()
    )


def test_sections_follow_the_headline(store_home: Path) -> None:
    keys = [k for k, _, _ in SECTIONS]
    assert keys[:2] == ["headline", "changes"] and "history" in keys


def test_history_figures_are_the_library_values(store_home: Path) -> None:
    ctx = load_context(home=store_home, stress_paths=10)
    rep = build_report(ctx, TRACKING)
    sec = rep.section("history")
    assert isinstance(sec, Section)
    hist = library_history(store_home, dt.date(2021, 6, 19))  # two years before the as-of day
    f = hist.frame  # type: ignore[attr-defined]
    figs = sec.figures
    assert figs["hist_price_usd"].value == pytest.approx(float(f["price_usd"].iloc[-1]), rel=1e-12)
    assert figs["hist_cost_all_in_usd_per_btc"].value == pytest.approx(
        float(f["cost_all_in_usd_per_btc"].dropna().iloc[-1]), rel=1e-12
    )
    assert figs["hist_share_underwater_max"].value == pytest.approx(float(f["share_underwater"].max()))
    assert figs["hist_capitulations"].value == len(hist.capitulations)  # type: ignore[attr-defined]
    assert [c.key for c in sec.charts] == HISTORY_CHARTS
    price_trace = sec.charts[0].figure.data[3]
    assert price_trace.x[0] == "2021-06-19" and price_trace.x[-1] == AS_OF.isoformat()
    assert sec.title == f"History, 2021-06-19 to {AS_OF}"


def test_since_all_is_thinned_for_display_only(store_home: Path) -> None:
    ctx = load_context(home=store_home, stress_paths=10, history_since="all")
    sec = build_report(ctx, TRACKING).section("history")
    assert isinstance(sec, Section)
    assert sec.title == f"History, 2021-01-01 to {AS_OF}"
    for chart in sec.charts:
        for trace in chart.figure.data:
            assert len(trace.x) <= 2 * HISTORY_MAX_POINTS  # a band traces both edges
    f = library_history(store_home, None).frame  # type: ignore[attr-defined]
    assert sec.figures["hist_share_underwater_max"].value == pytest.approx(float(f["share_underwater"].max()))


def test_what_changed_lists_the_library_events(store_home: Path) -> None:
    since = dt.date(2022, 11, 1)
    ctx = load_context(home=store_home, stress_paths=10, changes_since=since)
    sec = build_report(ctx, TRACKING).section("changes")
    assert isinstance(sec, Section)
    hist = library_history(store_home, since - dt.timedelta(days=30))
    expected = changes(hist, since, AS_OF)  # type: ignore[arg-type]
    assert len(expected) > 0
    table = next(b for b in sec.blocks if hasattr(b, "rows"))
    rows = table.rows  # type: ignore[attr-defined]
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        (e.day.isoformat(), e.kind, e.message, e.rule)
        for e in sorted(expected, key=lambda e: (e.day, e.kind), reverse=True)
    ]
    assert sec.figures["changes_count"].value == len(expected)


def test_default_look_back_is_30_days(store_home: Path) -> None:
    sec = build_report(load_context(home=store_home, stress_paths=10), TRACKING).section("changes")
    assert isinstance(sec, Section) and sec.title == f"What changed since {AS_OF - dt.timedelta(days=30)}"


def test_without_a_store_both_say_so(tmp_path: Path) -> None:
    rep = build_report(load_context(home=tmp_path, stress_paths=10), TRACKING)
    for key in ("changes", "history"):
        s = rep.section(key)
        assert isinstance(s, Skipped) and "no daily history is stored" in s.reason


def test_html_and_markdown_carry_the_history_charts(store_home: Path, tmp_path: Path) -> None:
    rep = build_report(load_context(home=store_home, stress_paths=10), TRACKING)
    html = tmp_path / "r.html"
    write_report(rep, html)
    parsed = parse_html(html.read_text(encoding="utf-8"))
    assert [k for k, _ in parsed.sections] == ["headline", "changes", "history"]
    assert parsed.charts == HISTORY_CHARTS
    assert parsed.figures["hist_price_usd"][1].startswith("$")
    if find_chrome() is None:
        pytest.skip("no Chrome/Chromium for kaleido")
    md = tmp_path / "r.md"
    files = write_report(rep, md, "md")
    text = parse_markdown(md.read_text(encoding="utf-8"))
    assert text.images == [f"r_files/{k}.svg" for k in HISTORY_CHARTS]
    for f in files[1:]:
        assert f.read_text(encoding="utf-8").lstrip().startswith("<svg") or "<svg" in f.read_text()[:500]


# --------------------------------------------------------------------------------------------- CLI
def _report(home: Path, out: Path, *args: str) -> dict[str, object]:
    result = runner.invoke(
        app, ["report", "--out", str(out), "--paths", "20", "--home", str(home), "--json", *args]
    )
    assert result.exit_code == 0, result.output
    body: dict[str, object] = json.loads(result.stdout)
    return body


def test_cli_since_options_and_the_state_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_synthetic(home)
    out = tmp_path / "r.html"
    body = _report(home, out, "--since", "all", "--since-changes", "2022-11-01")
    sections = {s["key"]: s for s in body["sections"]}  # type: ignore[union-attr,index]
    assert sections["history"]["built"] and sections["changes"]["built"]
    assert body["figures"]["changes_count"] > 0  # type: ignore[index]
    state = json.loads((home / "last_seen.json").read_text())
    assert state["command"] == "report" and state["as_of"] == AS_OF.isoformat()
    # the default is "since the last look": nothing new now
    _report(home, out)
    parsed = parse_html(out.read_text(encoding="utf-8"))
    assert parsed.figures["changes_count"][0] == 0
    assert "Nothing new" in out.read_text(encoding="utf-8")
    for args, field in ((("--since", "two years"), "--since"), (("--since-changes", "x"), "--since-changes")):
        result = runner.invoke(app, ["report", "--out", str(out), "--home", str(home), *args])
        assert result.exit_code == 2 and field in result.stderr, result.output
