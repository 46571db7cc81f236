"""The web client's profile routes on the real endpoint, over real HTTP: ``GET``/``PUT
/api/v1/profiles/me`` (Bearer key) and ``GET /api/v1/profiles/{id|@username}/public`` (no key)."""

from __future__ import annotations

import httpx
import pytest

from giftdesk.social.http import SocialSyncHandler

ME = "/api/v1/profiles/me"
NOT_FOUND = {"message": "Profile not found", "error": "User profile does not exist"}


@pytest.fixture
def linked(desk, make_account):
    account, key = make_account("yash_live")
    profile = desk.social.create("Yash Gupta", account_id=account.id, city="Delhi", niches=["music"])
    return profile, key


@pytest.fixture
def server(start_endpoint, desk):
    return start_endpoint(social=SocialSyncHandler(desk.social))


@pytest.fixture
def http(server):
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_me_answers_the_linked_profile_in_the_clients_shape(http, linked):
    profile, key = linked
    assert http.post("/api/v1/profiles/social-sync/tiktok", json={"followers": 1000, "engagement": 7.5},
                     headers=bearer(key)).status_code == 200
    answer = http.get(ME, headers=bearer(key))
    assert answer.status_code == 200
    body = answer.json()["profile"]
    assert body["id"] == profile.id and body["username"] == "yash_live" and body["displayName"] == "Yash Gupta"
    stats = body["stats"]
    assert stats["platformBreakdown"]["tiktok"] == {"followers": 1000, "engagement": 7.5}
    assert (stats["totalFollowers"], stats["avgEngagement"]) == (1000, 7.5)
    assert stats["lastSynced"].endswith("Z") or "+" in stats["lastSynced"]
    assert body["socialLinks"] == {"tiktok": "https://www.tiktok.com/@yash_live"}
    head = http.head(ME, headers=bearer(key))
    assert head.status_code == 200 and head.content == b""


def test_me_without_a_profile_is_the_404_and_bad_tokens_the_401(http, make_account):
    _, key = make_account("no_profile")
    answer = http.get(ME, headers=bearer(key))
    assert (answer.status_code, answer.json()) == (404, NOT_FOUND)
    for headers in ({}, bearer("not-a-key")):
        refused = http.get(ME, headers=headers)
        assert refused.status_code == 401 and refused.json()["message"] == "Unauthorized"
    assert http.put(ME, json={"bio": "x"}, headers=bearer("not-a-key")).status_code == 401
    assert http.put(ME, json={"bio": "x"}, headers=bearer(key)).status_code == 404


def test_put_me_changes_what_a_creator_may_and_is_audited_as_the_account(http, desk, linked):
    profile, key = linked
    answer = http.put(ME, json={"displayName": "Yash G", "bio": "Hi", "avatar": "https://cdn.example.com/y.png",
                                "niche": ["Music", "gaming"], "location": {"city": "Mumbai", "country": "India"}},
                      headers=bearer(key))
    assert answer.status_code == 200, answer.text
    body = answer.json()["profile"]
    assert (body["displayName"], body["bio"], body["avatar"]) == ("Yash G", "Hi", "https://cdn.example.com/y.png")
    assert body["niche"] == ["music", "gaming"] and body["location"] == {"city": "Mumbai", "state": "",
                                                                         "country": "India"}
    stored = desk.social.get(profile.id)
    assert (stored.display_name, stored.city, stored.account_id) == ("Yash G", "Mumbai", profile.account_id)
    entries = [e for e in desk.audit.list() if e.action == "social.profile.update"]
    assert entries and entries[0].actor == f"api key of account {profile.account_id}"
    # The client's updateAvatar: {"avatar": url} alone.
    assert http.put(ME, json={"avatar": "https://cdn.example.com/z.png"}, headers=bearer(key)).status_code == 200
    assert desk.social.get(profile.id).avatar_url == "https://cdn.example.com/z.png"


def test_put_me_names_every_refused_field_in_one_400(http, desk, linked):
    profile, key = linked
    answer = http.put(ME, json={"displayName": "", "avatar": "javascript:alert(1)", "isActive": False,
                                "accountId": 5, "socialLinks": {"x": "y"}, "location": {"planet": "Mars"},
                                "niche": [1]}, headers=bearer(key))
    assert answer.status_code == 400
    body = answer.json()
    assert body["message"] == "Validation failed"
    paths = sorted(".".join(detail["path"]) for detail in body["details"])
    assert paths == ["accountId", "avatar", "displayName", "isActive", "location.planet", "niche", "socialLinks.x"]
    assert desk.social.get(profile.id).display_name == "Yash Gupta"  # nothing saved
    for raw in (b"", b"[]", b"{", b"\xff", b"{}", b'"x"', b"null"):
        refused = http.put(ME, content=raw, headers={**bearer(key), "Content-Type": "application/json"})
        assert refused.status_code == 400, raw
    assert http.put(ME, content=b"{" + b" " * 20_000 + b"}", headers=bearer(key)).status_code == 413
    assert http.delete(ME, headers=bearer(key)).status_code == 405


def test_public_reads_by_id_and_username_show_public_fields_only(http, desk, linked):
    profile, _ = linked
    for path in (f"/api/v1/profiles/{profile.id}/public", "/api/v1/profiles/@yash_live/public",
                 "/api/v1/profiles/@YASH_LIVE/public", "/api/v1/profiles/%40yash_live/public"):
        answer = http.get(path)
        assert answer.status_code == 200, path
        public = answer.json()["profile"]
        assert public["id"] == profile.id and public["username"] == "yash_live"
        assert not {"customerId", "customerName", "accountId", "createdAt", "isPublic"} & set(public)
    desk.social.update(profile.id, is_public=False)
    hidden = http.get(f"/api/v1/profiles/{profile.id}/public")
    assert (hidden.status_code, hidden.json()) == (404, NOT_FOUND)
    desk.social.update(profile.id, is_public=True, is_active=False)
    assert http.get("/api/v1/profiles/@yash_live/public").status_code == 404
    for missing in ("999999", "@nobody", "abc", "%FF", "-1", "1" * 40, "@" + "a" * 100):
        assert http.get(f"/api/v1/profiles/{missing}/public").status_code == 404, missing


def test_the_sync_route_keeps_its_literal_segment(http, linked):
    _, key = linked
    answer = http.post("/api/v1/profiles/social-sync/public", json={"followers": 1}, headers=bearer(key))
    assert answer.status_code == 400 and answer.json()["message"] == "Invalid platform type"


def test_public_reads_are_limited_per_client_address(http, linked):
    profile, _ = linked
    statuses = [http.get(f"/api/v1/profiles/{profile.id}/public").status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429
    limited = http.get(f"/api/v1/profiles/{profile.id}/public")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["message"] == "Too many requests"
