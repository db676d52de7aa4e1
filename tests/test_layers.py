"""The package layout as a contract: layers one way, no cycles, no private names across modules.

``lint-imports`` reads the contracts in pyproject.toml. These tests run it on the
repository, and on a copy with one upward import planted, which it must refuse.
"""
from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import paths

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("analysis", "causal")


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / "pyproject.toml")], cwd=root,
                          capture_output=True, text=True, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


def _copy(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(paths.PROJ_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(paths.PROJ_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_repository_keeps_every_contract():
    result = _lint(paths.PROJ_ROOT)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("module, upward", [
    ("analysis/data/model.py", "from causal import pipeline"),  # analysis must not use causal
    ("causal/estimate/stage.py", "from causal.refute import refuters"),  # estimate sits below refute
    ("causal/report/sections/effects.py", "from causal.estimate import estimators"),  # the memo reads files only
    ("analysis/data/load.py", "from analysis.panel import stage"),  # the data layer sits below the panel
])
def test_an_upward_import_breaks_a_contract(tmp_path, module, upward):
    root = _copy(tmp_path)
    target = root / module
    target.write_text(target.read_text() + f"\n{upward}  # planted by the test\n")
    result = _lint(root)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout


def test_a_cycle_between_sibling_modules_breaks_a_contract(tmp_path):
    root = _copy(tmp_path)
    target = root / "causal/estimate/design.py"  # stage imports design; design importing stage closes a cycle
    target.write_text(target.read_text() + "\nfrom causal.estimate import stage  # planted by the test\n")
    result = _lint(root)
    assert result.returncode != 0 and "BROKEN" in result.stdout


def _private_imports(path: Path) -> list[str]:
    """``from x import _name`` and ``module._name`` uses of the project's modules in one file."""
    tree = ast.parse(path.read_text())
    found, modules = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES + ("tests",):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.name}:{node.lineno} from {node.module} import {alias.name}")
                modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules.update(a.asname for a in node.names if a.asname and a.name.split(".")[0] in PACKAGES)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name) and node.value.id in modules):
            found.append(f"{path.name}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    files = [p for folder in PACKAGES + ("tests", "benchmarks") for p in (paths.PROJ_ROOT / folder).rglob("*.py")]
    offenders = [hit for path in files for hit in _private_imports(path)]
    assert offenders == []


def test_the_private_name_check_sees_a_planted_use(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("from causal.estimate import tasks as t\nfrom causal.estimate.tasks import _run_one\n"
                       "t._PANELS.clear()\n")
    assert len(_private_imports(planted)) == 2
