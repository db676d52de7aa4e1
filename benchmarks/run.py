"""Run every benchmark module and write its section of ``docs/benchmarks.md``.

A benchmark module is any module of this package other than ``run`` that defines
``run() -> dict``. It may also define ``to_markdown(figures: dict) -> str``; otherwise
its figures are printed as a two-column table. Each module owns one section of
``docs/benchmarks.md``, between ``<!-- bench:NAME -->`` markers, so modules can be
re-run one at a time (``python -m benchmarks.run data_layer``) without losing the others.
"""
from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import re
from pathlib import Path

import benchmarks
from analysis import paths

_HEADER = (
    "# Benchmarks\n\n"
    "Written by `python -m benchmarks.run` (`make bench`); every figure below comes from a run on this machine.\n"
)


def benchmark_modules() -> list[str]:
    """Names of the benchmark modules present in the package, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name not in ("run",))


def _default_markdown(name: str, figures: dict) -> str:
    lines = ["| figure | value |", "|---|---|"]
    for key, value in figures.items():
        lines.append(f"| {key} | {json.dumps(value) if isinstance(value, (dict, list)) else value} |")
    return "\n".join(lines) + "\n"


def section(name: str, title: str, body: str) -> str:
    """One module's section with its markers."""
    return f"<!-- bench:{name} -->\n## {title}\n\n{body.rstrip()}\n<!-- /bench:{name} -->\n"


def update_document(text: str, name: str, new_section: str) -> str:
    """Replace (or append) the section of ``name`` in the markdown ``text``."""
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->\n?", re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: new_section, text)
    return text.rstrip() + "\n\n" + new_section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="benchmark modules to run (default: all present)")
    parser.add_argument("--out", default=str(paths.BENCHMARKS_MD), help="markdown file to update")
    args = parser.parse_args(argv)
    names = args.modules or benchmark_modules()
    out = Path(args.out)
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        if not callable(getattr(module, "run", None)):
            print(f"{name}: no run() function, skipped")
            continue
        figures = module.run()
        title = (module.__doc__ or name).strip().splitlines()[0].rstrip(".")
        render = getattr(module, "to_markdown", None)
        body = render(figures) if render else _default_markdown(name, figures)
        text = out.read_text() if out.is_file() else _HEADER  # re-read: other sections may have changed
        text = update_document(text, name, section(name, title, body))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)  # after each module, so a later failure keeps earlier figures
        print(f"{name}: written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
