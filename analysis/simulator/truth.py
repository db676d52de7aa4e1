"""Ground truth by replay: every panel unit simulated twice from the same draws, A_t forced to 1 and 0.

Outcomes follow docs/definitions.md: the observed outcome is computed from what
the written files show; Y(1) and Y(0) from the replayed latent paths (where a
customer who cancels fully has no later cancellations and upgrade 0). ATE and
ATT average Y(1) - Y(0) over the units whose observed outcome is not NaN.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis import schema
from analysis.simulator import constants as C
from analysis.simulator.draws import Draws
from analysis.simulator.engine import Forcing, History, Replay, replay
from analysis.simulator.integrations import IntegrationRows
from analysis.simulator.observe import Observed
from analysis.simulator.params import ModelParameters
from analysis.simulator.population import Population

GROUP_VARS = ("all",) + tuple(schema.SEGMENT_VARS)  # all, segment, tier, employee_size, region
OUTCOME_HORIZONS = tuple((o, h) for o in schema.OUTCOMES for h in schema.HORIZONS)
FORCED_VARIANT = {"any": "any", "first": "any", "marketplace": "marketplace", "custom": "custom"}


def observed_outcomes(obs: Observed, t: int, idx: np.ndarray) -> dict:
    """Outcomes of units (idx, t) from the written data, NaN where ineligible or censored."""
    n_months = obs.present.shape[0]
    present = obs.present[:, idx]
    tier = obs.tier[:, idx].astype(np.int64)
    cancel = obs.cancel[:, idx]
    bom_t = obs.mrr_bom[t, idx]
    eligible_cancel = np.nan_to_num(bom_t, nan=0.0) > 0
    eligible_upgrade = (tier[t] >= 0) & (tier[t] < C.ENTERPRISE)
    out = {}
    for h in schema.HORIZONS:
        nan = np.full(idx.size, np.nan)
        if t + h <= n_months - 1:
            window = slice(t + 1, t + h + 1)
            hit = (present[window] & (cancel[window] > 0)).any(axis=0)
            complete = present[window].all(axis=0)
            value = np.where(hit, 1.0, np.where(complete, 0.0, np.nan))
            value[~eligible_cancel] = np.nan
            out[("cancel", h)] = value
            dollars = np.where(present[window], cancel[window], 0.0).sum(axis=0)
            out[("cancel_dollars", h)] = np.where(np.isnan(value), np.nan, dollars)
            change = obs.mrr_eom[t + h, idx] - obs.mrr_bom[t + 1, idx]
            change = np.where(present[t + h] & eligible_cancel, change, np.nan)
            out[("mrr_change", h)] = change
        else:
            out[("cancel", h)] = out[("cancel_dollars", h)] = out[("mrr_change", h)] = nan
        if t + h + 1 <= n_months - 1:
            window = slice(t + 2, t + h + 2)
            base = tier[t + 1]
            known = present[window] & (tier[window] >= 0)
            hit = (known & (tier[window] > base[None, :])).any(axis=0) & (base >= 0)
            complete = known.all(axis=0) & (base >= 0)
            value = np.where(hit, 1.0, np.where(complete, 0.0, np.nan))
            value[~eligible_upgrade] = np.nan
            out[("upgrade", h)] = value
        else:
            out[("upgrade", h)] = np.full(idx.size, np.nan)
    return out


def latent_outcomes(path: Replay, t: int, observable_until: np.ndarray) -> dict:
    """Outcomes of a replayed latent path.

    Months after a full cancellation hold nothing (no cancellation, no upgrade);
    months after the customer's silent exit (``observable_until``, which never
    depends on treatment) are outside the extract and count as nothing too, so
    Y(a) is measured as the files would measure it.
    """
    n_months, k = path.alive.shape
    covered = np.arange(n_months)[:, None] <= observable_until[None, :]
    path = Replay(alive=path.alive & covered, tier=path.tier, mrr=path.mrr,
                  cancel=np.where(covered, path.cancel, 0), eom=path.eom)
    out = {}
    for h in schema.HORIZONS:
        if t + h <= n_months - 1:
            window = slice(t + 1, t + h + 1)
            out[("cancel", h)] = (path.cancel[window] > 0).any(axis=0).astype(float)
            out[("cancel_dollars", h)] = path.cancel[window].sum(axis=0) / 100.0
            eom = np.where(path.alive[t + h], path.eom[t + h], 0)
            out[("mrr_change", h)] = (eom - path.mrr[t + 1]) / 100.0
        else:
            out[("cancel", h)] = out[("cancel_dollars", h)] = out[("mrr_change", h)] = np.full(k, np.nan)
        if t + h + 1 <= n_months - 1:
            window = slice(t + 2, t + h + 2)
            base = path.tier[t + 1].astype(np.int64)
            higher = path.alive[window] & (path.tier[window].astype(np.int64) > base[None, :])
            out[("upgrade", h)] = higher.any(axis=0).astype(float)
        else:
            out[("upgrade", h)] = np.full(k, np.nan)
    return out


def observed_treatments(obs: Observed, rows: IntegrationRows, t: int, idx: np.ndarray) -> dict:
    """Treatment variants of units (idx, t) as the files show them, and the risk set of each."""
    n_t, n_next = obs.n_integrations[t, idx], obs.n_integrations[t + 1, idx]
    adopted = n_next > n_t
    every = np.ones(idx.size, bool)
    return {
        "any": (adopted, every),
        "first": (adopted, n_t == 0),
        "marketplace": (rows.new_marketplace[t, idx], every),
        "custom": (rows.new_custom[t, idx], every),
    }


@dataclass
class _Accumulator:
    """Sums per (treatment, outcome, horizon, cohort, group_var, group_value)."""

    sums: dict
    cohorts: dict

    def add(self, key: tuple, values: np.ndarray, cohort: str) -> None:
        if key in self.sums:
            self.sums[key] += values
        else:
            self.sums[key] = values.copy()
        if values[0] > 0:
            self.cohorts.setdefault(key, set()).add(cohort)


def _group_codes(pop: Population, obs: Observed, t: int, idx: np.ndarray) -> dict:
    tier = obs.tier[t, idx]
    tier_label = np.where(tier >= 0, np.array(C.TIERS, dtype=object)[np.clip(tier, 0, 4)], schema.UNKNOWN)
    return {
        "all": np.full(idx.size, "all", dtype=object),
        "segment": pop.segment[idx],
        "tier": tier_label,
        "employee_size": pop.employee_size[idx],
        "region": pop.region[idx],
    }


def compute_truth(pop: Population, h: History, obs: Observed, rows: IntegrationRows, draws: Draws,
                  p: ModelParameters, effect_scale: float, flagged_cohorts: set,
                  units_path: Path | None = None) -> list[dict]:
    """Replay every unit under both forced treatments; return truth records, write unit table."""
    n_months = h.alive.shape[0]
    ids = pop.customer_ids()
    acc = _Accumulator({}, {})
    writer = None
    try:
        for t in range(n_months - 1):
            cohort = C.MONTHS[t]
            idx = np.flatnonzero(obs.present[t] & obs.present[t + 1])
            if idx.size == 0:
                continue
            observed = observed_outcomes(obs, t, idx)
            treatments = observed_treatments(obs, rows, t, idx)
            groups = _group_codes(pop, obs, t, idx)
            potential = {}
            for forced in ("any", "marketplace", "custom"):
                potential[forced] = {
                    a: latent_outcomes(replay(t, idx, h, pop, draws, p, effect_scale, Forcing(forced, a)), t,
                                       obs.last_observable[idx])
                    for a in (0, 1)
                }
            for variant in schema.TREATMENTS:
                treated, risk = treatments[variant]
                y = potential[FORCED_VARIANT[variant]]
                table = {"customer_id": ids[idx[risk]], "cohort": cohort, "treatment": variant,
                         "treated": treated[risk].astype(np.int8), "flagged": t in flagged_cohorts}
                for name, labels in groups.items():
                    if name != "all":
                        table[schema.SEGMENT_VARS[name]] = labels[risk]
                for key in OUTCOME_HORIZONS:
                    column = schema.outcome_column(*key)
                    y_obs = observed[key][risk]
                    valid = ~np.isnan(y_obs)
                    y1 = np.where(valid, y[1][key][risk], np.nan)
                    y0 = np.where(valid, y[0][key][risk], np.nan)
                    table[column], table[f"{column}_y1"], table[f"{column}_y0"] = y_obs, y1, y0
                    a = treated[risk] & valid
                    b = ~treated[risk] & valid
                    diff = np.where(valid, y1 - y0, 0.0)
                    obs_filled = np.where(valid, y_obs, 0.0)
                    for name, labels in groups.items():
                        codes, levels = pd.factorize(labels[risk], sort=True)
                        size = len(levels)
                        stats = np.stack([
                            np.bincount(codes, weights=valid, minlength=size),
                            np.bincount(codes, weights=a, minlength=size),
                            np.bincount(codes, weights=diff, minlength=size),
                            np.bincount(codes, weights=diff * a, minlength=size),
                            np.bincount(codes, weights=obs_filled * a, minlength=size),
                            np.bincount(codes, weights=obs_filled * b, minlength=size),
                        ], axis=1)
                        for level, values in zip(levels, stats):
                            base = (variant, key[0], key[1])
                            acc.add(base + (cohort, name, str(level)), values, cohort)
                            if t not in flagged_cohorts:
                                acc.add(base + ("pooled", name, str(level)), values, cohort)
                if units_path is not None:
                    batch = pa.Table.from_pandas(pd.DataFrame(table), preserve_index=False)
                    if writer is None:
                        writer = pq.ParquetWriter(units_path, batch.schema)
                    writer.write_table(batch)
    finally:
        if writer is not None:
            writer.close()
    return _records(acc, flagged_cohorts)


def _records(acc: _Accumulator, flagged_cohorts: set) -> list[dict]:
    flagged_labels = {C.MONTHS[t] for t in flagged_cohorts}
    records = []
    for key in sorted(acc.sums, key=lambda k: (schema.TREATMENTS.index(k[0]), schema.OUTCOMES.index(k[1]),
                                               k[2], k[3] == "pooled", k[3], GROUP_VARS.index(k[4]), k[5])):
        n, n_t, s_diff, s_diff_t, s_obs_t, s_obs_u = acc.sums[key]
        if n == 0:
            continue
        n_u = n - n_t
        records.append({
            "treatment": key[0], "outcome": key[1], "horizon": int(key[2]), "cohort": key[3],
            "group_var": key[4], "group_value": key[5], "n_units": int(n), "n_treated": int(n_t),
            "ate": s_diff / n,
            "att": s_diff_t / n_t if n_t > 0 else None,
            "naive": (s_obs_t / n_t - s_obs_u / n_u) if n_t > 0 and n_u > 0 else None,
            "cohorts": ";".join(sorted(acc.cohorts.get(key, ()))),
            "flagged": key[3] in flagged_labels,
        })
    return records


def write_truth_json(path: Path, records: list[dict], meta: dict) -> None:
    """truth.json: run metadata, tracking-change months, planted parameters and records."""
    document = dict(meta)
    document["records"] = records
    path.write_text(json.dumps(document, indent=1, allow_nan=False) + "\n")
