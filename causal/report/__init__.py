"""The memo: report.qmd's section builders and the two renderers (Quarto, fallback).

Entry point: :func:`render_report` (``python -m causal report``). Reads only a results
folder. Modules: ``inputs`` (reading the results folder), ``sections`` (one module per memo
section, markdown out), ``tables`` and ``text`` (table and sentence helpers), ``render``
(choosing and running a renderer), ``notebook`` and ``fallback`` (the renderer used where
Quarto is absent).
"""
from causal.report.render import render_report

__all__ = ["render_report"]
