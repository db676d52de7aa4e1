"""Every stage of `run` works with one native (BLAS / OpenMP) thread in the main process, as its workers do."""
from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info

from causal import pipeline


def test_a_stage_runs_with_one_blas_thread_and_the_limit_ends_with_it(tmp_path, monkeypatch):
    seen = {}

    def fake_stage(results_dir, processed_dir, seed, jobs, n_bootstrap):
        np.ones((2, 2)) @ np.ones((2, 2))  # BLAS is loaded
        seen["threads"] = {pool["num_threads"] for pool in threadpool_info()}
        return {}, [], {}

    monkeypatch.setattr(pipeline, "_stage_estimate", fake_stage)  # what the estimate stage's runner calls
    reports = pipeline.run_pipeline(tmp_path / "data", tmp_path / "results", stages="estimate")
    assert [r.status for r in reports] == ["ok"]
    assert seen["threads"] == {1}
    # outside the stage the defaults are back (this machine has 2 cores; a limit left behind would show 1)
    import os

    if (os.cpu_count() or 1) > 1:
        assert max(pool["num_threads"] for pool in threadpool_info()) > 1
