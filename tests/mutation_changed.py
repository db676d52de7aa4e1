"""The functions of the mutated modules that changed since a revision, as mutmut mutant globs.

``.ci/run`` mutates only what the commit under test changed (``make mutation-changed``): a
whole data module takes 17 to 53 minutes (docs/testing.md), one changed function a few. ::

    python -m tests.mutation_changed [--base REV] [MODULE.py ...]

prints one glob per function (or method) whose source differs from ``REV`` (default ``HEAD~1``)
or that is new, e.g. ``analysis.data.validate.x__mark_month_range__mutmut_*`` (mutmut 3 names
a function's mutants ``x_<name>__mutmut_<n>`` and a method's ``xǁ<Class>ǁ<name>__mutmut_<n>``).
Without modules it looks at every module of ``[tool.mutmut] only_mutate``; a module that did not
exist at ``REV`` counts as wholly changed. Prints nothing when nothing changed.
"""
from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from pathlib import Path

from tests.mutation_check import ROOT, configured_modules, module_name


def function_sources(source: str) -> dict[str, str]:
    """``mutmut-style key -> source`` of every top-level function and method of a class in ``source``."""
    tree = ast.parse(source)
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[f"x_{node.name}"] = ast.get_source_segment(source, node)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    found[f"x\u01c1{node.name}\u01c1{item.name}"] = ast.get_source_segment(source, item)
    return found


def changed_functions(old: str | None, new: str) -> list[str]:
    """Keys of the functions of ``new`` that are absent from ``old`` or differ from it (in ``new``'s order)."""
    before = function_sources(old) if old is not None else {}
    return [key for key, text in function_sources(new).items() if before.get(key) != text]


def source_at(revision: str, path: str) -> str | None:
    """The file at a git revision, or None when it did not exist there."""
    result = subprocess.run(["git", "show", f"{revision}:{path}"], cwd=ROOT, capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else None


def changed_globs(base: str, paths: list[str]) -> list[str]:
    """mutmut globs of the changed functions of ``paths`` since ``base``."""
    globs = []
    for path in paths:
        new = (ROOT / path).read_text()
        globs += [f"{module_name(path)}.{key}__mutmut_*" for key in changed_functions(source_at(base, path), new)]
    return globs


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation_changed", description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD~1", help="revision to compare with (default HEAD~1)")
    parser.add_argument("modules", nargs="*", help="mutated modules (default: all of [tool.mutmut] only_mutate)")
    args = parser.parse_args(argv)
    known = configured_modules()
    unknown = [p for p in args.modules if p not in known]
    if unknown:
        print(f"not a mutated module: {', '.join(unknown)} (choose from {', '.join(known)})", file=sys.stderr)
        return 2
    if subprocess.run(["git", "rev-parse", "--verify", "--quiet", args.base], cwd=ROOT,
                      capture_output=True).returncode != 0:
        print(f"no revision {args.base} in this clone: nothing to compare with", file=sys.stderr)
        return 0
    for glob in changed_globs(args.base, args.modules or known):
        print(glob)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
