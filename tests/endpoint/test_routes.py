"""Every route of the tracker API (plus /health and /openapi.json) over real HTTP."""

from __future__ import annotations

import json

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from giftdesk.accounts import events as ev
from tests.endpoint.helpers import exchange, request_bytes

GROUPS = {
    "group-1": {"name": "VIP Gifts", "goal": 50000, "color": "#ff0000", "giftIds": [5655, 5656, 5657]},
    "group-2": {"name": "Normal Gifts", "goal": 10000, "color": "#00ff00", "giftIds": [5658, 5659], "sound": "ding"},
}


def test_health_needs_no_key_and_says_nothing_else(client):
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    head = client.head("/health")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == answer.headers["content-length"]


@pytest.mark.parametrize("data_type", ["gift-groups", "config", "analytics"])
def test_reads_are_an_empty_object_before_anything_is_saved(tracker, data_type):
    answer = tracker.get(f"{tracker.base}/{data_type}")
    assert answer.status_code == 200
    assert answer.json() == {"success": True, "data": {}}


def test_gift_groups_are_saved_and_read_back(tracker, desk):
    seen = []
    desk.events.subscribe(ev.TrackerDataSaved, seen.append)
    answer = tracker.post(f"{tracker.base}/gift-groups", json={"groups": GROUPS})
    assert answer.status_code == 200
    assert answer.json() == {"success": True, "message": "Gift groups saved successfully"}
    assert tracker.get(f"{tracker.base}/gift-groups").json() == {"success": True, "data": GROUPS}
    assert desk.tracker_data.get(tracker.account_id, "gift-groups") == GROUPS
    assert seen == [ev.TrackerDataSaved(tracker.account_id, "gift-groups", "tracker")]
    # Groups replace: a second save with one group leaves one group.
    tracker.post(f"{tracker.base}/gift-groups", json={"groups": {"only": GROUPS["group-1"]}})
    assert tracker.get(f"{tracker.base}/gift-groups").json()["data"] == {"only": GROUPS["group-1"]}


def test_config_saves_merge_into_what_is_there(tracker, desk):
    first = tracker.post(f"{tracker.base}/config", json={"tiktokUsername": "@someone", "theme": "dark"})
    assert first.json() == {"success": True, "message": "Configuration saved successfully"}
    tracker.post(f"{tracker.base}/config", json={"theme": "light", "target": 1.5, "custom": [1, 2]})
    expected = {"tiktokUsername": "@someone", "theme": "light", "target": 1.5, "custom": [1, 2]}
    assert tracker.get(f"{tracker.base}/config").json() == {"success": True, "data": expected}
    assert desk.tracker_data.get(tracker.account_id, "config") == expected


def test_analytics_are_saved_and_read_back(tracker):
    body = {"totalDiamonds": 12345, "top": [{"user": "a", "diamonds": 10}], "note": "ünïcödé ✓"}
    answer = tracker.post(f"{tracker.base}/analytics", json=body)
    assert answer.json() == {"success": True, "message": "Analytics saved successfully"}
    assert tracker.get(f"{tracker.base}/analytics").json() == {"success": True, "data": body}


def test_console_edits_are_what_the_tracker_reads_next(tracker, desk):
    assert tracker.get(f"{tracker.base}/config").json()["data"] == {}  # now cached
    desk.tracker_data.save_config(tracker.account_id, {"theme": "from-console"})
    assert tracker.get(f"{tracker.base}/config").json()["data"] == {"theme": "from-console"}


def test_gets_sent_with_a_json_content_type_and_an_empty_or_small_body(endpoint, account):
    account_id, api_key = account
    headers = {"X-API-Key": api_key, "X-Account-ID": str(account_id), "Content-Type": "application/json"}
    path = f"/api/instances/{account_id}/config"
    payload = (
        request_bytes("GET", path, {**headers, "Content-Length": "0"})
        + request_bytes("GET", path, headers)
        + request_bytes("GET", path, headers, body=b"{}")
        + request_bytes("GET", "/health", {"Content-Type": "application/json", "Content-Length": "0"})
    )
    answers, _ = exchange(endpoint.port, payload)
    assert [a.status for a in answers] == [200, 200, 200, 200]
    assert all(a.json() in ({"success": True, "data": {}}, {"status": "ok"}) for a in answers)


@pytest.mark.parametrize("path", [
    "/", "/api", "/api/instances", "/api/instances/1", "/api/instances/1/", "/api/instances/1/other",
    "/api/instances/1/config/extra", "/api/instances//config", "/health/extra", "/openapi.yaml", "/API/instances/1/config",
])
def test_unknown_routes_are_404_json(client, path):
    for method in ("GET", "POST", "DELETE"):
        answer = client.request(method, path)
        assert answer.status_code == 404, (method, path)
        assert answer.json()["success"] is False and answer.json()["message"]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "TRACE", "CONNECT", "FOO"])
def test_wrong_methods_on_a_data_route_are_405_with_allow(tracker, method):
    answer = tracker.request(method, f"{tracker.base}/gift-groups")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    assert answer.json()["success"] is False and method in answer.json()["message"]


def test_methods_are_case_sensitive(endpoint):
    answers, _ = exchange(endpoint.port, b"get /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answers[0].status == 405 and answers[0].header("allow") == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize("path", ["/health", "/openapi.json"])
def test_read_only_routes_refuse_writes_with_405(client, path):
    answer = client.post(path, json={})
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD, OPTIONS"


def test_head_is_get_without_a_body_and_needs_the_key(tracker, client):
    tracker.post(f"{tracker.base}/gift-groups", json={"groups": GROUPS})
    full = tracker.get(f"{tracker.base}/gift-groups")
    head = tracker.head(f"{tracker.base}/gift-groups")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == full.headers["content-length"]
    assert client.head(f"{tracker.base}/gift-groups", headers={"X-API-Key": "", "X-Account-ID": ""}).status_code == 401


def test_options_is_a_204_with_allow_and_needs_no_key(client):
    answer = client.options("/api/instances/1/config")
    assert answer.status_code == 204 and answer.content == b""
    assert answer.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    assert "content-length" not in answer.headers
    assert client.options("/health").headers["allow"] == "GET, HEAD, OPTIONS"
    assert client.options("/nowhere").status_code == 404


def test_options_star(endpoint):
    answers, _ = exchange(endpoint.port, b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answers[0].status == 204 and answers[0].header("allow") == "GET, HEAD, POST, OPTIONS"
    answers, closed = exchange(endpoint.port, b"GET * HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answers[0].status == 400 and closed


def test_query_strings_trailing_slashes_and_absolute_form_targets(tracker, endpoint):
    assert tracker.get(f"{tracker.base}/config?x=1&y=2").status_code == 200
    assert tracker.get(f"{tracker.base}/config/").status_code == 200
    assert tracker.get("/health?probe=1").json() == {"status": "ok"}
    absolute = f"http://127.0.0.1:{endpoint.port}/health".encode()
    answers, _ = exchange(endpoint.port, b"GET " + absolute + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answers[0].status == 200


def test_the_openapi_document_is_valid_and_describes_every_route(client):
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    validate(document)  # openapi-spec-validator: a valid OpenAPI 3.1 document
    paths = document["paths"]
    for data_type in ("gift-groups", "config", "analytics"):
        item = paths[f"/api/instances/{{accountId}}/{data_type}"]
        assert {"get", "post", "head", "options"} <= set(item)
        assert item["get"]["security"] == [{"ApiKey": [], "AccountHeader": []}]
        codes = set(item["post"]["responses"])
        assert {"200", "400", "401", "404", "405", "413", "429"} <= codes
        assert {"200", "400", "401", "404", "405", "429"} <= set(item["get"]["responses"])
        assert item["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(paths) == {
        "/api/instances/{accountId}/gift-groups", "/api/instances/{accountId}/config",
        "/api/instances/{accountId}/analytics", "/health", "/openapi.json",
    }
    schemes = document["components"]["securitySchemes"]
    assert {(s["in"], s["name"]) for s in schemes.values()} == {("header", "X-API-Key"), ("header", "X-Account-ID")}
    assert "Retry-After" in document["components"]["responses"]["TooManyRequests"]["headers"]
    assert "Allow" in document["components"]["responses"]["MethodNotAllowed"]["headers"]


def _schema_validator(document: dict, name: str) -> OAS31Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return OAS31Validator(schema)


@pytest.mark.parametrize("body, accepted", [
    ({"groups": GROUPS}, True),
    ({"groups": {"g": {"name": "A", "color": "#abcdef", "giftIds": [], "goal": None}}}, True),
    ({"groups": {"g": {"name": "A", "color": "red", "giftIds": [1]}}}, False),
    ({"groups": {"g": {"name": "A", "color": "#abcdef", "giftIds": [1.5]}}}, False),
    ({"groups": {"g": {"name": "A", "color": "#abcdef", "giftIds": [2133.0], "goal": 50.0}}}, True),
    ({"groups": {"g": {"name": "A", "color": "#abcdef", "giftIds": [True]}}}, False),
    ({"groups": {"g": {"name": "A", "color": "#abcdef", "giftIds": [-1.0]}}}, False),
    ({"groups": {"g": {"name": "A", "color": "#abcdef", "giftIds": [1], "goal": 2.5}}}, False),
    ({"groups": {"g": {"name": "A", "color": "#abcdef", "giftIds": [1], "goal": -1}}}, False),
    ({"groups": {"g": {"color": "#abcdef", "giftIds": [1]}}}, False),
    ({"nogroups": {}}, False),
])
def test_the_gift_group_schema_agrees_with_the_endpoint(tracker, client, body, accepted):
    document = client.get("/openapi.json").json()
    assert _schema_validator(document, "SaveGiftGroups").is_valid(body) is accepted
    assert tracker.post(f"{tracker.base}/gift-groups", json=body).status_code == (200 if accepted else 400)


@pytest.mark.parametrize("body, accepted", [
    ({"tiktokUsername": "@a", "theme": "dark", "language": "en", "notifications": True, "autoConnect": False,
      "target": 10, "comboTimeout": 2.5, "extra": {"anything": [1]}}, True),
    ({"notifications": "yes"}, False),
    ({"theme": 3}, False),
    ({"target": -1}, False),
])
def test_the_config_schema_agrees_with_the_endpoint(tracker, client, body, accepted):
    document = client.get("/openapi.json").json()
    assert _schema_validator(document, "Config").is_valid(body) is accepted
    assert tracker.post(f"{tracker.base}/config", content=json.dumps(body)).status_code == (200 if accepted else 400)


def test_integral_floats_are_whole_numbers_and_saved_as_integers(tracker, desk):
    body = '{"groups": {"g": {"name": "A", "color": "#abcdef", "giftIds": [2133.0, 7, 1e3], "goal": 5e4}}}'
    answer = tracker.post(f"{tracker.base}/gift-groups", content=body)
    assert answer.status_code == 200, answer.text
    saved = {"g": {"name": "A", "color": "#abcdef", "giftIds": [2133, 7, 1000], "goal": 50000}}
    assert tracker.get(f"{tracker.base}/gift-groups").text == '{"success":true,"data":%s}' % json.dumps(
        saved, separators=(",", ":"))
    assert desk.tracker_data.get(tracker.account_id, "gift-groups") == saved
    assert all(type(n) is int for n in desk.tracker_data.get(tracker.account_id, "gift-groups")["g"]["giftIds"])
