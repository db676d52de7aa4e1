"""`python -m causal run`: the analysis stages in order, each reading its inputs from disk.

Stages (each a function with explicit inputs, outputs and seed):

``data``     analysis.data.build_model: load, validate, ledger, reconcile, model, trends
``panel``    analysis.panel.build_panel_stage: eligible customer-months, treatment, outcomes
``estimate`` causal.estimate.run_estimation_stage: naive, PSM, DML, balance
``refute``   causal.refute.run_refutation_stage: the refutation suite of the primary estimates
``segments`` causal.segments.run_segments_stage: effects by segment, targeting, dollars
"""
from __future__ import annotations

import json
import platform
import shutil
from importlib import metadata
from pathlib import Path

from analysis import paths, results_contract

STAGES = ("data", "panel", "estimate", "refute", "segments")
_PACKAGES = ("dowhy", "econml", "pandas", "numpy", "scikit-learn", "statsmodels", "duckdb")


def parse_stages(stages: str) -> list[str]:
    """Turn ``"all"`` or ``"data,panel"`` into an ordered list of stage names."""
    if stages in ("all", "", None):
        return list(STAGES)
    wanted = [s.strip() for s in stages.split(",") if s.strip()]
    unknown = sorted(set(wanted) - set(STAGES))
    if unknown:
        raise SystemExit(f"error: unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    return [s for s in STAGES if s in wanted]


def write_run_info(data_dir: Path, results_dir: Path, processed_dir: Path, seed: int, jobs: int) -> dict:
    """Record provenance in ``run_info.json`` and copy the simulator's truth when present.

    The memo reads ``simulated`` to say on every page that the data are simulated.
    """
    simulated = (data_dir / paths.TRUTH_JSON).is_file()
    info = {
        "data_dir": str(data_dir.resolve()),
        "processed_dir": str(processed_dir.resolve()),
        "results_dir": str(results_dir.resolve()),
        "simulated": simulated,
        "seed": seed,
        "jobs": jobs,
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in _PACKAGES},
    }
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / results_contract.RUN_INFO_JSON).write_text(json.dumps(info, indent=2) + "\n")
    if simulated:
        shutil.copyfile(data_dir / paths.TRUTH_JSON, results_dir / results_contract.SIMULATION_TRUTH_JSON)
    return info


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def run_pipeline(
    data_dir: Path,
    results_dir: Path,
    processed_dir: Path,
    seed: int = 1,
    jobs: int = 1,
    stages: str = "all",
) -> None:
    """Run the chosen stages on the raw extracts in ``data_dir``.

    Parameters
    ----------
    data_dir : Path
        Folder with the three raw CSVs (and ``truth.json`` when simulated).
    results_dir : Path
        Folder for the results files, tables and figures the memo reads.
    processed_dir : Path
        Folder for the Parquet model and panel.
    seed : int
        Seed for every random step; the same seed gives the same numbers.
    jobs : int
        Parallel workers for the estimators.
    stages : str
        ``"all"`` or a comma-separated subset of :data:`STAGES`.
    """
    data_dir, results_dir, processed_dir = Path(data_dir), Path(results_dir), Path(processed_dir)
    chosen = parse_stages(stages)
    if "data" in chosen:
        from analysis.data import build_model

        write_run_info(data_dir, results_dir, processed_dir, seed, jobs)
        build_model(data_dir=data_dir, processed_dir=processed_dir, results_dir=results_dir)
    if "panel" in chosen:
        from analysis.panel import build_panel_stage

        build_panel_stage(processed_dir=processed_dir, results_dir=results_dir)
    if "estimate" in chosen:
        from causal.estimate import run_estimation_stage

        run_estimation_stage(processed_dir=processed_dir, results_dir=results_dir, seed=seed, jobs=jobs)
    if "refute" in chosen:
        from causal.refute import run_refutation_stage

        run_refutation_stage(processed_dir=processed_dir, results_dir=results_dir, seed=seed, jobs=jobs)
    if "segments" in chosen:
        from causal.segments import run_segments_stage

        run_segments_stage(processed_dir=processed_dir, results_dir=results_dir, seed=seed, jobs=jobs)
