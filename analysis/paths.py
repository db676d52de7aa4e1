"""Every path the project uses, in one place.

Nothing else in the repository hard-codes a path: modules import these
constants, and command-line options override them per run.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJ_ROOT = Path(__file__).resolve().parents[1]

DATA_DIR = PROJ_ROOT / "data"
RAW_DIR = DATA_DIR / "raw"  # a user's real extracts; never written by the code
SIMULATED_DIR = DATA_DIR / "simulated"  # the simulator's default data set
RESULTS_DIR = PROJ_ROOT / "results"  # tables, figures, results files the memo reads
# Dimensional model and panel (Parquet) belong to one run: by default inside its results folder.
PROCESSED_SUBDIR = "processed"
PROCESSED_DIR = RESULTS_DIR / PROCESSED_SUBDIR  # the default run's processed folder
REPORTS_DIR = PROJ_ROOT / "reports"  # rendered memos (HTML, PDF)
DOCS_DIR = PROJ_ROOT / "docs"
REPORT_QMD = PROJ_ROOT / "report.qmd"

# Reference material that lives beside the repository, never inside it.
SHARED_DIR = Path(os.environ.get("INTEGRATIONS_SHARED_DIR", PROJ_ROOT.parent / "shared"))
REFERENCE_SEGMENTS_CSV = SHARED_DIR / "data" / "account_segments.csv"

# The three raw extracts, by role.
SEGMENTS_CSV = "account_segments.csv"
METADATA_CSV = "customer_metadata.csv"
INTEGRATIONS_CSV = "integrations.csv"
RAW_FILES = (SEGMENTS_CSV, METADATA_CSV, INTEGRATIONS_CSV)

# Written by the simulator beside the three extracts; marks a data set as simulated.
TRUTH_JSON = "truth.json"
TRUTH_UNITS_PARQUET = "truth_units.parquet"


def has_raw_files(directory: Path) -> bool:
    """Return True when `directory` holds all three raw extracts."""
    return all((Path(directory) / name).is_file() for name in RAW_FILES)


def default_input_dir() -> Path:
    """The user's `data/raw/` when it holds the three extracts, else the simulated set."""
    return RAW_DIR if has_raw_files(RAW_DIR) else SIMULATED_DIR

# Benchmark data sets (simulated at real and ten-times scale); generated, never committed.
BENCH_DIR = DATA_DIR / "bench"
BENCHMARKS_MD = DOCS_DIR / "benchmarks.md"


def model_path(processed_dir: Path, table: str) -> Path:
    """Parquet file of a model table (``analysis.data.model`` writes them, the event study reads one)."""
    return Path(processed_dir) / f"{table}.parquet"
