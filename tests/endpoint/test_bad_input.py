"""Bad input gets a JSON 4xx that says what is wrong, changes nothing, and never a 5xx."""

from __future__ import annotations

import json
import logging
import select
import socket
import time

import pytest

from tests.endpoint.helpers import (
    auth_headers,
    exchange,
    parse_answers,
    read_answers,
    read_until_closed,
    request_bytes,
)

GROUP = {"name": "VIP", "color": "#ff0000", "giftIds": [1, 2]}


def _post(port, account, data_type, body: bytes, extra: dict | None = None):
    account_id, api_key = account
    payload = request_bytes("POST", f"/api/instances/{account_id}/{data_type}",
                            {**auth_headers(account_id, api_key), **(extra or {})}, body)
    answers, _ = exchange(port, payload)
    assert len(answers) == 1, answers
    return answers[0]


def _saved(desk, account, data_type):
    return desk.tracker_data.get(account[0], data_type)


def test_a_number_with_too_many_digits_is_400_in_plain_words(endpoint, account, desk):
    answer = _post(endpoint.port, account, "config", b'{"n": -' + b"9" * 5000 + b"}")
    assert answer.status == 400 and answer.json()["field"] == "body"
    message = answer.json()["message"]
    assert "5000 digits is too long" in message and "at most 4300 digits" in message
    assert "sys." not in message and "set_int_max_str_digits" not in message
    assert _saved(desk, account, "config") == {}


@pytest.mark.parametrize("body, fragment", [
    (b"{bad json", "not valid JSON"),
    (b'{"groups": {}', "not valid JSON"),
    (b"", "must be a JSON object"),
    (b"   ", "must be a JSON object"),
    (b"\xff\xfe{}", "not valid UTF-8"),
    (b'{"groups": {"a": NaN}}', "not valid JSON"),
    (b'{"x": Infinity}', "not valid JSON"),
    (b'{"g": "\\ud800"}', "surrogate"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"n": ' + b"9" * 5000 + b"}", "not valid JSON"),
])
def test_bodies_that_are_not_json_are_400_on_field_body(endpoint, account, desk, body, fragment):
    for data_type in ("gift-groups", "config", "analytics"):
        answer = _post(endpoint.port, account, data_type, body)
        assert answer.status == 400, (data_type, answer.body[:200])
        assert answer.json()["success"] is False
        assert answer.json()["field"] == "body"
        assert fragment in answer.json()["message"]
        assert _saved(desk, account, data_type) == {}


@pytest.mark.parametrize("data_type, body, field", [
    ("gift-groups", {"groups": {"g": {**GROUP, "color": "red"}}}, "groups.g.color"),
    ("gift-groups", {"groups": {"g": {**GROUP, "giftIds": ["1"]}}}, "groups.g.giftIds"),
    ("gift-groups", {"groups": {"g": {**GROUP, "goal": -5}}}, "groups.g.goal"),
    ("gift-groups", {"groups": {"g": {**GROUP, "name": ""}}}, "groups.g.name"),
    ("gift-groups", {"groups": []}, "groups"),
    ("gift-groups", {"notgroups": {}}, "groups"),
    ("gift-groups", [1, 2], "body"),
    ("config", {"notifications": "yes"}, "notifications"),
    ("config", {"theme": 5}, "theme"),
    ("config", {"comboTimeout": -1}, "comboTimeout"),
    ("config", "just a string", "body"),
    ("analytics", [1], "body"),
])
def test_validation_errors_name_the_field_and_change_nothing(endpoint, account, desk, data_type, body, field):
    good = {"groups": {"g": GROUP}} if data_type == "gift-groups" else {"theme": "dark"}
    assert _post(endpoint.port, account, data_type, json.dumps(good).encode()).status == 200
    before = _saved(desk, account, data_type)
    answer = _post(endpoint.port, account, data_type, json.dumps(body).encode())
    assert answer.status == 400
    assert answer.json()["success"] is False and answer.json()["field"] == field
    assert answer.json()["message"]
    assert _saved(desk, account, data_type) == before


def test_a_declared_body_over_1_mib_is_413_without_reading_it_and_the_connection_closes(endpoint, account):
    account_id, api_key = account
    head = request_bytes("POST", f"/api/instances/{account_id}/config", auth_headers(account_id, api_key),
                         content_length=False)[:-2] + b"Content-Length: 2000000\r\n\r\n"
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=5) as sock:
        sock.sendall(head + b"{" * 1000)  # the body has barely started: the answer must not wait for it
        data, closed = read_until_closed(sock, timeout=5)
    answers, _ = parse_answers(data)
    assert [a.status for a in answers] == [413]
    assert answers[0].json()["success"] is False and "1024 KiB" in answers[0].json()["message"]
    assert answers[0].header("connection") == "close"
    assert closed


def test_a_body_of_exactly_1_mib_is_read(endpoint, account, desk):
    filler = "x" * (1024 * 1024 - len('{"blob":""}'))
    body = json.dumps({"blob": filler}, separators=(",", ":")).encode()
    assert len(body) == 1024 * 1024
    assert _post(endpoint.port, account, "analytics", body).status == 200
    assert len(_saved(desk, account, "analytics")["blob"]) == len(filler)


def test_a_head_over_16_kib_is_431_and_closes(endpoint):
    payload = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * 17_000 + b"\r\n\r\n"
    answers, closed = exchange(endpoint.port, payload)
    assert [a.status for a in answers] == [431] and closed
    # Also when the terminating blank line has not come yet.
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=5) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\n" + b"X-A: b\r\n" * 3000)
        data, closed = read_until_closed(sock)
    assert parse_answers(data)[0][0].status == 431 and closed


@pytest.mark.parametrize("payload", [
    b"GET\r\n\r\n",
    b"GET /health\r\n\r\n",
    b"GET /health HTTP/2\r\n\r\n",
    b"GET /health HTTP/1.1 extra\r\n\r\n",
    b"GET  /health HTTP/1.1\r\n\r\n",
    b"GET /he alth HTTP/1.1\r\n\r\n",
    b"G(T /health HTTP/1.1\r\n\r\n",
    b"GET /h\xc3\xa9alth HTTP/1.1\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    b"GET /health HTTP/1.1\r\nNo colon here\r\n\r\n",
    b"GET /health HTTP/1.1\r\nSpace before : colon\r\n\r\n",
    b"GET /health HTTP/1.1\r\nX-A: b\r\n folded\r\n\r\n",
    b"GET /health HTTP/1.1\r\nX-A: b\rc\r\n\r\n",
    b"GET /health HTTP/1.1\r\nX-A: b\nX-C: d\r\n\r\n",
    b"GET /health HTTP/1.1\r\nX-A: \x00\r\n\r\n",
    b"GET /health HTTP/1.1\r\n: empty name\r\n\r\n",
    b"GET health HTTP/1.1\r\n\r\n",
    b"CONNECT 127.0.0.1:80 HTTP/1.1\r\n\r\n",
])
def test_malformed_request_lines_and_headers_are_400_and_close(endpoint, payload):
    answers, closed = exchange(endpoint.port, payload)
    assert [a.status for a in answers] == [400], payload
    assert answers[0].json()["success"] is False and closed


@pytest.mark.parametrize("headers, fragment", [
    ({"Content-Length": "5", "Transfer-Encoding": "chunked"}, "not both"),
    ({"Transfer-Encoding": "gzip, chunked"}, "chunked"),
    ({"Content-Length": "abc"}, "whole number"),
    ({"Content-Length": "-1"}, "whole number"),
    ({"Content-Length": "+5"}, "whole number"),
])
def test_bad_framing_headers_are_400_and_close(endpoint, headers, fragment):
    payload = request_bytes("POST", "/api/instances/1/config", headers, content_length=False) + b"hello"
    answers, closed = exchange(endpoint.port, payload)
    assert [a.status for a in answers] == [400]
    assert fragment in answers[0].json()["message"] and closed


def test_repeated_framing_or_credential_headers_are_400(endpoint, account):
    account_id, api_key = account
    for name, value in [("Content-Length", "0"), ("X-API-Key", api_key), ("X-Account-ID", str(account_id))]:
        head = request_bytes("GET", f"/api/instances/{account_id}/config",
                             {**auth_headers(account_id, api_key), "Content-Length": "0"})
        payload = head[:-2] + f"{name}: {value}\r\n\r\n".encode()
        answers, closed = exchange(endpoint.port, payload)
        assert [a.status for a in answers] == [400] and "more than once" in answers[0].json()["message"] and closed


def _chunked(body: bytes, sizes=(7, 1, 100)) -> bytes:
    out, pos, index = b"", 0, 0
    while pos < len(body):
        size = sizes[index % len(sizes)]
        piece = body[pos:pos + size]
        extension = b";name=value" if index == 1 else b""
        out += b"%x%s\r\n%s\r\n" % (len(piece), extension, piece)
        pos += size
        index += 1
    return out + b"0\r\nX-Trailer: yes\r\n\r\n"


def test_chunked_bodies_are_decoded(endpoint, account, desk):
    account_id, api_key = account
    body = json.dumps({"groups": {"g": GROUP, "h": {**GROUP, "name": "Other"}}}).encode()
    head = request_bytes("POST", f"/api/instances/{account_id}/gift-groups",
                         {**auth_headers(account_id, api_key), "Transfer-Encoding": "chunked"}, content_length=False)
    follow = request_bytes("GET", f"/api/instances/{account_id}/gift-groups", auth_headers(account_id, api_key))
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=5) as sock:
        encoded = head + _chunked(body) + follow
        for index in range(0, len(encoded), 13):  # in awkward pieces
            sock.sendall(encoded[index:index + 13])
            time.sleep(0.001)
        answers = read_answers(sock, 2)
    assert [a.status for a in answers] == [200, 200]
    assert answers[0].json()["message"] == "Gift groups saved successfully"
    assert answers[1].json()["data"] == json.loads(body)["groups"]
    assert desk.tracker_data.get(account_id, "gift-groups") == json.loads(body)["groups"]


def test_chunked_bodies_over_the_limit_are_413(endpoint, account):
    account_id, api_key = account
    head = request_bytes("POST", f"/api/instances/{account_id}/analytics",
                         {**auth_headers(account_id, api_key), "Transfer-Encoding": "chunked"}, content_length=False)
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=5) as sock:
        sock.sendall(head)
        for _ in range(20):
            try:
                sock.sendall(b"10000\r\n" + b"a" * 0x10000 + b"\r\n")
            except OSError:
                break
        data, closed = read_until_closed(sock)
    assert [a.status for a in parse_answers(data)[0]] == [413] and closed


@pytest.mark.parametrize("chunks", [b"zz\r\nab\r\n0\r\n\r\n", b"2\r\nabc\r\n0\r\n\r\n", b"123456789\r\n"])
def test_malformed_chunked_bodies_are_400(endpoint, account, chunks):
    account_id, api_key = account
    head = request_bytes("POST", f"/api/instances/{account_id}/config",
                         {**auth_headers(account_id, api_key), "Transfer-Encoding": "chunked"}, content_length=False)
    answers, closed = exchange(endpoint.port, head + chunks)
    assert [a.status for a in answers] in ([400], [413]) and closed


def test_expect_100_continue(endpoint, account):
    account_id, api_key = account
    body = json.dumps({"theme": "dark"}).encode()
    head = request_bytes("POST", f"/api/instances/{account_id}/config",
                         {**auth_headers(account_id, api_key), "Expect": "100-continue",
                          "Content-Length": str(len(body))}, content_length=False)
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=5) as sock:
        sock.sendall(head)
        interim = sock.recv(1000)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        assert read_answers(sock, 1)[0].status == 200
    # Refused requests get the final answer instead of a 100, and the connection closes.
    head = request_bytes("POST", f"/api/instances/{account_id}/config",
                         {"X-API-Key": "wrong", "X-Account-ID": str(account_id), "Expect": "100-continue",
                          "Content-Length": "10"}, content_length=False)
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=5) as sock:
        sock.sendall(head)
        data, closed = read_until_closed(sock)
    assert [a.status for a in parse_answers(data)[0]] == [401] and closed
    answers, closed = exchange(endpoint.port, b"GET /health HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n")
    assert [a.status for a in answers] == [417] and closed


def test_bodies_of_refused_requests_are_skipped_and_the_connection_kept(endpoint, account):
    account_id, api_key = account
    body = b'{"theme": "x"}' * 1000
    payload = (request_bytes("POST", f"/api/instances/{account_id}/config", {"X-API-Key": "bad", "X-Account-ID": "1"}, body)
               + request_bytes("PUT", f"/api/instances/{account_id}/config", {}, body)
               + request_bytes("POST", "/nowhere", {}, body)
               + request_bytes("POST", "/nowhere", {"Transfer-Encoding": "chunked"}, b"5\r\nhello\r\n0\r\n\r\n",
                               content_length=False)
               + request_bytes("GET", f"/api/instances/{account_id}/config", auth_headers(account_id, api_key)))
    answers, _ = exchange(endpoint.port, payload)
    assert [a.status for a in answers] == [401, 405, 404, 404, 200]


def test_pipelined_requests_are_answered_in_order(endpoint, account):
    account_id, api_key = account
    headers = auth_headers(account_id, api_key)
    base = f"/api/instances/{account_id}"
    payload = b"".join([
        request_bytes("GET", f"{base}/config", headers),
        request_bytes("POST", f"{base}/config", headers, b'{"theme": "one"}'),
        request_bytes("GET", f"{base}/config", headers),
        request_bytes("GET", "/health"),
        request_bytes("POST", f"{base}/config", headers, b'{"theme": 1}'),
        request_bytes("GET", "/missing"),
        request_bytes("POST", f"{base}/config", headers, b'{"theme": "two"}'),
        request_bytes("HEAD", f"{base}/config", headers),
        request_bytes("GET", f"{base}/config", headers),
    ])
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=5) as sock:
        sock.sendall(payload)
        answers = read_answers(sock, 9, head_only=(7,))
    assert [a.status for a in answers] == [200, 200, 200, 200, 400, 404, 200, 200, 200]
    assert answers[0].json()["data"] == {}
    assert answers[2].json()["data"] == {"theme": "one"}
    assert answers[3].json() == {"status": "ok"}
    assert answers[4].json()["field"] == "theme"
    assert answers[7].body == b""
    assert answers[8].json()["data"] == {"theme": "two"}


def test_many_pipelined_requests_arriving_at_once(start_endpoint, account):
    endpoint = start_endpoint(rate_limit_per_minute=100_000)
    account_id, api_key = account
    one = request_bytes("GET", f"/api/instances/{account_id}/gift-groups", auth_headers(account_id, api_key))
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=10) as sock:
        sock.sendall(one * 2000)
        answers = read_answers(sock, 2000, timeout=20)
    assert {a.status for a in answers} == {200}


def test_keep_alive_serves_many_requests_on_one_connection(tracker, endpoint):
    for index in range(50):
        assert tracker.post(f"{tracker.base}/config", json={"n": index}).status_code == 200
        assert tracker.get(f"{tracker.base}/config").json()["data"] == {"n": index}
    assert endpoint.stats().connections_total == 1


def test_connection_close_and_http_1_0_are_honoured(endpoint, account):
    account_id, api_key = account
    get = request_bytes("GET", f"/api/instances/{account_id}/config", auth_headers(account_id, api_key))
    for payload in (get[:-2] + b"Connection: close\r\n\r\n",
                    get.replace(b"HTTP/1.1", b"HTTP/1.0")):
        with socket.create_connection(("127.0.0.1", endpoint.port), timeout=5) as sock:
            sock.sendall(payload + get)  # the second request is never answered
            data, closed = read_until_closed(sock)
        answers, _ = parse_answers(data)
        assert [a.status for a in answers] == [200] and closed
        assert answers[0].header("connection") == "close"
    # HTTP/1.0 with keep-alive asked for: kept open.
    keep = get.replace(b"HTTP/1.1", b"HTTP/1.0")[:-2] + b"Connection: keep-alive\r\n\r\n"
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=5) as sock:
        sock.sendall(keep + keep)
        answers = read_answers(sock, 2)
    assert [a.status for a in answers] == [200, 200]
    assert answers[0].header("connection") == "keep-alive"


def test_empty_lines_before_a_request_are_ignored(endpoint):
    answers, _ = exchange(endpoint.port, b"\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert [a.status for a in answers] == [200]


def test_too_many_requests_for_one_key_get_429_with_retry_after(start_endpoint, make_account):
    server = start_endpoint(rate_limit_per_minute=5)
    (first, key), (second, second_key) = make_account(), make_account()
    path = f"/api/instances/{first.id}/config"
    payload = request_bytes("GET", path, auth_headers(first.id, key)) * 7
    answers, _ = exchange(server.port, payload)
    assert [a.status for a in answers] == [200] * 5 + [429] * 2
    refused = answers[5]
    assert int(refused.header("retry-after")) >= 1
    assert refused.json()["success"] is False and "Too many requests" in refused.json()["message"]
    # Another key has its own bucket; a raised limit applies at once.
    other, _ = exchange(server.port, request_bytes("GET", f"/api/instances/{second.id}/config",
                                                   auth_headers(second.id, second_key)))
    assert other[0].status == 200
    server.rate_limit_per_minute = 6000
    time.sleep(0.05)  # 6000/min refills a token every 10 ms
    again, _ = exchange(server.port, request_bytes("GET", path, auth_headers(first.id, key)))
    assert again[0].status == 200
    assert server.stats().status_counts[429] == 2


def test_failed_authentication_floods_from_one_address_get_429_and_good_keys_still_work(start_endpoint, account):
    server = start_endpoint(auth_failures_per_minute=10)
    account_id, api_key = account
    bad = request_bytes("GET", f"/api/instances/{account_id}/config", {"X-API-Key": "nope", "X-Account-ID": str(account_id)})
    answers, closed = exchange(server.port, bad * 12)
    assert [a.status for a in answers] == [401] * 10 + [429]
    assert int(answers[-1].header("retry-after")) >= 1 and closed
    good = request_bytes("GET", f"/api/instances/{account_id}/config", auth_headers(account_id, api_key))
    answers, _ = exchange(server.port, good + bad + good)
    assert [a.status for a in answers] == [200, 429]


def test_idle_keep_alive_connections_are_closed(start_endpoint):
    server = start_endpoint(idle_timeout=0.6, header_timeout=5)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_answers(sock, 1)[0].status == 200
        started = time.monotonic()
        data, closed = read_until_closed(sock, timeout=30)
    assert closed and data == b""  # closed by the server (an endless idle would outlast the 30 s read)
    assert time.monotonic() - started > 0.4  # and not before its idle time


def test_slow_header_senders_get_408_and_silent_connections_are_closed(start_endpoint):
    server = start_endpoint(header_timeout=0.6, idle_timeout=30)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nX-Slow: ")
        trickled = 0
        for _ in range(150):  # a byte every 0.2 s for 30 s, unless the server answers first
            if select.select([sock], [], [], 0.2)[0]:
                break
            try:
                sock.sendall(b"a")
            except OSError:
                break
            trickled += 1
        data, closed = read_until_closed(sock, timeout=30)
    assert [a.status for a in parse_answers(data)[0]] == [408] and closed
    assert trickled < 150  # trickling bytes did not extend the deadline
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        data, closed = read_until_closed(sock, timeout=5)
    assert closed and data == b""


def test_slow_bodies_get_408(start_endpoint, account):
    server = start_endpoint(body_timeout=0.6)
    account_id, api_key = account
    head = request_bytes("POST", f"/api/instances/{account_id}/config", auth_headers(account_id, api_key),
                         content_length=False)[:-2] + b"Content-Length: 100\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head + b'{"theme"')
        data, closed = read_until_closed(sock, timeout=5)
    assert [a.status for a in parse_answers(data)[0]] == [408] and closed


def test_unexpected_errors_are_500_json_and_logged_without_the_key(endpoint, gateway, account, monkeypatch, caplog):
    account_id, api_key = account

    def broken(*_args):
        raise RuntimeError("the cache fell over")

    monkeypatch.setattr(gateway, "read_body", broken)
    monkeypatch.setattr(gateway, "save_group", broken)
    caplog.set_level(logging.INFO)
    for method, body in (("GET", b""), ("POST", b'{"theme": "x"}')):
        payload = request_bytes(method, f"/api/instances/{account_id}/config", auth_headers(account_id, api_key), body)
        answers, closed = exchange(endpoint.port, payload)
        assert [a.status for a in answers] == [500] and closed
        assert answers[0].json() == {"success": False, "message": "Internal server error; the details are in the GiftDesk log."}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 2 and all("the cache fell over" in r.exc_text for r in errors if r.exc_text)
    assert api_key not in caplog.text


def test_keys_never_reach_the_log(start_endpoint, account, caplog):
    caplog.set_level(logging.DEBUG)
    server = start_endpoint(auth_failures_per_minute=2)
    account_id, api_key = account
    wrong = "11111111-2222-4333-8444-555555555555"
    payload = request_bytes("GET", f"/api/instances/{account_id}/config", {"X-API-Key": wrong, "X-Account-ID": "1"}) * 5
    exchange(server.port, payload)
    exchange(server.port, request_bytes("GET", f"/api/instances/{account_id}/config", auth_headers(account_id, api_key)))
    server.stop()
    assert "too many failed authentications" in caplog.text
    assert wrong not in caplog.text and api_key not in caplog.text
