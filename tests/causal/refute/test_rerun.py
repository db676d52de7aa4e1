"""What `run` and `refute` print, and a re-run that never overwrites the run's record.

One small synthetic run (estimate and refute stages through the command line)
is shared by every test; the re-runs use subsets (--only, --cell) to stay quick.
"""
from __future__ import annotations

import contextlib
import functools
import io
import json
import re
import shutil

import pandas as pd
import pytest

from analysis import results_contract
from causal import cli
from causal import estimate as estimate_package
from causal.pipeline import record_panel_hash
from causal.refute.rerun import file_sha256
from tests.causal.synthetic import synthetic_panel

pytestmark = pytest.mark.slow  # one estimate + refute run of a 700-customer panel (about a minute)

RUN_FILES = (results_contract.REFUTATIONS_CSV, results_contract.SENSITIVITY_JSON,
             results_contract.ESTIMATION_CONFIG_JSON, results_contract.EFFECTS_CSV)


def _panel(seed: int):
    panel = synthetic_panel(n_customers=700, seed=seed, confounding=2.0)
    panel = panel.loc[panel["treatment"].isin(["any", "first"])]
    first = panel["treatment"] == "first"
    keep_treated = panel.index[first & (panel["treated"] == 1)][:10]
    panel.loc[first & ~panel.index.isin(keep_treated), "treated"] = 0  # `first`: too few adopters, skipped
    return panel


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A results folder made by `python -m causal run --stages estimate,refute`, and what it printed."""
    base = tmp_path_factory.mktemp("cli_run")
    processed, results = base / "processed", base / "results"
    processed.mkdir()
    results.mkdir()
    _panel(21).to_parquet(processed / "panel.parquet")
    (results / results_contract.RUN_INFO_JSON).write_text(json.dumps({"processed_dir": str(processed)}))
    record_panel_hash(results, processed)  # what the panel stage records
    quick = functools.partial(estimate_package.run_estimation_stage, n_bootstrap=20)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CI", raising=False)
        patch.setattr(estimate_package, "run_estimation_stage", quick)
        code, out, err = _cli(["run", "--data", str(base), "--results", str(results), "--processed",
                               str(processed), "--seed", "3", "--stages", "estimate,refute"])
    assert code == 0, err
    return {"base": base, "results": results, "processed": processed, "out": out}


def _copy_run(run, tmp_path):
    copy = tmp_path / "results"
    shutil.copytree(run["results"], copy)
    return copy


def test_run_prints_a_line_per_stage_and_a_summary(run):
    results, lines = run["results"], run["out"].splitlines()
    effects = pd.read_csv(results / results_contract.EFFECTS_CSV)
    refutations = pd.read_csv(results / results_contract.REFUTATIONS_CSV)
    # the estimate stage is degraded here: the tiny panel has no model beside it for the event study
    assert re.match(rf"^estimate\s+(ok|degraded)\s+\d+\.\d s\s+effects={len(effects)} skipped_cells=\d+", lines[0])
    assert re.match(rf"^refute\s+ok\s+\d+\.\d s\s+checks={len(refutations)} "
                    rf"passed={int((refutations.passed == True).sum())}$", lines[1])  # noqa: E712
    headline = effects.loc[(effects.treatment == "any") & (effects.method == "dml") & (effects.estimand == "ATE")
                           & effects.outcome.isin(["cancel", "upgrade"])]
    for row in headline.itertuples():
        expected = (f"{row.outcome:<8} within {row.horizon} month{'s' if row.horizon != 1 else ''}: "
                    f"{100 * row.estimate:+.1f} [{100 * row.ci_low:+.1f}, {100 * row.ci_high:+.1f}]")
        assert any(expected in line for line in lines), expected
    assert f"checks: {int(refutations.passed.sum())} of {len(refutations)} refutations passed" in run["out"]
    skipped = pd.read_csv(results / results_contract.SKIPPED_CELLS_CSV)
    assert len(skipped) and f"degraded: {len(skipped)} cell-method estimates skipped" in run["out"]
    assert f"results: {results.resolve()}" in lines
    assert lines[-1] == f"next: python -m causal report --results {results} --out reports"
    assert "H0" not in run["out"]  # no customer ids


def test_quiet_or_ci_prints_the_stage_lines_only(monkeypatch, run):
    from causal import pipeline

    def one_stage(**kwargs):
        report = pipeline.StageReport(stage="refute", status="ok", seconds=1.5, counts={"checks": 60})
        kwargs["on_stage_done"](report)
        return [report]

    monkeypatch.setattr(pipeline, "run_pipeline", one_stage)
    argv = ["run", "--results", str(run["results"]), "--stages", "refute"]
    monkeypatch.setenv("CI", "true")
    assert _cli(argv)[1] == "refute    ok           1.5 s  checks=60\n"
    monkeypatch.delenv("CI")
    assert _cli(argv + ["--quiet"])[1] == "refute    ok           1.5 s  checks=60\n"
    assert "next: python -m causal report" in _cli(argv)[1]


def test_rerun_writes_its_own_folder_and_leaves_the_run_byte_identical(run):
    results = run["results"]
    before = {name: (results / name).read_bytes() for name in RUN_FILES}
    code, out, _ = _cli(["refute", "--results", str(results), "--seed", "3",
                         "--only", "random_common_cause,placebo_treatment", "--cell", "any:cancel:1"])
    assert code == 0
    assert {name: (results / name).read_bytes() for name in RUN_FILES} == before
    folders = sorted((results / results_contract.REFUTATION_RERUNS_DIR).glob("rerun-*-seed3-sims1"))
    assert folders and re.match(r"^rerun-\d{8}T\d{6}Z-seed3-sims1$", folders[-1].name)
    folder = folders[-1]
    settings = json.loads((folder / results_contract.RERUN_SETTINGS_JSON).read_text())
    assert settings["only"] == ["placebo_treatment", "random_common_cause"] and settings["cell"] == "any:cancel:1"
    assert settings["seed"] == 3 and settings["simulations"] == 1 and settings["same_settings_as_run"]
    assert settings["panel_sha256"] == file_sha256(run["processed"] / "panel.parquet")
    assert settings["run_estimation_config"] == json.loads(before[results_contract.ESTIMATION_CONFIG_JSON])
    assert (folder / results_contract.SENSITIVITY_JSON).is_file()

    rerun = pd.read_csv(folder / results_contract.REFUTATIONS_CSV)
    assert set(rerun.refuter) == {"placebo_treatment", "random_common_cause"}
    assert set(zip(rerun.treatment, rerun.outcome, rerun.horizon)) == {("any", "cancel", 1)}
    assert len(rerun) == 4  # psm and dml
    original = pd.read_csv(results / results_contract.REFUTATIONS_CSV)
    same = rerun.merge(original, on=["treatment", "outcome", "horizon", "method", "refuter"])
    assert len(same) == 4 and (same.new_effect_x == same.new_effect_y).all()  # same settings, same numbers

    lines = out.splitlines()
    for row in rerun.itertuples():
        verdict = "pass" if row.passed else "FAIL"
        line = next(x for x in lines if x.split()[:3] == [f"{row.treatment}:{row.outcome}:{row.horizon}",
                                                          row.method, row.refuter])
        assert line.split()[3] == f"{row.new_effect:+.4f}" and verdict in line.split()[4:6]
        assert line.count(f"{row.new_effect:+.4f}") == 2  # the run's result beside it (same settings)
    passed = int(rerun.passed.sum())
    assert lines[-1].startswith(f"refutations: {passed} passed, {len(rerun) - passed} failed (the run, same settings:")
    assert f"re-run folder: {folder}" in lines


def test_strict_exits_1_when_a_check_fails(run, tmp_path):
    results = _copy_run(run, tmp_path)
    effects_path = results / results_contract.EFFECTS_CSV
    effects = pd.read_csv(effects_path)
    row = (effects.treatment == "any") & (effects.outcome == "cancel") & (effects.horizon == 1) & (effects.method == "dml")
    effects.loc[row, "estimate"] += 10 * effects.loc[row, "se"]  # the saved estimate no longer matches a re-estimate
    effects.to_csv(effects_path, index=False)
    argv = ["refute", "--results", str(results), "--seed", "3", "--only", "random_common_cause",
            "--cell", "any:cancel:1"]
    code, out, _ = _cli(argv + ["--strict"])
    assert code == cli.EXIT_CHECK_FAILED
    assert re.search(r"^any:cancel:1\s+dml\s+random_common_cause\s+\S+ p=0\.000\s+FAIL", out, re.M)
    assert "1 failed" in out.splitlines()[-1]
    assert _cli(argv)[0] == 0


def test_rerun_refuses_another_runs_panel(run, tmp_path):
    results = _copy_run(run, tmp_path)
    other = tmp_path / "other_processed"
    other.mkdir()
    _panel(99).to_parquet(other / "panel.parquet")
    info_path = results / results_contract.RUN_INFO_JSON
    info = json.loads(info_path.read_text())
    info_path.write_text(json.dumps({**info, "processed_dir": str(other)}))
    reruns = sorted((results / results_contract.REFUTATION_RERUNS_DIR).glob("rerun-*"))
    code, out, err = _cli(["refute", "--results", str(results), "--only", "placebo_treatment"])
    assert code == cli.EXIT_INPUT_ERROR and out == ""
    assert err.count("\n") == 1 and str(other / "panel.parquet") in err
    assert info["panel_sha256"] in err and file_sha256(other / "panel.parquet") in err
    assert sorted((results / results_contract.REFUTATION_RERUNS_DIR).glob("rerun-*")) == reruns  # nothing written

    (other / "panel.parquet").unlink()
    code, _, err = _cli(["refute", "--results", str(results)])
    assert code == 2 and err.count("\n") == 1 and "panel missing" in err

    info_path.write_text(json.dumps({k: v for k, v in info.items() if k != "panel_sha256"}))
    code, _, err = _cli(["refute", "--results", str(results)])
    assert code == 2 and err.count("\n") == 1 and "predates the panel hash" in err


@pytest.mark.parametrize("option", [["--only", "placebo,bootstrap"], ["--cell", "any:cancel"],
                                    ["--cell", "any:mrr_change:1"], ["--cell", "any:cancel:x"]])
def test_unknown_refuter_or_malformed_cell_is_one_line_exit_2(run, option):
    code, out, err = _cli(["refute", "--results", str(run["results"])] + option)
    assert code == 2 and out == "" and err.count("\n") == 1 and option[0] in err


def test_a_command_that_mapped_cells_leaves_no_worker_running(run, tmp_path):
    """`refute` with two workers stops them before it returns (killed: every result is in by then)."""
    import psutil

    def workers():
        return [p for p in psutil.Process().children(recursive=True)
                if any("popen_loky" in part for part in p.cmdline())]

    copy = _copy_run(run, tmp_path)
    reruns = copy / results_contract.REFUTATION_RERUNS_DIR
    before = set(reruns.iterdir()) if reruns.is_dir() else set()
    code, _, err = _cli(["refute", "--results", str(copy), "--jobs", "2", "--only", "placebo_treatment",
                         "--cell", "any:cancel:1"])
    assert code == 0, err
    assert len(set(reruns.iterdir()) - before) == 1  # it did re-run, on worker processes
    assert workers() == []
