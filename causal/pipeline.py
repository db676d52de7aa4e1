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
import os
import platform
import shutil
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable

from analysis import paths, results_contract
from analysis.errors import InputError
from causal.refute.rerun import file_sha256

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




STATUSES = ("ok", "degraded", "failed", "skipped")
LOCK_FILE = ".causal-run.lock"
_STAGING_PREFIX = ".staging-"


@dataclass
class StageReport:
    """What one stage did: its status, time, counts of what it made, and why any output is missing.

    ``counts`` holds aggregates only (never row-level data); ``outputs`` maps an output name
    to ``{"status": ..., "reason": ...}``.
    """

    stage: str  # "data" | "panel" | "estimate" | "refute" | "segments"
    status: str  # "ok" | "degraded" | "failed" | "skipped"
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    outputs: dict[str, dict] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)  # wall seconds of the stage's main steps


class RunLocked(InputError):
    """Another ``causal run`` holds the lock on a results or processed folder."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire_lock(folder: Path) -> Path:
    """Create ``folder/.causal-run.lock`` (holding this process id) or refuse when a live run holds it.

    A lock left by a process that no longer exists is taken over.

    Raises
    ------
    RunLocked
        When another live process holds the lock.
    """
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_FILE
    for _ in range(2):
        try:
            handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            text = lock.read_text().strip() if lock.is_file() else ""
            holder = int(text) if text.isdigit() else None
            if holder is not None and holder != os.getpid() and _pid_alive(holder):
                raise RunLocked(str(folder), None, None,
                                f"another `causal run` (process {holder}) is using this folder; wait for it to "
                                f"finish or choose another --results folder") from None
            lock.unlink(missing_ok=True)  # stale: its process is gone
            continue
        with os.fdopen(handle, "w") as out:
            out.write(f"{os.getpid()}\n")
        return lock
    raise RunLocked(str(folder), None, None, "could not create the run lock file")


def release_lock(lock: Path) -> None:
    """Remove a lock created by :func:`acquire_lock` in this process."""
    if lock.is_file() and lock.read_text().strip() == str(os.getpid()):
        lock.unlink()


def record_panel_hash(results_dir: Path, processed_dir: Path) -> str:
    """Write the sha256 of ``panel.parquet`` into ``run_info.json`` (``panel_sha256``)."""
    from analysis.panel.stage import PANEL_PARQUET

    digest = file_sha256(Path(processed_dir) / PANEL_PARQUET)
    path = Path(results_dir) / results_contract.RUN_INFO_JSON
    info = json.loads(path.read_text()) if path.is_file() else {}
    info["panel_sha256"] = digest
    _write_json_atomic(path, info)
    return digest


# results files a stage reads (copied into its staging folder; read-modify-write ones come back updated)
_STAGE_INPUTS = {
    "data": (),
    "panel": (results_contract.DATA_QUALITY_JSON,),
    "estimate": (),
    # the estimate stage's outputs the later stages read: its estimates, settings, event study, agreement
    # table and the cross-fitted nuisances they reuse instead of refitting (a folder: copied whole)
    "refute": (results_contract.EFFECTS_CSV, results_contract.ESTIMATION_CONFIG_JSON, results_contract.EVENT_STUDY_CSV,
               results_contract.ESTIMATOR_AGREEMENT_CSV, results_contract.NUISANCE_CACHE_DIR),
    "segments": (results_contract.EFFECTS_CSV, results_contract.NUISANCE_CACHE_DIR),
}
# results files a stage writes only when it can: removed when a later run of the stage does not make them,
# so no output of an earlier run survives next to this run's
_OPTIONAL_OUTPUTS = {
    "segments": (results_contract.TARGETING_CSV, results_contract.TARGETING_RULE_JSON,
                 results_contract.RANKING_VALIDATION_CSV, results_contract.TARGETING_CURVES_CSV,
                 results_contract.DOLLARS_CSV, f"{results_contract.FIGURES_DIR}/policy_tree.png",
                 f"{results_contract.FIGURES_DIR}/ranking_qini_toc.png",
                 f"{results_contract.FIGURES_DIR}/marketplace_vs_custom.png"),
    "estimate": (f"{results_contract.FIGURES_DIR}/love_plot.png",
                 f"{results_contract.FIGURES_DIR}/propensity_overlap.png"),
}


def _staging_dir(folder: Path, stage: str, copy_files: tuple[str, ...] | bool) -> Path:
    """A fresh ``folder/.staging-<stage>``, seeded with copies of the named files and folders (``True``: all top-level files)."""
    staging = folder / f"{_STAGING_PREFIX}{stage}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    if copy_files is True:
        names = [p.name for p in folder.iterdir() if p.is_file() and p.name != LOCK_FILE]
    else:
        names = list(copy_files or ())
    for name in names:
        (staging / name).parent.mkdir(parents=True, exist_ok=True)  # names may be inside a folder (cache/...)
        if (folder / name).is_file():
            shutil.copy2(folder / name, staging / name)
        elif (folder / name).is_dir():
            shutil.copytree(folder / name, staging / name, dirs_exist_ok=True)
    return staging


def _commit_staging(staging: Path, folder: Path, optional: tuple[str, ...] = ()) -> None:
    """Move every file of ``staging`` to the same place under ``folder``, then remove ``staging``.

    Files named in ``optional`` that the stage did not write this time are removed from ``folder``.
    """
    for name in optional:
        if not (staging / name).is_file():
            (folder / name).unlink(missing_ok=True)
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        target = folder / path.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    shutil.rmtree(staging, ignore_errors=True)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def _status(outputs: dict[str, dict], reasons: list[str]) -> str:
    states = {o["status"] for o in outputs.values()}
    if outputs and states == {"failed"}:
        return "failed"
    return "degraded" if (states - {"ok"}) or reasons else "ok"


def _stage_data(data_dir: Path, results: Path, processed: Path) -> tuple[dict, list, dict]:
    from analysis.data import build_model

    summary = build_model(data_dir=data_dir, processed_dir=processed, results_dir=results)
    counts = {f"rows_{table}": int(n) for table, n in summary["rows"].items()}
    counts["rows_quarantined"] = int(sum(e["quarantined"] for e in summary["ledger"].values()))
    reasons = [f"{file}: extra column(s) ignored: {', '.join(columns)}"
               for file, columns in summary.get("ignored_columns", {}).items() if columns]
    return counts, [], {"notes": reasons}


def _stage_panel(results: Path, processed: Path) -> tuple[dict, list, dict]:
    import pandas as pd

    from analysis.panel import build_panel_stage

    path = build_panel_stage(processed_dir=processed, results_dir=results)
    panel = pd.read_parquet(path, columns=["customer_id"])
    counts = {"panel_rows": int(len(panel)), "customers": int(panel["customer_id"].nunique())}
    reasons = [] if len(panel) else ["the panel has no eligible customer-month"]
    return counts, reasons, {}


def _stage_estimate(results: Path, processed: Path, seed: int, jobs: int,
                    n_bootstrap: int | None = None) -> tuple[dict, list, dict]:
    import pandas as pd

    from causal.estimate import run_estimation_stage
    from causal.estimate.stage import primary_keys

    options = {} if n_bootstrap is None else {"n_bootstrap": n_bootstrap}
    effects = run_estimation_stage(processed_dir=processed, results_dir=results, seed=seed, jobs=jobs, **options)
    skipped = pd.read_csv(results / results_contract.SKIPPED_CELLS_CSV)
    counts = {"effects": int(len(effects)), "skipped_cells": int(len(skipped))}
    found = {tuple(k) for k in effects[["treatment", "outcome", "horizon", "method"]].itertuples(index=False)}
    missing = [k for k in primary_keys() if tuple(k) not in found]
    outputs = {"primary_effects": {"status": "ok", "reason": ""}}
    if len(effects) == 0:
        outputs["primary_effects"] = {"status": "failed", "reason": "no cell could be estimated: "
                                      + _top_reasons(skipped)}
    elif missing:
        outputs["primary_effects"] = {"status": "degraded", "reason": f"{len(missing)} of {len(primary_keys())} "
                                      "primary estimates not estimable: " + _top_reasons(skipped)}
    reasons = [f"{len(skipped)} cell(s) skipped: {_top_reasons(skipped)}"] if len(skipped) else []
    outputs["event_study"] = {"status": "ok", "reason": ""}
    if not (effects["method"] == "event_study").any():
        study_skips = results / results_contract.EVENT_STUDY_SKIPPED_CSV
        why = pd.read_csv(study_skips)["reason"].astype(str) if study_skips.is_file() else pd.Series(dtype=str)
        outputs["event_study"] = {"status": "degraded", "reason": "; ".join(why.drop_duplicates().head(3))
                                  or "no adoption cohort could be fitted"}
    return counts, reasons, outputs


def _top_reasons(skipped) -> str:
    if skipped is None or not len(skipped):
        return "no skipped cell recorded"
    counts = skipped["reason"].astype(str).value_counts()
    return "; ".join(f"{reason} ({n})" for reason, n in counts.head(3).items())


def _stage_refute(results: Path, processed: Path, seed: int, jobs: int) -> tuple[dict, list, dict]:
    from causal.refute import run_refutation_stage

    frame = run_refutation_stage(processed_dir=processed, results_dir=results, seed=seed, jobs=jobs)
    counts = {"checks": int(len(frame)), "passed": int((frame["passed"] == True).sum())}  # noqa: E712
    reasons = [] if len(frame) else ["no primary estimate to refute"]
    return counts, reasons, {}


def _stage_segments(results: Path, processed: Path, seed: int, jobs: int) -> tuple[dict, list, dict]:
    from causal.segments import run_segments_stage

    by_segment = run_segments_stage(processed_dir=processed, results_dir=results, seed=seed, jobs=jobs)
    summary = json.loads((results / results_contract.HETEROGENEITY_SUMMARY_JSON).read_text())
    outputs = summary.get("outputs", {})
    counts = {"segment_effects": int(len(by_segment))}
    counts.update({k: int(v) for k, v in summary.get("counts", {}).items()})
    return counts, [], outputs


def _read_run_info(results_dir: Path) -> dict:
    path = results_dir / results_contract.RUN_INFO_JSON
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except json.JSONDecodeError:
        return {}


def _write_json_atomic(path: Path, payload: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    os.replace(tmp, path)


def run_pipeline(
    data_dir: Path,
    results_dir: Path,
    processed_dir: Path | None = None,
    seed: int = 1,
    jobs: int = 1,
    stages: str = "all",
    on_stage_done: Callable[[StageReport], None] | None = None,
    n_bootstrap: int | None = None,
) -> list[StageReport]:
    """Run the chosen stages on the raw extracts in ``data_dir``; one :class:`StageReport` per stage.

    Each stage writes into a staging folder inside the results (and processed) folder; its
    files are moved into place only when it completes, so a stage leaves all its files or
    none. ``run_info.json`` gets ``stages`` (each report without its name) after every stage
    and ``panel_sha256``. A lock file refuses a second concurrent run on the same folders.
    A stage that raises is recorded as ``failed`` and the later stages as ``skipped``;
    an :class:`~analysis.errors.InputError` is re-raised after the record is written.

    Parameters
    ----------
    data_dir : Path
        Folder with the three raw CSVs (and ``truth.json`` when simulated).
    results_dir : Path
        Folder for the results files, tables and figures the memo reads.
    processed_dir : Path or None
        Folder for the Parquet model and panel; default ``<results_dir>/processed``.
    seed : int
        Seed for every random step; the same seed gives the same numbers.
    jobs : int
        Parallel workers for the estimators.
    stages : str
        ``"all"`` or a comma-separated subset of :data:`STAGES`.
    on_stage_done : callable or None
        Called with each report as soon as its stage ends.
    n_bootstrap : int, optional
        Customer-bootstrap draws of the matching interval (default: the estimate stage's, 100).

    Returns
    -------
    list of StageReport
    """
    data_dir, results_dir = Path(data_dir), Path(results_dir)
    processed_dir = Path(processed_dir) if processed_dir is not None else results_dir / paths.PROCESSED_SUBDIR
    chosen = parse_stages(stages)
    locks = [acquire_lock(results_dir)]
    try:
        if processed_dir.resolve() != results_dir.resolve() and not processed_dir.resolve().is_relative_to(
                results_dir.resolve()):
            locks.append(acquire_lock(processed_dir))
        processed_dir.mkdir(parents=True, exist_ok=True)
        return _run_locked(data_dir, results_dir, processed_dir, seed, jobs, chosen, on_stage_done, n_bootstrap)
    finally:
        for lock in reversed(locks):
            release_lock(lock)


def _run_locked(data_dir, results_dir, processed_dir, seed, jobs, chosen, on_stage_done,
                n_bootstrap=None) -> list[StageReport]:
    if "data" in chosen:
        info = write_run_info(data_dir, results_dir, processed_dir, seed, jobs)
    else:
        info = _read_run_info(results_dir)
        info.update(seed=seed, jobs=jobs, processed_dir=str(processed_dir.resolve()))
    info.setdefault("stages", {})
    reports: list[StageReport] = []
    failed: str | None = None
    pending_error: InputError | None = None
    for stage in chosen:
        started = time.perf_counter()
        if failed is not None:
            report = StageReport(stage, "skipped", 0.0, reasons=[f"stage {failed} failed"])
        else:
            report = _run_one(stage, data_dir, results_dir, processed_dir, seed, jobs, started, n_bootstrap)
            if report.status == "failed":
                failed = stage
                pending_error = getattr(report, "_input_error", None)
        reports.append(report)
        info["stages"][stage] = {k: v for k, v in asdict(report).items() if k != "stage"}
        panel = processed_dir / "panel.parquet"
        info["panel_sha256"] = file_sha256(panel) if panel.is_file() else None
        _write_json_atomic(results_dir / results_contract.RUN_INFO_JSON, info)
        if on_stage_done is not None:
            on_stage_done(report)
    if pending_error is not None:
        raise pending_error
    return reports


_RUNNERS = {
    "data": lambda d, r, p, seed, jobs, n_bootstrap: _stage_data(d, r, p),
    "panel": lambda d, r, p, seed, jobs, n_bootstrap: _stage_panel(r, p),
    "estimate": lambda d, r, p, seed, jobs, n_bootstrap: _stage_estimate(r, p, seed, jobs, n_bootstrap),
    "refute": lambda d, r, p, seed, jobs, n_bootstrap: _stage_refute(r, p, seed, jobs),
    "segments": lambda d, r, p, seed, jobs, n_bootstrap: _stage_segments(r, p, seed, jobs),
}
_WRITES_PROCESSED = {"data": False, "panel": True}  # stage -> seed its processed staging with copies


def _run_one(stage, data_dir, results_dir, processed_dir, seed, jobs, started, n_bootstrap=None) -> StageReport:
    """Run one stage in staging folders; move its files into place only when it completes."""
    staged_results = _staging_dir(results_dir, stage, copy_files=_STAGE_INPUTS[stage])
    staged_processed = (_staging_dir(processed_dir, stage, copy_files=_WRITES_PROCESSED[stage])
                        if stage in _WRITES_PROCESSED else processed_dir)
    from causal.estimate.step_times import take_step_times  # imported with the stages, not at start-up

    take_step_times()  # only this stage's steps
    from threadpoolctl import threadpool_limits

    try:
        # one BLAS/OpenMP thread in this process too (workers have one each): with the other core busy, a
        # two-thread OpenBLAS product spins; measured on a loaded machine, a 100,000 x 66 Gram matrix took 1.87 s
        # with the default threads and 0.02 s with one
        with threadpool_limits(1):
            counts, reasons, outputs = _RUNNERS[stage](data_dir, staged_results, staged_processed, seed, jobs,
                                                       n_bootstrap)
    except Exception as error:  # the stage boundary: record why it failed, keep its half-written files out
        shutil.rmtree(staged_results, ignore_errors=True)
        if staged_processed != processed_dir:
            shutil.rmtree(staged_processed, ignore_errors=True)
        report = StageReport(stage, "failed", round(time.perf_counter() - started, 2),
                             reasons=[str(error) if isinstance(error, InputError) else _first_line(error)])
        if isinstance(error, InputError):
            report._input_error = error  # re-raised by the caller after run_info.json is written
        else:
            _write_traceback(results_dir, stage, error)
        return report
    notes = outputs.pop("notes", []) if isinstance(outputs.get("notes"), list) else []
    if staged_processed != processed_dir:
        _commit_staging(staged_processed, processed_dir)
    _commit_staging(staged_results, results_dir, _OPTIONAL_OUTPUTS.get(stage, ()))
    if stage == "data":
        from analysis.data.model import write_duckdb_file

        write_duckdb_file(processed_dir)  # its views name the Parquet files by absolute path
    status = _status(outputs, reasons)
    if status != "ok" and not reasons:  # a stage that is not ok says why: its outputs' reasons
        reasons = [f"{name}: {output.get('reason') or output['status']}" for name, output in outputs.items()
                   if output.get("status") != "ok"]
    return StageReport(stage, status, round(time.perf_counter() - started, 2), counts, reasons + notes, outputs,
                       take_step_times())


def _write_traceback(results_dir: Path, stage: str, error: BaseException) -> None:
    """Keep the full traceback of an unexpected failure in a file for the developer (never on the terminal)."""
    import traceback

    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    (results_dir / results_contract.FAILURE_TRACEBACK_TXT).write_text(f"stage {stage}\n{text}")
