"""Markdown to a self-contained HTML memo (pandoc) and a PDF memo (pandoc to typst, then typst).

The HTML and typst header texts come from ``_quarto.yml`` (``include-in-header``),
so the fallback renderer and ``quarto render`` style the memo alike.
"""
from __future__ import annotations

from pathlib import Path

import pypandoc
import typst
import yaml

PANDOC_FROM = "markdown"


def quarto_format_options(quarto_yml: Path, fmt: str) -> dict:
    """The ``format.<fmt>`` section of ``_quarto.yml`` (empty when absent)."""
    try:
        config = yaml.safe_load(Path(quarto_yml).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    section = (config.get("format") or {}).get(fmt) or {}
    return section if isinstance(section, dict) else {}


def header_text(options: dict) -> str:
    """The ``include-in-header`` texts of one format, joined."""
    entries = options.get("include-in-header") or []
    if isinstance(entries, (str, dict)):
        entries = [entries]
    texts = []
    for entry in entries:
        if isinstance(entry, dict) and "text" in entry:
            texts.append(str(entry["text"]))
        elif isinstance(entry, str) and Path(entry).is_file():
            texts.append(Path(entry).read_text(encoding="utf-8"))
    return "\n".join(texts)


def document_markdown(meta: dict, body: str) -> str:
    """Front matter (title and subtitle only) plus body, for pandoc."""
    keep = {k: meta[k] for k in ("title", "subtitle", "date") if k in meta}
    front = yaml.safe_dump(keep, allow_unicode=True, sort_keys=False).strip()
    return f"---\n{front}\n---\n\n{body}"


def to_html(markdown: str, build_dir: Path, out_path: Path, quarto_yml: Path) -> Path:
    """Self-contained HTML (images embedded as data URIs) with the memo's stylesheet."""
    header = build_dir / "header.html"
    header.write_text(header_text(quarto_format_options(quarto_yml, "html")), encoding="utf-8")
    source = build_dir / "memo.md"
    source.write_text(markdown, encoding="utf-8")
    pypandoc.convert_file(
        str(source), "html5", format=PANDOC_FROM, outputfile=str(out_path),
        extra_args=["--standalone", "--embed-resources", "--section-divs", f"--resource-path={build_dir}",
                    f"--include-in-header={header}", "--metadata=lang:en"],
        cworkdir=str(build_dir),
    )
    return out_path


def to_pdf(markdown: str, build_dir: Path, out_path: Path, quarto_yml: Path) -> Path:
    """PDF through typst: pandoc writes typst with the memo's header, ``typst.compile`` typesets it."""
    options = quarto_format_options(quarto_yml, "typst")
    header = build_dir / "header.typ"
    header.write_text(header_text(options), encoding="utf-8")
    metadata = {k: options[k] for k in ("papersize", "margin", "fontsize", "mainfont") if k in options}
    meta_file = build_dir / "typst-metadata.yaml"
    meta_file.write_text(yaml.safe_dump(metadata), encoding="utf-8")
    source = build_dir / "memo.md"
    source.write_text(markdown, encoding="utf-8")
    typ = build_dir / "memo.typ"
    pypandoc.convert_file(
        str(source), "typst", format=PANDOC_FROM, outputfile=str(typ),
        extra_args=["--standalone", f"--include-in-header={header}", f"--metadata-file={meta_file}",
                    "--metadata=lang:en"],
        cworkdir=str(build_dir),
    )
    out_path.write_bytes(typst.compile(str(typ), root=str(build_dir)))
    return out_path
