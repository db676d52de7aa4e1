"""Runs with different results folders do not share files; a second run on the same folder is refused."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from causal.pipeline import LOCK_FILE, RunLocked, acquire_lock, release_lock
from tests.scenarios.generator import ScenarioSpec, write_scenario

ROOT = Path(__file__).resolve().parents[2]
STAGES = "data,panel,estimate"


def _start(data: Path, results: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "causal", "run", "--data", str(data), "--results", str(results),
                             "--jobs", "1", "--stages", STAGES], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen) -> str:
    _, err = process.communicate(timeout=1800)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    return err


@pytest.mark.slow
def test_concurrent_runs_match_a_run_alone(tmp_path):
    data = write_scenario(ScenarioSpec(n_customers=400, seed=12), tmp_path / "raw")
    _finish(_start(data, tmp_path / "alone"))
    first, second = _start(data, tmp_path / "a"), _start(data, tmp_path / "b")
    _finish(first), _finish(second)
    alone = (tmp_path / "alone" / "effects.csv").read_bytes()
    assert (tmp_path / "a" / "effects.csv").read_bytes() == alone
    assert (tmp_path / "b" / "effects.csv").read_bytes() == alone
    infos = [json.loads((tmp_path / name / "run_info.json").read_text()) for name in ("alone", "a", "b")]
    assert len({info["panel_sha256"] for info in infos}) == 1
    assert {info["processed_dir"] for info in infos} == {str((tmp_path / n / "processed").resolve())
                                                           for n in ("alone", "a", "b")}
    steps = infos[0]["stages"]["estimate"]["steps"]  # the main steps' wall seconds, for the benchmarks
    assert set(steps) == {"cells_flagged_cohorts_event_study", "write_results"}
    assert all(seconds >= 0 for seconds in steps.values())
    assert infos[0]["stages"]["data"]["steps"] == {}


@pytest.mark.slow
def test_second_run_on_the_same_folder_is_refused(tmp_path):
    data = write_scenario(ScenarioSpec(n_customers=400, seed=12), tmp_path / "raw")
    results = tmp_path / "results"
    first = _start(data, results)
    deadline = time.monotonic() + 300
    while not (results / LOCK_FILE).is_file():
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.2)
    second = subprocess.run([sys.executable, "-m", "causal", "run", "--data", str(data), "--results", str(results),
                             "--stages", "data"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert second.returncode == 2
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "another `causal run`" in lines[0] and str(results) in lines[0]
    _finish(first)
    assert not (results / LOCK_FILE).exists()


def test_lock_refuses_a_live_holder_and_takes_over_a_stale_one(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / LOCK_FILE).write_text(f"{holder.pid}\n")
        with pytest.raises(RunLocked, match="another `causal run`"):
            acquire_lock(tmp_path)
    finally:
        holder.kill()
        holder.wait()
    lock = acquire_lock(tmp_path)  # the holder is gone: its lock is stale
    assert lock.read_text().strip().isdigit()
    release_lock(lock)
    assert not lock.exists()
