"""The route table (``giftdesk.endpoint.routes``) on its own: how targets find routes, and what it refuses."""

from __future__ import annotations

import pytest

from giftdesk.core.routes import BEARER_KEY, TRACKER_KEY, Route, bearer_token
from giftdesk.endpoint.routes import BAD_TARGET, Router, health_route


def _read(_principal, _kind):
    return b"{}"


def _write(writes):
    return [(200, b"{}") for _ in writes], 1


def _work(_principal, _parameter, _body, _client):
    return 200, {}, []


@pytest.fixture
def router():
    return Router([
        Route("/api/instances/{accountId}/config", kind="config", read=_read, write=_write, auth=TRACKER_KEY,
              trailing_slash=True),
        Route("/api/v1/profiles/social-sync/{platform}", work=_work, auth=BEARER_KEY),
        health_route(),
    ])


@pytest.mark.parametrize("target, path, parameter", [
    (b"/api/instances/12/config", "/api/instances/{accountId}/config", b"12"),
    (b"/api/instances/12/config/", "/api/instances/{accountId}/config", b"12"),
    (b"/api/instances/1%32/config?x=1", "/api/instances/{accountId}/config", b"12"),
    (b"http://host:8787/api/instances/7/config", "/api/instances/{accountId}/config", b"7"),
    (b"/api/v1/profiles/social-sync/tik%2Ftok", "/api/v1/profiles/social-sync/{platform}", b"tik/tok"),
    (b"/health", "/health", b""),
    (b"/health/", "/health", b""),
])
def test_targets_find_their_route_and_parameter(router, target, path, parameter):
    entry, found = router.match(target)
    assert entry.route.path == path and found == parameter


@pytest.mark.parametrize("target", [
    b"/api/instances//config", b"/api/instances/1", b"/api/instances/1/", b"/api/instances/1/config//",
    b"/api/instances/1/config/extra", b"/api/v1/profiles/social-sync/", b"/api/v1/profiles/social-sync/a/b",
    b"/api/v1/profiles/social-sync/tiktok/", b"/healthz", b"/",
])
def test_other_targets_find_none(router, target):
    assert router.match(target) == (None, b"")


def test_star_and_bad_targets(router):
    star, _ = router.match(b"*")
    assert star is router.star and star.allow == "GET, HEAD, POST, OPTIONS"
    assert router.match(b"api/instances")[0] is BAD_TARGET


def test_each_route_allows_what_its_handlers_answer(router):
    assert [entry.allow for entry in router.entries] == ["GET, HEAD, POST, OPTIONS", "POST, OPTIONS",
                                                         "GET, HEAD, OPTIONS"]


def test_literal_segments_win_over_parameters():
    """Overlapping routes are resolved as routers usually do: a literal path first, then the
    longest literal prefix (``/api/v1/{b}`` takes ``/api/v1/x``, never ``/api/{a}/x``)."""
    parameter_first = Route("/api/{a}/x", read=_read)
    literal_first = Route("/api/v1/{b}", read=_read)
    me = Route("/api/v1/me", read=_read)
    router = Router([parameter_first, literal_first, me])
    assert (router.match(b"/api/v1/x")[0].route, router.match(b"/api/v1/x")[1]) == (literal_first, b"x")
    assert router.match(b"/api/v2/x") == (router.match(b"/api/v2/x")[0], b"v2")
    assert router.match(b"/api/v2/x")[0].route is parameter_first
    assert router.match(b"/api/v1/me")[0].route is me
    assert router.match(b"/api/v1/x/y") == (None, b"")  # the longest prefix's rests only: no fallback


def test_a_table_that_would_be_ambiguous_is_refused():
    with pytest.raises(ValueError, match="Two routes"):
        Router([health_route(), health_route()])
    with pytest.raises(ValueError, match="whole path segment"):
        Router([Route("/api/v{n}/x", read=_read)])


@pytest.mark.parametrize("header, token", [
    (None, None), (b"", None), (b"Bearer", None), (b"Basic abc", None), (b"Bearer \xff", None),
    (b"Bearer a b", None), (b"bearer  tok ", "tok"), (b"Bearer " + b"x" * 201, None),
])
def test_bearer_tokens(header, token):
    assert bearer_token(header) == token
