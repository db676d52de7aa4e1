"""Whole pipeline at real scale: simulate, run (all stages), refute, report (wall time, peak memory).

Each command runs as ``python -m causal ...`` in a subprocess, exactly as a user runs it;
the resident memory of its whole process tree (workers included) is sampled every 0.2 s.
Targets (issues 2, 5, 7): simulate 63,882 customers < 60 s; ``run`` < 10 min and < 4 GB;
``refute`` < 2 min; ``report`` from an existing results folder < 1 min.
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import threading
import time

import pandas as pd
import psutil

from analysis import paths, results_contract

N_CUSTOMERS = 63_882
SEED = 1
JOBS = 2
TARGETS = {"simulate": (60, None), "run": (600, 4.0), "refute": (120, None), "report": (60, None)}


def _timed(command: list[str]) -> dict:
    """Run ``command``; return wall seconds and the peak summed RSS (GB) of its process tree."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=paths.PROJ_ROOT, stdout=subprocess.DEVNULL,
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
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:4])} failed: {stderr.strip().splitlines()[-1:]}")
    return {"seconds": round(time.perf_counter() - started, 1), "peak_gb": round(peak[0] / 1e9, 2)}


def run(n_customers: int = N_CUSTOMERS, seed: int = SEED, jobs: int = JOBS) -> dict:
    """Time the four commands on a fresh simulated data set under ``data/bench/pipeline``."""
    base = paths.BENCH_DIR / "pipeline"
    data, results, processed, reports = (base / n for n in ("data", "results", "processed", "reports"))
    python = [sys.executable, "-m", "causal"]
    figures: dict = {"customers": n_customers, "seed": seed, "jobs": jobs, "cores": os.cpu_count(),
                     "python": platform.python_version(), "load_avg_start": round(os.getloadavg()[0], 2)}
    steps = {
        "simulate": python + ["simulate", "--out", str(data), "--customers", str(n_customers), "--seed", str(seed)],
        "run": python + ["run", "--data", str(data), "--results", str(results), "--processed", str(processed),
                         "--seed", str(seed), "--jobs", str(jobs)],
        "refute": python + ["refute", "--results", str(results), "--seed", str(seed)],
        "report": python + ["report", "--results", str(results), "--out", str(reports)],
    }
    for name, command in steps.items():
        figures[name] = _timed(command)
    figures["load_avg_end"] = round(os.getloadavg()[0], 2)
    figures["metadata_rows"] = sum(1 for _ in open(data / paths.METADATA_CSV)) - 1
    figures["integration_rows"] = sum(1 for _ in open(data / paths.INTEGRATIONS_CSV)) - 1
    figures["effects_rows"] = len(pd.read_csv(results / results_contract.EFFECTS_CSV))
    figures["refutation_rows"] = len(pd.read_csv(results / results_contract.REFUTATIONS_CSV))
    return figures


def to_markdown(figures: dict) -> str:
    """The figures as a table with the targets and whether each is met."""
    lines = [
        f"{figures['customers']:,} simulated customers (seed {figures['seed']}; {figures['metadata_rows']:,} "
        f"metadata rows, {figures['integration_rows']:,} integration rows), `--jobs {figures['jobs']}`, "
        f"{figures['cores']} cores, Python {figures['python']}. 1-minute load average "
        f"{figures['load_avg_start']} at the start and {figures['load_avg_end']} at the end (above 2, other work "
        "competed for the cores). Peak memory is the summed RSS of the command's process tree.",
        "",
        "| command | seconds | peak GB | target | met |",
        "|---|---:|---:|---|---|",
    ]
    for name, (seconds, gigabytes) in TARGETS.items():
        got = figures[name]
        target = f"< {seconds} s" + (f", < {gigabytes} GB" if gigabytes else "")
        met = got["seconds"] < seconds and (gigabytes is None or got["peak_gb"] < gigabytes)
        lines.append(f"| `{name}` | {got['seconds']} | {got['peak_gb']} | {target} | {'yes' if met else 'NO'} |")
    lines += ["", f"`run` wrote {figures['effects_rows']} rows of effects.csv and "
              f"{figures['refutation_rows']} of refutations.csv."]
    return "\n".join(lines) + "\n"
