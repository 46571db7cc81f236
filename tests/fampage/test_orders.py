"""Placing, syncing, refilling and cancelling orders against the fake panel; refunds and credit notes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from giftdesk.db.fampage_models import FampageOrder, Invoice
from giftdesk.core.errors import ConflictError, ValidationError
from giftdesk.fampage.client import DuplicateLink, FampageTimeout, FampageUnavailable, InsufficientFunds, InvalidLink
from giftdesk.fampage.orders import OrderFilter, link_key


@pytest.fixture
def acme(fdesk):
    fdesk.fampage.ensure_catalogue()
    return fdesk.companies.create("Acme", tax_id="GSTIN-ACME")


def _count(desk, model) -> int:
    with desk.db.read_session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_preview_then_place_creates_order_and_invoice(fdesk, fake, acme):
    fdesk.fampage.balance()
    preview = fdesk.orders.preview(acme.id, 102, "https://tiktok.com/@acme/video/1", 100)
    # 18.7234 × 100 / 1000 = 1.87234; × 8 = 14.97872 → 14.98 (rounding the cost first would give 14.96)
    assert preview.cost == Decimal("1.87234") and preview.invoice_amount == Decimal("14.98")
    assert preview.profit == Decimal("13.10766") and preview.balance_after == Decimal("4998.12766")
    order, invoice = fdesk.orders.place(acme.id, 102, "https://tiktok.com/@acme/video/1", 100)
    assert order.state == "pending" and order.provider_order_id in fake.orders and order.cost == preview.cost
    assert invoice.status == "draft" and invoice.number is None and invoice.total == Decimal("14.98")
    assert invoice.lines[0].quantity == 100 and invoice.lines[0].unit_price == Decimal("149.7872")
    assert order.revenue == Decimal("14.98") and order.profit == Decimal("13.10766")
    assert fdesk.fampage.last_balance.amount == Decimal("4998.12766")  # refreshed after the order


def test_type_specific_orders(fdesk, fake, acme):
    package, invoice = fdesk.orders.place(acme.id, 103, "https://tiktok.com/@acme/video/2")
    assert package.quantity == 1000 and package.cost == Decimal("49.50") and invoice.total == Decimal("396.00")
    comments, _ = fdesk.orders.place(acme.id, 104, "https://instagram.com/p/abc", comments="Nice\n\nGreat\nWow")
    assert comments.quantity == 3 and fake.orders[comments.provider_order_id].params["quantity"] == "3"
    drip, invoice = fdesk.orders.place(acme.id, 102, "https://tiktok.com/@acme/video/3", 100, runs=3, interval=10)
    assert drip.cost == Decimal("5.61702") and invoice.lines[0].quantity == 300
    assert fake.orders[drip.provider_order_id].params["runs"] == "3"


@pytest.mark.parametrize("kwargs,message", [
    ({"quantity": 10}, "takes 50 to 10,000; a quantity of 10 is outside that"),
    ({"quantity": "many"}, "whole number"),
    ({"link": "tiktok"}, "http:// or https://"),
    ({"service_id": 104}, "one per line"),
    ({"service_id": 101, "runs": 2, "interval": 5}, "no drip-feed"),
    ({"multiplier": "0"}, "above 0"),
])
def test_bad_input_is_a_sentence_and_sends_nothing(fdesk, fake, acme, kwargs, message):
    args = {"service_id": 101, "link": "https://tiktok.com/@x", "quantity": 100, **kwargs}
    with pytest.raises(ValidationError, match=message):
        fdesk.orders.place(acme.id, **args)
    assert fake.action_counts()["add"] == 0 and _count(fdesk, FampageOrder) == 0


def test_inactive_or_archived_company_cannot_order(fdesk, acme):
    fdesk.companies.update(acme.id, status="suspended")
    with pytest.raises(ValidationError, match="suspended"):
        fdesk.orders.place(acme.id, 101, "https://tiktok.com/@x", 100)


@pytest.mark.parametrize("setup,error,sentence", [
    (lambda fake: setattr(fake, "balance", Decimal("0.01")), InsufficientFunds, "balance is too low"),
    (lambda fake: None, InvalidLink, "rejected the link"),
])
def test_refusals_keep_nothing_but_the_log(fdesk, fake, acme, setup, error, sentence):
    setup(fake)
    link = "https://nodot" if error is InvalidLink else "https://tiktok.com/@y"
    with pytest.raises(error, match=sentence):
        fdesk.orders.place(acme.id, 101, link, 100)
    assert _count(fdesk, FampageOrder) == 0 and _count(fdesk, Invoice) == 0
    assert fdesk.fampage.calls(action="add")[0].ok is False


def test_duplicate_link_is_a_sentence(fdesk, acme):
    fdesk.orders.place(acme.id, 101, "https://tiktok.com/@dup", 100)
    with pytest.raises(DuplicateLink, match="already has an active order"):
        fdesk.orders.place(acme.id, 101, "https://tiktok.com/@dup", 100)
    assert _count(fdesk, FampageOrder) == 1


def test_timed_out_add_stays_unconfirmed_until_reconciled(fdesk, fake, acme):
    fdesk.fampage.backoff = 0.01
    fake.hang("add", 3)
    client_factory = fdesk.fampage.client

    def short_client(*args, **kwargs):
        client = client_factory(*args, **kwargs)
        client.add_timeout = 0.5
        return client

    fdesk.fampage.client = short_client
    with pytest.raises(FampageTimeout, match="kept as unconfirmed"):
        fdesk.orders.place(acme.id, 101, "https://tiktok.com/@slow", 100)
    assert fake.action_counts()["add"] == 1  # never re-sent
    [order] = fdesk.orders.list()
    assert order.state == "unconfirmed" and order.provider_order_id is None and "reconcile" in order.last_error
    assert fdesk.orders.invoice_of(order.id) is None
    assert fdesk.orders.sync_open_orders().requested == 0  # nothing to ask Fampage about yet
    with pytest.raises(ValidationError):
        fdesk.orders.reconcile(order.id)
    [provider_id] = list(fake.orders)  # the admin finds it in Fampage's order list
    fake.set_status(provider_id, "In progress", remains=60)
    settled = fdesk.orders.reconcile(order.id, provider_order_id=provider_id)
    assert settled.state == "in_progress" and settled.remains == 60
    assert fdesk.orders.invoice_of(order.id).total == Decimal("0.72")
    with pytest.raises(ConflictError):
        fdesk.orders.reconcile(order.id, not_placed=True)


def test_gateway_error_on_add_is_an_unknown_outcome_and_can_be_marked_not_placed(fdesk, fake, acme):
    fake.fail_next("add", 504, "<html>Gateway Time-out</html>")
    with pytest.raises(FampageTimeout, match=r"lost \(Fampage is not answering properly \(HTTP 504\)\).*not sent again"):
        fdesk.orders.place(acme.id, 101, "https://tiktok.com/@gw", 100)
    [order] = fdesk.orders.list()
    assert order.state == "unconfirmed"
    settled = fdesk.orders.reconcile(order.id, not_placed=True)
    assert settled.state == "not_placed" and fdesk.orders.stats()["open"] == 0
    assert Decimal(fdesk.orders.stats()["cost"]) == 0  # counted nowhere, as in the analytics
    assert fdesk.analytics.summary()["total"].orders == 0


def test_unreachable_panel_keeps_no_attempt(fdesk, acme):
    fdesk.settings.update({"fampage.base_url": "http://127.0.0.1:9/api/v2"})
    with pytest.raises(FampageUnavailable, match="Cannot reach Fampage"):
        fdesk.orders.place(acme.id, 101, "https://tiktok.com/@down", 100)
    assert _count(fdesk, FampageOrder) == 0


def test_sync_thousands_of_open_orders_in_batches(fdesk, fake, acme):
    ids = fake.add_orders_directly(2500)
    for provider_id in ids:
        fdesk.orders.create_manual(acme.id, "Followers", f"https://tiktok.com/@bulk{provider_id}", 100, "0.09",
                                   provider_order_id=provider_id, status="Pending", with_invoice=False)
    for provider_id in ids[:10]:
        fake.set_status(provider_id, "Completed", remains=0)
    fake.requests.clear()
    result = fdesk.orders.sync_open_orders()
    assert result.requested == 2500 and result.updated == 2500 and result.changed == 2500 and not result.errors
    assert fake.action_counts()["status"] == 25
    states = {o.state for o in fdesk.orders.list(OrderFilter(state="completed"))}
    assert states == {"completed"} and len(fdesk.orders.list(OrderFilter(state="completed"))) == 10
    assert fdesk.orders.stats()["open"] == 2490


def test_partial_refund_and_credit_note_follow_an_issued_invoice(fdesk, fake, acme):
    order, invoice = fdesk.orders.place(acme.id, 101, "https://tiktok.com/@part", 1000)
    issued = fdesk.invoices.issue(invoice.id)
    assert issued.number.startswith("INV-") and issued.total == Decimal("7.20")
    fake.set_status(order.provider_order_id, "Partial", remains=250, start_count=0)
    fdesk.orders.sync([order.id])
    order = fdesk.orders.get(order.id)
    assert order.state == "partial" and order.start_count == 0 and order.refund == Decimal("0.225")
    assert order.net_cost == Decimal("0.675")
    invoice = fdesk.invoices.get(invoice.id)
    [note_id] = invoice.credit_note_ids
    note = fdesk.invoices.get(note_id)
    assert note.kind == "credit_note" and note.number.startswith("CN-") and note.total == Decimal("1.80")
    assert invoice.credited == Decimal("1.80") and invoice.balance_due == Decimal("5.40")
    assert order.revenue == Decimal("5.40") and order.profit == Decimal("4.725")
    fdesk.orders.sync([order.id])  # syncing again refunds nothing more
    assert len(fdesk.invoices.get(invoice.id).credit_note_ids) == 1


def test_cancel_with_credit_note_on_a_draft_issued_with_it(fdesk, fake, acme):
    order, invoice = fdesk.orders.place(acme.id, 102, "https://tiktok.com/@cancel", 100)
    assert fdesk.orders.cancel([order.id]) == {order.id: None}
    order = fdesk.orders.get(order.id)
    assert order.state == "canceled" and order.refund == order.charge and order.net_cost == 0
    [note_id] = fdesk.invoices.get(invoice.id).credit_note_ids
    assert fdesk.invoices.get(note_id).status == "draft"  # the invoice is a draft too
    assert order.revenue == 0 and order.profit == 0
    fdesk.invoices.issue(invoice.id)
    note = fdesk.invoices.get(note_id)
    assert note.number.startswith("CN-") and note.total == fdesk.invoices.get(invoice.id).total


def test_cancel_refused_is_reported_per_order(fdesk, fake, acme):
    package, _ = fdesk.orders.place(acme.id, 103, "https://tiktok.com/@pkg")
    assert fdesk.orders.cancel([package.id])[package.id]
    assert fdesk.orders.get(package.id).state == "pending"


def test_refill_and_its_status(fdesk, fake, acme):
    order, _ = fdesk.orders.place(acme.id, 101, "https://tiktok.com/@refill", 100)
    with pytest.raises(ValidationError, match="no refill"):
        fdesk.orders.refill_status(order.id)
    refilled = fdesk.orders.refill(order.id)
    assert refilled.refill_id and refilled.refill_status == "Pending"
    fake.refills[refilled.refill_id]["status"] = "Completed"
    assert fdesk.orders.refill_status(order.id).refill_status == "Completed"
    other, _ = fdesk.orders.place(acme.id, 102, "https://tiktok.com/@norefill", 100)
    with pytest.raises(Exception, match="refused the refill"):
        fdesk.orders.refill(other.id)


def test_manual_order_and_status_edits(fdesk, acme):
    order = fdesk.orders.create_manual(acme.id, "Likes bought by phone", "https://tiktok.com/@m", 500, "12.50",
                                       multiplier="4")
    assert order.manual and order.charge == Decimal("12.50") and order.revenue == Decimal("50.00")
    edited = fdesk.orders.set_status(order.id, "In progress", start_count=1200, remains=300)
    assert edited.state == "in_progress" and edited.start_count == 1200 and edited.remains == 300
    done = fdesk.orders.set_status(order.id, "Cancelled", remains=500)
    assert done.state == "canceled" and done.refund == Decimal("12.50")
    mystery = fdesk.orders.set_status(order.id, "Queued at provider")
    assert mystery.state == "pending" and mystery.status_raw == "Queued at provider"
    with pytest.raises(ValidationError, match="whole number"):
        fdesk.orders.set_status(order.id, "Completed", remains="lots")
    big = fdesk.orders.create_manual(acme.id, "Views", "https://tiktok.com/@big", 1_000_000, "2,500.00")
    assert big.cost == Decimal("2500.00") and big.revenue == Decimal("20000.00")
    with pytest.raises(ValidationError, match="amount such as 12.50"):
        fdesk.orders.create_manual(acme.id, "Views", "https://tiktok.com/@bad", 100, "cheap")
    with pytest.raises(ValidationError, match="zero or more"):
        fdesk.orders.set_status(big.id, "Completed", charge="-1")


@pytest.mark.parametrize("provider_id, message", [("abc", "must be a number"), ("0", "positive"),
                                                  (str(2**63), "too large")])
def test_a_manual_orders_provider_id_typed_as_text_is_checked(fdesk, acme, provider_id, message):
    with pytest.raises(ValidationError, match=message):
        fdesk.orders.create_manual(acme.id, "Views", "https://tiktok.com/@p", 100, "1", provider_order_id=provider_id)
    assert fdesk.orders.list() == []  # nothing recorded
    typed = fdesk.orders.create_manual(acme.id, "Views", "https://tiktok.com/@p", 100, "1", provider_order_id=" 4242 ")
    assert typed.provider_order_id == 4242
    assert fdesk.orders.create_manual(acme.id, "Views", "https://tiktok.com/@q", 100, "1",
                                      provider_order_id="").provider_order_id is None


def test_failed_and_refunded_statuses_credit_in_full(fdesk, fake, acme):
    order, invoice = fdesk.orders.place(acme.id, 101, "https://tiktok.com/@fail", 100)
    fake.set_status(order.provider_order_id, "Fail")
    fdesk.orders.sync_open_orders()
    order = fdesk.orders.get(order.id)
    assert order.state == "failed" and order.net_cost == 0 and order.revenue == 0


def test_link_keys():
    assert link_key("https://www.TikTok.com/@acme/") == link_key("tiktok.com/@acme") == "tiktok.com/@acme"
    assert link_key("https://m.tiktok.com/@acme?lang=en#x") == "tiktok.com/@acme"


def test_sync_keeps_per_order_errors_and_the_rest_goes_on(fdesk, fake, acme):
    good, _ = fdesk.orders.place(acme.id, 101, "https://tiktok.com/@good", 100)
    lost = fdesk.orders.create_manual(acme.id, "Followers", "https://tiktok.com/@lost", 100, "0.09",
                                      provider_order_id=99999999)
    fake.set_status(good.provider_order_id, "In progress", remains=40)
    result = fdesk.orders.sync([good.id, lost.id])
    assert result.updated == 1 and result.errors == {lost.id: "Incorrect order ID"}
    assert fdesk.orders.get(lost.id).last_error == "Incorrect order ID" and fdesk.orders.get(lost.id).state == "pending"
    assert fdesk.orders.get(good.id).remains == 40 and fdesk.orders.get(good.id).synced_at is not None
    fake.set_status(good.provider_order_id, "In progress", remains=40)
    again = fdesk.orders.sync([good.id])  # unchanged: only the sync time moves
    assert again.updated == 1 and again.changed == 0


def test_place_sync_refund_and_bulk_sync_on_both_databases(any_fdesk, fake):
    desk = any_fdesk
    desk.fampage.ensure_catalogue()
    acme = desk.companies.create("Acme")
    order, invoice = desk.orders.place(acme.id, 101, "https://tiktok.com/@both", 1000)
    desk.invoices.issue(invoice.id)
    bulk = fake.add_orders_directly(250)
    for provider_id in bulk:
        desk.orders.create_manual(acme.id, "Followers", f"https://tiktok.com/@b{provider_id}", 100, "0.09",
                                  provider_order_id=provider_id, status="In progress", with_invoice=False)
    fake.set_status(order.provider_order_id, "Partial", remains=250)
    for provider_id in bulk[:50]:
        fake.set_status(provider_id, "In progress", remains=30)
    result = desk.orders.sync_open_orders()
    assert result.requested == 251 and result.updated == 251 and result.refunds == 1
    assert sum(o.remains == 30 for o in desk.orders.list(OrderFilter(open_only=True))) == 50
    order = desk.orders.get(order.id)
    assert order.refund == Decimal("0.225") and order.revenue == Decimal("5.40")
    [note_id] = desk.invoices.get(invoice.id).credit_note_ids
    assert desk.invoices.get(note_id).total == Decimal("1.80")
    assert desk.analytics.summary()["total"].orders == 251


def test_call_log_is_pruned(fdesk):
    from datetime import timedelta
    from sqlalchemy import update
    from giftdesk.db.fampage_models import FampageCall
    from giftdesk.db.types import utcnow
    fdesk.fampage.balance()
    fdesk.fampage.balance()
    with fdesk.db.session() as session:
        session.execute(update(FampageCall).where(FampageCall.id == 1).values(at=utcnow() - timedelta(days=40)))
    assert fdesk.fampage.prune_calls(30) == 1
    assert [c.id for c in fdesk.fampage.calls()] == [2]


def test_concurrent_syncs_refund_once(any_fdesk, fake):
    import threading
    import time
    desk = any_fdesk
    desk.fampage.ensure_catalogue()
    acme = desk.companies.create("Acme")
    order, invoice = desk.orders.place(acme.id, 101, "https://tiktok.com/@race", 1000)
    desk.invoices.issue(invoice.id)
    fake.set_status(order.provider_order_id, "Canceled", remains=1000)
    credit = desk.invoices.credit_for_order

    def slow_credit(*args, **kwargs):  # widens the window in which two syncs could both refund
        time.sleep(0.3)
        return credit(*args, **kwargs)

    desk.invoices.credit_for_order = slow_credit
    barrier = threading.Barrier(4)
    failures, results = [], []

    def sync():
        barrier.wait()
        try:
            results.append(desk.orders.sync([order.id]))
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=sync) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not failures and len(results) == 4
    assert sum(r.refunds for r in results) == 1  # the others saw the refund once the first committed
    assert len(desk.invoices.get(invoice.id).credit_note_ids) == 1
    assert desk.orders.get(order.id).refund == Decimal("0.9000")
    assert len([e for e in desk.audit.list() if e.action == "order.refund"]) == 1


def test_rows_by_id_and_last_sync_time(fdesk, fake):
    desk = fdesk
    company = desk.companies.create("Acme")
    desk.fampage.refresh_services()
    first, _ = desk.orders.place(company.id, 101, "https://tiktok.com/@acme", 100)
    second, _ = desk.orders.place(company.id, 101, "https://tiktok.com/@acme2", 100)
    assert desk.orders.last_synced_at() is None
    assert {r.id for r in desk.orders.rows([first.id, second.id, 999999])} == {first.id, second.id}
    assert desk.orders.rows([]) == []
    desk.orders.sync([first.id])
    synced = desk.orders.last_synced_at()
    assert synced is not None and synced.tzinfo is not None
    assert abs((synced - desk.orders.get(first.id).synced_at).total_seconds()) < 1
