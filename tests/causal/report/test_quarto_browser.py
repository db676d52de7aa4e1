"""The quarto HTML memo in headless Chromium at 1280 and 390 px: no horizontal scroll, no errors, images loaded.

Chromium's headless window is at least 500 px wide, so the memo is measured inside an iframe of the
width under test (``srcdoc``: the memo is self-contained, and the parent may read the frame). In the
frame: ``document.documentElement.scrollWidth`` <= the frame's ``clientWidth``; no script error,
``console.error`` or failed resource; every ``<img>`` complete with ``naturalWidth > 0`` (the ones in
hidden tabs too). Screenshots (PNG, palette-reduced) go to ``$MEMO_SCREENSHOTS_DIR`` when set -- that is
how docs/images/ is made:
``MEMO_SCREENSHOTS_DIR=docs/images .venv/bin/python -m pytest tests/causal/report/test_quarto_browser.py``.
"""
from __future__ import annotations

import html as html_lib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.causal.report.quarto_fixture import CHROMIUM_FLAGS, chromium_executable
from tests.needs import need

pytestmark = [pytest.mark.quarto, pytest.mark.browser, pytest.mark.slow]
HEIGHT = 900
PROBE = """<script>
window.__memoErrors = [];
window.addEventListener('error', function (e) {
  var t = e.target || {};
  window.__memoErrors.push(t.tagName ? ('resource ' + t.tagName + ' failed') : String(e.message));
}, true);
var __origError = console.error;
console.error = function () { window.__memoErrors.push('console.error ' + Array.from(arguments).join(' '));
  __origError.apply(console, arguments); };
</script>"""
PARENT = """<!doctype html><html><head><meta charset="utf-8"><style>html,body{margin:0}
iframe{border:0;display:block}</style></head><body>
<iframe id="memo" width="%(width)d" height="%(height)d" srcdoc="%(srcdoc)s"></iframe>
<script>
document.getElementById('memo').addEventListener('load', function () {
  var w = this.contentWindow, d = this.contentDocument;
  var target = %(scroll_to)s ? d.getElementById(%(scroll_to)s) : null;
  if (target) { target.scrollIntoView(); w.scrollBy(0, -90); }  // below the sticky banner
  setTimeout(function () {
    var imgs = Array.from(d.images);
    var out = d.createElement('pre');
    out.id = 'memo-probe';
    out.textContent = JSON.stringify({
      scrollWidth: d.documentElement.scrollWidth, clientWidth: d.documentElement.clientWidth,
      innerWidth: w.innerWidth, images: imgs.length,
      notLoaded: imgs.filter(function (i) { return !i.complete || i.naturalWidth === 0; }).length,
      errors: w.__memoErrors || ['probe missing'],
      title: (d.querySelector('h1') || {}).textContent
    });
    document.body.appendChild(out);
  }, 1500);
});
</script></body></html>"""


def _parent_page(memo: Path, folder: Path, width: int, scroll_to: str | None = None) -> Path:
    source = memo.read_text(encoding="utf-8").replace("<head>", "<head>\n" + PROBE, 1)
    page = folder / f"frame-{width}-{scroll_to or 'top'}.html"
    page.write_text(PARENT % {"width": width, "height": HEIGHT, "srcdoc": html_lib.escape(source, quote=True),
                              "scroll_to": json.dumps(scroll_to)}, encoding="utf-8")
    return page


def _chromium(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=180)


def _probe(chromium, page: Path, profile: Path) -> dict:
    done = _chromium(chromium, profile, "--virtual-time-budget=20000", "--dump-dom", page.as_uri())
    match = re.search(r'<pre id="memo-probe">(.*?)</pre>', done.stdout, re.S)
    assert match, f"probe missing from the DOM; chromium said: {done.stderr[-800:]}"
    return json.loads(html_lib.unescape(match.group(1)))


def _screenshot(chromium, page: Path, width: int, out: Path, profile: Path) -> Path:
    raw = out.with_suffix(".raw.png")
    _chromium(chromium, profile, f"--window-size={max(width, 500)},{HEIGHT}", "--virtual-time-budget=20000",
              f"--screenshot={raw}", page.as_uri())
    assert raw.is_file(), "chromium wrote no screenshot"
    image = Image.open(raw).convert("RGB").crop((0, 0, width, HEIGHT))
    image.quantize(colors=96).save(out, optimize=True)  # small enough to commit
    raw.unlink()
    return out


@pytest.fixture(scope="module")
def chromium():
    return chromium_executable()


@pytest.mark.parametrize("width", [1280, 390])
def test_quarto_memo_has_no_horizontal_scroll_no_errors_and_every_image_loads(documented_run, chromium,
                                                                              tmp_path, width):
    memo = documented_run["folder"] / "reports" / "memo.html"
    page = _parent_page(memo, tmp_path, width)
    probe = _probe(chromium, page, tmp_path / "profile")
    assert probe["innerWidth"] == width
    assert probe["scrollWidth"] <= probe["clientWidth"], probe
    assert probe["errors"] == [], probe["errors"]
    assert probe["images"] >= 10 and probe["notLoaded"] == 0, probe
    assert probe["title"].strip() == "Do integrations keep customers?"


def test_screenshots_at_both_widths_and_first_pdf_page(documented_run, chromium, tmp_path):
    out_dir = Path(os.environ.get("MEMO_SCREENSHOTS_DIR") or tmp_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    memo = documented_run["folder"] / "reports" / "memo.html"
    shots = [_screenshot(chromium, _parent_page(memo, tmp_path, 1280), 1280, out_dir / "memo-1280.png",
                         tmp_path / "p1"),
             _screenshot(chromium, _parent_page(memo, tmp_path, 390), 390, out_dir / "memo-390.png", tmp_path / "p2"),
             _screenshot(chromium, _parent_page(memo, tmp_path, 1280, "segments-cancel"), 1280,
                         out_dir / "memo-segments-1280.png", tmp_path / "p3")]
    pdftoppm = shutil.which("pdftoppm")
    need(pdftoppm is not None, "pdftoppm", "apt-get install -y poppler-utils")
    first = out_dir / "memo-pdf-page1"
    subprocess.run([pdftoppm, "-r", "60", "-png", "-f", "1", "-l", "1", "-singlefile",
                    str(documented_run["folder"] / "reports" / "memo.pdf"), str(first)], check=True)
    page = Image.open(first.with_suffix(".png")).convert("RGB")
    page.quantize(colors=64).save(first.with_suffix(".png"), optimize=True)
    shots.append(first.with_suffix(".png"))
    for shot in shots:
        image = Image.open(shot).convert("L")
        assert image.getextrema()[1] - image.getextrema()[0] > 100, f"{shot.name} is blank"
        assert shot.stat().st_size < 300_000, f"{shot.name} is {shot.stat().st_size} bytes"
