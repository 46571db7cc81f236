"""``POST /api/v1/profiles/social-sync``: several platforms at once, over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from giftdesk.social.http import SocialSyncHandler

BATCH = "/api/v1/profiles/social-sync"


@pytest.fixture
def linked(desk, make_account):
    account, key = make_account("batch_creator")
    profile = desk.social.create("Batch Creator", account_id=account.id)
    return profile, key


@pytest.fixture
def http(start_endpoint, desk):
    server = start_endpoint(social=SocialSyncHandler(desk.social))
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10,
                      headers={"Origin": "http://unlisted.example"}) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_batch_stores_every_platform_in_one_answer(http, desk, linked):
    profile, key = linked
    answer = http.post(BATCH, json={"platforms": {"tiktok": {"followers": 1000, "engagement": 7.5},
                                                  "instagram": {"followers": 15000, "engagement": 4.2}}},
                       headers=bearer(key))
    assert answer.status_code == 200, answer.text
    stats = answer.json()["profile"]["stats"]
    assert stats["totalFollowers"] == 16000
    assert stats["platformBreakdown"]["instagram"] == {"followers": 15000, "engagement": 4.2}
    assert sorted(h.platform for h in desk.social.history(profile.id)) == ["instagram", "tiktok"]


def test_every_bad_field_is_named_in_one_400_and_nothing_is_stored(http, desk, linked):
    profile, key = linked
    answer = http.post(BATCH, json={"platforms": {"tiktok": {"followers": 5}, "instagram": {"followers": -1},
                                                  "myspace": {"followers": 1}, "twitch": {"engagement": 101},
                                                  "youtube": 3}, "extra": 1}, headers=bearer(key))
    assert answer.status_code == 400
    paths = sorted(".".join(d["path"]) for d in answer.json()["details"])
    assert paths == ["extra", "platforms.instagram.followers", "platforms.myspace", "platforms.twitch.engagement",
                     "platforms.twitch.followers", "platforms.youtube"]
    assert desk.social.history(profile.id) == []
    for raw in (b"", b"[]", b"{}", b'{"platforms": {}}', b'{"platforms": []}', b"\xff"):
        assert http.post(BATCH, content=raw, headers=bearer(key)).status_code == 400, raw
    assert http.post(BATCH, json={"platforms": {"tiktok": {"followers": 1}}}).status_code == 401


def test_each_platform_counts_against_the_limit_all_or_nothing(http, desk, linked):
    profile, key = linked
    four = {p: {"followers": 1} for p in ("tiktok", "instagram", "youtube", "twitch")}
    assert http.post(BATCH, json={"platforms": four}, headers=bearer(key)).status_code == 200
    assert http.post(BATCH, json={"platforms": four}, headers=bearer(key)).status_code == 200  # 8 of 10
    refused = http.post(BATCH, json={"platforms": {p: {"followers": 2} for p in ("tiktok", "instagram", "youtube")}},
                        headers=bearer(key))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert len(desk.social.history(profile.id)) == 8  # none of the three stored
    two = {p: {"followers": 3} for p in ("tiktok", "twitter")}
    assert http.post(BATCH, json={"platforms": two}, headers=bearer(key)).status_code == 200  # exactly 10
    assert http.post("/api/v1/profiles/social-sync/tiktok", json={"followers": 4},
                     headers=bearer(key)).status_code == 429


def test_a_key_without_a_profile_gets_the_404(http, make_account):
    _, key = make_account("nobody_here")
    answer = http.post(BATCH, json={"platforms": {"tiktok": {"followers": 1}}}, headers=bearer(key))
    assert answer.status_code == 404 and answer.json()["message"] == "Profile not found"


def test_a_handle_alone_is_refused_saying_numbers_are_required(http, desk, linked):
    profile, key = linked
    sync = "/api/v1/profiles/social-sync/instagram"
    alone = http.post(sync, json={"usernameOrId": "yash.gupta"}, headers=bearer(key))
    assert alone.status_code == 400
    (detail,) = alone.json()["details"]
    assert detail["path"] == ["followers"] and "does not fetch" in detail["message"]
    for bad in (5, "", " ", "x" * 101, ["a"]):
        assert http.post(sync, json={"usernameOrId": bad, "followers": 1}, headers=bearer(key)).status_code == 400
    with_numbers = http.post(sync, json={"usernameOrId": "yash.gupta", "followers": 1500, "engagement": 3},
                             headers=bearer(key))
    assert with_numbers.status_code == 200
    assert with_numbers.json()["profile"]["stats"]["platformBreakdown"]["instagram"]["followers"] == 1500
