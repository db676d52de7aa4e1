"""Benchmark of the estimate stage: where the time goes, and peak memory.

``run()`` simulates a data set (default: real scale, 63,882 customers), builds
the model and panel, then times each step of the estimate stage in this
process: cell preparation (selection, propensity, trimming), naive, psm (with
its customer bootstrap), dml, the refutation suite, the flagged-cohort
sensitivity and the whole stage as ``python -m causal run --stages estimate``
runs it. Figures are aggregate only.
"""
from __future__ import annotations

import resource
import tempfile
import time
import warnings
from pathlib import Path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n_customers: int = 63_882, seed: int = 1, jobs: int = 1, workdir: Path | None = None) -> dict:
    """Time the estimate stage on simulated data; return a dict of figures (seconds, MB).

    Parameters
    ----------
    n_customers : int
        Size of the simulated data set.
    seed : int
        Seed of the simulation and of the estimators.
    jobs : int
        Worker processes for the whole-stage timing.
    workdir : Path, optional
        Folder for the data, panel and results (a temporary folder by default).
    """
    from analysis.simulator import simulate
    from causal.estimate import estimators
    from causal.estimate import stage as estimation
    from causal.estimate.tasks import cached_panel
    from causal.pipeline import run_pipeline
    from causal.refute import refute_from_results
    from causal.refute import refuters as refutation

    temporary = tempfile.TemporaryDirectory() if workdir is None else None
    base = Path(workdir or temporary.name)
    data, processed, results = base / "data", base / "processed", base / "results"
    figures: dict = {"n_customers": n_customers, "jobs": jobs}
    try:
        start = time.perf_counter()
        simulate(out_dir=data, n_customers=n_customers, seed=seed)
        run_pipeline(data_dir=data, results_dir=results, processed_dir=processed, seed=seed, stages="data,panel")
        figures["setup_simulate_data_panel_s"] = round(time.perf_counter() - start, 1)

        steps = {"load_panel": 0.0, "prepare_cells": 0.0, "naive": 0.0, "psm": 0.0, "dml": 0.0, "refutations": 0.0}
        start = time.perf_counter()
        panel = cached_panel(processed)
        steps["load_panel"] = time.perf_counter() - start
        figures["panel_rows"] = int(len(panel))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for key in estimation.cell_keys(panel):
                start = time.perf_counter()
                prepared = estimation.prepare_cell(panel, *key)
                steps["prepare_cells"] += time.perf_counter() - start
                if isinstance(prepared, str):
                    continue
                for name, call in (("naive", lambda: estimators.naive(prepared.cell, seed)),
                                   ("psm", lambda: estimators.psm(prepared.trimmed, seed)),
                                   ("dml", lambda: estimators.dml(prepared.trimmed, seed))):
                    start = time.perf_counter()
                    record = call()
                    steps[name] += time.perf_counter() - start
                    if (*key, name) in estimation.primary_keys():
                        start = time.perf_counter()
                        refutation.refute_estimate(prepared.trimmed, estimation.slim(record), seed,
                                                   learner=record.extra.get("learner"))
                        steps["refutations"] += time.perf_counter() - start
        figures.update({f"step_{k}_s": round(v, 1) for k, v in steps.items()})
        start = time.perf_counter()
        run_pipeline(data_dir=data, results_dir=results, processed_dir=processed, seed=seed, jobs=jobs,
                     stages="estimate,refute")
        figures["estimate_stage_s"] = round(time.perf_counter() - start, 1)
        start = time.perf_counter()
        refute_from_results(results, simulations=None, seed=seed)
        figures["refute_command_s"] = round(time.perf_counter() - start, 1)
        figures["peak_memory_mb"] = round(_peak_mb(), 0)
    finally:
        if temporary is not None:
            temporary.cleanup()
    return figures


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(n_customers=int(sys.argv[1]) if len(sys.argv) > 1 else 63_882), indent=2))
