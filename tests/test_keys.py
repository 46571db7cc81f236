"""Tracker credentials: generation, rotation, status, secrets in the keyring, tracker environment."""

from __future__ import annotations

import hashlib
import re
import uuid

import pytest
from sqlalchemy import select, text

from giftdesk.db.models import AuditEntry, TrackerCredential
from giftdesk.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from giftdesk.accounts import events
from giftdesk.core.context import Actor


def test_generate_issues_a_uuid_and_stores_only_its_digest(any_db_desk):
    customer = any_db_desk.customers.create("C")
    account = any_db_desk.customers.add_account(customer.id, "keyed")
    api_key = any_db_desk.keys.generate(account.id, "https://keyed.example.com")
    assert str(uuid.UUID(api_key)) == api_key
    with any_db_desk.db.read_session() as session:
        cred = session.scalar(select(TrackerCredential))
        dump = " ".join(str(v) for v in session.execute(text("SELECT * FROM tracker_credentials")).one())
    assert cred.api_key_sha256 == hashlib.sha256(api_key.encode()).hexdigest()
    assert api_key not in dump
    row = any_db_desk.keys.get(account.id)
    assert row.status == "active" and row.instance_url == "https://keyed.example.com"
    assert row.masked_key.endswith(api_key[-4:]) and api_key[:8] not in row.masked_key
    assert any_db_desk.keys.reveal(account.id) == api_key
    with pytest.raises(ConflictError):
        any_db_desk.keys.generate(account.id)


def test_regenerate_replaces_key_and_announces_it(desk, make_account):
    account, old = make_account()
    announced = []
    desk.events.subscribe(events.KeyChanged, lambda event: announced.append(event.account_id) if event.action == "regenerated" else None)
    new = desk.keys.regenerate(account.id)
    assert new != old and desk.keys.reveal(account.id) == new
    assert announced == [account.id]


def test_activate_and_deactivate(desk, make_account):
    account, _ = make_account()
    assert desk.keys.set_active(account.id, False).status == "inactive"
    assert [r.account_id for r in desk.keys.list(status="inactive")] == [account.id]
    assert desk.keys.set_active(account.id, True).status == "active"


def test_instance_url_is_validated(desk, make_account):
    account, _ = make_account()
    with pytest.raises(ValidationError):
        desk.keys.set_instance_url(account.id, "ftp://nope")
    assert desk.keys.set_instance_url(account.id, "http://tracker.local:3000").instance_url == "http://tracker.local:3000"
    assert desk.keys.set_instance_url(account.id, "").instance_url is None


def test_missing_account_and_missing_key(desk):
    with pytest.raises(NotFoundError):
        desk.keys.generate(404)
    customer = desk.customers.create("C")
    account = desk.customers.add_account(customer.id, "keyless")
    with pytest.raises(NotFoundError):
        desk.keys.regenerate(account.id)


def test_tracker_environment_is_exactly_the_four_variables(desk, make_account):
    account, api_key = make_account("env_user")
    env = desk.keys.tracker_environment(account.id, "http://172.17.0.1:8787/api/instances/")
    assert env == {
        "API_KEY": api_key,
        "ACCOUNT_ID": str(account.id),
        "TIKTOK_USERNAME": "env_user",
        "BACKEND_API_URL": "http://172.17.0.1:8787/api/instances",
    }
    with pytest.raises(ValidationError):
        desk.keys.tracker_environment(account.id, "http://host/api")
    desk.keys.set_active(account.id, False)
    with pytest.raises(ConflictError):
        desk.keys.tracker_environment(account.id, "http://h:1/api/instances")


def test_key_events_are_audited_without_the_key(desk, make_account):
    account, api_key = make_account()
    desk.keys.reveal(account.id)
    new = desk.keys.regenerate(account.id)
    desk.keys.set_active(account.id, False)
    with desk.db.read_session() as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action.like("key.%")).order_by(AuditEntry.id)))
    assert [e.action for e in entries] == ["key.generate", "key.reveal", "key.regenerate", "key.deactivate"]
    text_of_audit = " ".join(f"{e.summary} {e.details}" for e in entries)
    assert api_key not in text_of_audit and new not in text_of_audit


def test_viewer_cannot_see_or_change_keys(desk, make_account):
    account, _ = make_account()
    viewer = desk.as_actor(Actor("watcher", "viewer"))
    assert viewer.keys.list()[0].account_id == account.id
    for attempt in (lambda: viewer.keys.reveal(account.id), lambda: viewer.keys.regenerate(account.id),
                    lambda: viewer.keys.tracker_environment(account.id, "http://h:1/api/instances"),
                    lambda: viewer.keys.set_active(account.id, False)):
        with pytest.raises(PermissionDeniedError):
            attempt()


def test_list_search_and_masking(desk, make_account):
    make_account("alpha_one", customer_name="Alpha")
    make_account("beta_two", customer_name="Beta")
    assert [r.tiktok_username for r in desk.keys.list("beta")] == ["beta_two"]
    assert [r.tiktok_username for r in desk.keys.list("@alpha")] == ["alpha_one"]
    assert all(re.fullmatch(r"[•-]+[0-9a-f]{4}", r.masked_key) for r in desk.keys.list())
