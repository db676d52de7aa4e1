"""The panel stage: eligible customer-months with treatment, outcomes and covariates.

Entry point: :func:`build_panel_stage` (``python -m causal run --stages panel``);
:func:`load_panel` reads its output. Modules: ``arrays`` (customer x month arrays),
``treatment``, ``outcomes``, ``covariates`` (eligibility too), ``counts``, ``stage``.
"""
from analysis.panel.stage import build_panel, build_panel_stage, load_panel

__all__ = ["build_panel", "build_panel_stage", "load_panel"]
