"""Panel: model tables to panel.parquet, counts and ledger section (wall time and peak memory).

Reuses the data layer benchmark's simulated data set and model (``data/bench/<n>`` and
``data/bench/<n>_out``; builds them when absent), then runs
:func:`analysis.panel.stage.build_panel_stage` in a fresh subprocess that reports its own wall
time (split into reading, building and writing) and peak resident memory. Target (the
issue): the simulated default, 63,882 customers, in under 15 s.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from analysis import paths, results_contract, schema

# customers, target seconds (none at 10x), build the model when absent (only at real scale: the
# 10x model comes from the data layer benchmark, which `python -m benchmarks.run` runs first)
SCALES = ((63_882, 15.0, True), (638_820, None, False))
SEED = 1
_CHILD = """
import json, resource, sys, time
from pathlib import Path
import pandas as pd
from analysis import schema
from analysis.panel.stage import build_panel, build_panel_stage
processed, results = Path(sys.argv[1]), Path(sys.argv[2])
started = time.perf_counter()
tables = {name: pd.read_parquet(processed / f"{name}.parquet") for name in
          (schema.FCT_CUSTOMER_MONTH, schema.DIM_CUSTOMER, schema.FCT_CUSTOMER_INTEGRATION_MONTH)}
read = time.perf_counter() - started
started = time.perf_counter()
months = json.loads((results / results_contract.DATA_QUALITY_JSON).read_text())["tracking_change_months"]
result = build_panel(tables[schema.FCT_CUSTOMER_MONTH], tables[schema.DIM_CUSTOMER],
                     tables[schema.FCT_CUSTOMER_INTEGRATION_MONTH], months)
build = time.perf_counter() - started
del result, tables
started = time.perf_counter()
build_panel_stage(processed, results)
stage = time.perf_counter() - started
summary = json.loads((results / results_contract.DATA_QUALITY_JSON).read_text())["panel"]
print(json.dumps({"read_seconds": read, "build_seconds": build, "stage_seconds": stage,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "rows": summary["rows"], "customer_months": summary["customer_months"],
                  "rows_by_treatment": summary["rows_by_treatment"],
                  "flagged_cohorts": summary["flagged_cohorts"],
                  "panel_mb": (processed / "panel.parquet").stat().st_size / 1e6}))
"""


def simulated_model(n_customers: int, build: bool = True) -> Path | None:
    """Folder with ``processed/`` and ``results/`` of the data layer at one scale.

    Built (simulate + build_model) when absent and ``build``; otherwise None when absent.
    """
    out = paths.BENCH_DIR / f"{n_customers}_out"
    if (out / "processed" / f"{schema.FCT_CUSTOMER_MONTH}.parquet").is_file() and \
            (out / "results" / results_contract.DATA_QUALITY_JSON).is_file():
        return out
    if not build:
        return None
    data_dir = paths.BENCH_DIR / str(n_customers)
    if not paths.has_raw_files(data_dir):
        from analysis.simulator import simulate

        simulate(out_dir=data_dir, n_customers=n_customers, seed=SEED)
    from analysis.data.model import build_model

    build_model(data_dir=data_dir, processed_dir=out / "processed", results_dir=out / "results")
    return out


def measure(n_customers: int, build: bool = True) -> dict | None:
    """Time the panel stage at one scale in a fresh subprocess (None: no model at that scale)."""
    out = simulated_model(n_customers, build)
    if out is None:
        return None
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", _CHILD, str(out / "processed"), str(out / "results")],
                          cwd=paths.PROJ_ROOT, env=env, capture_output=True, text=True, check=True)
    child = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "customers": n_customers,
        "customer_months": child["customer_months"],
        "panel_rows": child["rows"],
        "rows_by_treatment": child["rows_by_treatment"],
        "flagged_cohorts": child["flagged_cohorts"],
        "read_seconds": round(child["read_seconds"], 2),
        "build_seconds": round(child["build_seconds"], 2),
        "stage_seconds": round(child["stage_seconds"], 2),
        "panel_mb": round(child["panel_mb"], 1),
        "peak_rss_gb": round(child["maxrss_kb"] / 1024 ** 2, 3),
    }


def run(scales=SCALES) -> dict:
    """Measure every scale; returns the figures (also rendered by :func:`to_markdown`)."""
    results = []
    for n_customers, target_seconds, build in scales:
        figures = measure(n_customers, build)
        if figures is None:
            continue
        figures["target_seconds"] = target_seconds
        figures["met"] = None if target_seconds is None else figures["stage_seconds"] < target_seconds
        results.append(figures)
    return {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "scales": results}


def to_markdown(figures: dict) -> str:
    """A table of the measured scales."""
    lines = [f"Machine: {figures['machine']}. `build_panel_stage` (read the model Parquet, build the panel "
             "for the four treatment variants, write panel.parquet, panel_counts.csv and the ledger section), "
             "in a fresh process; `build` is the pure `build_panel` alone.", "",
             "| customers | customer-months | panel rows | build s | whole stage s | panel MB | peak RSS GB "
             "| target | met |", "|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for s in figures["scales"]:
        target = f"< {s['target_seconds']:g} s" if s["target_seconds"] is not None else "none"
        met = {None: "-", True: "yes", False: "NO"}[s["met"]]
        lines.append(f"| {s['customers']:,} | {s['customer_months']:,} | {s['panel_rows']:,} | {s['build_seconds']} "
                     f"| {s['stage_seconds']} | {s['panel_mb']} | {s['peak_rss_gb']} | {target} | {met} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    chosen = [s for s in SCALES if not sys.argv[1:] or str(s[0]) in sys.argv[1:]]
    print(to_markdown(run(chosen)))
