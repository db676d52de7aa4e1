"""Whole pipeline at ten times real scale: simulate and run on 638,820 customers (wall time, peak memory).

The same commands and measurements as :mod:`benchmarks.pipeline`, on ten times as many
simulated customers. Target (issue 16): the whole run within 30 minutes and 16 GB on this
2-core machine, with its figures per stage.
"""
from __future__ import annotations

from benchmarks import pipeline

N_CUSTOMERS = 10 * pipeline.N_CUSTOMERS
TARGETS = {"simulate": (None, None), "run": (1800, 16.0)}


def run() -> dict:
    """Time ``simulate`` and ``run`` under ``data/bench/pipeline_10x``."""
    return pipeline.run(n_customers=N_CUSTOMERS, name="pipeline_10x", commands=("simulate", "run"))


def to_markdown(figures: dict) -> str:
    """The figures as tables with the targets and whether each is met."""
    lines = [pipeline.preamble(figures), "", *pipeline.command_table(figures, TARGETS), "",
             "Seconds by stage of `run`, from its `run_info.json`:", "", *pipeline.stage_table(figures)]
    return "\n".join(lines) + "\n"
