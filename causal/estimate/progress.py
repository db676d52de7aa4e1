"""Progress bars for long steps: tqdm on a terminal, silent otherwise."""
from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")
_ENABLED = [True]


def enable_progress(enabled: bool) -> None:
    """Allow (default) or silence the progress bars of this process (``--quiet``, CI)."""
    _ENABLED[0] = bool(enabled)


def on_terminal() -> bool:
    """True when standard error is an interactive terminal and progress bars are allowed."""
    return _ENABLED[0] and bool(getattr(sys.stderr, "isatty", lambda: False)())


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    """Iterate over ``items`` with a progress bar when on a terminal.

    Parameters
    ----------
    items : iterable
        What to iterate over.
    desc : str
        Short label of the step (no customer data).
    total : int, optional
        Number of items, when ``items`` has no length.
    """
    return iter(tqdm(items, desc=desc, total=total, disable=not on_terminal(), leave=False,
                     file=sys.stderr, dynamic_ncols=True))
