"""Tracker credentials (the tracker API's TrackerInstance): one API key per TikTok account.

The database keeps a SHA-256 digest of each key (unique, and enough to authenticate); the key
itself is kept in the secret store so it can be shown, copied and handed to the container.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from giftdesk.db.credentials import digest_key
from giftdesk.db.models import Customer, TikTokAccount, TrackerCredential
from giftdesk.db.types import utcnow
from giftdesk.core.errors import ConflictError, NotFoundError, ValidationError
from giftdesk.core import validation
from giftdesk.core.context import ServiceContext
from giftdesk.db.lookups import account_or_error
from giftdesk.accounts.events import KeyChanged
from giftdesk.core.search import contains


def key_secret_name(account_id: int) -> str:
    return f"tracker-key/{account_id}"


def new_api_key() -> str:
    return str(uuid.uuid4())  # UUID format, as trackers expect; 122 random bits


def mask_key(hint: str) -> str:
    return f"••••••••-••••-••••-••••-••••••••{hint}"


@dataclass(frozen=True)
class KeyRow:
    account_id: int
    customer_id: int
    customer_name: str
    tiktok_username: str
    key_hint: str
    instance_url: str | None
    status: str
    last_accessed_at: datetime | None
    key_generated_at: datetime
    updated_at: datetime

    @property
    def masked_key(self) -> str:
        return mask_key(self.key_hint)

    def to_json(self, api_key: str | None = None) -> dict:
        data = {
            "accountId": self.account_id, "customerId": self.customer_id, "customerName": self.customer_name,
            "tiktokUsername": f"@{self.tiktok_username}", "apiKeyMasked": self.masked_key,
            "instanceUrl": self.instance_url, "status": self.status,
            "lastAccessedAt": self.last_accessed_at.isoformat() if self.last_accessed_at else None,
            "keyGeneratedAt": self.key_generated_at.isoformat(), "updatedAt": self.updated_at.isoformat(),
        }
        if api_key is not None:
            data["apiKey"] = api_key
        return data


class KeyService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def list(self, search: str | None = None, status: str | None = None) -> list[KeyRow]:
        query = (
            select(TrackerCredential, TikTokAccount.username, TikTokAccount.customer_id, Customer.name)
            .join(TikTokAccount, TrackerCredential.account_id == TikTokAccount.id)
            .join(Customer, TikTokAccount.customer_id == Customer.id)
            .order_by(func.lower(Customer.name), TikTokAccount.username)
        )
        if status:
            query = query.where(TrackerCredential.status == status)
        if search and search.strip():
            needle = search.strip().lower().removeprefix('@')
            query = query.where(or_(
                contains(TikTokAccount.username, needle), contains(func.lower(Customer.name), needle),
                contains(func.lower(TrackerCredential.instance_url), needle),
            ))
        with self.ctx.db.read_session() as session:
            return [self._row(cred, username, customer_id, name)
                    for cred, username, customer_id, name in session.execute(query)]

    def get(self, account_id: int) -> KeyRow:
        query = (
            select(TrackerCredential, TikTokAccount.username, TikTokAccount.customer_id, Customer.name)
            .join(TikTokAccount, TrackerCredential.account_id == TikTokAccount.id)
            .join(Customer, TikTokAccount.customer_id == Customer.id)
            .where(TrackerCredential.account_id == account_id)
        )
        with self.ctx.db.read_session() as session:
            found = session.execute(query).first()
            if found is None:
                account_or_error(session, account_id)
                raise NotFoundError(f"Account {account_id} has no API key yet; generate one first.")
            return self._row(*found)

    def reveal(self, account_id: int) -> str:
        """The key itself, from the secret store. Audited: showing a key is an access to a secret."""
        self.ctx.require("operator", "show API keys")
        self.get(account_id)
        key = self.ctx.secrets.get(key_secret_name(account_id))
        if key is None:
            raise NotFoundError(
                f"The API key of account {account_id} is not in the keyring ({self.ctx.secrets.backend_name}); "
                "regenerate it to issue a new one."
            )
        with self.ctx.db.session() as session:
            self.ctx.audit(session, "key.reveal", f"Showed the API key of account {account_id}", "account", account_id)
        return key

    def generate(self, account_id: int, instance_url: str | None = None) -> str:
        """Issues the first key of an account. Refuses when one exists: that is a regenerate."""
        self.ctx.require("operator", "generate API keys")
        instance_url = validation.http_url(instance_url, "instance URL")
        with self.ctx.db.session() as session:
            api_key = self.issue(session, account_or_error(session, account_id), instance_url)
        self.ctx.events.publish(KeyChanged(account_id, "generated"))
        return api_key

    def issue(self, session, account: TikTokAccount, instance_url: str | None) -> str:
        """The first key of ``account`` inside the caller's transaction (``instance_url`` already validated)."""
        if session.scalar(select(TrackerCredential.id).where(TrackerCredential.account_id == account.id)):
            raise ConflictError(f"@{account.username} already has an API key; regenerate it to replace it.")
        api_key = new_api_key()
        session.add(TrackerCredential(account_id=account.id, api_key_sha256=digest_key(api_key),
                                      key_hint=api_key[-4:], instance_url=instance_url, status="active"))
        # Secret first, inside the transaction: if the keyring fails, nothing is committed.
        self.ctx.secrets.set(key_secret_name(account.id), api_key)
        self.ctx.audit(session, "key.generate", f"Generated an API key for @{account.username}", "account", account.id)
        return api_key

    def regenerate(self, account_id: int) -> str:
        """Replaces the key; the old one stops working as soon as this returns."""
        self.ctx.require("operator", "regenerate API keys")
        api_key = new_api_key()
        with self.ctx.db.session() as session:
            cred, account = self._credential(session, account_id)
            cred.api_key_sha256 = digest_key(api_key)
            cred.key_hint = api_key[-4:]
            cred.key_generated_at = utcnow()
            self.ctx.secrets.set(key_secret_name(account_id), api_key)
            self.ctx.audit(session, "key.regenerate", f"Regenerated the API key of @{account.username}", "account", account_id)
        self.ctx.events.publish(KeyChanged(account_id, "regenerated"))
        return api_key

    def set_active(self, account_id: int, active: bool) -> KeyRow:
        self.ctx.require("operator", "activate or deactivate API keys")
        status = "active" if active else "inactive"
        with self.ctx.db.session() as session:
            cred, account = self._credential(session, account_id)
            changed = cred.status != status
            cred.status = status
            if changed:
                verb = "Activated" if active else "Deactivated"
                self.ctx.audit(session, f"key.{'activate' if active else 'deactivate'}",
                               f"{verb} the API key of @{account.username}", "account", account_id)
        if changed:
            self.ctx.events.publish(KeyChanged(account_id, "activated" if active else "deactivated"))
        return self.get(account_id)

    def set_instance_url(self, account_id: int, url: str | None) -> KeyRow:
        self.ctx.require("operator", "edit instance URLs")
        url = validation.http_url(url, "instance URL")
        with self.ctx.db.session() as session:
            cred, account = self._credential(session, account_id)
            before = cred.instance_url
            cred.instance_url = url
            if before != url:
                self.ctx.audit(session, "key.instance_url", f"Set the instance URL of @{account.username} to {url or '(none)'}",
                               "account", account_id, details={"before": before, "after": url})
        self.ctx.events.publish(KeyChanged(account_id, "url"))
        return self.get(account_id)

    def tracker_environment(self, account_id: int, backend_api_url: str) -> dict[str, str]:
        """The variables a tracker container gets from this account (its instance adds the rest); holds the key, so it is audited."""
        self.ctx.require("operator", "read a tracker's environment")
        # a line break would hand the container a second variable (an address stored by an older version)
        validation.single_line(backend_api_url, "The backend API URL")
        if not backend_api_url.rstrip("/").endswith("/api/instances"):
            raise ValidationError("The backend API URL must end in /api/instances.", field="backend_api_url")
        row = self.get(account_id)
        if row.status != "active":
            raise ConflictError(f"The API key of @{row.tiktok_username} is deactivated; activate it first.")
        api_key = self.ctx.secrets.get(key_secret_name(account_id))
        if api_key is None:
            raise NotFoundError(f"The API key of account {account_id} is missing from the keyring; regenerate it.")
        with self.ctx.db.session() as session:
            self.ctx.audit(session, "key.environment", f"Read the tracker environment of @{row.tiktok_username}",
                           "account", account_id)
        return {
            "API_KEY": api_key,
            "ACCOUNT_ID": str(account_id),
            "TIKTOK_USERNAME": row.tiktok_username,
            "BACKEND_API_URL": backend_api_url.rstrip("/"),
        }

    # ---- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _row(cred: TrackerCredential, username: str, customer_id: int, customer_name: str) -> KeyRow:
        return KeyRow(cred.account_id, customer_id, customer_name, username, cred.key_hint, cred.instance_url,
                      cred.status, cred.last_accessed_at, cred.key_generated_at, cred.updated_at)


    def _credential(self, session, account_id: int) -> tuple[TrackerCredential, TikTokAccount]:
        account = account_or_error(session, account_id)
        cred = session.scalar(select(TrackerCredential).where(TrackerCredential.account_id == account_id))
        if cred is None:
            raise NotFoundError(f"@{account.username} has no API key yet; generate one first.")
        return cred, account
