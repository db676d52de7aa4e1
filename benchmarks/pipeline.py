"""Whole pipeline at real scale: simulate, run (all stages), refute, report (wall time, peak memory).

Each command runs as ``/usr/bin/time -v python -m causal ...`` in a subprocess, exactly as a
user runs it, so every figure can be reproduced by hand: wall seconds and the largest single
process's maximum resident set size come from ``/usr/bin/time -v``; the peak of the summed
resident memory of the command's whole process tree (workers included) is sampled every 0.2 s.
The 1-minute load average is read before and after each command. Seconds by stage and by
step come from the run's own ``run_info.json`` (``stages[stage]["seconds"]`` and ``["steps"]``).

Targets (issue 16): ``run`` on 63,882 customers <= 180 s and <= 3 GB with ``--jobs 2``,
``refute`` <= 45 s; :mod:`benchmarks.pipeline_10x` runs the same at ten times the size.
"""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import psutil

from analysis import paths, results_contract

N_CUSTOMERS = 63_882
SEED = 1
JOBS = 2
# command: (seconds, summed-tree GB); None: no target
TARGETS = {"simulate": (60, None), "run": (180, 3.0), "refute": (45, None), "report": (60, None)}
TIME_V = "/usr/bin/time"


def _time_v_figures(stderr: str) -> dict:
    """Wall seconds and maximum RSS (GB) from the report of ``/usr/bin/time -v``."""
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    user = re.search(r"User time \(seconds\): ([\d.]+)", stderr)
    system = re.search(r"System time \(seconds\): ([\d.]+)", stderr)
    if not (wall and rss):
        return {}
    hours, minutes, seconds = int(wall.group(1) or 0), int(wall.group(2)), float(wall.group(3))
    return {"wall_s": round(hours * 3600 + minutes * 60 + seconds, 1),
            "max_rss_gb": round(int(rss.group(1)) / 1e6, 2),
            "cpu_s": round(float(user.group(1)) + float(system.group(1)), 1) if user and system else None}


def timed(command: list[str]) -> dict:
    """Run ``command`` under ``/usr/bin/time -v``; its wall time, memory and the load around it.

    Returns
    -------
    dict
        ``seconds`` (wall), ``max_rss_gb`` (largest single process, ``/usr/bin/time -v``),
        ``peak_gb`` (summed process tree, sampled), ``cpu_s``, ``load_start``, ``load_end``.
    """
    wrapped = [TIME_V, "-v"] + command if Path(TIME_V).is_file() else command
    load_start = round(os.getloadavg()[0], 2)
    started = time.perf_counter()
    process = subprocess.Popen(wrapped, cwd=paths.PROJ_ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        root = psutil.Process(process.pid)
        while process.poll() is None:
            try:
                tree = [root] + root.children(recursive=True)
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    sampler.join()
    seconds = round(time.perf_counter() - started, 1)
    if process.returncode not in (0, 1):  # 1: a degraded stage or a failed check, still a whole run
        raise RuntimeError(f"{' '.join(command[2:4])} exited {process.returncode}: "
                           f"{[line for line in stderr.splitlines() if line.strip()][-3:]}")
    found = _time_v_figures(stderr)
    return {"seconds": found.get("wall_s", seconds), "max_rss_gb": found.get("max_rss_gb"),
            "peak_gb": round(peak[0] / 1e9, 2), "cpu_s": found.get("cpu_s"), "exit_code": process.returncode,
            "load_start": load_start, "load_end": round(os.getloadavg()[0], 2)}


def stage_seconds(results: Path) -> dict:
    """``{stage: {"seconds", "status", "steps"}}`` from a run's ``run_info.json``."""
    info = json.loads((results / results_contract.RUN_INFO_JSON).read_text())
    return {name: {"seconds": record.get("seconds"), "status": record.get("status"), "steps": record.get("steps", {})}
            for name, record in info.get("stages", {}).items()}


def run(n_customers: int = N_CUSTOMERS, seed: int = SEED, jobs: int = JOBS, name: str = "pipeline",
        commands: tuple[str, ...] = ("simulate", "run", "refute", "report")) -> dict:
    """Time the commands on a fresh simulated data set under ``data/bench/<name>``.

    Parameters
    ----------
    n_customers, seed, jobs : int
        Size and seed of the simulated data; worker processes of ``run`` and ``refute``.
    name : str
        Folder under ``data/bench`` (its results stay there for :mod:`benchmarks.pipeline_coverage`).
    commands : tuple of str
        Which of ``simulate``, ``run``, ``refute``, ``report`` to time, in that order.
    """
    base = paths.BENCH_DIR / name
    data, results, processed, reports = (base / n for n in ("data", "results", "processed", "reports"))
    for folder in (results, processed, reports):
        shutil.rmtree(folder, ignore_errors=True)
    python = [sys.executable, "-m", "causal"]
    figures: dict = {"customers": n_customers, "seed": seed, "jobs": jobs, "cores": os.cpu_count(),
                     "python": platform.python_version(), "machine": platform.machine(),
                     "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
                     "taken": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    steps = {
        "simulate": python + ["simulate", "--out", str(data), "--customers", str(n_customers), "--seed", str(seed)],
        "run": python + ["run", "--data", str(data), "--results", str(results), "--processed", str(processed),
                         "--seed", str(seed), "--jobs", str(jobs), "--quiet"],
        "refute": python + ["refute", "--results", str(results), "--seed", str(seed), "--jobs", str(jobs)],
        "report": python + ["report", "--results", str(results), "--out", str(reports)],
    }
    figures["commands"] = {}
    for command in commands:
        figures["commands"][command] = {"argv": " ".join(["python", "-m", "causal"] + steps[command][3:]),
                                        **timed(steps[command])}
    figures["metadata_rows"] = sum(1 for _ in open(data / paths.METADATA_CSV)) - 1
    figures["integration_rows"] = sum(1 for _ in open(data / paths.INTEGRATIONS_CSV)) - 1
    if (results / results_contract.RUN_INFO_JSON).is_file():
        figures["stages"] = stage_seconds(results)
        figures["effects_rows"] = len(pd.read_csv(results / results_contract.EFFECTS_CSV))
        figures["refutation_rows"] = len(pd.read_csv(results / results_contract.REFUTATIONS_CSV))
    return figures


def _short(argv: str) -> str:
    return re.sub(r"/\S*/data/bench/", "data/bench/", argv)


def command_table(figures: dict, targets: dict) -> list[str]:
    """Markdown rows: command, wall seconds, CPU seconds, memory, load, target, met."""
    lines = ["| command | wall s | CPU s | max RSS GB (largest process) | peak GB (process tree) | load before / after "
             "| target | met |", "|---|---:|---:|---:|---:|---|---|---|"]
    for name, got in figures["commands"].items():
        seconds, gigabytes = targets.get(name, (None, None))
        target = "none" if seconds is None else f"<= {seconds} s" + (f", <= {gigabytes} GB" if gigabytes else "")
        met = "-" if seconds is None else (
            "yes" if got["seconds"] <= seconds and (gigabytes is None or got["peak_gb"] <= gigabytes) else "NO")
        lines.append(f"| `{_short(got['argv'])}` | {got['seconds']} | {got['cpu_s']} | {got['max_rss_gb']} | "
                     f"{got['peak_gb']} | {got['load_start']} / {got['load_end']} | {target} | {met} |")
    return lines


def stage_table(figures: dict) -> list[str]:
    """Markdown rows: each stage's seconds and status, and its main steps."""
    lines = ["| stage | status | seconds | main steps (seconds) |", "|---|---|---:|---|"]
    for name, record in figures.get("stages", {}).items():
        steps = ", ".join(f"{step} {seconds}" for step, seconds in record["steps"].items()) or "-"
        lines.append(f"| {name} | {record['status']} | {record['seconds']} | {steps} |")
    return lines


def preamble(figures: dict) -> str:
    return (f"{figures['customers']:,} simulated customers (seed {figures['seed']}; {figures['metadata_rows']:,} "
            f"metadata rows, {figures['integration_rows']:,} integration rows), `--jobs {figures['jobs']}`; "
            f"{figures['machine']}, {figures['cores']} cores, {figures['memory_gb']} GiB, Python "
            f"{figures['python']}; taken {figures['taken']}. Each command ran under `/usr/bin/time -v` "
            "(wall and CPU seconds, largest process's maximum RSS); the process tree's summed RSS was sampled every "
            "0.2 s. The load is the 1-minute load average before and after the command (2 cores: above 2, other "
            "work competed for them).")


def to_markdown(figures: dict) -> str:
    """The figures as tables with the targets and whether each is met."""
    lines = [preamble(figures), "", *command_table(figures, TARGETS), "",
             "Seconds by stage of `run`, from its `run_info.json`:", "", *stage_table(figures)]
    if "effects_rows" in figures:
        lines += ["", f"`run` wrote {figures['effects_rows']} rows of effects.csv and "
                  f"{figures['refutation_rows']} of refutations.csv."]
    return "\n".join(lines) + "\n"
