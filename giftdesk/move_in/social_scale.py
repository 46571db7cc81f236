"""Moving the orders backend in: its ``Company``, ``Order`` and ``Invoice`` collections, as
``mongoexport`` wrote them, become our companies, Fampage orders and invoices.

- Orders keep their Fampage order id (``apiOrderId``), so the status sync goes on with them; their
  charge, rate and cost stay exact (the provider's figures, to 8 decimals: beyond that a value is
  float noise, and rounding it away is reported).
- Invoices keep their numbers as issued; each number's count raises its year's counter so that
  ours continue after the highest imported one. Their amounts (what clients were billed) become
  exact money in the currency's minor unit, half-up, and every value that changed is reported.
- Matched by the old ObjectIds, kept in ``imported_records``: a second run changes nothing. A
  company whose name we already have is linked to ours rather than made twice.
- All of one run is one transaction; a document that cannot be imported stops it with a sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from giftdesk.core import validation
from giftdesk.core.context import ServiceContext
from giftdesk.core.errors import ConflictError, ValidationError
from giftdesk.db.fampage_models import (COMPANY_STATUSES, Company, FampageOrder, FampageService, Invoice,
                                        InvoiceCounter, InvoiceLine)
from giftdesk.db.types import utcnow
from giftdesk.fampage import money
from giftdesk.fampage.events import CompanyChanged, InvoiceChanged, OrdersChanged
from giftdesk.fampage.invoices import SERIES_PREFIX, InvoiceService, today
from giftdesk.fampage.orders import link_key
from giftdesk.fampage.parse import network_of, normalise_status
from giftdesk.move_in.imports import (Document, ImportReport, Rounded, Step, exact, imported_ids, read_documents,
                                      remember, unique_ids)

SOURCE = "social-scale"
NOUNS = {"company": ("company", "companies"), "order": ("order", "orders"), "invoice": ("invoice", "invoices")}
PROVIDER_PLACES = 8  # our analytics units are 10⁻⁸; the panel's charges have 4–5 decimals
MAX_COUNTER = 2**31 - 1
CONCURRENT = ("Something the import writes was written by someone else at the same moment (another import, or an "
              "invoice issued meanwhile); nothing was imported: run it again.")  # a number's count beyond this is a timestamp, not a count
_PAID = {"paid", "settled"}
_VOID = {"cancelled", "canceled", "void", "voided", "refunded"}


@dataclass
class _Plan:
    report: ImportReport
    companies: list[tuple[Step, Document, dict]] = field(default_factory=list)
    orders: list[tuple[Step, Document, dict]] = field(default_factory=list)
    invoices: list[tuple[Step, Document, dict]] = field(default_factory=list)
    company_ids: dict[str, int | None] = field(default_factory=dict)  # old id → ours (None: made in this run)
    order_ids: dict[str, int | None] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)  # series → highest imported count


class SocialScaleImport:
    """``giftdesk import social-scale``: preview (changes nothing) and run."""

    def __init__(self, ctx: ServiceContext, settings, invoices: InvoiceService):
        self.ctx = ctx
        self.settings = settings
        self.invoices = invoices

    def preview(self, companies: Path | str | None = None, orders: Path | str | None = None,
                invoices: Path | str | None = None) -> ImportReport:
        """What ``run`` would do with these exports; nothing is written."""
        documents = _read(companies, orders, invoices)
        with self.ctx.db.read_session() as session:
            return self._plan(session, *documents, dry_run=True).report

    def run(self, companies: Path | str | None = None, orders: Path | str | None = None,
            invoices: Path | str | None = None) -> ImportReport:
        """Imports the exports in one transaction; a second run of the same files changes nothing."""
        self.ctx.require("admin", "import data from another system")
        documents = _read(companies, orders, invoices)
        try:
            plan = self._run(documents)
        except IntegrityError:
            raise ConflictError(CONCURRENT) from None
        plan.report.finished_at = utcnow()
        if plan.report.changes:
            self._publish(plan)
        return plan.report

    def _run(self, documents) -> _Plan:
        with self.ctx.db.session() as session:
            plan = self._plan(session, *documents, dry_run=False)
            if plan.report.changes:
                self._write(session, plan)
                shown = plan.report.to_json(NOUNS)
                self.ctx.audit(session, "import.social_scale", f"The social-scale export: {shown['summary']}",
                               "import", None, details={key: shown[key] for key in ("created", "linked", "skipped")}
                               | {"rounded": shown["rounded"][:200], "numbering": shown.get("numbering")})
        return plan

    def _publish(self, plan: _Plan) -> None:
        for step, _doc, _spec in plan.companies:
            if step.action == "create":
                self.ctx.events.publish(CompanyChanged(step.record_id))
        self.ctx.events.publish(OrdersChanged(None))
        for step, _doc, spec in plan.invoices:
            if step.action == "create":
                self.ctx.events.publish(InvoiceChanged(step.record_id, spec["status"]))

    # --- planning (reads only) ---------------------------------------------------------------
    def _plan(self, session, companies: list[Document], orders: list[Document], invoices: list[Document],
              dry_run: bool) -> _Plan:
        plan = _Plan(ImportReport(SOURCE, dry_run))
        known_companies = imported_ids(session, "company")
        known_orders = imported_ids(session, "order")
        known_invoices = imported_ids(session, "invoice")
        company_docs = unique_ids(companies, "company")
        order_docs = unique_ids(orders, "order")
        invoice_docs = unique_ids(invoices, "invoice")
        default_currency = self.settings.get("invoice.currency")
        currencies: dict[str, str] = {}

        for legacy, doc in company_docs.items():
            spec = _company_spec(doc, default_currency)
            currencies[legacy] = spec["currency"]
            if legacy in known_companies:
                step = Step("company", legacy, "skip", spec["name"], "imported before", known_companies[legacy])
                plan.company_ids[legacy] = known_companies[legacy]
            else:
                same_name = session.scalar(select(Company.id).where(
                    func.lower(Company.name) == spec["name"].lower(), Company.archived_at.is_(None)).limit(1))
                if same_name is not None:
                    step = Step("company", legacy, "link", spec["name"],
                                f"a company of that name is here already (#{same_name}); its orders go to it",
                                same_name)
                    currencies[legacy] = session.get(Company, same_name).currency
                else:
                    step = Step("company", legacy, "create", spec["name"])
                plan.company_ids[legacy] = same_name
            plan.report.steps.append(step)
            plan.companies.append((step, doc, spec))

        def company_of(doc: Document, legacy_company: str | None) -> tuple[str, int | None]:
            if legacy_company is None:
                raise doc.refuse("it names no company (companyId).", "companyId")
            if legacy_company in plan.company_ids:
                return legacy_company, plan.company_ids[legacy_company]
            if legacy_company in known_companies:
                return legacy_company, known_companies[legacy_company]
            raise doc.refuse(f"it points at company {legacy_company}, which is neither in the companies export "
                             f"nor imported before.", "companyId")

        def currency_of(legacy_company: str, company_id: int | None) -> str:
            if legacy_company in currencies:
                return currencies[legacy_company]
            company = session.get(Company, company_id) if company_id is not None else None
            return company.currency if company is not None else default_currency

        # An invoice's multiplier is its order's when the order does not carry one.
        invoice_multipliers: dict[str, Decimal] = {}
        for doc in invoice_docs.values():
            order_ref = _invoice_order(doc)
            multiplier = doc.number("multiplier", "invoiceMultiplier")
            if order_ref is not None and multiplier is not None:
                invoice_multipliers.setdefault(order_ref, multiplier)

        provider_ids: dict[int, str] = {}
        for legacy, doc in order_docs.items():
            legacy_company, company_id = company_of(doc, doc.reference("companyId", "company"))
            currency = _currency(doc) or currency_of(legacy_company, company_id)
            spec = self._order_spec(session, doc, legacy, currency, plan.report.rounded,
                                    invoice_multipliers.get(legacy), legacy_company, company_id)
            provider_id = spec["provider_order_id"]
            if provider_id is not None:
                if provider_id in provider_ids:
                    other = order_docs[provider_ids[provider_id]]
                    raise doc.refuse(f"Fampage order {provider_id} is also {other.where}.")
                provider_ids[provider_id] = legacy
            label = f"{spec['service_name']} × {spec['quantity']} for {spec['link']}"
            if legacy in known_orders:
                step = Step("order", legacy, "skip", label, "imported before", known_orders[legacy])
                plan.order_ids[legacy] = known_orders[legacy]
            else:
                if provider_id is not None:
                    clash = session.scalar(select(FampageOrder.id).where(FampageOrder.provider_order_id == provider_id))
                    if clash is not None:
                        raise doc.refuse(f"Fampage order {provider_id} is already order #{clash} here.",
                                         "apiOrderId")
                step = Step("order", legacy, "create", label)
                plan.order_ids[legacy] = None
            plan.report.steps.append(step)
            plan.orders.append((step, doc, spec))

        numbers: dict[str, str] = {}
        for legacy, doc in invoice_docs.items():
            legacy_order = _invoice_order(doc)
            if legacy_order is not None and legacy_order not in plan.order_ids and legacy_order not in known_orders:
                raise doc.refuse(f"it is for order {legacy_order}, which is neither in the orders export nor "
                                 f"imported before.", "orderId")
            legacy_company = doc.reference("companyId", "company")
            if legacy_company is None and legacy_order is not None:
                legacy_company = _order_company(order_docs, session, legacy_order)
            legacy_company, company_id = company_of(doc, legacy_company)
            currency = _currency(doc) or currency_of(legacy_company, company_id)
            spec = _invoice_spec(doc, legacy, currency, plan.report.rounded)
            spec.update(legacy_company=legacy_company, company_id=company_id, legacy_order=legacy_order)
            number = spec["number"]
            label = number or f"unnumbered invoice {legacy}"
            if number is not None:
                if number in numbers:
                    raise doc.refuse(f"invoice number {number} is also {invoice_docs[numbers[number]].where}.")
                numbers[number] = legacy
                self._count_number(plan, spec)
            if legacy in known_invoices:
                step = Step("invoice", legacy, "skip", label, "imported before", known_invoices[legacy])
            else:
                if number is not None:
                    taken = session.scalar(select(Invoice.id).where(Invoice.number == number))
                    if taken is not None:
                        raise doc.refuse(f"invoice number {number} is taken here already (invoice #{taken}).",
                                         "invoiceNumber")
                step = Step("invoice", legacy, "create", label)
                if spec.pop("issued_from_draft", False):
                    plan.report.notes.append(f"{number} was a draft there with its number; it is imported as "
                                             f"issued, since a number is given only when issuing here.")
            plan.report.steps.append(step)
            plan.invoices.append((step, doc, spec))
        self._plan_numbering(session, plan)
        return plan

    def _order_spec(self, session, doc: Document, legacy: str, currency: str, rounded: list[Rounded],
                    invoice_multiplier: Decimal | None, legacy_company: str, company_id: int | None) -> dict:
        service_id = doc.whole("serviceId", "service.service", "service.id", "serviceDetails.service")
        given = doc.first("service")
        if service_id is None and (isinstance(given, int) or (isinstance(given, str) and given.strip().isdigit())):
            service_id = doc.whole("service")
        entry = session.get(FampageService, service_id) if service_id is not None else None
        named = given.strip()[:500] if isinstance(given, str) and not given.strip().isdigit() else None
        name = (doc.text("serviceName", "service.name", "serviceDetails.name", max_length=500) or named
                or (entry.name if entry is not None else None)
                or (f"Fampage service {service_id}" if service_id is not None else None))
        if name is None:
            raise doc.refuse("it names no service (service or serviceName).", "service")
        service_type = (doc.text("serviceType", "type", "service.type", "serviceDetails.type", max_length=64)
                        or (entry.type if entry is not None else "Default"))
        category = doc.text("category", "service.category", "serviceDetails.category", max_length=300)
        network = (doc.text("network", "platform", max_length=64) or (entry.network if entry is not None else None)
                   or network_of(category))
        link = doc.text("link", "targetUrl", "url", max_length=1000)
        if link is None:
            raise doc.refuse("it has no link.", "link")
        quantity = doc.whole("quantity")
        if quantity is None or quantity <= 0 or quantity > 2**31 - 1:
            raise doc.refuse("its quantity must be a whole number above 0.", "quantity")
        provider_order_id = doc.whole("apiOrderId", "fampageOrderId", "providerOrderId", "externalOrderId")
        if provider_order_id is not None and provider_order_id <= 0:
            raise doc.refuse(f"its Fampage order id {provider_order_id} is not an id.", "apiOrderId")

        def provider_amount(keys: tuple[str, ...]) -> Decimal | None:
            value = doc.number(*keys)
            if value is not None and value < 0:
                raise doc.refuse(f"{keys[0]} is negative.", keys[0])
            return exact(value, PROVIDER_PLACES, rounded, "order", legacy, keys[0], money.plain)

        charge = provider_amount(("charge", "charged"))
        cost = provider_amount(("cost", "orderCost", "providerCost"))  # never "price": that may be the client's
        rate = provider_amount(("rate", "serviceRate", "service.rate", "serviceDetails.rate"))
        if cost is None:
            cost = charge if charge is not None else (
                money.provider_cost(rate, quantity, service_type) if rate is not None else None)
        if cost is None:
            raise doc.refuse("it has no charge or cost.", "charge")
        if rate is None:
            rate = money.plain(cost if money.is_package(service_type)
                               else (cost * 1000 / quantity).quantize(Decimal(1).scaleb(-PROVIDER_PLACES)))
        multiplier = doc.number("invoiceMultiplier", "multiplier") or invoice_multiplier
        if multiplier is not None and (multiplier <= 0 or multiplier > 1000):
            raise doc.refuse(f"its invoice multiplier {multiplier} is not above 0 and at most 1000.", "multiplier")
        status_raw = doc.text("status", max_length=64)
        state = normalise_status(status_raw)
        remains = doc.whole("remains", "stats.remains")
        net = charge if charge is not None else cost
        refund = Decimal(0)
        if state in ("partial", "canceled"):
            refund = money.refund_of(net, remains, quantity)  # the provider gave this back already
        elif state in ("refunded", "failed"):
            refund = net
        return {"legacy_company": legacy_company, "company_id": company_id, "service_id": entry.id if entry else None,
                "service_name": name, "service_type": service_type, "network": network or "Other", "link": link,
                "link_key": link_key(link), "quantity": quantity, "comments": doc.text("comments", max_length=100_000),
                "runs": doc.whole("runs"), "interval": doc.whole("interval"), "rate": rate, "cost": cost,
                "charge": charge, "refund": money.plain(refund) if refund else Decimal(0), "currency": currency.upper(),
                "multiplier": multiplier, "provider_order_id": provider_order_id, "status_raw": status_raw,
                "state": state, "start_count": doc.whole("startCount", "start_count", "stats.startCount"),
                "remains": remains, "manual": provider_order_id is None,
                "synced_at": doc.moment("lastSyncedAt", "lastStatusCheck", "syncedAt"),
                "created_at": doc.moment("createdAt", "orderDate"), "updated_at": doc.moment("updatedAt"),
                "cost_units": money.to_units(net - refund)}

    @staticmethod
    def _count_number(plan: _Plan, spec: dict) -> None:
        """Which of our series this number's count belongs to, so our numbering continues after it."""
        groups = re.findall(r"\d+", spec["number"])
        if not groups:
            plan.report.notes.append(f"{spec['number']} has no count in it; our numbering does not follow it.")
            return
        count = int(groups[-1])
        if count > MAX_COUNTER or count == 0:
            plan.report.notes.append(f"{spec['number']}'s last digits are not a count; our numbering does not "
                                     f"follow it.")
            return
        years = [int(g[:4]) for g in groups[:-1] if len(g) in (4, 6, 8) and 2000 <= int(g[:4]) <= 2099]
        prefix = SERIES_PREFIX["invoice"]
        if years:
            series = {f"{prefix}-{years[0]}"}
        else:  # one running count over the years: it goes on in this year's series too
            issued = spec["issue_date"] or today()
            series = {f"{prefix}-{issued.year}", f"{prefix}-{today().year}"}
        for name in series:
            plan.counters[name] = max(plan.counters.get(name, 0), count)

    @staticmethod
    def _plan_numbering(session, plan: _Plan) -> None:
        numbering = {}
        for series, highest in sorted(plan.counters.items()):
            last = session.scalar(select(InvoiceCounter.last_number).where(InvoiceCounter.series == series)) or 0
            numbering[series] = {"lastNumber": max(last, highest), "before": last,
                                 "next": f"{series}-{max(last, highest) + 1:06d}"}
        plan.report.extra["numbering"] = numbering

    # --- writing -----------------------------------------------------------------------------
    def _write(self, session, plan: _Plan) -> None:
        for step, _doc, spec in plan.companies:
            if step.action == "create":
                timestamps = {k: spec.pop(k) for k in ("created_at", "updated_at")}
                company = Company(**spec, **{k: v for k, v in timestamps.items() if v is not None})
                session.add(company)
                session.flush()
                step.record_id = company.id
            if step.action in ("create", "link"):
                plan.company_ids[step.legacy_id] = step.record_id
                remember(session, SOURCE, "company", step.legacy_id, step.record_id)
        default_multiplier = Decimal(self.settings.get("invoice.multiplier"))
        for step, _doc, spec in plan.orders:
            if step.action != "create":
                continue
            legacy_company, known_id = spec.pop("legacy_company"), spec.pop("company_id")
            company = session.get(Company, plan.company_ids.get(legacy_company) or known_id)
            if spec["multiplier"] is None:
                spec["multiplier"] = company.invoice_multiplier or default_multiplier
            values = {k: v for k, v in spec.items() if not (k in ("created_at", "updated_at") and v is None)}
            order = FampageOrder(company_id=company.id, **values)
            session.add(order)
            session.flush()
            step.record_id = order.id
            plan.order_ids[step.legacy_id] = order.id
            remember(session, SOURCE, "order", step.legacy_id, order.id)
        known_orders = imported_ids(session, "order")
        issuer = self.invoices.issuer()
        touched: set[int] = set()
        for step, _doc, spec in plan.invoices:
            if step.action != "create":
                continue
            company = session.get(Company, plan.company_ids.get(spec["legacy_company"]) or spec["company_id"])
            order_id = known_orders.get(spec["legacy_order"]) if spec["legacy_order"] else None
            order = session.get(FampageOrder, order_id) if order_id is not None else None
            invoice = self._invoice(spec, company, order, issuer)
            session.add(invoice)
            session.flush()
            step.record_id = invoice.id
            remember(session, SOURCE, "invoice", step.legacy_id, invoice.id)
            if order_id is not None:
                touched.add(order_id)
        session.flush()
        for order_id in touched:
            InvoiceService.refresh_order_revenue(session, order_id)
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        for series, numbering in plan.report.extra.get("numbering", {}).items():
            # Raised in one statement, never lowered: an invoice issued meanwhile keeps its count.
            session.execute(insert(InvoiceCounter).values(series=series, last_number=0).on_conflict_do_nothing())
            session.execute(update(InvoiceCounter).where(InvoiceCounter.series == series,
                                                         InvoiceCounter.last_number < numbering["lastNumber"])
                            .values(last_number=numbering["lastNumber"]))

    @staticmethod
    def _invoice(spec: dict, company: Company, order: FampageOrder | None, issuer: dict) -> Invoice:
        invoice = Invoice(kind="invoice", company_id=company.id, order_id=order.id if order else None,
                          number=spec["number"], status=spec["status"], currency=spec["currency"],
                          tax_rate=spec["tax_rate"], tax_label=spec["tax_label"], notes=spec["notes"],
                          issue_date=spec["issue_date"], due_date=spec["due_date"], paid_at=spec["paid_at"],
                          voided_at=spec["voided_at"])
        if spec["created_at"] is not None:
            invoice.created_at = spec["created_at"]
        if spec["number"] is not None:  # issued there: frozen as they were when it was issued
            invoice.issuer = issuer
            invoice.client = {"name": company.name, "contactName": company.contact_name, "email": company.email,
                              "phone": company.phone, "address": company.address, "taxId": company.tax_id}
        lines = spec["lines"] or [_order_line(spec, order)]
        for position, line in enumerate(lines, 1):
            invoice.lines.append(InvoiceLine(position=position, **line))
        invoice.subtotal = spec["subtotal"] if spec["subtotal"] is not None else sum(
            (line.amount for line in invoice.lines), Decimal(0))
        invoice.tax = spec["tax"] if spec["tax"] is not None else Decimal(0)
        invoice.total = spec["total"] if spec["total"] is not None else invoice.subtotal + invoice.tax
        return invoice


def _read(companies, orders, invoices) -> tuple[list[Document], list[Document], list[Document]]:
    if companies is None and orders is None and invoices is None:
        raise ValidationError("Give at least one export: --companies, --orders or --invoices.", field="file")
    return read_documents(companies), read_documents(orders), read_documents(invoices)


def _currency(doc: Document) -> str | None:
    code = doc.text("currency", max_length=10)
    if code is not None and (len(code) != 3 or not code.isalpha()):
        raise doc.refuse(f"its currency {code!r} is not a three-letter code such as INR.", "currency")
    return code.upper() if code else None


def _invoice_order(doc: Document) -> str | None:
    single = doc.reference("orderId", "order")
    if single is not None:
        return single
    many = doc.first("orders", "orderIds")
    if isinstance(many, list) and len(many) == 1:
        only = many[0].get("_id") if isinstance(many[0], dict) else many[0]
        return only.strip().lower() if isinstance(only, str) else None
    return None


def _order_company(order_docs: dict[str, Document], session, legacy_order: str) -> str | None:
    if legacy_order in order_docs:
        return order_docs[legacy_order].reference("companyId", "company")
    from giftdesk.db.imported_models import ImportedRecord
    order_id = session.scalar(select(ImportedRecord.record_id).where(ImportedRecord.kind == "order",
                                                                     ImportedRecord.legacy_id == legacy_order))
    company_id = session.scalar(select(FampageOrder.company_id).where(FampageOrder.id == order_id))
    return session.scalar(select(ImportedRecord.legacy_id).where(ImportedRecord.kind == "company",
                                                                 ImportedRecord.record_id == company_id))


def _company_spec(doc: Document, default_currency: str) -> dict:
    name = doc.text("name", "companyName", max_length=200)
    if name is None:
        raise doc.refuse("the company has no name.", "name")
    try:
        email = validation.email(doc.text("email", "contactEmail", max_length=254), "email")
    except ValidationError as exc:
        raise doc.refuse(str(exc), "email") from None
    address = doc.first("address")
    if isinstance(address, dict):
        address = ", ".join(str(v).strip() for v in address.values() if isinstance(v, (str, int)) and str(v).strip())
        address = address or None
    elif address is not None:
        address = doc.text("address", max_length=2000)
    notes = [part for part in (doc.text("notes", "description", max_length=2000),
                               doc.text("website", max_length=500),
                               doc.text("industry", max_length=200)) if part]
    status = (doc.text("status", max_length=16) or "").lower()
    if status not in COMPANY_STATUSES:
        status = "inactive" if doc.first("isActive") is False else "active"
    currency = _currency(doc) or default_currency.upper()
    multiplier = doc.number("invoiceMultiplier", "defaultMultiplier", "multiplier")
    if multiplier is not None and (multiplier <= 0 or multiplier > 1000):
        raise doc.refuse(f"its invoice multiplier {multiplier} is not above 0 and at most 1000.", "multiplier")
    return {"name": name, "contact_name": doc.text("contactPerson", "contactName", "contact.name"),
            "email": email, "phone": doc.text("phone", "contactPhone", "phoneNumber", max_length=50),
            "address": address, "tax_id": doc.text("taxId", "gstNumber", "gstin", "vatNumber", max_length=50),
            "notes": "\n".join(notes) or None, "status": status, "currency": currency,
            "invoice_multiplier": multiplier, "created_at": doc.moment("createdAt"),
            "updated_at": doc.moment("updatedAt")}


def _invoice_spec(doc: Document, legacy: str, currency: str, rounded: list[Rounded]) -> dict:
    currency = currency.upper()
    places = -money.minor_unit(currency).as_tuple().exponent

    def amount(*keys: str) -> Decimal | None:
        value = doc.number(*keys)
        if value is not None and value < 0:
            raise doc.refuse(f"{keys[0]} is negative.", keys[0])
        return exact(value, places, rounded, "invoice", legacy, keys[0])

    number = doc.text("invoiceNumber", "number", max_length=32)
    raw_status = (doc.text("status", max_length=32) or "").lower()
    created_at = doc.moment("createdAt")
    issue_date = doc.day("issueDate", "issuedAt", "invoiceDate") or (created_at.date() if created_at else None)
    if raw_status in _PAID:
        status = "paid"
    elif raw_status in _VOID:
        status = "void"
    else:
        status = "sent" if number is not None else "draft"
    lines = []
    items = doc.first("items", "lineItems", "lines")
    if items is not None and not isinstance(items, list):
        raise doc.refuse("its items are not a list.", "items")
    for position, item in enumerate(items or [], 1):
        if not isinstance(item, dict):
            raise doc.refuse(f"item {position} is not an object.", "items")
        lines.append(_item_line(Document(item, doc.path, doc.position), doc, legacy, position, places, rounded))
    subtotal = amount("subtotal", "subTotal", "amount", "baseAmount")
    tax = amount("tax", "taxAmount", "gst")
    total = amount("total", "totalAmount", "grandTotal")
    if subtotal is None and total is not None:
        subtotal = total - (tax or Decimal(0))
    tax_rate = doc.number("taxRate", "taxPercent", "gstRate")
    if tax_rate is None:
        tax_rate = ((tax * 100 / subtotal).quantize(Decimal("0.01")) if tax and subtotal else Decimal(0))
    return {"number": number, "status": status, "issued_from_draft": raw_status == "draft" and number is not None,
            "currency": currency, "tax_rate": tax_rate, "tax_label": doc.text("taxLabel", max_length=50),
            "notes": doc.text("notes", max_length=2000), "issue_date": issue_date if number else None,
            "due_date": doc.day("dueDate"),
            "paid_at": (doc.moment("paidAt", "paidDate", "updatedAt") if status == "paid" else None),
            "voided_at": (doc.moment("cancelledAt", "voidedAt", "updatedAt") or utcnow()) if status == "void" else None,
            "created_at": created_at, "lines": lines, "subtotal": subtotal, "tax": tax, "total": total,
            "multiplier": doc.number("multiplier", "invoiceMultiplier")}


def _item_line(item: Document, doc: Document, legacy: str, position: int, places: int,
               rounded: list[Rounded]) -> dict:
    description = item.text("description", "name", "service", max_length=500) or f"Item {position}"
    quantity = item.whole("quantity") or 1
    if quantity <= 0 or quantity > 2**31 - 1:
        raise doc.refuse(f"item {position}'s quantity must be a whole number above 0.", "items")
    line_amount = exact(item.number("amount", "total"), places, rounded, "invoice", legacy,
                        f"items.{position}.amount")
    unit = item.number("unitPrice", "rate", "price")
    if unit is not None:
        unit = exact(unit, PROVIDER_PLACES, rounded, "invoice", legacy, f"items.{position}.unitPrice", money.plain)
    if line_amount is None and unit is None:
        raise doc.refuse(f"item {position} has no amount.", "items")
    per = 1
    if unit is None:
        unit = _unit_price(line_amount, quantity, per)
    elif line_amount is None:
        line_amount = exact(unit * quantity, places, rounded, "invoice", legacy, f"items.{position}.amount")
    elif abs(unit * quantity - line_amount) > abs(unit * quantity / 1000 - line_amount):
        per = 1000  # a price per thousand, as the panel's rates are
    return {"description": description, "link": item.text("link", "url", max_length=1000), "quantity": quantity,
            "unit_price": unit, "per": per, "amount": line_amount}


def _order_line(spec: dict, order: FampageOrder | None) -> dict:
    """An invoice without items bills its order: one line with the order's terms and the amount billed."""
    amount = spec["subtotal"] if spec["subtotal"] is not None else Decimal(0)
    if order is None:
        return {"description": "Services", "link": None, "quantity": 1, "unit_price": amount, "per": 1,
                "amount": amount}
    quantity = order.quantity if not money.is_package(order.service_type) else 1
    per = 1 if money.is_package(order.service_type) else 1000
    return {"description": order.service_name[:500], "link": order.link, "quantity": quantity,
            "unit_price": _unit_price(amount, quantity, per), "per": per, "amount": amount}


def _unit_price(amount: Decimal, quantity: int, per: int) -> Decimal:
    return money.plain((amount * per / quantity).quantize(Decimal(1).scaleb(-PROVIDER_PLACES)))
