"""The segments paragraph calls a group clear only when its simultaneous band excludes zero."""
from __future__ import annotations

import pandas as pd

from causal.report.inputs import load_memo_inputs
from causal.report.sections.segments import segment_sentence, segments_section
from tests.causal.report.report_fixture import write_fixture_results


def _segments(tmp_path):
    results = write_fixture_results(tmp_path / "results")
    return results, pd.read_csv(results / "effects_by_segment.csv")


def test_pointwise_significant_but_band_covering_zero_is_not_clear(tmp_path):
    _, seg = _segments(tmp_path)
    seg["ci_low"], seg["ci_high"] = seg["estimate"] - 1e-6, seg["estimate"] + 1e-6  # all pointwise "significant"
    seg["band_low"], seg["band_high"] = seg["estimate"] - 1.0, seg["estimate"] + 1.0
    text = segment_sentence(seg, "cancel")
    assert "No group of customers shows a clear benefit" in text and "A clear benefit" not in text


def test_clear_groups_are_ranked_by_shrunk_estimate_and_small_groups_never_named(tmp_path):
    _, seg = _segments(tmp_path)
    rows = (seg["outcome"] == "cancel") & (seg["horizon"] == seg["horizon"].max())
    assert (seg.loc[rows, "estimate"] < 0).all()
    seg.loc[rows, "band_low"] = 1.5 * seg.loc[rows, "estimate"]  # every band below zero
    seg.loc[rows, "band_high"] = 0.5 * seg.loc[rows, "estimate"]
    seg.loc[rows, "shrunk_estimate"] = 0.0
    first = rows & (seg["segment_value"] == "Pro")
    seg.loc[first, "shrunk_estimate"] = -0.5  # the largest shrunk benefit, whatever the raw one
    tiny = rows & (seg["segment_value"] == "NAM High-touch")
    seg.loc[tiny, "headline_eligible"] = False
    text = segment_sentence(seg, "cancel")
    assert "largest in Pro (tier)" in text
    assert "NAM High-touch" not in text and "1 smaller group" in text and "500 customer-months" in text
    assert "shrunk estimates" in text


def test_old_results_without_bands_name_no_clear_group(tmp_path, monkeypatch):
    results, seg = _segments(tmp_path)
    seg.drop(columns=["band_low", "band_high", "band_crit", "shrunk_estimate"]).to_csv(
        results / "effects_by_segment.csv", index=False)
    monkeypatch.chdir(tmp_path)
    text = segments_section(load_memo_inputs(results))
    assert "clear" not in text.replace("clear case", "") and "not adjusted for comparing" in text
