"""Structural simulator of the three raw extracts, with ground truth computed by replay.

``simulate(out_dir, n_customers, seed)`` writes ``account_segments.csv``,
``customer_metadata.csv`` and ``integrations.csv`` in the real raw format, plus
``truth.json`` and ``truth_units.parquet`` (the known effects). See
docs/simulator.md for the model.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from analysis import paths
from analysis.simulator import constants as C
from analysis.simulator.draws import Draws
from analysis.simulator.engine import simulate_history
from analysis.simulator.integrations import build_instances, integration_rows
from analysis.simulator.observe import observe
from analysis.simulator.params import ModelParameters
from analysis.simulator.population import draw_population
from analysis.simulator.truth import compute_truth, write_truth_json
from analysis.simulator.writer import write_integrations, write_metadata, write_segments

__all__ = ["simulate", "SimulationSummary", "ModelParameters"]


@dataclass
class SimulationSummary:
    """Counts of one simulation run (no customer IDs)."""

    out_dir: Path
    n_customers: int
    seed: int
    effect_scale: float
    tracking_change: bool
    metadata_rows: int
    integration_rows: int
    customers_by_month: dict
    custom_integration_rows: int
    tracking_change_months: list
    eligible_units_any: int
    treated_units_any: int
    seconds: float
    timings: dict = field(default_factory=dict)

    def describe(self) -> str:
        """A short multi-line text of counts, for the command line."""
        months = list(self.customers_by_month)
        per_month = ", ".join(f"{m} {n:,}" for m, n in self.customers_by_month.items())
        return "\n".join([
            f"simulated {self.n_customers:,} customers, seed {self.seed}, months {months[0]} .. {months[-1]}"
            f" (effect scale {self.effect_scale:g}, tracking change {'on' if self.tracking_change else 'off'})",
            f"customer_metadata.csv: {self.metadata_rows:,} rows; customers by month: {per_month}",
            f"integrations.csv: {self.integration_rows:,} rows, {self.custom_integration_rows:,} custom",
            f"truth: {self.eligible_units_any:,} customer-months in the panel, {self.treated_units_any:,}"
            f" adopted (treatment any); tracking change months: {', '.join(self.tracking_change_months) or 'none'}",
            f"written to {self.out_dir} in {self.seconds:.1f} s",
        ])


def simulate(out_dir: Path, n_customers: int = 63882, seed: int = 1, *, effect_scale: float = 1.0,
             tracking_change: bool = True, hidden_factor: float = 0.0) -> SimulationSummary:
    """Simulate the default data set and its ground truth.

    Parameters
    ----------
    out_dir : Path
        Folder for the three CSVs, ``truth.json`` and ``truth_units.parquet`` (created).
    n_customers : int
        Number of customers (rows of account_segments.csv).
    seed : int
        Seed of every random draw; the same seed gives identical files.
    effect_scale : float
        Multiplies the planted causal effect of integrations; 0 plants none (ATE = ATT = 0 exactly).
    tracking_change : bool
        Reveal untracked custom integrations at the last month (the real data's Jan-2021 jump).
    hidden_factor : float
        Strength of a stable unmeasured account factor U ~ N(0, 1) that raises the adoption
        logits by ``hidden_factor * U`` and lowers the log cancellation hazard by as much.
        U is drawn from its own random stream and never written to the extracts; truth
        replays use it like every other draw. 0 (default) gives the default files unchanged.

    Returns
    -------
    SimulationSummary
    """
    started = time.perf_counter()
    timings = {}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if n_customers < 1:
        raise ValueError("n_customers must be positive")
    params = ModelParameters(hidden_factor=float(hidden_factor))
    n_months = len(C.MONTHS)
    tracking_month = C.TRACKING_CHANGE_MONTH_INDEX
    rng_population, rng_draws, rng_observe, rng_ids, rng_write = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5))

    population = draw_population(rng_population, n_customers, params, n_months)
    if params.hidden_factor:
        rng_hidden = np.random.default_rng(np.random.SeedSequence(seed).spawn(6)[5])
        population = replace(population, engagement=rng_hidden.standard_normal(n_customers))
    draws = Draws(rng_draws, n_months, n_customers)
    history = simulate_history(population, draws, params, effect_scale, n_months)
    observed = observe(population, history, params, rng_observe, tracking_change, tracking_month)
    instances = build_instances(population, history, params, rng_ids, tracking_change, tracking_month)
    rows = integration_rows(instances, observed, params, rng_ids)
    timings["model"] = time.perf_counter() - started

    customer_rank = rng_write.permutation(n_customers)
    write_segments(out_dir, population)
    metadata_rows = write_metadata(out_dir, population, observed, customer_rank, rng_write)
    integration_count = write_integrations(out_dir, population, rows, customer_rank, rng_write)
    timings["write"] = time.perf_counter() - started - timings["model"]

    flagged = {tracking_month} if tracking_change else set()
    records = compute_truth(population, history, observed, rows, draws, params, effect_scale, flagged,
                            units_path=out_dir / paths.TRUTH_UNITS_PARQUET)
    flagged_months = [C.MONTHS[t] for t in sorted(flagged)]
    meta = {
        "simulated": True,
        "n_customers": n_customers,
        "seed": seed,
        "effect_scale": effect_scale,
        "tracking_change": tracking_change,
        "months": list(C.MONTHS),
        "tracking_change_months": flagged_months,
        "planted": _planted(params, effect_scale),
    }
    write_truth_json(out_dir / paths.TRUTH_JSON, records, meta)
    timings["truth"] = time.perf_counter() - started - timings["model"] - timings["write"]

    units_any = sum(int((observed.present[t] & observed.present[t + 1]).sum()) for t in range(n_months - 1))
    treated_any = sum(int((observed.present[t] & observed.present[t + 1]
                           & (observed.n_integrations[t + 1] > observed.n_integrations[t])).sum())
                      for t in range(n_months - 1) if t not in flagged)
    return SimulationSummary(
        out_dir=out_dir, n_customers=n_customers, seed=seed, effect_scale=effect_scale,
        tracking_change=tracking_change, metadata_rows=metadata_rows, integration_rows=integration_count,
        customers_by_month={m: int(observed.present[k].sum()) for k, m in enumerate(C.MONTHS)},
        custom_integration_rows=int(np.char.startswith(
            np.char.lower(rows.integration_id.astype(str)), "custom").sum()),
        tracking_change_months=flagged_months, eligible_units_any=units_any, treated_units_any=treated_any,
        seconds=time.perf_counter() - started, timings=timings,
    )


def _planted(params: ModelParameters, effect_scale: float) -> dict:
    """The ``planted`` block of truth.json: the model in words and its parameters."""
    return {
        "description": (
            "Monthly hazards of cancellation (full or partial) and tier upgrade depend on BOM tier, MRR growth, "
            "employee size and team; integrations change them only through exposure = log(1 + marketplace + "
            "w * custom) behavioural integrations at BOM, multiplied by exp(-effect_scale * cancel_effect) for "
            "cancellation and exp(+effect_scale * upgrade_effect) for upgrades, where each effect is team x tier. "
            "Adoption is likelier for higher tiers, larger accounts, high-touch teams and growing MRR, which also "
            "cancel less and upgrade more (confounding). Untracked custom integrations revealed by the tracking "
            "change have no effect."
        ),
        "effect_scale": effect_scale,
        "parameters": params.as_dict(),
    }
