"""map_cells: results in task order whatever the workers, costliest tasks handed out first."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest

from analysis.panel.stage import panel_columns
from causal.estimate.tasks import map_cells

COSTS = {"a": 0, "b": 2, "c": 1, "d": 2, "e": 0, "f": 1}


def note_start(panel: pd.DataFrame, key: tuple, log_dir: str) -> tuple[str, int]:
    """A task that notes when it started and how many panel rows of its variant it saw."""
    Path(log_dir, f"{time.perf_counter_ns():024d}_{key[1]}").touch()
    time.sleep(0.4)
    return key[1], len(panel)


def _panel(folder: Path) -> Path:
    rows = {column: [None] * 3 for column in panel_columns()}
    rows["treatment"] = ["any", "any", "first"]
    folder.mkdir()
    pd.DataFrame(rows).to_parquet(folder / "panel.parquet")
    return folder


def test_results_in_task_order_and_costliest_first(tmp_path):
    processed = _panel(tmp_path / "processed")
    log = tmp_path / "log"
    log.mkdir()
    tasks = [(("any" if name < "d" else "first", name), (str(log),)) for name in COSTS]
    results = map_cells(processed, note_start, tasks, jobs=2, desc="test", cost=lambda key: COSTS[key[1]])
    assert [name for name, _ in results] == list(COSTS)  # task order, not the order of work
    assert [rows for _, rows in results] == [2, 2, 2, 1, 1, 1]  # each task saw its own variant


def test_costliest_tasks_are_handed_out_first_and_come_back_in_task_order(tmp_path, monkeypatch):
    from causal.estimate import tasks as task_module

    handed_out = []

    def spy(processed, work, ordered, jobs, desc):  # the pool, seen from outside: what it is given, in order
        handed_out.extend(key[1] for key, _ in ordered)
        return [f"result of {key[1]}" for key, _ in ordered]

    monkeypatch.setattr(task_module, "_map_parallel", spy)
    tasks = [(("any", name), ()) for name in COSTS]
    results = map_cells(tmp_path, note_start, tasks, jobs=2, desc="test", cost=lambda key: COSTS[key[1]])
    assert handed_out == ["b", "d", "c", "f", "a", "e"]  # by cost, ties in task order
    assert results == [f"result of {name}" for name in COSTS]


def test_one_job_runs_in_task_order(tmp_path):
    processed = _panel(tmp_path / "processed")
    log = tmp_path / "log"
    log.mkdir()
    tasks = [(("any", name), (str(log),)) for name in COSTS]
    results = map_cells(processed, note_start, tasks, jobs=1, desc="test", cost=lambda key: COSTS[key[1]])
    assert [name for name, _ in results] == list(COSTS)
    assert [path.name.split("_")[1] for path in sorted(log.iterdir())] == list(COSTS)


def test_a_worker_reads_only_its_variant_with_the_whole_panels_labels(tmp_path, monkeypatch):
    from analysis.panel.stage import load_panel
    from causal.estimate import tasks
    from tests.causal.synthetic import synthetic_panel

    panel = synthetic_panel(n_customers=300, seed=5, confounding=1.0)
    shuffled = panel.sample(frac=1.0, random_state=0).reset_index(drop=True)  # variants interleaved in the file
    (tmp_path / "processed").mkdir()
    shuffled.to_parquet(tmp_path / "processed" / "panel.parquet", index=False)  # as the panel stage writes it
    whole = load_panel(tmp_path / "processed")
    reads = []
    monkeypatch.setattr(tasks, "load_panel", lambda folder, treatment=None: reads.append(treatment)
                        or load_panel(folder, treatment))
    # a panel written with its own index (a subset of rows) keeps those labels
    (tmp_path / "indexed").mkdir()
    subset = shuffled.iloc[::3]
    subset.to_parquet(tmp_path / "indexed" / "panel.parquet")
    for treatment in subset["treatment"].unique():
        pd.testing.assert_frame_equal(load_panel(tmp_path / "indexed", treatment),
                                      subset.loc[subset["treatment"] == treatment])
    assert shuffled["treatment"].nunique() > 1
    for treatment in shuffled["treatment"].unique():
        expected = whole.loc[whole["treatment"] == treatment]
        pd.testing.assert_frame_equal(load_panel(tmp_path / "processed", treatment), expected)
        tasks.release_panels()  # a fresh worker: nothing cached
        pd.testing.assert_frame_equal(tasks.cached_panel(tmp_path / "processed", treatment), expected)
    assert None not in reads and len(reads) == shuffled["treatment"].nunique()  # never the whole panel
    tasks.release_panels()
    tasks.cached_panel(tmp_path / "processed")  # a process that has the whole panel takes variants from it
    pd.testing.assert_frame_equal(tasks.cached_panel(tmp_path / "processed", "any"),
                                  whole.loc[whole["treatment"] == "any"])
    tasks.release_panels()


def test_release_workers_stops_the_idle_workers(tmp_path):
    import os

    from causal.estimate.tasks import release_workers

    processed = _panel(tmp_path / "processed")
    log = tmp_path / "log"
    log.mkdir()
    tasks = [(("any", name), (str(log),)) for name in "ab"]
    map_cells(processed, worker_pid, tasks, jobs=2, desc="test")
    pids = {pid for pid in map_cells(processed, worker_pid, tasks, jobs=2, desc="test")}
    assert os.getpid() not in pids
    release_workers()
    for pid in pids:  # gone: signal 0 only checks that the process exists
        try:
            os.kill(pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        assert not alive
    release_workers()  # nothing left to stop: no error


def worker_pid(panel: pd.DataFrame, key: tuple, log_dir: str) -> int:
    time.sleep(0.2)
    return os.getpid()


def _resident_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1e3 for line in status if line.startswith("VmRSS"))


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads resident memory from /proc")
def test_release_memory_gives_freed_arrow_memory_back():
    import numpy as np
    import pyarrow as pa

    from causal.estimate.tasks import release_memory

    release_memory()
    baseline = _resident_mb()
    columns = {f"c{i}": pa.array(np.arange(200_000, dtype=float) + i) for i in range(200)}  # 320 MB, as a panel's
    frame = pa.table(columns).to_pandas(types_mapper=pd.ArrowDtype)
    held = _resident_mb() - baseline
    assert held > 250  # the columns are resident
    del columns, frame
    release_memory()
    assert _resident_mb() - baseline < held / 3  # Arrow's allocator kept them until released


def refaulted_pages(panel: pd.DataFrame, key: tuple, size_mb: int) -> tuple[int, int, float]:
    """Page faults of allocating ``size_mb`` again after freeing it, the process id, and resident MB after
    :func:`release_memory` (a task of the map's worker, or of this process)."""
    import resource

    import numpy as np

    from causal.estimate.tasks import release_memory

    block = np.ones(size_mb * 125_000)  # size_mb MB of float64, touched
    del block
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = np.ones(size_mb * 125_000)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    del block
    release_memory()
    return faults, os.getpid(), _resident_mb()


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="glibc on Linux")
def test_workers_reuse_freed_blocks_and_still_hand_them_back_after_the_task(tmp_path):
    from causal.estimate.tasks import release_workers

    processed = _panel(tmp_path / "processed")
    release_workers()  # fresh workers
    results = map_cells(processed, refaulted_pages, [(("any", i), (200,)) for i in range(2)], jobs=2, desc="test")
    assert all(pid != os.getpid() for _, pid, _ in results)
    # a freed 200 MB block is taken again from the worker's heap: no page of it is faulted in anew
    assert all(faults < 10 for faults, _, _ in results), results
    assert all(resident < 600 for _, _, resident in results), results  # and handed back when the task ended
    release_workers()
    # the run's own process keeps glibc's defaults: each large block is a fresh mapping (50 huge or
    # 51,200 small pages for 200 MB)
    alone, pid, _ = map_cells(processed, refaulted_pages, [(("any", 0), (200,))], jobs=1, desc="test")[0]
    assert pid == os.getpid() and alone >= 50
