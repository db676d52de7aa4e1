"""The memo rendered (fallback renderer) from a real pipeline run on simulated data.

Uses the shared ``pipeline_run(6000, 7)`` fixture: every stage runs once per
test session, then the memo reads the results folder it wrote.
"""
from __future__ import annotations

import re

import pandas as pd
import pytest

from causal.report.render import render_report
from tests.causal.report.report_fixture import (CUSTOMER_ID_PATTERN, assert_number_matches_effects,
                                         html_text_without_images, marked_numbers, pdf_text)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pipeline_memo(pipeline_run, tmp_path_factory):
    results, _ = pipeline_run(6000, 7, stages="all")
    return results, render_report(results, tmp_path_factory.mktemp("memo_pipeline"), engine="fallback")


def test_memo_renders_from_a_pipeline_results_folder(pipeline_memo):
    results, (html, pdf) = pipeline_memo
    text = html.read_text()
    assert "Do integrations keep customers?" in text and 'class="sim-banner"' in text
    assert text.count("Not available in this run") == 0, "a section found no input in a full run"
    pages = pdf_text(pdf)
    assert all("SIMULATED DATA" in page for page in pages)


def test_summary_numbers_come_from_effects_csv(pipeline_memo):
    results, (html, pdf) = pipeline_memo
    effects = pd.read_csv(results / "effects.csv")
    numbers = marked_numbers(html.read_text())
    assert len(numbers) >= 6
    pdf_words = " ".join(pdf_text(pdf))
    for number in numbers:
        assert_number_matches_effects(number, effects)
        assert number["text"].replace("\\", "") in pdf_words


def test_no_customer_id_in_the_memos(pipeline_memo):
    _, (html, pdf) = pipeline_memo
    assert not re.search(CUSTOMER_ID_PATTERN, html_text_without_images(html.read_text()))
    assert not re.search(CUSTOMER_ID_PATTERN, " ".join(pdf_text(pdf)))
