"""Every number in a packaged default input file is labelled: a fact with its source, or an assumption."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from hashrisk.flows.inputs import PROVENANCE_PREFIXES, leaf_paths, packaged_files, packaged_text

META_KEYS = ("sources", "uncertainty")  # provenance strings and the half-widths of the inputs' uncertainty


def _all_paths(obj: Any, prefix: str = "") -> list[str]:
    """Dotted paths of every leaf (numbers, strings, dates)."""
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _all_paths(v, f"{prefix}.{k}" if prefix else str(k))]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _all_paths(v, f"{prefix}.{i}")]
    return [prefix]


def test_the_packaged_files_are_there() -> None:
    assert packaged_files() == [
        "btc_flows_2026-06.yaml",
        "hpc_site_template.yaml",
        "pensions_2025q3_jpm.yaml",
        "pensions_2026q2_jpm.yaml",
    ]


@pytest.mark.parametrize("name", packaged_files())
def test_every_packaged_number_has_a_fact_or_assumption_label(name: str) -> None:
    raw: dict[str, Any] = yaml.safe_load(packaged_text(name))
    sources: dict[str, str] = raw.get("sources", {})
    body = {k: v for k, v in raw.items() if k not in META_KEYS}
    paths = leaf_paths(body)
    assert paths
    for path in paths:
        parts = path.split(".")
        ancestors = [".".join(parts[:i]) for i in range(len(parts), 0, -1)]
        label = next((sources[k] for k in ancestors if k in sources), None)
        assert label is not None, f"{name}: {path} has no provenance"
        assert label.startswith(PROVENANCE_PREFIXES), f"{name}: {path}: {label!r}"
        if label.startswith("fact:"):
            assert any(ch.isdigit() for ch in label), f"{name}: {path}: a fact needs its source's date"
    every = _all_paths(body)
    for key in sources:  # no stale labels for fields that no longer exist
        assert any(p == key or p.startswith(key + ".") for p in every), f"{name}: stale {key}"
    for path in raw.get("uncertainty", {}):
        assert any(p == path or p.startswith(path + ".") for p in paths), f"{name}: uncertainty on {path}"
