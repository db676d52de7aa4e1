"""Mutation score per module from mutmut's result files, and a failure for every unexplained survivor.

``mutmut run`` exits 0 whatever survives, so ``make mutation`` runs this afterwards::

    python -m tests.mutation_check [MODULE.py ...]
    python -m tests.mutation_check --known MODULE.py ...   # only check that the modules are mutated ones
    python -m tests.mutation_check --only GLOB ... -- MODULE.py ...   # only the mutants the globs name

It reads ``mutants/<module>.py.meta`` (mutmut 3's per-file results), prints killed / total,
survivors and equivalent mutants per module, and exits 1 with one line per mutant that
survived (or had no test covering it) and is not listed in ``tests/mutation_equivalent.txt``.
Without arguments it checks every module of ``[tool.mutmut] only_mutate`` in pyproject.toml.

The equivalent list is keyed by mutant name (``module.x_function__mutmut_N``): the
numbering follows the order of the mutations inside the function, so editing a function
renumbers its mutants and its entries have to be reviewed again (docs/testing.md).
"""
from __future__ import annotations

import fnmatch
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT_FILE = ROOT / "tests" / "mutation_equivalent.txt"
MUTANTS_DIR = ROOT / "mutants"

# mutmut 3.8.1's exit codes (mutmut/stats.py): what counts as caught, what as a survivor
KILLED = {1, 3}
TIMEOUT = {36, 24, -24, 152, 255}
CRASHED = {-11, -9}
TYPE_CHECK = {37}
SURVIVED = {0}
NO_TESTS = {5, 33}


def configured_modules() -> list[str]:
    """The files of ``[tool.mutmut] only_mutate``."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return list(config["only_mutate"])


def read_equivalent(path: Path = EQUIVALENT_FILE) -> dict[str, str]:
    """``mutant name -> reason`` from lines ``NAME  reason``; ``#`` starts a comment line."""
    equivalent = {}
    if not path.exists():
        return equivalent
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{path.name}:{number}: {name} has no reason (one line: NAME  why it is equivalent)")
        equivalent[name] = reason.strip()
    return equivalent


def module_name(path: str) -> str:
    """``analysis/data/load.py`` -> ``analysis.data.load``."""
    return path.removesuffix(".py").replace("/", ".")


def results_of(path: str) -> dict[str, int | None]:
    """``mutant name -> exit code`` of one mutated file (None: not run)."""
    meta = MUTANTS_DIR / f"{path}.meta"
    if not meta.exists():
        raise SystemExit(f"no mutmut results for {path} ({meta} is missing): run `make mutation` first")
    return json.loads(meta.read_text())["exit_code_by_key"]


def check(paths: list[str], equivalent: dict[str, str], only: list[str] | None = None
          ) -> tuple[list[dict], list[str]]:
    """One summary row per module and the lines of the unexplained survivors.

    ``only``: mutmut globs (``module.x_function__mutmut_*``); the other mutants are left out
    (a run of the changed functions alone leaves them undecided).
    """
    rows, problems = [], []
    for path in paths:
        results = results_of(path)
        if only is not None:
            results = {name: code for name, code in results.items() if any(fnmatch.fnmatchcase(name, g) for g in only)}
        counts = dict(total=len(results), killed=0, timeout=0, survived=0, no_tests=0, equivalent=0, other=0)
        for name, code in sorted(results.items()):
            if code in KILLED or code in CRASHED or code in TYPE_CHECK:
                counts["killed"] += 1
            elif code in TIMEOUT:
                counts["timeout"] += 1
            elif code in SURVIVED or code in NO_TESTS:
                if name in equivalent:
                    counts["equivalent"] += 1
                    continue
                counts["survived" if code in SURVIVED else "no_tests"] += 1
                what = "survived" if code in SURVIVED else "no test covers it"
                problems.append(f"{name}: {what} (mutmut show {name})")
            else:
                counts["other"] += 1
                problems.append(f"{name}: not decided (exit code {code}); rerun `mutmut run {name}`")
        caught = counts["killed"] + counts["timeout"]
        judged = counts["total"] - counts["equivalent"]
        counts["score"] = caught / judged if judged else 1.0
        rows.append({"module": path, **counts})
    return rows, problems


def main(argv: list[str]) -> int:
    known_only = argv[:1] == ["--known"]
    argv = argv[1:] if known_only else argv
    only = None
    if argv[:1] == ["--only"]:
        if "--" not in argv:
            print("usage: python -m tests.mutation_check --only GLOB ... -- MODULE.py ...", file=sys.stderr)
            return 2
        split = argv.index("--")
        only, argv = argv[1:split], argv[split + 1:]
    modules = configured_modules()
    paths = argv or modules
    if only is not None and not argv:  # the modules the globs name
        paths = [m for m in modules if any(g.startswith(module_name(m) + ".") for g in only)]
    unknown = [p for p in paths if p not in modules]
    if unknown:
        print(f"not a mutated module: {', '.join(unknown)} (choose from {', '.join(modules)})", file=sys.stderr)
        return 2
    if known_only:  # `make mutation MUTATE=...` checks the names before the long run
        return 0
    equivalent = read_equivalent()
    stale = [n for n in equivalent if not any(n.startswith(module_name(m) + ".") for m in modules)]
    rows, problems = check(paths, equivalent, only)
    print(f"{'module':36} {'killed':>7} {'timeout':>7} {'survived':>8} {'no test':>7} {'equiv.':>6} {'total':>6} {'score':>6}")
    for r in rows:
        print(f"{r['module']:36} {r['killed']:>7} {r['timeout']:>7} {r['survived']:>8} {r['no_tests']:>7} "
              f"{r['equivalent']:>6} {r['total']:>6} {r['score']:>6.1%}")
    for name in stale:
        print(f"warning: {EQUIVALENT_FILE.name} lists {name}, which is in no mutated module", file=sys.stderr)
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        print(f"{len(problems)} mutant(s) survived without being listed as equivalent in {EQUIVALENT_FILE.name}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
