"""Segments stage: effects by segment, marketplace vs custom, targeting, dollars (wall time, memory).

Reuses the panel benchmark's simulated default (``data/bench/63882_out``; builds the model and
panel when absent), then runs :func:`causal.segments.stage.run_segments_stage` in a fresh
subprocess (one thread, ``jobs=1``) that reports its wall time, the time of each step and its
peak resident memory. Target (the issue): under 3 minutes at 63,882 customers.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile

from analysis import paths

N_CUSTOMERS, TARGET_SECONDS, SEED = 63_882, 180.0, 1
_CHILD = """
import json, resource, sys, time
from pathlib import Path
from causal.segments.stage import run_segments_stage
processed, results = Path(sys.argv[1]), Path(sys.argv[2])
started = time.perf_counter()
run_segments_stage(processed, results, seed=int(sys.argv[3]), jobs=1)
seconds = time.perf_counter() - started
summary = json.loads((results / "heterogeneity_summary.json").read_text())
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": seconds, "maxrss_kb": usage.ru_maxrss, "timings": summary["timings"]}))
"""


def _panel_folder():
    from benchmarks.panel import simulated_model

    out = simulated_model(N_CUSTOMERS, build=True)
    if not (out / "processed" / "panel.parquet").is_file():
        from analysis.panel.stage import build_panel_stage

        build_panel_stage(processed_dir=out / "processed", results_dir=out / "results")
    return out


def run() -> dict:
    """Time the segments stage at the simulated default; returns the figures."""
    out = _panel_folder()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    with tempfile.TemporaryDirectory() as results:
        done = subprocess.run([sys.executable, "-c", _CHILD, str(out / "processed"), results, str(SEED)],
                              cwd=paths.PROJ_ROOT, env=env, capture_output=True, text=True, check=True)
    child = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "customers": N_CUSTOMERS,
        "stage_seconds": round(child["seconds"], 1),
        "step_seconds": child["timings"],
        "peak_rss_gb": round(child["maxrss_kb"] / 1024 ** 2, 3),
        "target_seconds": TARGET_SECONDS,
        "met": child["seconds"] < TARGET_SECONDS,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def to_markdown(figures: dict) -> str:
    """Stage time, where it goes, and memory."""
    lines = [f"Machine: {figures['machine']}; 1-minute load average at the end: {figures['load_average_1min']} "
             "(the machine is shared, so times vary). `run_segments_stage` on the simulated default "
             f"({figures['customers']:,} customers), one thread, in a fresh process.", "",
             "| step | seconds |", "|---|---:|"]
    lines += [f"| {step.replace('_', ' ')} | {seconds} |" for step, seconds in figures["step_seconds"].items()]
    met = "yes" if figures["met"] else "NO"
    lines += [f"| **whole stage** | **{figures['stage_seconds']}** |", "",
              f"Peak RSS {figures['peak_rss_gb']} GB. Target < {figures['target_seconds']:g} s: {met}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(to_markdown(run()))
