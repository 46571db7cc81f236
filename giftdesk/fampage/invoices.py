"""Invoices and credit notes for Fampage orders.

- A draft has no number. Issuing gives the next number of its series (``INV-2026-000123``,
  credit notes ``CN-2026-000007``) from a counter row bumped in the issuing transaction: a failed
  issue rolls the counter back too, so numbers have no gaps; concurrent issues queue on the
  counter row (PostgreSQL row lock; SQLite's ``BEGIN IMMEDIATE``).
- An issued invoice never changes. A refund or correction is a credit note referencing it.
- Overdue is derived: sent (not paid, not void) and past its due date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import extract, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from giftdesk.core.clock import iso
from giftdesk.db.fampage_models import Company, FampageOrder, Invoice, InvoiceCounter, InvoiceLine
from giftdesk.db.types import utcnow
from giftdesk.core.errors import ConflictError, NotFoundError, ValidationError
from giftdesk.fampage import money
from giftdesk.fampage.events import InvoiceChanged
from giftdesk.core.context import ServiceContext

SERIES_PREFIX = {"invoice": "INV", "credit_note": "CN"}


def today() -> date:
    return datetime.now().astimezone().date()


@dataclass(frozen=True)
class LineRow:
    position: int
    description: str
    link: str | None
    quantity: int
    unit_price: Decimal
    per: int
    amount: Decimal

    def to_json(self) -> dict:
        return {"position": self.position, "description": self.description, "link": self.link,
                "quantity": self.quantity, "unitPrice": str(self.unit_price), "per": self.per,
                "amount": str(self.amount)}


@dataclass(frozen=True)
class InvoiceRow:
    id: int
    number: str | None
    kind: str
    credited_invoice_id: int | None
    company_id: int
    company_name: str
    order_id: int | None
    status: str
    currency: str
    tax_rate: Decimal
    tax_label: str | None
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    issue_date: date | None
    due_date: date | None
    paid_at: datetime | None
    issuer: dict | None
    client: dict | None
    notes: str | None
    created_at: datetime
    lines: tuple[LineRow, ...] = ()
    credit_note_ids: tuple[int, ...] = ()
    credited: Decimal = Decimal(0)  # total of issued credit notes against this invoice
    as_of: date = field(default_factory=today)

    @property
    def overdue(self) -> bool:
        return self.status == "sent" and self.due_date is not None and self.due_date < self.as_of

    @property
    def display_status(self) -> str:
        return "overdue" if self.overdue else self.status

    @property
    def balance_due(self) -> Decimal:
        if self.kind != "invoice" or self.status in ("void", "paid"):
            return Decimal(0)
        return max(self.total - self.credited, Decimal(0))

    @property
    def label(self) -> str:
        kind = "Credit note" if self.kind == "credit_note" else "Invoice"
        return f"{kind} {self.number}" if self.number else f"Draft {kind.lower()} #{self.id}"

    def to_json(self) -> dict:
        return {"id": self.id, "number": self.number, "kind": "creditNote" if self.kind == "credit_note" else "invoice",
                "creditedInvoiceId": self.credited_invoice_id, "companyId": self.company_id,
                "companyName": self.company_name, "orderId": self.order_id, "status": self.status,
                "overdue": self.overdue, "currency": self.currency, "taxRate": str(self.tax_rate),
                "taxLabel": self.tax_label, "subtotal": str(self.subtotal), "tax": str(self.tax),
                "total": str(self.total), "credited": str(self.credited), "balanceDue": str(self.balance_due),
                "issueDate": iso(self.issue_date), "dueDate": iso(self.due_date), "paidAt": iso(self.paid_at),
                "issuer": self.issuer, "client": self.client, "notes": self.notes,
                "createdAt": iso(self.created_at), "lines": [line.to_json() for line in self.lines],
                "creditNoteIds": list(self.credit_note_ids)}


def recompute_totals(invoice: Invoice) -> None:
    """Lines are already rounded; subtotal is their sum, tax is rounded once on the subtotal."""
    invoice.subtotal = sum((line.amount for line in invoice.lines), Decimal(0))
    invoice.tax = money.tax_of(invoice.subtotal, invoice.tax_rate, invoice.currency)
    invoice.total = invoice.subtotal + invoice.tax


def next_number(session: Session, kind: str, year: int) -> str:
    series = f"{SERIES_PREFIX[kind]}-{year}"
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(InvoiceCounter).values(series=series, last_number=0).on_conflict_do_nothing())
    number = session.execute(
        update(InvoiceCounter).where(InvoiceCounter.series == series)
        .values(last_number=InvoiceCounter.last_number + 1).returning(InvoiceCounter.last_number)
    ).scalar_one()
    return f"{series}-{number:06d}"


class InvoiceService:
    def __init__(self, ctx: ServiceContext, settings):
        self.ctx = ctx
        self.settings = settings

    # --- reading ------------------------------------------------------------------------
    def get(self, invoice_id: int) -> InvoiceRow:
        with self.ctx.db.read_session() as session:
            return self._row(session, self._get(session, invoice_id))

    def list(self, company_id: int | None = None, status: str | None = None, kind: str | None = None,
             year: int | None = None, month: int | None = None, order_id: int | None = None) -> list[InvoiceRow]:
        query = (select(Invoice).options(selectinload(Invoice.lines), selectinload(Invoice.company))
                 .order_by(Invoice.id.desc()))
        if company_id is not None:
            query = query.where(Invoice.company_id == company_id)
        if order_id is not None:
            query = query.where(Invoice.order_id == order_id)
        if kind:
            query = query.where(Invoice.kind == kind)
        if status and status != "overdue":
            query = query.where(Invoice.status == status)
        elif status == "overdue":
            query = query.where(Invoice.status == "sent", Invoice.due_date < today())
        if year is not None:
            query = query.where(extract("year", Invoice.issue_date) == year)
        if month is not None:
            query = query.where(extract("month", Invoice.issue_date) == month)
        with self.ctx.db.read_session() as session:
            invoices = list(session.scalars(query))
            credits = self._credits(session, [i.id for i in invoices])
            return [self._row(session, i, credits.get(i.id, ())) for i in invoices]

    @staticmethod
    def _get(session, invoice_id: int) -> Invoice:
        invoice = session.get(Invoice, invoice_id)
        if invoice is None:
            raise NotFoundError(f"There is no invoice with id {invoice_id}.")
        return invoice

    @staticmethod
    def _credits(session, invoice_ids: list[int]) -> dict[int, list[Invoice]]:
        found: dict[int, list[Invoice]] = {}
        if not invoice_ids:
            return found
        for note in session.scalars(select(Invoice).where(Invoice.credited_invoice_id.in_(invoice_ids))
                                    .order_by(Invoice.id)):
            found.setdefault(note.credited_invoice_id, []).append(note)
        return found

    def _row(self, session, invoice: Invoice, credit_notes=None) -> InvoiceRow:
        if credit_notes is None:
            credit_notes = self._credits(session, [invoice.id]).get(invoice.id, [])
        credited = sum((n.total for n in credit_notes if n.status != "void" and n.number), Decimal(0))
        lines = tuple(LineRow(l.position, l.description, l.link, l.quantity, l.unit_price, l.per, l.amount)
                      for l in invoice.lines)
        return InvoiceRow(invoice.id, invoice.number, invoice.kind, invoice.credited_invoice_id, invoice.company_id,
                          invoice.company.name, invoice.order_id, invoice.status, invoice.currency, invoice.tax_rate,
                          invoice.tax_label, invoice.subtotal, invoice.tax, invoice.total, invoice.issue_date,
                          invoice.due_date, invoice.paid_at, invoice.issuer, invoice.client, invoice.notes,
                          invoice.created_at, lines, tuple(n.id for n in credit_notes), credited)

    # --- creating ------------------------------------------------------------------------
    def create_for_order(self, order_id: int) -> InvoiceRow:
        """A new draft invoice for a placed order that has none standing (never had one, or its
        invoice was voided): the order's terms at the multiplier it was placed with."""
        self.ctx.require("operator", "create invoices")
        with self.ctx.db.session() as session:
            order = session.get(FampageOrder, order_id)
            if order is None:
                raise NotFoundError(f"There is no order #{order_id}.")
            if order.state in UNBILLABLE_STATES:
                raise ConflictError(f"Order #{order_id} is {order.state.replace('_', ' ')}: only a placed order "
                                    f"is invoiced.")
            standing = live_invoice_of(session, order_id)
            if standing is not None:
                raise ConflictError(f"Order #{order_id} already has {standing.number or f'draft #{standing.id}'} "
                                    f"({standing.status}); void it first to invoice the order again.")
            invoice = self.draft_for_order(session, order, session.get(Company, order.company_id))
            self.refresh_order_revenue(session, order.id)
            self.ctx.audit(session, "invoice.create", f"Draft invoice #{invoice.id} for order #{order_id}",
                           "invoice", invoice.id, {"order": order_id})
            row = self._row(session, invoice)
        self.ctx.events.publish(InvoiceChanged(row.id, row.status))
        return row

    # --- creating (inside the caller's transaction) -------------------------------------
    def draft_for_order(self, session: Session, order: FampageOrder, company: Company) -> Invoice:
        quantity, unit_price, per = money.line_terms(order.rate, order.quantity, order.service_type,
                                                     order.multiplier, order.runs)
        invoice = Invoice(kind="invoice", company_id=company.id, order_id=order.id, status="draft",
                          currency=order.currency, tax_rate=Decimal(self.settings.get("invoice.tax_rate")),
                          tax_label=self.settings.get("invoice.tax_label") or None)
        invoice.lines.append(InvoiceLine(
            position=1, description=self._describe(session, order), link=order.link, quantity=quantity,
            unit_price=unit_price, per=per, amount=money.line_amount(quantity, unit_price, per, order.currency)))
        recompute_totals(invoice)
        session.add(invoice)
        session.flush()
        return invoice

    @staticmethod
    def _describe(session: Session, order: FampageOrder) -> str:
        """The client's words for the line: the service's description, never the provider's own name or id."""
        from giftdesk.fampage.service import CatalogueEntry, client_description
        entry = session.get(CatalogueEntry, order.service_id) if order.service_id else None
        text = client_description(entry, order.service_name)
        if money.is_package(order.service_type):
            text += f", pack of {order.quantity}"
        if order.runs:
            text += f", drip-feed {order.runs} runs every {order.interval} min"
        return text

    def credit_for_order(self, session: Session, order: FampageOrder, undelivered: int, reason: str) -> Invoice | None:
        """A credit note for ``undelivered`` of the order's units, against its invoice.

        Issued at once when the invoice is issued; a draft when the invoice is still a draft (it is
        issued with it). None when there is nothing to credit or the invoice is void."""
        invoice = live_invoice_of(session, order.id)
        if invoice is None or undelivered <= 0 or not invoice.lines:
            return None
        line = invoice.lines[0]
        already = sum((n.subtotal for n in session.scalars(select(Invoice).where(
            Invoice.credited_invoice_id == invoice.id, Invoice.status != "void"))), Decimal(0))
        exact = money.line_exact(line.quantity, line.unit_price, line.per)
        share = money.round_money(exact * money.clamp_remains(undelivered, order.quantity) / order.quantity,
                                  invoice.currency)
        share = min(share, line.amount - already)
        if share <= 0:
            return None
        note = Invoice(kind="credit_note", credited_invoice_id=invoice.id, company_id=invoice.company_id,
                       order_id=order.id, status="draft", currency=invoice.currency, tax_rate=invoice.tax_rate,
                       tax_label=invoice.tax_label, notes=reason)
        note.lines.append(InvoiceLine(position=1, description=f"{reason}: {undelivered} of {order.quantity} "
                                      f"not delivered — {line.description}", link=line.link,
                                      quantity=undelivered, unit_price=line.unit_price, per=line.per, amount=share))
        recompute_totals(note)
        session.add(note)
        session.flush()
        if invoice.number:
            self._issue(session, note)
        return note

    # --- lifecycle ----------------------------------------------------------------------
    def issue(self, invoice_id: int, due_days: int | None = None) -> InvoiceRow:
        self.ctx.require("operator", "issue invoices")
        with self.ctx.db.session() as session:
            invoice = self._get(session, invoice_id)
            if invoice.status != "draft":
                raise ConflictError(f"{invoice.number or 'This invoice'} is already issued ({invoice.status}).")
            if invoice.kind == "credit_note":
                parent = self._get(session, invoice.credited_invoice_id)
                if parent.status == "draft":
                    raise ConflictError("Issue the invoice first; its credit notes are issued with it.")
            self._issue(session, invoice, due_days)
            for note in session.scalars(select(Invoice).where(Invoice.credited_invoice_id == invoice.id,
                                                              Invoice.status == "draft").order_by(Invoice.id)):
                self._issue(session, note, due_days)
            self.ctx.audit(session, "invoice.issue", f"Issued invoice {invoice.number}", "invoice", invoice.id)
            row = self._row(session, invoice)
        self.ctx.events.publish(InvoiceChanged(row.id, row.status))
        return row

    def _issue(self, session: Session, invoice: Invoice, due_days: int | None = None) -> None:
        issued_on = today()
        invoice.number = next_number(session, invoice.kind, issued_on.year)
        invoice.status = "sent"
        invoice.issue_date = issued_on
        days = due_days if due_days is not None else int(self.settings.get("invoice.due_days"))
        invoice.due_date = issued_on + timedelta(days=days)
        invoice.issuer = self.issuer()
        company = session.get(Company, invoice.company_id)
        invoice.client = {"name": company.name, "contactName": company.contact_name, "email": company.email,
                          "phone": company.phone, "address": company.address, "taxId": company.tax_id}
        session.flush()

    def number_to_take(self, invoice_id: int) -> str:
        """The number issuing this draft would take now: its series' next (nothing is taken; numbers
        are gap-free, so another issue in between moves it on)."""
        with self.ctx.db.read_session() as session:
            invoice = self._get(session, invoice_id)
            series = f"{SERIES_PREFIX[invoice.kind]}-{today().year}"
            last = session.scalar(select(InvoiceCounter.last_number).where(InvoiceCounter.series == series))
        return f"{series}-{(last or 0) + 1:06d}"

    def issuer(self) -> dict:
        s = self.settings.all()
        return {"name": s["company.name"] or "GiftDesk agency", "address": s["company.address"],
                "email": s["company.email"], "phone": s["company.phone"], "taxId": s["company.tax_id"]}

    def set_tax(self, invoice_id: int, tax_rate, tax_label: str | None = None) -> InvoiceRow:
        self.ctx.require("operator", "edit invoices")
        rate = Decimal(self.settings.check("invoice.tax_rate", tax_rate, "tax rate"))
        with self.ctx.db.session() as session:
            invoice = self._get(session, invoice_id)
            if invoice.status != "draft":
                raise ConflictError(f"{invoice.number} is issued and never changes; correct it with a credit note.")
            for doc in [invoice, *session.scalars(select(Invoice).where(Invoice.credited_invoice_id == invoice.id,
                                                                        Invoice.status == "draft"))]:
                doc.tax_rate, doc.tax_label = rate, (tax_label or None)
                recompute_totals(doc)
            row = self._row(session, invoice)
        self.ctx.events.publish(InvoiceChanged(row.id, row.status))
        return row

    def set_line_description(self, invoice_id: int, position: int, text: str) -> InvoiceRow:
        """Reword one line of a draft (what the client reads); an issued invoice never changes."""
        self.ctx.require("operator", "edit invoices")
        from giftdesk.fampage.service import check_description
        cleaned = check_description(text)
        if cleaned is None:
            raise ValidationError("The description cannot be empty.", field="description")
        with self.ctx.db.session() as session:
            invoice = self._get(session, invoice_id)
            if invoice.status != "draft":
                raise ConflictError(f"{invoice.number} is issued and never changes; correct it with a credit note.")
            line = next((l for l in invoice.lines if l.position == position), None)
            if line is None:
                raise NotFoundError(f"{invoice.number or 'The draft'} has no line {position}.")
            line.description = cleaned
            session.flush()
            row = self._row(session, invoice)
        self.ctx.events.publish(InvoiceChanged(row.id, row.status))
        return row

    def pay(self, invoice_id: int) -> InvoiceRow:
        self.ctx.require("operator", "mark invoices paid")
        with self.ctx.db.session() as session:
            invoice = self._get(session, invoice_id)
            if invoice.kind != "invoice":
                raise ValidationError("A credit note is not paid; it reduces what its invoice asks for.")
            if invoice.status != "sent":
                raise ConflictError(f"Only a sent invoice can be paid; {invoice.number or 'this draft'} is "
                                    f"{invoice.status}.")
            invoice.status = "paid"
            invoice.paid_at = utcnow()
            self.ctx.audit(session, "invoice.pay", f"Invoice {invoice.number} paid", "invoice", invoice.id)
            row = self._row(session, invoice)
        self.ctx.events.publish(InvoiceChanged(row.id, row.status))
        return row

    def void(self, invoice_id: int) -> InvoiceRow:
        """Void keeps the number (no gap) and voids the invoice's credit notes with it."""
        self.ctx.require("operator", "void invoices")
        with self.ctx.db.session() as session:
            invoice = self._get(session, invoice_id)
            if invoice.status == "void":
                raise ConflictError(f"{invoice.number or 'This invoice'} is already void.")
            if invoice.status == "paid":
                raise ConflictError(f"{invoice.number} is paid; refund it with a credit note instead of voiding.")
            now = utcnow()
            for doc in [invoice, *session.scalars(select(Invoice).where(Invoice.credited_invoice_id == invoice.id))]:
                doc.status, doc.voided_at = "void", now
            self.refresh_order_revenue(session, invoice.order_id)
            self.ctx.audit(session, "invoice.void", f"Voided {invoice.number or f'draft #{invoice.id}'}",
                           "invoice", invoice.id)
            row = self._row(session, invoice)
        self.ctx.events.publish(InvoiceChanged(row.id, row.status))
        return row

    @staticmethod
    def refresh_order_revenue(session: Session, order_id: int | None) -> None:
        """The order's analytics revenue: its invoice's subtotal less credit notes, 0 once void."""
        if order_id is None:
            return
        order = session.get(FampageOrder, order_id)
        docs = list(session.scalars(select(Invoice).where(Invoice.order_id == order_id)))
        revenue = Decimal(0)
        for doc in docs:
            if doc.status == "void":
                continue
            revenue += doc.subtotal if doc.kind == "invoice" else -doc.subtotal
        order.revenue_units = money.to_units(revenue)


# An order that Fampage never took (or may not have taken) is nothing to bill.
UNBILLABLE_STATES = frozenset({"unconfirmed", "not_placed"})


def live_invoice_of(session: Session, order_id: int) -> Invoice | None:
    """The order's standing invoice: the newest that is not void (an order is invoiced again after a void)."""
    return session.scalar(select(Invoice).where(Invoice.order_id == order_id, Invoice.kind == "invoice",
                                                Invoice.status != "void").order_by(Invoice.id.desc()).limit(1))


def _pdf_name(row: InvoiceRow) -> str:
    return f"{row.number or f'draft-{row.id}'}.pdf"


class InvoiceDocuments:
    """PDFs of invoices: one, or a month's issued invoices and credit notes as one ZIP."""

    def __init__(self, invoices: InvoiceService, settings):
        self.invoices = invoices
        self.settings = settings

    def _logo(self):
        from pathlib import Path
        path = self.settings.get("invoice.logo_path")
        return Path(path) if path else None

    def pdf(self, invoice_id: int, out=None) -> bytes | None:
        from giftdesk.fampage.invoice_pdf import render_invoice
        row = self.invoices.get(invoice_id)
        credited = self.invoices.get(row.credited_invoice_id).number if row.credited_invoice_id else None
        return render_invoice(row, out, self._logo(), credited)

    def month_zip(self, year: int, month: int, out) -> list[str]:
        """Every issued document of the month (by issue date) in one ZIP; returns the file names."""
        import zipfile
        from giftdesk.fampage.invoice_pdf import render_invoice
        if not 1 <= month <= 12:
            raise ValidationError("month must be 1 to 12.", field="month")
        rows = [r for r in self.invoices.list(year=year, month=month) if r.number]
        if not rows:
            raise NotFoundError(f"No invoices were issued in {year}-{month:02d}.")
        numbers = {r.id: r.number for r in rows}
        names = []
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for row in sorted(rows, key=lambda r: r.number):
                credited = numbers.get(row.credited_invoice_id) if row.credited_invoice_id else None
                if row.credited_invoice_id and credited is None:
                    credited = self.invoices.get(row.credited_invoice_id).number
                archive.writestr(_pdf_name(row), render_invoice(row, None, self._logo(), credited))
                names.append(_pdf_name(row))
        return names
