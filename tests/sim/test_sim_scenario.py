"""The scenario schema: YAML round trip, dotted parameters, clear errors naming the field."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from hashrisk.economics.fleet import FleetSpec
from hashrisk.errors import InputError
from hashrisk.sim.prices import parse_price_csv, prepare_price
from hashrisk.sim.scenario import (
    GbmPrice,
    PathPrice,
    Scenario,
    default_scenario_yaml,
    field_descriptions,
    max_paths,
)


def test_annotated_default_round_trips() -> None:
    text = default_scenario_yaml()
    assert Scenario.from_yaml_text(text) == Scenario()
    assert Scenario.from_yaml_text("") == Scenario()
    assert "# " in text and "Assumption" in text and "fact" in text.lower()
    # every commented-out alternative price block is valid YAML for its model
    blocks = text.split("# price:")[1:]
    assert len(blocks) == 3
    for block in blocks:
        body = "\n".join(
            line[2:] for line in block.split("\n") if line.startswith("#   ") and not line.startswith("#   #")
        )
        model = yaml.safe_load("price:\n" + body)["price"]
        assert model["model"] in ("jump", "bootstrap", "path")


def test_every_default_is_a_fact_or_an_assumption() -> None:
    """Numbers with a default carry 'Assumption' or a cited fact in their description."""
    undocumented = []
    defaults = Scenario().to_dict()

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else k)
        elif isinstance(node, float) and path in descriptions:
            text = descriptions[path].lower()
            if "assumption" not in text and "fact" not in text and "cbeci" not in text:
                undocumented.append(path)

    descriptions = field_descriptions()
    walk(defaults, "")
    assert undocumented == []


def test_with_params_and_get_param() -> None:
    s = Scenario().with_params({"price.vol": 0.8, "paths": 500, "fleet.deploy.lead_time_days": 30})
    assert s.get_param("price.vol") == 0.8 and s.paths == 500 and s.fleet.deploy.lead_time_days == 30
    j = s.with_params({"price.model": "jump", "price.tails": "student_t"})
    assert j.price_model == "jump" and j.get_param("price.tails") == "student_t"
    f = Scenario().with_params({"fleet.spec": FleetSpec.default().model_dump()})
    assert f.get_param("fleet.spec.classes.0.share") == pytest.approx(0.10)
    with pytest.raises(InputError) as err:
        Scenario().with_params({"price.volatility": 1.0})
    assert err.value.field == "price.volatility"
    with pytest.raises(InputError) as err:
        Scenario().get_param("fleet.nope")
    assert err.value.field == "fleet.nope"
    with pytest.raises(InputError):
        Scenario().with_params({"fleet.spec.costs.depreciation_days": 10})  # spec is null


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"price": {"model": "gbm", "vol": -0.2}}, "price.vol"),
        ({"horizon_days": 0}, "horizon_days"),
        ({"price": {"model": "garch"}}, "price.model"),
        ({"price": {"vol": 0.3, "model": "lognormal"}}, "price.model"),
        ({"price": {"model": "path", "prices_usd": [1.0, 0.0, 2.0]}}, "price.prices_usd"),
        (
            {"price": {"model": "path", "prices_usd": [1.0, 2.0], "dates": ["2026-01-01", "2026-01-03"]}},
            "price.dates",
        ),
        ({"price": {"model": "jump", "df": 2.0}}, "price.df"),
        ({"fleet": {"cohorts": 0}}, "fleet.cohorts"),
        ({"fleet": {"hysteresis": 1.5}}, "fleet.hysteresis"),
        ({"treasury": {"share_sold": 1.2}}, "treasury.share_sold"),
        ({"impact": {"daily_volume_usd": 0}}, "impact.daily_volume_usd"),
        ({"seed": -1}, "seed"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_input_names_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as err:
        Scenario.from_dict(data)
    assert err.value.field == field


def test_paths_limit_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert max_paths() == 2_000_000
    with pytest.raises(InputError) as err:
        Scenario(paths=2_000_001)
    assert err.value.field == "paths"
    monkeypatch.setenv("HASHRISK_MAX_PATHS", "100")
    assert Scenario(paths=100).paths == 100
    with pytest.raises(InputError) as err:
        Scenario.from_dict({"paths": 101})
    assert err.value.field == "paths" and "HASHRISK_MAX_PATHS" in str(err.value)
    monkeypatch.setenv("HASHRISK_MAX_PATHS", "lots")
    with pytest.raises(InputError) as err:
        max_paths()
    assert err.value.field == "HASHRISK_MAX_PATHS"


def test_invalid_yaml_is_an_input_error() -> None:
    with pytest.raises(InputError) as err:
        Scenario.from_yaml_text("price: [unclosed", origin="s.yaml")
    assert err.value.field == "scenario"
    with pytest.raises(InputError):
        Scenario.from_yaml_text("- a list\n- not a mapping\n")


def test_parse_price_csv() -> None:
    dates, prices = parse_price_csv("date,price_usd\n2026-06-01,71000\n2026-06-02,70500.5\n")
    assert dates == [dt.date(2026, 6, 1), dt.date(2026, 6, 2)] and prices == [71000.0, 70500.5]
    for text, needle in [
        ("date,close\n2026-06-01,1\n", "columns"),
        ("date,price_usd\n2026-06-01,100\n2026-06-03,100\n", "consecutive"),
        ("date,price_usd\n2026-06-01,-5\n", "> 0"),
        ("date,price_usd\n2026-06-01,abc\n", "price"),
        ("date,price_usd\nyesterday,5\n", "ISO date"),
        ("date,price_usd\n", "at least one"),
    ]:
        with pytest.raises(InputError) as err:
            parse_price_csv(text, field="--price-path")
        assert err.value.field == "--price-path" and needle in str(err.value)


def test_prepare_price_models() -> None:
    path = prepare_price(PathPrice(prices_usd=[100.0, 110.0, 121.0]), 3)
    assert path.start_price_usd == 100.0
    assert path.deterministic[:2] == pytest.approx([0.0953101798, 0.0953101798])
    gbm = prepare_price(GbmPrice(vol=0.365**0.5 * 0.1), 10)
    assert gbm.sigma_daily == pytest.approx(0.1 / 365**0.5 * 0.365**0.5 * 365**0.5 / 365**0.5)
    with pytest.raises(InputError) as err:
        prepare_price(PathPrice(prices_usd=[100.0, 110.0]), 3)
    assert err.value.field == "price.prices_usd"
