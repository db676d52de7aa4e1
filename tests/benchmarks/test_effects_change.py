"""benchmarks.effects_change: which estimates stayed identical, how far the others moved, which verdicts changed."""
from __future__ import annotations

import pandas as pd

from benchmarks.effects_change import compare, to_markdown


def _write(folder, effects, refutations):
    folder.mkdir()
    pd.DataFrame(effects).to_csv(folder / "effects.csv", index=False)
    pd.DataFrame(refutations).to_csv(folder / "refutations.csv", index=False)


def _row(method, estimate, se, outcome="cancel"):
    return {"treatment": "any", "outcome": outcome, "horizon": 1, "method": method, "estimand": "ATE",
            "estimate": estimate, "se": se}


def _ref(refuter, passed):
    return {"treatment": "any", "outcome": "cancel", "horizon": 1, "method": "dml", "refuter": refuter,
            "passed": passed}


def test_identical_rows_shifts_in_se_and_changed_verdicts(tmp_path):
    _write(tmp_path / "before", [_row("naive", 0.5, 0.1), _row("dml", 1.0, 0.2), _row("dml", 2.0, 0.5, "upgrade"),
                                 _row("dml", 0.01, 0.002, "cancel_rate")],
           [_ref("placebo_treatment", True), _ref("bootstrap", True)])
    _write(tmp_path / "after", [_row("naive", 0.5, 0.1), _row("dml", 1.1, 0.2), _row("dml", 1.7, 0.5, "upgrade"),
                                _row("dml", 0.01, 0.002, "cancel_rate")],
           [_ref("placebo_treatment", True), _ref("bootstrap", False)])
    figures = compare(tmp_path / "before", tmp_path / "after")
    by_method = {m["method"]: m for m in figures["methods"]}
    assert by_method["naive"] == {"method": "naive", "rows": 1, "identical": 1, "median_shift_in_se": 0.0,
                                  "max_shift_in_se": 0.0, "median_se_ratio": 1.0}
    assert by_method["dml"]["identical"] == 0
    assert by_method["dml"]["max_shift_in_se"] == 0.6  # (2.0 - 1.7) / 0.5
    assert by_method["dml"]["median_shift_in_se"] == 0.55  # of 0.5 and 0.6
    assert by_method["dml (cancel_rate)"]["identical"] == 1
    assert figures["refutations_same_verdict"] == 1
    assert figures["changed_verdicts"] == [{"treatment": "any", "outcome": "cancel", "horizon": 1, "method": "dml",
                                            "refuter": "bootstrap"}]
    text = to_markdown(figures)
    assert "| dml | 2 | 0 | 0.55 | 0.6 | 1.0 |" in text
    assert "1 of 2 gave the same verdict (passed 2 before, 1 after): changed any / cancel / 1 / dml / bootstrap" in text
