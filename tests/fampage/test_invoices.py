"""Invoices: gap-free numbering under concurrent issue (SQLite and PostgreSQL), lifecycle, money rules."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import update

from giftdesk.db.fampage_models import FampageOrder, Invoice
from giftdesk.core.errors import ConflictError, NotFoundError, ValidationError
from giftdesk.fampage import money


def _drafts(desk, count: int, company_name: str = "Acme") -> list[int]:
    company = desk.companies.create(company_name)
    ids = []
    for i in range(count):
        order = desk.orders.create_manual(company.id, "Followers", f"https://tiktok.com/@n{i}", 1000, "0.90")
        ids.append(desk.orders.invoice_of(order.id).id)
    return ids


def test_concurrent_issue_numbers_without_gaps(any_db_desk):
    desk = any_db_desk
    ids = _drafts(desk, 24)
    real_audit = desk.ctx.audit
    failing = set(ids[::5])  # these fail after taking a number: their transaction rolls back

    def audit(session, action, summary, target_type=None, target_id=None, details=None):
        if action == "invoice.issue" and target_id in failing:
            raise RuntimeError("disk full")
        return real_audit(session, action, summary, target_type, target_id, details)

    desk.ctx.audit = audit
    errors = []
    barrier = threading.Barrier(6)

    def worker(chunk):
        barrier.wait()
        for invoice_id in chunk:
            try:
                desk.invoices.issue(invoice_id)
            except RuntimeError as exc:
                errors.append(str(exc))

    threads = [threading.Thread(target=worker, args=(ids[i::6],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    year = date.today().year
    numbers = sorted(i.number for i in desk.invoices.list() if i.number)
    assert len(errors) == len(failing)
    assert numbers == [f"INV-{year}-{n:06d}" for n in range(1, len(ids) - len(failing) + 1)]
    desk.ctx.audit = real_audit
    for invoice_id in sorted(failing):  # issued later, they continue the sequence
        desk.invoices.issue(invoice_id)
    numbers = sorted(i.number for i in desk.invoices.list())
    assert numbers == [f"INV-{year}-{n:06d}" for n in range(1, len(ids) + 1)]


def test_lifecycle_pay_void_overdue_and_immutability(desk):
    desk.settings.update({"invoice.tax_rate": "18", "invoice.tax_label": "GST", "company.name": "Agency",
                          "company.tax_id": "GST-AGENCY"})
    first, second, third = _drafts(desk, 3)
    taxed = desk.invoices.get(first)
    assert taxed.subtotal == Decimal("7.20") and taxed.tax == Decimal("1.30") and taxed.total == Decimal("8.50")
    untaxed = desk.invoices.set_tax(second, "0")
    assert untaxed.tax == 0 and untaxed.total == Decimal("7.20")
    with pytest.raises(ConflictError, match="Only a sent invoice"):
        desk.invoices.pay(first)
    issued = desk.invoices.issue(first, due_days=7)
    assert issued.issuer["taxId"] == "GST-AGENCY" and issued.client["name"] == "Acme"
    assert issued.due_date == issued.issue_date + timedelta(days=7) and not issued.overdue
    with pytest.raises(ConflictError, match="never changes"):
        desk.invoices.set_tax(first, "5")
    with pytest.raises(ConflictError, match="already issued"):
        desk.invoices.issue(first)
    with desk.db.session() as session:
        session.execute(update(Invoice).where(Invoice.id == first).values(due_date=date.today() - timedelta(days=1)))
    assert desk.invoices.get(first).overdue and desk.invoices.get(first).display_status == "overdue"
    assert [i.id for i in desk.invoices.list(status="overdue")] == [first]
    paid = desk.invoices.pay(first)
    assert paid.status == "paid" and not paid.overdue and paid.balance_due == 0
    with pytest.raises(ConflictError, match="credit note"):
        desk.invoices.void(first)
    desk.invoices.issue(second)
    voided = desk.invoices.void(second)
    assert voided.status == "void" and voided.number  # the number stays: no gap
    assert desk.invoices.void(third).status == "void"
    assert [i.status for i in desk.invoices.list()] == ["void", "void", "paid"]
    order_id = desk.invoices.get(second).order_id
    assert desk.orders.get(order_id).revenue == 0  # a void invoice earns nothing


def test_credit_note_cannot_be_paid(desk):
    company = desk.companies.create("Acme")
    order = desk.orders.create_manual(company.id, "Followers", "https://tiktok.com/@cn", 1000, "0.90")
    invoice = desk.orders.invoice_of(order.id)
    desk.invoices.issue(invoice.id)
    desk.orders.set_status(order.id, "Partial", remains=100)
    [note_id] = desk.invoices.get(invoice.id).credit_note_ids
    with pytest.raises(ValidationError, match="not paid"):
        desk.invoices.pay(note_id)


def test_rounding_happens_once_after_multiplying():
    cost = money.provider_cost(Decimal("18.7234"), 100, "Default")
    assert money.round_money(cost, "INR") * 8 == Decimal("14.96")  # the wrong way
    q, unit, per = money.line_terms(Decimal("18.7234"), 100, "Default", Decimal(8))
    assert money.line_amount(q, unit, per, "INR") == Decimal("14.98")
    assert money.round_money(Decimal("0.125"), "INR") == Decimal("0.13")  # half-up, not banker's
    assert money.round_money(Decimal("12.5"), "JPY") == Decimal("13")


rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("5000"), places=4)
multipliers = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("20"), places=2)
tax_rates = st.decimals(min_value=Decimal(0), max_value=Decimal(30), places=2)


@settings(max_examples=300, deadline=None)
@given(rate=rates, quantity=st.integers(1, 1_000_000), multiplier=multipliers, tax_rate=tax_rates,
       remains=st.integers(-50, 1_000_000), currency=st.sampled_from(["INR", "USD", "JPY", "KWD"]),
       kind=st.sampled_from(["Default", "Package"]))
def test_lines_taxes_credits_and_totals_add_up(rate, quantity, multiplier, tax_rate, remains, currency, kind):
    remains = min(remains, quantity)
    q, unit, per = money.line_terms(rate, quantity, kind, multiplier)
    exact = money.line_exact(q, unit, per)
    amount = money.line_amount(q, unit, per, currency)
    assert abs(amount - exact) <= money.minor_unit(currency) / 2  # rounded once
    assert amount == amount.quantize(money.minor_unit(currency))
    tax = money.tax_of(amount, tax_rate, currency)
    total = amount + tax
    assert total - amount == tax and tax >= 0
    credit = money.round_money(exact * money.clamp_remains(remains, quantity) / quantity, currency)
    assert 0 <= credit <= amount  # a credit note never exceeds its line
    if money.clamp_remains(remains, quantity) == quantity:
        assert credit == amount  # a full cancel credits exactly the invoice
    credit_total = credit + money.tax_of(credit, tax_rate, currency)
    assert credit_total <= total
    refund = money.refund_of(money.provider_cost(rate, quantity, kind), remains, quantity)
    cost = money.provider_cost(rate, quantity, kind)
    assert 0 <= refund <= cost
    # to_units rounds half-up past 10⁻⁸ (quantize alone would round half-even)
    assert money.from_units(money.to_units(cost - refund)) == (cost - refund).quantize(Decimal("1e-8"), ROUND_HALF_UP)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(quantities=st.lists(st.integers(1, 5000), min_size=1, max_size=6),
       remains_share=st.lists(st.integers(0, 100), min_size=6, max_size=6),
       tax_rate=tax_rates)
def test_stored_invoices_and_credit_notes_add_up(desk, quantities, remains_share, tax_rate):
    desk.settings.update({"invoice.tax_rate": str(tax_rate)})
    company = desk.companies.create(f"Prop {len(desk.companies.list())}")
    for quantity, share in zip(quantities, remains_share):
        order = desk.orders.create_manual(company.id, "Likes", f"https://tiktok.com/@p{quantity}", quantity,
                                          str(Decimal("18.7234") * quantity / 1000))
        invoice = desk.orders.invoice_of(order.id)
        desk.invoices.issue(invoice.id)
        desk.orders.set_status(order.id, "Partial", remains=quantity * share // 100)
        invoice = desk.invoices.get(invoice.id)
        notes = [desk.invoices.get(i) for i in invoice.credit_note_ids]
        for doc in [invoice, *notes]:
            assert doc.subtotal == sum(line.amount for line in doc.lines)
            assert doc.total == doc.subtotal + doc.tax
            assert doc.tax == money.tax_of(doc.subtotal, doc.tax_rate, doc.currency)
        assert invoice.credited == sum(n.total for n in notes) <= invoice.total
        assert invoice.balance_due == invoice.total - invoice.credited
        assert desk.orders.get(order.id).revenue == invoice.subtotal - sum(n.subtotal for n in notes)


def test_an_order_is_invoiced_again_after_its_invoice_is_voided(desk):
    company = desk.companies.create("Acme")
    order = desk.orders.create_manual(company.id, "Followers", "https://tiktok.com/@again", 1000, "0.90")
    first = desk.orders.invoice_of(order.id)
    with pytest.raises(ConflictError, match="already has draft #"):
        desk.invoices.create_for_order(order.id)
    desk.invoices.issue(first.id)
    desk.invoices.void(first.id)
    assert desk.orders.get(order.id).revenue == 0
    again = desk.invoices.create_for_order(order.id)
    assert again.id != first.id and again.status == "draft" and again.order_id == order.id
    assert again.total == first.total and again.lines[0].description == first.lines[0].description
    assert desk.orders.invoice_of(order.id).id == again.id  # the standing invoice, not the voided one
    assert desk.orders.get(order.id).revenue == again.subtotal
    issued = desk.invoices.issue(again.id)
    with pytest.raises(ConflictError, match=f"already has {issued.number}"):
        desk.invoices.create_for_order(order.id)
    # A partial delivery credits the standing invoice, not the voided one.
    desk.orders.set_status(order.id, "Partial", remains=100)
    assert desk.invoices.get(again.id).credit_note_ids and not desk.invoices.get(first.id).credit_note_ids
    audit = [e for e in desk.audit.list() if e.action == "invoice.create"]
    assert len(audit) == 1 and audit[0].details == {"order": order.id}


def test_invoicing_an_order_refuses_what_cannot_be_billed(desk):
    with pytest.raises(NotFoundError, match="no order #999"):
        desk.invoices.create_for_order(999)
    company = desk.companies.create("Acme")
    order = desk.orders.create_manual(company.id, "Followers", "https://tiktok.com/@nb", 1000, "0.90")
    with desk.db.session() as session:
        session.execute(update(FampageOrder).where(FampageOrder.id == order.id).values(state="not_placed"))
        session.execute(update(Invoice).where(Invoice.order_id == order.id).values(status="void"))
    before = len(desk.invoices.list())
    with pytest.raises(ConflictError, match="is not placed: only a placed order"):
        desk.invoices.create_for_order(order.id)
    assert len(desk.invoices.list()) == before
