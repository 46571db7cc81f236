"""Behind a reverse proxy: budgets count the client a trusted proxy names, never one a client names."""

from __future__ import annotations

import pytest

from giftdesk.core.errors import ValidationError
from giftdesk.endpoint.forwarded import TrustedProxies
from tests.endpoint.helpers import auth_headers, exchange, request_bytes


def test_the_client_is_the_nearest_hop_that_is_no_trusted_proxy():
    proxies = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
    assert proxies.client("127.0.0.1", b"203.0.113.7") == "203.0.113.7"
    assert proxies.client("127.0.0.1", b"198.51.100.1, 203.0.113.7, 10.1.2.3") == "203.0.113.7"  # two proxies
    assert proxies.client("127.0.0.1", b"10.0.0.1, 10.0.0.2") == "10.0.0.1"  # all ours: the farthest
    assert proxies.client("127.0.0.1", b"2001:db8::1") == "2001:db8::1"
    assert proxies.client("::ffff:127.0.0.1", b"203.0.113.7") == "203.0.113.7"  # a v4 proxy on a dual-stack socket
    assert proxies.client("127.0.0.1", b"garbage, 203.0.113.7") == "203.0.113.7"  # its sender counts
    assert proxies.client("127.0.0.1", b"203.0.113.7, garbage") == "127.0.0.1"
    assert proxies.client("127.0.0.1", None) == "127.0.0.1"
    assert proxies.client("192.0.2.9", b"203.0.113.7") == "192.0.2.9"  # not a proxy of ours: ignored
    assert TrustedProxies([]).client("127.0.0.1", b"203.0.113.7") == "127.0.0.1"
    assert not TrustedProxies([])


def test_the_setting_takes_addresses_and_networks_and_refuses_anything_else(desk):
    desk.settings.update({"endpoint.trusted_proxies": "127.0.0.1, 10.0.0.0/8,10.0.0.0/8"})
    assert desk.settings.get("endpoint.trusted_proxies") == ["127.0.0.1/32", "10.0.0.0/8"]
    with pytest.raises(ValidationError, match="'nginx' is not an IP address or network"):
        desk.settings.update({"endpoint.trusted_proxies": ["nginx"]})
    assert desk.settings.get("endpoint.trusted_proxies") == ["127.0.0.1/32", "10.0.0.0/8"]


def _bad_key(account_id: int, forwarded_for: str) -> bytes:
    return request_bytes("GET", f"/api/instances/{account_id}/config",
                         {"X-API-Key": "nope", "X-Account-ID": str(account_id), "X-Forwarded-For": forwarded_for})


def test_behind_a_trusted_proxy_one_clients_failures_do_not_lock_out_another(start_endpoint, account):
    server = start_endpoint(auth_failures_per_minute=3, trusted_proxies=["127.0.0.1"])
    account_id, api_key = account
    answers, _ = exchange(server.port, _bad_key(account_id, "203.0.113.7") * 4)
    assert [a.status for a in answers] == [401, 401, 401, 429]
    answers, _ = exchange(server.port, _bad_key(account_id, "203.0.113.8"))
    assert [a.status for a in answers] == [401]  # another tracker behind the same proxy: its own budget
    good = request_bytes("GET", f"/api/instances/{account_id}/config",
                         {**auth_headers(account_id, api_key), "X-Forwarded-For": "203.0.113.7"})
    assert [a.status for a in exchange(server.port, good)[0]] == [200]


def test_without_trusted_proxies_a_forwarded_for_header_changes_nothing(start_endpoint, account):
    server = start_endpoint(auth_failures_per_minute=3)
    account_id, _ = account
    answers, _ = exchange(server.port, b"".join(_bad_key(account_id, f"203.0.113.{n}") for n in range(4)))
    assert [a.status for a in answers] == [401, 401, 401, 429]  # a guesser cannot pick a fresh address per try
