"""Run a Quarto document's Python cells in a Jupyter kernel and return plain pandoc markdown.

This is the half of the fallback renderer that replaces ``quarto``'s execution
step. It supports the subset of Quarto that ``report.qmd`` uses: YAML front
matter, ```` ```{python} ```` chunks with ``#|`` options (``include``,
``output: asis``, ``echo``, ``tags: [parameters]``), everything else passed
through to pandoc unchanged.
"""
from __future__ import annotations

import base64
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

CHUNK_START = re.compile(r"^```\{python(?P<label>[^}]*)\}\s*$")
CHUNK_END = re.compile(r"^```\s*$")
OPTION_LINE = re.compile(r"^#\|\s?(?P<option>.*)$")
KERNEL_NAME = "python3"
PRIVATE_KERNEL = "memo-python3"


@dataclass
class Chunk:
    """One piece of the document: markdown text or a Python cell with its options."""

    kind: str  # "markdown" | "code"
    source: str
    options: dict = field(default_factory=dict)


def split_front_matter(text: str) -> tuple[dict, str]:
    """(front matter dict, body) of a document starting with a ``---`` YAML block."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            meta = yaml.safe_load("\n".join(lines[1:end])) or {}
            return (meta if isinstance(meta, dict) else {}), "\n".join(lines[end + 1:])
    return {}, text


def parse_chunks(body: str) -> list[Chunk]:
    """Split a Quarto body into markdown and Python chunks, reading ``#|`` options."""
    chunks: list[Chunk] = []
    markdown: list[str] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        if CHUNK_START.match(lines[i]):
            if markdown:
                chunks.append(Chunk("markdown", "\n".join(markdown)))
                markdown = []
            j = i + 1
            while j < len(lines) and not CHUNK_END.match(lines[j]):
                j += 1
            code_lines = lines[i + 1:j]
            option_text = []
            for line in code_lines:
                match = OPTION_LINE.match(line)
                if not match:
                    break
                option_text.append(match.group("option"))
            options = yaml.safe_load("\n".join(option_text)) if option_text else {}
            chunks.append(Chunk("code", "\n".join(code_lines), options if isinstance(options, dict) else {}))
            i = j + 1
        else:
            markdown.append(lines[i])
            i += 1
    if markdown:
        chunks.append(Chunk("markdown", "\n".join(markdown)))
    return chunks


def _kernel_manager_kwargs(build_dir: Path) -> dict:
    """Use the ``python3`` kernel when it runs this Python, else a private spec that does."""
    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        if os.path.abspath(spec.argv[0]) == os.path.abspath(sys.executable) or spec.argv[0] == "python":
            return {"kernel_name": KERNEL_NAME}
    except NoSuchKernel:
        pass
    kernel_dir = build_dir / "kernels" / PRIVATE_KERNEL
    kernel_dir.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "memo (this Python)", "language": "python"}
    (kernel_dir / "kernel.json").write_text(json.dumps(spec))
    return {"kernel_name": PRIVATE_KERNEL,
            "kernel_spec_manager": KernelSpecManager(kernel_dirs=[str(build_dir / "kernels")])}


def execute_chunks(chunks: list[Chunk], build_dir: Path, env: dict[str, str], timeout: int = 600) -> list:
    """Execute the code chunks in one kernel (working directory ``build_dir``); return the cells."""
    cells = [nbformat.v4.new_code_cell(c.source) for c in chunks if c.kind == "code"]
    for cell, chunk in zip(cells, [c for c in chunks if c.kind == "code"]):
        tags = chunk.options.get("tags") or []
        cell.metadata["tags"] = list(tags) if isinstance(tags, list) else [str(tags)]
    notebook = nbformat.v4.new_notebook(cells=cells)
    kwargs = _kernel_manager_kwargs(build_dir)
    manager_kwargs = {}
    if "kernel_spec_manager" in kwargs:
        from jupyter_client.manager import KernelManager

        manager = KernelManager(kernel_name=kwargs["kernel_name"])
        manager.kernel_spec_manager = kwargs["kernel_spec_manager"]
        manager_kwargs["km"] = manager
    client = NotebookClient(notebook, timeout=timeout, kernel_name=kwargs["kernel_name"],
                            resources={"metadata": {"path": str(build_dir)}}, **manager_kwargs)
    try:
        with open(build_dir / "kernel.log", "w") as kernel_log:  # the kernel's own chatter stays off the terminal
            client.execute(env=env, cwd=str(build_dir), stderr=kernel_log)
    except CellExecutionError as error:
        last = str(error).strip().splitlines()
        raise RuntimeError(f"report.qmd: a cell failed: {last[-1] if last else error}") from None
    return notebook.cells


def cell_markdown(chunk: Chunk, cell, build_dir: Path, assets_dir: Path, index: int) -> str:
    """What a Quarto render would show for one executed cell, as markdown.

    Images a cell displays are written to ``build_dir / assets_dir`` and linked relatively.
    """
    if chunk.options.get("include") is False:
        return ""
    asis = chunk.options.get("output") == "asis"
    pieces = []
    for k, output in enumerate(cell.get("outputs", [])):
        kind = output.get("output_type")
        if kind == "stream":
            if output.get("name") != "stdout":
                continue
            pieces.append(output["text"] if asis else f"```\n{output['text'].rstrip()}\n```")
        elif kind in ("display_data", "execute_result"):
            data = output.get("data", {})
            if "image/png" in data:
                target = assets_dir / f"cell-{index}-{k}.png"
                (build_dir / target).parent.mkdir(parents=True, exist_ok=True)
                (build_dir / target).write_bytes(base64.b64decode(data["image/png"]))
                pieces.append(f"![]({target.as_posix()})")
            elif "text/markdown" in data:
                pieces.append(data["text/markdown"])
            elif "text/plain" in data and not asis:
                pieces.append(f"```\n{data['text/plain']}\n```")
    return "\n".join(pieces)


def run_document(qmd_path: Path, build_dir: Path, env: dict[str, str], assets_dir: Path) -> tuple[dict, str]:
    """Execute ``qmd_path``'s cells and return (front matter, markdown body with outputs in place).

    ``assets_dir`` is relative to ``build_dir`` (the kernel's working directory).
    """
    meta, body = split_front_matter(Path(qmd_path).read_text(encoding="utf-8"))
    chunks = parse_chunks(body)
    cells = iter(execute_chunks(chunks, build_dir, env))
    parts = []
    for index, chunk in enumerate(chunks):
        if chunk.kind == "markdown":
            parts.append(chunk.source)
        else:
            parts.append(cell_markdown(chunk, next(cells), build_dir, assets_dir, index))
    return meta, "\n\n".join(p.strip("\n") for p in parts if p.strip()) + "\n"
