"""The package's one YAML loader refuses bombs, deep nesting and oversized text, fast and without echoing content."""

from __future__ import annotations

import resource
import time

import pytest

from hashrisk._yaml import MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES, load_yaml
from hashrisk.errors import InputError


def _laughs(levels: int, width: int = 9) -> str:
    """The classic "billion laughs": each level a list of `width` aliases of the level below."""
    lines = [f"l0: &l0 [{','.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{','.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def test_plain_documents_and_small_aliases_load() -> None:
    assert load_yaml("a: 1\nb: {c: [2, 3]}\n", "scenario", "s.yaml") == {"a": 1, "b": {"c": [2, 3]}}
    assert load_yaml("", "scenario", "s.yaml") is None
    assert load_yaml("base: &b {x: 1}\nother: *b\n", "grid", "g.yaml") == {
        "base": {"x": 1},
        "other": {"x": 1},
    }


def test_alias_bomb_is_refused_quickly_and_small() -> None:
    bomb = _laughs(9)  # 9**9 = 387,420,489 strings once expanded, from ~350 bytes
    assert len(bomb) < 433
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with pytest.raises(InputError) as err:
        load_yaml(bomb, "grid", "g.yaml")
    assert time.perf_counter() - t0 < 2.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0 < 100_000  # KiB: no expansion happened
    msg = str(err.value)
    assert msg.startswith("grid: got 'g.yaml'") and f"{MAX_YAML_NODES:,}" in msg
    assert "lol" not in msg  # the content is never echoed


def test_expansion_limit_is_exact() -> None:
    """A document of exactly MAX_YAML_NODES expanded nodes loads; one more is refused (hand count)."""
    # a list of n scalars is n + 1 nodes; the mapping adds itself and its key: n + 3
    n = MAX_YAML_NODES - 3
    ok = "k: [" + ", ".join(["1"] * n) + "]\n"
    assert len(load_yaml(ok, "grid", "g.yaml")["k"]) == n
    with pytest.raises(InputError, match="values once its aliases"):
        load_yaml("k: [" + ", ".join(["1"] * (n + 1)) + "]\n", "grid", "g.yaml")


@pytest.mark.parametrize("depth", [MAX_YAML_DEPTH + 1, 3_000])
def test_deep_nesting_is_an_input_error_not_a_recursion_error(depth: int) -> None:
    with pytest.raises(InputError, match=f"nesting at most {MAX_YAML_DEPTH} levels"):
        load_yaml("[" * depth + "]" * depth, "scenario", "s.yaml")
    assert load_yaml("[" * MAX_YAML_DEPTH + "]" * MAX_YAML_DEPTH, "scenario", "s.yaml") is not None


def test_recursive_anchor_and_oversized_and_invalid_text() -> None:
    with pytest.raises(InputError, match="recursive alias"):
        load_yaml("&a [*a]\n", "grid", "g.yaml")
    with pytest.raises(InputError, match=f"{MAX_YAML_BYTES:,} bytes"):
        load_yaml("#" * (MAX_YAML_BYTES + 1), "grid", "g.yaml")
    with pytest.raises(InputError) as err:
        load_yaml("secret: [1, 2\n", "grid", "g.yaml")
    assert "line 2, column 1" in str(err.value) and "secret" not in str(err.value)
