"""Ground truth: replays reproduce the facts, the seed fixes everything, the truth agrees with the files."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.simulator import constants as C
from analysis.simulator import simulate
from analysis.simulator.draws import Draws
from analysis.simulator.engine import Forcing, replay, simulate_history
from analysis.simulator.params import ModelParameters
from analysis.simulator.population import draw_population
from tests.analysis.simulator.test_simulator_format import SEED, SIZE, read_raw_strict

OUTCOMES = ("cancel", "upgrade", "cancel_dollars", "mrr_change")


def _truth(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text())


def test_forcing_the_factual_adoption_reproduces_the_latent_path():
    rng = np.random.default_rng(3)
    params, n_months = ModelParameters(), len(C.MONTHS)
    population = draw_population(rng, 1_500, params, n_months)
    draws = Draws(rng, n_months, 1_500)
    history = simulate_history(population, draws, params, 1.0, n_months)
    compared = 0
    for t in range(n_months - 1):
        alive = np.flatnonzero(history.alive[t])
        factual = {"any": history.adopt_marketplace[t] | history.adopt_custom[t],
                   "marketplace": history.adopt_marketplace[t], "custom": history.adopt_custom[t]}
        for variant, adopted in factual.items():
            for value in (0, 1):
                idx = alive[adopted[alive] == bool(value)]
                path = replay(t, idx, history, population, draws, params, 1.0, Forcing(variant, value))
                for name in ("alive", "tier", "mrr", "cancel", "eom"):
                    expected = getattr(history, name)[t:, idx]
                    got = getattr(path, name)[t:]
                    if name != "alive":
                        expected, got = expected[history.alive[t:, idx]], got[history.alive[t:, idx]]
                    np.testing.assert_array_equal(got, expected, err_msg=f"{variant} t={t} {name}")
                compared += idx.size
    assert compared > 10_000


def test_units_forced_to_their_observed_treatment_reproduce_observed_outcomes(simulated_data):
    units = pd.read_parquet(simulated_data(SIZE, SEED) / "truth_units.parquet")
    units = units[~units["flagged"]]
    checked = 0
    for outcome in OUTCOMES:
        for h in (1, 2, 3):
            column = f"{outcome}_h{h}"
            rows = units[units[column].notna()]
            factual = np.where(rows["treated"] == 1, rows[f"{column}_y1"], rows[f"{column}_y0"])
            np.testing.assert_allclose(factual, rows[column], rtol=0, atol=1e-9, err_msg=column)
            assert units.loc[units[column].isna(), [f"{column}_y1", f"{column}_y0"]].isna().all().all()
            checked += len(rows)
    assert checked > 50_000


def _digests(folder: Path) -> dict:
    names = ("account_segments.csv", "customer_metadata.csv", "integrations.csv", "truth.json",
             "truth_units.parquet")
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in names}


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path):
    first = simulate(tmp_path / "a", n_customers=1_200, seed=5)
    simulate(tmp_path / "b", n_customers=1_200, seed=5)
    simulate(tmp_path / "c", n_customers=1_200, seed=6)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    different = _digests(tmp_path / "c")
    assert all(different[name] != digest for name, digest in _digests(tmp_path / "a").items())
    text = first.describe()
    assert "1,200 customers" in text and "H0" not in text and text.count("\n") < 8


@pytest.fixture(scope="module")
def no_effect(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sim_no_effect")
    simulate(folder, n_customers=4_000, seed=8, effect_scale=0.0)
    return folder


def test_effect_scale_zero_plants_no_effect_but_keeps_confounding(no_effect):
    truth = _truth(no_effect)
    assert truth["planted"]["effect_scale"] == 0.0
    assert all(r["ate"] == 0.0 and r["att"] in (0.0, None) for r in truth["records"])
    naive = [r["naive"] for r in truth["records"] if r["group_var"] == "all" and r["cohort"] == "pooled"
             and r["outcome"] == "cancel" and r["treatment"] == "any"]
    assert all(v < 0 for v in naive), "adopters cancel less even without any effect"


def test_tracking_change_switch(tmp_path, simulated_data):
    simulate(tmp_path, n_customers=3_000, seed=9, tracking_change=False)
    for folder, flagged in ((tmp_path, []), (simulated_data(SIZE, SEED), ["2020-12"])):
        truth = _truth(folder)
        assert truth["tracking_change_months"] == flagged
        assert {r["cohort"] for r in truth["records"] if r["flagged"]} == set(flagged)
        links = pd.read_csv(folder / "integrations.csv", dtype=str)
        custom = links["INTEGRATION_ID"].str.lower().str.startswith("custom")
        last = links["SNAPSHOT_MONTH"].str[:7] == C.MONTHS[-1]
        jump = custom[last].mean() - custom[~last].mean()
        assert (jump > 0.2) if flagged else (abs(jump) < 0.03)


# --- the truth agrees with an independent panel built from the written files -----------------

def _independent_panel(folder: Path) -> pd.DataFrame:
    """Units (customer, cohort, treatment) with treatment and observed outcomes, per docs/definitions.md."""
    raw = read_raw_strict(folder)
    meta, links = raw["metadata"], raw["integrations"]
    months = sorted(meta["month"].unique())
    customers = sorted(meta["customer_id"].unique())
    grid = lambda column: (meta.pivot(index="customer_id", columns="month", values=column)  # noqa: E731
                           .reindex(index=customers, columns=months))
    present = grid("n_int").notna().to_numpy()
    n_int, tier = grid("n_int").to_numpy(), grid("tier_rank").to_numpy()
    bom, eom, cancel = grid("bom").to_numpy(), grid("eom").to_numpy(), grid("cancel").fillna(0).to_numpy()
    held = {kind: set(zip(links.loc[links["custom"] == (kind == "custom"), "customer_id"],
                          links.loc[links["custom"] == (kind == "custom"), "month"],
                          links.loc[links["custom"] == (kind == "custom"), "integration_id"]))
            for kind in ("marketplace", "custom")}
    frames = []
    last = len(months) - 1
    for t in range(last):
        rows = np.flatnonzero(present[:, t] & present[:, t + 1])
        ids = [customers[r] for r in rows]
        new = {}
        for kind, triples in held.items():
            gained = {(c, i) for c, m, i in triples if m == months[t + 1]} - \
                     {(c, i) for c, m, i in triples if m == months[t]}
            owners = {c for c, _ in gained}
            new[kind] = np.array([c in owners for c in ids])
        rose = n_int[rows, t + 1] > n_int[rows, t]
        out = {}
        for h in (1, 2, 3):
            ok_cancel = bom[rows, t] > 0
            if t + h <= last:
                w = slice(t + 1, t + h + 1)
                hit = (present[rows, w] & (cancel[rows, w] > 0)).any(axis=1)
                full = present[rows, w].all(axis=1)
                y = np.where(hit, 1.0, np.where(full, 0.0, np.nan))
                y[~ok_cancel] = np.nan
                out[f"cancel_h{h}"] = y
                out[f"cancel_dollars_h{h}"] = np.where(np.isnan(y), np.nan, cancel[rows, w].sum(axis=1))
                change = eom[rows, t + h] - bom[rows, t + 1]
                out[f"mrr_change_h{h}"] = np.where(ok_cancel & present[rows, t + h], change, np.nan)
            else:
                for o in ("cancel", "cancel_dollars", "mrr_change"):
                    out[f"{o}_h{h}"] = np.full(rows.size, np.nan)
            if t + h + 1 <= last:
                w = slice(t + 2, t + h + 2)
                base = tier[rows, t + 1]
                seen = present[rows, w] & ~np.isnan(tier[rows, w])
                hit = (seen & (tier[rows, w] > base[:, None])).any(axis=1) & ~np.isnan(base)
                full = seen.all(axis=1) & ~np.isnan(base)
                y = np.where(hit, 1.0, np.where(full, 0.0, np.nan))
                y[~(tier[rows, t] < 4)] = np.nan  # NaN tier compares False: not eligible
                out[f"upgrade_h{h}"] = y
            else:
                out[f"upgrade_h{h}"] = np.full(rows.size, np.nan)
        for variant, treated, risk in (("any", rose, np.ones(rows.size, bool)),
                                       ("first", rose, n_int[rows, t] == 0),
                                       ("marketplace", new["marketplace"], np.ones(rows.size, bool)),
                                       ("custom", new["custom"], np.ones(rows.size, bool))):
            frame = pd.DataFrame({k: v[risk] for k, v in out.items()})
            frame.insert(0, "treated", treated[risk].astype(int))
            frame.insert(0, "treatment", variant)
            frame.insert(0, "cohort", months[t])
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_truth_counts_and_naive_agree_with_a_panel_built_from_the_files(simulated_data):
    folder = simulated_data(SIZE, SEED)
    panel = _independent_panel(folder)
    truth = _truth(folder)
    records = {(r["treatment"], r["outcome"], r["horizon"], r["cohort"]): r for r in truth["records"]
               if r["group_var"] == "all"}
    compared = 0
    for (variant, cohort), rows in panel.groupby(["treatment", "cohort"]):
        for outcome in OUTCOMES:
            for h in (1, 2, 3):
                y = rows[f"{outcome}_h{h}"]
                used = rows[y.notna()]
                key = (variant, outcome, h, cohort)
                if used.empty:
                    assert key not in records
                    continue
                record = records[key]
                assert (record["n_units"], record["n_treated"]) == (len(used), int(used["treated"].sum())), key
                yy = used[f"{outcome}_h{h}"]
                naive = yy[used["treated"] == 1].mean() - yy[used["treated"] == 0].mean()
                assert record["naive"] == pytest.approx(naive, abs=1e-9), key
                compared += 1
    assert compared > 100
