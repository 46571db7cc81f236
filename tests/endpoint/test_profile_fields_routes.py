"""The profile's user id, rizz score, preferences, links and handles on the real endpoint, over
real HTTP: read with the seed's names and shapes, changed by ``PUT /api/v1/profiles/me``, refused
whole (nothing stored) when any part is wrong, and a sync's ``usernameOrId`` kept as the handle."""

from __future__ import annotations

from tests.endpoint.test_profile_routes import ME, bearer, http, linked, server  # noqa: F401

USER_ID = "68cec2a59b8985cfa07fe80a"
DEFAULT_PREFERENCES = {"audienceSize": {"min": 0, "max": 1000000}, "budget": {"min": 0, "max": 10000},
                       "collaborationTypes": [], "locations": []}


def test_me_and_the_sync_answer_carry_the_seeds_fields(http, desk, linked):
    profile, key = linked
    desk.social.update(profile.id, user_id=USER_ID, rizz_score=79)
    body = http.get(ME, headers=bearer(key)).json()["profile"]
    assert body["userId"] == USER_ID and body["rizzScore"] == 79 and body["preferences"] == DEFAULT_PREFERENCES
    assert body["platformHandles"] == {} and body["socialLinks"] == {"tiktok": "https://www.tiktok.com/@yash_live"}
    synced = http.post("/api/v1/profiles/social-sync/tiktok", json={"followers": 1000, "engagement": 7.5},
                       headers=bearer(key)).json()["profile"]
    assert synced["rizzScore"] == 79 and synced["preferences"] == DEFAULT_PREFERENCES and synced["userId"] == USER_ID


def test_put_me_changes_preferences_links_and_handles_part_by_part(http, desk, linked):
    profile, key = linked
    answer = http.put(ME, json={
        "preferences": {"audienceSize": {"min": 1000, "max": 50000}, "budget": {"max": 2500.5},
                        "collaborationTypes": ["Shoutout", "live"], "locations": ["Delhi"]},
        "socialLinks": {"instagram": "https://www.instagram.com/yash", "youtube": "http://youtube.com/@yash"},
        "platformHandles": {"twitch": "@yashlive"}}, headers=bearer(key))
    assert answer.status_code == 200, answer.text
    body = answer.json()["profile"]
    assert body["preferences"] == {"audienceSize": {"min": 1000, "max": 50000}, "budget": {"min": 0, "max": 2500.5},
                                   "collaborationTypes": ["shoutout", "live"], "locations": ["Delhi"]}
    assert body["socialLinks"] == {"tiktok": "https://www.tiktok.com/@yash_live",
                                   "instagram": "https://www.instagram.com/yash",
                                   "youtube": "http://youtube.com/@yash", "twitch": "https://www.twitch.tv/yashlive"}
    assert body["platformHandles"] == {"twitch": "yashlive"}
    # What is not sent stays; null clears one platform.
    again = http.put(ME, json={"socialLinks": {"instagram": None}, "preferences": {"locations": []}},
                     headers=bearer(key)).json()["profile"]
    assert "instagram" not in again["socialLinks"] and again["socialLinks"]["youtube"] == "http://youtube.com/@yash"
    assert again["preferences"]["locations"] == [] and again["preferences"]["audienceSize"]["max"] == 50000
    stored = desk.social.get(profile.id).extras
    assert stored.social_links == {"youtube": "http://youtube.com/@yash"} and stored.preferences.budget_max_cents == 250050
    public = http.get(f"/api/v1/profiles/{profile.id}/public").json()["profile"]
    assert public["socialLinks"] == again["socialLinks"] and public["rizzScore"] == 0
    assert "preferences" not in public and "userId" not in public


def test_bad_parts_are_all_named_in_one_400_and_nothing_is_stored(http, desk, linked):
    profile, key = linked
    before = desk.social.get(profile.id)
    answer = http.put(ME, json={
        "bio": "kept out",
        "userId": USER_ID, "rizzScore": 100,
        "preferences": {"audienceSize": {"min": -1, "most": 3}, "budget": {"max": "lots"},
                        "collaborationTypes": "shoutout", "colour": "red"},
        "socialLinks": {"instagram": "instagram.com/account", "tiktok": "https://example.com/@a", "myspace": "x",
                        "twitter": 5},
        "platformHandles": {"tiktok": "two words"}}, headers=bearer(key))
    assert answer.status_code == 400
    details = answer.json()["details"]
    paths = sorted(".".join(d["path"]) for d in details)
    assert paths == ["platformHandles.tiktok", "preferences.audienceSize.min", "preferences.audienceSize.most",
                     "preferences.budget.max", "preferences.collaborationTypes", "preferences.colour", "rizzScore",
                     "socialLinks.instagram", "socialLinks.myspace", "socialLinks.tiktok", "socialLinks.twitter",
                     "userId"]
    by_path = {".".join(d["path"]): d["message"] for d in details}
    assert by_path["socialLinks.instagram"].startswith("The Instagram link must be an http:// or https:// address")
    assert "tiktok.com" in by_path["socialLinks.tiktok"] and "set by the agency" in by_path["userId"]
    assert desk.social.get(profile.id) == before


def test_crossed_bounds_are_a_409_and_nothing_is_stored(http, desk, linked):
    profile, key = linked
    before = desk.social.get(profile.id)
    for body in ({"preferences": {"budget": {"min": 20000}}},  # above the stored largest (10,000)
                 {"preferences": {"audienceSize": {"min": 10, "max": 5}}, "bio": "not saved"}):
        answer = http.put(ME, json=body, headers=bearer(key))
        assert answer.status_code == 409 and answer.json()["message"] == "Conflicting values"
        assert answer.json()["error"].startswith("The smallest")
    assert desk.social.get(profile.id) == before


def test_a_sync_with_a_handle_keeps_it_single_and_batch(http, desk, linked):
    profile, key = linked
    one = http.post("/api/v1/profiles/social-sync/instagram",
                    json={"usernameOrId": "@yash.gupta", "followers": 1500}, headers=bearer(key))
    assert one.status_code == 200 and one.json()["profile"]["platformHandles"] == {"instagram": "yash.gupta"}
    batch = http.post("/api/v1/profiles/social-sync", json={"platforms": {
        "twitch": {"followers": 10, "usernameOrId": "yashlive"}, "youtube": {"followers": 20}}}, headers=bearer(key))
    assert batch.status_code == 200, batch.text
    assert batch.json()["profile"]["platformHandles"] == {"instagram": "yash.gupta", "twitch": "yashlive"}
    bad = http.post("/api/v1/profiles/social-sync", json={"platforms": {
        "twitch": {"followers": 99, "usernameOrId": "two words"}, "youtube": {"followers": 99}}}, headers=bearer(key))
    assert bad.status_code == 400
    assert [d["path"] for d in bad.json()["details"]] == [["platforms", "twitch", "usernameOrId"]]
    stored = desk.social.get(profile.id)
    assert stored.platforms["youtube"].followers == 20 and stored.extras.platform_handles["twitch"] == "yashlive"


def test_openapi_documents_the_fields(http):
    document = http.get("/openapi.json").json()
    profile = document["components"]["schemas"]["SocialProfile"]["properties"]
    assert {"userId", "rizzScore", "preferences", "socialLinks", "platformHandles"} <= set(profile)
    put = document["paths"][ME]["put"]
    body = put["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert {"preferences", "socialLinks", "platformHandles"} <= set(body) and "409" in put["responses"]
