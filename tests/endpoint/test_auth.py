"""The tracker API's authentication: X-API-Key and X-Account-ID, checked by the gateway; any failure is a 401."""

from __future__ import annotations

import pytest

from tests.endpoint.helpers import exchange, request_bytes


def _status(client, account_id, headers, method="GET", data_type="config", **kwargs):
    return client.request(method, f"/api/instances/{account_id}/{data_type}", headers=headers, **kwargs)


def _assert_401(answer, fragment: str = ""):
    assert answer.status_code == 401
    body = answer.json()
    assert body["success"] is False and fragment in body["message"]
    assert answer.headers["www-authenticate"].startswith("ApiKey")


def test_the_right_key_and_account_are_accepted(client, account):
    account_id, api_key = account
    answer = _status(client, account_id, {"X-API-Key": api_key, "X-Account-ID": str(account_id)})
    assert answer.status_code == 200


@pytest.mark.parametrize("names", [("x-api-key", "x-account-id"), ("X-API-KEY", "X-ACCOUNT-ID"), ("x-Api-kEy", "X-Account-Id")])
def test_header_names_are_case_insensitive(client, account, names):
    account_id, api_key = account
    assert _status(client, account_id, {names[0]: api_key, names[1]: str(account_id)}).status_code == 200


@pytest.mark.parametrize("which", ["key", "account", "both"])
def test_missing_headers_are_401(client, account, which):
    account_id, api_key = account
    headers = {"X-API-Key": api_key, "X-Account-ID": str(account_id)}
    if which in ("key", "both"):
        del headers["X-API-Key"]
    if which in ("account", "both"):
        del headers["X-Account-ID"]
    for method in ("GET", "POST"):
        _assert_401(_status(client, account_id, headers, method, json={"theme": "x"}), "required")


def test_a_wrong_key_is_401_and_changes_nothing(client, account, desk):
    account_id, _ = account
    headers = {"X-API-Key": "00000000-0000-4000-8000-000000000000", "X-Account-ID": str(account_id)}
    _assert_401(_status(client, account_id, headers), "Invalid API key")
    _assert_401(_status(client, account_id, headers, "POST", json={"theme": "hacked"}))
    assert desk.tracker_data.get(account_id, "config") == {}


def test_another_accounts_key_is_401(client, make_account):
    (_, first_key), (second, _) = make_account(), make_account()
    answer = _status(client, second.id, {"X-API-Key": first_key, "X-Account-ID": str(second.id)})
    _assert_401(answer, "Invalid API key")


def test_path_and_header_accounts_must_agree(client, make_account):
    (first, first_key), (second, _) = make_account(), make_account()
    answer = _status(client, second.id, {"X-API-Key": first_key, "X-Account-ID": str(first.id)})
    _assert_401(answer, "does not match")


@pytest.mark.parametrize("account_text", ["abc", "-1", "1.0", "99999999999999999999999", "%C2%B2", "%20"])
def test_odd_account_ids_are_401_not_errors(client, account, account_text):
    _, api_key = account
    answer = _status(client, account_text, {"X-API-Key": api_key, "X-Account-ID": account_text})
    assert answer.status_code == 401


def test_non_ascii_digits_in_the_account_header_are_401(endpoint, account):
    _, api_key = account
    # "²" passes str.isdigit() but is no number: must not reach int() as a 500.
    head = b"GET /api/instances/%B2/config HTTP/1.1\r\nHost: x\r\nX-API-Key: " + api_key.encode() + b"\r\nX-Account-ID: \xb2\r\n\r\n"
    answers, _ = exchange(endpoint.port, head)
    assert answers[0].status == 401


def test_a_deactivated_key_is_refused_until_reactivated(client, account, desk):
    account_id, api_key = account
    headers = {"X-API-Key": api_key, "X-Account-ID": str(account_id)}
    desk.keys.set_active(account_id, False)
    _assert_401(_status(client, account_id, headers), "deactivated")
    _assert_401(_status(client, account_id, headers, "POST", json={"theme": "x"}), "deactivated")
    desk.keys.set_active(account_id, True)
    assert _status(client, account_id, headers).status_code == 200


def test_a_regenerated_key_replaces_the_old_one_at_once(client, account, desk):
    account_id, old_key = account
    assert _status(client, account_id, {"X-API-Key": old_key, "X-Account-ID": str(account_id)}).status_code == 200
    new_key = desk.keys.regenerate(account_id)
    _assert_401(_status(client, account_id, {"X-API-Key": old_key, "X-Account-ID": str(account_id)}))
    assert _status(client, account_id, {"X-API-Key": new_key, "X-Account-ID": str(account_id)}).status_code == 200


def test_a_deleted_account_is_refused(client, account, desk):
    account_id, api_key = account
    headers = {"X-API-Key": api_key, "X-Account-ID": str(account_id)}
    assert _status(client, account_id, headers).status_code == 200
    customer_id = desk.keys.get(account_id).customer_id
    desk.customers.delete(customer_id)
    assert _status(client, account_id, headers).status_code == 401


def test_last_access_is_recorded_once_the_server_stops(start_endpoint, account, desk):
    account_id, api_key = account
    assert desk.keys.get(account_id).last_accessed_at is None
    server = start_endpoint()
    answers, _ = exchange(server.port, request_bytes(
        "GET", f"/api/instances/{account_id}/gift-groups", {"X-API-Key": api_key, "X-Account-ID": str(account_id)}))
    assert answers[0].status == 200
    server.stop()
    assert desk.keys.get(account_id).last_accessed_at is not None


def test_failed_authentication_does_not_touch_last_access(start_endpoint, account, desk):
    account_id, _ = account
    server = start_endpoint()
    exchange(server.port, request_bytes("GET", f"/api/instances/{account_id}/config",
                                        {"X-API-Key": "wrong", "X-Account-ID": str(account_id)}))
    server.stop()
    assert desk.keys.get(account_id).last_accessed_at is None
