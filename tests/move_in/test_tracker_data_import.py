"""The tracker backend's exports moved in, without Docker: keys and documents by the accounts'
old ids, what cannot come and why, a dry run that writes nothing, a second run that changes nothing."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from giftdesk.core.context import Actor
from giftdesk.core.errors import PermissionDeniedError
from giftdesk.db.models import AccountLegacyId, AuditEntry, TrackerCredential
from giftdesk.move_in.instance_manager import InstanceManagerImport
from giftdesk.move_in.tracker_data import TrackerDataImport


def oid() -> str:
    return uuid.uuid4().hex[:24]


def write(path, documents, array=False):
    path.write_text(json.dumps(documents) if array else "".join(json.dumps(d) + "\n" for d in documents))
    return str(path)


@pytest.fixture
def desk(any_db_desk):
    """On SQLite and on PostgreSQL."""
    return any_db_desk


@pytest.fixture
def known(desk):
    """An account here that carries an old id, with its key."""
    customer = desk.customers.create("Known")
    row, key = desk.customers.add_account_with_key(customer.id, "known_creator")
    old = oid()
    with desk.db.session() as session:
        session.add(AccountLegacyId(account_id=row.id, legacy_id=old))
    return row, key, old


def test_keys_and_documents_come_by_the_old_id(desk, known, tmp_path):
    row, key, old = known
    stranger, newcomer, user = oid(), oid(), oid()
    new_key = str(uuid.uuid4())
    keys = write(tmp_path / "k.json", [
        {"accountId": {"$oid": old}, "apiKey": key, "status": "inactive", "instanceUrl": "https://a.example.com",
         "lastAccessedAt": {"$date": "2026-11-30T10:00:00Z"}},
        {"accountId": {"$oid": stranger}, "apiKey": str(uuid.uuid4()), "status": "active"},
        {"accountId": {"$oid": newcomer}, "userId": {"$oid": user}, "apiKey": new_key, "status": "active"}])
    data = write(tmp_path / "d.json", [
        {"accountId": {"$oid": old}, "dataType": "gift-groups",
         "data": {"g": {"name": "VIP", "color": "#ff0000", "giftIds": [{"$numberInt": "5655"}], "goal": 50000.0}}},
        {"accountId": {"$oid": old}, "dataType": "analytics", "data": {"sessions": 12, "ratio": 0.25}},
        {"accountId": {"$oid": old}, "dataType": "gift-groups", "data": {}},
        {"accountId": {"$oid": old}, "dataType": "widgets", "data": {}},
        {"accountId": {"$oid": stranger}, "dataType": "config", "data": {"theme": "dark"}},
        {"accountId": {"$oid": newcomer}, "dataType": "config", "data": {"tiktokUsername": "@New_Creator"}},
        {"accountId": {"$oid": newcomer}, "dataType": "gift-groups",
         "data": {"g": {"name": "Bad", "color": "red", "giftIds": []}}}], array=True)
    importer = TrackerDataImport(desk)
    preview = importer.plan(keys, data)
    with desk.db.read_session() as session:
        audits = session.scalar(select(func.count(AuditEntry.id)))
    outcomes = [(k.outcome, k.reason) for k in preview.keys]
    assert outcomes[0] == ("update", "") and outcomes[2] == ("create", "")
    assert outcomes[1][0] == "skip" and "no account here has the old id" in outcomes[1][1]
    reasons = [d.reason for d in preview.documents]
    assert [d.outcome for d in preview.documents] == ["create", "create", "skip", "skip", "skip", "create", "skip"]
    assert "listed twice" in reasons[2] and "widgets" in reasons[3] and "color" in reasons[6]

    done = importer.apply(keys, data)
    assert done.applied and desk.tracker_data.get(row.id, "gift-groups") == {
        "g": {"name": "VIP", "color": "#ff0000", "giftIds": [5655], "goal": 50000}}
    assert desk.tracker_data.get(row.id, "analytics") == {"sessions": 12, "ratio": 0.25}
    key_row = desk.keys.get(row.id)
    assert key_row.status == "inactive" and key_row.instance_url == "https://a.example.com"
    assert key_row.last_accessed_at.isoformat().startswith("2026-11-30T10:00:00")
    new_account = next(a for a in desk.customers.list_accounts() if a.username == "new_creator")
    assert new_account.legacy_id == newcomer and desk.keys.reveal(new_account.id) == new_key
    assert desk.tracker_data.get(new_account.id, "config") == {"tiktokUsername": "@New_Creator"}
    with desk.db.read_session() as session:
        assert session.scalar(select(func.count(AuditEntry.id))) > audits
        assert session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "move_in.tracker_data")) == 1

    again = importer.apply(keys, data)
    assert not again.changes_anything and "Nothing to import" in again.summary()

    # A tracker saves after the import: a later run of the same export keeps what it saved.
    desk.tracker_data.save_gift_groups(row.id, {"n": {"name": "Newer", "color": "#00ff00", "giftIds": [1]}})
    later = importer.plan(keys, data)
    assert later.documents[0].outcome == "skip" and "saved here after the export" in later.documents[0].reason
    assert not later.changes_anything


def test_a_dry_run_writes_nothing(desk, known, tmp_path):
    _row, key, old = known
    keys = write(tmp_path / "k.json", [{"accountId": {"$oid": old}, "apiKey": key, "status": "inactive"}])
    data = write(tmp_path / "d.json", [{"accountId": {"$oid": old}, "dataType": "config", "data": {"theme": "x"}}])
    with desk.db.read_session() as session:
        before = (session.scalar(select(func.count(AuditEntry.id))),
                  session.scalar(select(TrackerCredential.status)))
    assert TrackerDataImport(desk).plan(keys, data).changes_anything
    with desk.db.read_session() as session:
        assert (session.scalar(select(func.count(AuditEntry.id))),
                session.scalar(select(TrackerCredential.status))) == before


def test_another_key_for_the_account_is_not_replaced(desk, known, tmp_path):
    _row, _key, old = known
    keys = write(tmp_path / "k.json", [{"accountId": {"$oid": old}, "apiKey": str(uuid.uuid4()), "status": "active"}])
    data = write(tmp_path / "d.json", [])
    plan = TrackerDataImport(desk).plan(keys, data)
    assert plan.keys[0].outcome == "skip" and "another API key" in plan.keys[0].reason


def test_a_viewer_may_not_import(desk, tmp_path):
    viewer = desk.as_actor(Actor("someone", "viewer"))
    with pytest.raises(PermissionDeniedError):
        TrackerDataImport(viewer).plan(tmp_path / "k.json", tmp_path / "d.json")
    with pytest.raises(PermissionDeniedError):
        InstanceManagerImport(viewer).apply(tmp_path / "instances.db")
    operator = desk.as_actor(Actor("op", "operator"))
    with pytest.raises(PermissionDeniedError):  # administrators come only from an admin
        InstanceManagerImport(operator).plan(tmp_path / "instances.db", users=True)
