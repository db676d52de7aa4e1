"""Every command in the bash blocks of README.md and docs/report.md works as written.

The commands run in a stand-in clone (report.qmd, _quarto.yml, a fixture ``results/`` and a
``.venv/bin/python`` that is this Python), one after the other as a reader would type them, with the
real quarto on the PATH and nothing else set (the docs' own ``export`` lines carry over):

- ``quarto render ...``, ``python -m causal report ...`` (also with ``MEMO_RENDERER=fallback``) and
  ``export ...``: run as written;
- ``python -m causal simulate ...``: run as written at 300 customers (``--customers`` replaced);
- ``python -m causal run`` / ``refute``: ``--help`` only (they take minutes at any useful size;
  their own tests run them);
- ``make <target>``: ``make -n`` (a dry run: the target exists and its recipe expands).
"""
from __future__ import annotations

import pytest

from tests.causal.report.quarto_fixture import DOCUMENTED_IN, documented_commands

pytestmark = [pytest.mark.quarto, pytest.mark.slow]


def test_the_docs_give_the_memo_commands():
    commands = documented_commands()
    assert any(c.startswith("quarto render report.qmd") and "-P results_dir:" in c for c in commands), DOCUMENTED_IN
    assert any("-m causal report" in c and "MEMO_RENDERER=fallback" in c for c in commands)
    assert any("QUARTO_PYTHON" in c for c in commands)


def test_every_documented_command_works(documented_run):
    failed = [r for r in documented_run["records"] if r["returncode"] != 0]
    assert not failed, "\n".join(f"{r['command']} (ran: {r['ran']}):\n{r['stderr']}" for r in failed)
    hows = {r["how"] for r in documented_run["records"]}
    assert {"as written", "dry run", "tiny size", "--help"} <= hows


def test_the_documented_renders_wrote_both_memos_and_nothing_in_the_repository(documented_run):
    folder = documented_run["folder"]
    for path in ("report.html", "report.pdf", "reports/memo.html", "reports/memo.pdf",
                 "reports-fallback/memo.html", "reports-fallback/memo.pdf"):
        assert (folder / path).stat().st_size > 10_000, path
    # python -m causal report chose quarto (on the PATH): quarto's page grid is in the HTML
    assert 'id="quarto-content"' in (folder / "reports/memo.html").read_text()
    assert 'id="quarto-content"' not in (folder / "reports-fallback/memo.html").read_text()
    # python -m causal report renders in a build folder of its own: nothing new beside report.qmd
    assert documented_run["repository_after"] == documented_run["repository_before"]
