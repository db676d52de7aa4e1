"""The doubly robust ATT against the simulator's computed truth at real scale (coverage and width).

Reads the results of :mod:`benchmarks.pipeline` (``data/bench/pipeline``: 63,882 simulated
customers, seed 1) and the simulator's ``truth.json`` beside its data. For every cell with a
computed truth it asks whether the 95% interval covers the true effect (DML ATT and PSM ATT
against the true ATT, DML ATE against the true ATE) and whether the DML ATT interval is
narrower than matching's. The main cells are the primary treatment (``any``) by the four
estimated outcomes and three horizons (12). Target (issue 13): the DML ATT covers the true ATT
in at least 11 of the 12 main cells and is narrower than PSM's in most.
"""
from __future__ import annotations

import json

import pandas as pd

from analysis import paths, results_contract

MAIN_TREATMENT = "any"
KEY = ["treatment", "outcome", "horizon"]


def coverage_table(effects: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """One row per cell with truth: the estimates, whether each interval covers, the two ATT widths."""
    pooled = truth.loc[(truth["cohort"] == "pooled") & (truth["group_var"] == "all")].set_index(KEY)
    rows = []
    for key, cell in effects.groupby(KEY):
        if key not in pooled.index:
            continue
        by = cell.set_index(["method", "estimand"])
        if not {("dml", "ATT"), ("psm", "ATT"), ("dml", "ATE")} <= set(by.index):
            continue
        target = pooled.loc[key]
        dml_att, psm_att, dml_ate = by.loc[("dml", "ATT")], by.loc[("psm", "ATT")], by.loc[("dml", "ATE")]
        rows.append({**dict(zip(KEY, key)), "true_att": target["att"], "dml_att": dml_att["estimate"],
                     "dml_att_covers": bool(dml_att["ci_low"] <= target["att"] <= dml_att["ci_high"]),
                     "psm_att_covers": bool(psm_att["ci_low"] <= target["att"] <= psm_att["ci_high"]),
                     "dml_ate_covers": bool(dml_ate["ci_low"] <= target["ate"] <= dml_ate["ci_high"]),
                     "dml_att_width": dml_att["ci_high"] - dml_att["ci_low"],
                     "psm_att_width": psm_att["ci_high"] - psm_att["ci_low"]})
    table = pd.DataFrame(rows)
    if len(table):
        table["dml_att_narrower"] = table["dml_att_width"] < table["psm_att_width"]
    return table


def run() -> dict:
    """Coverage figures from the pipeline benchmark's folder."""
    base = paths.BENCH_DIR / "pipeline"
    effects = pd.read_csv(base / "results" / results_contract.EFFECTS_CSV)
    truth = pd.DataFrame(json.loads((base / "data" / paths.TRUTH_JSON).read_text())["records"])
    table = coverage_table(effects, truth)
    main = table.loc[table["treatment"] == MAIN_TREATMENT]
    info = json.loads((base / "results" / results_contract.RUN_INFO_JSON).read_text())

    def counts(frame: pd.DataFrame) -> dict:
        return {"cells": int(len(frame)), "dml_att_covers": int(frame["dml_att_covers"].sum()),
                "psm_att_covers": int(frame["psm_att_covers"].sum()),
                "dml_ate_covers": int(frame["dml_ate_covers"].sum()),
                "dml_att_narrower": int(frame["dml_att_narrower"].sum()),
                "median_width_ratio": round(float((frame["dml_att_width"] / frame["psm_att_width"]).median()), 3)}

    return {"seed": info.get("seed"),
            "main": counts(main), "all": counts(table),
            "main_cells": main.round(5).to_dict(orient="records")}


def to_markdown(figures: dict) -> str:
    """Counts for the main cells and all cells, then the main cells one by one."""
    lines = [f"From `data/bench/pipeline` (the run of the pipeline benchmark above: 63,882 simulated customers, "
             f"seed {figures['seed']}); truth computed by the simulator (`truth.json`, pooled cohorts).", "",
             "| cells | n | DML ATT covers true ATT | PSM ATT covers true ATT | DML ATE covers true ATE "
             "| DML ATT narrower than PSM | median width DML/PSM |", "|---|---:|---:|---:|---:|---:|---:|"]
    for label, name in (("main (any x 4 outcomes x 3 horizons)", "main"), ("all with truth", "all")):
        c = figures[name]
        lines.append(f"| {label} | {c['cells']} | {c['dml_att_covers']} | {c['psm_att_covers']} | "
                     f"{c['dml_ate_covers']} | {c['dml_att_narrower']} | {c['median_width_ratio']} |")
    met = figures["main"]["dml_att_covers"] >= 11 and figures["main"]["dml_att_narrower"] * 2 > figures["main"]["cells"]
    lines += ["", f"Target (at least 11 of 12 main cells covered, narrower than PSM in most): {'met' if met else 'NOT met'}.",
              "", "| outcome | h | true ATT | DML ATT | covers | DML width | PSM width |", "|---|---:|---:|---:|---|---:|---:|"]
    for row in figures["main_cells"]:
        lines.append(f"| {row['outcome']} | {row['horizon']} | {row['true_att']:.5g} | {row['dml_att']:.5g} | "
                     f"{'yes' if row['dml_att_covers'] else 'no'} | {row['dml_att_width']:.4g} | {row['psm_att_width']:.4g} |")
    return "\n".join(lines) + "\n"
