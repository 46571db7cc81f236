"""Gift groups, config and analytics: the validation contract and the gateway's caches."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from giftdesk.core.errors import AuthenticationError, ValidationError
from giftdesk.accounts import events
from giftdesk.accounts.tracker_data import apply_write, validate_config_patch, validate_gift_groups_body
from giftdesk.accounts.tracker_gateway import TrackerGateway

GOOD_GROUPS = {
    "group-1": {"name": "VIP Gifts", "goal": 50000, "color": "#ff0000", "giftIds": [5655, 5656, 5657]},
    "group-2": {"name": "Normal Gifts", "color": "#00FF00", "giftIds": [], "icon": "star"},  # no goal: field trackers
}


def test_seed_gift_groups_are_accepted_and_extra_fields_kept():
    assert validate_gift_groups_body({"groups": GOOD_GROUPS}) == GOOD_GROUPS


@pytest.mark.parametrize(
    "groups, field",
    [
        ({"g": {"color": "#ff0000", "giftIds": []}}, "groups.g.name"),
        ({"g": {"name": "x", "color": "red", "giftIds": []}}, "groups.g.color"),
        ({"g": {"name": "x", "color": "#ff00000", "giftIds": []}}, "groups.g.color"),
        ({"g": {"name": "x", "color": "#ff0000", "giftIds": ["5655"]}}, "groups.g.giftIds"),
        ({"g": {"name": "x", "color": "#ff0000", "giftIds": [1.5]}}, "groups.g.giftIds"),
        ({"g": {"name": "x", "color": "#ff0000", "giftIds": [True]}}, "groups.g.giftIds"),
        ({"g": {"name": "x", "color": "#ff0000", "giftIds": [1], "goal": -1}}, "groups.g.goal"),
        ({"g": {"name": "x", "color": "#ff0000", "giftIds": [1], "goal": "10"}}, "groups.g.goal"),
        ({"g": "not an object"}, "groups.g"),
        ([], "groups"),
        ({"g": {"name": "\x1c", "color": "#ff0000", "giftIds": [1]}}, "groups.g.name"),  # a control character
        ({"g": {"name": " \u3000\ufeff", "color": "#ff0000", "giftIds": [1]}}, "groups.g.name"),  # white space
        ({"\x1f": {"name": "x", "color": "#ff0000", "giftIds": [1]}}, "groups.\x1f"),
    ],
)
def test_bad_gift_groups_name_the_field(groups, field):
    with pytest.raises(ValidationError) as info:
        validate_gift_groups_body({"groups": groups})
    assert info.value.field == field


def test_gift_groups_body_needs_groups():
    with pytest.raises(ValidationError) as info:
        validate_gift_groups_body({"group-1": GOOD_GROUPS["group-1"]})
    assert info.value.field == "groups"


@pytest.mark.parametrize(
    "patch, field",
    [({"theme": 1}, "theme"), ({"notifications": "yes"}, "notifications"), ({"autoConnect": 1}, "autoConnect"),
     ({"tiktokUsername": None}, "tiktokUsername"), ({"target": "100"}, "target"), ({"comboTimeout": -5}, "comboTimeout"),
     ({"target": True}, "target")],
)
def test_bad_config_names_the_field(patch, field):
    with pytest.raises(ValidationError) as info:
        validate_config_patch(patch)
    assert info.value.field == field


def test_config_merges_and_keeps_unknown_keys():
    current = {"tiktokUsername": "@a", "theme": "dark", "target": 1000}
    merged = apply_write(current, "config", {"theme": "light", "comboTimeout": 3000, "custom": {"x": [1]}})
    assert merged == {"tiktokUsername": "@a", "theme": "light", "target": 1000, "comboTimeout": 3000, "custom": {"x": [1]}}


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda children: st.lists(children) | st.dictionaries(st.text(), children), max_leaves=20))
def test_any_json_is_either_accepted_or_refused_with_a_field(body):
    for data_type in ("gift-groups", "config", "analytics"):
        try:
            apply_write({}, data_type, body)
        except ValidationError as exc:
            assert exc.field and str(exc)


# ---- gateway -----------------------------------------------------------------------------------
@pytest.fixture
def gateway(desk):
    gw = TrackerGateway(desk.db, desk.events, flush_interval=0.1, poll_interval=0.05)
    gw.start()
    yield gw
    gw.close()


def test_gateway_auth_rules(desk, make_account, gateway):
    account, api_key = make_account()
    other, other_key = make_account()
    aid = str(account.id)
    assert gateway.authenticate(aid, aid, api_key) == account.id
    for path, header, key in [
        (aid, aid, other_key),  # another account's key
        (aid, str(other.id), other_key),  # path and header disagree
        (aid, aid, "wrong"),
        (aid, None, api_key),
        (aid, aid, None),
        ("999", "999", api_key),
        ("abc", "abc", api_key),
    ]:
        with pytest.raises(AuthenticationError):
            gateway.authenticate(path, header, key)
    desk.keys.set_active(account.id, False)
    with pytest.raises(AuthenticationError, match="deactivated"):
        gateway.authenticate(aid, aid, api_key)


def test_gateway_follows_regeneration_at_once(desk, make_account, gateway):
    account, old = make_account()
    aid = str(account.id)
    new = desk.keys.regenerate(account.id)
    with pytest.raises(AuthenticationError):
        gateway.authenticate(aid, aid, old)
    assert gateway.authenticate(aid, aid, new) == account.id


def test_gateway_sees_changes_made_by_another_process(desk, make_account, gateway, data_dir):
    from giftdesk.desk import Desk

    account, old = make_account()
    other_process = Desk.open(str(data_dir))  # its own engine and event bus, like the CLI
    new = other_process.keys.regenerate(account.id)
    other_process.tracker_data.save_config(account.id, {"theme": "from-cli"})
    aid = str(account.id)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            gateway.authenticate(aid, aid, new)
            break
        except AuthenticationError:
            time.sleep(0.05)
    with pytest.raises(AuthenticationError):
        gateway.authenticate(aid, aid, old)
    deadline = time.monotonic() + 5
    while b"from-cli" not in gateway.read_body(account.id, "config") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert b"from-cli" in gateway.read_body(account.id, "config")
    other_process.close()


def test_gateway_read_save_and_console_edits(desk, make_account, gateway):
    account, _ = make_account()
    assert gateway.read_body(account.id, "gift-groups") == b'{"success":true,"data":{}}'
    saved = []
    desk.events.subscribe(events.TrackerDataSaved, saved.append)
    body = gateway.save(account.id, "gift-groups", {"groups": GOOD_GROUPS})
    assert body == b'{"success":true,"message":"Gift groups saved successfully"}'
    assert desk.tracker_data.get(account.id, "gift-groups") == GOOD_GROUPS
    assert saved[-1] == events.TrackerDataSaved(account.id, "gift-groups", "tracker")
    desk.tracker_data.save_config(account.id, {"theme": "console"})
    assert b'"theme":"console"' in gateway.read_body(account.id, "config")
    with pytest.raises(ValidationError):
        gateway.save(account.id, "config", {"theme": 5})
    assert desk.tracker_data.get(account.id, "config") == {"theme": "console"}


def test_last_access_is_coalesced_and_flushed(desk, make_account, gateway):
    account, api_key = make_account()
    before = desk.keys.get(account.id)
    accessed = threading.Event()
    desk.events.subscribe(events.KeysAccessed, lambda event: accessed.set())
    for _ in range(50):
        gateway.authenticate(str(account.id), str(account.id), api_key)
    assert accessed.wait(5)
    after = desk.keys.get(account.id)
    assert after.last_accessed_at is not None
    assert after.updated_at == before.updated_at  # access is not an admin change


def test_unpaired_surrogates_are_refused_before_they_reach_the_database(desk, make_account, gateway):
    account, _ = make_account()
    with pytest.raises(ValidationError):
        desk.tracker_data.save_config(account.id, {"theme": "\ud800"})
    with pytest.raises(ValidationError):
        gateway.save(account.id, "config", {"note": "\udfff"})
    assert gateway.read_body(account.id, "config") == b'{"success":true,"data":{}}'


def test_a_read_racing_a_save_does_not_cache_stale_data(desk, make_account, gateway, monkeypatch):
    import giftdesk.accounts.tracker_gateway as module

    account, _ = make_account()
    real_load = module.load_document

    def load_then_save(session, account_id, data_type):
        result = real_load(session, account_id, data_type)  # the old document...
        gateway.save(account_id, "config", {"theme": "new"})  # ...then a save commits meanwhile
        return result

    monkeypatch.setattr(module, "load_document", load_then_save)
    gateway.read_body(account.id, "config")
    monkeypatch.setattr(module, "load_document", real_load)
    assert b'"theme":"new"' in gateway.read_body(account.id, "config")


# ---- changes made elsewhere that no timestamp shows (a restore, a row rewritten in place) ---------
def _key_of(any_db_desk):
    customer = any_db_desk.customers.create("Elsewhere")
    account = any_db_desk.customers.add_account(customer.id, "elsewhere_live")
    return account, any_db_desk.keys.generate(account.id)


def _an_hour_ago(db) -> None:
    """Every credential and document as if written an hour ago, before the last poll's margin."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    from giftdesk.db.models import TrackerCredential, TrackerData

    earlier = datetime.now(timezone.utc) - timedelta(hours=1)
    with db.session() as session:
        session.execute(update(TrackerCredential).values(updated_at=earlier))
        session.execute(update(TrackerData).values(updated_at=earlier))


def test_gateway_sees_a_credential_change_that_kept_its_old_timestamp(any_db_desk):
    """Another process (its own engine, no events) deactivates a key in a statement that leaves
    ``updated_at`` as it was, as a restored row's is: the generation token still tells."""
    from sqlalchemy import update

    from giftdesk.db import Database
    from giftdesk.db.models import TrackerCredential

    account, api_key = _key_of(any_db_desk)
    aid = str(account.id)
    _an_hour_ago(any_db_desk.db)
    gateway = TrackerGateway(any_db_desk.db, any_db_desk.events)  # not started: polls only when told
    gateway.poll_changes()
    assert gateway.authenticate(aid, aid, api_key) == account.id
    elsewhere = Database(any_db_desk.db.url)
    try:
        with elsewhere.session() as session:
            session.execute(update(TrackerCredential).values(status="inactive", updated_at=TrackerCredential.updated_at))
    finally:
        elsewhere.dispose()
    gateway.poll_changes()
    with pytest.raises(AuthenticationError, match="deactivated"):
        gateway.authenticate(aid, aid, api_key)


def test_gateway_drops_cached_documents_when_the_generation_is_renewed(any_db_desk):
    """What a restore does: older documents (older timestamps) come back, and a new token says so."""
    from giftdesk.db.credentials import renew_credentials_generation

    account, _ = _key_of(any_db_desk)
    gateway = TrackerGateway(any_db_desk.db, any_db_desk.events)  # not started: no events, polls when told
    gateway.save(account.id, "config", {"theme": "cached"})
    gateway.poll_changes()
    # What the backup held comes back, timestamps and all, without a key change...
    any_db_desk.tracker_data.save_config(account.id, {"theme": "restored"})
    _an_hour_ago(any_db_desk.db)
    gateway.poll_changes()
    assert b'"theme":"cached"' in gateway.read_body(account.id, "config")  # (timestamps cannot tell)
    with any_db_desk.db.session() as session:
        renew_credentials_generation(session)  # ...and the restore's new token
    gateway.poll_changes()
    assert b'"theme":"restored"' in gateway.read_body(account.id, "config")


def test_key_changes_renew_the_generation_and_last_access_flushes_do_not(any_db_desk):
    from giftdesk.db.credentials import credentials_generation

    def generation() -> str:
        with any_db_desk.db.read_session() as session:
            return credentials_generation(session)

    account, api_key = _key_of(any_db_desk)
    gateway = TrackerGateway(any_db_desk.db, any_db_desk.events)
    seen = generation()
    aid = str(account.id)
    gateway.authenticate(aid, aid, api_key)
    gateway.flush_access_times()  # once a second under load: must not make every endpoint reload
    assert any_db_desk.keys.get(account.id).last_accessed_at is not None
    assert generation() == seen
    any_db_desk.keys.set_instance_url(account.id, "https://tracker.example.com")  # not about who authenticates
    assert generation() == seen
    for change in (lambda: any_db_desk.keys.regenerate(account.id),
                   lambda: any_db_desk.keys.set_active(account.id, False),
                   lambda: any_db_desk.customers.delete(account.customer_id)):  # the key goes by cascade
        change()
        assert generation() != seen
        seen = generation()


def test_a_flush_returns_only_once_a_flush_already_under_way_has_committed(desk):
    account, api_key = _key_of(desk)
    gateway = TrackerGateway(desk.db, desk.events)
    aid = str(account.id)
    gateway.authenticate(aid, aid, api_key)
    inside, go_on = threading.Event(), threading.Event()
    real_session = desk.db.session

    def held_session():  # the housekeeping flush, stopped just before its write
        inside.set()
        go_on.wait(30)
        return real_session()

    desk.db.session = held_session
    first = threading.Thread(target=gateway.flush_access_times)
    first.start()
    assert inside.wait(30)
    desk.db.session = real_session
    second = threading.Thread(target=gateway.flush_access_times)  # finds nothing pending of its own
    try:
        second.start()
        second.join(0.2)
        assert second.is_alive(), "a flush returned while the access it found taken was not yet written"
    finally:
        go_on.set()
        first.join(30)
        second.join(30)
    assert desk.keys.get(account.id).last_accessed_at is not None


def test_accesses_whose_flush_failed_are_written_by_the_next(desk):
    account, api_key = _key_of(desk)
    gateway = TrackerGateway(desk.db, desk.events)
    aid = str(account.id)
    gateway.authenticate(aid, aid, api_key)
    real_session = desk.db.session

    def failing_session():
        raise OSError("disk full")

    desk.db.session = failing_session
    with pytest.raises(OSError):
        gateway.flush_access_times()
    desk.db.session = real_session
    assert desk.keys.get(account.id).last_accessed_at is None
    gateway.flush_access_times()
    assert desk.keys.get(account.id).last_accessed_at is not None
