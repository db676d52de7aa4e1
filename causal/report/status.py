"""Stage and output statuses from run_info.json, as the memo uses them.

``run_info["stages"][stage] = {"status": "ok"|"degraded"|"failed"|"skipped",
"reasons": [...], "outputs": {name: {"status", "reason"}}}``. A run written
before statuses were recorded has no ``stages`` key: an output then counts as
usable when its file is present (status ``"unrecorded"``).
"""
from __future__ import annotations

from dataclasses import dataclass

from causal.report.inputs import MemoInputs

USABLE = ("ok", "unrecorded")
DEGENERATE_SHARE = 1e-9  # a rule targeting a share within this of 0 or 1 targets no one or everyone


@dataclass(frozen=True)
class Status:
    """Whether an output may be used for a conclusion, and why not."""

    stage: str
    output: str | None
    status: str  # ok | degraded | failed | skipped | degenerate | missing | unrecorded
    reason: str = ""

    @property
    def usable(self) -> bool:
        return self.status in USABLE

    def sentence(self, what: str) -> str:
        """One plain sentence saying that ``what`` cannot be used, and why."""
        because = f": {self.reason.rstrip('.')}" if self.reason else ""
        word = {"failed": "failed", "skipped": "was skipped", "degenerate": "came out degenerate",
                "degraded": "came out degraded", "missing": "was not produced"}.get(self.status, self.status)
        return f"The {what} {word} in this run{because}, so this memo draws no conclusion from it."


def stage_status(m: MemoInputs, stage: str, output: str | None = None, present: bool = True) -> Status:
    """Status of ``stage`` (or of one of its outputs) recorded in run_info.json.

    Parameters
    ----------
    m : MemoInputs
        The results folder read.
    stage, output : str
        Stage name (``estimate``, ``segments``...) and optional output name
        (``targeting``, ``dollars``, ``segment_effects``, ``marketplace_vs_custom``).
    present : bool
        Whether the output's file was read; decides the status when none is recorded.
    """
    stages = (m.run_info or {}).get("stages")
    if not isinstance(stages, dict) or stage not in stages:
        return Status(stage, output, "unrecorded" if present else "missing",
                      "" if present else "its results file is missing")
    info = stages[stage] if isinstance(stages[stage], dict) else {}
    status = str(info.get("status", "")).lower() or "unrecorded"
    reasons = "; ".join(str(r) for r in info.get("reasons") or [])
    if status in ("failed", "skipped"):
        return Status(stage, output, status, reasons)
    if output is not None:
        found = (info.get("outputs") or {}).get(output)
        if isinstance(found, dict):
            out_status = str(found.get("status", "")).lower() or "unrecorded"
            if out_status != "ok":
                return Status(stage, output, out_status, str(found.get("reason") or reasons))
        elif status != "ok":
            return Status(stage, output, status, reasons)
    if not present:
        return Status(stage, output, "missing", "its results file is missing")
    return Status(stage, output, "ok" if status in ("ok", "degraded") else status, reasons)


def targeting_status(m: MemoInputs) -> Status:
    """The targeting output's status; a rule that targets everyone or no one is degenerate."""
    status = stage_status(m, "segments", "targeting", present=m.targeting is not None)
    if not status.usable:
        return status
    frame = m.targeting
    if "share_targeted" in frame.columns and "strategy" in frame.columns:
        shares = frame.loc[frame["strategy"] == "policy_rule", "share_targeted"].dropna()
        if len(shares) and (shares.max() >= 1 - DEGENERATE_SHARE or shares.min() <= DEGENERATE_SHARE):
            who = "everyone" if shares.max() >= 1 - DEGENERATE_SHARE else "no one"
            return Status("segments", "targeting", "degenerate", f"the rule it learnt targets {who}")
    return status
