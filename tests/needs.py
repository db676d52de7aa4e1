"""What a test needs from the machine: skipped on a developer's machine, a failure under CI.

CI (``CI=true``, set by the CI runner; ``.ci/run`` installs Chromium and Quarto) must never
pass by skipping: a missing tool or reference file fails the run with one line saying what
is missing and how to get it.
"""
from __future__ import annotations

import os

import pytest


def under_ci() -> bool:
    """True when the tests run under CI (``CI`` set to anything but empty, 0 or false)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def need(present: bool, what: str, how: str) -> None:
    """Skip the test (fail it under CI) unless ``present``.

    Parameters
    ----------
    present : bool
        Whether the tool or file is there.
    what : str
        What is missing, e.g. ``"headless Chromium"``.
    how : str
        How to get it, e.g. ``"apt-get install chromium"``.
    """
    if present:
        return
    message = f"{what} is missing ({how})"
    if under_ci():
        pytest.fail(f"CI needs {message}", pytrace=False)
    pytest.skip(message)
