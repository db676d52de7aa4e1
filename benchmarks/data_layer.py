"""Data layer: raw CSVs to dimensional model, ledger and trends (wall time and peak memory).

For each scale, the simulator writes a data set once into ``data/bench/<n>`` (kept for
re-runs); then :func:`analysis.data.model.build_model` runs in a fresh subprocess which reports
its own wall time and peak resident memory (``getrusage`` maxrss), so the figures hold
for the data layer alone. Targets (the issue): 63,882 customers < 10 s and < 1.5 GB;
638,820 customers < 90 s and < 8 GB.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from analysis import paths

SCALES = ((63_882, 10.0, 1.5), (638_820, 90.0, 8.0))  # customers, target seconds, target GB
SEED = 1
_CHILD = """
import json, resource, sys, time
from pathlib import Path
from analysis.data.model import build_model
data, out = Path(sys.argv[1]), Path(sys.argv[2])
started = time.perf_counter()
summary = build_model(data, out / "processed", out / "results")
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
print("BENCH-RESULT " + json.dumps({"seconds": seconds, "maxrss_kb": usage.ru_maxrss, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "stage_seconds": summary["stage_seconds"],
                  "rows": summary["rows"], "ledger": summary["ledger"],
                  "tracking_change_months": summary["tracking_change_months"]}))
"""


def _simulated(n_customers: int) -> tuple[Path, float | None]:
    data_dir = paths.BENCH_DIR / str(n_customers)
    if paths.has_raw_files(data_dir):
        return data_dir, None
    from analysis.simulator import simulate

    started = time.perf_counter()
    simulate(out_dir=data_dir, n_customers=n_customers, seed=SEED)
    return data_dir, time.perf_counter() - started


def measure(n_customers: int) -> dict:
    """Simulate (if needed) and time ``build_model`` at one scale in a subprocess."""
    data_dir, simulate_seconds = _simulated(n_customers)
    out = paths.BENCH_DIR / f"{n_customers}_out"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", _CHILD, str(data_dir), str(out)], cwd=paths.PROJ_ROOT, env=env,
                          capture_output=True, text=True, check=True)
    marker = "BENCH-RESULT "
    child = json.loads(next(line for line in done.stdout.splitlines() if line.startswith(marker))[len(marker):])
    load = os.getloadavg()[0]
    sizes = {name: (data_dir / name).stat().st_size for name in paths.RAW_FILES}
    return {
        "customers": n_customers,
        "metadata_rows": child["ledger"][paths.METADATA_CSV]["read"],
        "integration_rows": child["ledger"][paths.INTEGRATIONS_CSV]["read"],
        "input_mb": round(sum(sizes.values()) / 1e6, 1),
        "seconds": round(child["seconds"], 2),
        "cpu_seconds": round(child["cpu_seconds"], 1),
        "stage_seconds": child["stage_seconds"],
        "peak_rss_gb": round(child["maxrss_kb"] / 1024 ** 2, 3),
        "simulate_seconds": round(simulate_seconds, 1) if simulate_seconds is not None else None,
        "load_average_after": round(load, 2),
        "tracking_change_months": child["tracking_change_months"],
    }


def run(scales=SCALES) -> dict:
    """Measure every scale; returns the figures (also rendered by :func:`to_markdown`)."""
    results = []
    for n_customers, target_seconds, target_gb in scales:
        figures = measure(n_customers)
        figures.update(target_seconds=target_seconds, target_gb=target_gb,
                       met=figures["seconds"] < target_seconds and figures["peak_rss_gb"] < target_gb)
        results.append(figures)
    return {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "scales": results}


def to_markdown(figures: dict) -> str:
    """A table of the measured scales."""
    lines = [f"Machine: {figures['machine']}. `build_model` (load, validate, reconcile, model, ledger, trends "
             "with figures), in a fresh process.", "",
             "| customers | metadata rows | integration rows | input MB | seconds | CPU seconds | peak RSS GB | load avg | target | met |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for s in figures["scales"]:
        lines.append(f"| {s['customers']:,} | {s['metadata_rows']:,} | {s['integration_rows']:,} | {s['input_mb']} | "
                     f"{s['seconds']} | {s['cpu_seconds']} | {s['peak_rss_gb']} | {s['load_average_after']} | < {s['target_seconds']:g} s, < {s['target_gb']:g} GB | "
                     f"{'yes' if s['met'] else 'NO'} |")
    lines += ["", "The machine is shared: `load avg` is the 1-minute load average when the run ended "
              "(2 cores; above 2 means other work competed for them, so wall time is longer than on an idle "
              "machine). `CPU seconds` is user + system time of the process (DuckDB uses both cores).", "",
              "Seconds by stage:", "", "| customers | " + " | ".join(figures["scales"][0]["stage_seconds"]) + " |",
              "|---:|" + "---:|" * len(figures["scales"][0]["stage_seconds"])]
    for s in figures["scales"]:
        lines.append(f"| {s['customers']:,} | " + " | ".join(str(v) for v in s["stage_seconds"].values()) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    chosen = [s for s in SCALES if not sys.argv[1:] or str(s[0]) in sys.argv[1:]]
    print(to_markdown(run(chosen)))
