"""Session fixture of the Quarto tests: the documented commands run once, their memos shared."""
from __future__ import annotations

import json

import pytest

from analysis import paths

from tests.causal.report.quarto_fixture import documented_clone, quarto_executable, run_documented


@pytest.fixture(scope="session")
def documented_run(tmp_path_factory):
    """Every command of README.md's and docs/report.md's bash blocks, run in a stand-in clone.

    Returns ``{"folder": clone, "records": [...]}``; the clone then holds ``report.html`` / ``report.pdf``
    (``quarto render``), ``reports/memo.*`` (``python -m causal report``, quarto on the PATH) and
    ``reports-fallback/memo.*`` (``MEMO_RENDERER=fallback``), all from the same fixture ``results/``.
    """
    quarto = quarto_executable()
    folder = documented_clone(tmp_path_factory.mktemp("clone"))
    before = repository_outputs()
    records = run_documented(folder, quarto)
    (folder / "documented_commands.json").write_text(json.dumps(records, indent=1))  # what ran, how, how long
    return {"folder": folder, "records": records, "repository_before": before, "repository_after": repository_outputs()}


def repository_outputs() -> dict[str, float]:
    """What a render beside report.qmd would leave in the repository, with modification times."""
    found = {}
    for name in ("report.html", "report.pdf", "report.typ", "report_files", "report.ipynb"):
        path = paths.PROJ_ROOT / name
        if path.exists():
            found[name] = path.stat().st_mtime
    return found
