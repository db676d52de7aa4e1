"""Read a results folder for the memo, defensively.

Every reader returns ``None`` (or an empty frame) when its file is missing or
unreadable, so each memo section can say "not available in this run" instead
of failing. Nothing here estimates anything: the memo only reads what
``python -m causal run`` wrote.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis import paths, results_contract

RESULTS_ENV = "MEMO_RESULTS_DIR"  # environment variable naming the results folder
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg")


def results_dir_from_env(parameter: str | os.PathLike | None = None) -> Path:
    """The results folder: the parameter, else ``$MEMO_RESULTS_DIR``, else ``paths.RESULTS_DIR``."""
    chosen = parameter or os.environ.get(RESULTS_ENV) or paths.RESULTS_DIR
    return Path(chosen).expanduser().resolve()


def read_json(path: Path) -> dict | list | None:
    """Parsed JSON, or None when the file is missing or not valid JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_csv(path: Path) -> pd.DataFrame | None:
    """A CSV as a frame, or None when the file is missing, empty or unreadable."""
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError):
        return None
    return frame if len(frame.columns) else None


def read_text(path: Path) -> str | None:
    """Stripped text of a file, or None when missing or empty."""
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text or None


def _numeric(frame: pd.DataFrame | None, columns: tuple[str, ...]) -> pd.DataFrame | None:
    if frame is None:
        return None
    frame = frame.copy()
    for column in columns:
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    for column in ("treatment", "outcome", "method", "estimand", "refuter", "segment_var", "segment_value"):
        if column in frame.columns:
            frame[column] = frame[column].astype("string").fillna("").astype(str).str.strip()
    return frame


def _effects(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """Effects table with numeric columns coerced; None unless the contract columns exist."""
    needed = {"treatment", "outcome", "horizon", "method", "estimate", "ci_low", "ci_high"}
    if frame is None or not needed <= set(frame.columns):
        return None
    frame = _numeric(frame, ("horizon", "estimate", "ci_low", "ci_high", "se", "n_units", "n_treated"))
    frame = frame.dropna(subset=["horizon", "estimate"])
    frame["horizon"] = frame["horizon"].astype(int)
    if "estimand" not in frame.columns:
        frame["estimand"] = ""
    return frame.reset_index(drop=True)


def _refutations(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    needed = {"refuter", "passed"}
    if frame is None or not needed <= set(frame.columns):
        return None
    frame = _numeric(frame, ("horizon", "estimate", "new_effect", "p_value"))
    frame["passed"] = frame["passed"].map(_as_bool)
    return frame


def _as_bool(value) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "pass", "passed"):
        return True
    if text in ("false", "0", "no", "fail", "failed"):
        return False
    return None


def figure_files(folder: Path) -> list[Path]:
    """Image files directly in ``folder``, sorted by name (empty when absent)."""
    if not Path(folder).is_dir():
        return []
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


@dataclass
class MemoInputs:
    """Everything the memo may quote, read once from a results folder.

    Attributes are None (or empty) for files the run did not write.
    """

    results_dir: Path
    run_info: dict | None = None
    data_quality: dict | None = None
    ledger: pd.DataFrame | None = None
    trends_summary: dict | None = None
    trend_figures: list[Path] = field(default_factory=list)
    effects: pd.DataFrame | None = None
    refutations: pd.DataFrame | None = None
    balance: pd.DataFrame | None = None
    effects_by_segment: pd.DataFrame | None = None
    marketplace_vs_custom: pd.DataFrame | None = None
    targeting: pd.DataFrame | None = None
    targeting_rule: str | None = None
    dollars: pd.DataFrame | None = None
    heterogeneity_summary: dict | None = None
    sensitivity: dict | None = None
    sensitivity_flagged: pd.DataFrame | None = None
    trimming: pd.DataFrame | None = None
    figures: list[Path] = field(default_factory=list)

    @property
    def simulated(self) -> bool:
        """True when run_info.json (or data_quality.json) says the input was simulated."""
        for source in (self.run_info, self.data_quality):
            if isinstance(source, dict) and "simulated" in source:
                return bool(source["simulated"])
        return False

    def figure(self, *keywords: str) -> Path | None:
        """The first figure in ``figures/`` whose file name contains every keyword."""
        for path in self.figures:
            name = path.stem.lower()
            if all(k.lower() in name for k in keywords):
                return path
        return None


def _sensitivity(results_dir: Path) -> dict | None:
    """Unobserved-confounding sensitivity results, from whichever file the run wrote."""
    for name in (results_contract.SENSITIVITY_JSON, "sensitivity_summary.json", "refutation_sensitivity.json"):
        found = read_json(results_dir / name)
        if isinstance(found, (dict, list)):
            return {"source": name, "content": found}
    for name in ("sensitivity.txt", "sensitivity.md"):
        found = read_text(results_dir / name)
        if found:
            return {"source": name, "content": found}
    return None


def load_memo_inputs(results_dir: Path) -> MemoInputs:
    """Read every file the memo may use from ``results_dir`` (missing files stay None)."""
    results_dir = Path(results_dir)
    run_info = read_json(results_dir / results_contract.RUN_INFO_JSON)
    data_quality = read_json(results_dir / results_contract.DATA_QUALITY_JSON)
    trends_summary = read_json(results_dir / results_contract.TRENDS_DIR / results_contract.TRENDS_SUMMARY_JSON)
    heterogeneity = read_json(results_dir / results_contract.HETEROGENEITY_SUMMARY_JSON)
    return MemoInputs(
        results_dir=results_dir,
        run_info=run_info if isinstance(run_info, dict) else None,
        data_quality=data_quality if isinstance(data_quality, dict) else None,
        ledger=read_csv(results_dir / results_contract.LEDGER_CSV),
        trends_summary=trends_summary if isinstance(trends_summary, dict) else None,
        trend_figures=figure_files(results_dir / results_contract.TRENDS_DIR),
        effects=_effects(read_csv(results_dir / results_contract.EFFECTS_CSV)),
        refutations=_refutations(read_csv(results_dir / results_contract.REFUTATIONS_CSV)),
        balance=read_csv(results_dir / results_contract.BALANCE_CSV),
        effects_by_segment=_effects(read_csv(results_dir / results_contract.EFFECTS_BY_SEGMENT_CSV)),
        marketplace_vs_custom=read_csv(results_dir / results_contract.MARKETPLACE_VS_CUSTOM_CSV),
        targeting=read_csv(results_dir / results_contract.TARGETING_CSV),
        targeting_rule=read_text(results_dir / results_contract.TARGETING_RULE_TXT),
        dollars=read_csv(results_dir / results_contract.DOLLARS_CSV),
        heterogeneity_summary=heterogeneity if isinstance(heterogeneity, dict) else None,
        sensitivity=_sensitivity(results_dir),
        sensitivity_flagged=_effects(read_csv(results_dir / results_contract.SENSITIVITY_FLAGGED_CSV)),
        trimming=read_csv(results_dir / results_contract.TRIMMING_CSV),
        figures=figure_files(results_dir / results_contract.FIGURES_DIR),
    )
