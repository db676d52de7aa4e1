"""What the Quarto tests share: the quarto and Chromium executables, a results folder, a quarto render.

``quarto`` is found on the PATH (``.ci/run`` puts its build there), else in ``/opt/quarto/bin``;
missing, the tests skip on a developer's machine and fail under CI (``tests.needs.need``).
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from analysis import paths
from tests.causal.report.report_fixture import write_fixture_results
from tests.needs import need

QUARTO_TIMEOUT = 600  # seconds per render: generous, the machine is shared
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                  "--hide-scrollbars"]


def quarto_executable() -> str:
    """Path of ``quarto`` (PATH first, then /opt/quarto/bin); skip, or fail under CI, when absent."""
    found = shutil.which("quarto") or next(
        (str(p) for p in (Path("/opt/quarto/bin/quarto"),) if p.is_file()), None)
    need(found is not None, "the quarto CLI",
         "bash ../shared/tools/quarto/setup-quarto.sh /opt/quarto; .ci/run puts it on the PATH")
    return found


def chromium_executable() -> str:
    """Path of headless Chromium; skip, or fail under CI, when absent."""
    found = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
                 None)
    need(found is not None, "headless Chromium", "apt-get install -y chromium")
    return found


def quarto_env(quarto: str) -> dict[str, str]:
    """Environment for quarto: this Python runs its Jupyter engine and kernel, the project importable."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(quarto).parent), str(Path(sys.executable).parent), env.get("PATH", "")])
    env["QUARTO_PYTHON"] = sys.executable
    env["MEMO_PROJECT_ROOT"] = str(paths.PROJ_ROOT)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(paths.PROJ_ROOT), env.get("PYTHONPATH")) if p)
    env.pop("MEMO_RESULTS_DIR", None)
    return env


def write_memo_results(results_dir: Path, seed: int = 3) -> Path:
    """The report fixture's results folder (with the per-outcome forest plots the segments stage writes)."""
    return write_fixture_results(results_dir, seed=seed)


def copy_document(folder: Path) -> Path:
    """report.qmd and _quarto.yml copied into ``folder`` (a render there writes nothing into the repository)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in (paths.REPORT_QMD.name, "_quarto.yml"):
        shutil.copyfile(paths.PROJ_ROOT / name, folder / name)
    return folder


def quarto_render(quarto: str, folder: Path, results: Path, fmt: str | None = None) -> subprocess.CompletedProcess:
    """``quarto render report.qmd [--to fmt] -P results_dir:<results>`` in ``folder``; fails the test on error."""
    command = [quarto, "render", paths.REPORT_QMD.name] + (["--to", fmt] if fmt else [])
    command += ["-P", f"results_dir:{results}"]
    done = subprocess.run(command, cwd=folder, env=quarto_env(quarto), capture_output=True, text=True,
                          timeout=QUARTO_TIMEOUT)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stderr[-2000:]}"
    return done


# --- the documented commands ----------------------------------------------------------------
DOCUMENTED_IN = ("README.md", "docs/report.md")
TINY_CUSTOMERS = "300"


def documented_commands(files=DOCUMENTED_IN) -> list[str]:
    """Every command line of the fenced ``bash`` blocks of ``files``, comments dropped, in order, once each."""
    found: list[str] = []
    for name in files:
        text = (paths.PROJ_ROOT / name).read_text(encoding="utf-8")
        for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M):
            for line in block.splitlines():
                command = re.sub(r"\s+#.*$", "", line).strip()
                if command and not command.startswith("#") and command not in found:
                    found.append(command)
    return found


def as_tested(command: str, python: str) -> tuple[str, str]:
    """(command line to run, how) for one documented command.

    ``as written`` for the memo commands (quarto render, causal report, export); ``dry run`` (make -n) for
    make targets, which run the whole pipeline; ``tiny size`` for simulate (300 customers);
    ``--help`` for run and refute, which take minutes at any size that estimates anything.
    """
    command = re.sub(r"\s*\[[^\]]*\]", "", command)  # optional arguments shown in [brackets]
    if command.startswith("export "):
        return command, "as written"
    if command.startswith("make "):
        return f"make -n -C {shlex.quote(str(paths.PROJ_ROOT))} {command[5:]}", "dry run"
    sub = re.search(r"-m causal (\w+)", command)
    if sub and sub.group(1) == "simulate":
        return re.sub(r"--customers \d+", f"--customers {TINY_CUSTOMERS}", command), "tiny size"
    if sub and sub.group(1) in ("run", "refute"):
        return f"{shlex.quote(python)} -m causal {sub.group(1)} --help", "--help"
    if (sub and sub.group(1) == "report") or re.search(r"(^|\s)quarto render\b", command):
        return command, "as written"
    raise AssertionError(f"documented command with no rule to test it: {command}")


def documented_clone(folder: Path, results_seed: int = 3) -> Path:
    """A stand-in clone: report.qmd, _quarto.yml, a fixture ``results/`` and ``.venv/bin/python`` (this Python)."""
    copy_document(folder)
    write_memo_results(folder / "results", seed=results_seed)
    venv_python = folder / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True, exist_ok=True)
    venv_python.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    venv_python.chmod(0o755)
    return folder


def run_documented(folder: Path, quarto: str) -> list[dict]:
    """Run every documented command in ``folder`` (one bash, so exports carry over); one record per command."""
    env = quarto_env(quarto)
    env.pop("QUARTO_PYTHON")  # the docs must say to set it
    env.pop("MEMO_PROJECT_ROOT")  # as in a clone: the project is importable (PYTHONPATH stands in for the cwd)
    records = []
    for command in documented_commands():
        to_run, how = as_tested(command, str(folder / ".venv" / "bin" / "python"))
        started = time.perf_counter()
        script = f"{to_run}\nenv -0"  # the environment after the command, for exports
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=QUARTO_TIMEOUT)
        if done.returncode == 0 and command.startswith("export "):
            env = dict(item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)
        records.append({"command": command, "ran": to_run, "how": how, "returncode": done.returncode,
                        "stderr": done.stderr[-1500:], "seconds": round(time.perf_counter() - started, 1)})
    return records
