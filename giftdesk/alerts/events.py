"""The alerts' typed events (on the Desk's bus): the tray, the window and the log follow them."""

from __future__ import annotations

from dataclasses import dataclass

from giftdesk.core.events import Event


@dataclass(frozen=True)
class AlertRaised(Event):
    alert_id: int
    rule_name: str
    kind: str
    subject: str
    message: str


@dataclass(frozen=True)
class AlertResolved(Event):
    alert_id: int
    rule_name: str
    kind: str
    subject: str


@dataclass(frozen=True)
class AlertsChanged(Event):
    """Rules or alerts changed (added, edited, acknowledged, snoozed): views reload."""
