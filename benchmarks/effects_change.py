"""Estimates before and after a change: effects.csv and refutations.csv of two runs on the same data and seed.

``python -m benchmarks.effects_change BEFORE [AFTER]`` compares two results folders (AFTER
defaults to the pipeline benchmark's ``data/bench/pipeline/results``; BEFORE is a copy of the
same benchmark's results taken before the change: same simulated data, same seed) and writes
its section of docs/benchmarks.md. Per method: how many rows are identical to the last bit,
and how far the others moved in units of the earlier standard error; then whether every
refutation passed or failed as before. It has no ``run()``: ``make bench`` does not run it,
since it needs the earlier folder.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from analysis import paths, results_contract
from benchmarks.run import section, update_document

AFTER = paths.PROJ_ROOT / "data" / "bench" / "pipeline" / "results"
KEYS = ["treatment", "outcome", "horizon", "method", "estimand"]
REFUTATION_KEYS = ["treatment", "outcome", "horizon", "method", "refuter"]


def compare(before: Path, after: Path) -> dict:
    """Per-method agreement of two effects tables and the refutation verdicts of two runs."""
    old = pd.read_csv(before / results_contract.EFFECTS_CSV)
    new = pd.read_csv(after / results_contract.EFFECTS_CSV)
    both = old.merge(new, on=KEYS, suffixes=("_before", "_after"))
    methods = []
    for (method, outcome_is_rate), rows in both.groupby(["method", both["outcome"] == "cancel_rate"], sort=True):
        identical = (rows["estimate_before"] == rows["estimate_after"]) & (rows["se_before"] == rows["se_after"])
        moved = ((rows["estimate_after"] - rows["estimate_before"]) / rows["se_before"]).abs()
        methods.append({"method": method + (" (cancel_rate)" if outcome_is_rate else ""), "rows": len(rows),
                        "identical": int(identical.sum()),
                        "median_shift_in_se": round(float(moved.median()), 3),
                        "max_shift_in_se": round(float(moved.max()), 3),
                        "median_se_ratio": round(float((rows["se_after"] / rows["se_before"]).median()), 3)})
    old_ref = pd.read_csv(before / results_contract.REFUTATIONS_CSV)
    new_ref = pd.read_csv(after / results_contract.REFUTATIONS_CSV)
    verdicts = old_ref.merge(new_ref, on=REFUTATION_KEYS, suffixes=("_before", "_after"))
    same = verdicts["passed_before"].astype(str) == verdicts["passed_after"].astype(str)
    return {"before": str(before), "after": str(after), "rows_before": len(old), "rows_after": len(new),
            "rows_matched": len(both), "methods": methods, "refutations_matched": len(verdicts),
            "refutations_same_verdict": int(same.sum()),
            "refutations_passed_before": int((old_ref["passed"].astype(str) == "True").sum()),
            "refutations_passed_after": int((new_ref["passed"].astype(str) == "True").sum()),
            "changed_verdicts": verdicts.loc[~same, REFUTATION_KEYS].to_dict("records")}


def to_markdown(figures: dict) -> str:
    lines = [f"`{figures['before']}` (before) against `{figures['after']}` (after): "
             f"{figures['rows_matched']} of {figures['rows_after']} effects rows matched on "
             "treatment, outcome, horizon, method and estimand.", "",
             "| method | rows | identical to the last bit | median shift (earlier se) | largest shift (earlier se) "
             "| median se after / before |", "|---|---:|---:|---:|---:|---:|"]
    for m in figures["methods"]:
        lines.append(f"| {m['method']} | {m['rows']} | {m['identical']} | {m['median_shift_in_se']} | "
                     f"{m['max_shift_in_se']} | {m['median_se_ratio']} |")
    changed = figures["changed_verdicts"]
    lines += ["", f"Refutations: {figures['refutations_same_verdict']} of {figures['refutations_matched']} "
              f"gave the same verdict (passed {figures['refutations_passed_before']} before, "
              f"{figures['refutations_passed_after']} after)"
              + (": changed " + "; ".join(" / ".join(str(v) for v in c.values()) for c in changed) if changed else ".")]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Compare BEFORE with AFTER and write the section ``effects_change`` of docs/benchmarks.md."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if not 1 <= len(args) <= 2:
        print("usage: python -m benchmarks.effects_change BEFORE [AFTER]", file=sys.stderr)
        return 2
    figures = compare(Path(args[0]), Path(args[1]) if len(args) == 2 else AFTER)
    body = to_markdown(figures)
    out = paths.BENCHMARKS_MD
    out.write_text(update_document(out.read_text(), "effects_change",
                                   section("effects_change", __doc__.strip().splitlines()[0].rstrip("."), body)))
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
