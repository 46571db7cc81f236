"""The services catalogue (cache, networks, rate history, daily refresh), companies, the call log."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from giftdesk.db.fampage_models import FampageService
from giftdesk.db.types import utcnow
from giftdesk.core.errors import ConflictError, ValidationError
from tests.support.fake_fampage import API_KEY


def test_catalogue_cached_grouped_searchable_with_rate_history(any_fdesk, fake):
    desk = any_fdesk
    assert desk.fampage.ensure_catalogue() is True  # empty cache: refreshed
    assert desk.fampage.ensure_catalogue() is False  # fresh: not asked again
    assert fake.action_counts()["services"] == 1
    assert desk.fampage.networks() == {"Instagram": 2, "TikTok": 3, "YouTube": 1}
    assert [s.id for s in desk.fampage.services(network="tiktok")] == [101, 102, 103]
    assert [s.id for s in desk.fampage.services(search="comments")] == [104]
    service = desk.fampage.service(101)
    assert service.rate == Decimal("0.90") and service.currency == "INR" and service.refill and service.cancel

    fake.set_rate(101, "1.05")
    fake.services = [s for s in fake.services if s["service"] != 106]
    assert desk.fampage.refresh_services() == 5
    assert [r for _, r in desk.fampage.rate_history(101)] == [Decimal("0.90"), Decimal("1.05")]
    assert len(desk.fampage.rate_history(102)) == 1  # unchanged rates add no rows
    assert 106 not in [s.id for s in desk.fampage.services()]
    assert desk.fampage.service(106).available is False  # kept for the orders that point at it


def test_catalogue_older_than_a_day_is_refreshed(fdesk, fake):
    fdesk.fampage.ensure_catalogue()
    with fdesk.db.session() as session:
        session.execute(update(FampageService).values(refreshed_at=utcnow() - timedelta(days=2)))
    assert fdesk.fampage.catalogue_age() > timedelta(days=1)
    assert fdesk.fampage.ensure_catalogue() is True
    assert fake.action_counts()["services"] == 2


def test_environment_overrides_settings(desk, fake, monkeypatch):
    monkeypatch.setenv("FAMPAGE_BASE_URL", fake.url)
    monkeypatch.setenv("FAMPAGE_API_KEY", API_KEY)
    assert desk.fampage.balance().currency == "INR"


def test_no_key_is_a_sentence(desk, fake, monkeypatch):
    monkeypatch.delenv("FAMPAGE_API_KEY", raising=False)
    desk.settings.update({"fampage.base_url": fake.url})
    with pytest.raises(ValidationError, match="No Fampage API key"):
        desk.fampage.balance()


def test_balance_and_low_threshold(fdesk, fake):
    fake.balance = Decimal("16.6132")
    row = fdesk.fampage.balance()
    assert row.amount == Decimal("16.6132") and row.low
    fdesk.settings.update({"fampage.low_balance_threshold": "10"})
    assert not fdesk.fampage.balance().low


def test_call_log_with_filters_and_no_key(fdesk, fake):
    fdesk.fampage.balance()
    fake.fail_next("balance", 500, "oops")
    fdesk.fampage.balance()
    calls = fdesk.fampage.calls()
    assert [c.action for c in calls] == ["balance"] * 3
    assert [c.ok for c in fdesk.fampage.calls(ok=False)] == [False]
    assert fdesk.fampage.calls(ok=False)[0].http_status == 500
    assert all(API_KEY not in str(c.to_json()) for c in calls)


def test_companies_crud_archive(any_db_desk):
    desk = any_db_desk
    acme = desk.companies.create("Acme", contact_name="Ann", email="Ann@Acme.example", phone="+91 1",
                                 address="1 Road\nMumbai", tax_id="GSTIN27", invoice_multiplier="7.5")
    assert acme.email == "ann@acme.example" and acme.currency == "INR" and acme.invoice_multiplier == Decimal("7.5")
    with pytest.raises(ConflictError):
        desk.companies.create("ACME")
    with pytest.raises(ValidationError, match="status must be one of"):
        desk.companies.update(acme.id, status="gone")
    with pytest.raises(ValidationError, match="above 0"):
        desk.companies.update(acme.id, invoice_multiplier="-1")
    with pytest.raises(ValidationError, match="e-mail"):
        desk.companies.create("Bad", email="nope")
    assert desk.companies.get(acme.id).status == "active"  # nothing changed by the refusals
    desk.companies.update(acme.id, status="suspended", notes="late payer")
    assert desk.companies.multiplier_for(acme.id) == Decimal("7.5")
    desk.companies.archive(acme.id)
    assert desk.companies.list() == [] and [c.name for c in desk.companies.list(archived=True)] == ["Acme"]
    other = desk.companies.create("Acme")  # the name is free again while archived
    with pytest.raises(ConflictError):
        desk.companies.archive(acme.id, archived=False)
    desk.companies.archive(other.id)
    assert desk.companies.archive(acme.id, archived=False).archived is False
