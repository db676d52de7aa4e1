"""Whom Customer Success should encourage to adopt: a shallow policy tree, its value, and
a held-out check of the effect model's ranking.

Honest split by customer. Fold 0 (*training* customers) is re-scored with
doubly robust scores cross-fitted *within* fold 0, so nothing learnt from it
touches fold 1; on those scores we fit the effect model (a DR-learner:
gradient boosting of the scores on all covariates), and a shallow tree on
interpretable features summarises its predictions into the rule (like
EconML's SingleTreePolicyInterpreter). Fold 1 (*held-out* customers) carries the stage's scores,
whose nuisance models were trained on fold 0 only. Every value and
validation figure is computed on held-out customers; intervals resample them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeRegressor

from analysis import schema
from sklearn.ensemble import HistGradientBoostingRegressor

from causal.estimate.design import Cell
from causal.estimate.inference import bootstrap_customer_weights, customer_folds, derived_seed
from causal.segments.scores import BOOSTING_PARAMS, DRScores, fit_dr_scores, nuisance_features

TRAIN_FOLD, HELDOUT_FOLD = 0, 1
TREE_DEPTH = 2
MIN_LEAF_SHARE = 0.05  # every leaf holds at least 5% of the training customer-months
BOOTSTRAP_DRAWS = 400
RANKING_GROUPS = 4  # quantile groups of predicted benefit in DRTester's calibration
PER = 1000  # values are per 1,000 customer-months targeted
EFFECT_MODEL_PARAMS = dict(learning_rate=0.05, min_samples_leaf=1000)  # scores are noisy: smooth hard
TIER_NAMES = {rank: name for name, rank in schema.TIER_RANK.items()}


def training_scores(cell: Cell, folds: np.ndarray, seed: int) -> DRScores:
    """Doubly robust scores of the training customers, cross-fitted within them only."""
    train = folds == TRAIN_FOLD
    sub = Cell(cell.treatment, cell.outcome, cell.horizon, cell.rows.loc[train], cell.y[train], cell.t[train],
               cell.X.loc[train], cell.groups[train])
    inner = customer_folds(sub.rows["customer_id"], 2, derived_seed(seed, "inner_folds"))
    return fit_dr_scores(sub, inner, derived_seed(seed, "training_scores"))


def fit_effect_model(cell: Cell, train_scores: DRScores, folds: np.ndarray, seed: int) -> np.ndarray:
    """DR-learner: boost the training customers' scores on the covariates; predict every row.

    Returns
    -------
    ndarray
        Predicted effect per row of ``cell.rows`` (trained on fold 0 rows only).
    """
    features, mask = nuisance_features(cell.rows)  # one encoding for both folds
    train = folds == TRAIN_FOLD
    model = HistGradientBoostingRegressor(categorical_features=mask, random_state=derived_seed(seed, "dr_learner"),
                                          **{**BOOSTING_PARAMS, **EFFECT_MODEL_PARAMS})
    model.fit(features[train], train_scores.psi)
    return model.predict(features)


def interpretable_features(rows: pd.DataFrame, levels: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """Features a Customer Success manager can act on: segment, tier, size, integrations, MRR.

    Parameters
    ----------
    rows : DataFrame
        Panel rows (``customer_segment``, ``employee_size``, ``tier_rank``, ``n_int``, ``mrr_bom``).
    levels : dict, optional
        Category levels to encode (from the training rows); default: the levels present.

    Returns
    -------
    (DataFrame, dict)
        Columns ``tier_rank``, ``n_int``, ``mrr_bom`` and one 0/1 column per
        ``segment=<label>`` / ``size=<label>``; and the levels used.
    """
    sources = {"segment": "customer_segment", "size": "employee_size"}
    if levels is None:
        levels = {prefix: sorted(rows[column].astype(str).unique()) for prefix, column in sources.items()}
    columns = {
        "tier_rank": rows["tier_rank"].to_numpy(dtype=float),
        "n_int": rows["n_int"].to_numpy(dtype=float),
        "mrr_bom": rows["mrr_bom"].fillna(0.0).to_numpy(dtype=float),
    }
    for prefix, column in sources.items():
        values = rows[column].astype(str).to_numpy()
        for level in levels[prefix]:
            columns[f"{prefix}={level}"] = (values == level).astype(float)
    return pd.DataFrame(columns, index=rows.index), levels


@dataclass
class PolicyRule:
    """A shallow tree's leaves as conditions, and which leaves to target."""

    treatment: str
    outcome: str
    horizon: int
    levels: dict
    leaves: list  # dicts: conditions [(feature, op, threshold)], predicted_benefit, share, target
    average_benefit: float  # mean predicted benefit over the training rows

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "PolicyRule":
        return cls(**json.loads(text))


def fit_policy_tree(features: pd.DataFrame, benefit: np.ndarray, seed: int,
                    depth: int = TREE_DEPTH) -> DecisionTreeRegressor:
    """Fit a shallow regression tree of the (predicted) benefit on interpretable features."""
    tree = DecisionTreeRegressor(max_depth=depth, min_samples_leaf=max(int(MIN_LEAF_SHARE * len(benefit)), 1),
                                 random_state=seed)
    return tree.fit(features.to_numpy(), benefit)


def tree_rule(tree: DecisionTreeRegressor, feature_names: list[str], benefit: np.ndarray,
              scores: DRScores, levels: dict) -> PolicyRule:
    """Turn a fitted tree into leaves; target the leaves whose predicted benefit beats the average.

    A leaf is targeted when its mean predicted benefit (on the training rows)
    is above the average over all training rows: the rule picks customers for
    whom an adoption is worth more than for a customer picked at random.
    """
    structure = tree.tree_
    n_total = structure.n_node_samples[0]
    average = float(np.mean(benefit))
    leaves = []

    def walk(node: int, conditions: list):
        left, right = structure.children_left[node], structure.children_right[node]
        if left == right:  # a leaf
            value = float(structure.value[node].ravel()[0])
            leaves.append({"conditions": conditions, "predicted_benefit": value,
                           "share": float(structure.n_node_samples[node] / n_total),
                           "target": bool(value > average)})
            return
        feature, threshold = feature_names[structure.feature[node]], float(structure.threshold[node])
        walk(left, conditions + [[feature, "<=", threshold]])
        walk(right, conditions + [[feature, ">", threshold]])

    walk(0, [])
    return PolicyRule(scores.treatment, scores.outcome, scores.horizon, levels, leaves, average)


def targeted_mask(rule: PolicyRule, rows: pd.DataFrame) -> np.ndarray:
    """True for the panel rows the rule targets."""
    features, _ = interpretable_features(rows, rule.levels)
    mask = np.zeros(len(rows), dtype=bool)
    for leaf in rule.leaves:
        if not leaf["target"]:
            continue
        inside = np.ones(len(rows), dtype=bool)
        for feature, op, threshold in leaf["conditions"]:
            values = features[feature].to_numpy()
            inside &= values <= threshold if op == "<=" else values > threshold
        mask |= inside
    return mask


def _condition_text(feature: str, op: str, threshold: float) -> str:
    if feature == "tier_rank":
        ranks = [r for r in sorted(TIER_NAMES) if (r <= threshold if op == "<=" else r > threshold)]
        names = [TIER_NAMES[r] for r in ranks] + (["unknown tier"] if op == "<=" and threshold >= -1 else [])
        return "tier " + " / ".join(names)
    if feature == "n_int":
        count = int(np.floor(threshold))
        return f"at most {count} integrations" if op == "<=" else f"more than {count} integrations"
    if feature == "mrr_bom":
        return f"MRR at most ${threshold:,.0f}" if op == "<=" else f"MRR above ${threshold:,.0f}"
    prefix, level = feature.split("=", 1)
    label = {"segment": "segment", "size": "employee size"}[prefix]
    return f"{label} not {level}" if op == "<=" else f"{label} {level}"


def rule_text(rule: PolicyRule, unit_label: str) -> str:
    """The rule in words: one line per leaf, targeted leaves first (aggregate figures only)."""
    lines = []
    ordered = sorted(rule.leaves, key=lambda leaf: -leaf["predicted_benefit"])
    for leaf in ordered:
        where = " and ".join(_condition_text(*c) for c in leaf["conditions"]) or "every customer"
        verb = "TARGET" if leaf["target"] else "skip  "
        value = PER * leaf["predicted_benefit"]
        amount = (f"${value:,.0f} of MRR kept" if unit_label.startswith("$") else f"{value:.1f} {unit_label}"
                  ).replace("$-", "-$")
        lines.append(f"{verb} {where}: {leaf['share']:.0%} of training customer-months, predicted "
                     f"{amount} per {PER:,} adopting")
    return "\n".join(lines)


def _per_customer_sums(values: np.ndarray, customer_codes: np.ndarray, n_customers: int) -> np.ndarray:
    return np.bincount(customer_codes, weights=values, minlength=n_customers)


def policy_values(cancel: DRScores, dollars: DRScores | None, rule: PolicyRule, seed: int,
                  draws: int = BOOTSTRAP_DRAWS) -> pd.DataFrame:
    """Value of targeting by the rule, at random, and today's adopters, on held-out customers.

    Values are effects of adoption per 1,000 customer-months, signed as
    benefits: cancellations avoided (from ``cancel``) and MRR kept in dollars
    (from ``cancel_dollars``) over the horizon. Intervals: percentile bootstrap
    over held-out customers (``draws`` resamples).

    Returns
    -------
    DataFrame
        ``strategy, metric, estimate, ci_low, ci_high, share_targeted, n_units``.
    """
    metrics = [("cancellations_avoided_per_1000", cancel)]
    if dollars is not None:
        metrics.append(("mrr_kept_per_1000", dollars))
    heldout_ids = pd.concat([s.rows.loc[s.folds == HELDOUT_FOLD, "customer_id"] for _, s in metrics])
    customers = pd.Index(sorted(heldout_ids.astype(str).unique()))
    n_customers = len(customers)
    # numerators and denominators per customer, for each (strategy, metric)
    sums, shares, counts = {}, {}, {}
    for metric, scores in metrics:
        held = scores.folds == HELDOUT_FOLD
        codes = customers.get_indexer(scores.rows.loc[held, "customer_id"].astype(str))
        benefit = -scores.psi[held]
        targeted = targeted_mask(rule, scores.rows.loc[held])
        att_num, att_den = scores.att_numerator_denominator()
        parts = {
            "policy_rule": (benefit * targeted, targeted.astype(float)),
            "random": (benefit, np.ones(held.sum())),
            "todays_adopters": (-att_num[held], att_den[held]),
        }
        for strategy, (num, den) in parts.items():
            sums[(strategy, metric)] = (_per_customer_sums(num, codes, n_customers),
                                        _per_customer_sums(den, codes, n_customers))
        shares[metric] = {"policy_rule": float(targeted.mean()), "random": 1.0,
                          "todays_adopters": float(scores.t[held].mean())}
        counts[metric] = {"policy_rule": int(targeted.sum()), "random": int(held.sum()),
                          "todays_adopters": int(scores.t[held].sum())}
    rng = np.random.default_rng(derived_seed(seed, "policy_bootstrap"))
    boot = {key: [] for key in sums}
    for start in range(0, draws, 50):
        weights = bootstrap_customer_weights(n_customers, min(50, draws - start), rng).astype(float)
        for key, (num, den) in sums.items():
            boot[key].append(PER * (weights @ num) / (weights @ den))
    rows = []
    for metric, _ in metrics:
        point = {s: PER * sums[(s, metric)][0].sum() / sums[(s, metric)][1].sum()
                 for s in ("policy_rule", "random", "todays_adopters")}
        draws_by = {s: np.concatenate(boot[(s, metric)]) for s in point}
        for strategy in point:
            low, high = np.percentile(draws_by[strategy], [2.5, 97.5])
            rows.append(dict(strategy=strategy, metric=metric, estimate=point[strategy], ci_low=low, ci_high=high,
                             share_targeted=shares[metric][strategy], n_units=counts[metric][strategy]))
        for other in ("random", "todays_adopters"):
            diff = draws_by["policy_rule"] - draws_by[other]
            low, high = np.percentile(diff, [2.5, 97.5])
            rows.append(dict(strategy=f"policy_rule_minus_{other}", metric=metric,
                             estimate=point["policy_rule"] - point[other], ci_low=low, ci_high=high,
                             share_targeted=np.nan, n_units=counts[metric]["policy_rule"]))
    table = pd.DataFrame(rows)
    table.insert(0, "horizon", cancel.horizon)
    table.insert(0, "treatment", cancel.treatment)
    table["interval"] = f"percentile bootstrap over held-out customers ({draws} draws)"
    return table


def ranking_validation(scores: DRScores, train_scores: DRScores, predicted_effect: np.ndarray, seed: int,
                       n_groups: int = RANKING_GROUPS) -> tuple[pd.DataFrame, dict]:
    """Validate the ranking of the effect model on held-out customers with econml's DRTester.

    The effect model (``predicted_effect``, trained on fold 0 only) ranks the
    held-out rows; their doubly robust outcomes are the stage's scores
    (nuisances trained on fold 0), so no held-out outcome enters the ranking.
    Everything is on the benefit scale (``-effect`` for cancellations).
    DRTester's standard errors treat rows as independent (not clustered).

    Returns
    -------
    (DataFrame, dict)
        Metrics (BLP slope, calibration R^2, QINI, AUTOC with SE and p-value)
        and the QINI / TOC curves and calibration groups as frames.
    """
    from econml.validate import DRTester

    train, held = scores.folds == TRAIN_FOLD, scores.folds == HELDOUT_FOLD
    tau = -np.asarray(predicted_effect)
    tester = DRTester(model_regression=None, model_propensity=None, cate=None)
    # doubly robust outcomes and CATE predictions computed above, handed to DRTester's evaluators
    tester.Dval = scores.t[held]
    tester.treatments = np.array([0, 1])
    tester.n_treat = 1
    tester.fit_on_train = True
    tester.dr_train_ = -train_scores.psi.reshape(-1, 1)
    tester.dr_val_ = -scores.psi[held].reshape(-1, 1)
    tester.ate_val = tester.dr_val_.mean(axis=0)
    tester.cate_preds_train_ = tau[train].reshape(-1, 1)
    tester.cate_preds_val_ = tau[held].reshape(-1, 1)
    state = np.random.get_state()  # DRTester's multiplier bootstrap draws from numpy's global generator
    np.random.seed(derived_seed(seed, "drtester") % 2**32)
    try:
        results = tester.evaluate_all(n_groups=n_groups, n_bootstrap=100)
    finally:
        np.random.set_state(state)
    blp, cal, qini, toc = results.blp, results.cal, results.qini, results.toc
    metrics = pd.DataFrame([
        dict(metric="blp_slope", estimate=blp.params[0], se=blp.errs[0], p_value=blp.pvals[0]),
        dict(metric="calibration_r2", estimate=cal.cal_r_squared[0], se=np.nan, p_value=np.nan),
        dict(metric="qini", estimate=qini.params[0], se=qini.errs[0], p_value=qini.pvals[0]),
        dict(metric="autoc", estimate=toc.params[0], se=toc.errs[0], p_value=toc.pvals[0]),
    ])
    metrics.insert(0, "horizon", scores.horizon)
    metrics.insert(0, "outcome", scores.outcome)
    metrics.insert(0, "treatment", scores.treatment)
    metrics["n_heldout"] = int(held.sum())
    curves = {"qini": qini.curves[1], "toc": toc.curves[1],
              "calibration": cal.plot_data_dict[1]}
    return metrics, curves


def _benefit_words(outcome: str) -> str:
    if outcome == "cancel_dollars":
        return "MRR kept (cancelled MRR avoided, $)"
    return "reduction in the probability of cancelling"


def policy_tree_figure(tree: DecisionTreeRegressor, feature_names: list[str], path, horizon: int,
                       outcome: str = "cancel") -> None:
    """Draw the policy tree (predicted benefit per adopting customer-month, per leaf)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.tree import plot_tree

    fig, ax = plt.subplots(figsize=(11, 5))
    plot_tree(tree, feature_names=feature_names, filled=True, impurity=False, proportion=True, precision=4,
              rounded=True, fontsize=8, ax=ax)
    ax.set_title(f"Policy tree: predicted {_benefit_words(outcome)} within {horizon} month(s)\n"
                 "(value = benefit per customer-month; leaves above the average are targeted)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def ranking_figure(curves: dict, path, horizon: int, outcome: str = "cancel") -> None:
    """QINI and TOC curves of the effect model on held-out customers, with pointwise 95% bands."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, name in zip(axes[:2], ("qini", "toc")):
        curve = curves[name]
        x = curve["Percentage treated"].to_numpy()
        y, err = curve["value"].to_numpy(), curve["err"].to_numpy()
        ax.plot(x, y, color="#1b6ca8")
        ax.fill_between(x, y - 1.96 * err, y + 1.96 * err, color="#1b6ca8", alpha=0.2)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel("% of customer-months targeted (highest predicted benefit first)")
        ax.set_title(f"{name.upper()} curve (held-out customers)")
    axes[0].set_ylabel(f"gain over random ({_benefit_words(outcome)} per adopter)")
    calibration = curves["calibration"]
    axes[2].errorbar(calibration["g_cate"], calibration["gate"], yerr=1.96 * calibration["se_gate"], fmt="o")
    lim = [min(calibration["g_cate"].min(), calibration["gate"].min()),
           max(calibration["g_cate"].max(), calibration["gate"].max())]
    axes[2].plot(lim, lim, color="grey", ls="--", lw=0.8)
    axes[2].set_xlabel("predicted benefit (group mean)")
    axes[2].set_ylabel("doubly robust benefit (group mean)")
    axes[2].set_title("Calibration by quartile of predicted benefit")
    fig.suptitle(f"Does the effect model rank customers well? ({_benefit_words(outcome)} within {horizon} month(s))",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
