"""The fallback renderer turns report.qmd plus a results folder into memo.html and memo.pdf."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis import paths
from analysis.errors import InputError
from causal.report.render import render_report
from tests.causal.report.report_fixture import (CUSTOMER_ID_PATTERN, FLAGGED_MONTH, MONTHS,
                                         assert_number_matches_effects, html_text_without_images,
                                         marked_numbers, pdf_text, write_fixture_results)


@pytest.fixture(scope="module")
def fixture_memo(tmp_path_factory):
    """(results_dir, [memo.html, memo.pdf]) for the simulated fixture results folder."""
    base = tmp_path_factory.mktemp("memo_fixture")
    results = write_fixture_results(base / "results", seed=3, simulated=True)
    return results, render_report(results, base / "reports", engine="fallback")


def test_render_writes_both_memos_with_fixed_names(fixture_memo):
    results, (html, pdf) = fixture_memo
    assert (html.name, pdf.name) == ("memo.html", "memo.pdf")
    assert html.read_text().lstrip().lower().startswith("<!doctype html>")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert "<script src=" not in html.read_text() and 'src="report_files' not in html.read_text()
    assert re.search(r'<img [^>]*src="data:image/png;base64,', html.read_text())  # images embedded
    assert "Not available in this run" not in html.read_text()  # the fixture has every input


def test_every_summary_number_equals_its_row_in_effects_csv(fixture_memo):
    results, (html, _) = fixture_memo
    effects = pd.read_csv(results / "effects.csv")
    numbers = marked_numbers(html.read_text())
    assert len(numbers) >= 6  # cancel and upgrade: estimate and both interval ends
    fields = {(n["data-row"].split("|")[1], n["data-field"]) for n in numbers}
    assert {("cancel", "estimate"), ("cancel", "ci_low"), ("upgrade", "ci_high")} <= fields
    for number in numbers:
        assert_number_matches_effects(number, effects)


def test_summary_numbers_change_when_effects_change(tmp_path):
    results = write_fixture_results(tmp_path / "results", seed=3)
    effects = pd.read_csv(results / "effects.csv")
    effects.loc[:, ["estimate", "ci_low", "ci_high"]] *= 2.5
    effects.to_csv(results / "effects.csv", index=False)
    html, _ = render_report(results, tmp_path / "reports", engine="fallback")
    for number in marked_numbers(html.read_text()):
        assert_number_matches_effects(number, effects)


def test_pdf_text_has_the_headline_numbers_and_a_banner_on_every_page(fixture_memo):
    _, (html, pdf) = fixture_memo
    pages = pdf_text(pdf)
    assert len(pages) >= 3
    text = " ".join(pages)
    for number in marked_numbers(html.read_text()):
        assert number["text"].replace("\\", "") in text, number
    assert "Do integrations keep customers?" in text
    assert all("Simulated data" in page or "SIMULATED DATA" in page for page in pages)


def test_memo_names_the_flagged_transition_from_the_data(fixture_memo):
    _, (html, _) = fixture_memo
    following = MONTHS[MONTHS.index(FLAGGED_MONTH) + 1]
    assert f"The transition into {following} was flagged" in html.read_text()
    assert 'class="sim-banner"' in html.read_text()


def test_no_customer_id_in_either_memo(fixture_memo):
    _, (html, pdf) = fixture_memo
    assert not re.search(CUSTOMER_ID_PATTERN, html_text_without_images(html.read_text()))
    assert not re.search(CUSTOMER_ID_PATTERN, " ".join(pdf_text(pdf)))


def test_a_customer_id_in_the_results_stops_the_render(tmp_path):
    results = write_fixture_results(tmp_path / "results")
    (results / "targeting_rule.txt").write_text("Target customers like H00041533 first.\n")
    with pytest.raises(InputError, match="customer ID"):
        render_report(results, tmp_path / "reports", engine="fallback")
    assert not (tmp_path / "reports" / "memo.html").exists()


def test_real_data_memo_has_no_simulated_banner(tmp_path):
    results = write_fixture_results(tmp_path / "results", simulated=False)
    html, pdf = render_report(results, tmp_path / "reports", engine="fallback")
    assert 'class="sim-banner"' not in html.read_text()
    text = " ".join(pdf_text(pdf))
    assert "SIMULATED DATA" not in text and "Simulated data, not company records" not in text
    assert "run on the company's extracts" in text.replace("\u2019", "'")


def test_missing_files_degrade_to_a_notice(tmp_path):
    omitted = ("effects.csv", "refutations.csv", "trends", "figures", "dollars.csv", "targeting.csv",
               "targeting_rule.txt", "effects_by_segment.csv", "sensitivity.json", "heterogeneity_summary.json",
               "balance.csv", "marketplace_vs_custom.csv")
    results = write_fixture_results(tmp_path / "results", omit=omitted)
    html, pdf = render_report(results, tmp_path / "reports", engine="fallback")
    text = html.read_text()
    assert text.count("Not available in this run") >= 8
    assert marked_numbers(text) == []
    assert "Not available in this run" in " ".join(pdf_text(pdf))


def test_missing_results_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="results folder"):
        render_report(tmp_path / "absent", tmp_path / "reports")


def test_cli_reports_a_missing_folder_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "causal", "report", "--results", str(tmp_path / "absent"),
                           "--out", str(tmp_path / "reports")], cwd=paths.PROJ_ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_engine_choice_follows_the_path_and_the_environment(tmp_path, monkeypatch):
    from causal.report.render import choose_engine

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("MEMO_RENDERER", raising=False)
    assert choose_engine() == "fallback"
    fake = tmp_path / "quarto"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    assert choose_engine() == "quarto"
    monkeypatch.setenv("MEMO_RENDERER", "fallback")
    assert choose_engine() == "fallback"
    with pytest.raises(ValueError):
        choose_engine("latex")


def test_quarto_path_passes_the_results_folder_and_moves_outputs(tmp_path, monkeypatch):
    import causal.report.render as report

    calls = []

    def fake_run(command, cwd, env, **_):
        calls.append((command, env, Path(cwd)))
        assert (Path(cwd) / "report.qmd").is_file() and (Path(cwd) / "_quarto.yml").is_file()
        produced = "report.html" if "html" in command else "report.pdf"
        (Path(cwd) / produced).write_text("rendered")  # quarto writes beside the document it renders
        return subprocess.CompletedProcess(command, 0, "", "")

    (tmp_path / "project").mkdir()
    monkeypatch.setattr(report.paths, "PROJ_ROOT", tmp_path / "project")
    monkeypatch.setattr(report.subprocess, "run", fake_run)
    results = write_fixture_results(tmp_path / "results")
    html, pdf = report.render_report(results, tmp_path / "reports", engine="quarto")
    assert html.read_text() == "rendered" and pdf.read_text() == "rendered"
    assert [c[0][c[0].index("--to") + 1] for c in calls] == ["html", "typst"]
    assert all(f"results_dir:{results.resolve()}" in c[0] for c in calls)
    assert all(c[1]["MEMO_RESULTS_DIR"] == str(results.resolve()) and c[1]["QUARTO_PYTHON"] for c in calls)
    # rendered in a build folder of its own, never in the repository
    assert all(c[2] != tmp_path / "project" for c in calls) and not any((tmp_path / "project").iterdir())
