"""The fallback applies quarto's ``content-visible`` / ``content-hidden`` divs per format (fast, no quarto)."""
from __future__ import annotations

from causal.report.render import for_format

DOCUMENT = """intro
::: {.content-visible when-format="html"}
html only
::: {.panel-tabset}
##### tab
:::
:::
```
::: {.content-visible when-format="html"}
```
::: {.content-hidden when-format="html"}
not in html
:::
::: {.content-visible when-format="typst"}
pdf only
:::
end"""


def test_blocks_of_the_format_lose_their_fences_and_other_formats_are_dropped():
    html = for_format(DOCUMENT, "html").splitlines()
    typst = for_format(DOCUMENT, "typst").splitlines()
    assert html == ["intro", "html only", "::: {.panel-tabset}", "##### tab", ":::", "```",
                    '::: {.content-visible when-format="html"}', "```", "end"]
    assert typst == ["intro", "```", '::: {.content-visible when-format="html"}', "```", "not in html",
                     "pdf only", "end"]


def test_a_document_without_such_divs_is_unchanged():
    plain = "a\n\n::: {.callout-note}\nnote\n:::\n\nb\n"
    assert for_format(plain, "html") == plain == for_format(plain, "typst")
