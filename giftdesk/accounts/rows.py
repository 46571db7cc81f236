"""The rows the customer views and commands show: plain data, importable without the ORM (the
window's first customer list is read before SQLAlchemy is loaded, ``first_list``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from giftdesk.core.clock import iso

if TYPE_CHECKING:
    from giftdesk.db.models import TikTokAccount


@dataclass(frozen=True)
class AccountRow:
    id: int
    customer_id: int
    username: str
    created_at: datetime
    has_key: bool = False
    key_status: str | None = None
    instance_url: str | None = None
    last_accessed_at: datetime | None = None
    legacy_id: str | None = None  # its id where it was imported from; trackers may call with either

    @property
    def handle(self) -> str:
        return f"@{self.username}"

    @classmethod
    def of(cls, account: TikTokAccount) -> "AccountRow":
        cred = account.credential
        return cls(
            account.id, account.customer_id, account.username, account.created_at,
            has_key=cred is not None,
            key_status=cred.status if cred else None,
            instance_url=cred.instance_url if cred else None,
            last_accessed_at=cred.last_accessed_at if cred else None,
            legacy_id=account.legacy_id,
        )

    def to_json(self) -> dict:
        return {
            "id": self.id, "customerId": self.customer_id, "tiktokUsername": self.handle,
            "createdAt": iso(self.created_at), "hasKey": self.has_key, "status": self.key_status,
            "instanceUrl": self.instance_url, "lastAccessedAt": iso(self.last_accessed_at),
            "legacyId": self.legacy_id,
        }


@dataclass(frozen=True)
class CustomerRow:
    id: int
    name: str
    email: str | None
    company: str | None
    notes: str | None
    created_at: datetime
    updated_at: datetime
    account_count: int = 0
    # Loaded by ``get`` only; ``None`` when not loaded (lists), so JSON never shows a false empty list.
    accounts: tuple[AccountRow, ...] | None = None

    def to_json(self) -> dict:
        data = {
            "id": self.id, "name": self.name, "email": self.email, "company": self.company, "notes": self.notes,
            "createdAt": iso(self.created_at), "updatedAt": iso(self.updated_at), "accountCount": self.account_count,
        }
        if self.accounts is not None:
            data["accounts"] = [a.to_json() for a in self.accounts]
        return data
