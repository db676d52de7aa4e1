"""Compare a simulated data set with CALIBRATION.md's figures of the real files.

``python -m analysis.simulator.calibration_report --out docs/simulator_calibration.md``
simulates 63,882 customers (seed 1), times the run, reads the written CSVs back
with a plain reader and writes the real and simulated figures side by side.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.simulator import constants as C

# Figures of the real files, as CALIBRATION.md states them.
REAL = {
    "customers_by_month": {"2020-08": 42896, "2021-01": 47375},
    "metadata_rows_with_tier": 273982,
    "integration_rows": 1003232,
    "mean_integrations": dict(zip(C.MONTHS, (2.868, 2.957, 3.025, 3.323, 3.794, 5.859))),
    "zero_share": {"2020-08": 0.2023, "2021-01": 0.0444},
    "custom_share": {"Aug..Dec": 91104 / 725669, "Jan": 116732 / 277563},
    "bucket_counts": {"0": 41937, "1-5": 170000, "6-10": 42163, "11-15": 16194, "16-20": 2437, ">20": 1251},
    "mrr_by_count": {0: 348, 1: 518, 2: 643, 3: 766, 4: 900, 5: 1030, 6: 1140, 8: 1355, 10: 1578,
                     12: 1822, 15: 2093, 20: 2370, 25: 2851},
    "mean_by_tier": {
        "2020-08": {"Basic": 1.36, "Enterprise": 5.14, "Free": 1.09, "Pro": 3.04, "Starter": 1.35},
        "2020-12": {"Basic": 2.08, "Enterprise": 6.65, "Free": 1.54, "Pro": 4.01, "Starter": 1.91},
        "2021-01": {"Basic": 4.01, "Enterprise": 9.60, "Free": 2.18, "Pro": 6.28, "Starter": 2.76},
    },
    "paying_tier_share_jan": {"Pro": 0.58, "Starter": 0.17, "Enterprise": 0.15, "Basic": 0.08},
    "bom_zero_share": 11936 / 273982,
    "mean_cancel_per_customer_month": 11.51,
    "per_customer": {"integrations": 2.96, "mrr_bom": 694.0, "mrr_eom": 721.0, "cancelled": 16.60},
    "value_retained": {
        "2020-08": {"0": 0.951, "1-5": 0.983, "6-10": 0.992, "11-15": 0.990},
        "2020-10": {"0": 0.944, "1-5": 0.975, "6-10": 0.986, "11-15": 0.987},
        "2020-12": {"0": 0.945, "1-5": 0.971, "6-10": 0.984, "11-15": 0.987},
        "2021-01": {"0": 0.903, "1-5": 0.956, "6-10": 0.984, "11-15": 0.992},
    },
    "cancel_by_tier_paying": "Enterprise $18 rising to $25-34; Pro $8 to $13; Basic $6 to $12; Starter $4-5",
    "top_ids_jan": ["custom", "1", "21", "10", "7", "12", "8", "9", "14", "11"],
}
BUCKETS = (("0", 0, 0), ("1-5", 1, 5), ("6-10", 6, 10), ("11-15", 11, 15), ("16-20", 16, 20), (">20", 21, 10**9))


def money(text: pd.Series) -> pd.Series:
    """``$1,440.00`` / ``-$680.00`` / ``0`` / empty -> float (NaN when empty)."""
    clean = text.fillna("").str.replace("$", "", regex=False).str.replace(",", "", regex=False)
    return pd.to_numeric(clean.where(clean != "", None), errors="raise").astype(float)


def read_simulated(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The three CSVs as text, with money and tier parsed."""
    segments = pd.read_csv(folder / paths.SEGMENTS_CSV, dtype=str, keep_default_na=False)
    metadata = pd.read_csv(folder / paths.METADATA_CSV, dtype=str, keep_default_na=False)
    integrations = pd.read_csv(folder / paths.INTEGRATIONS_CSV, dtype=str, keep_default_na=False)
    metadata["tier"] = metadata["PRODUCT_TIER"].replace({"Ent": "Enterprise", "": None})
    metadata["n"] = metadata["NUM_OF_INTEGRATIONS"].astype(int)
    metadata["bom"] = money(metadata["CUSTOMER_VALUE_BEGINNING_OF_MONTH"])
    metadata["eom"] = money(metadata["CUSTOMER_VALUE_END_OF_MONTH"])
    metadata["cancel"] = money(metadata["CUSTOMER_CANCELLATION_DOLLARS"]).fillna(0.0).abs()
    integrations["month"] = integrations["SNAPSHOT_MONTH"].str[:7]
    integrations["custom"] = integrations["INTEGRATION_ID"].str.lower().str.startswith("custom")
    return segments, metadata, integrations


def bucket_of(n: pd.Series) -> pd.Series:
    labels = pd.Series(index=n.index, dtype=object)
    for name, lo, hi in BUCKETS:
        labels[(n >= lo) & (n <= hi)] = name
    return labels


def simulated_figures(folder: Path) -> dict:
    """The CALIBRATION.md figures computed on a simulated data set."""
    segments, meta, integ = read_simulated(folder)
    months = sorted(meta["SNAPSHOT_MONTH"].unique())
    by_month = meta.groupby("SNAPSHOT_MONTH")
    tiered = meta[meta["tier"].notna()]
    jan = months[-1]
    early = integ["month"] != jan
    buckets = bucket_of(tiered["n"]).value_counts()
    mrr_by_count = meta.groupby("n")["bom"].mean()
    paying_jan = meta[(meta["SNAPSHOT_MONTH"] == jan) & (meta["bom"] > 0) & meta["tier"].notna()]
    retained = meta[meta["bom"] > 0].assign(
        retained=lambda d: 1 - d["cancel"] / d["bom"], bucket=lambda d: bucket_of(d["n"]))
    paying = meta[meta["bom"] > 0]
    per_customer = meta.groupby("CUSTOMER_ID")[["n", "bom", "eom", "cancel"]].mean().mean()
    top = integ[integ["month"] == jan]["INTEGRATION_ID"].where(~integ["custom"], "custom").value_counts()
    return {
        "customers_by_month": by_month["CUSTOMER_ID"].nunique().to_dict(),
        "metadata_rows": len(meta),
        "metadata_rows_with_tier": len(tiered),
        "integration_rows": len(integ),
        "mean_integrations": by_month["n"].mean().to_dict(),
        "zero_share": by_month["n"].apply(lambda s: float((s == 0).mean())).to_dict(),
        "custom_share": {"Aug..Dec": float(integ.loc[early, "custom"].mean()),
                         "Jan": float(integ.loc[~early, "custom"].mean())},
        "bucket_share": {name: float(buckets.get(name, 0) / len(tiered)) for name, _, _ in BUCKETS},
        "mrr_by_count": {k: float(mrr_by_count.get(k, np.nan)) for k in REAL["mrr_by_count"]},
        "mean_by_tier": tiered.groupby(["SNAPSHOT_MONTH", "tier"])["n"].mean().unstack().to_dict("index"),
        "paying_tier_share_jan": paying_jan["tier"].value_counts(normalize=True).to_dict(),
        "bom_zero_share": float((tiered["bom"] == 0).mean()),
        "mean_cancel_per_customer_month": float(meta["cancel"].mean()),
        "per_customer": {"integrations": float(per_customer["n"]), "mrr_bom": float(per_customer["bom"]),
                         "mrr_eom": float(per_customer["eom"]), "cancelled": float(per_customer["cancel"])},
        "value_retained": retained.groupby(["SNAPSHOT_MONTH", "bucket"])["retained"].mean().unstack()
        .to_dict("index"),
        "cancel_by_tier_paying": paying.groupby(["SNAPSHOT_MONTH", "tier"])["cancel"].mean().unstack()
        .to_dict("index"),
        "top_ids_jan": list(top.index[:10]),
        "ever_zero_share": float(meta.groupby("CUSTOMER_ID")["n"].min().eq(0).mean()),
        "id_lengths": segments["CUSTOMER_ID"].str.len().value_counts().sort_index().to_dict(),
    }


def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def truth_highlights(folder: Path) -> list[str]:
    """Pooled truth of treatment ``any`` and effects by segment, from truth.json."""
    import json

    truth = json.loads((folder / paths.TRUTH_JSON).read_text())
    records = truth["records"]
    pooled = [r for r in records if r["cohort"] == "pooled" and r["group_var"] == "all"]
    lines = ["### Planted truth (pooled unflagged cohorts, from truth.json)", ""]
    rows = [[r["treatment"], r["outcome"], r["horizon"], _fmt(r["n_units"]), _fmt(r["n_treated"]),
             _fmt(r["ate"], 4), _fmt(r["att"], 4), _fmt(r["naive"], 4)]
            for r in pooled if r["outcome"] in ("cancel", "upgrade")]
    lines += _table(["treatment", "outcome", "h", "units", "treated", "ATE", "ATT", "naive"], rows)
    seg = [r for r in records if r["cohort"] == "pooled" and r["group_var"] in ("segment", "tier")
           and r["treatment"] == "any" and r["horizon"] == 3 and r["outcome"] in ("cancel", "upgrade")]
    lines += ["Treatment `any`, horizon 3, by segment and tier:", ""]
    lines += _table(["group", "value", "outcome", "units", "ATE", "ATT", "naive"],
                    [[r["group_var"], r["group_value"], r["outcome"], _fmt(r["n_units"]), _fmt(r["ate"], 4),
                      _fmt(r["att"], 4), _fmt(r["naive"], 4)] for r in seg])
    units = pd.read_parquet(folder / paths.TRUTH_UNITS_PARQUET,
                            columns=["treatment", "flagged", "treated", "cancel_h1", "cancel_h1_y0",
                                     "cancel_h1_y1", "upgrade_h1", "upgrade_h1_y0", "upgrade_h1_y1"])
    adopters = units[(units["treatment"] == "any") & ~units["flagged"] & (units["treated"] == 1)]
    relative = {o: adopters[f"{o}_h1_y1"].mean() / adopters[f"{o}_h1_y0"].mean() - 1 for o in ("cancel", "upgrade")}
    lines += [f"Among adopters, one-month cancel risk with vs without adoption: {relative['cancel']:+.1%}; "
              f"one-month upgrade chance: {relative['upgrade']:+.1%}.", ""]
    return lines


def render(real: dict, sim: dict, run: dict, folder: Path) -> str:
    """The markdown page: run facts, then every figure real vs simulated."""
    lines = [
        "# Simulator calibration (generated)",
        "",
        "Written by `python -m analysis.simulator.calibration_report --out docs/simulator_calibration.md`;"
        " do not edit by hand. Real figures are CALIBRATION.md's.",
        "",
        "## The run",
        "",
        f"`simulate(n_customers={run['n_customers']}, seed={run['seed']})`: {run['seconds']:.1f} s wall clock"
        f" (model {run['timings']['model']:.1f} s, writing {run['timings']['write']:.1f} s, truth"
        f" {run['timings']['truth']:.1f} s), peak memory {run['peak_mb']:,.0f} MB, on {run['cpus']} CPU(s).",
        "",
    ]
    lines += _table(["file", "rows"], [["customer_metadata.csv", _fmt(sim["metadata_rows"])],
                                       ["  of which with a tier", _fmt(sim["metadata_rows_with_tier"])],
                                       ["integrations.csv", _fmt(sim["integration_rows"])],
                                       ["truth.json records", _fmt(run["truth_records"])]])
    lines += ["## Figures, real vs simulated", ""]
    lines += _table(["figure", "real", "simulated"], [
        ["customers 2020-08", _fmt(real["customers_by_month"]["2020-08"]), _fmt(sim["customers_by_month"]["2020-08"])],
        ["customers 2021-01", _fmt(real["customers_by_month"]["2021-01"]), _fmt(sim["customers_by_month"]["2021-01"])],
        ["rows with a tier", _fmt(real["metadata_rows_with_tier"]), _fmt(sim["metadata_rows_with_tier"])],
        ["integration rows", _fmt(real["integration_rows"]), _fmt(sim["integration_rows"])],
        ["custom share of rows, Aug..Dec", _fmt(real["custom_share"]["Aug..Dec"]), _fmt(sim["custom_share"]["Aug..Dec"])],
        ["custom share of rows, Jan", _fmt(real["custom_share"]["Jan"]), _fmt(sim["custom_share"]["Jan"])],
        ["share of tiered rows with BOM MRR 0", _fmt(real["bom_zero_share"]), _fmt(sim["bom_zero_share"])],
        ["mean cancellation per customer-month ($)", _fmt(real["mean_cancel_per_customer_month"], 2),
         _fmt(sim["mean_cancel_per_customer_month"], 2)],
        *[[f"per customer: {k}", _fmt(v, 2), _fmt(sim["per_customer"][k], 2)] for k, v in real["per_customer"].items()],
        ["customers with zero integrations in some month", "0.316", _fmt(sim["ever_zero_share"])],
    ])
    lines += ["Mean NUM_OF_INTEGRATIONS and share with zero, by month:", ""]
    lines += _table(["month", "mean real", "mean sim", "zero real", "zero sim"], [
        [m, _fmt(real["mean_integrations"][m]), _fmt(sim["mean_integrations"].get(m)),
         _fmt(real["zero_share"].get(m)), _fmt(sim["zero_share"].get(m))] for m in C.MONTHS])
    total = sum(real["bucket_counts"].values())
    lines += ["Share of tiered customer-months by integration count:", ""]
    lines += _table(["count", "real", "simulated"], [
        [k, _fmt(v / total), _fmt(sim["bucket_share"][k])] for k, v in real["bucket_counts"].items()])
    lines += ["Mean BOM MRR ($) by integration count:", ""]
    lines += _table(["count", "real", "simulated"], [
        [k, _fmt(v, 0), _fmt(sim["mrr_by_count"][k], 0)] for k, v in real["mrr_by_count"].items()])
    lines += ["Mean integrations by tier (real / simulated):", ""]
    tiers = ("Free", "Starter", "Basic", "Pro", "Enterprise")
    lines += _table(["month", *tiers], [
        [m, *[f"{_fmt(real['mean_by_tier'].get(m, {}).get(t), 2)} / {_fmt(sim['mean_by_tier'][m].get(t), 2)}"
              for t in tiers]] for m in C.MONTHS])
    lines += ["Paying customers in 2021-01 by tier:", ""]
    lines += _table(["tier", "real (approx.)", "simulated"], [
        [t, _fmt(v, 2), _fmt(sim["paying_tier_share_jan"].get(t), 2)] for t, v in real["paying_tier_share_jan"].items()])
    lines += ["Value retained (1 - cancelled / BOM MRR, mean over customer-months with BOM > 0):", ""]
    buckets = ("0", "1-5", "6-10", "11-15")
    lines += _table(["month", *buckets], [
        [m, *[f"{_fmt(real['value_retained'].get(m, {}).get(b))} / {_fmt(sim['value_retained'][m].get(b))}"
              for b in buckets]] for m in C.MONTHS])
    lines += [f"Mean cancelled dollars per paying customer-month by tier (real: {real['cancel_by_tier_paying']}):", ""]
    lines += _table(["month", "Starter", "Basic", "Pro", "Enterprise"], [
        [m, *[_fmt(sim["cancel_by_tier_paying"][m].get(t), 1) for t in ("Starter", "Basic", "Pro", "Enterprise")]]
        for m in C.MONTHS])
    lines += [f"Most common integration IDs in 2021-01: real {', '.join(real['top_ids_jan'])}; simulated"
              f" {', '.join(map(str, sim['top_ids_jan']))}.", "",
              "Customer ID lengths in account_segments.csv (real / simulated): "
              + ", ".join(f"{k}: {_fmt(C.ID_LENGTH_COUNTS.get(int(k)))} / {_fmt(v)}"
                          for k, v in sorted(sim["id_lengths"].items(), reverse=True)), ""]
    lines += truth_highlights(folder)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Simulate the default data set, time it, and write the calibration page."""
    import os
    import resource

    from analysis.simulator import simulate

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="markdown file to write")
    parser.add_argument("--customers", type=int, default=63_882)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        summary = simulate(folder, n_customers=args.customers, seed=args.seed)
        import json

        run = {"n_customers": args.customers, "seed": args.seed, "seconds": time.perf_counter() - started,
               "timings": summary.timings, "cpus": os.cpu_count(),
               "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "truth_records": len(json.loads((folder / paths.TRUTH_JSON).read_text())["records"])}
        page = render(REAL, simulated_figures(folder), run, folder)
    Path(args.out).write_text(page + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
