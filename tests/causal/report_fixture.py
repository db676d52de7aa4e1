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

MONTHS = ["2019-10", "2019-11", "2019-12", "2020-01", "2020-02", "2020-03"]
FLAGGED_MONTH = "2020-02"  # the transition 2020-02 -> 2020-03 is a tracking change
TREATMENTS = ("any", "first", "marketplace", "custom")
OUTCOMES = ("cancel", "upgrade", "cancel_dollars", "mrr_change")
# True effects the fixture plants (per eligible customer-month); naive is confounded.
PLANTED = {"cancel": -0.012, "upgrade": 0.018, "cancel_dollars": -4.0, "mrr_change": 9.0}
NAIVE_BIAS = {"cancel": -0.02, "upgrade": 0.03, "cancel_dollars": -6.0, "mrr_change": 25.0}
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
    return pd.DataFrame(rows)


def _refutations(effects: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    primary = effects[(effects.treatment == "any") & effects.outcome.isin(["cancel", "upgrade"])
                      & effects.method.isin(["psm", "dml"])]
    rules = {
        "placebo_treatment": "placebo effect's 95% interval covers 0",
        "random_common_cause": "new estimate within 1 s.e. of the original",
        "data_subset": "new estimate within 2 s.e. of the original",
        "bootstrap": "new estimate within 2 s.e. of the original",
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
                rows.append({**eff.to_dict(), "estimate": estimate, "ci_low": estimate - 1.96 * se,
                             "ci_high": estimate + 1.96 * se, "se": se, "n_units": 4_000 + 500 * k,
                             "n_treated": 700, "method": "dml", "segment_var": var, "segment_value": value})
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
    effects = _effects(rng)
    files["effects.csv"] = effects
    files["refutations.csv"] = _refutations(effects, rng)
    files["balance.csv"] = pd.DataFrame({
        "covariate": ["log_mrr_bom", "n_int", "tier_rank", "months_before"],
        "smd_before": [0.42, 0.35, 0.18, 0.05], "smd_after": [0.03, 0.02, 0.04, 0.01]})
    files["effects_by_segment.csv"] = _segments(effects, rng)
    files["marketplace_vs_custom.csv"] = pd.DataFrame([
        {"outcome": "cancel", "horizon": 1, "marketplace": -0.013, "marketplace_ci_low": -0.019,
         "marketplace_ci_high": -0.007, "custom": -0.004, "custom_ci_low": -0.012, "custom_ci_high": 0.004,
         "difference": -0.009, "difference_ci_low": -0.018, "difference_ci_high": 0.0}])
    files["targeting.csv"] = pd.DataFrame([
        {"policy": "rule", "cancellations_avoided_per_1000": 21.0, "ci_low": 14.0, "ci_high": 28.0},
        {"policy": "random", "cancellations_avoided_per_1000": 12.0, "ci_low": 8.0, "ci_high": 16.0},
        {"policy": "current adopters", "cancellations_avoided_per_1000": 9.0, "ci_low": 5.0, "ci_high": 13.0}])
    files["targeting_rule.txt"] = ("Encourage customers on Starter or Basic with fewer than 3 integrations "
                                   "(about 30% of paying customers).")
    files["dollars.csv"] = pd.DataFrame([
        {"quantity": "MRR retained per month", "estimate": 41_000.0, "ci_low": 22_000.0, "ci_high": 60_000.0},
        {"quantity": "MRR retained per year", "estimate": 492_000.0, "ci_low": 264_000.0, "ci_high": 720_000.0}])
    files["heterogeneity_summary.json"] = {"annual_dollars": 492_000.0, "annual_dollars_ci": [264_000.0, 720_000.0]}
    files["sensitivity.json"] = {"robustness_value": 0.04,
                                 "meaning": ("An unobserved factor would have to explain 4% of the remaining "
                                             "variation in both adoption and cancellation to erase the effect.")}
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
               "figures/marketplace_vs_custom.png": "Marketplace vs custom"}
    for k, (name, title) in enumerate(figures.items()):
        if not any(name == o or name.startswith(o.rstrip("/") + "/") for o in omit):
            _figure(results_dir / name, title, seed + k)
    return results_dir


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
