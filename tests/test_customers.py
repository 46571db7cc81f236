"""Customers and TikTok accounts: validation, search, deletes and their audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from giftdesk.db.models import AuditEntry
from giftdesk.core.errors import ConflictError, NotFoundError, ValidationError
from giftdesk.accounts import events


def test_create_validates_and_normalises(any_db_desk):
    row = any_db_desk.customers.create("  Ann Lee ", "Ann@Example.COM", "Acme", "")
    assert (row.name, row.email, row.company, row.notes) == ("Ann Lee", "ann@example.com", "Acme", None)
    with pytest.raises(ValidationError) as info:
        any_db_desk.customers.create("", "x@y.z")
    assert info.value.field == "name"
    with pytest.raises(ValidationError) as info:
        any_db_desk.customers.create("Bad mail", "not-an-email")
    assert info.value.field == "email"
    with pytest.raises(ConflictError):
        any_db_desk.customers.create("Twin", "ann@example.com")


def test_update_changes_only_given_fields(any_db_desk):
    row = any_db_desk.customers.create("Ann", "ann@example.com", "Acme", "vip")
    updated = any_db_desk.customers.update(row.id, company="", notes="regular")
    assert (updated.name, updated.email, updated.company, updated.notes) == ("Ann", "ann@example.com", None, "regular")
    with pytest.raises(NotFoundError):
        any_db_desk.customers.update(999, name="Ghost")


def test_search_matches_every_text_field_and_handles(any_db_desk):
    ann = any_db_desk.customers.create("Ann Lee", "ann@example.com", "Acme")
    bob = any_db_desk.customers.create("Bob Stone", notes="prefers e-mail")
    any_db_desk.customers.add_account(bob.id, "@Rock.Star")
    names = lambda q: [c.name for c in any_db_desk.customers.list(q)]  # noqa: E731
    assert names("acme") == ["Ann Lee"]
    assert names("ANN@") == ["Ann Lee"]
    assert names("@rock") == ["Bob Stone"]
    assert names("prefers") == ["Bob Stone"]
    assert names("") == ["Ann Lee", "Bob Stone"]
    assert names("zzz") == []
    assert any_db_desk.customers.list("rock")[0].account_count == 1
    assert ann.id != bob.id


@pytest.mark.parametrize("handle, stored", [("@Jane.Doe", "jane.doe"), ("user_1", "user_1"), ("ab", "ab")])
def test_tiktok_handles_are_normalised(desk, handle, stored):
    customer = desk.customers.create("C")
    assert desk.customers.add_account(customer.id, handle).username == stored


@pytest.mark.parametrize("handle", ["a", "@", "has space", "ends.", "x" * 25, "emoji😀", ""])
def test_bad_tiktok_handles_are_refused(desk, handle):
    customer = desk.customers.create("C")
    with pytest.raises(ValidationError):
        desk.customers.add_account(customer.id, handle)


def test_an_account_belongs_to_one_customer(desk):
    first = desk.customers.create("First")
    second = desk.customers.create("Second")
    desk.customers.add_account(first.id, "shared")
    with pytest.raises(ConflictError):
        desk.customers.add_account(second.id, "@SHARED")


def test_delete_reports_and_removes_everything_it_said(desk):
    customer = desk.customers.create("Leaving")
    for handle in ("one", "two"):
        account = desk.customers.add_account(customer.id, handle)
        key = desk.keys.generate(account.id)
        desk.tracker_data.save_config(account.id, {"theme": "dark"})
    impact = desk.customers.delete_impact(customer.id)
    assert (impact.customers, impact.accounts, impact.credentials, impact.tracker_documents) == (1, 2, 2, 2)
    assert "2 TikTok accounts" in impact.sentence() and "2 API keys" in impact.sentence()
    seen = []
    desk.events.subscribe(events.AccountChanged, lambda event: seen.append(event.account_id))
    assert desk.customers.delete(customer.id) == impact
    assert desk.customers.list() == [] and desk.customers.list_accounts() == []
    assert len(seen) == 2
    # The keys are gone from the secret store too.
    assert desk.secrets.get(f"tracker-key/{account.id}") is None
    assert key  # the key existed before the delete


def test_every_change_is_audited_with_actor(desk):
    customer = desk.customers.create("Audited")
    desk.customers.update(customer.id, name="Audited 2")
    account = desk.customers.add_account(customer.id, "audited")
    desk.customers.delete_account(account.id)
    desk.customers.delete(customer.id)
    with desk.db.read_session() as session:
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [e.action for e in entries] == [
        "customer.create", "customer.update", "account.create", "account.delete", "customer.delete",
    ]
    assert {e.actor for e in entries} == {"owner"}
    assert entries[1].details == {"before": {"name": "Audited"}, "after": {"name": "Audited 2"}}


def test_the_first_list_read_without_the_orm_is_the_services_list(desk):
    """The window's first customer list comes straight from the SQLite file (``first_list``): the
    same rows, in the same order, as the service's, whatever the names' case and the empty fields."""
    from giftdesk.accounts.first_list import read_customer_list
    from giftdesk.db.engine import sqlite_reading

    for name, email, company, notes in [("bob Stone", None, None, None), ("Ann Lee", "ann@example.com", "Acme", "vip"),
                                        ("ann lee", None, "Acme", ""), ("Zoë Ünal", "zoe@example.com", None, "n"),
                                        ("Émile", None, None, None), ("Bob stone", None, "B", None)]:
        desk.customers.create(name, email, company, notes)
    ann = desk.customers.list("ann@example.com")[0]
    for handle in ("one", "two", "three"):
        desk.customers.add_account(ann.id, handle)
    desk.customers.update(ann.id, notes="changed")  # updated_at moves on
    with sqlite_reading(desk.db.sqlite_path) as connection:
        first = read_customer_list(connection)
    assert first == desk.customers.list()
    assert [row.account_count for row in first if row.id == ann.id] == [3]
    assert all(row.created_at.tzinfo is not None and row.accounts is None for row in first)


def test_the_first_list_of_a_damaged_file_is_the_damage_sentence(desk):
    from giftdesk.accounts.first_list import read_customer_list
    from giftdesk.core.errors import DatabaseDamagedError
    from giftdesk.db.engine import sqlite_reading
    from tests.test_damaged_database import damage_table

    desk.customers.create("Soon unreadable")
    desk.db.dispose()
    damage_table(desk.paths.database, "customers")
    with pytest.raises(DatabaseDamagedError, match="Restore a backup"):
        with sqlite_reading(desk.db.sqlite_path) as connection:
            read_customer_list(connection)
