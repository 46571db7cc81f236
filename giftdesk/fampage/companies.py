"""Client companies: billed for Fampage orders; archived, never deleted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, or_, select

from giftdesk.core.clock import iso
from giftdesk.db.fampage_models import COMPANY_STATUSES, INTAKE_STATUSES, Company
from giftdesk.db.types import utcnow
from giftdesk.core.errors import ConflictError, NotFoundError, ValidationError
from giftdesk.fampage.events import CompanyChanged, CompanySubmitted
from giftdesk.core import validation
from giftdesk.core.context import ServiceContext

_FIELDS = ("name", "contact_name", "email", "phone", "address", "tax_id", "notes", "status", "currency",
           "invoice_multiplier")


@dataclass(frozen=True)
class CompanyRow:
    id: int
    name: str
    contact_name: str | None
    email: str | None
    phone: str | None
    address: str | None
    tax_id: str | None
    notes: str | None
    status: str
    currency: str
    invoice_multiplier: Decimal | None
    archived: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, c: Company) -> "CompanyRow":
        return cls(c.id, c.name, c.contact_name, c.email, c.phone, c.address, c.tax_id, c.notes, c.status,
                   c.currency, c.invoice_multiplier, c.archived_at is not None, c.created_at, c.updated_at)

    def details(self) -> dict:
        """What an invoice freezes about the client."""
        return {"name": self.name, "contactName": self.contact_name, "email": self.email, "phone": self.phone,
                "address": self.address, "taxId": self.tax_id}

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "contactName": self.contact_name, "email": self.email,
                "phone": self.phone, "address": self.address, "taxId": self.tax_id, "notes": self.notes,
                "status": self.status, "currency": self.currency,
                "invoiceMultiplier": None if self.invoice_multiplier is None else str(self.invoice_multiplier),
                "archived": self.archived, "createdAt": iso(self.created_at), "updatedAt": iso(self.updated_at)}


def clean_multiplier(value: Any, field: str = "invoice multiplier") -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float):
        raise ValidationError(f"The {field} must be given as text, not a float.", field=field)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(f"The {field} must be a number such as 8 or 7.5, not '{value}'.", field=field) from None
    if not number.is_finite() or number <= 0 or number > 1000:
        raise ValidationError(f"The {field} must be above 0 and at most 1000.", field=field)
    return number


def clean_amount(value: Any, field: str) -> Decimal | None:
    """A money amount typed by a person: exact, not negative; None when left empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float):
        raise ValidationError(f"The {field} must be given as text, not a float.", field=field)
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationError(f"The {field} must be an amount such as 12.50, not '{value}'.", field=field) from None
    if not number.is_finite() or number < 0:
        raise ValidationError(f"The {field} must be zero or more.", field=field)
    return number


def _clean(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - set(_FIELDS)
    if unknown:
        raise ValidationError(f"Companies have no field {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    cleaned: dict[str, Any] = {}
    for key, value in changes.items():
        label = key.replace("_", " ")
        if key == "name":
            cleaned[key] = validation.text(value, "name", required=True, max_length=200)
        elif key == "email":
            cleaned[key] = validation.email(value, "email")
        elif key in ("address", "notes"):
            cleaned[key] = validation.text(value, label, max_length=2000)
        elif key in ("phone", "tax_id"):
            cleaned[key] = validation.text(value, label, max_length=50)
        elif key == "contact_name":
            cleaned[key] = validation.text(value, label, max_length=200)
        elif key == "status":
            if value not in COMPANY_STATUSES:
                raise ValidationError(f"status must be one of: {', '.join(COMPANY_STATUSES)}.", field="status")
            cleaned[key] = value
        elif key == "currency":
            code = str(value or "").strip().upper()
            if len(code) != 3 or not code.isalpha():
                raise ValidationError("currency must be a three-letter code such as INR or USD.", field="currency")
            cleaned[key] = code
        elif key == "invoice_multiplier":
            cleaned[key] = clean_multiplier(value)
    return cleaned


class CompanyService:
    def __init__(self, ctx: ServiceContext, settings):
        self.ctx = ctx
        self.settings = settings

    def list(self, search: str | None = None, status: str | None = None, archived: bool = False) -> list[CompanyRow]:
        query = select(Company).order_by(func.lower(Company.name), Company.id)
        query = query.where(Company.archived_at.is_not(None) if archived else Company.archived_at.is_(None))
        if status:
            query = query.where(Company.status == status)
        if search and search.strip():
            needle = f"%{search.strip().lower()}%"
            query = query.where(or_(*(func.lower(getattr(Company, f)).like(needle)
                                      for f in ("name", "contact_name", "email", "tax_id", "notes"))))
        with self.ctx.db.read_session() as session:
            return [CompanyRow.of(c) for c in session.scalars(query)]

    def get(self, company_id: int) -> CompanyRow:
        with self.ctx.db.read_session() as session:
            return CompanyRow.of(self._get(session, company_id))

    @staticmethod
    def _get(session, company_id: int) -> Company:
        company = session.get(Company, company_id)
        if company is None:
            raise NotFoundError(f"There is no company with id {company_id}.")
        return company

    def create(self, name: str, **fields: Any) -> CompanyRow:
        self.ctx.require("operator", "add companies")
        cleaned = _clean({"name": name, **fields})
        cleaned.setdefault("currency", self.settings.get("invoice.currency"))
        with self.ctx.db.session() as session:
            self._check_unique(session, cleaned["name"])
            company = Company(**cleaned)
            session.add(company)
            session.flush()
            self.ctx.audit(session, "company.create", f"Added company {company.name}", "company", company.id)
            row = CompanyRow.of(company)
        self.ctx.events.publish(CompanyChanged(row.id))
        return row

    def update(self, company_id: int, **changes: Any) -> CompanyRow:
        self.ctx.require("operator", "edit companies")
        cleaned = _clean(changes)
        with self.ctx.db.session() as session:
            company = self._get(session, company_id)
            if "status" in cleaned and company.status in INTAKE_STATUSES and cleaned["status"] != company.status:
                raise ConflictError(f"{company.name} is {company.status}: approve or reject it "
                                    f"(`giftdesk company approve|reject`) instead of setting its status.")
            if "name" in cleaned and cleaned["name"].lower() != company.name.lower():
                self._check_unique(session, cleaned["name"], company.id)
            before = {k: getattr(company, k) for k in cleaned}
            for key, value in cleaned.items():
                setattr(company, key, value)
            changed = sorted(k for k in cleaned if before[k] != cleaned[k])
            if changed:
                self.ctx.audit(session, "company.update", f"Edited company {company.name}: {', '.join(changed)}",
                               "company", company.id)
            row = CompanyRow.of(company)
        self.ctx.events.publish(CompanyChanged(row.id))
        return row

    def archive(self, company_id: int, archived: bool = True) -> CompanyRow:
        """Soft delete: the company leaves the lists; its orders and invoices stay."""
        self.ctx.require("operator", "archive companies")
        with self.ctx.db.session() as session:
            company = self._get(session, company_id)
            if archived and company.archived_at is None:
                company.archived_at = utcnow()
                self.ctx.audit(session, "company.archive", f"Archived company {company.name}", "company", company.id)
            elif not archived and company.archived_at is not None:
                self._check_unique(session, company.name, company.id)
                company.archived_at = None
                self.ctx.audit(session, "company.restore", f"Restored company {company.name}", "company", company.id)
            row = CompanyRow.of(company)
        self.ctx.events.publish(CompanyChanged(row.id))
        return row

    @staticmethod
    def _check_unique(session, name: str, except_id: int | None = None) -> None:
        query = select(Company.id).where(func.lower(Company.name) == name.lower(), Company.archived_at.is_(None))
        if except_id is not None:
            query = query.where(Company.id != except_id)
        if session.scalar(query) is not None:
            raise ConflictError(f"There is already a company called '{name}'.")

    # --- intake: companies that ask to be billed, without an account ----------------------
    def submit(self, fields: dict[str, Any], source: str) -> CompanyRow:
        """A company from the intake form (no login): validated like an operator's, stored as
        "pending" (it cannot order or be billed) until someone approves it. ``source`` says where it
        came from (e.g. the client's address), for the audit log.

        A name that is taken is accepted too: telling a stranger which companies exist is worse than an
        admin rejecting a duplicate; approving it is refused while the name is taken."""
        # The endpoint records requests as the console's runtime; a viewer's window records none.
        self.ctx.require("operator", "record company requests")
        allowed = {"name", "contact_name", "email", "phone", "address", "tax_id", "notes"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValidationError(f"Companies have no field {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
        cleaned = _clean(fields)
        if "name" not in cleaned:
            raise ValidationError("name is required.", field="name")
        cleaned.update(status="pending", currency=self.settings.get("invoice.currency"))
        with self.ctx.db.session() as session:
            company = Company(**cleaned)
            session.add(company)
            session.flush()
            self.ctx.db.add_audit_entry(session, actor="intake", action="company.submit",
                                        target_type="company", target_id=str(company.id),
                                        summary=f"Company {company.name} asked to be added (from {source[:100]})",
                                        details={"source": source[:200]})
            row = CompanyRow.of(company)
        self.ctx.events.publish(CompanyChanged(row.id))
        self.ctx.events.publish(CompanySubmitted(row.id, row.name))
        return row

    def approve(self, company_id: int) -> CompanyRow:
        """A pending company becomes active: it can order and be billed."""
        self.ctx.require("operator", "approve companies")
        with self.ctx.db.session() as session:
            company = self._pending(session, company_id)
            self._check_unique(session, company.name, company.id)
            company.status = "active"
            self.ctx.audit(session, "company.approve", f"Approved company {company.name}", "company", company.id)
            row = CompanyRow.of(company)
        self.ctx.events.publish(CompanyChanged(row.id))
        return row

    def reject(self, company_id: int, reason: str | None = None) -> CompanyRow:
        """A pending company is rejected and archived (kept for the audit log, out of the lists)."""
        self.ctx.require("operator", "reject companies")
        reason = validation.text(reason, "reason", max_length=500)
        with self.ctx.db.session() as session:
            company = self._pending(session, company_id)
            company.status, company.archived_at = "rejected", utcnow()
            self.ctx.audit(session, "company.reject", f"Rejected company {company.name}"
                           + (f": {reason}" if reason else ""), "company", company.id, {"reason": reason})
            row = CompanyRow.of(company)
        self.ctx.events.publish(CompanyChanged(row.id))
        return row

    def _pending(self, session, company_id: int) -> Company:
        company = self._get(session, company_id)
        if company.status != "pending":
            raise ConflictError(f"{company.name} is {company.status}, not waiting for approval.")
        return company

    def multiplier_for(self, company_id: int) -> Decimal:
        company = self.get(company_id)
        return company.invoice_multiplier or Decimal(self.settings.get("invoice.multiplier"))
