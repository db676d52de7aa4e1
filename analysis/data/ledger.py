"""The ledger: for every input file, rows read = rows kept + rows quarantined, by reason.

Written to ``results_dir/data_quality.json`` (key ``ledger``), ``ledger.csv`` and
``ledger.md`` (a markdown table the memo prints). The quarantined rows themselves are
row-level and stay in ``processed_dir/quarantine.parquet``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from analysis import results_contract

QUARANTINE_PARQUET = "quarantine.parquet"


@dataclass
class LedgerEntry:
    """Row accounting of one input file."""

    file: str
    rows_read: int
    rows_kept: int
    rows_quarantined: int
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)  # extra header columns, not read

    @property
    def balanced(self) -> bool:
        """True when read = kept + quarantined and the reasons add up to the quarantined rows."""
        return (self.rows_read == self.rows_kept + self.rows_quarantined
                and sum(self.quarantined_by_reason.values()) == self.rows_quarantined)


def ledger_entry(file: str, rows_read: int, rows_kept: int, quarantined_by_reason: dict[str, int],
                 ignored_columns: list[str] | None = None) -> LedgerEntry:
    """Build one entry; reasons sorted by name, zero counts left out."""
    reasons = {reason: int(n) for reason, n in sorted(quarantined_by_reason.items()) if n}
    return LedgerEntry(file, int(rows_read), int(rows_kept), sum(reasons.values()), reasons,
                       list(ignored_columns or []))


def ledger_frame(entries: list[LedgerEntry]) -> pd.DataFrame:
    """One row per file and reason (``reason`` empty on the file's total row), readable as a table."""
    rows = []
    for entry in entries:
        rows.append({"file": entry.file, "rows_read": entry.rows_read, "rows_kept": entry.rows_kept,
                     "rows_quarantined": entry.rows_quarantined, "reason": "", "rows": entry.rows_quarantined,
                     "ignored_columns": ";".join(entry.ignored_columns)})
        for reason, n in entry.quarantined_by_reason.items():
            rows.append({"file": entry.file, "rows_read": None, "rows_kept": None, "rows_quarantined": None,
                         "reason": reason, "rows": n, "ignored_columns": ""})
    frame = pd.DataFrame(rows, columns=["file", "rows_read", "rows_kept", "rows_quarantined", "reason", "rows",
                                        "ignored_columns"])
    for column in ("rows_read", "rows_kept", "rows_quarantined", "rows"):
        frame[column] = frame[column].astype("Int64")
    return frame


def ledger_markdown(entries: list[LedgerEntry]) -> str:
    """A markdown table: file, read, kept, quarantined, and the reasons in words."""
    lines = ["| file | rows read | rows kept | rows quarantined | quarantined by reason |",
             "|---|---:|---:|---:|---|"]
    for entry in entries:
        reasons = "; ".join(f"{reason.replace('_', ' ')}: {n:,}" for reason, n in entry.quarantined_by_reason.items())
        lines.append(f"| {entry.file} | {entry.rows_read:,} | {entry.rows_kept:,} | {entry.rows_quarantined:,} | "
                     f"{reasons or 'none'} |")
    ignored = [f"{e.file}: {', '.join(e.ignored_columns)}" for e in entries if e.ignored_columns]
    if ignored:
        lines += ["", "Extra columns ignored (not read): " + "; ".join(ignored) + "."]
    return "\n".join(lines) + "\n"


def write_ledger(entries: list[LedgerEntry], results_dir: Path) -> None:
    """Write ``ledger.csv`` and ``ledger.md`` in ``results_dir``."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    ledger_frame(entries).to_csv(results_dir / results_contract.LEDGER_CSV, index=False)
    (results_dir / results_contract.LEDGER_MD).write_text(ledger_markdown(entries))


def write_data_quality(results_dir: Path, entries: list[LedgerEntry], checks: list[dict], reconciliation: dict,
                       tracking_change_months: list[str], tracking_changes: list[dict], months: list[str],
                       simulated: bool) -> Path:
    """Write ``data_quality.json`` (a plain dict; later stages add keys such as ``panel``).

    Keys already present from other stages are kept; the data layer's keys are replaced.
    """
    path = Path(results_dir) / results_contract.DATA_QUALITY_JSON
    document = json.loads(path.read_text()) if path.is_file() else {}
    document.update({
        "ledger": [asdict(entry) for entry in entries],
        "checks": checks,
        "reconciliation": reconciliation,
        "tracking_change_months": list(tracking_change_months),
        "tracking_changes": tracking_changes,
        "months": list(months),
        "simulated": bool(simulated),
    })
    document.pop("panel", None)  # the panel section describes an earlier model; the panel stage rewrites it
    path.write_text(json.dumps(document, indent=2, default=_json_default) + "\n")
    return path


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def read_data_quality(results_dir: Path) -> dict:
    """Read ``data_quality.json`` from ``results_dir``."""
    return json.loads((Path(results_dir) / results_contract.DATA_QUALITY_JSON).read_text())
