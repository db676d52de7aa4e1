"""Command-line interface: ``python -m causal {simulate,run,refute,report}``.

Each subcommand is a thin wrapper over one stage function with explicit
inputs, outputs and seed. Unusable input ends with one line on stderr and
exit code 2 (:class:`analysis.errors.InputError`), never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis import paths
from analysis.errors import InputError

EXIT_INPUT_ERROR = 2


def _cmd_simulate(args: argparse.Namespace) -> int:
    from analysis.simulator import simulate

    summary = simulate(out_dir=Path(args.out), n_customers=args.customers, seed=args.seed,
                       hidden_factor=args.hidden_factor)
    print(summary.describe() if hasattr(summary, "describe") else summary)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from causal.pipeline import run_pipeline

    run_pipeline(
        data_dir=Path(args.data),
        results_dir=Path(args.results),
        processed_dir=Path(args.processed),
        seed=args.seed,
        jobs=args.jobs,
        stages=args.stages,
    )
    return 0


def _cmd_refute(args: argparse.Namespace) -> int:
    from causal.refute import refute_from_results

    refute_from_results(results_dir=Path(args.results), simulations=args.simulations, seed=args.seed)
    return 0


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
    run.add_argument("--processed", default=str(paths.PROCESSED_DIR), help="folder for Parquet model and panel")
    run.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    run.add_argument("--jobs", type=int, default=1, help="parallel workers (default 1)")
    run.add_argument(
        "--stages",
        default="all",
        help="comma-separated subset of data,panel,estimate,refute,segments (default all)",
    )
    run.set_defaults(func=_cmd_run)

    ref = sub.add_parser("refute", help="re-run the refutation suite from a results folder")
    ref.add_argument("--results", default=str(paths.RESULTS_DIR), help="results folder written by run")
    ref.add_argument("--simulations", type=int, default=None, help="simulations per refuter")
    ref.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
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
