"""Benchmark: rendering the memo from an existing results folder (target: under a minute).

``run()`` renders with the fallback renderer (nbclient + pandoc + typst) and
reports the time per step, the whole command's wall time in a fresh process
(``python -m causal report``, imports included) and its peak memory.
It uses ``results/`` when a run has written ``effects.csv`` there, else a
fixture results folder (aggregate, plausible numbers) built for the purpose.
"""
from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from analysis import paths, results_contract


def _results_folder(work: Path) -> tuple[Path, str]:
    if (paths.RESULTS_DIR / results_contract.EFFECTS_CSV).is_file():
        return paths.RESULTS_DIR, "results/"
    sys.path.insert(0, str(paths.PROJ_ROOT))
    from tests.causal.report.report_fixture import write_fixture_results

    return write_fixture_results(work / "results", seed=0), "fixture results folder"


def run() -> dict:
    """Render the memo twice (in process, then through the CLI) and return the figures."""
    from causal.report.render import render_report

    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        work = Path(tmp)
        results, source = _results_folder(work)
        steps: dict = {}
        started = time.perf_counter()
        html, pdf = render_report(results, work / "in_process", engine="fallback", timings=steps)
        in_process = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "causal", "report", "--results", str(results),
                        "--out", str(work / "cli")], cwd=paths.PROJ_ROOT, check=True, capture_output=True,
                       env={**__import__("os").environ, "MEMO_RENDERER": "fallback"})
        cli_seconds = time.perf_counter() - started
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        return {
            "results": source,
            "render_seconds_in_process": round(in_process, 2),
            "execute_cells_seconds": round(steps.get("execute", float("nan")), 2),
            "pandoc_html_seconds": round(steps.get("html", float("nan")), 2),
            "pandoc_typst_pdf_seconds": round(steps.get("pdf", float("nan")), 2),
            "cli_wall_seconds": round(cli_seconds, 2),
            "peak_child_memory_mb": round(peak_kib / 1024, 1),
            "html_kb": round(html.stat().st_size / 1024, 1),
            "pdf_kb": round(pdf.stat().st_size / 1024, 1),
            "target_seconds": 60,
        }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key}: {value}")
