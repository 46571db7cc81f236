"""What every service needs: the database, the secret store, the event bus and who is acting."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from giftdesk.core.errors import PermissionDeniedError
from giftdesk.core.events import EventBus
from giftdesk.core.secrets import SecretStore

if TYPE_CHECKING:  # db/ builds on core/ (its errors and storage checks), so core names it for typing only
    from sqlalchemy.orm import Session

    from giftdesk.db import Database

# session.info key naming who acts in a write transaction (the change log records it).
ACTOR_KEY = "giftdesk_actor"
_ROLE_RANK = {"viewer": 0, "operator": 1, "admin": 2}


@dataclass(frozen=True)
class Actor:
    """Who is acting. The CLI acts as the owner of the data directory, with the admin role."""

    username: str
    role: str = "admin"
    admin_id: int | None = None

    def can(self, role: str) -> bool:
        return _ROLE_RANK[self.role] >= _ROLE_RANK[role]


@dataclass
class ServiceContext:
    db: Database
    secrets: SecretStore
    events: EventBus
    actor: Actor

    def __post_init__(self) -> None:
        # The services' writes carry who made them into the change log (db/change_log.py).
        acting_as = getattr(self.db, "acting_as", None)
        if acting_as is not None:
            self.db = acting_as(self.actor.username)

    def require(self, role: str, doing: str) -> None:
        """Roles are enforced here, in the service layer, whatever front end calls."""
        if not self.actor.can(role):
            raise PermissionDeniedError(
                f"{self.actor.username} is a {self.actor.role} and cannot {doing}; this needs the {role} role."
            )

    def audit(
        self,
        session: Session,
        action: str,
        summary: str,
        target_type: str | None = None,
        target_id: Any = None,
        details: dict | None = None,
    ) -> None:
        """Written in the caller's transaction: the change and its audit entry commit together."""
        session.info[ACTOR_KEY] = self.actor.username
        self.db.add_audit_entry(
            session,
            actor=self.actor.username,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            summary=summary,
            details=details,
        )
