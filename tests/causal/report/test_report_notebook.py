"""The fallback's Quarto subset: front matter, chunk options, asis output, images, a private kernel."""
from __future__ import annotations

import os

from jupyter_client.kernelspec import NoSuchKernel

from causal.report import notebook as report_notebook
from causal.report.notebook import parse_chunks, run_document, split_front_matter

QMD = '''---
title: "A test"
---

Intro with a plain code block:

```
not executed
```

```{python}
#| tags: [parameters]
value = 2
```

```{python}
#| include: false
hidden = "never shown"
print(hidden)
```

```{python}
#| output: asis
print(f"**Value is {value * 21}.**")
```

```{python}
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(2, 2))
ax.plot([0, 1], [0, 1])
plt.show()
```
'''


def test_front_matter_and_chunk_options_are_read():
    meta, body = split_front_matter(QMD)
    assert meta == {"title": "A test"}
    chunks = parse_chunks(body)
    code = [c for c in chunks if c.kind == "code"]
    assert [c.options for c in code[:3]] == [{"tags": ["parameters"]}, {"include": False}, {"output": "asis"}]
    assert "not executed" in chunks[0].source and chunks[0].kind == "markdown"


def test_cells_run_in_a_kernel_and_outputs_land_in_place(tmp_path, monkeypatch):
    qmd = tmp_path / "doc.qmd"
    qmd.write_text(QMD)

    real_lookup = report_notebook.KernelSpecManager.get_kernel_spec

    def no_kernel(self, name):  # no "python3" kernel: the private spec that starts this Python is used
        if name == report_notebook.KERNEL_NAME:
            raise NoSuchKernel(name)
        return real_lookup(self, name)

    monkeypatch.setattr(report_notebook.KernelSpecManager, "get_kernel_spec", no_kernel)
    build = tmp_path / "build"
    build.mkdir()
    meta, body = run_document(qmd, build, dict(os.environ), report_notebook.Path("assets"))
    assert meta["title"] == "A test"
    assert "**Value is 42.**" in body and "never shown" not in body
    assert body.index("not executed") < body.index("Value is 42")
    images = list((build / "assets").glob("*.png"))
    assert len(images) == 1 and f"![](assets/{images[0].name})" in body
    assert (build / "kernels" / report_notebook.PRIVATE_KERNEL / "kernel.json").is_file()
