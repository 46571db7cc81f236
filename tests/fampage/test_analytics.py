"""The four analytics views, date ranges and CSV export, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import update

from giftdesk.db.fampage_models import FampageOrder
from giftdesk.fampage.analytics import to_csv


def _setup(desk):
    acme = desk.companies.create("Acme")
    beta = desk.companies.create("Beta", invoice_multiplier="4")
    a1 = desk.orders.create_manual(acme.id, "Followers", "https://www.tiktok.com/@acme/", 1000, "0.90",
                                   service_type="Default", network="TikTok")
    a2 = desk.orders.create_manual(acme.id, "Views pack", "https://tiktok.com/@acme", 1000, "49.50",
                                   service_type="Package", network="TikTok")
    b1 = desk.orders.create_manual(beta.id, "Likes", "https://instagram.com/p/beta", 100, "1.87234",
                                   service_type="Default", network="Instagram")
    desk.invoices.issue(desk.orders.invoice_of(a1.id).id)
    desk.orders.set_status(a1.id, "Partial", remains=500)  # refund 0.45, credit 3.60
    desk.orders.set_status(a2.id, "Completed", remains=0)
    return acme, beta, a1, a2, b1


def test_four_views_and_csv(any_db_desk):
    desk = any_db_desk
    acme, beta, a1, a2, b1 = _setup(desk)
    companies = {f.name: f for f in desk.analytics.companies()}
    # Acme: cost 0.45 + 49.50 = 49.95; revenue (7.20 − 3.60) + 396.00 = 399.60
    assert companies["Acme"].totals.cost == Decimal("49.95") and companies["Acme"].totals.revenue == Decimal("399.60")
    assert companies["Acme"].totals.profit == Decimal("349.65") and companies["Acme"].services == 2
    assert companies["Beta"].totals.revenue == Decimal("7.49") and companies["Beta"].totals.orders == 1
    assert str(companies["Acme"].totals.revenue) == "399.60" and companies["Acme"].to_json()["marginPercent"] == "87.5"

    summary = desk.analytics.summary()
    assert summary["total"].orders == 3 and summary["total"].cost == Decimal("51.82234")
    assert summary["total"].revenue == Decimal("407.09")
    assert set(summary["byStatus"]) == {"partial", "completed", "pending"}
    assert summary["byServiceType"]["Package"].revenue == Decimal("396.00")
    assert summary["byNetwork"]["Instagram"].cost == Decimal("1.87234")

    target = desk.analytics.target("tiktok.com/@acme")
    assert target["total"].orders == 2 and {o.id for o in target["orders"]} == {a1.id, a2.id}

    history = desk.analytics.history(acme.id)
    assert [o.id for o in history["orders"]] == [a2.id, a1.id]
    assert sum(o.profit for o in history["orders"]) == history["total"].profit

    rows = list(csv.DictReader(io.StringIO(to_csv("companies", desk.analytics.companies()))))
    assert rows[0]["name"] == "Acme" and rows[0]["profit"] == "349.65"
    summary_rows = list(csv.DictReader(io.StringIO(to_csv("summary", summary))))
    assert {r["group"] for r in summary_rows} == {"total", "byStatus", "byServiceType", "byNetwork"}
    history_rows = list(csv.DictReader(io.StringIO(to_csv("history", history))))
    assert [r["id"] for r in history_rows] == [str(a2.id), str(a1.id)]


def test_date_ranges(desk):
    acme, beta, a1, a2, b1 = _setup(desk)
    old = datetime.now(timezone.utc) - timedelta(days=40)
    with desk.db.session() as session:
        session.execute(update(FampageOrder).where(FampageOrder.id == b1.id).values(created_at=old))
    today = date.today()
    recent = desk.analytics.companies(since=today - timedelta(days=7))
    assert [f.name for f in recent] == ["Acme"]
    older = desk.analytics.summary(until=today - timedelta(days=30))
    assert older["total"].orders == 1 and older["total"].cost == Decimal("1.87234")
    assert desk.analytics.history(beta.id, since=today)["orders"] == []


def test_company_overview_lists_every_company_with_its_totals(any_db_desk):
    desk = any_db_desk
    acme, beta, *_ = _setup(desk)
    idle = desk.companies.create("Idle")
    gone = desk.companies.create("Gone")
    desk.companies.archive(gone.id)
    rows = {r.company.name: r for r in desk.analytics.company_overview()}
    assert set(rows) == {"Acme", "Beta", "Idle"}
    assert rows["Acme"].id == acme.id and rows["Acme"].totals.profit == Decimal("349.65")
    assert rows["Idle"].totals.orders == 0 and rows["Idle"].totals.revenue == Decimal(0)
    with_archived = {r.company.name for r in desk.analytics.company_overview(include_archived=True)}
    assert "Gone" in with_archived and idle.id in {r.id for r in desk.analytics.company_overview()}
