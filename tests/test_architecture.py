"""The import contract of DESIGN.md, enforced: layers, models without I/O, data/ beside the layers, no cycles.

The contracts live in pyproject.toml (``[tool.importlinter]``) so that ``lint-imports`` checks the same thing
from the command line; these tests run them and add what import-linter does not say by itself.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "pyproject.toml"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("hashrisk")


def _contracts() -> list[dict[str, object]]:
    return tomllib.loads(CONFIG.read_text())["tool"]["importlinter"]["contracts"]  # type: ignore[no-any-return]


def test_import_contracts_hold() -> None:
    """Every contract of pyproject.toml is kept (import-linter prints the offending chain when one breaks)."""
    assert lint_imports(config_filename=str(CONFIG), no_cache=True, no_logo=True) == 0


def test_no_import_cycles(graph: grimp.ImportGraph) -> None:
    """No module of the package imports itself through others (Tarjan's strongly connected components)."""
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.find_modules_directly_imported_by(v)):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for m in modules:
        if m not in index:
            visit(m)
    assert cycles == []


def test_every_io_module_of_data_is_forbidden_to_the_models(graph: grimp.ImportGraph) -> None:
    """A new connector or store module is covered by the no-I/O contract as soon as it is added."""
    (no_io,) = [c for c in _contracts() if str(c["name"]).startswith("models do no I/O")]
    forbidden = set(no_io["forbidden_modules"])  # type: ignore[call-overload]
    data_modules = {m for m in graph.find_children("hashrisk.data")}
    value_objects = {"hashrisk.data.snapshot"}
    assert data_modules - value_objects <= forbidden, sorted(data_modules - value_objects - forbidden)


def test_contract_catches_a_violation(tmp_path: Path) -> None:
    """The contract is live: a module of economics/ that imports the store makes lint-imports fail.

    Runs on a copy of the package (the working tree is left alone).
    """
    import shutil

    pkg = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "hashrisk", pkg / "hashrisk")
    (pkg / "hashrisk" / "economics" / "_violation.py").write_text("import hashrisk.data.store\n")
    proc = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(pkg)!r}); "
         f"from importlinter.cli import lint_imports; "
         f"sys.exit(lint_imports(config_filename={str(CONFIG)!r}, no_cache=True, no_logo=True))"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "hashrisk.economics._violation -> hashrisk.data.store" in proc.stdout


def test_web_and_report_load_without_typer_or_rich() -> None:
    """A fresh interpreter that imports the web app and the report has not imported typer or rich."""
    code = (
        "import sys, hashrisk.web.app, hashrisk.report\n"
        "bad = sorted(m for m in ('typer', 'rich') if m in sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
