"""Operations: what a front end asks the services to do, defined once per feature.

An ``Operation`` names the work, says which lane it runs on and what the busy indicator says while
it runs, and (when it destroys something) what to ask first. The window's call sites name the
operation (``runner.run(DELETE, fleet.delete, id, target=id)``) instead of spelling lane keys and
sentences each time, so two call sites that act on the same order or container always share a
lane, and the CLI can ask the same question before it acts.

Lanes: jobs on the same lane run in submission order, one at a time. A per-target lane is
``(family, target id)``: everything done to one container (start, edit, stop) queues behind what
is already running on it, while other containers go ahead. A lane with ``per_target=False`` is one
queue for the whole family (two Fampage syncs never overlap).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Operation:
    name: str
    #: What runs, as the busy indicator says it: "Saving" → "Saving web-1…" (or "Saving…").
    description: str
    #: The lane family; None runs the job on no lane (in parallel with anything).
    lane: str | None = None
    per_target: bool = True
    #: The question asked before the operation runs, a format string over the caller's fields.
    confirm: str | None = None

    def lane_key(self, target: Any = None) -> Hashable | None:
        if self.lane is None:
            return None
        if not self.per_target:
            return self.lane
        if target is None:
            raise ValueError(f"operation {self.name} runs on its target's lane: name the target")
        return (self.lane, target)

    def describe(self, subject: str = "") -> str:
        return f"{self.description} {subject}…" if subject else f"{self.description}…"

    def run_and_wait(self, executor, fn, *args: Any, target: Any = None, subject: str = "", **kwargs: Any) -> Any:
        """Runs ``fn`` as this operation on ``executor``'s lanes (``runtime.lanes.LaneExecutor``) and
        waits: the background's own work (schedules) queues behind what a person started on the same
        container or order, in the same process. Raises what ``fn`` raised."""
        job = executor.submit(fn, *args, lane=self.lane_key(target), description=self.describe(subject), **kwargs)
        job.wait()
        if job.error is not None:
            raise job.error
        return job.result

    def confirmation(self, **fields: Any) -> str:
        if self.confirm is None:
            raise ValueError(f"operation {self.name} asks nothing before it runs")
        return self.confirm.format(**fields)
