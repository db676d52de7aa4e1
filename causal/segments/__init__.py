"""The segments stage: effects by segment, marketplace vs custom, targeting, dollars.

Entry point: :func:`run_segments_stage` (``python -m causal run --stages segments``).
Modules: ``scores`` (cross-fitted doubly robust scores, segment effects), ``targeting``
(policy tree, held-out values, ranking validation), ``dollars``, ``stage``.
"""
from causal.segments.stage import run_segments_stage

__all__ = ["run_segments_stage"]
