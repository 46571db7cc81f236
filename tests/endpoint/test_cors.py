"""CORS on the routes a browser calls (``Route.cors``: the social routes), over real HTTP.

Only the exact origins of ``endpoint.cors_origins`` get ``Access-Control-Allow-*`` headers; the
trackers' routes never carry CORS headers at all.
"""

from __future__ import annotations

import httpx
import pytest

from giftdesk.core.errors import ValidationError
from giftdesk.social.http import SocialSyncHandler
from giftdesk.system.settings import SPECS

SYNC_TIKTOK = "/api/v1/profiles/social-sync/tiktok"
LISTED = "http://app.example.test:3000"


@pytest.fixture
def linked(desk, make_account):
    account, key = make_account("cors_creator")
    profile = desk.social.create("Cors Creator", account_id=account.id)
    return profile, key


@pytest.fixture
def http(start_endpoint, desk):
    server = start_endpoint(social=SocialSyncHandler(desk.social), cors_origins=[LISTED, "https://other.example"])
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as client:
        yield client


def _preflight(http, origin: str, path: str = SYNC_TIKTOK) -> httpx.Response:
    return http.options(path, headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                       "Access-Control-Request-Headers": "authorization, content-type"})


def test_a_preflight_from_a_listed_origin_is_allowed(http):
    answer = _preflight(http, LISTED)
    assert answer.status_code == 204
    headers = answer.headers
    assert headers["Access-Control-Allow-Origin"] == LISTED
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    assert int(headers["Access-Control-Max-Age"]) > 0
    assert headers["Vary"] == "Origin"


@pytest.mark.parametrize("origin", ["http://evil.example", "http://app.example.test:3001", "null",
                                    LISTED + "/", "HTTP://APP.EXAMPLE.TEST:3000x"])
def test_an_unlisted_origin_gets_no_allow_headers(http, linked, origin):
    answer = _preflight(http, origin)
    assert answer.status_code == 204
    assert not [name for name in answer.headers if name.lower().startswith("access-control-")]
    assert answer.headers["Vary"] == "Origin"
    _, key = linked
    posted = http.post(SYNC_TIKTOK, json={"followers": 5}, headers={"Origin": origin, "Authorization": f"Bearer {key}"})
    assert posted.status_code == 200
    assert not [name for name in posted.headers if name.lower().startswith("access-control-")]


def test_actual_answers_carry_the_allow_headers_for_a_listed_origin(http, linked):
    _, key = linked
    for headers, status in (({"Authorization": f"Bearer {key}"}, 200), ({}, 401),
                            ({"Authorization": "Bearer wrong"}, 401)):
        answer = http.post(SYNC_TIKTOK, json={"followers": 5}, headers={"Origin": LISTED, **headers})
        assert answer.status_code == status
        assert answer.headers["Access-Control-Allow-Origin"] == LISTED
        assert answer.headers["Access-Control-Allow-Credentials"] == "true"
        assert answer.headers["Vary"] == "Origin"
    # Over one kept-alive connection, the next request's answer has its own origin's headers.
    other = http.post(SYNC_TIKTOK, json={"followers": 5}, headers={"Authorization": f"Bearer {key}"})
    assert "Access-Control-Allow-Origin" not in other.headers
    too_large = http.post(SYNC_TIKTOK, content=b"x" * 20_000, headers={"Origin": LISTED, "Authorization": f"Bearer {key}"})
    assert too_large.status_code == 413 and too_large.headers["Access-Control-Allow-Origin"] == LISTED


def test_tracker_routes_and_health_carry_no_cors_headers(http):
    for answer in (http.get("/health", headers={"Origin": LISTED}), _preflight(http, LISTED, "/health"),
                   http.get("/api/instances/1/config", headers={"Origin": LISTED})):
        assert not [name for name in answer.headers if name.lower().startswith("access-control-")]
        assert "Vary" not in answer.headers


def test_without_listed_origins_no_browser_is_allowed(start_endpoint, desk):
    server = start_endpoint(social=SocialSyncHandler(desk.social))
    answer = httpx.options(f"http://127.0.0.1:{server.port}{SYNC_TIKTOK}",
                           headers={"Origin": LISTED, "Access-Control-Request-Method": "POST"})
    assert answer.status_code == 204 and "Access-Control-Allow-Origin" not in answer.headers


def test_the_setting_takes_exact_origins_only(desk):
    check = SPECS["endpoint.cors_origins"].check
    assert SPECS["endpoint.cors_origins"].default == []
    assert check(["https://App.Example.com", "http://localhost:3000", "http://[::1]:8080"], "k") == [
        "https://app.example.com", "http://localhost:3000", "http://[::1]:8080"]
    assert check("https://a.example, http://127.0.0.1:3000", "k") == ["https://a.example", "http://127.0.0.1:3000"]
    assert check("", "k") == []
    for bad in (["*"], ["https://*.example.com"], ["https://a.example/"], ["https://a.example/app"], ["a.example"],
                ["ftp://a.example"], ["https://a.example:99999"], ["https://a.example?x=1"], [5], {"a": 1}, 7,
                ["https://user@a.example"]):
        with pytest.raises(ValidationError):
            check(bad, "endpoint.cors_origins")
    desk.settings.update({"endpoint.cors_origins": "https://app.example.com"})
    assert desk.settings.get("endpoint.cors_origins") == ["https://app.example.com"]


def test_the_served_endpoint_takes_its_origins_from_the_settings(gateway, desk):
    from giftdesk.desk import feature_routes
    from giftdesk.endpoint.server import EndpointServer

    desk.settings.update({"endpoint.cors_origins": [LISTED]})
    server = EndpointServer.from_settings(gateway, desk.settings.all(), port=0, hosts=["127.0.0.1"],
                                          routes=feature_routes(gateway, SocialSyncHandler(desk.social)))
    server.start()
    try:
        answer = httpx.options(f"http://127.0.0.1:{server.port}{SYNC_TIKTOK}",
                               headers={"Origin": LISTED, "Access-Control-Request-Method": "POST"})
        assert answer.headers["Access-Control-Allow-Origin"] == LISTED
    finally:
        server.stop()
