"""The memo under the real quarto: the same text as the fallback, the segment tabs, a PDF that fits its pages.

The memos come from the documented commands (``documented_run`` in conftest.py): ``quarto render
report.qmd -P results_dir:results``, ``python -m causal report`` with quarto on the PATH, and the same
with ``MEMO_RENDERER=fallback``, all from one fixture results folder.
"""
from __future__ import annotations

import re
import shutil
import subprocess

import pandas as pd
import pytest
from PIL import Image
from pypdf import PdfReader

from analysis import results_contract
from tests.causal.report.memo_text import memo_text
from tests.causal.report.report_fixture import pdf_text
from tests.needs import need

pytestmark = [pytest.mark.quarto, pytest.mark.slow]
A4_WIDTH_PT, MARGIN_X_PT = 595.28, 2 / 2.54 * 72  # _quarto.yml: papersize a4, margin x 2cm
HANGING, HANGING_PT = ".,;:-)\u00ad\u2013\u2014", 3.0  # punctuation typst lets protrude, and by at most this much


def _html(run, path):
    return (run["folder"] / path).read_text(encoding="utf-8")


@pytest.mark.parametrize("quarto_path", ["report.html", "reports/memo.html"])
def test_quarto_and_fallback_give_the_same_text(documented_run, quarto_path):
    quarto, fallback = memo_text(_html(documented_run, quarto_path)), memo_text(
        _html(documented_run, "reports-fallback/memo.html"))
    for part in ("headings", "tab_titles", "numbers", "sentences", "cells", "captions"):
        assert quarto[part] == fallback[part], part
    assert len(quarto["numbers"]) >= 4 and len(quarto["sentences"]) >= 30 and len(quarto["cells"]) >= 100


def test_every_outcome_and_window_has_a_tab_with_its_forest_plot_and_segment_table(documented_run):
    html = _html(documented_run, "reports/memo.html")
    seg = pd.read_csv(documented_run["folder"] / "results" / results_contract.EFFECTS_BY_SEGMENT_CSV)
    seg = seg[seg["treatment"] == "any"]
    cells = seg.groupby(["outcome", "horizon"]).size()
    assert html.count('class="panel-tabset"') == seg["outcome"].nunique()
    # a pane runs to the next pane or the next heading (the next outcome's, or the next subsection's)
    panes = [re.split(r'<h[1-4][ >]', chunk)[0] for chunk in html.split('class="tab-pane')[1:]]
    assert len(panes) == len(cells), (len(panes), len(cells))
    order = {"cancel": 0, "upgrade": 1, "cancel_dollars": 2, "mrr_change": 3}
    for pane, ((outcome, horizon), n_segments) in zip(panes, sorted(cells.items(),
                                                               key=lambda kv: (order[kv[0][0]], kv[0][1]))):
        assert pane.count("<img") == 1, (outcome, horizon)
        assert pane.count("<tr") == n_segments + 1, (outcome, horizon)  # header + one row per segment
    # the typst-only appendix is not in the HTML, the HTML-only tabs not in the PDF
    assert "segment-appendix" not in html


@pytest.mark.parametrize("pdf_path", ["reports/memo.pdf", "reports-fallback/memo.pdf"])
def test_the_pdf_has_the_segment_appendix_and_no_tabs(documented_run, pdf_path):
    pages = pdf_text(documented_run["folder"] / pdf_path)
    text = " ".join(pages)
    assert "Appendix: effects by segment" in text
    seg = pd.read_csv(documented_run["folder"] / "results" / results_contract.EFFECTS_BY_SEGMENT_CSV)
    for value in seg["segment_value"].unique():
        assert value in text
    assert "Next 3 months" in text
    assert "forest plots, one tab per window" in text
    # one table per outcome (a table broken across pages repeats its header)
    assert text.count("Next month Next 2 months Next 3 months") >= seg["outcome"].nunique()
    assert text.count("effects in percentage points (95% interval)") == seg["outcome"].nunique()


def _words(pdf) -> list[dict]:
    pdftotext = shutil.which("pdftotext")
    need(pdftotext is not None, "pdftotext", "apt-get install -y poppler-utils")
    out = subprocess.run([pdftotext, "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    words, page = [], None
    for line in out.splitlines():
        if m := re.search(r'<page width="([\d.]+)" height="([\d.]+)"', line):
            page = (float(m.group(1)), float(m.group(2)))
        elif m := re.search(r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">(.*?)</word>', line):
            words.append({"page": page, "box": tuple(map(float, m.groups()[:4])), "text": m.group(5)})
    return words


@pytest.mark.parametrize("pdf_path", ["reports/memo.pdf", "report.pdf"])
def test_pdf_words_stay_inside_the_text_area(documented_run, pdf_path):
    words = _words(documented_run["folder"] / pdf_path)
    assert len(words) > 1000
    def right_limit(word):  # typst hangs trailing punctuation a little into the margin (text.overhang)
        hanging = HANGING_PT if word["text"][-1:] in HANGING else 0.0
        return word["page"][0] - MARGIN_X_PT + 0.5 + hanging

    outside = [(w["text"], w["box"]) for w in words
               if w["box"][0] < MARGIN_X_PT - 0.5 or w["box"][2] > right_limit(w)
               or w["box"][1] < 0 or w["box"][3] > w["page"][1]]
    assert not outside, outside[:20]
    assert abs(words[0]["page"][0] - A4_WIDTH_PT) < 1


def test_pdf_side_margins_are_blank_so_no_figure_or_table_runs_off(documented_run, tmp_path):
    pdftoppm = shutil.which("pdftoppm")
    need(pdftoppm is not None, "pdftoppm", "apt-get install -y poppler-utils")
    pdf = documented_run["folder"] / "reports/memo.pdf"
    subprocess.run([pdftoppm, "-r", "36", "-png", str(pdf), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == len(PdfReader(str(pdf)).pages) >= 5
    margin_px = int((MARGIN_X_PT - 4) / 72 * 36)  # a little inside the 2 cm margin
    for image in images:
        grey = Image.open(image).convert("L")
        width, height = grey.size
        for box in ((0, 0, margin_px, height), (width - margin_px, 0, width, height)):
            assert grey.crop(box).getextrema()[0] >= 245, f"ink in the side margin of {image.name}"


@pytest.mark.parametrize("pdf_path", ["reports/memo.pdf", "reports-fallback/memo.pdf"])
def test_every_pdf_font_is_embedded(documented_run, pdf_path):
    fonts = {}
    for page in PdfReader(str(documented_run["folder"] / pdf_path)).pages:
        for name, ref in ((page.get("/Resources") or {}).get("/Font") or {}).items():
            font = ref.get_object()
            for descendant in font.get("/DescendantFonts") or [font]:
                descriptor = descendant.get_object().get("/FontDescriptor")
                fonts[str(font.get("/BaseFont"))] = descriptor is not None and any(
                    k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert fonts and all(fonts.values()), fonts
