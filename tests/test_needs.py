"""Under CI a missing tool fails the test with one line; elsewhere it skips."""
from __future__ import annotations

import subprocess
import sys

from analysis import paths

PROBE = '''
from tests.needs import need
def test_probe():
    need(False, "a tool", "install it")
'''


def _run(tmp_path, ci: str) -> subprocess.CompletedProcess:
    test = tmp_path / "test_probe.py"
    test.write_text(PROBE)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(paths.PROJ_ROOT), "CI": ci}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", str(test)],
                          cwd=tmp_path, capture_output=True, text=True, env=env)


def test_missing_tool_fails_under_ci(tmp_path):
    result = _run(tmp_path, "true")
    assert result.returncode == 1
    assert "CI needs a tool is missing (install it)" in result.stdout


def test_missing_tool_skips_elsewhere(tmp_path):
    result = _run(tmp_path, "")
    assert result.returncode == 0 and "1 skipped" in result.stdout
