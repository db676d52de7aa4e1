"""map_cells: results in task order whatever the workers, costliest tasks handed out first."""
from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

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
    started = [path.name.split("_")[1] for path in sorted(log.iterdir())]
    assert set(started[:2]) == {"b", "d"}  # the two cost-2 tasks went out first
    assert set(started[-2:]) == {"a", "e"}  # the cheap ones last


def test_one_job_runs_in_task_order(tmp_path):
    processed = _panel(tmp_path / "processed")
    log = tmp_path / "log"
    log.mkdir()
    tasks = [(("any", name), (str(log),)) for name in COSTS]
    results = map_cells(processed, note_start, tasks, jobs=1, desc="test", cost=lambda key: COSTS[key[1]])
    assert [name for name, _ in results] == list(COSTS)
    assert [path.name.split("_")[1] for path in sorted(log.iterdir())] == list(COSTS)
