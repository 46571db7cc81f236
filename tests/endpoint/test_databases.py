"""The endpoint on SQLite and on PostgreSQL (the latter where GIFTDESK_TEST_DATABASE_URL names one)."""

from __future__ import annotations

import json
import socket

from tests.support.endpoint_server import EndpointServer
from giftdesk.accounts.tracker_gateway import TrackerGateway
from tests.endpoint.helpers import auth_headers, read_answers, request_bytes


def test_reads_writes_and_keys_on_each_database(any_db_desk):
    desk = any_db_desk
    customer = desk.customers.create("Database customer")
    account = desk.customers.add_account(customer.id, "db_tracker")
    api_key = desk.keys.generate(account.id)
    server = EndpointServer(TrackerGateway(desk.db, desk.events), ["127.0.0.1"], 0)
    server.start()
    try:
        headers = auth_headers(account.id, api_key)
        base = f"/api/instances/{account.id}"
        groups = {"vip": {"name": "VIP", "color": "#123abc", "giftIds": [1, 2], "goal": 10}}
        payload = b"".join([
            request_bytes("GET", f"{base}/gift-groups", headers),
            request_bytes("POST", f"{base}/gift-groups", headers, json.dumps({"groups": groups}).encode()),
            request_bytes("POST", f"{base}/config", headers, b'{"theme": "dark"}'),
            request_bytes("POST", f"{base}/config", headers, b'{"language": "en"}'),
            request_bytes("POST", f"{base}/analytics", headers, b'{"total": 5}'),
            request_bytes("POST", f"{base}/config", headers, b'{"notifications": 1}'),
            request_bytes("GET", f"{base}/gift-groups", headers),
            request_bytes("GET", f"{base}/config", headers),
            request_bytes("GET", f"{base}/config", {**headers, "X-API-Key": "wrong"}),
        ])
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(payload)
            answers = read_answers(sock, 9, timeout=15)
        assert [a.status for a in answers] == [200, 200, 200, 200, 200, 400, 200, 200, 401]
        assert answers[0].json()["data"] == {}
        assert answers[6].json()["data"] == groups
        assert answers[7].json()["data"] == {"theme": "dark", "language": "en"}
    finally:
        server.stop()
    assert desk.tracker_data.get(account.id, "analytics") == {"total": 5}
    assert desk.keys.get(account.id).last_accessed_at is not None
