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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pandas as pd

from analysis import paths, results_contract

STAGES = ("data", "panel", "estimate", "refute", "segments")
_PACKAGES = ("dowhy", "econml", "pandas", "numpy", "scikit-learn", "statsmodels", "duckdb")


@dataclass
class StageReport:
    """What one stage did: its status, how long it took and what it wrote, in counts.

    ``status`` is ``"ok"``, ``"degraded"``, ``"failed"`` or ``"skipped"``;
    ``reasons`` says why when it is not ``"ok"``; ``counts`` are aggregate
    numbers only (rows of the files the stage wrote), never customer data.
    """

    stage: str
    status: str
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    outputs: dict[str, dict] = field(default_factory=dict)


def _csv_rows(path: Path) -> int | None:
    return int(len(pd.read_csv(path))) if path.is_file() else None


def stage_counts(stage: str, results_dir: Path, processed_dir: Path) -> dict[str, int]:
    """Counts of what ``stage`` wrote, read back from its files (missing files are left out)."""
    rc = results_contract
    counts: dict[str, int | None] = {}
    if stage == "data":
        counts["ledger_entries"] = _csv_rows(results_dir / rc.LEDGER_CSV)
    elif stage == "panel":
        from analysis.panel.stage import PANEL_PARQUET

        panel = processed_dir / PANEL_PARQUET
        if panel.is_file():
            customers = pd.read_parquet(panel, columns=["customer_id"])["customer_id"]
            counts["panel_rows"], counts["customers"] = int(len(customers)), int(customers.nunique())
    elif stage == "estimate":
        counts["effects"] = _csv_rows(results_dir / rc.EFFECTS_CSV)
        counts["skipped"] = _csv_rows(results_dir / rc.SKIPPED_CELLS_CSV)
    elif stage == "refute":
        path = results_dir / rc.REFUTATIONS_CSV
        if path.is_file():
            frame = pd.read_csv(path)
            counts["checks"], counts["passed"] = int(len(frame)), int(frame["passed"].astype(bool).sum())
    elif stage == "segments":
        counts["segment_effects"] = _csv_rows(results_dir / rc.EFFECTS_BY_SEGMENT_CSV)
        counts["targeting_rows"] = _csv_rows(results_dir / rc.TARGETING_CSV)
    return {k: v for k, v in counts.items() if v is not None}


def record_panel_hash(results_dir: Path, processed_dir: Path) -> str:
    """Write the sha256 of ``panel.parquet`` into ``run_info.json`` (``panel_sha256``)."""
    from analysis.panel.stage import PANEL_PARQUET
    from causal.refute.rerun import file_sha256

    digest = file_sha256(processed_dir / PANEL_PARQUET)
    path = results_dir / results_contract.RUN_INFO_JSON
    info = json.loads(path.read_text()) if path.is_file() else {}
    info["panel_sha256"] = digest
    path.write_text(json.dumps(info, indent=2) + "\n")
    return digest


def _record_stages(results_dir: Path, reports: list[StageReport]) -> None:
    path = results_dir / results_contract.RUN_INFO_JSON
    if not path.is_file():
        return
    info = json.loads(path.read_text())
    stages = info.get("stages", {})
    for report in reports:
        stages[report.stage] = {"status": report.status, "seconds": round(report.seconds, 3),
                                "counts": report.counts, "reasons": report.reasons}
    info["stages"] = stages
    path.write_text(json.dumps(info, indent=2) + "\n")


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


def _run_stage(stage: str, data_dir: Path, results_dir: Path, processed_dir: Path, seed: int, jobs: int) -> None:
    if stage == "data":
        from analysis.data import build_model

        write_run_info(data_dir, results_dir, processed_dir, seed, jobs)
        build_model(data_dir=data_dir, processed_dir=processed_dir, results_dir=results_dir)
    elif stage == "panel":
        from analysis.panel import build_panel_stage

        build_panel_stage(processed_dir=processed_dir, results_dir=results_dir)
        record_panel_hash(results_dir, processed_dir)
    elif stage == "estimate":
        from causal.estimate import run_estimation_stage

        run_estimation_stage(processed_dir=processed_dir, results_dir=results_dir, seed=seed, jobs=jobs)
    elif stage == "refute":
        from causal.refute import run_refutation_stage

        run_refutation_stage(processed_dir=processed_dir, results_dir=results_dir, seed=seed, jobs=jobs)
    elif stage == "segments":
        from causal.segments import run_segments_stage

        run_segments_stage(processed_dir=processed_dir, results_dir=results_dir, seed=seed, jobs=jobs)


def run_pipeline(
    data_dir: Path,
    results_dir: Path,
    processed_dir: Path,
    seed: int = 1,
    jobs: int = 1,
    stages: str = "all",
    on_stage_done: Callable[[StageReport], None] | None = None,
) -> list[StageReport]:
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
    on_stage_done : callable, optional
        Called with each stage's :class:`StageReport` as soon as the stage ends.

    Returns
    -------
    list of StageReport
        One per stage run, in order (also recorded under ``stages`` in ``run_info.json``).
    """
    data_dir, results_dir, processed_dir = Path(data_dir), Path(results_dir), Path(processed_dir)
    reports = []
    for stage in parse_stages(stages):
        started = time.perf_counter()
        _run_stage(stage, data_dir, results_dir, processed_dir, seed, jobs)
        report = StageReport(stage=stage, status="ok", seconds=time.perf_counter() - started,
                             counts=stage_counts(stage, results_dir, processed_dir))
        reports.append(report)
        _record_stages(results_dir, [report])
        if on_stage_done is not None:
            on_stage_done(report)
    return reports
