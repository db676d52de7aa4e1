"""Same seed, same numbers, whatever the number of workers or the backend (local processes or Ray)."""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

from analysis import results_contract
from causal.estimate import tasks
from causal.estimate.stage import run_estimation_stage
from tests.causal.synthetic import synthetic_panel
from tests.needs import need

pytestmark = pytest.mark.slow  # three runs of the estimate stage on a small panel


@pytest.fixture(scope="module")
def processed_dir(tmp_path_factory):
    panel = synthetic_panel(n_customers=600, seed=8, confounding=1.5)
    panel = panel.loc[panel["treatment"].isin(["any", "custom"])]  # two variants keep the test quick
    folder = tmp_path_factory.mktemp("processed")
    panel.to_parquet(folder / "panel.parquet")
    return folder


def _run(processed_dir, results, jobs: int) -> bytes:
    (results / results_contract.RUN_INFO_JSON).write_text(json.dumps({"processed_dir": str(processed_dir)}))
    run_estimation_stage(processed_dir, results, seed=5, jobs=jobs, n_bootstrap=20)
    return (results / results_contract.EFFECTS_CSV).read_bytes()


@pytest.fixture(scope="module")
def serial(tmp_path_factory, processed_dir):
    results = tmp_path_factory.mktemp("jobs1")
    return _run(processed_dir, results, 1), results


def test_two_workers_write_byte_identical_effects_and_nuisances(tmp_path, processed_dir, serial):
    effects, results = serial
    assert b",dml,ATT," in effects  # the DML ATT is among the rows compared
    assert _run(processed_dir, tmp_path, 2) == effects
    cached = sorted((results / results_contract.NUISANCE_CACHE_DIR).glob("*.npz"))
    assert cached
    for path in cached:
        with np.load(path) as one, np.load(tmp_path / results_contract.NUISANCE_CACHE_DIR / path.name) as two:
            for name in one.files:
                np.testing.assert_array_equal(one[name], two[name])


@pytest.mark.ray
def test_ray_backend_writes_byte_identical_effects(tmp_path, processed_dir, serial):
    try:
        import ray
    except ImportError:
        ray = None
    need(ray is not None, "the Ray extra", "make setup-ray")
    # workers import this checkout's packages: hand them the test process's import path
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}})
    try:
        tasks.use_ray("auto")
        assert _run(processed_dir, tmp_path, 2) == serial[0]
    finally:
        tasks.use_ray(None)
        ray.shutdown()
