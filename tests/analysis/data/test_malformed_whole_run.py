"""Each malformed input through the whole ``python -m causal run``: exit 0 with its ledger entry,
or exit 2 with one stderr line naming the file; never a traceback.

The runs are started together, two at a time (the machine has two cores), the first time a
case asks for its result; each run uses 20 customer-bootstrap draws instead of 100, since
what is tested is how the input is handled, not the width of an interval."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.analysis.data.malformed.whole_run import RUN_CASES, Finishes, Refused
from tests.scenarios.generator import ScenarioSpec, write_scenario

ROOT = Path(__file__).resolve().parents[3]
BASE_CUSTOMERS = 400
BOOTSTRAP_DRAWS = 20
PARALLEL_RUNS = 2


@pytest.fixture(scope="module")
def base_set(tmp_path_factory) -> Path:
    return write_scenario(ScenarioSpec(n_customers=BASE_CUSTOMERS, seed=11), tmp_path_factory.mktemp("base") / "raw")


def causal_run(data: Path, results: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "causal", "run", "--data", str(data), "--results", str(results),
                           "--jobs", "1", "--bootstrap", str(BOOTSTRAP_DRAWS), *extra], cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)


@pytest.fixture(scope="module")
def whole_runs(base_set, tmp_path_factory) -> dict:
    """Case name -> (completed run, results folder), every case run once, two at a time."""
    from concurrent.futures import ThreadPoolExecutor

    def one(case):
        base = tmp_path_factory.mktemp(case.name)
        data = base / "raw"
        shutil.copytree(base_set, data)
        case.mutate(data)
        return case.name, (causal_run(data, base / "results"), base / "results")

    with ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
        return dict(pool.map(one, RUN_CASES))


def test_whole_run_corpus_has_fifteen_cases():
    assert len({case.name for case in RUN_CASES}) == len(RUN_CASES) >= 15


@pytest.mark.slow
@pytest.mark.parametrize("case", RUN_CASES, ids=[case.name for case in RUN_CASES])
def test_malformed_input_whole_run(case, whole_runs):
    done, results = whole_runs[case.name]
    assert "Traceback" not in done.stderr
    if isinstance(case.expected, Refused):
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and case.expected.file in lines[0], lines
        for phrase in case.expected.phrases:
            assert phrase in lines[0], lines[0]
        return
    assert isinstance(case.expected, Finishes)
    assert done.returncode == 0, done.stderr
    info = json.loads((results / "run_info.json").read_text())
    assert set(info["stages"]) == {"data", "panel", "estimate", "refute", "segments"}
    assert all(s["status"] in ("ok", "degraded") for s in info["stages"].values()), info["stages"]
    assert (results / "effects.csv").is_file()
    case.expected.check(json.loads((results / "data_quality.json").read_text()))
