"""The embedded snapshot and its overrides."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hashrisk.chain.pow import hashrate_ths_from_difficulty
from hashrisk.data.snapshot import NetworkSnapshot
from hashrisk.errors import InputError


def test_embedded_facts() -> None:
    s = NetworkSnapshot.embedded()
    assert s.date == dt.date(2026, 6, 1)
    assert (s.price_usd, s.difficulty, s.height) == (71_329.0, 138_955_357_012_247.0, 951_552)
    assert s.subsidy_btc == 3.125
    assert s.fees_btc_per_block * 144 == pytest.approx(3.3, abs=0.05)
    # the 7-day hashrate is consistent with the difficulty (blocks a little slower than 600 s)
    assert s.hashrate_ths / float(hashrate_ths_from_difficulty(s.difficulty)) == pytest.approx(
        0.985, abs=0.02
    )
    assert set(s.sources) >= {"price_usd", "difficulty", "hashrate_ths", "fees_btc_per_block", "subsidy_btc"}


def test_toml_override(tmp_path: Path) -> None:
    f = tmp_path / "snap.toml"
    f.write_text('price_usd = 60000\nheight = 1050000\n[sources]\nprice_usd = "desk close"\n')
    s = NetworkSnapshot.from_toml(f)
    assert s.price_usd == 60_000 and s.subsidy_btc == 1.5625
    assert s.sources["price_usd"] == "desk close"
    assert s.sources["height"] == "file snap.toml"
    assert s.difficulty == NetworkSnapshot.embedded().difficulty


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("price_usd = -1", "price_usd"),
        ("price_usd = nan", "price_usd"),
        ('difficulty = "high"', "difficulty"),
        ("hashrate = 5", "hashrate"),
        ("price_usd = ", "snapshot"),
        ("fees_btc_per_block = -0.1", "fees_btc_per_block"),
    ],
)
def test_bad_snapshot_files(tmp_path: Path, text: str, field: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text + "\n")
    with pytest.raises(InputError) as info:
        NetworkSnapshot.from_toml(f)
    assert info.value.field == field


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="snapshot"):
        NetworkSnapshot.from_toml(tmp_path / "nope.toml")


def test_flag_override_keeps_provenance() -> None:
    s = NetworkSnapshot.embedded().override(source="--price flag", price_usd=64_196.1)
    assert s.price_usd == 64_196.1 and s.sources["price_usd"] == "--price flag"
    assert s.sources["difficulty"] == NetworkSnapshot.embedded().sources["difficulty"]
