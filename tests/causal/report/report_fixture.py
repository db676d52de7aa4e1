"""A plausible results folder for the memo tests, written without running the pipeline.

Everything is aggregate (no customer IDs). Months deliberately differ from the
case study's (2019-10 .. 2020-03) so that nothing in the memo can lean on
particular months. ``omit`` leaves files out to test that every section
degrades to a "not available in this run" line.
"""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis import results_contract  # noqa: E402

MONTHS = ["2019-10", "2019-11", "2019-12", "2020-01", "2020-02", "2020-03"]
FLAGGED_MONTH = "2020-02"  # the transition 2020-02 -> 2020-03 is a tracking change
TREATMENTS = ("any", "first", "marketplace", "custom")
OUTCOMES = ("cancel", "upgrade", "cancel_dollars", "mrr_change")
# True effects the fixture plants (per eligible customer-month); naive is confounded.
PLANTED = {"cancel": -0.012, "upgrade": 0.018, "cancel_dollars": -4.0, "mrr_change": 9.0}
NAIVE_BIAS = {"cancel": -0.02, "upgrade": 0.03, "cancel_dollars": -6.0, "mrr_change": 25.0}
MEAN_MRR = 400.0  # mean beginning MRR of the customer-months: cancel_rate = cancel_dollars / MEAN_MRR
SE = {"cancel": 0.003, "upgrade": 0.004, "cancel_dollars": 1.2, "mrr_change": 3.0}


def _figure(path: Path, title: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=80)
    ax.plot(range(len(MONTHS)), rng.normal(3, 0.5, len(MONTHS)).cumsum(), marker="o")
    ax.set_xticks(range(len(MONTHS)), MONTHS, fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _effects(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for treatment in TREATMENTS:
        for outcome in OUTCOMES:
            for horizon in (1, 2, 3):
                cohorts = ";".join(MONTHS[: max(1, 4 - horizon)])
                n_units = int(rng.integers(20_000, 60_000)) // horizon
                n_treated = n_units // 6
                scale = horizon ** 0.8
                for method, estimand, bias in (("naive", "ATE", NAIVE_BIAS[outcome]),
                                               ("psm", "ATT", 0.0), ("dml", "ATE", 0.0)):
                    se = SE[outcome] * (1.3 if method == "psm" else 1.0) * scale ** 0.5
                    estimate = (PLANTED[outcome] + bias) * scale + rng.normal(0, se / 3)
                    rows.append({
                        "treatment": treatment, "outcome": outcome, "horizon": horizon,
                        "method": method, "estimand": estimand, "estimate": estimate,
                        "ci_low": estimate - 1.96 * se, "ci_high": estimate + 1.96 * se, "se": se,
                        "n_units": n_units, "n_treated": n_treated, "cohorts": cohorts,
                        "interval": "cluster-robust by customer",
                    })
    for outcome in ("cancel", "upgrade"):  # sensitivity run with the flagged cohort
        for horizon in (1, 2, 3):
            se = SE[outcome]
            estimate = PLANTED[outcome] * 1.4 * horizon ** 0.8
            rows.append({
                "treatment": "any", "outcome": outcome, "horizon": horizon, "method": "dml_with_flagged",
                "estimand": "ATE", "estimate": estimate, "ci_low": estimate - 1.96 * se,
                "ci_high": estimate + 1.96 * se, "se": se, "n_units": 70_000, "n_treated": 15_000,
                "cohorts": ";".join(MONTHS[:5]), "interval": "cluster-robust by customer",
            })
    frame = pd.DataFrame(rows)
    dollars = frame[frame.outcome == "cancel_dollars"].copy()  # the estimate stage's derived rows
    dollars["outcome"] = "cancel_rate"
    for column in ("estimate", "ci_low", "ci_high", "se"):
        dollars[column] = dollars[column] / MEAN_MRR
    return pd.concat([frame, dollars], ignore_index=True)


def _refutations(effects: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    primary = effects[(effects.treatment == "any") & effects.outcome.isin(["cancel", "upgrade"])
                      & effects.method.isin(["psm", "dml"])]
    rules = {
        "placebo_treatment": "placebo effect's 95% interval covers 0",
        "random_common_cause": "new estimate within 1 s.e. of the original",
        "data_subset": "new estimate within 2 s.e. of the original",
        "bootstrap": "new estimate within 2 s.e. of the original",
        "unobserved_confounder": "interval excludes zero after a hidden factor of the stated strength",
    }
    for _, eff in primary.iterrows():
        for refuter, rule in rules.items():
            new = 0.0 if refuter == "placebo_treatment" else eff.estimate + rng.normal(0, eff.se / 4)
            passed = not (refuter == "data_subset" and eff.outcome == "upgrade" and eff.horizon == 3)
            rows.append({
                "treatment": eff.treatment, "outcome": eff.outcome, "horizon": eff.horizon,
                "method": eff.method, "refuter": refuter, "estimate": eff.estimate, "new_effect": new,
                "p_value": float(rng.uniform(0.2, 0.9)), "passed": passed, "rule": rule,
            })
    # the design checks of the refute stage (no draws from rng: the other rows stay as they were)
    for _, eff in primary.loc[primary.outcome == "cancel"].iterrows():
        rows.append({"treatment": "any", "outcome": "cancel", "horizon": eff.horizon, "method": eff.method,
                     "refuter": "negative_control", "estimate": eff.estimate, "new_effect": 0.0004,
                     "p_value": 0.63, "passed": True, "rule": "negative-control effect's 95% interval covers 0"})
    rows.append({"treatment": "first", "outcome": "cancel_month", "horizon": 1, "method": "event_study",
                 "refuter": "pre_trend", "estimate": -0.02, "new_effect": 0.001, "p_value": 0.42, "passed": True,
                 "rule": "pre-adoption coefficients jointly zero (p >= 0.05)"})
    rows.append({"treatment": "first", "outcome": "cancel", "horizon": 1, "method": "dml",
                 "refuter": "strategy_agreement", "estimate": -0.018, "new_effect": -0.02, "p_value": 0.47,
                 "passed": True, "rule": "event study minus doubly robust estimate covers 0 (p >= 0.05)"})
    return pd.DataFrame(rows)


def _segments(effects: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    groups = {
        "segment": ["NAM Low-touch", "NAM Direct", "NAM Partner", "International Direct", "NAM High-touch"],
        "tier": ["Starter", "Basic", "Pro", "Enterprise"],
        "employee_size": ["1 to 25", "26 to 200", "201 or Above"],
        "region": ["NAM", "International"],
    }
    rows = []
    base = effects[(effects.treatment == "any") & effects.outcome.isin(["cancel", "upgrade"])
                   & (effects.method == "dml")]
    for _, eff in base.iterrows():
        for var, values in groups.items():
            for k, value in enumerate(values):
                estimate = eff.estimate * (0.3 + 0.5 * k)
                se = eff.se * 2
                crit = 2.5  # simultaneous band over the grouping
                shrunk = eff.estimate + 0.7 * (estimate - eff.estimate)
                rows.append({**eff.to_dict(), "estimate": estimate, "ci_low": estimate - 1.96 * se,
                             "ci_high": estimate + 1.96 * se, "se": se, "n_units": 4_000 + 500 * k,
                             "n_treated": 700, "method": "dr", "segment_var": var, "segment_value": value,
                             "band_low": estimate - crit * se, "band_high": estimate + crit * se,
                             "band_crit": crit, "shrunk_estimate": shrunk, "shrunk_se": 0.8 * se,
                             "headline_eligible": True, "clear": abs(estimate) > crit * se,
                             "headline_rule": "a headline needs at least 500 customer-months and 100 adopters' "
                                              "customer-months"})
    return pd.DataFrame(rows)


def _marketplace_vs_custom(effects: pd.DataFrame) -> pd.DataFrame:
    """The joint marketplace/custom table in the segments stage's format (method ``dr``)."""
    rows = []
    for outcome in ("cancel", "upgrade"):
        for horizon in (1, 2, 3):
            pick = lambda t: effects[(effects.treatment == t) & (effects.outcome == outcome)  # noqa: E731
                                     & (effects.horizon == horizon) & (effects.method == "dml")].iloc[0]
            market, custom = pick("marketplace"), pick("custom")
            difference = market.estimate - custom.estimate
            se = float(np.hypot(market.se, custom.se))
            rows.append({"outcome": outcome, "horizon": horizon, "method": "dr", "estimand": "ATE",
                         "marketplace_estimate": market.estimate, "marketplace_ci_low": market.ci_low,
                         "marketplace_ci_high": market.ci_high, "marketplace_n_treated": 2_000,
                         "custom_estimate": custom.estimate, "custom_ci_low": custom.ci_low,
                         "custom_ci_high": custom.ci_high, "custom_n_treated": 600, "difference": difference,
                         "difference_ci_low": difference - 1.96 * se, "difference_ci_high": difference + 1.96 * se,
                         "difference_se": se, "n_units": market.n_units, "cohorts": market.cohorts,
                         "interval": "joint: stacked doubly robust scores, clustered by customer"})
    return pd.DataFrame(rows)


def _targeting() -> pd.DataFrame:
    """Policy values in the segments stage's format: the rule beats random targeting."""
    values = {
        ("policy_rule", "cancellations_avoided_per_1000"): (41.0, 25.0, 57.0, 0.31),
        ("random", "cancellations_avoided_per_1000"): (14.0, 6.0, 22.0, 1.0),
        ("todays_adopters", "cancellations_avoided_per_1000"): (9.0, 1.0, 17.0, 0.18),
        ("policy_rule_minus_random", "cancellations_avoided_per_1000"): (27.0, 10.0, 44.0, None),
        ("policy_rule_minus_todays_adopters", "cancellations_avoided_per_1000"): (32.0, 14.0, 50.0, None),
        ("policy_rule", "mrr_kept_per_1000"): (21_000.0, 9_000.0, 33_000.0, 0.31),
        ("random", "mrr_kept_per_1000"): (8_000.0, 2_000.0, 14_000.0, 1.0),
        ("todays_adopters", "mrr_kept_per_1000"): (6_000.0, -500.0, 12_500.0, 0.18),
        ("policy_rule_minus_random", "mrr_kept_per_1000"): (13_000.0, 3_000.0, 23_000.0, None),
        ("policy_rule_minus_todays_adopters", "mrr_kept_per_1000"): (15_000.0, 4_000.0, 26_000.0, None),
    }
    return pd.DataFrame([{"treatment": "any", "horizon": 3, "strategy": s, "metric": m, "estimate": e,
                          "ci_low": lo, "ci_high": hi, "share_targeted": share, "n_units": 5_000,
                          "interval": "percentile bootstrap over held-out customers (400 draws)"}
                         for (s, m), (e, lo, hi, share) in values.items()])


def _dollars() -> pd.DataFrame:
    """dollars.csv in the segments stage's format: one 'all' row and a few segment rows."""
    rows = []
    for var, value, effect, base in (("all", "all", -4.0, 9_000.0), ("segment", "NAM Low-touch", -5.0, 4_000.0),
                                     ("segment", "NAM Direct", -3.0, 1_500.0),
                                     ("segment", "International Direct", -2.0, 1_200.0)):
        low, high = effect - 2.4, effect + 2.4
        rows.append({"treatment": "any", "outcome": "cancel_dollars", "horizon": 1, "method": "dr",
                     "segment_var": var, "segment_value": value, "effect_per_customer_month": effect,
                     "effect_ci_low": low, "effect_ci_high": high, "base_customers_per_month": base,
                     "mrr_retained_per_month": -effect * base, "per_month_ci_low": -high * base,
                     "per_month_ci_high": -low * base, "mrr_retained_per_year": -12 * effect * base,
                     "per_year_ci_low": -12 * high * base, "per_year_ci_high": -12 * low * base,
                     "cohorts": ";".join(MONTHS[:4])})
    return pd.DataFrame(rows)


def write_fixture_results(results_dir: Path, seed: int = 0, simulated: bool = True,
                          omit: tuple[str, ...] = ()) -> Path:
    """Write a plausible results folder into ``results_dir`` and return it.

    Parameters
    ----------
    results_dir : Path
        Folder to create (or fill).
    seed : int
        Seed of the numbers drawn; one seed gives identical files.
    simulated : bool
        Value of ``simulated`` in run_info.json.
    omit : tuple of str
        Relative paths (files or folders, e.g. ``"effects.csv"``, ``"trends"``) not to write.
    """
    rng = np.random.default_rng(seed)
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, object] = {}

    files["run_info.json"] = {"simulated": simulated, "seed": seed, "jobs": 1, "python": "3.11",
                              "packages": {"dowhy": "0.14", "econml": "0.17.0", "pandas": "3.1.1"}}
    ledger = [
        {"file": "account_segments.csv", "rows_read": 12_000, "rows_kept": 11_990, "rows_quarantined": 10,
         "quarantined_by_reason": {"malformed customer id": 10}},
        {"file": "customer_metadata.csv", "rows_read": 60_000, "rows_kept": 59_880, "rows_quarantined": 120,
         "quarantined_by_reason": {"unparseable money": 70, "duplicate customer-month (conflicting)": 50}},
        {"file": "integrations.csv", "rows_read": 200_000, "rows_kept": 199_000, "rows_quarantined": 1_000,
         "quarantined_by_reason": {"orphan (no metadata row)": 1_000}},
    ]
    files["data_quality.json"] = {
        "ledger": ledger,
        "checks": [{"name": "ledger adds up", "passed": True, "detail": "read = kept + quarantined"},
                   {"name": "integration counts agree", "passed": False, "detail": "87% exact"}],
        "reconciliation": {"short_ids_normalised": 1_900, "customers_missing_segment": 40},
        "tracking_change_months": [FLAGGED_MONTH],
        "tracking_changes": [{"month": FLAGGED_MONTH, "next_month": "2020-03", "custom_share_before": 0.126,
                              "custom_share_after": 0.42, "flagged": True}],
        "months": MONTHS,
        "simulated": simulated,
        "panel": {"rows": 250_000, "eligible_customer_months": 210_000},
    }
    files["ledger.csv"] = pd.DataFrame([{k: v for k, v in r.items() if k != "quarantined_by_reason"}
                                        for r in ledger])
    files["trends/summary.json"] = {
        "first_month": MONTHS[0], "last_month": MONTHS[-1],
        "mean_integrations_first_month": 2.87, "mean_integrations_last_month": 5.86,
        "zero_integration_share_first_month": 0.2023, "zero_integration_share_last_month": 0.0444,
        "customers_first_month": 8_600, "customers_last_month": 9_500,
    }
    files["trends/integrations_by_month.csv"] = pd.DataFrame(
        {"month": MONTHS, "mean_integrations": [2.87, 2.96, 3.03, 3.32, 3.79, 5.86]})
    all_effects = _effects(rng)
    flagged = all_effects.method.str.endswith("_with_flagged")
    effects = all_effects[~flagged].reset_index(drop=True)
    files["effects.csv"] = effects
    files["refutations.csv"] = _refutations(effects, rng)
    files["balance.csv"] = pd.DataFrame([
        {"treatment": "any", "outcome": outcome, "horizon": horizon, "covariate": covariate,
         "smd_before": before, "smd_after": after}
        for outcome in ("cancel", "upgrade") for horizon in (1, 2, 3)
        for covariate, before, after in (("log_mrr_bom", 0.42, 0.03), ("n_int", 0.35, 0.02),
                                         ("tier_rank", 0.18, 0.04), ("months_before", 0.05, 0.01),
                                         ("customer_segment=NAM Direct", -0.12, 0.02))])
    files["trimming.csv"] = pd.DataFrame([
        {"treatment": "any", "outcome": outcome, "horizon": horizon, "sample": "main",
         "rule": "drop rows whose propensity score is outside [0.01, 0.99]", "n_before": 30_000, "n_removed": 12,
         "n_removed_treated": 2, "n_removed_control": 10, "n_after": 29_988}
        for outcome in ("cancel", "upgrade") for horizon in (1, 2, 3)])
    files["effects_by_segment.csv"] = _segments(effects, rng)
    files["marketplace_vs_custom.csv"] = _marketplace_vs_custom(effects)
    files["targeting.csv"] = _targeting()
    files["targeting_rule.txt"] = (
        "Targeting rule: whom to encourage to adopt an integration (treatment 'any', learnt on: MRR kept "
        "(cancelled MRR avoided) within 3 month(s))\n\n"
        "TARGET tier Starter / Basic and at most 2 integrations: 31% of training customer-months, predicted "
        "21000.0 $ MRR kept per 1,000 adopting\n"
        "skip   tier Pro / Enterprise: 69% of training customer-months, predicted 4000.0 $ MRR kept "
        "per 1,000 adopting\n\n  $ MRR kept             rule      21000.0 [9000.0, 33000.0]")
    dollars = _dollars()
    files["dollars.csv"] = dollars
    whole = dollars[dollars.segment_var == "all"].iloc[0]
    files["heterogeneity_summary.json"] = {
        "treatment": "any",
        "dollars": {k: float(whole[k]) for k in ("effect_per_customer_month", "base_customers_per_month",
                                                 "mrr_retained_per_month", "per_month_ci_low", "per_month_ci_high",
                                                 "mrr_retained_per_year", "per_year_ci_low", "per_year_ci_high")}}
    files["sensitivity.json"] = {
        "meaning": "These numbers say how strong an unmeasured factor would have to be to change the conclusion.",
        "cells": [{"treatment": "any", "outcome": outcome, "horizon": 3, "method": "dml", "e_value_point": 1.9,
                   "text": f"To explain away the {outcome} estimate, an unmeasured factor would have to make both "
                           f"adoption and the outcome about 1.9 times as likely (E-value)."}
                  for outcome in ("cancel", "upgrade")]}
    files["sensitivity_flagged.csv"] = all_effects[flagged]
    files["panel_counts.csv"] = pd.DataFrame({"treatment": ["any"], "eligible": [210_000], "treated": [35_000]})

    for name, content in files.items():
        if any(name == o or name.startswith(o.rstrip("/") + "/") for o in omit):
            continue
        target = results_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, pd.DataFrame):
            content.to_csv(target, index=False)
        elif isinstance(content, str):
            target.write_text(content + "\n")
        else:
            target.write_text(json.dumps(content, indent=2) + "\n")
    figures = {"trends/integrations_per_customer.png": "Integrations per customer",
               "trends/custom_share.png": "Custom share of integrations",
               "figures/causal_graph.png": "Causal graph",
               "figures/love_plot.png": "Balance before and after matching",
               "figures/propensity_overlap.png": "Propensity overlap",
               "figures/forest_segments.png": "Effects by segment",
               "figures/marketplace_vs_custom.png": "Marketplace vs custom",
               "figures/design_checks.png": "Design checks"}
    for k, (name, title) in enumerate(figures.items()):
        if not any(name == o or name.startswith(o.rstrip("/") + "/") for o in omit):
            _figure(results_dir / name, title, seed + k)
    if "figures" not in omit and "effects_by_segment.csv" not in omit:  # one per outcome and window
        segments = files["effects_by_segment.csv"]
        for (outcome, horizon), rows in segments.groupby(["outcome", "horizon"]):
            _segment_forest(results_dir / results_contract.FIGURES_DIR / results_contract.segment_forest_png(outcome, horizon), rows,
                            f"{outcome}, h = {horizon}")
    return results_dir


def _segment_forest(path: Path, rows: pd.DataFrame, title: str) -> None:
    """A small forest plot of segment rows, like the segments stage's per-outcome figures."""
    fig, ax = plt.subplots(figsize=(5.2, 0.22 * len(rows) + 1.2), dpi=80)
    y = list(range(len(rows)))
    ax.errorbar(rows["estimate"], y, xerr=[rows["estimate"] - rows["ci_low"], rows["ci_high"] - rows["estimate"]],
                fmt="o", ms=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [f"{v}: {s}" for v, s in zip(rows["segment_var"], rows["segment_value"])], fontsize=7)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# --- checks shared by the memo tests ------------------------------------------------------
CUSTOMER_ID_PATTERN = r"\bH\d{4,9}\b"


class _MarkedNumbers(HTMLParser):
    """Collect ``<span class="memo-num" ...>text</span>`` inside one section of the HTML."""

    def __init__(self, section_id: str | None):
        super().__init__()
        self.section_id, self.depth, self.inside = section_id, 0, section_id is None
        self.current: dict | None = None
        self.found: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.section_id is not None:
            if not self.inside and attrs.get("id") == self.section_id and tag == "section":
                self.inside, self.depth = True, 0
            elif self.inside and tag == "section":
                self.depth += 1
        if self.inside and tag == "span" and "memo-num" in (attrs.get("class") or "").split():
            self.current = {**attrs, "text": ""}

    def handle_endtag(self, tag):
        if tag == "span" and self.current is not None:
            self.found.append(self.current)
            self.current = None
        if self.section_id is not None and self.inside and tag == "section":
            if self.depth == 0:
                self.inside = False
                self.section_id = "\0done"
            else:
                self.depth -= 1

    def handle_data(self, data):
        if self.current is not None:
            self.current["text"] += data


def marked_numbers(html: str, section_id: str | None = "executive-summary") -> list[dict]:
    """The marked numbers (attributes plus shown text) of one section of the rendered HTML."""
    parser = _MarkedNumbers(section_id)
    parser.feed(html)
    return parser.found


def parse_shown_number(text: str) -> tuple[float, int]:
    """``−$3.64`` -> (-3.64, 2): the value shown and its number of decimals."""
    clean = text.replace("\u2212", "-").replace("$", "").replace("\\", "").replace(",", "").strip()
    decimals = len(clean.split(".")[1]) if "." in clean else 0
    return float(clean), decimals


def assert_number_matches_effects(number: dict, effects: pd.DataFrame) -> None:
    """A marked number equals (to its shown precision) the effects.csv cell it names."""
    treatment, outcome, horizon, method, estimand = number["data-row"].split("|")
    rows = effects[(effects.treatment == treatment) & (effects.outcome == outcome)
                   & (effects.horizon == int(horizon)) & (effects.method == method)
                   & (effects.estimand.astype(str) == estimand)]
    assert len(rows) == 1, f"{number['data-row']} names {len(rows)} rows of effects.csv"
    expected = float(rows.iloc[0][number["data-field"]]) * float(number["data-scale"])
    if number.get("data-abs") == "true":
        expected = abs(expected)
    shown, decimals = parse_shown_number(number["text"])
    assert abs(shown - expected) <= 0.5 * 10 ** -decimals + 1e-9, (number, expected)


def pdf_text(path: Path) -> list[str]:
    """Extracted text of each page of a PDF (pypdf), whitespace collapsed."""
    from pypdf import PdfReader

    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(str(path)).pages]


def html_text_without_images(html: str) -> str:
    """The HTML with embedded data-URI images removed (they are not text)."""
    return re.sub(r"data:[a-z/+.-]+;base64,[A-Za-z0-9+/=]+", "", html)


class _SectionText(HTMLParser):
    """Visible text of each <section id=...> of the HTML (nested sections included in their parent)."""

    def __init__(self):
        super().__init__()
        self.stack, self.text = [], {}

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.stack.append(dict(attrs).get("id"))

    def handle_endtag(self, tag):
        if tag == "section" and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        for section in self.stack:
            if section:
                self.text[section] = self.text.get(section, "") + data


def normal_text(text: str) -> str:
    """Whitespace collapsed and typographic quotes made plain (pandoc's smart quotes)."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.split())


def section_texts(html: str) -> dict:
    """``{section id: its visible text}`` of a rendered memo, images removed."""
    parser = _SectionText()
    parser.feed(re.sub(r"data:[a-z/+.-]+;base64,[A-Za-z0-9+/=]+", "", html))
    return {k: normal_text(v) for k, v in parser.text.items()}
