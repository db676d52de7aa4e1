"""The pipeline benchmark reads /usr/bin/time -v right, and the coverage check counts right."""
from __future__ import annotations

import pandas as pd

from benchmarks.pipeline import _time_v_figures
from benchmarks.pipeline_coverage import coverage_table

TIME_V = """\tCommand being timed: "python -m causal run"
\tUser time (seconds): 301.52
\tSystem time (seconds): 12.40
\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:02:03.5
\tMaximum resident set size (kbytes): 2345678
"""


def test_time_v_report_is_parsed():
    assert _time_v_figures(TIME_V) == {"wall_s": 3723.5, "max_rss_gb": 2.35, "cpu_s": 313.9}
    assert _time_v_figures(TIME_V.replace("1:02:03.5", "2:59.50"))["wall_s"] == 179.5  # m:ss form
    assert _time_v_figures("no report") == {}


def _row(method, estimand, estimate, low, high, outcome="cancel"):
    return {"treatment": "any", "outcome": outcome, "horizon": 1, "method": method, "estimand": estimand,
            "estimate": estimate, "ci_low": low, "ci_high": high}


def test_coverage_counts_each_interval_against_its_own_truth():
    effects = pd.DataFrame([_row("dml", "ATT", -0.02, -0.03, -0.01), _row("psm", "ATT", -0.02, -0.05, 0.01),
                            _row("dml", "ATE", -0.01, -0.012, -0.008),
                            _row("dml", "ATT", 0.0, -0.01, 0.01, "upgrade"), _row("psm", "ATT", 0.0, -0.001, 0.001, "upgrade"),
                            _row("dml", "ATE", 0.0, -0.01, 0.01, "upgrade")])
    truth = pd.DataFrame([{"treatment": "any", "outcome": o, "horizon": 1, "cohort": "pooled", "group_var": "all",
                           "att": att, "ate": ate} for o, att, ate in (("cancel", -0.025, -0.02), ("upgrade", 0.005, 0.0))]
                         + [{"treatment": "any", "outcome": "cancel", "horizon": 1, "cohort": "2020-08",
                             "group_var": "all", "att": 9.0, "ate": 9.0}])
    table = coverage_table(effects, truth).set_index("outcome")
    assert table.loc["cancel", ["dml_att_covers", "psm_att_covers", "dml_ate_covers"]].tolist() == [True, True, False]
    assert table.loc["upgrade", ["dml_att_covers", "psm_att_covers", "dml_ate_covers"]].tolist() == [True, False, True]
    assert table["dml_att_narrower"].tolist() == [True, False]
