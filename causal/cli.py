"""Command-line interface: ``python -m causal {simulate,run,refute,report}``.

Each subcommand is a thin wrapper over one stage function with explicit
inputs, outputs and seed; what it prints is built by :mod:`causal.console`.
Unusable input or options end with one line on stderr and exit code 2
(:class:`analysis.errors.InputError`), never a traceback; ``refute --strict``
exits 1 when a check fails.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis import paths
from analysis.errors import InputError
from causal import console

EXIT_CHECK_FAILED = 1
EXIT_INPUT_ERROR = 2


def _cmd_simulate(args: argparse.Namespace) -> int:
    from analysis.simulator import simulate

    summary = simulate(out_dir=Path(args.out), n_customers=args.customers, seed=args.seed,
                       hidden_factor=args.hidden_factor)
    print(summary.describe() if hasattr(summary, "describe") else summary)
    return 0


EXIT_STAGE_FAILED = 1


def _say(line: str) -> None:
    print(line, flush=True)


def _cmd_run(args: argparse.Namespace) -> int:
    from causal.estimate.progress import enable_progress
    from causal.pipeline import run_pipeline

    if getattr(args, "ray", None):
        from causal.estimate.tasks import use_ray

        use_ray(args.ray)
    quiet = console.quiet_mode(args.quiet)
    enable_progress(not quiet)
    reports = run_pipeline(
        data_dir=Path(args.data),
        results_dir=Path(args.results),
        processed_dir=Path(args.processed) if args.processed else None,
        seed=args.seed,
        jobs=args.jobs,
        stages=args.stages,
        on_stage_done=lambda report: _say(console.stage_line(report)),
        n_bootstrap=args.bootstrap,
    )
    failed = next((r for r in reports if r.status == "failed"), None)
    if failed is not None:
        print(f"error: stage {failed.stage} failed: {failed.reasons[0] if failed.reasons else 'no reason given'}",
              file=sys.stderr)
        return EXIT_STAGE_FAILED
    for report in reports:
        for name, output in report.outputs.items():
            if output.get("status") != "ok":
                print(f"{output['status']}: {report.stage}/{name}: {output.get('reason', '')}", file=sys.stderr)
        if report.status == "degraded" and not any(o.get("status") != "ok" for o in report.outputs.values()):
            for reason in report.reasons:
                print(f"degraded: {report.stage}: {reason}", file=sys.stderr)
    if not quiet:
        for line in console.run_summary(Path(args.results), reports):
            _say(line)
    return 0


def _cmd_refute(args: argparse.Namespace) -> int:
    from causal.refute import rerun

    only, cell = rerun.parse_only(args.only), rerun.parse_cell(args.cell)
    result = rerun.rerun_refutations(results_dir=Path(args.results), simulations=args.simulations,
                                     seed=args.seed, only=only, cell=cell, jobs=args.jobs)
    for line in console.refute_table(result.frame, result.original, result.same_settings):
        _say(line)
    _say(f"re-run folder: {result.folder}")
    _say(console.refute_closing(result.frame, result.original, result.settings))
    failed = console.pass_counts(result.frame["passed"])[1]
    return EXIT_CHECK_FAILED if args.strict and failed else 0


def _cmd_report(args: argparse.Namespace) -> int:
    from causal.report import render_report

    outputs = render_report(results_dir=Path(args.results), out_dir=Path(args.out))
    for path in outputs:
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with one subparser per stage."""
    parser = argparse.ArgumentParser(
        prog="python -m causal",
        description="Does adopting integrations make customers cancel less and upgrade more?",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("simulate", help="write a simulated data set in the raw extract format")
    sim.add_argument("--out", required=True, help="folder for the three CSVs and truth.json")
    sim.add_argument("--customers", type=int, default=63_882, help="number of customers (default 63882)")
    sim.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    sim.add_argument("--hidden-factor", type=float, default=0.0,
                     help="strength of an unmeasured account factor raising adoption and lowering cancellation "
                          "(default 0: none)")
    sim.set_defaults(func=_cmd_simulate)

    run = sub.add_parser("run", help="load, validate, model, build the panel, estimate, refute")
    run.add_argument("--data", default=str(paths.default_input_dir()), help="folder with the three raw CSVs")
    run.add_argument("--results", default=str(paths.RESULTS_DIR), help="folder for results files")
    run.add_argument("--processed", default=None,
                     help="folder for Parquet model and panel (default: <results>/processed)")
    run.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    run.add_argument("--jobs", type=int, default=1, help="parallel workers (default 1)")
    run.add_argument("--bootstrap", type=int, default=None, metavar="N",
                     help="customer-bootstrap draws of the matching interval (default 100; fewer for a quick look)")
    run.add_argument("--ray", default=None, metavar="ADDRESS",
                     help="run the cell map on a Ray cluster ('auto', 'ray://host:10001', 'local'; needs .[ray])")
    run.add_argument(
        "--stages",
        default="all",
        help="comma-separated subset of data,panel,estimate,refute,segments (default all)",
    )
    run.add_argument("--quiet", action="store_true",
                     help="print the stage lines only (also when the environment variable CI is true)")
    run.set_defaults(func=_cmd_run)

    ref = sub.add_parser("refute", help="re-run the refutation suite from a results folder, into "
                         "RESULTS/refutations/rerun-<time>-seed<N>-sims<N>/ (the run's files stay as they are)")
    ref.add_argument("--results", default=str(paths.RESULTS_DIR), help="results folder written by run")
    ref.add_argument("--simulations", type=int, default=None, help="simulations per refuter (default: the run's)")
    ref.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ref.add_argument("--only", default=None, metavar="REFUTER[,REFUTER]",
                     help="re-run only these refuters (placebo_treatment, random_common_cause, data_subset, "
                          "bootstrap, unobserved_confounder)")
    ref.add_argument("--cell", default=None, metavar="TREATMENT:OUTCOME:HORIZON",
                     help="re-run one primary cell only, e.g. any:cancel:3")
    ref.add_argument("--jobs", type=int, default=None, help="parallel workers (default: the run's)")
    ref.add_argument("--strict", action="store_true", help="exit 1 when any check fails (default: exit 0)")
    ref.set_defaults(func=_cmd_refute)

    rep = sub.add_parser("report", help="render report.qmd to HTML and PDF from a results folder")
    rep.add_argument("--results", default=str(paths.RESULTS_DIR), help="results folder written by run")
    rep.add_argument("--out", default=str(paths.REPORTS_DIR), help="folder for the rendered memos")
    rep.set_defaults(func=_cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run one subcommand, map input errors to exit code 2."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    finally:
        _stop_idle_workers()


def _stop_idle_workers() -> None:
    """Kill the worker processes a command's cell maps left idle (none if it mapped nothing), so that the
    command ends when its work does instead of waiting for loky's exit handler (1.3 s at real scale)."""
    tasks = sys.modules.get("causal.estimate.tasks")  # imported only by commands that map cells
    if tasks is not None:
        tasks.release_workers()
