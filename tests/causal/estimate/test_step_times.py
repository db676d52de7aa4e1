"""The step timer: seconds add up per step and are taken once."""
from __future__ import annotations

import time

from causal.estimate.step_times import take_step_times, timed


def test_steps_add_up_and_are_taken_once():
    take_step_times()
    with timed("fit"):
        time.sleep(0.02)
    with timed("write"):
        pass
    with timed("fit"):
        time.sleep(0.02)
    steps = take_step_times()
    assert list(steps) == ["fit", "write"]
    assert steps["fit"] >= 0.04 and steps["write"] < steps["fit"]
    assert take_step_times() == {}


def test_a_failing_step_is_still_timed():
    take_step_times()
    try:
        with timed("broken"):
            raise ValueError("boom")
    except ValueError:
        pass
    assert "broken" in take_step_times()
