"""A reviewer's re-run of the refutation suite (``python -m causal refute``), beside the run's own record.

The re-run reads what ``python -m causal run`` saved (``run_info.json``,
``estimation_config.json``, ``effects.csv``), checks that the panel is the one
the run used (sha256 recorded as ``panel_sha256`` in ``run_info.json``), re-runs
the chosen refuters on the chosen primary cells and writes a new folder

``refutations/rerun-<UTC YYYYmmddTHHMMSSZ>-seed<N>-sims<N>/``
    ``refutations.csv``, ``sensitivity.json`` (as the run's) and ``settings.json``
    (every setting of the re-run and the run's estimation config).

The run's own ``refutations.csv``, ``sensitivity.json`` and ``estimation_config.json``
are never written, so the memo keeps reading the record it was made from.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from analysis import results_contract
from analysis.errors import InputError
from analysis.panel.stage import PANEL_PARQUET
from causal.estimate.stage import PRIMARY_ESTIMANDS, primary_keys
from causal.refute.refuters import DEFAULT_SIMULATIONS, REFUTERS, write_refutations
from causal.refute.stage import effect_records_from_csv, read_json, refute_primary_cells

KEY_COLUMNS = ["treatment", "outcome", "horizon", "method", "refuter"]


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_only(text: str | None) -> tuple[str, ...] | None:
    """``"placebo_treatment,bootstrap"`` -> those refuters in :data:`REFUTERS` order (None: all)."""
    if text is None or not text.strip():
        return None
    wanted = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in REFUTERS]
    if unknown:
        raise InputError("--only", None, None, f"unknown refuter {unknown[0]!r}; choose from {', '.join(REFUTERS)}")
    return tuple(name for name in REFUTERS if name in wanted)


def parse_cell(text: str | None) -> tuple[str, str, int] | None:
    """``"any:cancel:3"`` -> ``("any", "cancel", 3)``, one of the refuted (primary) cells (None: all)."""
    if text is None or not text.strip():
        return None
    refuted = sorted({k[:3] for k in primary_keys()}, key=lambda k: (k[1], k[2]))
    choices = ", ".join(f"{t}:{o}:{h}" for t, o, h in refuted)
    parts = text.strip().split(":")
    if len(parts) != 3 or not parts[2].strip().isdigit():
        raise InputError("--cell", None, None, f"expected treatment:outcome:horizon, found {text!r}; choose from {choices}")
    cell = (parts[0].strip(), parts[1].strip(), int(parts[2]))
    if cell not in refuted:
        raise InputError("--cell", None, None, f"{text!r} is not a refuted cell; choose from {choices}")
    return cell


def verify_panel(results_dir: Path, run_info: dict) -> tuple[Path, str]:
    """The run's panel and its sha256, after checking it against ``panel_sha256`` in ``run_info.json``.

    Raises
    ------
    InputError
        The run predates the hash, the panel is missing, or it is another panel.
    """
    info_path = results_dir / results_contract.RUN_INFO_JSON
    if "processed_dir" not in run_info:
        raise InputError(info_path, None, "processed_dir", "expected the panel folder of the run")
    panel = Path(run_info["processed_dir"]) / PANEL_PARQUET
    expected = run_info.get("panel_sha256")
    if not expected:
        raise InputError(info_path, None, "panel_sha256", "this run predates the panel hash, so its panel "
                         "cannot be verified: run `python -m causal run` again, then refute")
    if not panel.is_file():
        raise InputError(panel, None, None, f"panel missing; expected the run's panel with sha256 {expected}")
    found = file_sha256(panel)
    if found != expected:
        raise InputError(panel, None, None, f"not this run's panel: sha256 {found}, expected {expected} "
                         f"(recorded in {info_path})")
    return panel, found


@dataclass
class RerunResult:
    """A finished re-run: its folder, its table, the run's matching rows, its settings."""

    folder: Path
    frame: pd.DataFrame
    original: pd.DataFrame | None  # the run's rows for the same checks (None: the run has no refutations.csv)
    settings: dict

    @property
    def same_settings(self) -> bool:
        """True when the run refuted with this seed and number of simulations."""
        return bool(self.settings["same_settings_as_run"])


def _folder(results_dir: Path, started: datetime, seed: int, simulations: int) -> Path:
    base = results_dir / results_contract.REFUTATION_RERUNS_DIR
    name = f"rerun-{started:%Y%m%dT%H%M%SZ}-seed{seed}-sims{simulations}"
    folder, n = base / name, 1
    while folder.exists():
        n += 1
        folder = base / f"{name}-{n}"
    return folder


def _original_rows(results_dir: Path, frame: pd.DataFrame) -> pd.DataFrame | None:
    path = results_dir / results_contract.REFUTATIONS_CSV
    if not path.is_file():
        return None
    original = pd.read_csv(path)
    wanted = frame[KEY_COLUMNS].astype({"horizon": int})
    return wanted.merge(original.astype({"horizon": int}), on=KEY_COLUMNS, how="inner")


def rerun_refutations(results_dir: Path, simulations: int | None = None, seed: int = 1,
                      only: tuple[str, ...] | None = None, cell: tuple[str, str, int] | None = None,
                      jobs: int | None = None) -> RerunResult:
    """Re-run the refutation suite (or a subset) from a results folder, into a new re-run folder.

    Parameters
    ----------
    results_dir : Path
        Results folder written by ``python -m causal run``.
    simulations : int, optional
        Re-estimations per refuter (default: the run's).
    seed : int
        Base seed of the refuters.
    only : tuple of str, optional
        Refuters to run (default: all of :data:`REFUTERS`).
    cell : (treatment, outcome, horizon), optional
        One primary cell (default: every primary cell).
    jobs : int, optional
        Worker processes (default: the run's); numbers do not depend on it.

    Returns
    -------
    RerunResult
    """
    results_dir = Path(results_dir)
    run_info = read_json(results_dir / results_contract.RUN_INFO_JSON)
    config = read_json(results_dir / results_contract.ESTIMATION_CONFIG_JSON)
    panel, digest = verify_panel(results_dir, run_info)
    simulations = int(simulations if simulations is not None else config.get("simulations", DEFAULT_SIMULATIONS))
    jobs = int(jobs if jobs is not None else config.get("jobs", 1))
    effects = {(r.treatment, r.outcome, r.horizon, r.method): r
               for r in effect_records_from_csv(results_dir / results_contract.EFFECTS_CSV)
               if r.estimand == PRIMARY_ESTIMANDS.get(r.method)}
    originals = {k: effects[k] for k in primary_keys() if k in effects and (cell is None or k[:3] == cell)}
    started, clock = datetime.now(timezone.utc), time.perf_counter()
    records = refute_primary_cells(panel.parent, originals, seed=seed, simulations=simulations, jobs=jobs, only=only,
                                   results_dir=results_dir)
    run_settings = {"seed": config.get("seed"), "simulations": config.get("simulations")}
    settings = {
        "seed": seed, "simulations": simulations, "jobs": jobs,
        "only": list(only) if only else None, "cell": ":".join(map(str, cell)) if cell else None,
        "refuters": list(only or REFUTERS),
        "cells": [":".join(map(str, k)) for k in originals],
        "panel": str(panel.resolve()), "panel_sha256": digest,
        "results_dir": str(results_dir.resolve()),
        "started_utc": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seconds": round(time.perf_counter() - clock, 1),
        "run_refute_settings": run_settings,
        "same_settings_as_run": run_settings == {"seed": seed, "simulations": simulations},
        "run_estimation_config": config,
    }
    folder = _folder(results_dir, started, seed, simulations)
    folder.mkdir(parents=True)
    frame = write_refutations(records, folder)
    (folder / results_contract.RERUN_SETTINGS_JSON).write_text(json.dumps(settings, indent=2) + "\n")
    return RerunResult(folder=folder, frame=frame, original=_original_rows(results_dir, frame), settings=settings)


refute_from_results = rerun_refutations  # the name ``python -m causal refute`` has always called
