"""Small markdown builders for the memo: pipe tables, figures, notices, effect lookups."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd

from causal.report.text import fmt_count, fmt_number, is_missing

ASSETS_DIR = Path("report_files") / "memo-assets"  # relative to the working directory of the render
HEADLINE_METHODS = ("dml", "psm")  # preferred estimator for a headline number, in order


def not_available(what: str) -> str:
    """The line a section prints when its input is missing from the run."""
    return "*Not available in this run: " + what.replace("*", "\\*") + ".*"


def escape_cell(value) -> str:
    """Text safe inside a pipe-table cell (pipes and bare dollar signs escaped)."""
    text = str(value).replace("|", "\\|").replace("\n", " ").strip()
    return re.sub(r"(?<!\\)\$", r"\\$", text)


def pipe_table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> str:
    """A pandoc pipe table; ``align`` holds ``"l"`` or ``"r"`` per column."""
    align = align or ["l"] + ["r"] * (len(header) - 1)
    # Dash counts set the relative column widths when pandoc wraps a wide table.
    widths = [max([len(str(header[i]))] + [len(str(r[i])) for r in rows]) for i in range(len(header))]
    widths = [min(max(w, 6), 48) for w in widths]
    rule = ["-" * (w - 1) + ":" if a == "r" else ":" + "-" * (w - 1) for w, a in zip(widths, align)]
    lines = ["| " + " | ".join(escape_cell(h) for h in header) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(escape_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def format_cell(value) -> str:
    """Generic formatting for a table of unknown columns: counts, shares, rounded floats."""
    if is_missing(value):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int,)) or (isinstance(value, float) and float(value).is_integer() and abs(value) >= 100):
        return fmt_count(value)
    if isinstance(value, float):
        size = abs(value)
        decimals = 0 if size >= 100 else 2 if size >= 1 else 3
        return fmt_number(value, decimals)
    return str(value)


def frame_table(frame: pd.DataFrame, max_rows: int = 12, columns: list[str] | None = None) -> str:
    """A readable pipe table of any aggregate frame (first ``max_rows`` rows)."""
    columns = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    header = [c.replace("_", " ") for c in columns]
    rows = [[format_cell(row[c]) for c in columns] for _, row in frame.head(max_rows).iterrows()]
    align = ["r" if pd.api.types.is_numeric_dtype(frame[c]) else "l" for c in columns]
    table = pipe_table(header, rows, align)
    if len(frame) > max_rows:
        table += f"\n\n*First {max_rows} of {len(frame)} rows; the full table is in the results folder.*"
    return table


def figure(path: Path | None, caption: str, width: str = "85%", assets_dir: Path = ASSETS_DIR) -> str:
    """Copy a results figure beside the render and return its markdown (or a notice)."""
    if path is None or not Path(path).is_file():
        return not_available(f"figure '{caption}'")
    assets_dir = Path(assets_dir)
    assets_dir.mkdir(parents=True, exist_ok=True)
    target = assets_dir / f"{Path(path).parent.name}-{Path(path).name}"
    shutil.copyfile(path, target)
    return f"![{caption}]({target.as_posix()}){{width={width}}}"


def caption_from_name(path: Path) -> str:
    """``integrations_per_customer.png`` -> ``Integrations per customer``."""
    words = Path(path).stem.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def select_effects(effects: pd.DataFrame | None, **where) -> pd.DataFrame:
    """Rows of an effects table matching every ``column=value`` given (empty when none)."""
    if effects is None:
        return pd.DataFrame()
    mask = pd.Series(True, index=effects.index)
    for column, value in where.items():
        if column not in effects.columns:
            return effects.iloc[0:0]
        mask &= effects[column] == value
    return effects.loc[mask]


HEADLINE_ESTIMANDS = {"naive": "ATE", "psm": "ATT", "dml": "ATE"}  # the estimate of a method that headlines


def best_effect(effects: pd.DataFrame | None, treatment: str, outcome: str,
                horizon: int | None = None, methods: tuple[str, ...] = HEADLINE_METHODS):
    """The preferred row for a headline: first method available, longest horizon unless given.

    A method with several estimands (dml: ATE and ATT) headlines with its own
    (:data:`HEADLINE_ESTIMANDS`); the others are shown beside it, named.
    """
    for method in methods:
        rows = select_effects(effects, treatment=treatment, outcome=outcome, method=method)
        if len(rows) and "estimand" in rows.columns and method in HEADLINE_ESTIMANDS:
            rows = rows[rows["estimand"] == HEADLINE_ESTIMANDS[method]]
        rows = rows.dropna(subset=["ci_low", "ci_high"]) if len(rows) else rows
        if horizon is not None and len(rows):
            rows = rows[rows["horizon"] == horizon]
        if len(rows):
            return rows.sort_values("horizon").iloc[-1]
    return None
