"""The segments stage's guards: the preconditions checked before DRTester and the policy tree."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import schema
from causal.segments.guards import (NO_RULE, degenerate_rule_reason, segment_effects_status, spread_reason,
                                    variants_status)


def test_constant_predictions_have_no_spread():
    reason = spread_reason(np.full(500, -0.01), 4)
    assert reason is not None and reason.startswith("no spread in predicted effects")
    assert spread_reason(np.array([0.1, 0.1, 0.2, 0.2, 0.2]), 4) is not None  # 2 values, 4 groups
    assert spread_reason(np.linspace(-0.05, 0.05, 500), 4) is None


def test_rule_targeting_everyone_or_no_one_is_no_rule():
    assert degenerate_rule_reason(1.0, 0.4) == f"{NO_RULE}: the rule targets every training customer-month"
    assert degenerate_rule_reason(0.3, 0.0) == f"{NO_RULE}: the rule targets no held-out customer-month"
    assert degenerate_rule_reason(0.3, 0.35) is None


def _panel(custom_treated: int, segments: int = 3) -> pd.DataFrame:
    rows = []
    for treatment in ("any", "marketplace", "custom"):
        for i in range(30):
            treated = int(i < custom_treated) if treatment == "custom" else int(i % 2 == 0)
            rows.append({"treatment": treatment, schema.TREATED: treated,
                         **{column: f"level{i % segments}" for column in schema.SEGMENT_VARS.values()}})
    return pd.DataFrame(rows)


def test_no_custom_integrations_is_named():
    status = variants_status(_panel(custom_treated=0), pd.DataFrame(), [])
    assert status == {"status": "degraded",
                      "reason": "no custom integrations in the data: no marketplace-vs-custom comparison"}


def test_skipped_variant_cells_say_why():
    skipped = [dict(treatment="custom", outcome="cancel", horizon=1, segment_var="all", segment_value="all",
                    reason="fewer than 50 treated or untreated customer-months in a cross-fitting fold")]
    status = variants_status(_panel(custom_treated=5), pd.DataFrame(), skipped)
    assert status["status"] == "degraded" and status["reason"].startswith("not estimable: fewer than 50 treated")


def test_segment_variables_with_one_level_are_degraded():
    status = segment_effects_status(_panel(5, segments=1), gates=[object()], skipped=[])
    assert status["status"] == "degraded" and "one level" in status["reason"]
    assert segment_effects_status(_panel(5, segments=3), gates=[object()], skipped=[])["status"] == "ok"
    assert segment_effects_status(_panel(5), gates=[], skipped=[])["status"] == "degraded"
