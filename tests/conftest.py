"""Shared fixtures: the reference segments file and cached simulated data sets and runs.

Simulating and running the pipeline are the expensive steps, so each distinct
(size, seed) is built once per test session and shared by every test that asks.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from analysis import paths
from tests.needs import need


@pytest.fixture(scope="session")
def reference_segments_csv() -> Path:
    """The real account_segments.csv beside the repository (never copied in)."""
    need(paths.REFERENCE_SEGMENTS_CSV.is_file(), f"the reference file {paths.REFERENCE_SEGMENTS_CSV}",
         "the shared folder lies beside the repository, or INTEGRATIONS_SHARED_DIR names it")
    return paths.REFERENCE_SEGMENTS_CSV


@pytest.fixture(scope="session")
def simulated_data(tmp_path_factory):
    """Factory ``simulated_data(n_customers, seed)`` -> folder with the three CSVs and truth."""
    cache: dict[tuple[int, int], Path] = {}

    def make(n_customers: int = 6_000, seed: int = 7) -> Path:
        key = (n_customers, seed)
        if key not in cache:
            from analysis.simulator import simulate

            out = tmp_path_factory.mktemp(f"sim_{n_customers}_{seed}")
            simulate(out_dir=out, n_customers=n_customers, seed=seed)
            cache[key] = out
        return cache[key]

    return make


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory, simulated_data):
    """Factory ``pipeline_run(n_customers, seed, stages)`` -> (results_dir, processed_dir).

    Runs ``causal.pipeline.run_pipeline`` on a cached simulated data set. Later
    stages reuse the folders of earlier calls with the same size and seed.
    """
    cache: dict[tuple[int, int], tuple[Path, Path, set]] = {}

    def run(n_customers: int = 6_000, seed: int = 7, stages: str = "all"):
        from causal.pipeline import parse_stages, run_pipeline

        key = (n_customers, seed)
        if key not in cache:
            base = tmp_path_factory.mktemp(f"run_{n_customers}_{seed}")
            cache[key] = (base / "results", base / "processed", set())
        results, processed, done = cache[key]
        wanted = set(parse_stages(stages)) | {"data", "panel"}  # every stage needs the panel
        todo = [s for s in parse_stages("all") if s in wanted and s not in done]
        if todo:
            run_pipeline(
                data_dir=simulated_data(n_customers, seed),
                results_dir=results,
                processed_dir=processed,
                seed=seed,
                jobs=1,
                stages=",".join(todo),
            )
            done.update(todo)
        return results, processed

    return run
