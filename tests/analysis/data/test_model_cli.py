"""`python -m causal run --stages data` through the command line: exit codes and one-line errors."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import paths
from tests.analysis.data.malformed.cases import CASES, ErrorExpected
from tests.analysis.data.rawdata import base_lines, write_raw_set


def _run(data_dir: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "-m", "causal", "run", "--data", str(data_dir), "--results", str(tmp_path / "results"),
         "--processed", str(tmp_path / "processed"), "--stages", "data"],
        cwd=paths.PROJ_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


def test_good_data_runs(tmp_path):
    done = _run(write_raw_set(tmp_path / "raw"), tmp_path)
    assert done.returncode == 0, done.stderr
    quality = json.loads((tmp_path / "results" / "data_quality.json").read_text())
    assert set(quality) >= {"ledger", "checks", "reconciliation", "tracking_change_months", "tracking_changes",
                            "months", "simulated"}
    assert (tmp_path / "results" / "run_info.json").is_file()
    assert not re.search(r"H\d{8}", done.stdout + done.stderr)


@pytest.mark.parametrize("name", ["latin1_text", "zero_byte_integrations", "european_money_everywhere",
                                  "all_ids_malformed", "old_mac_line_ends"])
def test_bad_file_exits_2_with_one_line(name, tmp_path):
    case = next(c for c in CASES if c.name == name)
    files, expected = case.build(base_lines())
    assert isinstance(expected, ErrorExpected)
    done = _run(write_raw_set(tmp_path / "raw", files), tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith(f"error: {expected.file}")
    if expected.line is not None:
        assert f"line {expected.line}" in lines[0]
    if expected.column is not None:
        assert f"column {expected.column}" in lines[0]
    assert not re.search(r"H\d{4,8}\b", done.stderr)
