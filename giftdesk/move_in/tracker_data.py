"""Moving in the tracker backend's collections from ``mongoexport`` files: ``TrackerInstance``
(each account's key with its status, instance URL and last access) and ``InstanceData`` (gift
groups, config and analytics documents, kept as they were).

Documents name accounts by their old ObjectId: an account here that carries it (imported from the
instance manager) takes them. An account not here yet is created when its config names its TikTok
handle (one customer per old user id), else its documents are skipped with the reason. Keys keep
their exact string (its digest is stored, the key in the keyring). ``plan`` changes nothing;
``apply`` writes everything in one transaction, and a second run writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from giftdesk.accounts.events import AccountChanged, KeyChanged, TrackerDataSaved
from giftdesk.accounts.keys import key_secret_name
from giftdesk.accounts.tracker_data import ensure_storable, validate_analytics, validate_config_patch, validate_groups
from giftdesk.core import validation
from giftdesk.core.errors import ValidationError
from giftdesk.db.credentials import digest_key, renew_credentials_generation
from giftdesk.db.models import TRACKER_DATA_TYPES, AccountLegacyId, Customer, TikTokAccount, TrackerCredential, TrackerData
from giftdesk.db.types import utcnow
from giftdesk.move_in.mongoexport import read_export

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
CREATE, UPDATE, UNCHANGED, SKIP = "create", "update", "unchanged", "skip"
STATUSES = ("active", "inactive")


@dataclass(frozen=True)
class KeyPlan:
    legacy_account_id: str
    outcome: str
    reason: str = ""
    account_id: int | None = None
    status: str | None = None
    instance_url: str | None = None
    last_accessed_at: datetime | None = None
    api_key: str = field(default="", repr=False)

    def to_json(self) -> dict:
        return {"legacyAccountId": self.legacy_account_id, "outcome": self.outcome, "reason": self.reason or None,
                "accountId": self.account_id, "status": self.status, "instanceUrl": self.instance_url,
                "lastAccessedAt": self.last_accessed_at.isoformat() if self.last_accessed_at else None}


@dataclass(frozen=True)
class DocumentPlan:
    legacy_account_id: str
    data_type: str
    outcome: str
    reason: str = ""
    account_id: int | None = None
    data: Any = field(default=None, repr=False)

    def to_json(self) -> dict:
        return {"legacyAccountId": self.legacy_account_id, "dataType": self.data_type, "outcome": self.outcome,
                "reason": self.reason or None, "accountId": self.account_id}


@dataclass(frozen=True)
class NewAccount:
    legacy_account_id: str
    username: str
    legacy_user_id: str | None


@dataclass(frozen=True)
class TrackerDataPlan:
    instances_path: str
    data_path: str
    keys: list[KeyPlan]
    documents: list[DocumentPlan]
    new_accounts: list[NewAccount]
    applied: bool = False

    @property
    def changes_anything(self) -> bool:
        return bool(self.new_accounts) or any(p.outcome in (CREATE, UPDATE) for p in [*self.keys, *self.documents])

    def summary(self) -> str:
        if not self.changes_anything:
            skipped = sum(1 for p in [*self.keys, *self.documents] if p.outcome == SKIP)
            return "Nothing to import: every key and document is here already" + (
                f" ({skipped} skipped, see why above)." if skipped else ".")

        def count(items, outcome):
            return sum(1 for p in items if p.outcome == outcome)

        verb = "Imported" if self.applied else "Would import"
        return (f"{verb} {count(self.keys, CREATE)} new and {count(self.keys, UPDATE)} changed keys, "
                f"{count(self.documents, CREATE)} new and {count(self.documents, UPDATE)} changed documents, "
                f"{len(self.new_accounts)} new accounts; {count(self.keys, SKIP) + count(self.documents, SKIP)} "
                "skipped.")

    def to_json(self) -> dict:
        return {"instances": self.instances_path, "data": self.data_path, "applied": self.applied,
                "changes": self.changes_anything, "keys": [k.to_json() for k in self.keys],
                "documents": [d.to_json() for d in self.documents],
                "newAccounts": [{"legacyAccountId": a.legacy_account_id, "tiktokUsername": f"@{a.username}"}
                                for a in self.new_accounts],
                "summary": self.summary()}


class TrackerDataImport:
    """The tracker backend's keys and documents moved into a desk (an operator's job)."""

    def __init__(self, desk):
        self.desk = desk
        self.ctx = desk.ctx

    def plan(self, instances_path: str | Path, data_path: str | Path) -> TrackerDataPlan:
        self.ctx.require("operator", "import tracker data")
        return self._plan(instances_path, data_path)

    def _plan(self, instances_path, data_path) -> TrackerDataPlan:
        key_docs = read_export(instances_path)
        data_docs = read_export(data_path)
        with self.ctx.db.read_session() as session:
            known = dict(session.execute(select(AccountLegacyId.legacy_id, AccountLegacyId.account_id)).all())
            new_accounts = self._new_accounts(session, key_docs, data_docs, known)
            creating = {a.legacy_account_id for a in new_accounts}
            keys = _once([self._plan_key(session, doc, known, creating) for doc in key_docs],
                         lambda p: p.legacy_account_id)
            documents = _once([self._plan_document(session, doc, known, creating) for doc in data_docs],
                              lambda p: (p.legacy_account_id, p.data_type))
        return TrackerDataPlan(str(instances_path), str(data_path), keys, documents, new_accounts)

    def _new_accounts(self, session, key_docs, data_docs, known) -> list[NewAccount]:
        """Accounts not here yet whose config names their handle (and whose handle is free)."""
        users = {_oid(d.get("accountId")): _oid(d.get("userId")) for d in key_docs}
        found: dict[str, NewAccount] = {}
        for doc in data_docs:
            old_id = _oid(doc.get("accountId"))
            data = doc.get("data")
            if doc.get("dataType") != "config" or not old_id or old_id in known or not isinstance(data, dict):
                continue
            try:
                username = validation.tiktok_username(str(data.get("tiktokUsername") or ""))
            except ValidationError:
                continue
            if session.scalar(select(TikTokAccount.id).where(TikTokAccount.username == username)) is None and \
                    username not in {a.username for a in found.values()}:
                found[old_id] = NewAccount(old_id, username, users.get(old_id))
        return list(found.values())

    def _plan_key(self, session, doc: dict, known: dict, creating: set) -> KeyPlan:
        old_id = _oid(doc.get("accountId"))
        plan = KeyPlan(old_id or str(doc.get("accountId")), SKIP)
        if not old_id:
            return replace(plan, reason="its accountId is not an ObjectId")
        api_key, status = doc.get("apiKey"), doc.get("status") or "active"
        if not isinstance(api_key, str) or not api_key.strip():
            return replace(plan, reason="it has no apiKey")
        if status not in STATUSES:
            return replace(plan, reason=f"its status '{status}' is neither active nor inactive")
        try:
            url = validation.http_url(doc.get("instanceUrl") or None, "instanceUrl")
        except ValidationError as exc:
            return replace(plan, reason=str(exc))
        accessed = doc.get("lastAccessedAt") if isinstance(doc.get("lastAccessedAt"), datetime) else None
        plan = replace(plan, status=status, instance_url=url, last_accessed_at=accessed, api_key=api_key)
        account_id = known.get(old_id)
        digest = digest_key(api_key)
        owner = session.scalar(select(TrackerCredential.account_id).where(TrackerCredential.api_key_sha256 == digest))
        if account_id is None:
            if old_id not in creating:
                return replace(plan, reason=f"no account here has the old id {old_id} (import the instance manager "
                                            "first, or export its config with its tiktokUsername)")
            if owner is not None:
                return replace(plan, reason=f"its API key is account {owner}'s here")
            return replace(plan, outcome=CREATE)
        plan = replace(plan, account_id=account_id)
        stored = session.scalar(select(TrackerCredential).where(TrackerCredential.account_id == account_id))
        if stored is None:
            if owner is not None:
                return replace(plan, reason=f"its API key is account {owner}'s here")
            return replace(plan, outcome=CREATE)
        if stored.api_key_sha256 != digest:
            return replace(plan, reason=f"account {account_id} has another API key here (its tracker uses that one)")
        newer_access = accessed is not None and (stored.last_accessed_at is None or stored.last_accessed_at < accessed)
        if stored.status != status or (url and stored.instance_url != url) or newer_access:
            return replace(plan, outcome=UPDATE)
        return replace(plan, outcome=UNCHANGED)

    def _plan_document(self, session, doc: dict, known: dict, creating: set) -> DocumentPlan:
        old_id = _oid(doc.get("accountId"))
        data_type = str(doc.get("dataType") or "")
        plan = DocumentPlan(old_id or str(doc.get("accountId")), data_type, SKIP)
        if not old_id:
            return replace(plan, reason="its accountId is not an ObjectId")
        if data_type not in TRACKER_DATA_TYPES:
            return replace(plan, reason=f"its dataType '{data_type}' is not one of {', '.join(TRACKER_DATA_TYPES)}")
        try:
            data = _checked(data_type, _plain(doc.get("data")))
        except ValidationError as exc:
            return replace(plan, reason=f"its data is refused: {exc}")
        plan = replace(plan, data=data)
        account_id = known.get(old_id)
        if account_id is None:
            if old_id in creating:
                return replace(plan, outcome=CREATE)
            return replace(plan, reason=f"no account here has the old id {old_id} (import the instance manager first)")
        plan = replace(plan, account_id=account_id)
        stored = session.execute(select(TrackerData.data, TrackerData.updated_at).where(
            TrackerData.account_id == account_id, TrackerData.data_type == data_type)).first()
        if stored is None:
            return replace(plan, outcome=CREATE)
        if stored.data == data:
            return replace(plan, outcome=UNCHANGED)
        exported = doc.get("updatedAt") if isinstance(doc.get("updatedAt"), datetime) else None
        if exported is None or stored.updated_at > exported:
            # A tracker (or a person) saved it here after the export was taken: theirs is kept.
            return replace(plan, reason="kept: saved here after the export was taken")
        return replace(plan, outcome=UPDATE)

    # ---- the import -------------------------------------------------------------------------------
    def apply(self, instances_path: str | Path, data_path: str | Path) -> TrackerDataPlan:
        self.ctx.require("operator", "import tracker data")
        plan = self._plan(instances_path, data_path)
        if not plan.changes_anything:
            return plan
        written: list[str] = []
        saved: list[tuple[int, str]] = []
        keyed: list[int] = []
        made: list[tuple[int, int]] = []
        try:
            with self.ctx.db.session() as session:
                accounts = self._write_accounts(session, plan.new_accounts, made)
                for item in plan.keys:
                    if item.outcome in (CREATE, UPDATE):
                        keyed.append(self._write_key(session, item, item.account_id or accounts[item.legacy_account_id],
                                                     written))
                for item in plan.documents:
                    if item.outcome in (CREATE, UPDATE):
                        account_id = item.account_id or accounts[item.legacy_account_id]
                        self._write_document(session, account_id, item)
                        saved.append((account_id, item.data_type))
                renew_credentials_generation(session)
                self.ctx.audit(session, "move_in.tracker_data", plan.summary().replace("Would import", "Imported"),
                               "import", None, details={**plan.to_json(), "applied": True})
        except BaseException:
            for name in written:
                try:
                    self.ctx.secrets.delete(name)
                except Exception:
                    pass
            raise
        for account_id, customer_id in made:
            self.ctx.events.publish(AccountChanged(account_id, customer_id))
        for account_id in keyed:
            self.ctx.events.publish(KeyChanged(account_id, "changed"))
        for account_id, data_type in saved:
            self.ctx.events.publish(TrackerDataSaved(account_id, data_type, "console"))
        return replace(plan, applied=True)

    def _write_accounts(self, session, new_accounts: list[NewAccount], made: list) -> dict[str, int]:
        customers: dict[str | None, Customer] = {}
        ids = {}
        for item in new_accounts:
            customer = customers.get(item.legacy_user_id) if item.legacy_user_id else None
            if customer is None:
                customer = Customer(name=f"@{item.username}", notes="Moved in from the tracker backend"
                                    + (f" (user {item.legacy_user_id})." if item.legacy_user_id else "."))
                session.add(customer)
                session.flush()
                customers[item.legacy_user_id] = customer
            account = TikTokAccount(customer_id=customer.id, username=item.username)
            session.add(account)
            session.flush()
            session.add(AccountLegacyId(account_id=account.id, legacy_id=item.legacy_account_id))
            self.ctx.audit(session, "account.create", f"Added @{item.username} (moved in from the tracker backend, "
                           f"old id {item.legacy_account_id})", "account", account.id)
            ids[item.legacy_account_id] = account.id
            made.append((account.id, customer.id))
        return ids

    def _write_key(self, session, item: KeyPlan, account_id: int, written: list[str]) -> int:
        stored = session.scalar(select(TrackerCredential).where(TrackerCredential.account_id == account_id))
        if stored is None:
            session.add(TrackerCredential(account_id=account_id, api_key_sha256=digest_key(item.api_key),
                                          key_hint=item.api_key[-4:], instance_url=item.instance_url,
                                          status=item.status, last_accessed_at=item.last_accessed_at))
            self.ctx.secrets.set(key_secret_name(account_id), item.api_key)
            written.append(key_secret_name(account_id))
            summary = f"Kept the API key of account {account_id} from the tracker backend ({item.status})"
        else:
            stored.status = item.status
            if item.instance_url:
                stored.instance_url = item.instance_url
            if item.last_accessed_at and (stored.last_accessed_at is None
                                          or stored.last_accessed_at < item.last_accessed_at):
                stored.last_accessed_at = item.last_accessed_at
            summary = f"Took the status, instance URL and last access of account {account_id}'s key from the tracker backend"
        self.ctx.audit(session, "key.import", summary, "account", account_id)
        return account_id

    def _write_document(self, session, account_id: int, item: DocumentPlan) -> None:
        stored = session.scalar(select(TrackerData).where(TrackerData.account_id == account_id,
                                                          TrackerData.data_type == item.data_type))
        now = utcnow()  # a serve elsewhere drops its cached copy by this stamp
        if stored is None:
            session.add(TrackerData(account_id=account_id, data_type=item.data_type, data=item.data,
                                    created_at=now, updated_at=now))
        else:
            stored.data, stored.updated_at = item.data, now
        self.ctx.audit(session, f"tracker_data.{item.data_type}", f"Imported the {item.data_type} of account "
                       f"{account_id} from the tracker backend", "account", account_id)


def _once(plans: list, key) -> list:
    """The first of several documents for the same account (and type) goes in; the others are skipped."""
    seen, kept = set(), []
    for plan in plans:
        if plan.outcome in (CREATE, UPDATE, UNCHANGED):
            if key(plan) in seen:
                plan = replace(plan, outcome=SKIP, reason="listed twice in the export; the first one is taken")
            seen.add(key(plan))
        kept.append(plan)
    return kept


def _oid(value: Any) -> str | None:
    """An ObjectId as mongoexport gives it (read_export makes ``{"$oid"}`` a lower-case string)."""
    if isinstance(value, str) and OBJECT_ID.match(value.lower()):
        return value.lower()
    return None


def _plain(value: Any) -> Any:
    """Tracker documents as JSON holds them: exact decimals become whole numbers or floats (they
    are gift ids, goals and settings, never money), dates their ISO text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value.is_finite() and value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _checked(data_type: str, data: Any) -> Any:
    if data_type == "gift-groups":
        return ensure_storable(validate_groups(data, "data"))
    if data_type == "config":
        return ensure_storable(validate_config_patch(data))
    return ensure_storable(validate_analytics(data))
