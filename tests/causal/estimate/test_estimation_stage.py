"""The estimate and refute stages end to end on a small synthetic panel: files, determinism, skips, re-run."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow  # two full stage runs (about a minute)

import json

import pandas as pd
import pytest

from analysis import results_contract, schema
from causal import cli
from causal.estimate.stage import run_estimation_stage
from causal.refute import refute_from_results, run_refutation_stage
from tests.causal.synthetic import synthetic_panel


@pytest.fixture(scope="module")
def processed_dir(tmp_path_factory):
    panel = synthetic_panel(n_customers=700, seed=21, confounding=2.0)
    panel = panel.loc[panel["treatment"].isin(["any", "first"])]  # two variants keep the test quick
    first = panel["treatment"] == "first"
    keep_treated = panel.index[first & (panel["treated"] == 1)][:10]
    panel.loc[first & ~panel.index.isin(keep_treated), "treated"] = 0  # `first`: too few adopters
    folder = tmp_path_factory.mktemp("processed")
    panel.to_parquet(folder / "panel.parquet")
    return folder


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, processed_dir):
    runs = []
    for name in ("a", "b"):
        results = tmp_path_factory.mktemp(f"results_{name}")
        (results / results_contract.RUN_INFO_JSON).write_text(json.dumps({"processed_dir": str(processed_dir)}))
        run_estimation_stage(processed_dir, results, seed=3, jobs=1, n_bootstrap=30)
        run_refutation_stage(processed_dir, results, seed=3, jobs=1, simulations=1)
        runs.append(results)
    return runs


def test_same_seed_writes_identical_effects(two_runs):
    first, second = ((run / results_contract.EFFECTS_CSV).read_bytes() for run in two_runs)
    assert first == second


def test_effects_cover_every_cell_and_method_or_list_the_skip(two_runs):
    results = two_runs[0]
    effects = pd.read_csv(results / results_contract.EFFECTS_CSV)
    skipped = pd.read_csv(results / results_contract.SKIPPED_CELLS_CSV)
    assert list(effects.columns) == list(results_contract.EFFECT_COLUMNS) + ["interval"]
    done = set(zip(effects.treatment, effects.outcome, effects.horizon, effects.method))
    listed = set(zip(skipped.treatment, skipped.outcome, skipped.horizon, skipped.method))
    for treatment in ("any", "first"):
        for outcome in schema.OUTCOMES:
            for horizon in schema.HORIZONS:
                for method in ("naive", "psm", "dml"):
                    assert ((treatment, outcome, horizon, method) in done) != (
                        (treatment, outcome, horizon, method) in listed)
    assert (skipped["treatment"] == "first").all() and skipped["reason"].str.contains("too few adopters").all()
    assert (effects["ci_low"] <= effects["estimate"]).all() and (effects["estimate"] <= effects["ci_high"]).all()
    assert set(effects.loc[effects.method == "psm", "estimand"]) == {"ATT"}
    dml = effects.loc[effects.method == "dml"]
    estimands = dml.groupby(["treatment", "outcome", "horizon"])["estimand"].apply(lambda e: tuple(sorted(e)))
    assert all(v == ("ATE", "ATT") for v in estimands)  # every dml cell: its ATE and, from the same nuisances, its ATT
    assert effects["cohorts"].str.match(r"^\d{4}-\d{2}(;\d{4}-\d{2})*$").all()


def test_side_tables_and_figures(two_runs):
    results = two_runs[0]
    balance = pd.read_csv(results / results_contract.BALANCE_CSV)
    assert {"covariate", "smd_before", "smd_after"} <= set(balance.columns)
    trimming = pd.read_csv(results / results_contract.TRIMMING_CSV)
    assert (trimming["n_before"] - trimming["n_removed"] == trimming["n_after"]).all()
    flagged = pd.read_csv(results / results_contract.SENSITIVITY_FLAGGED_CSV)
    assert set(flagged["method"]) == {"naive_with_flagged", "psm_with_flagged", "dml_with_flagged"}
    refutations = pd.read_csv(results / results_contract.REFUTATIONS_CSV)
    assert list(refutations.columns) == list(results_contract.REFUTATION_COLUMNS) + ["rule"]
    counts = refutations["refuter"].value_counts()
    from causal.refute.refuters import REFUTERS

    assert all(counts.get(name, 0) == 6 * 2 for name in REFUTERS)  # primary cells x {psm, dml}, each refuter
    assert counts.get("negative_control", 0) == 6 * 2  # the design check that needs no event study
    assert set(counts.index) <= set(REFUTERS) | {"estimator_agreement", "negative_control", "pre_trend",
                                                 "strategy_agreement"}
    agreement = refutations.loc[refutations["refuter"] == "estimator_agreement"]
    assert len(agreement) == 6 and set(agreement["method"]) == {"psm_vs_dml"}
    effects = pd.read_csv(results / results_contract.EFFECTS_CSV).set_index(
        ["treatment", "outcome", "horizon", "method", "estimand"])
    for row in agreement.itertuples():  # estimate: the PSM ATT; new_effect: the DML ATT of effects.csv
        assert row.estimate == pytest.approx(effects.loc[(row.treatment, row.outcome, row.horizon, "psm", "ATT"), "estimate"])
        assert row.new_effect == pytest.approx(effects.loc[(row.treatment, row.outcome, row.horizon, "dml", "ATT"), "estimate"])
    assert refutations["rule"].str.len().min() > 20
    sensitivity = json.loads((results / results_contract.SENSITIVITY_JSON).read_text())
    assert len(sensitivity["cells"]) == 12 and sensitivity["meaning"]
    for name in ("causal_graph.png", "love_plot.png", "propensity_overlap.png"):
        assert (results / "figures" / name).stat().st_size > 10_000
    text = "".join(p.read_text() for p in results.glob("*.csv")) + (results / results_contract.SENSITIVITY_JSON).read_text()
    assert "H0" not in text  # no customer ids in the results files


def test_refute_command_reproduces_the_run(two_runs, processed_dir):
    from causal.pipeline import record_panel_hash

    results = two_runs[1]
    record_panel_hash(results, processed_dir)
    before = (results / results_contract.REFUTATIONS_CSV).read_bytes()
    config = json.loads((results / results_contract.ESTIMATION_CONFIG_JSON).read_text())
    rerun = refute_from_results(results, simulations=None, seed=config["seed"])
    assert (results / results_contract.REFUTATIONS_CSV).read_bytes() == before
    from causal.refute.refuters import REFUTERS

    run = pd.read_csv(results / results_contract.REFUTATIONS_CSV)
    again = pd.read_csv(rerun.folder / results_contract.REFUTATIONS_CSV)
    suite = run.loc[run["refuter"].isin(REFUTERS)].reset_index(drop=True)  # the re-run repeats the refuters
    pd.testing.assert_frame_equal(again, suite, check_exact=True)


def test_refute_without_a_run_is_a_one_line_input_error(tmp_path, capsys):
    code = cli.main(["refute", "--results", str(tmp_path / "nowhere")])
    assert code == cli.EXIT_INPUT_ERROR
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "run_info.json" in err
