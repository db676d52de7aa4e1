"""Treatment and outcome arrays against a month-by-month reading of docs/definitions.md.

The reference below loops over customers and months and applies the written rules one
at a time (no vectorisation shared with analysis.panel), on small random panels with
absent months, missing tiers and values, cancellations and adoptions; plus hand-worked
cases for the integration IDs.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import schema
from analysis.errors import InputError
from analysis.panel import outcomes, treatment
from analysis.panel.arrays import CustomerMonthArrays

NAN = float("nan")


def random_arrays(seed: int, n: int = 40, m: int = 7) -> CustomerMonthArrays:
    rng = np.random.default_rng(seed)
    present = rng.random((n, m)) < 0.8
    present[:3] = True  # some customers in every month
    present[3, 4:] = False  # one who leaves
    tier = rng.integers(0, 5, size=(n, m)).astype(float)
    tier[rng.random((n, m)) < 0.1] = NAN
    n_int = np.cumsum(rng.random((n, m)) < 0.3, axis=1).astype(float)
    n_int[rng.random((n, m)) < 0.05] = 0.0
    bom = np.round(rng.gamma(2.0, 100.0, size=(n, m)), 2)
    bom[rng.random((n, m)) < 0.1] = 0.0
    eom = bom + rng.choice([0.0, 0.0, 50.0, -30.0], size=(n, m))
    eom[rng.random((n, m)) < 0.05] = NAN
    bom[rng.random((n, m)) < 0.05] = NAN
    cancel = np.where(rng.random((n, m)) < 0.15, np.round(rng.gamma(1.0, 40.0, size=(n, m)), 2), 0.0)
    cancel[rng.random((n, m)) < 0.05] = NAN
    for a in (tier, n_int, bom, eom, cancel):
        a[~present] = NAN
    ids = np.array([f"H{i:08d}" for i in range(n)])
    return CustomerMonthArrays(ids, [f"2020-{k + 1:02d}" for k in range(m)], present, tier, n_int, bom, eom, cancel)


def reference_status(a: CustomerMonthArrays, i: int, window: list[int]) -> str:
    """'gap' or 'left' for the first absent month of the window."""
    first_absent = next(k for k in window if not a.present[i, k])
    later = [k for k in range(first_absent, a.shape[1]) if a.present[i, k]]
    return "gap" if later else "left"


def reference_outcomes(a: CustomerMonthArrays, eligible_cancel, eligible_upgrade, i: int, t: int, h: int) -> dict:
    """``{outcome: (value, status name)}`` of customer i, cohort t, horizon h, by the written rules."""
    last = a.shape[1] - 1
    out = {}
    # cancel and cancel_dollars: window t+1 .. t+h
    window = list(range(t + 1, t + h + 1))
    if not eligible_cancel[i, t]:
        out["cancel"] = out["cancel_dollars"] = out["mrr_change"] = (NAN, "not_eligible")
    elif t + h > last:
        out["cancel"] = out["cancel_dollars"] = out["mrr_change"] = (NAN, "beyond_data")
    else:
        seen = [k for k in window if a.present[i, k]]
        cancelled = [0.0 if math.isnan(a.cancel[i, k]) else a.cancel[i, k] for k in seen]
        if any(c > 0 for c in cancelled):
            out["cancel"] = (1.0, "observed")
            out["cancel_dollars"] = (sum(cancelled), "observed")
        elif len(seen) == len(window):
            out["cancel"] = (0.0, "observed")
            out["cancel_dollars"] = (sum(cancelled), "observed")
        else:
            status = reference_status(a, i, window)
            out["cancel"] = out["cancel_dollars"] = (NAN, status)
        end = t + h
        if not a.present[i, end]:
            out["mrr_change"] = (NAN, reference_status(a, i, [end]))
        else:
            change = a.mrr_eom[i, end] - a.mrr_bom[i, t + 1]
            out["mrr_change"] = (change, "observed") if not math.isnan(change) else (NAN, "missing_value")
    # upgrade: window t+2 .. t+h+1, baseline tier at t+1
    window = list(range(t + 2, t + h + 2))
    if not eligible_upgrade[i, t]:
        out["upgrade"] = (NAN, "not_eligible")
    elif t + h + 1 > last:
        out["upgrade"] = (NAN, "beyond_data")
    else:
        baseline = a.tier_rank[i, t + 1]
        seen = [a.tier_rank[i, k] for k in window if a.present[i, k]]
        if not math.isnan(baseline) and any(not math.isnan(r) and r > baseline for r in seen):
            out["upgrade"] = (1.0, "observed")
        elif len(seen) < len(window):
            out["upgrade"] = (NAN, reference_status(a, i, window))
        elif math.isnan(baseline) or any(math.isnan(r) for r in seen):
            out["upgrade"] = (NAN, "missing_tier")
        else:
            out["upgrade"] = (0.0, "observed")
    return out


STATUS = {"observed": outcomes.OBSERVED, "not_eligible": outcomes.NOT_ELIGIBLE, "beyond_data": outcomes.BEYOND_DATA,
          "gap": outcomes.GAP, "left": outcomes.LEFT, "missing_tier": outcomes.MISSING_TIER,
          "missing_value": outcomes.MISSING_VALUE}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_outcomes_follow_the_written_rules_cell_by_cell(seed):
    a = random_arrays(seed)
    rng = np.random.default_rng(100 + seed)
    eligible_cancel = rng.random(a.shape) < 0.85
    eligible_upgrade = rng.random(a.shape) < 0.85
    got = outcomes.outcome_arrays(a, {schema.ELIGIBLE_CANCEL: eligible_cancel,
                                      schema.ELIGIBLE_UPGRADE: eligible_upgrade})
    assert set(got) == {schema.outcome_column(o, h) for o in schema.OUTCOMES for h in schema.HORIZONS}
    n, m = a.shape
    seen_statuses = set()
    for h in schema.HORIZONS:
        for i in range(n):
            for t in range(m):
                if t == m - 1:  # no cohort in the last month: beyond the data, or not eligible
                    expected = {o: (NAN, "not_eligible" if not (eligible_upgrade if o == "upgrade" else eligible_cancel)[i, t]
                                    else "beyond_data") for o in schema.OUTCOMES}
                else:
                    expected = reference_outcomes(a, eligible_cancel, eligible_upgrade, i, t, h)
                for outcome, (value, status) in expected.items():
                    got_value, got_status = got[schema.outcome_column(outcome, h)]
                    where = f"{outcome}_h{h} customer {i} month {t}"
                    assert got_status[i, t] == STATUS[status], where
                    if math.isnan(value):
                        assert math.isnan(got_value[i, t]), where
                    else:
                        assert got_value[i, t] == pytest.approx(value, rel=1e-12, abs=1e-12), where
                    seen_statuses.add(status)
    assert seen_statuses == set(STATUS)  # the random panels reach every status
    for value, status in got.values():
        assert status.dtype == np.int8 and value.dtype == float


def reference_treatments(a: CustomerMonthArrays, new: dict, i: int, t: int) -> dict:
    """``{variant: (in risk set, treated)}`` by docs/definitions.md."""
    if t == a.shape[1] - 1 or not (a.present[i, t] and a.present[i, t + 1]):
        return {v: (False, False) for v in schema.TREATMENTS}
    now, after = a.n_int[i, t], a.n_int[i, t + 1]
    return {
        "any": (True, bool(after > now)),
        "first": (bool(now == 0), bool(now == 0 and after >= 1)),
        "marketplace": (True, bool(new["marketplace"][i, t])),
        "custom": (True, bool(new["custom"][i, t])),
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_treatments_follow_the_written_rules_cell_by_cell(seed):
    a = random_arrays(seed)
    rng = np.random.default_rng(200 + seed)
    new = {"marketplace": rng.random(a.shape) < 0.3, "custom": rng.random(a.shape) < 0.2}
    got = treatment.treatment_arrays(a, new)
    assert tuple(got) == schema.TREATMENTS
    n, m = a.shape
    for i in range(n):
        for t in range(m):
            for variant, (risk, treated) in reference_treatments(a, new, i, t).items():
                assert (got[variant][0][i, t], got[variant][1][i, t]) == (risk, treated), f"{variant} {i} {t}"
    # the counts the example reaches: each variant has treated and untreated months in its risk set
    for variant, (risk, treated) in got.items():
        assert treated[risk].any() and not treated[risk].all() and not (treated & ~risk).any()


def test_first_adoption_from_zero_to_one_and_any_needs_a_strict_increase():
    """Hand case: n_int 0 -> 1 (first and any), 1 -> 1 (neither), 2 -> 2 (neither), 0 -> 0 (risk set of first)."""
    present = np.ones((4, 2), dtype=bool)
    n_int = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 2.0], [0.0, 0.0]])
    a = CustomerMonthArrays(np.array(["H1", "H2", "H3", "H4"]), ["2020-01", "2020-02"], present,
                            np.zeros((4, 2)), n_int, np.ones((4, 2)), np.ones((4, 2)), np.zeros((4, 2)))
    none = np.zeros((4, 2), dtype=bool)
    got = treatment.treatment_arrays(a, {"marketplace": none, "custom": none})
    assert got["any"][1][:, 0].tolist() == [True, False, False, False]
    assert got["first"][0][:, 0].tolist() == [True, False, False, True]
    assert got["first"][1][:, 0].tolist() == [True, False, False, False]
    assert not any(got[v][0][:, 1].any() for v in schema.TREATMENTS)  # the last month is never in the panel


def test_integration_ids_compare_as_integers_or_case_blind():
    ids = pd.Series(["021", "21", "0", "000", "Custom_7", "CUSTOM_7", " 5 ", "custom_07"])
    kinds = pd.Series(["marketplace"] * 4 + ["custom", "custom", "marketplace", "custom"])
    got = treatment.normalise_integration_id(ids, kinds)
    assert got.tolist() == ["21", "21", "0", "0", "custom_7", "custom_7", "5", "custom_07"]


def integration_rows(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "month", "integration_id", "integration_kind"])
    return frame[list(schema.FCT_CUSTOMER_INTEGRATION_MONTH_COLUMNS)]


def three_months() -> CustomerMonthArrays:
    present = np.ones((2, 3), dtype=bool)
    zeros = np.zeros((2, 3))
    return CustomerMonthArrays(np.array(["H1", "H2"]), ["2020-01", "2020-02", "2020-03"], present,
                               zeros, zeros, zeros + 1, zeros + 1, zeros)


def test_a_new_integration_is_an_id_listed_at_t_plus_1_and_not_at_t():
    rows = [
        ("H1", "2020-01", "5", "marketplace"),
        ("H1", "2020-02", "05", "marketplace"),    # the same app as "5": not new
        ("H1", "2020-02", "7", "marketplace"),     # new in Feb: A_Jan
        ("H2", "2020-01", "7", "marketplace"),     # another customer's 7 does not make H1's old
        ("H1", "2020-03", "Custom_A", "custom"),   # new in Mar: A_Feb (custom)
        ("H2", "2020-01", "CUSTOM_b", "custom"),
        ("H2", "2020-02", "custom_B", "custom"),   # the same custom integration: not new
        ("H2", "2020-03", "custom_b", "custom"),
        ("H2", "2020-03", "9", "marketplace"),     # new in Mar: A_Feb
        ("H3", "2020-02", "1", "marketplace"),     # a customer outside the arrays: ignored
        ("H1", "2019-12", "8", "marketplace"),     # a month outside the arrays: ignored
        ("H1", "2020-01", "3", "marketplace"),     # listed in the first month only: never new
    ]
    got = treatment.new_integration_arrays(integration_rows(rows), three_months())
    assert got["marketplace"].tolist() == [[True, False, False], [False, True, False]]
    assert got["custom"].tolist() == [[False, True, False], [False, False, False]]
    assert got["marketplace"].dtype == bool and got["custom"].shape == (2, 3)


def test_no_integration_rows_mean_no_new_integrations():
    got = treatment.new_integration_arrays(integration_rows([]), three_months())
    assert not got["marketplace"].any() and not got["custom"].any()
    only_custom = integration_rows([("H2", "2020-02", "Custom_1", "custom")])
    got = treatment.new_integration_arrays(only_custom, three_months())
    assert not got["marketplace"].any() and got["custom"].tolist() == [[False, False, False], [True, False, False]]


def test_integration_rows_need_the_columns_and_a_known_kind():
    with pytest.raises(InputError, match="expected columns"):
        treatment.new_integration_arrays(pd.DataFrame({"customer_id": ["H1"]}), three_months())
    bad = integration_rows([("H1", "2020-01", "5", "marketplace"), ("H1", "2020-02", "x", "zapier")])
    with pytest.raises(InputError, match="expected marketplace or custom; found 'zapier'") as error:
        treatment.new_integration_arrays(bad, three_months())
    assert error.value.line == 2 and error.value.column == "integration_kind"


def test_a_missing_column_names_the_table_and_the_first_missing_column():
    columns = schema.FCT_CUSTOMER_INTEGRATION_MONTH_COLUMNS
    for kept in range(len(columns)):
        frame = pd.DataFrame({c: ["x"] for c in columns[:kept]})
        with pytest.raises(InputError) as error:
            treatment.new_integration_arrays(frame, three_months())
        assert (error.value.file, error.value.column) == (schema.FCT_CUSTOMER_INTEGRATION_MONTH, columns[kept])
        assert error.value.expected == "expected columns " + ", ".join(columns)
    bad = integration_rows([("H1", "2020-01", "5", "other")])
    with pytest.raises(InputError) as error:
        treatment.new_integration_arrays(bad, three_months())
    assert error.value.file == schema.FCT_CUSTOMER_INTEGRATION_MONTH and error.value.line == 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_new_integrations_against_sets_of_ids_month_by_month(seed):
    """Random listings of up to 12 IDs per kind: new at t = listed at t+1 and not at t, read from sets."""
    rng = np.random.default_rng(seed)
    n, m = 6, 5
    months = [f"2021-{k + 1:02d}" for k in range(m)]
    ids = np.array([f"H{i}" for i in range(n)])
    a = CustomerMonthArrays(ids, months, np.ones((n, m), dtype=bool), *(np.zeros((n, m)),) * 5)
    rows = []
    for i in range(n):
        for k in range(m):
            for number in rng.choice(12, size=rng.integers(0, 4), replace=False):
                kind = "custom" if number >= 8 else "marketplace"
                rows.append((ids[i], months[k], f"Custom_{number}" if kind == "custom" else str(number), kind))
    got = treatment.new_integration_arrays(integration_rows(rows), a)
    listed = {(c, mo, kind): set() for c in ids for mo in months for kind in treatment.KINDS}
    for c, mo, integration, kind in rows:
        listed[(c, mo, kind)].add(integration)
    for kind in treatment.KINDS:
        expected = np.zeros((n, m), dtype=bool)
        for i, c in enumerate(ids):
            for k in range(m - 1):
                expected[i, k] = bool(listed[(c, months[k + 1], kind)] - listed[(c, months[k], kind)])
        assert (got[kind] == expected).all(), kind
        assert expected.any() and not expected.all()


def test_an_id_is_new_beside_an_old_one_of_the_same_month():
    """H1 lists app 4 in Jan and Feb and app 6 from Feb: A_Jan, whatever the IDs' internal codes."""
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        rows = [("H1", "2020-01", "4", "marketplace"), ("H1", "2020-02", "4", "marketplace"),
                ("H1", "2020-02", "6", "marketplace")]
        got = treatment.new_integration_arrays(integration_rows([rows[k] for k in order]), three_months())
        assert got["marketplace"].tolist() == [[True, False, False], [False, False, False]], order


def test_a_customer_without_any_row_is_left_not_a_gap():
    """The rule 'left when no row at or after the first absent month' holds for a customer never seen."""
    present = np.array([[True, True, True], [False, False, False]])
    ones = np.where(present, 1.0, NAN)
    a = CustomerMonthArrays(np.array(["H1", "H2"]), ["2020-01", "2020-02", "2020-03"], present,
                            ones, ones, ones * 100, ones * 100, ones * 0)
    eligible = np.ones((2, 3), dtype=bool)
    got = outcomes.outcome_arrays(a, {schema.ELIGIBLE_CANCEL: eligible, schema.ELIGIBLE_UPGRADE: eligible})
    for column, cohorts in (("cancel_h1", [0, 1]), ("cancel_dollars_h2", [0]), ("mrr_change_h1", [0, 1]),
                            ("upgrade_h1", [0])):
        value, status = got[column]
        assert status[1, cohorts].tolist() == [outcomes.LEFT] * len(cohorts), column
        assert status[0, cohorts].tolist() == [outcomes.OBSERVED] * len(cohorts), column
        assert np.isnan(value[1, cohorts]).all()
