"""The HTML memo opened in headless Chromium: no console errors, title and first figure loaded.

Skipped with a message where no Chromium is installed, a failure under CI (``.ci/run``
installs Debian's ``chromium``). A screenshot is saved beside the rendered memo.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from PIL import Image, ImageStat

from causal.report.render import render_report
from tests.causal.report.report_fixture import write_fixture_results
from tests.needs import need

pytestmark = pytest.mark.browser

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
                None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]
# Injected first in <head>: records errors (script, console, failed resources), then after load
# writes what it found into the DOM for --dump-dom to show.
PROBE = """<script>
window.__memoErrors = [];
window.addEventListener('error', function (e) {
  var t = e.target || {};
  window.__memoErrors.push(t.tagName ? ('resource ' + t.tagName + ' failed') : String(e.message));
}, true);
var __origError = console.error;
console.error = function () { window.__memoErrors.push('console.error ' + Array.from(arguments).join(' '));
  __origError.apply(console, arguments); };
window.addEventListener('load', function () {
  var img = document.querySelector('img');
  var h1 = document.querySelector('h1');
  var out = document.createElement('pre');
  out.id = 'memo-probe';
  out.textContent = JSON.stringify({
    title: h1 ? h1.textContent.trim() : null,
    images: document.images.length,
    firstImageWidth: img ? img.naturalWidth : 0,
    firstImageComplete: img ? img.complete : false,
    errors: window.__memoErrors
  });
  document.body.appendChild(out);
});
</script>"""


def _chromium(*args: str, profile) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def memo_html(tmp_path_factory):
    if CHROMIUM is None:
        need(False, "headless Chromium", "apt-get install chromium")
    base = tmp_path_factory.mktemp("memo_browser")
    results = write_fixture_results(base / "results", seed=5)
    html, _ = render_report(results, base / "reports", engine="fallback")
    return html


def test_memo_loads_without_errors_and_shows_title_and_first_figure(memo_html, tmp_path):
    probed = tmp_path / "probed.html"
    probed.write_text(memo_html.read_text().replace("<head>", "<head>\n" + PROBE, 1))
    done = _chromium("--virtual-time-budget=10000", "--enable-logging=stderr", "--v=0", "--dump-dom",
                     probed.as_uri(), profile=tmp_path / "profile-dom")
    match = re.search(r'<pre id="memo-probe">(.*?)</pre>', done.stdout, re.S)
    assert match, f"probe missing from the DOM; chromium said: {done.stderr[-500:]}"
    probe = json.loads(match.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
                       .replace("&amp;", "&"))
    assert probe["errors"] == []
    assert probe["title"] == "Do integrations keep customers?"
    assert probe["images"] >= 3 and probe["firstImageComplete"] and probe["firstImageWidth"] > 0
    console_errors = [line for line in done.stderr.splitlines() if "CONSOLE" in line and "ERROR" in line.upper()
                      and "memo" in line]
    assert console_errors == []


def test_memo_screenshot_is_not_blank(memo_html, tmp_path):
    shot = memo_html.parent / "memo-screenshot.png"
    done = _chromium("--window-size=1200,1600", f"--screenshot={shot}", memo_html.as_uri(),
                     profile=tmp_path / "profile-shot")
    assert shot.is_file(), done.stderr[-500:]
    image = Image.open(shot).convert("L")
    assert image.size == (1200, 1600)
    stats = ImageStat.Stat(image)
    assert stats.stddev[0] > 10  # text and a banner, not a blank page
    dark = sum(image.histogram()[:100]) / (image.size[0] * image.size[1])
    assert 0.005 < dark < 0.5  # some dark text, mostly light page
