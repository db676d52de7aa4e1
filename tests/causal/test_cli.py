"""The command line: one entry point, subcommands, input errors as one line with exit code 2."""
from __future__ import annotations

import subprocess
import sys

import pytest

from analysis import paths
from analysis.errors import InputError
from causal import cli
from causal.pipeline import STAGES, parse_stages


def test_every_subcommand_is_reachable():
    parser = cli.build_parser()
    for command in ("simulate", "run", "refute", "report"):
        args = parser.parse_args([command] + (["--out", "x"] if command == "simulate" else []))
        assert args.command == command


def test_input_error_is_one_line_and_exit_code_2(monkeypatch, capsys):
    def broken(args):
        raise InputError("customer_metadata.csv", 7, "PRODUCT_TIER", "expected a tier, found 'Platinum'")

    monkeypatch.setattr(cli, "_cmd_run", broken)
    code = cli.main(["run", "--data", "nowhere"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "customer_metadata.csv, line 7, column PRODUCT_TIER: expected a tier" in err


def test_stage_selection_keeps_pipeline_order():
    assert parse_stages("all") == list(STAGES)
    assert parse_stages("panel,data") == ["data", "panel"]
    with pytest.raises(SystemExit):
        parse_stages("data,plot")


def test_module_entry_point_prints_help():
    done = subprocess.run([sys.executable, "-m", "causal", "--help"], capture_output=True, text=True,
                          cwd=paths.PROJ_ROOT)
    assert done.returncode == 0
    assert "simulate" in done.stdout and "refute" in done.stdout


def test_default_input_is_raw_only_when_all_three_files_exist(tmp_path):
    assert not paths.has_raw_files(tmp_path)
    for name in paths.RAW_FILES[:2]:
        (tmp_path / name).write_text("x\n")
    assert not paths.has_raw_files(tmp_path)
    (tmp_path / paths.RAW_FILES[2]).write_text("x\n")
    assert paths.has_raw_files(tmp_path)


def test_stage_line_says_why_a_stage_is_not_ok():
    from causal import console
    from causal.pipeline import StageReport

    report = StageReport(stage="segments", status="degraded", seconds=12.34, counts={"segment_effects": 1200},
                         reasons=["too few adopters in 3 segments"])
    assert console.stage_line(report) == ("segments  degraded    12.3 s  segment_effects=1,200"
                                          "  (too few adopters in 3 segments)")


def test_refute_output_compares_with_the_run_only_under_the_same_settings():
    import pandas as pd

    from causal import console

    keys = {"treatment": "any", "outcome": "cancel", "horizon": 1, "method": "dml"}
    rerun = pd.DataFrame([{**keys, "refuter": "placebo_treatment", "new_effect": 0.001, "p_value": 0.5, "passed": True},
                          {**keys, "refuter": "bootstrap", "new_effect": -0.2, "p_value": 0.001, "passed": False}])
    run = rerun.assign(new_effect=[0.002, -0.1], passed=[True, True])
    same = console.refute_table(rerun, run, same_settings=True)
    assert same[0].endswith("the run") and same[2].split()[3:] == ["-0.2000", "p=0.001", "FAIL", "-0.1000",
                                                                   "p=0.001", "pass"]
    other = console.refute_table(rerun, run, same_settings=False)
    assert "the run" not in other[0] and other[2].split()[3:] == ["-0.2000", "p=0.001", "FAIL"]
    assert console.refute_closing(rerun, run, {"same_settings_as_run": True}) == (
        "refutations: 1 passed, 1 failed (the run, same settings: 2 passed, 0 failed)")
    closing = console.refute_closing(rerun, run, {"same_settings_as_run": False,
                                                   "run_refute_settings": {"seed": 1, "simulations": 1}})
    assert closing.startswith("refutations: 1 passed, 1 failed (the run, with seed 1 and 1 simulations: 2 passed")
