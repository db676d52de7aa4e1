"""On simulated data with different planted effects, the rendered recommendations agree with the memo's tables.

Small runs (2,000 customers; the refutation stage is left out) with the
simulator's ``effect_scale`` 1 (the default), 0 (no effect) and -1 (effects
of the opposite sign). The checks read the results files and the rendered
HTML directly, not the claims code.
"""
from __future__ import annotations

import re

import pandas as pd
import pytest

from causal.report.render import render_report
from tests.causal.report.report_fixture import (assert_number_matches_effects, marked_numbers, normal_text,
                                                section_texts)

pytestmark = pytest.mark.slow
N_CUSTOMERS, SEED = 2_000, 5


@pytest.fixture(scope="module", params=[1.0, 0.0, -1.0], ids=["default", "no_effect", "opposite"])
def scenario_memo(request, tmp_path_factory):
    from analysis.simulator import simulate
    from causal.pipeline import run_pipeline

    base = tmp_path_factory.mktemp(f"scenario_{request.param:g}")
    simulate(base / "data", n_customers=N_CUSTOMERS, seed=SEED, effect_scale=request.param)
    run_pipeline(data_dir=base / "data", results_dir=base / "results", processed_dir=base / "processed",
                 seed=SEED, jobs=1, stages="data,panel,estimate,segments")
    html, _ = render_report(base / "results", base / "reports", engine="fallback")
    return base / "results", section_texts(html.read_text()), html.read_text()


def _headline(results, outcome: str) -> pd.Series:
    effects = pd.read_csv(results / "effects.csv")
    rows = effects[(effects.treatment == "any") & (effects.outcome == outcome) & (effects.method == "dml")
                   & (effects.estimand == "ATE")]
    return rows.sort_values("horizon").iloc[-1]


def test_summary_gives_the_dollar_cancellation_rate_with_its_interval(scenario_memo):
    results, sections, html = scenario_memo
    assert "dollar cancellation rate" in sections["executive-summary"]
    effects = pd.read_csv(results / "effects.csv")
    numbers = [n for n in marked_numbers(html) if n["data-row"].split("|")[1] == "cancel_rate"]
    assert {n["data-field"] for n in numbers} == {"estimate", "ci_low", "ci_high"}
    for number in numbers:
        assert_number_matches_effects(number, effects)


def test_recommendations_agree_with_the_tables(scenario_memo):
    results, sections, _ = scenario_memo
    text = sections["recommendations"]
    rate, cancel, upgrade = (_headline(results, o) for o in ("cancel_rate", "cancel", "upgrade"))
    rate_good, cancel_good = rate.ci_high < 0, cancel.ci_high < 0
    assert ("keeps customers' MRR" in text) == rate_good
    assert bool(re.search(r"keeps customers(?!')", text)) == cancel_good
    pushing = rate_good or cancel_good or upgrade.ci_low > 0
    assert ("part of their playbook" in text) == pushing
    targeting = pd.read_csv(results / "targeting.csv") if (results / "targeting.csv").is_file() else None
    if targeting is not None and pushing:
        pick = targeting[(targeting.strategy == "policy_rule_minus_random") & (targeting.metric == "mrr_kept_per_1000")]
        share = targeting.loc[targeting.strategy == "policy_rule", "share_targeted"]
        pays = len(pick) and pick.ci_low.iloc[0] > 0 and 0 < share.min() and share.max() < 1
        assert ("Start with the customers where it pays most" in text) == bool(pays)
    else:
        assert "Start with" not in text
    if not pushing:
        assert "offer it broadly" not in text.lower()


def test_summary_dollars_are_per_1000_adoptions(scenario_memo):
    results, sections, _ = scenario_memo
    summary = normal_text(sections["executive-summary"])
    assert "1,000 adoptions" in summary and " a year" not in summary
