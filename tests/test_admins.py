"""Administrators: first-run super admin, hashing, login, roles enforced in the services."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from giftdesk.db.models import Administrator, AuditEntry
from giftdesk.core.errors import AuthenticationError, ConflictError, PermissionDeniedError, ValidationError
from giftdesk.core.context import Actor
from giftdesk.system.passwords import hash_password, verify_password


def test_first_admin_is_super_and_there_is_no_default(desk):
    assert desk.admins.needs_first_admin()
    row = desk.admins.create("founder", "correct horse")
    assert row.is_super and row.role == "admin"
    assert not desk.admins.needs_first_admin()
    with pytest.raises(AuthenticationError):
        desk.admins.authenticate("admin", "changeme")


def test_password_is_stored_as_scrypt_hash(desk):
    desk.admins.create("founder", "correct horse")
    with desk.db.read_session() as session:
        stored = session.scalar(select(Administrator.password_hash))
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert verify_password("correct horse", stored)
    assert not verify_password("wrong", stored)
    assert hash_password("same") != hash_password("same")  # salted


def test_login_updates_last_login_and_rejects_wrong_password(desk):
    desk.admins.create("founder", "correct horse")
    with pytest.raises(AuthenticationError):
        desk.admins.authenticate("founder", "wrong horse")
    with pytest.raises(AuthenticationError):
        desk.admins.authenticate("nobody", "correct horse")
    actor = desk.admins.authenticate("FOUNDER", "correct horse")
    assert actor == Actor("founder", "admin", actor.admin_id)
    assert desk.admins.list()[0].last_login_at is not None


@pytest.mark.parametrize("password", ["short", "", "founder"])
def test_weak_passwords_are_refused(desk, password):
    with pytest.raises(ValidationError):
        desk.admins.create("founder", password)


def test_duplicate_usernames_are_refused(desk):
    desk.admins.create("founder", "correct horse")
    with pytest.raises(ConflictError):
        desk.admins.create("Founder", "another pass")


def test_viewer_can_read_but_not_change_anything(desk):
    desk.admins.create("founder", "correct horse")
    desk.admins.create("watcher", "watch password", role="viewer")
    customer = desk.customers.create("Existing")
    viewer = desk.as_actor(desk.admins.authenticate("watcher", "watch password"))
    assert [c.name for c in viewer.customers.list()] == ["Existing"]
    for attempt in (
        lambda: viewer.customers.create("New"),
        lambda: viewer.customers.update(customer.id, name="Renamed"),
        lambda: viewer.customers.delete(customer.id),
        lambda: viewer.customers.add_account(customer.id, "someone"),
        lambda: viewer.settings.update({"endpoint.port": 9000}),
        lambda: viewer.admins.create("another", "password123"),
    ):
        with pytest.raises(PermissionDeniedError):
            attempt()
    assert [c.name for c in desk.customers.list()] == ["Existing"]


def test_operator_manages_customers_but_not_settings(desk):
    desk.admins.create("founder", "correct horse")
    desk.admins.create("op", "operator pass", role="operator")
    operator = desk.as_actor(desk.admins.authenticate("op", "operator pass"))
    operator.customers.create("By operator")
    with pytest.raises(PermissionDeniedError):
        operator.settings.update({"endpoint.port": 9000})


def test_change_and_reset_password(desk):
    desk.admins.create("founder", "correct horse")
    me = desk.as_actor(desk.admins.authenticate("founder", "correct horse"))
    with pytest.raises(AuthenticationError):
        me.admins.change_password("not it", "new password 1")
    me.admins.change_password("correct horse", "new password 1")
    desk.admins.authenticate("founder", "new password 1")
    desk.admins.reset_password("founder", "reset password 2")
    desk.admins.authenticate("founder", "reset password 2")
    with desk.db.read_session() as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["admin.create", "admin.change_password", "admin.reset_password"]


def test_super_admin_cannot_be_demoted_or_deleted(desk):
    desk.admins.create("founder", "correct horse")
    with pytest.raises(PermissionDeniedError):
        desk.admins.set_role("founder", "viewer")
    with pytest.raises(PermissionDeniedError):
        desk.admins.delete("founder")
