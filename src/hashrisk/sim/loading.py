"""Completing a scenario with the content of the files and the stored history it refers to, without I/O.

A scenario file may name other files (``price.csv``, ``fleet.file``, relative to the scenario's folder) and
ask for the stored price history (``price.from_store: true``). The shells read those files and the store;
this module says what to read and folds the content in::

    scenario = Scenario.from_yaml_text(text, origin=path)
    texts = {ref.field: read(folder / ref.path) for ref in file_references(scenario)}   # the shell reads
    scenario = with_referenced_files(scenario, texts, folder=...)
    window = stored_history_request(scenario)                                          # None: nothing to load
    if window is not None:
        scenario = with_price_history(scenario, prices_from_the_store(window), window)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from hashrisk.economics.fleet import FleetSpec
from hashrisk.errors import DataError
from hashrisk.sim.prices import parse_price_csv
from hashrisk.sim.scenario import BootstrapPrice, PathPrice, Scenario


@dataclass(frozen=True)
class FileReference:
    """A file a scenario names: its scenario `field`, its `path` as written, and `what` it must be."""

    field: str
    path: str
    what: str


@dataclass(frozen=True)
class HistoryWindow:
    """The stored days a bootstrap price model asks for (None: from the first / to the last stored day)."""

    start: dt.date | None
    end: dt.date | None


def file_references(scenario: Scenario) -> list[FileReference]:
    """The files `scenario` names and has not loaded yet, in the order they are loaded."""
    refs: list[FileReference] = []
    price = scenario.price
    if isinstance(price, PathPrice | BootstrapPrice) and price.csv is not None and price.prices_usd is None:
        refs.append(FileReference("price.csv", price.csv, "CSV file date,price_usd"))
    if scenario.fleet.file is not None and scenario.fleet.spec is None:
        refs.append(FileReference("fleet.file", scenario.fleet.file, "TOML file"))
    return refs


def with_referenced_files(
    scenario: Scenario, texts: Mapping[str, str], folder: str | PurePath = "."
) -> Scenario:
    """`scenario` with the content of its :func:`file_references` parsed into it.

    Parameters
    ----------
    scenario : Scenario
        A scenario whose references are not loaded yet.
    texts : mapping of str to str
        The text of each referenced file, keyed by the reference's field (``price.csv``, ``fleet.file``).
    folder : str or path
        The scenario file's folder, for the origins named in error messages.

    Returns
    -------
    Scenario
        With ``price.prices_usd``/``price.dates`` and ``fleet.spec`` filled in.

    Raises
    ------
    InputError
        For an invalid CSV or fleet TOML (the field is named).
    """
    updates: dict[str, Any] = {}
    for ref in file_references(scenario):
        text = texts[ref.field]
        if ref.field == "price.csv":
            dates, prices = parse_price_csv(text, field=ref.field)
            updates.update({"price.prices_usd": prices, "price.dates": dates})
        else:
            spec = FleetSpec.from_toml_text(text, origin=str(PurePath(folder) / ref.path))
            updates["fleet.spec"] = spec.model_dump()
    return scenario.with_params(updates) if updates else scenario


def with_options(
    scenario: Scenario,
    *,
    paths: int | None = None,
    horizon_days: int | None = None,
    seed: int | None = None,
    start: str | None = None,
    price_path: tuple[list[dt.date], list[float]] | None = None,
    fleet: FleetSpec | None = None,
) -> Scenario:
    """`scenario` with the overrides a user gave (None: keep the scenario's).

    `price_path` (dates, prices) switches to the deterministic ``path`` price model; `fleet` replaces the
    fleet spec; `start` is the day of the stored snapshot to start from (``YYYY-MM-DD``).
    """
    params: dict[str, Any] = {}
    if paths is not None:
        params["paths"] = paths
    if horizon_days is not None:
        params["horizon_days"] = horizon_days
    if seed is not None:
        params["seed"] = seed
    if start is not None:
        params["start.start_date"] = start
    if price_path is not None:
        dates, prices = price_path
        params.update({"price.model": "path", "price.prices_usd": prices, "price.dates": dates})
    if fleet is not None:
        params["fleet.spec"] = fleet.model_dump()
    return scenario.with_params(params) if params else scenario


def stored_history_request(scenario: Scenario) -> HistoryWindow | None:
    """The stored price history `scenario` asks for (``price.from_store``), or None when it needs none."""
    price = scenario.price
    if isinstance(price, BootstrapPrice) and price.from_store and price.log_returns is None:
        return HistoryWindow(price.history_start, price.history_end)
    return None


def daily_log_returns(
    prices_usd: pd.Series, start: dt.date | None = None, end: dt.date | None = None
) -> list[float]:
    """Daily log returns between consecutive days of `prices_usd` (gaps are skipped, not bridged).

    Parameters
    ----------
    prices_usd : pandas.Series
        Daily prices [USD/BTC] indexed by day (missing prices may be NaN).
    start, end : datetime.date, optional
        The window asked for (named in the error message only).

    Raises
    ------
    DataError
        If the series holds no two consecutive days of prices.
    """
    prices = prices_usd.dropna()
    logp = np.log(prices.to_numpy(dtype=np.float64))
    consecutive = np.diff(prices.index.to_numpy()) == np.timedelta64(1, "D")
    returns = np.diff(logp)[consecutive]
    if returns.size == 0:
        raise DataError(
            f"the data store holds no daily price return (two consecutive days) between {start or 'the start'} and "
            f"{end or 'the end'}: import or fetch prices first (`hashrisk data import FILE`)"
        )
    return [float(r) for r in returns]


def with_price_history(scenario: Scenario, prices_usd: pd.Series, window: HistoryWindow) -> Scenario:
    """`scenario` with the daily log returns of the stored `prices_usd` (read over `window`) as its history."""
    return scenario.with_params(
        {"price.log_returns": daily_log_returns(prices_usd, window.start, window.end)}
    )
