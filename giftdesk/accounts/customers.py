"""Customers (the tracker API's users) and their TikTok accounts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from giftdesk.accounts.rows import AccountRow, CustomerRow
from giftdesk.db.models import Customer, TikTokAccount, TrackerCredential, TrackerData
from giftdesk.core.errors import ConflictError, NotFoundError
from giftdesk.core import validation
from giftdesk.core.context import ServiceContext
from giftdesk.db.lookups import account_or_error, customer_or_error
from giftdesk.accounts.events import AccountChanged, CustomerChanged, KeyChanged
from giftdesk.core.search import contains

_UNSET = object()


@dataclass(frozen=True)
class DeleteImpact:
    """What a delete removes, shown in the confirmation before anything happens."""

    customers: int
    accounts: int
    credentials: int
    tracker_documents: int

    def sentence(self) -> str:
        parts = []
        if self.customers:
            parts.append(f"{self.customers} customer")
        parts.append(f"{self.accounts} TikTok account{'s' if self.accounts != 1 else ''}")
        parts.append(f"{self.credentials} API key{'s' if self.credentials != 1 else ''} (trackers using them stop working)")
        parts.append(f"{self.tracker_documents} saved tracker document{'s' if self.tracker_documents != 1 else ''} "
                     "(gift groups, config, analytics)")
        return "This deletes " + ", ".join(parts) + "."

    def to_json(self) -> dict:
        return {"customers": self.customers, "accounts": self.accounts, "credentials": self.credentials,
                "trackerDocuments": self.tracker_documents}


class CustomerService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    # ---- customers -------------------------------------------------------------------------
    def list(self, search: str | None = None) -> list[CustomerRow]:
        """Every customer with its account count; ``search`` matches name, e-mail, company, notes or a handle."""
        account_count = (
            select(func.count(TikTokAccount.id)).where(TikTokAccount.customer_id == Customer.id).scalar_subquery()
        )
        query = select(Customer, account_count).order_by(func.lower(Customer.name), Customer.id)
        if search and search.strip():
            needle = search.strip().lower().removeprefix('@')
            handle_match = select(TikTokAccount.id).where(
                TikTokAccount.customer_id == Customer.id, contains(TikTokAccount.username, needle)
            ).exists()
            query = query.where(
                or_(
                    contains(func.lower(Customer.name), needle),
                    contains(func.lower(Customer.email), needle),
                    contains(func.lower(Customer.company), needle),
                    contains(func.lower(Customer.notes), needle),
                    handle_match,
                )
            )
        with self.ctx.db.read_session() as session:
            return [self._row(c, count) for c, count in session.execute(query)]

    def get(self, customer_id: int) -> CustomerRow:
        with self.ctx.db.read_session() as session:
            customer = session.scalar(
                select(Customer).where(Customer.id == customer_id)
                .options(selectinload(Customer.accounts).selectinload(TikTokAccount.credential),
                         selectinload(Customer.accounts).selectinload(TikTokAccount.legacy))
            )
            if customer is None:
                raise NotFoundError(f"There is no customer with id {customer_id}.")
            accounts = tuple(AccountRow.of(a) for a in sorted(customer.accounts, key=lambda a: a.username))
            return self._row(customer, len(accounts), accounts)

    def create(self, name: str, email: str | None = None, company: str | None = None, notes: str | None = None) -> CustomerRow:
        self.ctx.require("operator", "add customers")
        fields = self._clean(name=name, email=email, company=company, notes=notes)
        with self.ctx.db.session() as session:
            self._check_email_free(session, fields["email"], None)
            customer = Customer(**fields)
            session.add(customer)
            session.flush()
            self.ctx.audit(session, "customer.create", f"Added customer '{customer.name}'", "customer", customer.id,
                           details=fields)
            row = self._row(customer, 0)
        self.ctx.events.publish(CustomerChanged(row.id))
        return row

    def update(self, customer_id: int, *, name=_UNSET, email=_UNSET, company=_UNSET, notes=_UNSET) -> CustomerRow:
        """Changes only the fields given; ``None`` or "" clears an optional field."""
        self.ctx.require("operator", "edit customers")
        given = {k: v for k, v in dict(name=name, email=email, company=company, notes=notes).items() if v is not _UNSET}
        cleaned = self._clean(partial=True, **given)
        with self.ctx.db.session() as session:
            customer = customer_or_error(session, customer_id)
            if "email" in cleaned:
                self._check_email_free(session, cleaned["email"], customer_id)
            before = {k: getattr(customer, k) for k in cleaned}
            for key, value in cleaned.items():
                setattr(customer, key, value)
            changed = {k: v for k, v in cleaned.items() if before[k] != v}
            if changed:
                self.ctx.audit(session, "customer.update", f"Edited customer '{customer.name}': {', '.join(changed)}",
                               "customer", customer.id, details={"before": {k: before[k] for k in changed}, "after": changed})
            session.flush()
            count = session.scalar(select(func.count(TikTokAccount.id)).where(TikTokAccount.customer_id == customer_id))
            row = self._row(customer, count or 0)
        self.ctx.events.publish(CustomerChanged(customer_id))
        return row

    def delete_impact(self, customer_id: int) -> DeleteImpact:
        with self.ctx.db.read_session() as session:
            customer_or_error(session, customer_id)
            account_ids = select(TikTokAccount.id).where(TikTokAccount.customer_id == customer_id)
            return self._impact(session, account_ids, customers=1)

    def delete(self, customer_id: int) -> DeleteImpact:
        """Deletes the customer with its accounts, their API keys and saved tracker data, atomically."""
        self.ctx.require("operator", "delete customers")
        with self.ctx.db.session() as session:
            customer = customer_or_error(session, customer_id)
            account_ids = list(session.scalars(select(TikTokAccount.id).where(TikTokAccount.customer_id == customer_id)))
            impact = self._impact(session, select(TikTokAccount.id).where(TikTokAccount.customer_id == customer_id), 1)
            name = customer.name
            session.delete(customer)
            self.ctx.audit(session, "customer.delete", f"Deleted customer '{name}'. {impact.sentence()}",
                           "customer", customer_id, details=impact.to_json())
        self._forget_keys(account_ids)
        self.ctx.events.publish(CustomerChanged(customer_id))
        for account_id in account_ids:
            self.ctx.events.publish(AccountChanged(account_id, customer_id))
        return impact

    # ---- TikTok accounts -------------------------------------------------------------------
    def list_accounts(self, customer_id: int | None = None) -> list[AccountRow]:
        query = (select(TikTokAccount).options(selectinload(TikTokAccount.credential), selectinload(TikTokAccount.legacy))
                 .order_by(TikTokAccount.username))
        if customer_id is not None:
            query = query.where(TikTokAccount.customer_id == customer_id)
        with self.ctx.db.read_session() as session:
            if customer_id is not None:
                customer_or_error(session, customer_id)
            return [AccountRow.of(a) for a in session.scalars(query)]

    def get_account(self, account_id: int) -> AccountRow:
        with self.ctx.db.read_session() as session:
            return AccountRow.of(account_or_error(session, account_id, with_credential=True))

    def add_account(self, customer_id: int, tiktok_username: str) -> AccountRow:
        self.ctx.require("operator", "add TikTok accounts")
        username = validation.tiktok_username(tiktok_username)
        with self.ctx.db.session() as session:
            account = self._new_account(session, customer_id, username)
            row = AccountRow(account.id, customer_id, username, account.created_at)
        self.ctx.events.publish(AccountChanged(row.id, customer_id))
        return row

    def add_account_with_key(self, customer_id: int, tiktok_username: str,
                             instance_url: str | None = None) -> tuple[AccountRow, str]:
        """The account and its first API key in one transaction: both are created, or neither."""
        from giftdesk.accounts.keys import KeyService

        self.ctx.require("operator", "add TikTok accounts")
        self.ctx.require("operator", "generate API keys")
        username = validation.tiktok_username(tiktok_username)
        instance_url = validation.http_url(instance_url, "instance URL")
        with self.ctx.db.session() as session:
            account = self._new_account(session, customer_id, username)
            api_key = KeyService(self.ctx).issue(session, account, instance_url)
            session.flush()
            row = AccountRow(account.id, customer_id, username, account.created_at, has_key=True,
                             key_status="active", instance_url=instance_url)
        self.ctx.events.publish(AccountChanged(row.id, customer_id))
        self.ctx.events.publish(KeyChanged(row.id, "generated"))
        return row, api_key

    def _new_account(self, session, customer_id: int, username: str) -> TikTokAccount:
        customer = customer_or_error(session, customer_id)
        owner = session.scalar(select(TikTokAccount).where(TikTokAccount.username == username))
        if owner is not None:
            raise ConflictError(f"@{username} is already an account of customer {owner.customer_id}.")
        account = TikTokAccount(customer_id=customer_id, username=username)
        session.add(account)
        session.flush()
        self.ctx.audit(session, "account.create", f"Added @{username} to customer '{customer.name}'",
                       "account", account.id)
        return account

    def account_delete_impact(self, account_id: int) -> DeleteImpact:
        with self.ctx.db.read_session() as session:
            account_or_error(session, account_id, with_credential=True)
            return self._impact(session, select(TikTokAccount.id).where(TikTokAccount.id == account_id), 0)

    def delete_account(self, account_id: int) -> DeleteImpact:
        """Deletes the account with its API key and saved tracker data."""
        self.ctx.require("operator", "delete TikTok accounts")
        with self.ctx.db.session() as session:
            account = account_or_error(session, account_id, with_credential=True)
            impact = self._impact(session, select(TikTokAccount.id).where(TikTokAccount.id == account_id), 0)
            customer_id, username = account.customer_id, account.username
            session.delete(account)
            self.ctx.audit(session, "account.delete", f"Deleted @{username}. {impact.sentence()}",
                           "account", account_id, details=impact.to_json())
        self._forget_keys([account_id])
        self.ctx.events.publish(AccountChanged(account_id, customer_id))
        return impact

    # ---- helpers ---------------------------------------------------------------------------
    def _forget_keys(self, account_ids: list[int]) -> None:
        from giftdesk.accounts.keys import key_secret_name

        for account_id in account_ids:
            self.ctx.secrets.delete(key_secret_name(account_id))

    @staticmethod
    def _impact(session, account_ids, customers: int) -> DeleteImpact:
        accounts = session.scalar(select(func.count()).select_from(account_ids.subquery())) or 0
        credentials = session.scalar(
            select(func.count(TrackerCredential.id)).where(TrackerCredential.account_id.in_(account_ids))
        ) or 0
        documents = session.scalar(
            select(func.count(TrackerData.id)).where(TrackerData.account_id.in_(account_ids))
        ) or 0
        return DeleteImpact(customers, accounts, credentials, documents)

    @staticmethod
    def _clean(partial: bool = False, **given) -> dict:
        cleaned = {}
        if "name" in given or not partial:
            cleaned["name"] = validation.name(given.get("name"), "name", required=True, max_length=200)
        if "email" in given or not partial:
            cleaned["email"] = validation.email(given.get("email"))
        if "company" in given or not partial:
            cleaned["company"] = validation.name(given.get("company"), "company", max_length=200)
        if "notes" in given or not partial:
            cleaned["notes"] = validation.text(given.get("notes"), "notes", max_length=10_000)
        return cleaned

    @staticmethod
    def _check_email_free(session, email: str | None, customer_id: int | None) -> None:
        if not email:
            return
        other = session.scalar(select(Customer).where(Customer.email == email))
        if other is not None and other.id != customer_id:
            raise ConflictError(f"Customer '{other.name}' already uses the e-mail {email}.")



    @staticmethod
    def _row(customer: Customer, count: int, accounts: tuple[AccountRow, ...] | None = None) -> CustomerRow:
        return CustomerRow(customer.id, customer.name, customer.email, customer.company, customer.notes,
                           customer.created_at, customer.updated_at, count, accounts)
