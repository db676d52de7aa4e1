"""Wall seconds of a stage's main steps, recorded in ``run_info.json`` (``stages[stage]["steps"]``).

A stage wraps each main step in :func:`timed`; the pipeline takes the figures
with :func:`take_step_times` when the stage ends. They are timings of this
process only (workers' time shows in the step that waited for them) and, like
every timing, not part of any result.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

_SECONDS: dict[str, float] = {}


@contextmanager
def timed(step: str) -> Iterator[None]:
    """Add the wall seconds spent in the ``with`` block to ``step``."""
    started = time.perf_counter()
    try:
        yield
    finally:
        record_step(step, time.perf_counter() - started)


def record_step(step: str, seconds: float) -> None:
    """Add ``seconds`` measured by the caller to ``step``."""
    _SECONDS[step] = round(_SECONDS.get(step, 0.0) + seconds, 2)


def take_step_times() -> dict[str, float]:
    """The seconds recorded since the last call, by step, in the order the steps first ran; then reset."""
    found = dict(_SECONDS)
    _SECONDS.clear()
    return found
