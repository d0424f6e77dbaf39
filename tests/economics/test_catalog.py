"""The ASIC catalog: coverage, internal consistency, lookup."""

from __future__ import annotations

import pandas as pd
import pytest

from hashrisk.economics.catalog import CATALOG_COLUMNS, find_model, load_catalog
from hashrisk.errors import UnknownNameError

REQUIRED = [
    "Antminer S9",
    "Antminer S19j Pro",
    "Antminer S19 XP",
    "Antminer S21",
    "Antminer S21 Pro",
    "Antminer S21 XP",
    "Antminer S21 XP Hydro",
    "Whatsminer M30S+",
    "Whatsminer M60",
    "Whatsminer M60S",
    "Whatsminer M66S",
]


def test_catalog_shape_and_sources() -> None:
    cat = load_catalog()
    assert tuple(cat.columns) == CATALOG_COLUMNS
    assert len(cat) >= 30
    assert cat["model"].is_unique
    assert cat["source"].str.len().min() > 10  # every row names its source
    assert set(cat["cooling"]) <= {"air", "hydro", "immersion"}
    assert cat["release_month"].min() <= pd.Period("2016-06", "M")
    assert cat["release_month"].max() >= pd.Period("2024-01", "M")
    assert cat.notna().all().all()


def test_required_models_present() -> None:
    names = set(load_catalog()["model"])
    assert not [m for m in REQUIRED if m not in names]
    assert any(n.startswith("Avalon A14") for n in names)


def test_efficiency_consistent_with_power_and_hashrate() -> None:
    cat = load_catalog()
    ratio = cat["power_w"] / cat["hashrate_ths"] / cat["efficiency_j_per_th"]
    assert ratio.between(0.95, 1.05).all(), cat.loc[~ratio.between(0.95, 1.05), ["model"]]


@pytest.mark.parametrize(
    ("model", "ths", "watts"),
    [("Antminer S21", 200, 3500), ("Antminer S21 XP Hydro", 473, 5676), ("Antminer S19j Pro", 100, 2950)],
)
def test_maker_flagship_specs(model: str, ths: float, watts: float) -> None:
    row = find_model(model)
    assert (row["hashrate_ths"], row["power_w"]) == (ths, watts)


def test_lookup_is_forgiving_about_spelling() -> None:
    assert find_model("s19j pro")["model"] == "Antminer S19j Pro"
    assert find_model("ANTMINER-S21-XP")["model"] == "Antminer S21 XP"


def test_unknown_model_suggests_closest() -> None:
    with pytest.raises(UnknownNameError) as info:
        find_model("Antminer S19j Pr0")
    assert info.value.field == "model"
    assert "Antminer S19j Pro" in str(info.value)


def test_released_by_filter() -> None:
    old = load_catalog("2020-12")
    assert (old["release_month"] <= pd.Period("2020-12", "M")).all()
    assert "Antminer S21" not in set(old["model"])
