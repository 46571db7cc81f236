"""The feed's events on the desk's bus: a record changed somewhere, or too much changed to tell."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from giftdesk.core.events import Event


@dataclass(frozen=True)
class ChangeArrived(Event):
    """A record was created, updated or deleted by any process on this database (this one too)."""

    entity: str  # customer, account, key, instance, order, invoice, company, social_profile, setting
    id: Any  # the record's id (a setting's key)
    action: str  # created, updated, deleted
    actor: str
    at: Any  # datetime (UTC)
    seq: int
    here: bool = False  # made by this process (its own events told its views already)


@dataclass(frozen=True)
class ResyncNeeded(Event):
    """Changes were missed (pruned while away): every view reloads what it shows."""

    seq: int
