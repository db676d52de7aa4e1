"""On data with a hidden confounder, the rendered memo does not call the cancellation effect robust.

The simulator's hidden-factor option plants a stable account factor, never written to the
extracts, that raises adoption and lowers cancellation: selection on observables then
overstates the cancellation effect. The whole pipeline runs on it, the memo is rendered with
the real Quarto CLI, and the memo must say the effect may be overstated, with the
negative-control signal, and never that it is robust.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis import results_contract
from tests.causal.report.memo_text import memo_text
from tests.causal.report.quarto_fixture import quarto_executable

pytestmark = [pytest.mark.slow, pytest.mark.quarto]
ROOT = Path(__file__).resolve().parents[3]
ROBUST = "we call the cancellation effect robust"


@pytest.fixture(scope="module")
def hidden_factor_memo(tmp_path_factory):
    from analysis.simulator import simulate
    from causal.pipeline import run_pipeline

    quarto = quarto_executable()
    base = tmp_path_factory.mktemp("hidden")
    data, results, reports = base / "data", base / "results", base / "reports"
    simulate(out_dir=data, n_customers=6000, seed=2, hidden_factor=1.5)
    run_pipeline(data_dir=data, results_dir=results, processed_dir=base / "processed", seed=2, jobs=1, n_bootstrap=50)
    env = {**os.environ, "MEMO_RENDERER": "quarto", "PATH": f"{Path(quarto).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-m", "causal", "report", "--results", str(results), "--out", str(reports)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    return results, memo_text((reports / "memo.html").read_text(encoding="utf-8"))


def test_design_checks_and_event_study_are_in_the_results(hidden_factor_memo):
    results, _ = hidden_factor_memo
    effects = pd.read_csv(results / results_contract.EFFECTS_CSV)
    assert (effects["method"] == "event_study").any()
    refutations = pd.read_csv(results / results_contract.REFUTATIONS_CSV)
    assert {"negative_control", "pre_trend", "strategy_agreement", "estimator_agreement"} <= set(refutations["refuter"])
    control = refutations.loc[(refutations["refuter"] == "negative_control") & (refutations["outcome"] == "cancel")
                              & (refutations["horizon"] == 1)]
    assert len(control) and (control["passed"] == False).any(), control  # noqa: E712


def test_memo_says_the_effect_may_be_overstated_and_never_robust(hidden_factor_memo):
    _, text = hidden_factor_memo
    prose = " ".join(text["sentences"])
    assert ROBUST not in prose
    assert "may be overstated" in prose
    assert "two months before it happened by" in prose  # the size of the negative-control signal
