"""Claims: each sentence of the summary and recommendations is licensed by a rule over the results files.

Results folders are built in which each rule holds and in which it fails; the
rendered memo (fallback renderer) is read back and checked against claims.json.
"""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from causal.report.sections.claims import build_claims, memo_claims, plain
from causal.report.inputs import load_memo_inputs
from causal.report.render import render_report
from tests.causal.report.report_fixture import normal_text, section_texts, write_fixture_results


def _claims(results) -> dict:
    return {c.id: c for c in build_claims(load_memo_inputs(results))}


def _set_effect(results, outcome: str, estimate: float, low: float, high: float) -> None:
    """Give every (any, outcome) row of effects.csv the same estimate and interval."""
    effects = pd.read_csv(results / "effects.csv")
    rows = (effects.treatment == "any") & (effects.outcome == outcome)
    effects.loc[rows, ["estimate", "ci_low", "ci_high"]] = [estimate, low, high]
    effects.to_csv(results / "effects.csv", index=False)


def _set_targeting(results, strategy: str, metric: str, **values) -> None:
    frame = pd.read_csv(results / "targeting.csv")
    rows = (frame.strategy == strategy) & (frame.metric == metric)
    for column, value in values.items():
        frame.loc[rows, column] = value
    frame.to_csv(results / "targeting.csv", index=False)


def _set_stage(results, stage: str, status: str, outputs: dict | None = None, reasons=()) -> None:
    info = json.loads((results / "run_info.json").read_text())
    info.setdefault("stages", {})[stage] = {"status": status, "seconds": 1.0, "counts": {},
                                            "reasons": list(reasons), "outputs": outputs or {}}
    (results / "run_info.json").write_text(json.dumps(info))


@pytest.fixture
def results(tmp_path):
    return write_fixture_results(tmp_path / "results", seed=3)


def test_keeps_customers_needs_the_main_cancellation_interval_below_zero(results):
    claims = _claims(results)
    assert "keeps customers' MRR" in claims["push_adoption"].sentence
    _set_effect(results, "cancel_rate", -0.01, -0.03, 0.01)
    _set_effect(results, "cancel", -0.01, -0.03, 0.01)
    claims = _claims(results)
    assert "keeps customers" not in claims["push_adoption"].sentence  # the upgrade effect still carries it
    assert "moves them up a tier" in claims["push_adoption"].sentence
    assert "We cannot tell" in claims["dollar_cancellation_rate"].sentence
    _set_effect(results, "upgrade", 0.01, -0.01, 0.03)
    _set_effect(results, "cancel_dollars", -1.0, -3.0, 1.0)
    claims = _claims(results)
    assert "push_adoption" not in claims and "no_clear_effect" in claims
    assert claims["lead_answer"].sentence == "**Not clearly.**"
    assert "cannot tell" in claims["mrr_per_1000_adoptions"].sentence


def test_pays_most_needs_mrr_kept_above_random_with_an_interval_above_zero(results):
    claims = _claims(results)
    assert "target_group" in claims and "Start with the customers where it pays most" in claims["target_group"].sentence
    assert claims["target_group"].numbers["difference_ci_low"] > 0
    assert "in those groups" in claims["push_value"].sentence  # the value is the group's, per 1,000 adoptions
    _set_targeting(results, "policy_rule_minus_random", "mrr_kept_per_1000", estimate=2_000.0, ci_low=-1_000.0,
                   ci_high=5_000.0)
    claims = _claims(results)
    assert "target_group" not in claims
    assert "No group stands out" in claims["no_group_stands_out"].sentence
    assert "offer it broadly" in claims["no_group_stands_out"].sentence
    assert "across customers" in claims["push_value"].sentence  # the broad push, valued from effects.csv


def test_dollars_in_the_summary_are_per_1000_adoptions_not_the_all_adopt_bound(results):
    text = " ".join(c.sentence for c in build_claims(load_memo_inputs(results)) if c.section in ("matters", "do"))
    assert "a year" not in text  # the all-adopt yearly figure stays in the dollars section
    assert "each 1,000 adoptions" in text and "upper bound" in text
    effects = pd.read_csv(results / "effects.csv")
    row = effects[(effects.treatment == "any") & (effects.outcome == "cancel_dollars") & (effects.horizon == 3)
                  & (effects.method == "dml")].iloc[0]
    claim = _claims(results)["mrr_per_1000_adoptions"]
    assert claim.numbers["mrr_kept_per_1000"] == pytest.approx(-1000 * row.estimate)


@pytest.mark.parametrize("how", ["status", "share"])
def test_degenerate_targeting_gives_no_targeting_rule_and_no_broad_offer(results, how):
    if how == "status":
        _set_stage(results, "segments", "degraded",
                   {"targeting": {"status": "degenerate", "reason": "no spread in predicted effects"},
                    "dollars": {"status": "ok", "reason": ""}})
    else:
        _set_targeting(results, "policy_rule", "mrr_kept_per_1000", share_targeted=1.0)
        _set_targeting(results, "policy_rule", "cancellations_avoided_per_1000", share_targeted=1.0)
    claims = _claims(results)
    assert "No targeting rule found" in claims["no_targeting_rule"].sentence
    text = " ".join(c.sentence for c in claims.values())
    assert "Start with" not in text and "offer it broadly" not in text.lower()
    assert "across customers" in claims["push_value"].sentence


def test_a_failed_estimate_stage_recommends_nothing(results):
    _set_stage(results, "estimate", "failed", reasons=["no cell had 50 adopters"])
    claims = _claims(results)
    assert "estimate stage failed in this run: no cell had 50 adopters" in claims["no_estimates"].sentence
    assert not {"push_adoption", "lead_answer", "target_group", "push_value"} & set(claims)


def test_memo_reads_claims_json_only_when_built_from_the_same_inputs(results):
    inputs = load_memo_inputs(results)
    fresh = build_claims(inputs)
    doctored = [c.to_dict() for c in fresh]
    doctored[0]["sentence"] = "A sentence from an older run."
    from causal.report.sections.claims import inputs_signature
    (results / "claims.json").write_text(json.dumps({"inputs_sha256": inputs_signature(results), "claims": doctored}))
    assert memo_claims(inputs)[0].sentence == "A sentence from an older run."  # same inputs: the file is used
    _set_effect(results, "cancel", -0.01, -0.03, 0.01)  # the inputs changed: the file is stale
    assert memo_claims(load_memo_inputs(results))[0].sentence == fresh[0].sentence


# --- the rendered memo against claims.json -------------------------------------------------------------
@pytest.fixture(scope="module")
def degenerate_memo(tmp_path_factory):
    """A memo rendered from a folder whose targeting came out degenerate (status recorded by the stage)."""
    base = tmp_path_factory.mktemp("memo_claims")
    results = write_fixture_results(base / "results", seed=3)
    _set_stage(results, "segments", "degraded",
               {"targeting": {"status": "degenerate", "reason": "the rule targets every customer"},
                "segment_effects": {"status": "ok", "reason": ""}, "dollars": {"status": "ok", "reason": ""},
                "marketplace_vs_custom": {"status": "ok", "reason": ""}})
    html, _ = render_report(results, base / "reports", engine="fallback")
    return results, html.read_text()


def test_rendered_summary_and_recommendations_are_the_claims(degenerate_memo):
    results, html = degenerate_memo
    document = json.loads((results / "claims.json").read_text())
    sections = section_texts(html)
    where = {"matters": ["executive-summary"], "usage": ["executive-summary"],
             "do": ["executive-summary", "recommendations"], "pm": ["recommendations"]}
    for claim in document["claims"]:
        for section in where[claim["section"]]:
            assert normal_text(plain(claim["sentence"])) in sections[section], (claim["id"], section)
        assert normal_text(plain(claim["sentence"])) in sections["claims"]  # the appendix lists it


def test_rendered_memo_says_targeting_was_degenerate_and_recommends_nothing_from_it(degenerate_memo):
    _, html = degenerate_memo
    sections = section_texts(html)
    assert "No targeting rule found: the rule targets every customer." in sections["recommendations"]
    assert "came out degenerate in this run" in sections["segments"]
    for section in ("executive-summary", "recommendations"):
        assert "Start with" not in sections[section] and "offer it broadly" not in sections[section].lower()
