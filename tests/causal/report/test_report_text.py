"""The memo's words follow the numbers: direction by the interval, units, escaping."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from causal.report.inputs import load_memo_inputs
from causal.report.sections.effects import who_adopts
from causal.report.sections.robustness import flagged_sensitivity, refutations_section
from causal.report.sections.segments import segments_section
from causal.report.sections.summary import executive_summary, recommendations
from causal.report.sections.targeting import dollars_sentence, targeting_section, targeting_verdict
from causal.report.tables import best_effect, pipe_table
from causal.report.text import (MINUS, compare_naive, direction, effect_sentence, fmt_dollars, fmt_number,
                                good_or_bad, md_text, verb_for)
from tests.causal.report.report_fixture import write_fixture_results


def _row(estimate, low, high, outcome="cancel", horizon=1, method="dml"):
    return pd.Series({"treatment": "any", "outcome": outcome, "horizon": horizon, "method": method,
                      "estimand": "ATE", "estimate": estimate, "ci_low": low, "ci_high": high})


@pytest.mark.parametrize("estimate, low, high, expected", [
    (-0.012, -0.02, -0.004, "down"),
    (0.012, 0.004, 0.02, "up"),
    (-0.012, -0.03, 0.006, "unclear"),
    (0.0, -0.01, 0.01, "unclear"),
    (-0.01, float("nan"), float("nan"), "unclear"),
])
def test_direction_comes_from_the_interval(estimate, low, high, expected):
    assert direction(_row(estimate, low, high)) == expected


def test_sentences_choose_lowers_raises_or_cannot_tell():
    assert "lowers" in effect_sentence(_row(-0.012, -0.02, -0.004))
    assert "raises" in effect_sentence(_row(0.012, 0.004, 0.02, outcome="upgrade"))
    unclear = effect_sentence(_row(-0.012, -0.03, 0.006))
    assert unclear.startswith("We cannot tell") and "lowers" not in unclear and "raises" not in unclear
    assert verb_for(_row(0.01, 0.001, 0.02)) == "raises"


def test_sentence_states_size_without_sign_and_interval_with_sign():
    sentence = effect_sentence(_row(-0.0123, -0.0201, -0.0047))
    assert "by about 1.2 percentage points" in sentence
    assert f"{MINUS}2.0 to {MINUS}0.5" in sentence


def test_good_or_bad_depends_on_outcome():
    assert good_or_bad("cancel", "down") == "good"
    assert good_or_bad("upgrade", "down") == "bad"
    assert good_or_bad("upgrade", "up") == "good"
    assert good_or_bad("cancel", "unclear") is None


def test_numbers_are_formatted_for_readers():
    assert fmt_number(-1.234, 1) == f"{MINUS}1.2"
    assert fmt_number(-0.04, 1) == "0.0"  # a rounded zero has no sign
    assert fmt_number(12345.6, 0) == "12,346"
    assert fmt_dollars(2_500_000) == "\\$2.5 million"
    assert fmt_dollars(-34_500) == f"{MINUS}\\$34,500"
    assert fmt_dollars(967_657) == "\\$968,000"
    assert md_text("costs $5 and \\$6") == "costs \\$5 and \\$6"
    assert "\\|" in pipe_table(["a"], [["x|y"]])


def test_naive_comparison_words_follow_the_numbers():
    adjusted = _row(-0.01, -0.02, -0.001)
    assert "3.0 times as large" in compare_naive(_row(-0.03, -0.04, -0.02, method="naive"), adjusted)
    assert "opposite way" in compare_naive(_row(0.02, 0.01, 0.03, method="naive"), adjusted)
    assert "understates" in compare_naive(_row(-0.005, -0.01, 0.0, method="naive"), adjusted)
    assert "far larger" in compare_naive(_row(-0.08, -0.09, -0.07, method="naive"), adjusted)
    unclear = _row(0.001, -0.02, 0.022)
    assert "cannot be told apart from zero" in compare_naive(_row(-0.03, -0.04, -0.02, method="naive"), unclear)


def test_best_effect_prefers_dml_at_the_longest_horizon(tmp_path):
    inputs = load_memo_inputs(write_fixture_results(tmp_path / "results"))
    row = best_effect(inputs.effects, "any", "cancel")
    assert (row["method"], row["horizon"]) == ("dml", 3)
    assert best_effect(inputs.effects, "any", "cancel", 1, ("naive",))["method"] == "naive"
    assert best_effect(inputs.effects, "nothing", "cancel") is None


def _flip_effects(results_dir, sign: float, widen: float = 1.0):
    """Rewrite effects.csv with every estimate multiplied by ``sign`` and intervals widened."""
    effects = pd.read_csv(results_dir / "effects.csv")
    centre = effects["estimate"] * sign
    half = (effects["ci_high"] - effects["ci_low"]) / 2 * widen
    effects["estimate"], effects["ci_low"], effects["ci_high"] = centre, centre - half, centre + half
    effects.to_csv(results_dir / "effects.csv", index=False)


def test_summary_and_recommendations_turn_with_the_evidence(tmp_path):
    results = write_fixture_results(tmp_path / "results")
    good = load_memo_inputs(results)
    assert "**Yes.**" in executive_summary(good)
    assert "should make helping customers add an integration" in recommendations(good)

    _flip_effects(results, sign=1.0, widen=40.0)  # same centres, intervals far wider: nothing is clear
    unclear = load_memo_inputs(results)
    text = executive_summary(unclear)
    assert "**Not clearly.**" in text and "We cannot tell" in text and "lowers" not in text
    assert "do not fund a retention program" in recommendations(unclear)

    _flip_effects(results, sign=-1.0, widen=1 / 40.0)  # the opposite of the planted effects
    bad = load_memo_inputs(results)
    assert "**Not in the way hoped.**" in executive_summary(bad)
    assert "raises the chance a customer cancels" in executive_summary(bad)


def test_segment_text_names_groups_with_clear_benefit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # figures are copied beside the render's working directory
    inputs = load_memo_inputs(write_fixture_results(tmp_path / "results"))
    text = segments_section(inputs)
    assert "A clear benefit in" in text and "NAM High-touch (team)" in text


def test_targeting_text_follows_the_held_out_comparison_in_mrr(tmp_path):
    results = write_fixture_results(tmp_path / "results")
    assert targeting_verdict(load_memo_inputs(results))[0] == "better"
    assert "where it pays most: customers with tier Starter / Basic and at most 2 integrations:" in recommendations(
        load_memo_inputs(results))
    values = pd.read_csv(results / "targeting.csv")
    beats = (values.strategy == "policy_rule_minus_random") & (values.metric == "mrr_kept_per_1000")
    values.loc[beats, ["estimate", "ci_low", "ci_high"]] = [-4_700.0, -9_000.0, -300.0]  # more cancellations
    values.to_csv(results / "targeting.csv", index=False)  # avoided (counts still favour the rule), less MRR
    inputs = load_memo_inputs(results)
    assert targeting_verdict(inputs)[0] == "worse"
    assert targeting_verdict(inputs, "cancellations_avoided_per_1000")[0] == "better"
    assert "keeps less MRR than encouraging customers at random" in targeting_section(inputs)
    text = recommendations(inputs)
    assert "No group stands out" in text and "so offer it broadly" in text and "Start with" not in text


def test_dollar_sentence_says_no_reliable_figure_when_interval_covers_zero(tmp_path):
    results = write_fixture_results(tmp_path / "results")
    assert dollars_sentence(load_memo_inputs(results)).startswith("about \\$432,000 of MRR kept a year")
    summary = json.loads((results / "heterogeneity_summary.json").read_text())
    summary["dollars"]["per_year_ci_low"] = -50_000.0
    (results / "heterogeneity_summary.json").write_text(json.dumps(summary))
    assert dollars_sentence(load_memo_inputs(results)).startswith("no reliable dollar figure yet")


def test_who_adopts_is_read_from_the_balance_table(tmp_path):
    results = write_fixture_results(tmp_path / "results")
    assert who_adopts(load_memo_inputs(results)).endswith("higher MRR, more integrations and a higher tier")
    balance = pd.read_csv(results / "balance.csv")
    balance["smd_before"] = -balance["smd_before"]
    balance.to_csv(results / "balance.csv", index=False)
    assert who_adopts(load_memo_inputs(results)).endswith("lower MRR, fewer integrations and a lower tier")
    balance["smd_before"] = 0.01
    balance.to_csv(results / "balance.csv", index=False)
    assert "look alike" in who_adopts(load_memo_inputs(results))


def test_robustness_section_separates_hidden_factor_and_reports_flagged_months(tmp_path):
    inputs = load_memo_inputs(write_fixture_results(tmp_path / "results"))
    text = refutations_section(inputs)
    assert "46 of 48 passed" in text and "12 of 12 estimates survived" in text
    assert "To explain away the cancel estimate" in text
    assert "moves from" in flagged_sensitivity(inputs)


def test_methods_are_compared_like_with_like():
    """dml headlines with its ATE; the comparison table puts PSM's ATT beside DML's ATT, the ATE apart."""
    from causal.report.inputs import MemoInputs
    from causal.report.sections.effects import naive_vs_causal

    base = dict(treatment="any", outcome="cancel", horizon=1, se=0.01, n_units=1000, n_treated=200,
                cohorts="2020-08", interval="cluster-robust by customer")
    rows = [dict(base, method="naive", estimand="ATE", estimate=-0.05, ci_low=-0.07, ci_high=-0.03),
            dict(base, method="psm", estimand="ATT", estimate=-0.021, ci_low=-0.04, ci_high=-0.002),
            dict(base, method="dml", estimand="ATE", estimate=-0.047, ci_low=-0.06, ci_high=-0.034),
            dict(base, method="dml", estimand="ATT", estimate=-0.024, ci_low=-0.035, ci_high=-0.013)]
    effects = pd.DataFrame(rows)
    headline = best_effect(effects, "any", "cancel")
    assert (headline["method"], headline["estimand"]) == ("dml", "ATE")
    table_line = next(line for line in naive_vs_causal(MemoInputs(results_dir=".", effects=effects)).splitlines()
                      if line.startswith("| Cancel"))
    cells = [c.strip() for c in table_line.strip("|").split("|")]
    assert cells[3].startswith(MINUS + "2.1") and cells[4].startswith(MINUS + "2.4") and cells[5].startswith(MINUS + "4.7")
