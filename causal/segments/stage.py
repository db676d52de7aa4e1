"""The ``segments`` stage: effects by segment, marketplace vs custom, targeting, dollars.

``run_segments_stage`` reads the panel, takes the doubly robust scores per
cell from the DML nuisances the estimate stage cached (``causal.segments.scores``,
``causal.estimate.nuisances``; fitted here when absent), and writes into ``results_dir``:

- ``effects_by_segment.csv`` (ESTIMANDS.md columns + ``interval``; methods
  ``dr`` and ``stratified_ols``; for ``dr`` rows also the simultaneous band,
  shrunk estimate and headline columns of :mod:`causal.segments.bands`), ``segments_vs_stratified.csv``,
  ``segments_skipped.csv``, ``effects_dr_overall.csv``, ``figures/forest_segments.png``,
  ``figures/segment_effects_<outcome>_h<horizon>.png`` (one per outcome and window);
- ``marketplace_vs_custom.csv``, ``figures/marketplace_vs_custom.png``;
- ``targeting.csv``, ``targeting_rule.txt``, ``targeting_rule.json``,
  ``ranking_validation.csv``, ``targeting_curves.csv``,
  ``figures/policy_tree.png``, ``figures/ranking_qini_toc.png``;
- ``dollars.csv``, ``dollars_assumptions.md``;
- ``heterogeneity_summary.json`` (the headline numbers the memo quotes).
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from analysis import results_contract, schema
from causal.segments import dollars as dollars_mod
from causal.segments import guards, targeting
from causal.estimate import estimators, nuisances
from causal.estimate.design import Cell, select_cell
from causal.estimate.stage import cached_trimmed_cell, prepare_cell, skip_reason
from causal.estimate.inference import difference_of_means, normal_interval
from causal.estimate.records import EffectRecord, effects_frame
from causal.estimate.step_times import record_step
from causal.segments.bands import BAND_COLUMNS, BAND_INTERVAL, segment_inference
from causal.segments.scores import (METHOD, N_FOLDS, DRScores, compare_with_stratified, forest_figure,
                                    overall_effect, scores_from_nuisances, segment_effects, stratified_effects)

PRIMARY_TREATMENT = guards.PRIMARY_TREATMENT
PRIMARY_OUTCOMES = ("cancel", "upgrade", "cancel_dollars")  # GATEs for these (treatment any, every h)
STRATIFIED_OUTCOMES = ("cancel", "upgrade")
VARIANTS = guards.VARIANTS
VARIANT_OUTCOMES = ("cancel", "upgrade")
POLICY_OUTCOME, POLICY_HORIZONS = "cancel", (3, 2, 1)  # the longest horizon available
RULE_OUTCOME = "cancel_dollars"  # the rule is learnt on MRR kept, the company's metric
MIN_CELL_ARM = 50  # a cell needs this many treated and untreated customer-months per fold


def _cell_skip_reason(cell, folds) -> str | None:
    for fold in range(N_FOLDS):
        in_fold = folds == fold
        treated = int(cell.t[in_fold].sum())
        if treated < MIN_CELL_ARM or int(in_fold.sum()) - treated < MIN_CELL_ARM:
            return f"fewer than {MIN_CELL_ARM} treated or untreated customer-months in a cross-fitting fold"
    return None


def cell_scores(panel: pd.DataFrame, key: tuple[str, str, int], seed: int, results_dir: Path | None
                ) -> tuple[DRScores, Cell] | str:
    """Doubly robust scores of one trimmed cell from the run's cached DML nuisances, or a skip reason.

    Without a usable cache (another seed, other rows, or no estimate stage run)
    the cell is trimmed and fitted here by the same DML estimator, and cached.
    """
    found = cached_trimmed_cell(panel, key, seed, results_dir)
    if found is not None:
        cell, cached = found
    else:
        prepared = prepare_cell(panel, *key)
        if isinstance(prepared, str):
            return prepared
        cell = prepared.trimmed
        reason = skip_reason(cell)
        if reason:
            return "after trimming: " + reason
        cached = estimators.dml(cell, seed).extra["nuisances"]
        if results_dir is not None:
            nuisances.save(cached, results_dir)
    reason = _cell_skip_reason(cell, cached.folds)
    return reason if reason else (scores_from_nuisances(cell, cached), cell)


def fit_all_scores(panel: pd.DataFrame, seed: int, cells: list[tuple[str, str, int]], jobs: int = 1,
                   results_dir: Path | None = None, keep_cell: Callable[[tuple], bool] | None = None,
                   each: Callable[[tuple, DRScores, Cell], object] | None = None) -> tuple[dict, list[dict]]:
    """Doubly robust scores for each (treatment, outcome, horizon) with enough rows.

    The scores come from the DML nuisances the estimate stage cached in
    ``results_dir`` (:func:`cell_scores`); cells without a cache are fitted
    ``jobs`` at a time (threads; each model single-threaded). Every cell has
    its own seeds, so the result does not depend on ``jobs``.

    Parameters
    ----------
    keep_cell : callable, optional
        Whether a cell's :class:`Cell` (all its panel rows and its design matrix) is kept
        beside its scores; the others get None in its place (memory: the design
        matrices of all cells at once were most of the stage's peak). Default: keep all.
    each : callable, optional
        ``each(key, scores, cell)``, called as soon as a cell's scores exist (in the
        cell's thread), while its :class:`Cell` is still held: what needs the design
        matrix is done then, one cell at a time. Its result comes third in the cell's tuple.

    Returns
    -------
    (dict, list of dict)
        ``{key: (DRScores, Cell or None)}`` (``(DRScores, Cell or None, each's result)`` with
        ``each``), and the skipped cells with the reason.
    """
    def scores_of(key):
        found = cell_scores(panel, key, seed, results_dir)
        if isinstance(found, str):
            return found
        done = () if each is None else (each(key, *found),)
        return (found[0], found[1] if keep_cell is None or keep_cell(key) else None, *done)

    fitted = Parallel(n_jobs=max(int(jobs), 1), backend="threading")(delayed(scores_of)(key) for key in cells)
    scores, skipped = {}, []
    for key, found in zip(cells, fitted):
        if isinstance(found, str):
            cell = select_cell(panel, *key)
            skipped.append(dict(treatment=key[0], outcome=key[1], horizon=key[2], segment_var="all",
                                segment_value="all", n_units=cell.n_units, n_treated=cell.n_treated, reason=found))
        else:
            scores[key] = found
    return scores, skipped


def marketplace_vs_custom(scores: dict) -> pd.DataFrame:
    """Both variants' ATEs side by side, and their difference with a joint clustered interval."""
    rows = []
    for outcome in VARIANT_OUTCOMES:
        for horizon in schema.HORIZONS:
            pair = [scores.get((v, outcome, horizon)) for v in VARIANTS]
            if any(p is None for p in pair):
                continue
            market, custom = pair[0][0], pair[1][0]
            m_rec, c_rec = overall_effect(market), overall_effect(custom)
            diff, diff_se = difference_of_means(market.psi, market.rows["customer_id"],
                                                custom.psi, custom.rows["customer_id"])
            low, high = normal_interval(diff, diff_se)
            rows.append(dict(
                outcome=outcome, horizon=horizon, method=METHOD, estimand="ATE",
                marketplace_estimate=m_rec.estimate, marketplace_ci_low=m_rec.ci_low,
                marketplace_ci_high=m_rec.ci_high, marketplace_n_treated=m_rec.n_treated,
                custom_estimate=c_rec.estimate, custom_ci_low=c_rec.ci_low, custom_ci_high=c_rec.ci_high,
                custom_n_treated=c_rec.n_treated, difference=diff, difference_ci_low=low,
                difference_ci_high=high, difference_se=diff_se, n_units=m_rec.n_units, cohorts=m_rec.cohorts,
                interval="joint: stacked doubly robust scores of both variants, clustered by customer"))
    return pd.DataFrame(rows)


def marketplace_custom_figure(table: pd.DataFrame, path: Path) -> None:
    """Marketplace and custom effects side by side per outcome and horizon, and their difference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outcomes = list(dict.fromkeys(table["outcome"]))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(5.5 * len(outcomes), 3.6), squeeze=False)
    styles = (("marketplace", "#1b6ca8", -0.2), ("custom", "#d1495b", 0.0), ("difference", "#444444", 0.2))
    for ax, outcome in zip(axes[0], outcomes):
        part = table.loc[table["outcome"] == outcome]
        for name, colour, offset in styles:
            est = part[f"{name}_estimate" if name != "difference" else "difference"].to_numpy()
            low = part[f"{name}_ci_low" if name != "difference" else "difference_ci_low"].to_numpy()
            high = part[f"{name}_ci_high" if name != "difference" else "difference_ci_high"].to_numpy()
            label = "marketplace - custom" if name == "difference" else name
            ax.errorbar(part["horizon"] + offset, est, yerr=[est - low, high - est], fmt="o", ms=4,
                        color=colour, label=label)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(sorted(part["horizon"].unique()))
        ax.set_xlabel("horizon h (months)")
        ax.set_ylabel(f"effect on {outcome} probability (ATE)")
        ax.set_title(f"{outcome}: marketplace vs custom adoption")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def _policy_cells(scores: dict) -> tuple[DRScores, DRScores | None] | None:
    for horizon in POLICY_HORIZONS:
        found = scores.get((PRIMARY_TREATMENT, POLICY_OUTCOME, horizon))
        if found is not None:
            dollars = scores.get((PRIMARY_TREATMENT, RULE_OUTCOME, horizon))
            return found[0], dollars[0] if dollars else None
    return None


def _write_no_rule(results_dir: Path, reason: str) -> None:
    (results_dir / results_contract.TARGETING_RULE_TXT).write_text(f"No targeting rule: {reason}.\n")


def effects_of_cell(key: tuple[str, str, int], found: DRScores, cell: Cell, seed: int) -> tuple:
    """What the stage takes from one cell while its design matrix is held: its overall effect,
    segment effects, skipped segments, joint bands and (primary cancel and upgrade cells) the stratified check."""
    overall = overall_effect(found)
    segments, skipped_segments = segment_effects(found)
    bands = segment_inference(found.psi, found.groups, found.rows, segments, seed, key, overall.estimate)
    stratified = (stratified_effects(cell) if key[0] == PRIMARY_TREATMENT and key[1] in STRATIFIED_OUTCOMES
                  else [])
    return overall, segments, skipped_segments, bands, stratified


def run_targeting(scores: dict, seed: int, results_dir: Path,
                  cell_of: Callable[[tuple], Cell] | None = None) -> tuple[dict, dict[str, dict]]:
    """Learn the rule on training customers, value it and validate the ranking on held-out ones.

    The rule is learnt on the company's metric: MRR kept (the effect on
    ``cancel_dollars``, sign flipped) at the longest horizon with a cancellation
    cell; only when that cell is missing is it learnt on cancellations. Both
    values (MRR kept and cancellations avoided) are reported for every strategy.

    ``cell_of(key)`` gives the :class:`Cell` the rule is learnt on when ``scores`` does not hold it.

    Returns
    -------
    (dict, dict)
        ``{"rule", "values", "validation"}`` (empty when no rule), and the statuses of the
        outputs ``targeting`` and ``ranking_validation`` (``{"status", "reason"}``).
        Without a usable rule only ``targeting_rule.txt`` (saying why) is written.
    """
    found = _policy_cells(scores)
    if found is None:
        reason = f"{guards.NO_RULE}: the cancellation cells were skipped (too few rows)"
        _write_no_rule(results_dir, reason)
        return {}, {"targeting": guards.output("degraded", reason), "ranking_validation": guards.output("degraded", reason)}
    cancel, dollars = found
    learn = dollars if dollars is not None else cancel
    learn_key = (learn.treatment, learn.outcome, learn.horizon)
    cell = scores[learn_key][1] if scores[learn_key][1] is not None else cell_of(learn_key)
    train_scores = targeting.training_scores(cell, learn.folds, seed)
    predicted = targeting.fit_effect_model(cell, train_scores, learn.folds, seed)
    train, held = learn.folds == targeting.TRAIN_FOLD, learn.folds == targeting.HELDOUT_FOLD
    spread = guards.spread_reason(predicted[held], targeting.RANKING_GROUPS)
    if spread is not None:  # DRTester's BLP and calibration need spread; a tree on a constant has one leaf
        reason = f"{spread}: {guards.NO_RULE}"
        _write_no_rule(results_dir, reason)
        return {}, {"targeting": guards.output("degraded", reason), "ranking_validation": guards.output("degraded", reason)}
    features, levels = targeting.interpretable_features(learn.rows.loc[train])
    benefit = -predicted[train]
    tree = targeting.fit_policy_tree(features, benefit, seed)
    rule = targeting.tree_rule(tree, list(features.columns), benefit, learn, levels)
    share_train = float(targeting.targeted_mask(rule, learn.rows.loc[train]).mean())
    share_heldout = float(targeting.targeted_mask(rule, learn.rows.loc[held]).mean())
    validation, curves = targeting.ranking_validation(learn, train_scores, predicted, seed)
    validation.to_csv(results_dir / results_contract.RANKING_VALIDATION_CSV, index=False)
    pd.concat([frame.assign(curve=name) for name, frame in curves.items()], ignore_index=True).to_csv(
        results_dir / results_contract.TARGETING_CURVES_CSV, index=False)
    targeting.ranking_figure(curves, results_dir / results_contract.FIGURES_DIR / "ranking_qini_toc.png", learn.horizon,
                             learn.outcome)
    statuses = {"ranking_validation": guards.output("ok")}
    degenerate = guards.degenerate_rule_reason(share_train, share_heldout)
    if degenerate is not None:
        _write_no_rule(results_dir, degenerate)
        statuses["targeting"] = guards.output("degraded", degenerate)
        return {}, statuses
    values = targeting.policy_values(cancel, dollars, rule, seed)
    values.to_csv(results_dir / results_contract.TARGETING_CSV, index=False)
    (results_dir / results_contract.TARGETING_RULE_JSON).write_text(rule.to_json())
    (results_dir / results_contract.TARGETING_RULE_TXT).write_text(_targeting_text(rule, values, validation))
    targeting.policy_tree_figure(tree, list(features.columns), results_dir / results_contract.FIGURES_DIR / "policy_tree.png",
                                 learn.horizon, learn.outcome)
    statuses["targeting"] = guards.output("ok")
    return {"rule": rule, "values": values, "validation": validation}, statuses


def _targeting_text(rule, values: pd.DataFrame, validation: pd.DataFrame) -> str:
    h = rule.horizon
    learnt_on = "MRR kept (cancelled MRR avoided)" if rule.outcome == RULE_OUTCOME else "cancellations avoided"
    lines = [
        f"Targeting rule: whom to encourage to adopt an integration (treatment '{rule.treatment}', "
        f"learnt on: {learnt_on} within {h} month(s))",
        "Learnt on half of the customers: an effect model (DR-learner) fitted to their doubly robust scores,",
        "summarised by a depth-2 tree on segment, tier, employee size, integration count and MRR; leaves with",
        "an above-average predicted benefit are targeted.",
        "",
        targeting.rule_text(rule, "$ MRR kept" if rule.outcome == RULE_OUTCOME else "cancellations avoided"),
        "",
        "Value on the other half of the customers (held out), per 1,000 customer-months whose adoption the push",
        "brings about (95% interval, bootstrap over customers):",
    ]
    names = {"policy_rule": "rule", "random": "random targeting", "todays_adopters": "today's adopters",
             "policy_rule_minus_random": "rule minus random", "policy_rule_minus_todays_adopters":
             "rule minus today's adopters"}
    for metric, unit in (("cancellations_avoided_per_1000", "cancellations avoided"),
                         ("mrr_kept_per_1000", "$ MRR kept")):
        part = values.loc[values["metric"] == metric]
        for row in part.itertuples():
            share = f" ({row.share_targeted:.0%} of customer-months)" if pd.notna(row.share_targeted) else ""
            lines.append(f"  {unit:22s} {names[row.strategy]:28s} {row.estimate:10.1f} "
                         f"[{row.ci_low:.1f}, {row.ci_high:.1f}]{share}")
    lines += ["", "Ranking check on held-out customers (econml DRTester; row-level standard errors):"]
    for row in validation.itertuples():
        extra = f", p = {row.p_value:.3g}" if pd.notna(row.p_value) else ""
        lines.append(f"  {row.metric}: {row.estimate:.4g}{extra}")
    lines += ["", "Assumption: the values are effects of adoption; a push that does not lead to an adoption",
              "moves nothing, so divide by the share of pushed customers who adopt because of it."]
    return "\n".join(lines) + "\n"


def _dml_reference(results_dir: Path) -> dict:
    """The dml ATE of the dollar cell from effects.csv, when the estimate stage wrote one."""
    path = results_dir / results_contract.EFFECTS_CSV
    if not path.is_file():
        return {}
    effects = pd.read_csv(path)
    match = effects.loc[(effects["treatment"] == PRIMARY_TREATMENT)
                        & (effects["outcome"] == dollars_mod.DOLLAR_OUTCOME)
                        & (effects["horizon"] == dollars_mod.DOLLAR_HORIZON)
                        & (effects["method"] == "dml") & (effects["estimand"] == "ATE")]
    if match.empty:
        return {}
    row = match.iloc[0]
    return {"dml_estimate_effects_csv": row["estimate"], "dml_ci_low_effects_csv": row["ci_low"],
            "dml_ci_high_effects_csv": row["ci_high"]}


DOLLARS_SKIPPED = "not estimable: the cancel_dollars h=1 cell was skipped (too few rows)"


def run_dollars(panel: pd.DataFrame, overall: dict, segment_records: list, results_dir: Path) -> pd.DataFrame:
    """Write dollars.csv and dollars_assumptions.md; return the table (empty when not estimable)."""
    key = (PRIMARY_TREATMENT, dollars_mod.DOLLAR_OUTCOME, dollars_mod.DOLLAR_HORIZON)
    if key not in overall:
        (results_dir / results_contract.DOLLARS_ASSUMPTIONS_MD).write_text(f"No dollar figures: {DOLLARS_SKIPPED}.\n")
        return pd.DataFrame()
    record = overall[key]
    in_cell = [r for r in segment_records if (r.treatment, r.outcome, r.horizon) == key]
    table = dollars_mod.dollars_table(panel, record, in_cell)
    for column, value in _dml_reference(results_dir).items():
        table[column] = np.where(table["segment_var"] == "all", value, np.nan)
    table.to_csv(results_dir / results_contract.DOLLARS_CSV, index=False)
    base = float(table.loc[table["segment_var"] == "all", "base_customers_per_month"].iloc[0])
    (results_dir / results_contract.DOLLARS_ASSUMPTIONS_MD).write_text(dollars_mod.ASSUMPTIONS.format(
        method="cross-fitted gradient boosting, 2 folds grouped by customer", cohorts=record.cohorts.replace(";", ", "),
        base=base))
    return table


def _extreme_segments(records: list[EffectRecord], outcome: str, horizon: int) -> dict:
    chosen = [r for r in records if r.treatment == PRIMARY_TREATMENT and r.outcome == outcome
              and r.horizon == horizon and r.method == METHOD]
    if not chosen:
        return {}
    sign = -1.0 if outcome in ("cancel", "cancel_dollars") else 1.0  # benefit = fewer cancellations

    def describe(r):
        return {"segment_var": r.segment_var, "segment_value": r.segment_value, "estimate": r.estimate,
                "ci_low": r.ci_low, "ci_high": r.ci_high, "n_units": r.n_units}

    ordered = sorted(chosen, key=lambda r: sign * r.estimate)
    return {"horizon": horizon, "largest_benefit": describe(ordered[-1]), "smallest_benefit": describe(ordered[0])}


def _summary(records, overall, mvc, target, dollars_table) -> dict:
    horizon = max((h for (t, o, h) in overall if t == PRIMARY_TREATMENT and o == POLICY_OUTCOME), default=None)
    summary = {"treatment": PRIMARY_TREATMENT, "segment_effects": {}}
    if horizon is not None:
        for outcome in STRATIFIED_OUTCOMES:
            summary["segment_effects"][outcome] = _extreme_segments(records, outcome, horizon)
    if target:
        values = target["values"]
        pick = lambda s, m: values.loc[(values["strategy"] == s) & (values["metric"] == m)].iloc[0]  # noqa: E731
        policy = {"horizon": int(target["rule"].horizon)}
        for metric in values["metric"].unique():
            policy[metric] = {s: {k: float(pick(s, metric)[k]) for k in ("estimate", "ci_low", "ci_high")}
                              for s in values["strategy"].unique()}
        policy["share_targeted"] = float(pick("policy_rule", "cancellations_avoided_per_1000")["share_targeted"])
        val = target["validation"].set_index("metric")
        policy["qini"] = {"estimate": float(val.loc["qini", "estimate"]), "p_value": float(val.loc["qini", "p_value"])}
        summary["targeting"] = policy
    if dollars_table is not None and len(dollars_table):
        row = dollars_table.loc[dollars_table["segment_var"] == "all"].iloc[0]
        summary["dollars"] = {k: float(row[k]) for k in (
            "effect_per_customer_month", "base_customers_per_month", "mrr_retained_per_month",
            "per_month_ci_low", "per_month_ci_high", "mrr_retained_per_year", "per_year_ci_low",
            "per_year_ci_high")}
    if len(mvc):
        summary["marketplace_vs_custom"] = json.loads(mvc[[
            "outcome", "horizon", "marketplace_estimate", "custom_estimate", "difference", "difference_ci_low",
            "difference_ci_high"]].to_json(orient="records"))
    return summary


def with_bands(by_segment: pd.DataFrame, band_tables: list[pd.DataFrame]) -> pd.DataFrame:
    """effects_by_segment rows with the simultaneous band, shrinkage and headline columns (NaN for stratified_ols)."""
    key = ["treatment", "outcome", "horizon", "method", "segment_var", "segment_value"]
    bands_frame = pd.concat(band_tables, ignore_index=True) if band_tables else pd.DataFrame(
        columns=[*key, *BAND_COLUMNS])
    merged = by_segment.merge(bands_frame, on=key, how="left", validate="one_to_one")
    merged["band_interval"] = np.where(merged["band_crit"].notna(), BAND_INTERVAL, "")
    return merged


def run_segments_stage(processed_dir: Path, results_dir: Path, seed: int, jobs: int) -> pd.DataFrame:
    """Effects by segment, marketplace vs custom, targeting and dollars from the panel.

    Parameters
    ----------
    processed_dir : Path
        Folder with ``panel.parquet`` (``analysis.panel.stage.load_panel``).
    results_dir : Path
        Folder for the tables, figures and ``heterogeneity_summary.json``.
    seed : int
        Seed of the folds, the models and the bootstraps.
    jobs : int
        Cells fitted in parallel (threads; each model uses one thread).

    Returns
    -------
    DataFrame
        The rows of ``effects_by_segment.csv``.
    """
    from threadpoolctl import threadpool_limits

    from analysis.panel.stage import load_panel

    from causal.estimate.tasks import release_panels, release_workers

    release_workers()  # the estimate and refute stages' idle workers: this stage works in this process
    release_panels()  # and reads the panel itself
    results_dir, started = Path(results_dir), time.perf_counter()
    timings = {}

    def lap(step: str) -> None:
        timings[step] = round(time.perf_counter() - started - sum(timings.values()), 2)
        record_step(step, timings[step])

    (results_dir / results_contract.FIGURES_DIR).mkdir(parents=True, exist_ok=True)
    panel = load_panel(Path(processed_dir))
    lap("load_panel")
    cells = [(PRIMARY_TREATMENT, o, h) for o in PRIMARY_OUTCOMES for h in schema.HORIZONS]
    cells += [(v, o, h) for v in VARIANTS for o in VARIANT_OUTCOMES for h in schema.HORIZONS]
    with threadpool_limits(limits=1):
        # one cell's design matrix at a time (at ten times real scale each is about 0.8 GB): what reads it,
        # the stratified check, runs as soon as the cell's scores exist; targeting rebuilds its one cell
        scores, skipped = fit_all_scores(panel, seed, cells, jobs, results_dir, keep_cell=lambda key: False,
                                         each=lambda key, found, cell: effects_of_cell(key, found, cell, seed))
    lap("doubly_robust_scores_segment_effects_and_stratified_check")
    overall, gates, stratified, band_tables = {}, [], [], []
    for key, (_, _, (cell_overall, found, skipped_segments, bands, cell_stratified)) in scores.items():
        overall[key] = cell_overall
        band_tables.append(bands)
        gates += found
        skipped += skipped_segments
        stratified += cell_stratified
    by_segment = with_bands(effects_frame(gates + stratified, by_segment=True), band_tables)
    by_segment.to_csv(results_dir / results_contract.EFFECTS_BY_SEGMENT_CSV, index=False)
    effects_frame(list(overall.values())).to_csv(results_dir / results_contract.EFFECTS_DR_OVERALL_CSV, index=False)
    compare_with_stratified(gates, stratified).to_csv(results_dir / results_contract.SEGMENTS_VS_STRATIFIED_CSV, index=False)
    pd.DataFrame(skipped, columns=["treatment", "outcome", "horizon", "segment_var", "segment_value", "n_units",
                                   "n_treated", "reason"]).to_csv(results_dir / results_contract.SEGMENTS_SKIPPED_CSV, index=False)
    figures_dir = results_dir / results_contract.FIGURES_DIR
    forest_figure(gates, overall, figures_dir / results_contract.FOREST_SEGMENTS_PNG, PRIMARY_TREATMENT,
                       STRATIFIED_OUTCOMES)
    for outcome, horizon in sorted({(r.outcome, r.horizon) for r in gates if r.treatment == PRIMARY_TREATMENT}):
        forest_figure([r for r in gates if r.horizon == horizon], overall,  # one per outcome and window
                      figures_dir / results_contract.segment_forest_png(outcome, horizon), PRIMARY_TREATMENT, (outcome,))
    outputs = {"segment_effects": guards.segment_effects_status(panel, gates, skipped)}
    lap("segment_tables_and_forest")
    mvc = marketplace_vs_custom(scores)
    mvc.to_csv(results_dir / results_contract.MARKETPLACE_VS_CUSTOM_CSV, index=False)
    if len(mvc):
        marketplace_custom_figure(mvc, results_dir / results_contract.FIGURES_DIR / "marketplace_vs_custom.png")
    outputs["marketplace_vs_custom"] = guards.variants_status(panel, mvc, skipped)
    lap("marketplace_vs_custom")
    with threadpool_limits(limits=1):
        target, target_outputs = run_targeting(scores, seed, results_dir,
                                               cell_of=lambda key: cell_scores(panel, key, seed, results_dir)[1])
    outputs.update(target_outputs)
    lap("targeting")
    dollars_table = run_dollars(panel, overall, gates, results_dir)
    outputs["dollars"] = guards.output("ok") if len(dollars_table) else guards.output("degraded", DOLLARS_SKIPPED)
    lap("dollars")
    summary = _summary(gates, overall, mvc, target, dollars_table)
    summary["outputs"] = outputs
    summary["counts"] = {"segment_effects": len(gates), "stratified_effects": len(stratified),
                         "skipped": len(skipped), "marketplace_vs_custom_rows": len(mvc),
                         "dollars_rows": len(dollars_table)}
    summary["seconds"] = round(time.perf_counter() - started, 1)
    summary["timings"] = timings
    (results_dir / results_contract.HETEROGENEITY_SUMMARY_JSON).write_text(json.dumps(summary, indent=2) + "\n")
    return by_segment


