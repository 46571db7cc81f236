"""Hostile bodies and heads: chunked memory, non-finite numbers, nesting depth, trailers, Host,
control characters, HTTP versions. Each is a clear 4xx (505 for a version) and changes nothing."""

from __future__ import annotations

import json
import socket
import tracemalloc

import pytest

from tests.support.endpoint_server import EndpointServer
from giftdesk.accounts.tracker_data import MAX_DEPTH
from giftdesk.accounts.tracker_gateway import TrackerGateway
from tests.endpoint.helpers import auth_headers, exchange, read_answers, read_until_closed, parse_answers, request_bytes


def _post(port: int, account, data_type: str, body: bytes, extra: dict | None = None):
    account_id, api_key = account
    payload = request_bytes("POST", f"/api/instances/{account_id}/{data_type}",
                            {**auth_headers(account_id, api_key), **(extra or {})}, body)
    answers, _ = exchange(port, payload)
    assert len(answers) == 1, answers
    return answers[0]


def _chunked_head(account, data_type: str = "analytics") -> bytes:
    account_id, api_key = account
    return request_bytes("POST", f"/api/instances/{account_id}/{data_type}",
                         {**auth_headers(account_id, api_key), "Transfer-Encoding": "chunked"}, content_length=False)


# ---- 10: a chunked body is kept in one buffer ----------------------------------------------------
def _peak_while_posting(port: int, payload: bytes) -> int:
    """Peak Python memory (all threads: the endpoint runs in this process) while ``payload`` is answered."""
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(payload)
            assert read_answers(sock, 1, timeout=60)[0].status == 200
        return tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()


def test_a_body_in_one_byte_chunks_costs_about_what_the_same_body_costs_in_one_piece(endpoint, account):
    account_id, api_key = account
    body = json.dumps({"blob": "x" * 150_000}).encode()
    plain = request_bytes("POST", f"/api/instances/{account_id}/analytics", auth_headers(account_id, api_key), body)
    chunked = _chunked_head(account) + b"".join(b"1\r\n" + body[i:i + 1] + b"\r\n" for i in range(len(body))) + b"0\r\n\r\n"
    baseline = _peak_while_posting(endpoint.port, plain)
    peak = _peak_while_posting(endpoint.port, chunked)
    # 150,000 one-byte chunks kept as 150,000 bytes objects would cost ~40x the body on top.
    assert peak < baseline + 3 * len(body), (peak, baseline)


# ---- 11: non-finite numbers ---------------------------------------------------------------------
@pytest.mark.parametrize("number", [b"1e400", b"-1e400", b"NaN", b"Infinity", b"-Infinity", b"1.5e999"])
def test_non_finite_numbers_are_400_and_nothing_is_saved(endpoint, account, desk, number):
    for data_type, body in (("config", b'{"zzz": %s}'), ("analytics", b'{"values": [1, %s]}'),
                            ("gift-groups", b'{"groups": {"g": {"name": "A", "color": "#aabbcc", "giftIds": [%s]}}}')):
        answer = _post(endpoint.port, account, data_type, body % number)
        assert answer.status == 400, (data_type, number, answer.body)
        assert answer.json()["field"] == "body" and "finite" in answer.json()["message"]
        assert desk.tracker_data.get(account[0], data_type) == {}
    reads, _ = exchange(endpoint.port, request_bytes("GET", f"/api/instances/{account[0]}/config", auth_headers(*account)))
    assert json.loads(reads[0].body) == {"success": True, "data": {}}


def test_the_console_cannot_save_a_non_finite_number_either(desk, account):
    from giftdesk.core.errors import ValidationError

    with pytest.raises(ValidationError, match="finite"):
        desk.tracker_data.save_config(account[0], {"target": 1.0, "zzz": float("inf")})
    assert desk.tracker_data.get(account[0], "config") == {}


# ---- 12: nesting depth --------------------------------------------------------------------------
def _nested(levels: int) -> bytes:
    """An analytics document whose arrays and objects are ``levels`` deep (the object itself is 1)."""
    return b'{"a":' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"


@pytest.mark.parametrize("levels", [980, MAX_DEPTH + 1])
def test_nesting_past_the_limit_is_400_and_nothing_is_saved(endpoint, account, desk, levels):
    answer = _post(endpoint.port, account, "analytics", _nested(levels))
    assert answer.status == 400, answer.body[:300]
    assert answer.json() == {"success": False, "field": "body",
                             "message": f"The request body is nested too deeply: at most {MAX_DEPTH} levels of arrays "
                                        "and objects."}
    assert desk.tracker_data.get(account[0], "analytics") == {}


def test_nesting_at_the_limit_is_saved_and_read_back_after_a_restart(endpoint, account, desk):
    assert _post(endpoint.port, account, "analytics", _nested(MAX_DEPTH)).status == 200
    endpoint.stop()
    again = EndpointServer(TrackerGateway(desk.db, desk.events), ["127.0.0.1"], 0)
    again.start()
    try:
        answers, _ = exchange(again.port, request_bytes("GET", f"/api/instances/{account[0]}/analytics",
                                                        auth_headers(*account)))
    finally:
        again.stop()
    assert answers[0].status == 200
    assert answers[0].json()["data"] == json.loads(_nested(MAX_DEPTH))


# ---- 13: trailers, Host, control characters, versions -------------------------------------------
def test_a_bare_lf_trailer_does_not_swallow_the_next_request(endpoint, account, desk):
    account_id, api_key = account
    hidden = request_bytes("POST", f"/api/instances/{account_id}/config", auth_headers(account_id, api_key),
                           b'{"theme": "smuggled"}')
    payload = _chunked_head(account, "config") + b'10\r\n{"theme":"real"}\r\n0\r\nX-Trailer: a\n' + hidden + b"\r\n"
    answers, closed = exchange(endpoint.port, payload)
    assert [a.status for a in answers] == [400] and closed
    assert "trailer" in answers[0].json()["message"]
    assert desk.tracker_data.get(account_id, "config") == {}


@pytest.mark.parametrize("trailer", [b"No colon", b"X-A: b\x01c", b"X-A: b\x7f", b": empty name", b"X A: b"])
def test_malformed_trailers_are_400(endpoint, account, desk, trailer):
    payload = _chunked_head(account, "config") + b'10\r\n{"theme":"real"}\r\n0\r\n' + trailer + b"\r\n\r\n"
    answers, closed = exchange(endpoint.port, payload)
    assert [a.status for a in answers] == [400] and closed
    assert desk.tracker_data.get(account[0], "config") == {}


def test_well_formed_trailers_are_accepted(endpoint, account, desk):
    payload = _chunked_head(account, "config") + b'10\r\n{"theme":"real"}\r\n0\r\nX-Checksum: abc\r\nX-B:\r\n\r\n'
    answers, _ = exchange(endpoint.port, payload)
    assert [a.status for a in answers] == [200]
    assert desk.tracker_data.get(account[0], "config") == {"theme": "real"}


@pytest.mark.parametrize("extension", [b";a=b\x01", b";a=\x00", b";\x7f", b";a=b\rc"])
def test_control_characters_in_chunk_extensions_are_400(endpoint, account, desk, extension):
    payload = _chunked_head(account, "config") + b"10" + extension + b'\r\n{"theme":"real"}\r\n0\r\n\r\n'
    answers, closed = exchange(endpoint.port, payload)
    assert [a.status for a in answers] == [400] and closed
    assert desk.tracker_data.get(account[0], "config") == {}


def test_http_1_1_needs_exactly_one_host(endpoint):
    answers, closed = exchange(endpoint.port, b"GET /health HTTP/1.1\r\n\r\n")
    assert [a.status for a in answers] == [400] and closed
    assert answers[0].json()["message"] == "HTTP/1.1 requests need a Host header."
    answers, closed = exchange(endpoint.port, b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    assert [a.status for a in answers] == [400] and closed
    assert "host header appears more than once" in answers[0].json()["message"]
    answers, _ = exchange(endpoint.port, b"GET /health HTTP/1.0\r\n\r\n")  # HTTP/1.0 had no Host
    assert [a.status for a in answers] == [200]


@pytest.mark.parametrize("value", [b"a\x01b", b"\x1b[31m", b"a\x7f", b"a\x0bb", b"a\x0cb"])
def test_control_characters_in_header_values_are_400(endpoint, value):
    answers, closed = exchange(endpoint.port, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Note: " + value + b"\r\n\r\n")
    assert [a.status for a in answers] == [400] and closed
    assert "control character" in answers[0].json()["message"]


def test_tabs_and_non_ascii_bytes_in_header_values_are_allowed(endpoint):
    answers, _ = exchange(endpoint.port, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Note: a\tb \xe9\r\n\r\n")
    assert [a.status for a in answers] == [200]


@pytest.mark.parametrize("version", [b"HTTP/2.0", b"HTTP/1.2", b"HTTP/3.0", b"HTTP/0.9"])
def test_unsupported_http_versions_are_505(endpoint, version):
    answers, closed = exchange(endpoint.port, b"GET /health " + version + b"\r\nHost: x\r\n\r\n")
    assert [a.status for a in answers] == [505] and closed
    assert "use HTTP/1.1" in answers[0].json()["message"]
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=5) as sock:  # an HTTP/2 preface
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        data, closed = read_until_closed(sock)
    assert [a.status for a in parse_answers(data)[0]] == [505] and closed
