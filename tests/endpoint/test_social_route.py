"""The social route ``POST /api/v1/profiles/social-sync/{platform}`` on the real endpoint, over real HTTP."""

from __future__ import annotations

import json
import socket
import threading

import httpx
from openapi_schema_validator import OAS31Validator
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from giftdesk.runtime import Runtime
from giftdesk.social.http import SocialSyncHandler
from tests.endpoint.helpers import exchange, read_answers, read_until_closed, request_bytes, wait_until
from tests.runtime.test_runtime import free_port
from tests.runtime.test_supervisor import wait_for

SYNC = "/api/v1/profiles/social-sync"


@pytest.fixture
def linked(desk, make_account):
    """(profile, api key) of a profile linked to a TikTok account with a key."""
    account, key = make_account("yash_live")
    profile = desk.social.create("Yash Gupta", account_id=account.id, city="Delhi")
    return profile, key


@pytest.fixture
def social_endpoint(start_endpoint, desk):
    return start_endpoint(social=SocialSyncHandler(desk.social))


@pytest.fixture
def http(social_endpoint):
    with httpx.Client(base_url=f"http://127.0.0.1:{social_endpoint.port}", timeout=10) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_sync_answers_200_with_the_profile_and_lands_in_history_and_metrics(http, desk, linked):
    profile, key = linked
    for platform, body in (("instagram", {"followers": 15925, "engagement": 2.91}),
                           ("youtube", {"followers": 7100, "engagement": 2.66}),
                           ("twitch", {"followers": 0})):
        assert http.post(f"{SYNC}/{platform}", json=body, headers=bearer(key)).status_code == 200
    answer = http.post(f"{SYNC}/tiktok", content=b'{"followers": 1000, "engagement": 7.5}', headers=bearer(key))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["success"] is True and body["message"] == "Social media Tiktok synced successfully"
    assert body["profile"]["id"] == profile.id and body["profile"]["displayName"] == "Yash Gupta"
    stats = body["profile"]["stats"]
    assert (stats["totalFollowers"], stats["avgEngagement"]) == (24025, 4.36)
    assert stats["platformBreakdown"]["tiktok"] == {"followers": 1000, "engagement": 7.5}
    assert answer.headers["RateLimit-Limit"] == "10" and answer.headers["RateLimit-Remaining"] == "6"

    # Committed before the answer: the desk's own reads see it at once.
    history = desk.social.history(profile.id)
    assert [(h.platform, h.source) for h in history][-1] == ("tiktok", "endpoint") and len(history) == 4
    assert desk.social.get(profile.id).total_followers == 24025
    metrics = desk.social.metrics()
    assert (metrics.total, metrics.successful, metrics.failed) == (4, 4, 0)
    assert metrics.platforms["tiktok"].successful == 1


def test_an_unknown_platform_is_the_seeds_400_not_a_404(http, linked):
    _, key = linked
    answer = http.post(f"{SYNC}/myspace", json={"followers": 5}, headers=bearer(key))
    assert answer.status_code == 400
    assert answer.json() == {"message": "Invalid platform type",
                             "error": "Platform must be one of: tiktok, instagram, youtube, twitch, twitter"}
    assert http.post(f"{SYNC}/tik%74ok", json={"followers": 5}, headers=bearer(key)).status_code == 200
    assert http.post(f"{SYNC}/tik%2Ftok", json={"followers": 5}, headers=bearer(key)).status_code == 400


@pytest.mark.parametrize("raw, path, type_", [
    (b'{"engagement": 7.5}', ["followers"], "any.required"),
    (b'{"followers": "1000"}', ["followers"], "number.base"),
    (b'{"followers": -1}', ["followers"], "number.positive"),
    (b'{"followers": 100000001}', ["followers"], "number.max"),
    (b'{"followers": 5, "engagement": 100.01}', ["engagement"], "number.range"),
    (b'{"followers": 1e400}', ["followers"], "number.max"),
    (b'not json', ["body"], "object.base"),
])
def test_a_bad_body_is_the_seeds_validation_error(http, desk, linked, raw, path, type_):
    profile, key = linked
    answer = http.post(f"{SYNC}/tiktok", content=raw, headers=bearer(key))
    assert answer.status_code == 400
    body = answer.json()
    assert body["message"] == "Validation failed"
    assert body["details"][0]["path"] == path and body["details"][0]["type"] == type_
    assert set(body["details"][0]) == {"message", "path", "type", "context"}
    assert desk.social.get(profile.id).platforms == {}
    assert desk.social.metrics().failed == 1


@pytest.mark.parametrize("headers, error", [
    ({}, "Access token required"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "Access token required"),
    ({"Authorization": "Bearer 00000000-0000-0000-0000-000000000000"}, "Invalid or missing token"),
])
def test_a_missing_or_wrong_token_is_401(http, desk, linked, headers, error):
    profile, _ = linked
    answer = http.post(f"{SYNC}/tiktok", json={"followers": 1}, headers=headers)
    assert answer.status_code == 401
    assert answer.json() == {"message": "Unauthorized", "error": error}
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert desk.social.get(profile.id).platforms == {}


def test_a_deactivated_key_is_401(http, desk, linked):
    profile, key = linked
    desk.keys.set_active(profile.account_id, False)
    answer = http.post(f"{SYNC}/tiktok", json={"followers": 1}, headers=bearer(key))
    assert answer.status_code == 401 and answer.json()["error"] == "Invalid or missing token"


def test_a_key_whose_account_has_no_profile_is_404(http, make_account):
    _, key = make_account("no_profile")
    answer = http.post(f"{SYNC}/tiktok", json={"followers": 5}, headers=bearer(key))
    assert answer.status_code == 404
    assert answer.json() == {"message": "Profile not found", "error": "User profile does not exist"}


def test_past_10_syncs_a_minute_a_profile_gets_429_with_retry_after(http, desk, linked, make_account):
    profile, key = linked
    for followers in range(10):
        assert http.post(f"{SYNC}/tiktok", json={"followers": followers}, headers=bearer(key)).status_code == 200
    answer = http.post(f"{SYNC}/tiktok", json={"followers": 99}, headers=bearer(key))
    assert answer.status_code == 429
    assert answer.json() == {"message": "Too many sync requests", "error": "Please wait before syncing again"}
    assert 1 <= int(answer.headers["Retry-After"]) <= 60
    assert desk.social.get(profile.id).platforms["tiktok"].followers == 9
    other_account, other_key = make_account("other_live")  # another profile is not held back
    desk.social.create("Other", account_id=other_account.id)
    assert http.post(f"{SYNC}/tiktok", json={"followers": 1}, headers=bearer(other_key)).status_code == 200


def test_bad_tokens_never_lock_a_valid_token_out(start_endpoint, desk, linked):
    _, key = linked
    server = start_endpoint(social=SocialSyncHandler(desk.social), auth_failures_per_minute=20)
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as client:
        statuses = [client.post(f"{SYNC}/tiktok", json={"followers": 1}, headers=bearer(f"bad{n}")).status_code
                    for n in range(25)]
        assert statuses[:20] == [401] * 20 and 429 in statuses[20:]
        good = client.post(f"{SYNC}/tiktok", json={"followers": 7}, headers=bearer(key))
        assert good.status_code == 200 and good.json()["profile"]["stats"]["totalFollowers"] == 7
        limited = client.post(f"{SYNC}/tiktok", json={"followers": 1}, headers=bearer("bad-again"))
        assert limited.status_code == 429
        assert limited.json() == {"message": "Too many sync requests", "error": "Please wait before syncing again"}
        assert int(limited.headers["Retry-After"]) >= 1


def test_failed_authentications_are_one_budget_for_both_routes(start_endpoint, desk, linked):
    profile, key = linked
    server = start_endpoint(social=SocialSyncHandler(desk.social), auth_failures_per_minute=10)
    tracker_path = f"/api/instances/{profile.account_id}/config"
    bad_tracker = {"X-API-Key": "nope", "X-Account-ID": str(profile.account_id)}
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as client:
        assert [client.get(tracker_path, headers=bad_tracker).status_code for _ in range(10)] == [401] * 10
        # The tracker route's failures used up the address's budget: a bad token is refused at once...
        assert client.post(f"{SYNC}/tiktok", json={"followers": 1}, headers=bearer("bad")).status_code == 429
        # ... and the social route's failures count against the tracker route, too.
        assert client.get(tracker_path, headers=bad_tracker).status_code == 429
        # Valid credentials on either route are still answered.
        assert client.post(f"{SYNC}/tiktok", json={"followers": 3}, headers=bearer(key)).status_code == 200
        good_tracker = {"X-API-Key": key, "X-Account-ID": str(profile.account_id)}
        assert client.get(tracker_path, headers=good_tracker).status_code == 200


def test_only_post_is_taken_and_options_says_so(http, linked):
    _, key = linked
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        answer = http.request(method, f"{SYNC}/tiktok", headers=bearer(key))
        assert answer.status_code == 405 and answer.headers["Allow"] == "POST, OPTIONS", method
    head = http.head(f"{SYNC}/tiktok")
    assert head.status_code == 405 and head.content == b""
    options = http.options(f"{SYNC}/tiktok")
    assert options.status_code == 204 and options.headers["Allow"] == "POST, OPTIONS"
    assert http.post(f"{SYNC}/", json={"followers": 1}, headers=bearer(key)).status_code == 404
    assert http.post(f"{SYNC}/tiktok/extra", json={"followers": 1}, headers=bearer(key)).status_code == 404


def test_openapi_describes_the_route(http):
    document = http.get("/openapi.json").json()
    route = document["paths"]["/api/v1/profiles/social-sync/{platform}"]
    assert set(route) >= {"post", "options"}
    assert document["components"]["securitySchemes"]["SocialBearer"]["scheme"] == "bearer"
    assert {"200", "400", "401", "404", "413", "429"} <= set(route["post"]["responses"])


def test_a_chunked_body_and_pipelined_requests_are_answered_in_order(social_endpoint, desk, linked):
    profile, key = linked
    auth = {"Authorization": f"Bearer {key}"}
    chunked = (f"POST {SYNC}/instagram HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
               "Transfer-Encoding: chunked\r\n\r\n"
               "7\r\n{\"follo\r\n10;ext=1\r\nwers\": 15925, \"e\r\n"
               "f\r\nngagement\": 2.9\r\n2\r\n1}\r\n0\r\nX-Trailer: ok\r\n\r\n").encode()
    pipeline = (chunked
                + request_bytes("POST", f"{SYNC}/youtube", auth, b'{"followers": 7100, "engagement": 2.66}')
                + request_bytes("GET", "/health")
                + request_bytes("POST", f"{SYNC}/nope", auth, b'{"followers": 1}')
                + request_bytes("POST", f"{SYNC}/tiktok", auth, b'{"followers": 1000, "engagement": 7.5}'))
    with socket.create_connection(("127.0.0.1", social_endpoint.port), timeout=10) as sock:
        sock.sendall(pipeline)
        answers = read_answers(sock, 5)
    assert [a.status for a in answers] == [200, 200, 200, 400, 200]
    assert answers[0].json()["profile"]["stats"]["platformBreakdown"]["instagram"] == {"followers": 15925,
                                                                                      "engagement": 2.91}
    assert answers[2].json() == {"status": "ok"}
    assert answers[4].json()["profile"]["stats"]["totalFollowers"] == 24025
    assert [h.platform for h in desk.social.history(profile.id) if h.error is None] == ["instagram", "youtube", "tiktok"]


def test_a_body_over_the_routes_limit_is_413(social_endpoint, linked):
    _, key = linked
    auth = {"Authorization": f"Bearer {key}"}
    big = b'{"followers": 1, "pad": "' + b"x" * 20_000 + b'"}'
    answers, closed = exchange(social_endpoint.port, request_bytes("POST", f"{SYNC}/tiktok", auth, big))
    assert [a.status for a in answers] == [413] and closed
    assert answers[0].json()["message"] == "Payload too large"
    # Chunked: refused as soon as the decoded size passes the limit, before the rest arrives.
    head = (f"POST {SYNC}/tiktok HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", social_endpoint.port), timeout=10) as sock:
        sock.sendall(head + b"4000\r\n" + b"x" * 0x4000 + b"\r\n" + b"10\r\n" + b"y" * 16 + b"\r\n")
        data, closed = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 413 ") and closed


def test_a_valid_bearer_token_counts_as_authenticated_for_connection_slots(social_endpoint, linked):
    _, key = linked
    state = social_endpoint._state  # test-only look at the connection-slot bookkeeping
    with socket.create_connection(("127.0.0.1", social_endpoint.port), timeout=10) as sock:
        sock.sendall(request_bytes("POST", f"{SYNC}/tiktok", {"Authorization": "Bearer wrong"}, b'{"followers": 1}'))
        assert read_answers(sock, 1)[0].status == 401
        assert state.unauthenticated_count() == 1
        sock.sendall(request_bytes("POST", f"{SYNC}/tiktok", {"Authorization": f"Bearer {key}"}, b'{"followers": 1}'))
        assert read_answers(sock, 1)[0].status == 200
        assert state.unauthenticated_count() == 0
        assert len(state.connections) == 1


def test_the_loop_keeps_answering_while_a_sync_is_being_saved(start_endpoint, desk, linked):
    profile, key = linked
    handler = SocialSyncHandler(desk.social)
    entered, release = threading.Event(), threading.Event()
    real_sync = desk.social.sync

    def slow_sync(*args, **kwargs):
        entered.set()
        release.wait(10)
        return real_sync(*args, **kwargs)

    handler.social.sync = slow_sync
    server = start_endpoint(social=handler)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request_bytes("POST", f"{SYNC}/tiktok", bearer(key), b'{"followers": 42}'))
        assert entered.wait(10)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=5) as other:
                assert other.get("/health").status_code == 200  # the loop is free while the sync waits
        finally:
            release.set()
        assert read_answers(sock, 1)[0].status == 200
    assert desk.social.get(profile.id).platforms["tiktok"].followers == 42


def test_without_a_handler_the_route_is_404_and_not_in_openapi(client):
    answer = client.post(f"{SYNC}/tiktok", json={"followers": 1}, headers={"Authorization": "Bearer x"})
    assert answer.status_code == 404 and "not served" in answer.json()["error"]
    assert "/api/v1/profiles/social-sync/{platform}" not in client.get("/openapi.json").json()["paths"]


_header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=60)


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_hostile_requests_never_get_a_5xx(start_endpoint, desk, linked, data):
    _, key = linked
    server = _hostile_server(start_endpoint, desk)
    platform = data.draw(st.one_of(st.sampled_from(["tiktok", "twitch", "TikTok", "%00", "%ff%fe", "..", "%2e%2e"]),
                                   st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e,
                                                         blacklist_characters="/?#%"), min_size=1, max_size=30)))
    authorization = data.draw(st.one_of(st.just(f"Bearer {key}"), _header_text.map(lambda t: "Bearer " + t),
                                        _header_text))
    body = data.draw(st.one_of(
        st.binary(max_size=300),
        st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                     max_leaves=12).map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries({"followers": st.one_of(st.integers(), st.floats(), st.text(max_size=5), st.none())},
                              optional={"engagement": st.one_of(st.floats(), st.integers(), st.text(max_size=5))})
        .map(lambda v: json.dumps(v).encode()),
    ))
    answers, _ = exchange(server.port, request_bytes("POST", f"{SYNC}/{platform}",
                                                     {"Authorization": authorization}, body))
    assert answers and all(a.status < 500 for a in answers), [(a.status, a.body[:200]) for a in answers]


_hostile_servers: dict[int, object] = {}


def _hostile_server(start_endpoint, desk):
    """One server per test run (hypothesis calls the test body many times within one fixture scope)."""
    server = _hostile_servers.get(id(desk))
    if server is None or not server.running:
        server = start_endpoint(social=SocialSyncHandler(desk.social, limit=1_000_000),
                                auth_failures_per_minute=1_000_000)
        _hostile_servers.clear()
        _hostile_servers[id(desk)] = server
    return server


def test_the_runtimes_endpoint_serves_the_route(desk, make_account):
    desk.settings.update({"endpoint.port": free_port(), "endpoint.bind": "local",
                          "docker.host": "unix:///nonexistent.sock"})
    account, key = make_account("runtime_live")
    profile = desk.social.create("Runtime Creator", account_id=account.id)
    runtime = Runtime(desk)
    desk.attach_runtime(runtime)
    try:
        runtime.start()
        assert wait_for(lambda: runtime.supervisor.status("endpoint").state == "running")
        port = runtime.supervisor.status("endpoint").info["port"]
        answer = httpx.post(f"http://127.0.0.1:{port}{SYNC}/youtube", json={"followers": 321, "engagement": 4},
                            headers=bearer(key), timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.json()["profile"]["stats"]["platformBreakdown"]["youtube"] == {"followers": 321, "engagement": 4}
        assert desk.social.history(profile.id)[-1].source == "endpoint"
        paths = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=10).json()["paths"]
        assert "/api/v1/profiles/social-sync/{platform}" in paths
        wait_until(lambda: runtime.supervisor.status("endpoint").info.get("requestsPerMinute", 0) >= 2,
                   message="the runtime to count the requests")
    finally:
        runtime.stop()


def _validator(document: dict, name: str) -> OAS31Validator:
    return OAS31Validator({"$ref": f"#/components/schemas/{name}", "components": document["components"]})


@pytest.mark.parametrize("body, accepted", [
    ({"followers": 1000, "engagement": 7.5}, True),
    ({"followers": 0}, True),
    ({"followers": 2500.99, "engagement": None}, True),
    ({"followers": 100_000_000, "engagement": 100}, True),
    ({"followers": 100_000_001}, False),
    ({"followers": -1}, False),
    ({"followers": "10"}, False),
    ({"engagement": 5}, False),
    ({"followers": 5, "engagement": 100.5}, False),
    ({"followers": 5, "engagement": -0.1}, False),
])
def test_the_request_schema_agrees_with_the_route(http, linked, body, accepted):
    _, key = linked
    document = http.get("/openapi.json").json()
    assert _validator(document, "SocialSyncRequest").is_valid(body) is accepted
    answer = http.post(f"{SYNC}/instagram", json=body, headers=bearer(key))
    assert answer.status_code == (200 if accepted else 400), answer.text
    schema = "SocialSyncResponse" if accepted else "SocialValidationError"
    assert _validator(document, schema).is_valid(answer.json()), answer.text


def test_error_answers_match_their_documented_schemas(http, linked, make_account):
    _, key = linked
    document = http.get("/openapi.json").json()
    error = _validator(document, "SocialError")
    _, orphan_key = make_account("orphan")
    for answer, status in ((http.post(f"{SYNC}/tiktok", json={"followers": 1}), 401),
                           (http.post(f"{SYNC}/myspace", json={"followers": 1}, headers=bearer(key)), 400),
                           (http.post(f"{SYNC}/tiktok", json={"followers": 1}, headers=bearer(orphan_key)), 404),
                           (http.post(f"{SYNC}/tiktok", content=b"{" + b" " * 17_000 + b"}", headers=bearer(key)), 413)):
        assert answer.status_code == status and error.is_valid(answer.json()), answer.text
