"""`python -m causal report`: render report.qmd from a results folder to memo.html and memo.pdf.

Two ways, one document:

- ``quarto`` on the PATH: ``quarto render report.qmd`` once to HTML, once to
  typst/PDF, with the results folder passed as the ``results_dir`` parameter
  and ``$MEMO_RESULTS_DIR``.
- otherwise (the fallback): the Python cells run in a Jupyter kernel
  (nbclient), pandoc turns the resulting markdown into self-contained HTML and
  into typst, and ``typst.compile`` makes the PDF.

The memo only reads the results folder; it never re-runs an estimate.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from analysis import paths
from analysis.errors import InputError
from causal.report.fallback import document_markdown, to_html, to_pdf
from causal.report.notebook import run_document
from causal.report.sections.claims import write_claims
from causal.report.inputs import RESULTS_ENV, load_memo_inputs
from causal.report.tables import ASSETS_DIR

HTML_NAME = "memo.html"
PDF_NAME = "memo.pdf"
ENGINE_ENV = "MEMO_RENDERER"  # "auto" (default), "quarto" or "fallback"
CUSTOMER_ID = re.compile(r"\bH\d{4,9}\b")
QUARTO_YML = paths.PROJ_ROOT / "_quarto.yml"


def choose_engine(engine: str | None = None) -> str:
    """``"quarto"`` when asked for or found on the PATH (in auto mode), else ``"fallback"``."""
    engine = (engine or os.environ.get(ENGINE_ENV) or "auto").lower()
    if engine not in ("auto", "quarto", "fallback"):
        raise ValueError(f"unknown report engine {engine!r}; choose auto, quarto or fallback")
    if engine == "auto":
        return "quarto" if shutil.which("quarto") else "fallback"
    return engine


def render_report(results_dir: Path, out_dir: Path, engine: str | None = None,
                  timings: dict | None = None) -> list[Path]:
    """Render the memo from ``results_dir`` into ``out_dir``.

    Parameters
    ----------
    results_dir : Path
        Results folder written by ``python -m causal run``.
    out_dir : Path
        Folder for the memos; created if needed.
    engine : str, optional
        ``"auto"`` (quarto when on the PATH, else the fallback), ``"quarto"`` or
        ``"fallback"``; default from ``$MEMO_RENDERER``, else auto.
    timings : dict, optional
        Filled with seconds per step (``execute``, ``html``, ``pdf`` or ``quarto``) for benchmarks.

    Returns
    -------
    list of Path
        ``[out_dir/memo.html, out_dir/memo.pdf]``.

    Raises
    ------
    InputError
        The results folder is missing, or the rendered memo would show a customer ID.
    """
    results_dir, out_dir = Path(results_dir).resolve(), Path(out_dir).resolve()
    if not results_dir.is_dir():
        raise InputError(str(results_dir), None, None,
                         "expected a results folder written by `python -m causal run`; it does not exist")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_claims(load_memo_inputs(results_dir))  # the memo reads claims.json (built from the same inputs)
    html_path, pdf_path = out_dir / HTML_NAME, out_dir / PDF_NAME
    timings = {} if timings is None else timings
    if choose_engine(engine) == "quarto":
        started = time.perf_counter()
        _render_with_quarto(results_dir, out_dir)
        timings["quarto"] = time.perf_counter() - started
    else:
        _render_with_fallback(results_dir, html_path, pdf_path, timings)
    _refuse_customer_ids(results_dir, html_path)
    return [html_path, pdf_path]


def _kernel_env(results_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env[RESULTS_ENV] = str(results_dir)
    env["MEMO_PROJECT_ROOT"] = str(paths.PROJ_ROOT)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(paths.PROJ_ROOT), env.get("PYTHONPATH")) if p)
    return env


def _render_with_fallback(results_dir: Path, html_path: Path, pdf_path: Path, timings: dict) -> None:
    """Execute report.qmd's cells with nbclient, then pandoc to HTML and pandoc + typst to PDF."""
    with tempfile.TemporaryDirectory(prefix="memo-build-") as tmp:
        build_dir = Path(tmp)
        started = time.perf_counter()
        meta, body = run_document(paths.REPORT_QMD, build_dir, _kernel_env(results_dir), ASSETS_DIR)
        timings["execute"] = time.perf_counter() - started
        if CUSTOMER_ID.search(body):
            raise InputError(str(results_dir), None, None,
                             "the memo would show a customer ID; results files must be aggregate")
        markdown = document_markdown(meta, body)
        started = time.perf_counter()
        to_html(for_format(markdown, "html"), build_dir, html_path, QUARTO_YML)
        timings["html"] = time.perf_counter() - started
        started = time.perf_counter()
        to_pdf(for_format(markdown, "typst"), build_dir, pdf_path, QUARTO_YML)
        timings["pdf"] = time.perf_counter() - started


def _render_with_quarto(results_dir: Path, out_dir: Path) -> None:
    """``quarto render report.qmd`` to HTML, then to typst/PDF, in a temporary build folder.

    report.qmd and _quarto.yml are copied into the build folder, so nothing is written into the
    repository (quarto puts ``report.html``, ``report.pdf``, ``report_files/`` and ``.quarto/`` beside
    the document); the two outputs are moved to ``out_dir`` under the memo names. The kernel imports the
    project from ``$MEMO_PROJECT_ROOT``; ``QUARTO_PYTHON`` points quarto at this Python, so its kernel
    has the packages.
    """
    env = _kernel_env(results_dir)
    env["QUARTO_PYTHON"] = sys.executable
    with tempfile.TemporaryDirectory(prefix="memo-quarto-") as tmp:
        build_dir = Path(tmp)
        for source in (paths.REPORT_QMD, QUARTO_YML):
            shutil.copyfile(source, build_dir / source.name)
        for fmt, produced, name in (("html", "report.html", HTML_NAME), ("typst", "report.pdf", PDF_NAME)):
            command = ["quarto", "render", paths.REPORT_QMD.name, "--to", fmt, "-P", f"results_dir:{results_dir}"]
            done = subprocess.run(command, cwd=build_dir, env=env, capture_output=True, text=True)
            output = build_dir / produced
            if done.returncode != 0 or not output.is_file():
                tail = (done.stderr or done.stdout or "no output").strip().splitlines()[-1:]
                raise RuntimeError(f"quarto render --to {fmt} failed: {tail[0] if tail else 'no output'}")
            shutil.move(str(output), out_dir / name)


_FENCE = re.compile(r"^(:{3,})\s*(.*)$")
_CODE_FENCE = re.compile(r"^(`{3,}|~{3,})")
_WHEN = re.compile(r"""\.content-(visible|hidden)\b[^}]*\bwhen-format\s*=\s*["']?([\w-]+)""")


def for_format(markdown: str, fmt: str) -> str:
    """Quarto's ``content-visible`` / ``content-hidden`` ``when-format`` divs applied for the fallback.

    pandoc keeps every div, so without this the fallback would show HTML-only and PDF-only blocks in
    both memos. Blocks for ``fmt`` lose their fences; blocks for another format are dropped.
    """
    kept, stack, code = [], [], None  # stack: per open div, "keep", "unwrap" or "drop"
    for line in markdown.splitlines():
        fence = _CODE_FENCE.match(line)
        if code is not None:
            if fence and line.strip().startswith(code):
                code = None
        elif fence:
            code = fence.group(1)
        else:
            div = _FENCE.match(line)
            if div and div.group(2).strip():  # an opening fence
                when = _WHEN.search(div.group(2))
                dropping = "drop" in stack
                if when:
                    shown = (when.group(2) == fmt) == (when.group(1) == "visible")
                    stack.append("unwrap" if shown else "drop")
                    continue
                stack.append("keep")
                if dropping:
                    continue
            elif div and stack:  # a closing fence
                action = stack.pop()
                if action != "keep" or "drop" in stack:
                    continue
        if "drop" not in stack:
            kept.append(line)
    return "\n".join(kept) + "\n"


def _refuse_customer_ids(results_dir: Path, html_path: Path) -> None:
    text = html_path.read_text(encoding="utf-8", errors="replace")
    text = re.sub(r"data:[a-z/+.-]+;base64,[A-Za-z0-9+/=]+", "", text)  # embedded images are not text
    if CUSTOMER_ID.search(text):
        html_path.unlink()
        raise InputError(str(results_dir), None, None,
                         "the memo would show a customer ID; results files must be aggregate")
