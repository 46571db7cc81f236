"""What every tab and dialog is handed: the logged-in Desk, the job runner and the event bridge."""

from __future__ import annotations

from dataclasses import dataclass

from giftdesk.desk import Desk
from giftdesk.gui.bridge import EventBridge
from giftdesk.gui.errors import ErrorRoute
from giftdesk.gui.jobs import JobRunner


@dataclass
class GuiContext:
    desk: Desk  # bound to the logged-in administrator: roles are enforced by its services
    runner: JobRunner
    bridge: EventBridge

    def report(self, exc: BaseException) -> None:
        ErrorRoute.report(exc)

    @property
    def can_edit(self) -> bool:
        """Whether to enable editing controls; the services enforce roles regardless."""
        return self.desk.actor.can("operator")

    @classmethod
    def create(cls, desk: Desk) -> "GuiContext":
        return cls(desk, JobRunner(ErrorRoute.report), EventBridge(desk.events))

    def close(self) -> None:
        self.runner.shutdown()
        self.bridge.close()
