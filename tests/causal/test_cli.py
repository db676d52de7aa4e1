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
