"""Property-based bad input: whatever arrives, no 5xx, the server stays up, good requests still work."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.endpoint.helpers import auth_headers, exchange, request_bytes

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

_methods = st.sampled_from(["GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH", "get", "G T", ""]) | st.text(
    st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=8)
_paths = st.sampled_from([
    "/health", "/openapi.json", "/api/instances/{id}/gift-groups", "/api/instances/{id}/config",
    "/api/instances/{id}/analytics", "/api/instances/{id}/", "/api/instances/../config", "*", "", "/%zz",
    "/api/instances/{id}/config?x=%00", "http://host/health", "/api/instances/%31/config",
]) | st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=40)
_header_names = st.sampled_from([
    "X-API-Key", "X-Account-ID", "Content-Length", "Transfer-Encoding", "Connection", "Expect", "Content-Type",
    "x-api-key", "Host", "Bad Name", "", "X-\x00",
]) | st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=12)
_header_values = st.sampled_from([
    "{key}", "{id}", "0", "5", "-1", "99999999999999999999", "chunked", "gzip", "close", "keep-alive",
    "100-continue", "application/json", "",
]) | st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=30)
_bodies = st.binary(max_size=300) | st.sampled_from([
    b'{"groups": {}}', b'{"theme": "dark"}', b"5\r\nhello\r\n0\r\n\r\n", b"{", b"null", b"[]", b'"\\ud800"',
])


def _fill(text: str, account_id: int, api_key: str) -> str:
    return text.replace("{id}", str(account_id)).replace("{key}", api_key)


def _assert_still_serving(port: int, account_id: int, api_key: str) -> None:
    answers, _ = exchange(port, request_bytes("GET", f"/api/instances/{account_id}/config", auth_headers(account_id, api_key)))
    assert [a.status for a in answers] == [200]


@pytest.fixture
def fuzz_target(start_endpoint, account):
    server = start_endpoint(rate_limit_per_minute=1_000_000, auth_failures_per_minute=1_000_000, header_timeout=2)
    return server, account


@FUZZ
@given(method=_methods, path=_paths, version=st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2", "http/1.1", ""]),
       headers=st.lists(st.tuples(_header_names, _header_values), max_size=6), body=_bodies,
       with_auth=st.booleans())
def test_random_requests_never_get_a_5xx(fuzz_target, method, path, version, headers, body, with_auth):
    server, (account_id, api_key) = fuzz_target
    lines = [f"{method} {_fill(path, account_id, api_key)} {version}".encode("latin-1")]
    if with_auth:
        lines += [f"X-API-Key: {api_key}".encode(), f"X-Account-ID: {account_id}".encode()]
    lines += [f"{name}: {_fill(value, account_id, api_key)}".encode("latin-1") for name, value in headers]
    payload = b"\r\n".join(lines) + b"\r\n\r\n" + body
    answers, _ = exchange(server.port, payload, timeout=5)
    for answer in answers:
        assert answer.status < 500 or answer.status == 505, (payload, answer)  # 505: an HTTP version we do not speak
        if answer.body:
            parsed = json.loads(answer.body)
            if answer.status >= 400:
                assert parsed["success"] is False and parsed["message"]
    _assert_still_serving(server.port, account_id, api_key)


@FUZZ
@given(raw=st.binary(max_size=600) | st.lists(st.sampled_from([
    b"GET /health HTTP/1.1\r\n", b"\r\n", b"Content-Length: 3\r\n", b"Transfer-Encoding: chunked\r\n",
    b"POST /api/instances/1/config HTTP/1.1\r\n", b"abc", b"0\r\n", b"\x00", b": :\r\n", b"\n", b"\r",
]), max_size=20).map(b"".join))
def test_random_bytes_never_get_a_5xx(fuzz_target, raw):
    server, (account_id, api_key) = fuzz_target
    answers, _ = exchange(server.port, raw, timeout=5)
    assert all(answer.status < 500 or answer.status == 505 for answer in answers), (raw, answers)
    _assert_still_serving(server.port, account_id, api_key)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
_group = st.fixed_dictionaries(
    {"name": st.text(max_size=5), "color": st.sampled_from(["#ff0000", "#ABCDEF", "red", "#12345", ""]),
     "giftIds": st.lists(st.integers(min_value=-2, max_value=10) | st.just(1.5), max_size=3)},
    optional={"goal": st.none() | st.integers(min_value=-3, max_value=10) | st.text(max_size=2),
              "extra": _json_values},
)


@FUZZ
@given(data_type=st.sampled_from(["gift-groups", "config", "analytics"]),
       document=_json_values | st.fixed_dictionaries({"groups": st.dictionaries(st.text(max_size=6), _group, max_size=3)})
       | st.dictionaries(st.sampled_from(["theme", "notifications", "target", "comboTimeout", "x"]), _json_values))
def test_random_json_documents_are_saved_or_refused_with_400(fuzz_target, desk, data_type, document):
    server, (account_id, api_key) = fuzz_target
    body = json.dumps(document).encode()
    answers, _ = exchange(server.port, request_bytes(
        "POST", f"/api/instances/{account_id}/{data_type}", auth_headers(account_id, api_key), body))
    assert [a.status for a in answers] in ([200], [400]), answers
    if answers[0].status == 400:
        assert answers[0].json()["field"]
    read, _ = exchange(server.port, request_bytes(
        "GET", f"/api/instances/{account_id}/{data_type}", auth_headers(account_id, api_key)))
    assert read[0].status == 200 and read[0].json()["success"] is True
    assert read[0].json()["data"] == desk.tracker_data.get(account_id, data_type)
