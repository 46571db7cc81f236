"""The social-sync route's behaviour (SocialSyncHandler): every answer, the rate limit, the OpenAPI fragment."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec

from giftdesk.social.http import (
    ROUTE,
    SlidingWindowLimiter,
    SocialSyncHandler,
    match_route,
    openapi_fragment,
)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def linked(any_db_desk):
    """A profile linked to a TikTok account with an API key; returns (desk, profile, api_key)."""
    customer = any_db_desk.customers.create("Yash")
    account = any_db_desk.customers.add_account(customer.id, "yash_live")
    key = any_db_desk.keys.generate(account.id)
    profile = any_db_desk.social.create("Yash Gupta", account_id=account.id, city="Delhi")
    return any_db_desk, profile, key


def _post(handler, platform, key, body, client="127.0.0.1"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    auth = None if key is None else f"Bearer {key}".encode()
    return handler.handle(platform, auth, raw, client)


def test_sync_answers_200_with_the_whole_profile(linked):
    desk, profile, key = linked
    handler = SocialSyncHandler(desk.social, clock=Clock())
    for platform, body in (("instagram", {"followers": 15925, "engagement": 2.91}),
                           ("youtube", {"followers": 7100, "engagement": 2.66}),
                           ("twitch", {"followers": 0})):
        assert _post(handler, platform, key, body)[0] == 200
    status, body, headers = _post(handler, "tiktok", key, b'{"followers": 1000, "engagement": 7.5}')
    assert status == 200
    assert body["success"] is True and body["message"] == "Social media Tiktok synced successfully"
    stats = body["profile"]["stats"]
    assert stats["totalFollowers"] == 24025 and stats["avgEngagement"] == 4.36
    assert stats["platformBreakdown"]["tiktok"] == {"followers": 1000, "engagement": 7.5}
    assert body["profile"]["id"] == profile.id and body["profile"]["tiktokUsername"] == "@yash_live"
    assert ("RateLimit-Remaining", "6") in headers
    assert [h.source for h in desk.social.history(profile.id)] == ["endpoint"] * 4
    json.dumps(body)  # the body is plain JSON, ready for the transport


def test_followers_are_floored_and_decimals_stay_exact(linked):
    desk, _, key = linked
    handler = SocialSyncHandler(desk.social, clock=Clock())
    status, body, _ = _post(handler, "twitter", key, b'{"followers": 2500.99, "engagement": 5.805}')
    assert status == 200
    assert body["profile"]["stats"]["platformBreakdown"]["twitter"] == {"followers": 2500, "engagement": 5.81}


@pytest.mark.parametrize("authorization, error", [
    (None, "Access token required"), (b"", "Access token required"), (b"Bearer", "Access token required"),
    (b"Basic dXNlcjpwYXNz", "Access token required"), (b"Bearer \xff\xfe", "Access token required"),
    (b"Bearer 00000000-0000-0000-0000-000000000000", "Invalid or missing token"),
])
def test_missing_or_wrong_tokens_get_401(linked, authorization, error):
    desk, profile, _ = linked
    handler = SocialSyncHandler(desk.social, clock=Clock())
    status, body, headers = handler.handle("tiktok", authorization, b'{"followers": 1}', "10.0.0.9")
    assert (status, body) == (401, {"message": "Unauthorized", "error": error})
    assert headers[0][0] == "WWW-Authenticate"
    assert desk.social.get(profile.id).total_followers == 0 and desk.social.metrics().total == 0


def test_a_deactivated_or_regenerated_key_stops_working(linked):
    desk, profile, key = linked
    handler = SocialSyncHandler(desk.social, clock=Clock())
    desk.keys.set_active(profile.account_id, False)
    assert _post(handler, "tiktok", key, {"followers": 1})[0] == 401
    desk.keys.set_active(profile.account_id, True)
    new_key = desk.keys.regenerate(profile.account_id)
    assert _post(handler, "tiktok", key, {"followers": 1})[0] == 401
    assert _post(handler, "tiktok", new_key, {"followers": 1})[0] == 200


def test_a_key_of_an_account_without_a_profile_gets_404(linked):
    desk, _, _ = linked
    customer = desk.customers.create("Other")
    account = desk.customers.add_account(customer.id, "no_profile")
    key = desk.keys.generate(account.id)
    handler = SocialSyncHandler(desk.social, clock=Clock())
    status, body, _ = _post(handler, "tiktok", key, {"followers": 5})
    assert (status, body) == (404, {"message": "Profile not found", "error": "User profile does not exist"})
    metrics = desk.social.metrics()
    assert (metrics.failed, metrics.platforms["tiktok"].failed) == (1, 1)


def test_invalid_platform_gets_400(linked):
    desk, _, key = linked
    status, body, _ = _post(SocialSyncHandler(desk.social, clock=Clock()), "myspace", key, {"followers": 5})
    assert status == 400
    assert body == {"message": "Invalid platform type",
                    "error": "Platform must be one of: tiktok, instagram, youtube, twitch, twitter"}


@pytest.mark.parametrize("raw, path, type_", [
    (b'{"engagement": 7.5}', ["followers"], "any.required"),
    (b'{"followers": null}', ["followers"], "any.required"),
    (b'{"followers": "1000"}', ["followers"], "number.base"),
    (b'{"followers": true}', ["followers"], "number.base"),
    (b'{"followers": -1}', ["followers"], "number.positive"),
    (b'{"followers": 100000001}', ["followers"], "number.max"),
    (b'{"followers": 1e400}', ["followers"], "number.max"),
    (b'{"followers": NaN}', ["body"], "object.base"),
    (b'{"followers": 5, "engagement": 100.01}', ["engagement"], "number.range"),
    (b'{"followers": 5, "engagement": "high"}', ["engagement"], "number.base"),
    (b'[1, 2]', ["body"], "object.base"),
    (b'{"followers": 5', ["body"], "object.base"),
    (b'\xff', ["body"], "object.base"),
    pytest.param(b'[' * 5_000 + b']' * 5_000, ["body"], "object.base", id="nested-too-deep"),
])
def test_bad_bodies_get_400_in_the_seed_shape_and_are_counted(linked, raw, path, type_):
    desk, profile, key = linked
    handler = SocialSyncHandler(desk.social, clock=Clock())
    status, body, _ = _post(handler, "tiktok", key, raw)
    assert status == 400 and body["message"] == "Validation failed"
    assert body["details"][0]["path"] == path and body["details"][0]["type"] == type_
    assert set(body["details"][0]) == {"message", "path", "type", "context"}
    assert desk.social.get(profile.id).platforms == {}
    assert desk.social.metrics().failed == 1
    assert desk.social.history(profile.id)[-1].error.startswith("400 Validation failed")


def test_zero_followers_are_accepted(linked):
    desk, _, key = linked
    status, body, _ = _post(SocialSyncHandler(desk.social, clock=Clock()), "twitch", key, {"followers": 0})
    assert status == 200 and body["profile"]["stats"]["platformBreakdown"]["twitch"]["followers"] == 0


def test_twitch_limit_is_lower(linked):
    desk, _, key = linked
    handler = SocialSyncHandler(desk.social, clock=Clock())
    assert _post(handler, "twitch", key, {"followers": 10_000_000})[0] == 200
    status, body, _ = _post(handler, "twitch", key, {"followers": 10_000_001})
    assert status == 400 and body["details"][0]["context"]["limit"] == 10_000_000


def test_oversized_body_gets_413(linked):
    desk, _, key = linked
    status, body, _ = _post(SocialSyncHandler(desk.social, clock=Clock()), "tiktok", key,
                            b'{"followers": 1, "pad": "' + b"x" * 20_000 + b'"}')
    assert status == 413 and body["message"] == "Payload too large"


def test_more_than_10_syncs_a_minute_per_profile_get_429_with_retry_after(linked):
    desk, profile, key = linked
    clock = Clock()
    handler = SocialSyncHandler(desk.social, clock=clock)
    for i in range(10):
        clock.now += 1
        assert _post(handler, "tiktok", key, {"followers": i})[0] == 200
    clock.now += 1
    status, body, headers = _post(handler, "tiktok", key, {"followers": 99})
    assert (status, body) == (429, {"message": "Too many sync requests", "error": "Please wait before syncing again"})
    assert dict(headers)["Retry-After"] == "50"  # the first of the 10 leaves the window 50 s from now
    assert desk.social.get(profile.id).platforms["tiktok"].followers == 9

    # Another profile is not held back by this one.
    customer = desk.customers.create("Other")
    account = desk.customers.add_account(customer.id, "other_live")
    other_key = desk.keys.generate(account.id)
    desk.social.create("Other", account_id=account.id)
    assert _post(handler, "tiktok", other_key, {"followers": 1})[0] == 200

    clock.now += 49.5
    assert _post(handler, "tiktok", key, {"followers": 99})[0] == 429
    clock.now += 0.6  # now the first sync is a minute old
    assert _post(handler, "tiktok", key, {"followers": 99})[0] == 200
    assert _post(handler, "tiktok", key, {"followers": 100})[0] == 429


def test_wrong_tokens_do_not_hold_back_a_valid_one_from_the_same_address(linked):
    """Limiting failed authentications per address is the endpoint's (one budget with the tracker
    routes, tests/endpoint/test_social_route.py); the handler checks every token it is given."""
    desk, _, key = linked
    handler = SocialSyncHandler(desk.social, clock=Clock())
    for n in range(25):
        assert _post(handler, "tiktok", f"wrong{n}", {"followers": 1}, client="10.9.9.9")[0] == 401
    assert _post(handler, "tiktok", key, {"followers": 1}, client="10.9.9.9")[0] == 200


def test_a_database_failure_is_a_500_without_details(linked, monkeypatch):
    desk, _, key = linked
    handler = SocialSyncHandler(desk.social, clock=Clock())

    def broken(*_a, **_k):
        raise RuntimeError("connection reset by peer at 10.0.0.5")

    monkeypatch.setattr(desk.social, "sync", broken)
    status, body, _ = _post(handler, "tiktok", key, {"followers": 1})
    assert status == 500 and "10.0.0.5" not in json.dumps(body)


def test_limiter_forgets_idle_keys():
    clock = Clock()
    limiter = SlidingWindowLimiter(2, 10, clock)
    assert limiter.hit("a")[0] is None and limiter.hit("a")[0] is None
    assert limiter.hit("a")[0] == pytest.approx(10)
    clock.now += 10
    assert limiter.retry_after("a") is None and "a" not in limiter._hits


# ---- OpenAPI and HTTP ------------------------------------------------------------------------------
def _document() -> dict:
    fragment = openapi_fragment()
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, **fragment}


def test_openapi_fragment_is_a_valid_document_and_describes_every_answer(linked):
    document = _document()
    validate_spec(document)
    desk, _, key = linked
    handler = SocialSyncHandler(desk.social, clock=Clock())
    operation = document["paths"][ROUTE]["post"]
    answers = [
        _post(handler, "tiktok", key, {"followers": 1000, "engagement": 7.5}),
        _post(handler, "tiktok", None, {"followers": 1}),
        _post(handler, "tiktok", key, {"followers": -1}),
        _post(handler, "vine", key, {"followers": 1}),
    ]
    for status, body, _ in answers:
        response = operation["responses"][str(status)]
        schema = response["content"]["application/json"]["schema"]
        OAS31Validator({**schema, "components": document["components"]}).validate(body)


class _Adapter(BaseHTTPRequestHandler):
    """The shape the lead's endpoint gives the handler: path, raw header, raw body, client address."""

    handler: SocialSyncHandler

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        auth = self.headers.get("Authorization")
        status, payload, headers = self.handler.handle(match_route(self.path),
                                                       auth.encode("latin-1") if auth else None, body,
                                                       self.client_address[0])
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args):
        pass


def test_over_real_http(linked):
    desk, _, key = linked
    adapter = type("Adapter", (_Adapter,), {"handler": SocialSyncHandler(desk.social)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), adapter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}{ROUTE.split('{')[0]}"
        with httpx.Client(timeout=10) as client:
            ok = client.post(base + "instagram", json={"followers": 15000, "engagement": 4.2},
                             headers={"Authorization": f"Bearer {key}"})
            assert ok.status_code == 200 and ok.json()["message"] == "Social media Instagram synced successfully"
            assert client.post(base + "instagram", json={"followers": 1}).status_code == 401
            for _ in range(9):
                client.post(base + "instagram", json={"followers": 1}, headers={"Authorization": f"Bearer {key}"})
            limited = client.post(base + "instagram", json={"followers": 1}, headers={"Authorization": f"Bearer {key}"})
            assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    finally:
        server.shutdown()
        server.server_close()


def test_route_matching():
    assert match_route("/api/v1/profiles/social-sync/tiktok") == "tiktok"
    assert match_route("/api/v1/profiles/social-sync/MySpace") == "MySpace"  # answered 400, not 404
    for path in ("/api/v1/profiles/social-sync/", "/api/v1/profiles/social-sync/a/b", "/api/v1/profiles/x",
                 "/health"):
        assert match_route(path) is None
