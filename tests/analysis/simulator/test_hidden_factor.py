"""The hidden-factor option: off by default (files unchanged), never written, and it confounds."""
from __future__ import annotations

import json

import pandas as pd

from analysis import paths
from analysis.simulator import simulate

FILES = ("account_segments.csv", "customer_metadata.csv", "integrations.csv", paths.TRUTH_JSON)


def test_hidden_factor_zero_leaves_every_file_unchanged(tmp_path):
    simulate(out_dir=tmp_path / "default", n_customers=400, seed=5)
    simulate(out_dir=tmp_path / "zero", n_customers=400, seed=5, hidden_factor=0.0)
    for name in FILES:
        assert (tmp_path / "default" / name).read_bytes() == (tmp_path / "zero" / name).read_bytes(), name


def test_hidden_factor_changes_behaviour_but_is_never_written(tmp_path):
    simulate(out_dir=tmp_path / "default", n_customers=1500, seed=5)
    simulate(out_dir=tmp_path / "hidden", n_customers=1500, seed=5, hidden_factor=1.0)
    default = pd.read_csv(tmp_path / "default" / "customer_metadata.csv")
    hidden = pd.read_csv(tmp_path / "hidden" / "customer_metadata.csv")
    assert list(default.columns) == list(hidden.columns)
    for name in ("account_segments.csv", "integrations.csv"):
        assert list(pd.read_csv(tmp_path / "default" / name).columns) == list(pd.read_csv(tmp_path / "hidden" / name).columns)
    assert (tmp_path / "default" / "account_segments.csv").read_bytes() == (
        tmp_path / "hidden" / "account_segments.csv").read_bytes()
    assert not default.equals(hidden)
    planted = json.loads((tmp_path / "hidden" / paths.TRUTH_JSON).read_text())["planted"]["parameters"]
    assert planted["hidden_factor"] == 1.0
