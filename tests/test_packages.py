"""The experiments packages import cleanly in any order, and test functions stay in tests/.

Each submodule of ``experiments.sensitivity``, ``experiments.sweep`` and
``experiments.experiment`` is imported first in a fresh interpreter state (every
``experiments`` module unloaded before it): an import cycle among them fails there even if
the package's ``__init__`` happens to import its modules in a working order.
"""

from __future__ import annotations

import ast
import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import experiments
import experiments.experiment
import experiments.sensitivity
import experiments.sweep

EXPERIMENTS_DIR = Path(experiments.__file__).resolve().parent
PACKAGES = (experiments.sensitivity, experiments.sweep, experiments.experiment)
# importing each module first, then dropping every experiments module, in one interpreter
IMPORT_EACH_FIRST = """
import importlib, sys
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "experiments" or m.startswith("experiments.")]:
        del sys.modules[loaded]
    importlib.import_module(name)
    print("ok", name)
"""


def submodules() -> list[str]:
    """Every module of the three packages, by dotted name."""
    return [
        f"{package.__name__}.{info.name}"
        for package in PACKAGES
        for info in pkgutil.iter_modules(package.__path__)
    ]


def test_the_packages_have_the_expected_modules() -> None:
    names = submodules()
    for expected in (
        "experiments.sensitivity.design",
        "experiments.sensitivity.analysis",
        "experiments.sensitivity.command",
        "experiments.sweep.backends",
        "experiments.sweep.run",
        "experiments.experiment.loading",
    ):
        assert expected in names


def test_every_submodule_imports_first_without_a_cycle() -> None:
    names = submodules()
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_FIRST, *names],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == [word for name in names for word in ("ok", name)]


def _is_module(name: str) -> bool:
    """Whether ``name`` is an importable module (not a name defined in a module)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # the parent is a module, not a package
        return False


def _module_imports(path: Path) -> set[str]:
    """Dotted names of the ``experiments`` modules a file imports at module level."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("experiments.")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("experiments"):
            module = str(node.module)
            for alias in node.names:  # "from experiments import results" names a module
                candidate = f"{module}.{alias.name}"
                found.add(candidate if _is_module(candidate) else module)
    return found


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_modules_of_a_package_import_each_other_without_a_cycle(package: object) -> None:
    """Within a package, the module-level imports between submodules form no cycle."""
    root = Path(package.__file__).parent  # type: ignore[attr-defined]
    name = package.__name__  # type: ignore[attr-defined]
    graph = {
        f"{name}.{path.stem}": {m for m in _module_imports(path) if m.startswith(f"{name}.")}
        for path in root.glob("*.py")
        if path.stem != "__init__"
    }
    assert all(deps <= set(graph) for deps in graph.values()), graph
    order: list[str] = []
    pending = dict(graph)
    while pending:  # peel off modules whose imports are all placed already
        ready = sorted(m for m, deps in pending.items() if deps <= set(order))
        assert ready, f"import cycle among {sorted(pending)}"
        order += ready
        for module in ready:
            del pending[module]


def test_no_production_module_defines_the_test_functions() -> None:
    """Known-answer functions (Ishigami, ...) live in tests/known_answer.py, not in experiments/."""
    defined = []
    for path in sorted(EXPERIMENTS_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_def = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            if is_def and "ishigami" in node.name.lower():
                defined.append(f"{path.relative_to(EXPERIMENTS_DIR)}: {node.name}")
    assert not defined
    assert "def ishigami(" in (Path(__file__).parent / "known_answer.py").read_text()
