"""Which instance actions apply to a selection, and why not (Qt-free: the GUI's tool bar, row menu
and shortcuts ask here, and the tests check it without a display).

An action applies to a selection when it applies to at least one selected instance; a bulk action
then acts on those and reports the others as skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# States in which a container process exists to stop or restart; a Swarm service's task that is
# meant to run (still placing, starting, or refused by the nodes) is stopped by scaling it to 0.
ACTIVE_STATES = frozenset({"running", "restarting", "paused", "pending", "starting", "rejected", "failed"})
# No container to act on: only recreate (or delete) helps.
GONE_STATES = frozenset({"missing"})
LIFECYCLE = ("start", "stop", "restart")
ALWAYS = ("delete", "recreate")  # whatever the state
LIVE = ("connect", "disconnect")  # talk to a running tracker


@dataclass(frozen=True)
class Target:
    """What the rules need of one instance."""

    id: int
    name: str
    state: str


@dataclass(frozen=True)
class Applicability:
    action: str
    applies: tuple[Target, ...]
    skipped: tuple[Target, ...]
    reason: str = ""  # why the action is disabled ("" when it applies)

    @property
    def enabled(self) -> bool:
        return bool(self.applies)

    @property
    def ids(self) -> list[int]:
        return [t.id for t in self.applies]

    def skipped_text(self) -> str:
        """'1 skipped (web-1 already runs)'; '' when none is skipped."""
        if not self.skipped:
            return ""
        names = ", ".join(t.name for t in self.skipped[:3]) + ("…" if len(self.skipped) > 3 else "")
        return f"{len(self.skipped)} skipped ({names}: {_SKIP_WHY[self.action]})"


_SKIP_WHY = {"start": "already running", "stop": "not running", "restart": "not running",
             "connect": "not running", "disconnect": "not running", "delete": "", "recreate": ""}


def _applies(action: str, state: str) -> bool:
    if action == "start":
        return state not in ACTIVE_STATES and state not in GONE_STATES
    if action in ("stop", "restart"):
        return state in ACTIVE_STATES
    if action in LIVE:
        return state == "running"
    return True


def _reason(action: str, targets: tuple[Target, ...]) -> str:
    one = targets[0].name if len(targets) == 1 else None
    gone = all(t.state in GONE_STATES for t in targets)
    if gone:
        return (f"Nothing to {action}: the container of {one} is missing (Recreate makes a new one)" if one
                else f"Nothing to {action}: the selected instances' containers are missing (Recreate makes new ones)")
    if action == "start":
        return f"Nothing to start: {one} already runs" if one else "Nothing to start: every selected instance runs"
    verb = {"stop": "stop", "restart": "restart", "connect": "connect", "disconnect": "disconnect"}[action]
    return f"Nothing to {verb}: {one} is not running" if one else f"Nothing to {verb}: no selected instance runs"


def applicability(action: str, targets: Iterable[Target], *, may_operate: bool = True) -> Applicability:
    """What ``action`` would act on among ``targets``; disabled ones carry a sentence saying why."""
    targets = tuple(targets)
    if not targets:
        return Applicability(action, (), (), "Select one or more instances first")
    if not may_operate:
        return Applicability(action, (), targets, f"Viewers cannot {action} instances")
    applies = tuple(t for t in targets if _applies(action, t.state))
    skipped = tuple(t for t in targets if not _applies(action, t.state))
    return Applicability(action, applies, skipped, "" if applies else _reason(action, targets))


def instance_actions(targets: Iterable[Target], *, may_operate: bool = True) -> dict[str, Applicability]:
    targets = tuple(targets)
    return {action: applicability(action, targets, may_operate=may_operate) for action in LIFECYCLE + ALWAYS + LIVE}
