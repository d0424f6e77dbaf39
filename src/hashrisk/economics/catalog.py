"""The ASIC catalog: SHA-256 miners with their makers' nominal specs, as package data.

Columns: ``maker, model, release_month (YYYY-MM), hashrate_ths [TH/s], power_w [W],
efficiency_j_per_th [J/TH], cooling (air|hydro|immersion), source``. Reading the packaged CSV is the only
I/O here (a resource of the package itself, like a constant table).
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from importlib import resources

import pandas as pd

from hashrisk.errors import InputError, UnknownNameError

CATALOG_COLUMNS = (
    "maker",
    "model",
    "release_month",
    "hashrate_ths",
    "power_w",
    "efficiency_j_per_th",
    "cooling",
    "source",
)


def _key(name: str) -> str:
    """Normalised lookup key: lower case, no spaces/hyphens/underscores, 'antminer'/'whatsminer' optional."""
    key = re.sub(r"[\s\-_]+", "", name.lower())
    return re.sub(r"^(antminer|whatsminer|avalonminer|avalon|bitmain|microbt|canaan)", "", key)


@lru_cache(maxsize=1)
def _load() -> pd.DataFrame:
    with resources.files("hashrisk.economics").joinpath("data/asic_models.csv").open(encoding="utf-8") as fh:
        frame = pd.read_csv(fh, dtype={"release_month": str})
    missing = set(CATALOG_COLUMNS) - set(frame.columns)
    if missing:  # a packaging error, not a user error
        raise RuntimeError(f"asic_models.csv lacks columns {sorted(missing)}")
    frame["release_month"] = pd.PeriodIndex(frame["release_month"], freq="M")
    return frame.loc[:, list(CATALOG_COLUMNS)].sort_values(
        ["release_month", "maker", "model"], ignore_index=True
    )


def load_catalog(released_by: str | pd.Period | None = None) -> pd.DataFrame:
    """The catalog as a DataFrame (a copy), optionally only models released by a month (``"2026-06"``)."""
    frame = _load().copy()
    if released_by is not None:
        frame = frame[frame["release_month"] <= _month(released_by)].reset_index(drop=True)
    return frame


def _month(value: str | pd.Period) -> pd.Period:
    if isinstance(value, pd.Period):
        return value.asfreq("M")
    if not re.fullmatch(r"\d{4}-\d{2}", str(value)):
        raise InputError("released_by", value, "a month as YYYY-MM, e.g. 2026-06")
    return pd.Period(value, freq="M")


@lru_cache(maxsize=4)
def _positions(frame_id: int) -> dict[str, list[int]]:
    """Row positions of each lookup key of the loaded catalog (keyed by the frame's id, so a reload
    rebuilds it); makes :func:`find_model` a dictionary lookup (the vintage fleet calls it per month)."""
    out: dict[str, list[int]] = {}
    for i, model in enumerate(_load()["model"]):
        out.setdefault(_key(str(model)), []).append(i)
    return out


def find_model(name: str) -> pd.Series:
    """One catalog row by model name (case, spaces, hyphens and the maker prefix are ignored).

    Raises
    ------
    UnknownNameError
        If no model matches; the message suggests the closest names.
    """
    frame = _load()
    positions = _positions(id(frame)).get(_key(name), [])
    if len(positions) == 1:
        return frame.iloc[positions[0]].copy()
    keys = frame["model"].map(_key)
    names = list(frame["model"])
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.4) or difflib.get_close_matches(
        _key(name), list(keys), n=3, cutoff=0.4
    )
    if close and close[0] not in names:
        close = [names[list(keys).index(k)] for k in close]
    hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else "see `hashrisk models`"
    raise UnknownNameError("model", name, "a model name from the ASIC catalog", hint)
