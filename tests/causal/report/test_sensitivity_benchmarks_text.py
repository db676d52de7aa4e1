"""The robustness paragraph words sensitivity against measured factors, from sensitivity.json's numbers."""
from __future__ import annotations

import json

import pandas as pd

from causal.report.inputs import load_memo_inputs
from causal.report.sections.robustness import benchmark_sentence, sensitivity_text
from tests.causal.report.report_fixture import write_fixture_results


def _with_benchmarks(tmp_path, shift=0.008, widen=1.0):
    results = write_fixture_results(tmp_path / "results")
    effects = pd.read_csv(results / "effects.csv")
    sensitivity = json.loads((results / "sensitivity.json").read_text())
    sensitivity["benchmarks"] = []
    for outcome in ("cancel", "upgrade"):
        for horizon in (1, 2, 3):
            row = effects[(effects.treatment == "any") & (effects.outcome == outcome) & (effects.horizon == horizon)
                          & (effects.method == "dml")].iloc[0]
            sign = -1.0 if row.estimate < 0 else 1.0
            by = {}
            for k, name in enumerate(("tier", "MRR", "segment")):
                moved = row.estimate - sign * shift / (k + 1)
                half = widen * (row.ci_high - row.ci_low) / 2
                by[name] = {"r2_dz": 0.02, "r2_yz": 0.01, "adjusted_estimate": moved,
                            "adjusted_ci_low": moved - half, "adjusted_ci_high": moved + half}
            sensitivity["benchmarks"].append({"treatment": "any", "outcome": outcome, "horizon": horizon,
                                              "method": "dml", "estimate": row.estimate, "by_covariate": by})
    (results / "sensitivity.json").write_text(json.dumps(sensitivity))
    return results, effects


def test_sentence_quotes_the_file_numbers_in_points(tmp_path):
    results, effects = _with_benchmarks(tmp_path)
    inputs = load_memo_inputs(results)
    text = benchmark_sentence(inputs, "cancel")
    row = effects[(effects.outcome == "cancel") & (effects.horizon == 3) & (effects.method == "dml")].iloc[0]
    sensitivity = json.loads((results / "sensitivity.json").read_text())
    tier = next(e for e in sensitivity["benchmarks"] if e["outcome"] == "cancel" and e["horizon"] == 3)
    moved = tier["by_covariate"]["tier"]["adjusted_estimate"]
    assert "a hidden factor as strong as tier" in text and "over the next 3 months" in text
    assert f"from {row.estimate * 100:.1f}".replace("-", "\u2212") in text
    assert f"to {moved * 100:.1f}".replace("-", "\u2212") in text
    assert "as strong as MRR" in text and "as strong as segment" in text
    assert benchmark_sentence(inputs, "cancel") in sensitivity_text(inputs)


def test_sentence_says_when_the_moved_interval_includes_zero(tmp_path):
    results, _ = _with_benchmarks(tmp_path, widen=50.0)
    assert "would then include zero" in benchmark_sentence(load_memo_inputs(results), "cancel")


def test_no_benchmarks_no_sentence(tmp_path):
    results = write_fixture_results(tmp_path / "results")
    assert benchmark_sentence(load_memo_inputs(results), "cancel") == ""
