"""The Fampage connection: client set-up, the services catalogue, the balance and the call log.

Base URL and key come from ``FAMPAGE_BASE_URL`` / ``FAMPAGE_API_KEY`` when set (a server set up by
environment, as the original deployment does), else from Settings (the key from the keyring). The HTTP client is the
runtime's when it hands one over (``use_http``), else one of our own, created on first use.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import delete, func, or_, select

from giftdesk.core.clock import iso
from giftdesk.db.fampage_models import FampageCall, FampageServiceRate
from giftdesk.db.fampage_models import FampageService as CatalogueEntry
from giftdesk.db.types import utcnow
from giftdesk.core.errors import NotFoundError, ValidationError
from giftdesk.fampage.client import Balance, CallRecord, FampageClient, require_key
from giftdesk.fampage.events import BalanceChanged, CatalogueRefreshed
from giftdesk.core.context import ServiceContext
from giftdesk.core.secrets import FAMPAGE_API_KEY_SECRET

CATALOGUE_MAX_AGE = timedelta(days=1)
DESCRIPTION_MAX = 500
_TAG = re.compile(r"\[[^\]]*\]|\{[^}]*\}")


def clean_description(name: str) -> str:
    """A provider's service name as a client may read it: without its bracketed tags ("[Real]",
    "[Refill 30D]") and stray separators; "TikTok Followers [Real] [Refill 30D]" → "TikTok Followers"."""
    text = " ".join(_TAG.sub(" ", name).split()).strip(" -–—|·,:")
    return text or " ".join(name.split())


def check_description(text) -> str | None:
    """A client-facing description as typed: trimmed, one line, at most 500 characters; empty → None."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValidationError("The description is text.", field="description")
    cleaned = text.strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in cleaned):
        raise ValidationError("The description is one line of text, without control characters.",
                              field="description")
    if len(cleaned) > DESCRIPTION_MAX:
        raise ValidationError(f"The description is at most {DESCRIPTION_MAX} characters.", field="description")
    return cleaned or None


def client_description(entry: CatalogueEntry | None, service_name: str) -> str:
    """What a client reads for a service: the one set for it, else its clean name."""
    if entry is not None and entry.client_description:
        return entry.client_description
    return clean_description(entry.name if entry is not None else service_name)


@dataclass(frozen=True)
class ServiceRow:
    id: int
    name: str
    type: str
    category: str
    network: str
    rate: Decimal
    min: int
    max: int
    refill: bool
    cancel: bool
    dripfeed: bool
    currency: str
    available: bool
    refreshed_at: datetime
    client_description: str = ""  # what invoices show clients
    client_description_set: bool = False  # False: the default, the clean name

    @classmethod
    def of(cls, s: CatalogueEntry) -> "ServiceRow":
        return cls(s.id, s.name, s.type, s.category, s.network, s.rate, s.min_quantity, s.max_quantity, s.refill,
                   s.cancel, s.dripfeed, s.currency, s.available, s.refreshed_at, client_description(s, s.name),
                   bool(s.client_description))

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "type": self.type, "category": self.category,
                "network": self.network, "ratePer1000": str(self.rate), "min": self.min, "max": self.max,
                "refill": self.refill, "cancel": self.cancel, "dripfeed": self.dripfeed, "currency": self.currency,
                "available": self.available, "refreshedAt": iso(self.refreshed_at),
                "clientDescription": self.client_description, "clientDescriptionSet": self.client_description_set}


@dataclass(frozen=True)
class CallRow:
    id: int
    at: datetime
    action: str
    params: dict
    http_status: int | None
    duration_ms: int
    ok: bool
    result: str | None
    error: str | None
    company_id: int | None = None

    def to_json(self) -> dict:
        return {"id": self.id, "at": iso(self.at), "action": self.action, "params": self.params,
                "httpStatus": self.http_status, "durationMs": self.duration_ms, "ok": self.ok,
                "result": self.result, "error": self.error, "companyId": self.company_id}


@dataclass(frozen=True)
class BalanceRow:
    amount: Decimal
    currency: str
    threshold: Decimal
    at: datetime

    @property
    def low(self) -> bool:
        return self.amount < self.threshold

    def to_json(self) -> dict:
        return {"balance": str(self.amount), "currency": self.currency, "lowBalanceThreshold": str(self.threshold),
                "low": self.low, "at": iso(self.at)}


class _Connection:
    """The HTTP client and last balance, shared by a Desk and its ``as_actor`` copies."""

    def __init__(self) -> None:
        self.http: httpx.Client | None = None
        self.own_http = False
        self.lock = threading.Lock()
        self.last_balance: BalanceRow | None = None


class FampageService:
    def __init__(self, ctx: ServiceContext, settings):
        self.ctx = ctx
        self.settings = settings
        self.backoff = 0.5
        self.parallel = 4
        self._conn = _Connection()

    def share_connection(self, other: "FampageService") -> None:
        """Use ``other``'s client (a Desk acting as someone else); ``other`` closes it."""
        self._conn = other._conn

    @property
    def last_balance(self) -> BalanceRow | None:
        return self._conn.last_balance

    @property
    def _http(self) -> httpx.Client | None:
        return self._conn.http

    # --- connection ---------------------------------------------------------------------
    def use_http(self, http: httpx.Client) -> None:
        """The runtime's client for Fampage (one per remote API)."""
        conn = self._conn
        with conn.lock:
            if conn.own_http and conn.http is not None:
                conn.http.close()
            conn.http, conn.own_http = http, False

    def close(self) -> None:
        conn = self._conn
        with conn.lock:
            if conn.own_http and conn.http is not None:
                conn.http.close()
            conn.http, conn.own_http = None, False

    def client(self, company_id: int | None = None) -> FampageClient:
        """A client whose calls are logged (for ``company_id`` when the call is made for one)."""
        base_url = os.environ.get("FAMPAGE_BASE_URL") or self.settings.get("fampage.base_url")
        api_key = os.environ.get("FAMPAGE_API_KEY") or self.ctx.secrets.get(FAMPAGE_API_KEY_SECRET)
        conn = self._conn
        with conn.lock:
            if conn.http is None or conn.http.is_closed:  # none yet, or the runtime's closed with it
                conn.http = httpx.Client(limits=httpx.Limits(max_connections=16, max_keepalive_connections=8))
                conn.own_http = True
            http = conn.http
        sink = self.record_call if company_id is None else (lambda record: self.record_call(record, company_id))
        return FampageClient(http, base_url, require_key(api_key), log_sink=sink,
                             style=self.settings.get("fampage.request_style"), backoff=self.backoff,
                             parallel=self.parallel)

    def record_call(self, record: CallRecord, company_id: int | None = None) -> None:
        with self.ctx.db.session() as session:
            session.add(FampageCall(action=record.action, params=record.params, http_status=record.http_status,
                                    duration_ms=record.duration_ms, ok=record.ok, result=record.result,
                                    error=record.error, company_id=company_id))

    # --- catalogue ----------------------------------------------------------------------
    def catalogue_age(self) -> timedelta | None:
        with self.ctx.db.read_session() as session:
            newest = session.scalar(select(func.max(CatalogueEntry.refreshed_at)))
        if newest is None:
            return None
        if newest.tzinfo is None:  # func.max bypasses the column type on SQLite
            newest = datetime.fromisoformat(str(newest)).replace(tzinfo=utcnow().tzinfo)
        return utcnow() - newest

    def ensure_catalogue(self) -> bool:
        """Refresh when the cached catalogue is missing or older than a day; True if refreshed."""
        self.ctx.require("operator", "refresh the Fampage catalogue")
        age = self.catalogue_age()
        if age is not None and age < CATALOGUE_MAX_AGE:
            return False
        self.refresh_services()
        return True

    def refresh_services(self) -> int:
        """Upsert the provider's catalogue; rate changes are kept; services it no longer lists are
        marked unavailable (orders still point at them). Returns the number of services listed."""
        self.ctx.require("operator", "refresh the Fampage catalogue")
        fetched = self.client().services()
        currency = self._currency_guess()
        now = utcnow()
        with self.ctx.db.session() as session:
            existing = {s.id: s for s in session.scalars(select(CatalogueEntry))}
            for item in fetched:
                row = existing.pop(item.id, None)
                if row is None:
                    row = CatalogueEntry(id=item.id, first_seen_at=now, rate=item.rate)
                    session.add(row)
                    session.add(FampageServiceRate(service_id=item.id, rate=item.rate, seen_at=now))
                elif row.rate != item.rate:
                    session.add(FampageServiceRate(service_id=item.id, rate=item.rate, seen_at=now))
                row.name, row.type, row.category, row.network = item.name, item.type, item.category, item.network
                row.rate, row.min_quantity, row.max_quantity = item.rate, item.min, item.max
                row.refill, row.cancel, row.dripfeed = item.refill, item.cancel, item.dripfeed
                row.currency, row.available, row.refreshed_at = currency, True, now
            for gone in existing.values():
                gone.available = False
                gone.refreshed_at = now
            session.flush()
            self.ctx.audit(session, "fampage.services_refresh", f"Refreshed the Fampage catalogue: {len(fetched)} services")
        self.ctx.events.publish(CatalogueRefreshed(len(fetched)))
        return len(fetched)

    def _currency_guess(self) -> str:
        return self.last_balance.currency if self.last_balance else self.settings.get("invoice.currency")

    def services(self, network: str | None = None, search: str | None = None,
                 include_unavailable: bool = False) -> list[ServiceRow]:
        query = select(CatalogueEntry).order_by(CatalogueEntry.network, CatalogueEntry.id)
        if not include_unavailable:
            query = query.where(CatalogueEntry.available.is_(True))
        if network:
            query = query.where(func.lower(CatalogueEntry.network) == network.strip().lower())
        if search and search.strip():
            needle = f"%{search.strip().lower()}%"
            conditions = [func.lower(CatalogueEntry.name).like(needle), func.lower(CatalogueEntry.category).like(needle),
                          func.lower(CatalogueEntry.type).like(needle)]
            if search.strip().isdigit():
                conditions.append(CatalogueEntry.id == int(search.strip()))
            query = query.where(or_(*conditions))
        with self.ctx.db.read_session() as session:
            return [ServiceRow.of(s) for s in session.scalars(query)]

    def networks(self) -> dict[str, int]:
        with self.ctx.db.read_session() as session:
            rows = session.execute(select(CatalogueEntry.network, func.count()).where(CatalogueEntry.available.is_(True))
                                   .group_by(CatalogueEntry.network).order_by(CatalogueEntry.network))
            return {network: count for network, count in rows}

    def service(self, service_id: int) -> ServiceRow:
        with self.ctx.db.read_session() as session:
            row = session.get(CatalogueEntry, service_id)
            if row is None:
                raise NotFoundError(f"There is no Fampage service {service_id} in the catalogue; "
                                    "refresh it with `giftdesk fampage services --refresh`.")
            return ServiceRow.of(row)

    def set_client_description(self, service_id: int, text: str | None) -> ServiceRow:
        """What clients read on new invoice lines for this service; empty or None: back to the clean name.
        Invoices already drafted keep their lines (a draft's line is edited on the invoice)."""
        self.ctx.require("operator", "set a service's description")
        cleaned = check_description(text)
        with self.ctx.db.session() as session:
            row = session.get(CatalogueEntry, service_id)
            if row is None:
                raise NotFoundError(f"There is no Fampage service {service_id} in the catalogue; "
                                    "refresh it with `giftdesk fampage services --refresh`.")
            row.client_description = cleaned
            session.flush()
            return ServiceRow.of(row)

    def rate_history(self, service_id: int) -> list[tuple[datetime, Decimal]]:
        with self.ctx.db.read_session() as session:
            rows = session.execute(select(FampageServiceRate.seen_at, FampageServiceRate.rate)
                                   .where(FampageServiceRate.service_id == service_id)
                                   .order_by(FampageServiceRate.seen_at, FampageServiceRate.id))
            return [(at, rate) for at, rate in rows]

    # --- balance ------------------------------------------------------------------------
    def balance(self) -> BalanceRow:
        fetched: Balance = self.client().balance()
        row = BalanceRow(fetched.amount, fetched.currency, self.low_balance_threshold(), utcnow())
        self._conn.last_balance = row
        self.ctx.events.publish(BalanceChanged(row.amount, row.currency, row.low))
        return row

    def low_balance_threshold(self) -> Decimal:
        return Decimal(self.settings.get("fampage.low_balance_threshold"))

    # --- integration log ----------------------------------------------------------------
    def prune_calls(self, keep_days: int = 30) -> int:
        """Drops log rows older than ``keep_days`` (a scheduled sync writes ~100 rows a run)."""
        self.ctx.require("admin", "prune the integration log")
        cutoff = utcnow() - timedelta(days=keep_days)
        with self.ctx.db.session() as session:
            result = session.execute(delete(FampageCall).where(FampageCall.at < cutoff))
        return result.rowcount or 0

    def calls(self, action: str | None = None, ok: bool | None = None, since: datetime | None = None,
              search: str | None = None, limit: int = 200, company_id: int | None = None) -> list[CallRow]:
        query = select(FampageCall).order_by(FampageCall.id.desc()).limit(limit)
        if company_id is not None:
            query = query.where(FampageCall.company_id == company_id)
        if action:
            query = query.where(FampageCall.action == action)
        if ok is not None:
            query = query.where(FampageCall.ok.is_(ok))
        if since is not None:
            query = query.where(FampageCall.at >= since)
        if search and search.strip():
            needle = f"%{search.strip().lower()}%"
            query = query.where(or_(func.lower(FampageCall.params).like(needle),
                                    func.lower(FampageCall.error).like(needle),
                                    func.lower(FampageCall.result).like(needle)))
        with self.ctx.db.read_session() as session:
            return [CallRow(c.id, c.at, c.action, c.params, c.http_status, c.duration_ms, c.ok, c.result, c.error,
                            c.company_id) for c in session.scalars(query)]
