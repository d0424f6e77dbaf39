"""Input files of the flows and of the AI/HPC model: YAML/JSON text -> validated pydantic model, packaged defaults.

Public helpers shared by :mod:`hashrisk.flows` and :mod:`hashrisk.hpc` (and the provenance tests).

Every default number in a packaged input file carries a provenance string in the file's ``sources`` table,
keyed by the dotted path of the field, starting with ``fact:`` (with the source and its date) or
``assumption:`` (a labelled guess the user can override). Tests enforce that rule on the packaged files.
"""

from __future__ import annotations

from importlib import resources
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from hashrisk._yaml import load_yaml
from hashrisk.errors import InputError, from_validation_error

M = TypeVar("M", bound=BaseModel)

PROVENANCE_PREFIXES = ("fact:", "assumption:")
"""Every provenance string of a packaged default starts with one of these."""


def parse_yaml_mapping(text: str, origin: str, field: str) -> dict[str, Any]:
    """A YAML (or JSON) document that must be a mapping; errors name `field` and `origin`."""
    raw = load_yaml(text, field, origin)
    if not isinstance(raw, dict):
        raise InputError(field, origin, "a YAML mapping (key: value lines) at the top level")
    return raw


def model_from_dict(cls: type[M], raw: Any, origin: str) -> M:
    """Validate a mapping against `cls`; any problem is an :class:`InputError` naming the field."""
    try:
        return cls.model_validate(raw)
    except ValidationError as exc:
        raise from_validation_error(exc, origin) from None


def model_from_yaml(cls: type[M], text: str, origin: str, field: str) -> M:
    """Validate a YAML document against `cls`; any problem is an :class:`InputError` naming the field."""
    return model_from_dict(cls, parse_yaml_mapping(text, origin, field), origin)


def packaged_text(name: str) -> str:
    """Text of a packaged default input file in ``hashrisk/flows/data``."""
    return resources.files("hashrisk.flows").joinpath(f"data/{name}").read_text("utf-8")


def packaged_files() -> list[str]:
    """Names of the packaged default input files."""
    folder = resources.files("hashrisk.flows").joinpath("data")
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".yaml"))


def leaf_paths(obj: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the numeric leaves of a nested dict/list (booleans and strings excluded)."""
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += leaf_paths(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += leaf_paths(v, f"{prefix}.{i}")
    elif isinstance(obj, int | float) and not isinstance(obj, bool):
        out.append(prefix)
    return out
