"""The memo's front and back matter: the simulated-data banner, provenance, run details."""
from __future__ import annotations

from causal.report.inputs import MemoInputs, load_memo_inputs, results_dir_from_env
from causal.report.sections.data import snapshot_months
from causal.report.tables import (
    not_available,
)

PRIMARY = "any"

BANNER_TEXT = ("SIMULATED DATA: every number in this memo comes from simulated customers, "
               "not from the company's records.")

def load(results_dir=None) -> MemoInputs:
    """Read the results folder named by the parameter, ``$MEMO_RESULTS_DIR`` or the default."""
    return load_memo_inputs(results_dir_from_env(results_dir))

# --- banner ------------------------------------------------------------------
def banner(m: MemoInputs) -> str:
    """Raw HTML and typst that mark every page as simulated (empty for real data)."""
    if not m.simulated:
        return ""
    return (f'```{{=html}}\n<div class="sim-banner" role="note">{BANNER_TEXT}</div>\n```\n\n'
            f'```{{=typst}}\n#memo-banner.update[{BANNER_TEXT}]\n'
            f'#block(fill: rgb("#fde68a"), inset: 8pt, radius: 3pt, width: 100%)[*{BANNER_TEXT}*]\n```\n')

def provenance(m: MemoInputs) -> str:
    """One line: where the numbers come from."""
    source = "simulated data" if m.simulated else "the company's extracts"
    months = snapshot_months(m)
    span = f", snapshot months {months[0]} to {months[-1]}" if months else ""
    seed = (m.run_info or {}).get("seed")
    seed_text = f", seed {seed}" if seed is not None else ""
    return f"*Source: results of one analysis run on {source}{span}{seed_text}.*"

# --- appendix -----------------------------------------------------------------------------------
def run_details(m: MemoInputs) -> str:
    """Provenance: seed, package versions, simulated or not."""
    info = m.run_info
    if info is None:
        return not_available("run information (run_info.json)")
    packages = info.get("packages") or {}
    versions = ", ".join(f"{k} {v}" for k, v in sorted(packages.items()) if v)
    return (f"Input: {'simulated data' if m.simulated else 'real extracts'}; seed {info.get('seed', 'n/a')}; "
            f"Python {info.get('python', 'n/a')}; {versions or 'package versions not recorded'}.")

