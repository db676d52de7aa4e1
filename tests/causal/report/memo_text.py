"""The reader-visible text of a memo's HTML: headings, marked numbers, sentences and table cells.

Used to check that quarto and the fallback renderer give the same memo. Scripts, styles, navigation
(quarto's tab links, title block chrome) and image data are not text; tab headings appear as tab
links under quarto and as headings in the fallback, so headings below level 4 are compared only
as text of the tabs (``tabs``).
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

BLOCKS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "td", "th", "figcaption"}
SKIP = {"script", "style", "nav", "noscript"}


def _clean(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


class _MemoText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.stack: list[tuple[str, list[str]]] = []
        self.blocks: list[tuple[str, str]] = []
        self.numbers: list[str] = []
        self.number: list[str] | None = None
        self.tabs: list[str] = []
        self.tab: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in SKIP:
            self.skip += 1
        if self.skip:
            return
        if tag == "a" and attrs.get("role") == "tab":
            self.tab = []
        if tag in BLOCKS and not (tag == "li" and "nav-item" in (attrs.get("class") or "").split()):
            self.stack.append((tag, []))  # a tab's <li> is navigation, its title is in ``tabs``
        if tag == "span" and "memo-num" in (attrs.get("class") or "").split():
            self.number = []

    def handle_endtag(self, tag):
        if tag in SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag == "a" and self.tab is not None:
            self.tabs.append(_clean("".join(self.tab)))
            self.tab = None
        if tag == "span" and self.number is not None:
            self.numbers.append(_clean("".join(self.number)))
            self.number = None
        if tag in BLOCKS and self.stack and self.stack[-1][0] == tag:
            name, parts = self.stack.pop()
            text = _clean("".join(parts))
            if text:
                self.blocks.append((name, text))
            if self.stack:
                self.stack[-1][1].append(" ".join(parts))

    def handle_data(self, data):
        if self.skip:
            return
        for target in (self.number, self.tab):
            if target is not None:
                target.append(data)
        if self.stack:
            self.stack[-1][1].append(data)


def memo_text(html: str) -> dict[str, list]:
    """``headings`` (levels 1-4), ``tab_titles`` (tab links, or level 5 headings), ``numbers`` (memo-num
    texts), ``sentences`` (paragraph and list texts) and ``cells`` (table cells), each in document order."""
    parser = _MemoText()
    parser.feed(re.sub(r"data:[a-z/+.-]+;base64,[A-Za-z0-9+/=]+", "", html))
    by = lambda *names: [t for n, t in parser.blocks if n in names]  # noqa: E731
    return {"headings": by("h1", "h2", "h3", "h4"), "tab_titles": parser.tabs or by("h5"),
            "numbers": parser.numbers, "sentences": by("p", "li"), "cells": by("td", "th"),
            "captions": by("figcaption")}
