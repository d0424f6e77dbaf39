"""The one YAML loader of the package: PyYAML's safe loader with limits on size, aliases and nesting.

A user-written YAML file (scenario, sweep grid, flow and AI/HPC inputs) can be hostile or careless: a few hundred
bytes of nested aliases ("billion laughs") expand into gigabytes once anything walks the result, and a document
nested thousands of levels deep overflows the parser's recursion. Every YAML document the package reads goes
through :func:`load_yaml`, which refuses such input with an :class:`~hashrisk.errors.InputError` naming the
field and never echoes the document's content.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from hashrisk.errors import InputError

MAX_YAML_BYTES = 1_000_000
"""Largest YAML document read [bytes] (labelled limit: input files of hashrisk are a few KiB)."""
MAX_YAML_NODES = 100_000
"""Most nodes in a document once its aliases are expanded (labelled limit; hashrisk's inputs have hundreds; a
433-byte "billion laughs" bomb has hundreds of millions)."""
MAX_YAML_DEPTH = 64
"""Deepest nesting of mappings and sequences (labelled limit; hashrisk's schemas nest at most 5 levels)."""


class _LimitError(Exception):
    def __init__(self, what: str) -> None:
        self.what = what


class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader that limits nesting while it composes the node graph."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _LimitError(f"nesting at most {MAX_YAML_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _expanded_nodes(root: Node) -> int:
    """Nodes of the document with every alias expanded (an alias counts its target's whole subtree again).

    Aliases make the node graph a DAG (or a cycle, for a recursive anchor); sizes are memoised per node, so this
    costs one visit per distinct node however large the expansion is.
    """
    sizes: dict[int, int] = {}
    visiting: set[int] = set()

    def size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in visiting:
            raise _LimitError("no recursive alias (an anchor used inside itself)")
        visiting.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        visiting.discard(key)
        sizes[key] = min(total, MAX_YAML_NODES + 1)
        return sizes[key]

    return size(root)


def load_yaml(text: str, field: str, origin: str) -> Any:
    """Parse one YAML (or JSON) document with the limits above.

    Parameters
    ----------
    text : str
        The document.
    field : str
        The input it came from, named in errors (``"scenario"``, ``"grid"``, ``"--site"``).
    origin : str
        Where the text was read (a file name), named in errors as the value.

    Returns
    -------
    Any
        The parsed document (``None`` for an empty one).

    Raises
    ------
    InputError
        Text over :data:`MAX_YAML_BYTES`, invalid YAML (with the parser's line and column, not the content), more
        than :data:`MAX_YAML_NODES` nodes once aliases are expanded, or a nesting deeper than
        :data:`MAX_YAML_DEPTH`.
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_YAML_BYTES:
        raise InputError(field, origin, f"a YAML document of at most {MAX_YAML_BYTES:,} bytes")
    loader = _LimitedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_nodes(node) > MAX_YAML_NODES:
            raise _LimitError(f"at most {MAX_YAML_NODES:,} values once its aliases (*name) are expanded")
        return loader.construct_document(node)
    except _LimitError as exc:
        raise InputError(field, origin, f"a YAML document with {exc.what}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise InputError(
            field, origin, f"a valid YAML document ({exc.problem or 'parse error'}{where})"
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(field, origin, f"a valid YAML document ({exc.__class__.__name__})") from None
    except RecursionError:  # pragma: no cover - the depth limit fires first
        raise InputError(field, origin, f"nesting at most {MAX_YAML_DEPTH} levels deep") from None
    finally:
        loader.dispose()
