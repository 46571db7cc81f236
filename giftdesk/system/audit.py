"""The audit log: read-only access to who changed what and when (newest first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from giftdesk.db.models import AuditEntry
from giftdesk.core.errors import ValidationError
from giftdesk.core.context import ServiceContext
from giftdesk.core.search import contains

MAX_LIMIT = 10_000


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    target_type: str | None
    target_id: str | None
    summary: str
    details: Any

    @classmethod
    def of(cls, entry: AuditEntry) -> "AuditRow":
        return cls(entry.id, entry.at, entry.actor, entry.action, entry.target_type, entry.target_id,
                   entry.summary or "", entry.details)

    def to_json(self) -> dict:
        return {"id": self.id, "at": self.at.isoformat(), "actor": self.actor, "action": self.action,
                "targetType": self.target_type, "targetId": self.target_id, "summary": self.summary,
                "details": self.details}


class AuditService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def list(self, limit: int = 200, search: str | None = None) -> list[AuditRow]:
        """The newest ``limit`` entries; ``search`` matches actor, action, summary or target (case-insensitive)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise ValidationError(f"limit must be a whole number from 1 to {MAX_LIMIT}.", field="limit")
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if search and search.strip():
            needle = search.strip().lower()
            query = query.where(or_(
                contains(func.lower(AuditEntry.actor), needle),
                contains(func.lower(AuditEntry.action), needle),
                contains(func.lower(AuditEntry.summary), needle),
                contains(func.lower(AuditEntry.target_type), needle),
                contains(func.lower(AuditEntry.target_id), needle),
            ))
        with self.ctx.db.read_session() as session:
            return [AuditRow.of(e) for e in session.scalars(query)]
