"""A tracker's write is acknowledged once durable: synchronous=FULL, and group commit for throughput."""

from __future__ import annotations

import json
import socket
import threading

from tests.support.endpoint_server import EndpointServer
from giftdesk.accounts.tracker_gateway import TrackerGateway
from tests.endpoint.helpers import auth_headers, read_answers, request_bytes, wait_until


def test_sqlite_commits_are_durable_synchronous_full(desk):
    with desk.db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def _gate_first_group(gateway):
    """Holds the writer inside its first group until released, so later writes queue up behind it."""
    real = gateway.save_group
    entered, release = threading.Event(), threading.Event()
    sizes: list[int] = []

    def gated(writes):
        sizes.append(len(writes))
        if len(sizes) == 1:
            entered.set()
            assert release.wait(10)
        return real(writes)

    gateway.save_group = gated
    return entered, release, sizes


def _open_post(port: int, account_id: int, api_key: str, data_type: str, body: dict) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(request_bytes("POST", f"/api/instances/{account_id}/{data_type}", auth_headers(account_id, api_key),
                               json.dumps(body).encode()))
    return sock


def test_writes_waiting_together_are_committed_in_one_transaction(start_endpoint, gateway, make_account, desk):
    server = start_endpoint()
    accounts = [make_account() for _ in range(6)]
    entered, release, sizes = _gate_first_group(gateway)
    first = _open_post(server.port, accounts[0][0].id, accounts[0][1], "config", {"n": 0})
    assert entered.wait(10)
    waiting = [_open_post(server.port, row.id, key, "config", {"n": n}) for n, (row, key) in enumerate(accounts[1:], 1)]
    wait_until(lambda: server.stats().writes_in_flight == 6, message="five writes to queue behind the first")
    release.set()
    for sock in [first, *waiting]:
        assert read_answers(sock, 1)[0].status == 200
        sock.close()
    assert sizes == [1, 5]  # the five that waited shared one transaction
    stats = server.stats()
    assert stats.writes_committed == 6 and stats.write_groups == 2
    for n, (row, _) in enumerate(accounts):
        assert desk.tracker_data.get(row.id, "config") == {"n": n}


def test_a_failing_write_does_not_fail_the_others_in_its_group(any_db_desk):
    desk = any_db_desk
    gateway = TrackerGateway(desk.db, desk.events)
    server = EndpointServer(gateway, ["127.0.0.1"], 0)
    server.start()
    try:
        _a_failing_write_in_a_group(server, gateway, desk)
    finally:
        server.stop()


def _a_failing_write_in_a_group(server, gateway, desk) -> None:
    def make_account(n: int):
        customer = desk.customers.create(f"Group customer {n}")
        account = desk.customers.add_account(customer.id, f"group_{n}")
        return account, desk.keys.generate(account.id)

    accounts = [make_account(n) for n in range(5)]
    doomed_row, doomed_key = make_account(5)
    entered, release, sizes = _gate_first_group(gateway)
    first = _open_post(server.port, accounts[0][0].id, accounts[0][1], "gift-groups",
                       {"groups": {"g": {"name": "A", "color": "#aabbcc", "giftIds": [1]}}})
    assert entered.wait(10)
    socks = [_open_post(server.port, row.id, key, "config", {"n": n}) for n, (row, key) in enumerate(accounts[1:3], 1)]
    socks.append(_open_post(server.port, doomed_row.id, doomed_key, "config", {"n": "doomed"}))
    socks.append(_open_post(server.port, accounts[3][0].id, accounts[3][1], "config", {"theme": 5}))  # a 400
    socks += [_open_post(server.port, row.id, key, "config", {"n": n}) for n, (row, key) in enumerate(accounts[4:], 4)]
    wait_until(lambda: server.stats().writes_in_flight == 6, message="five writes to queue behind the first")
    desk.customers.delete_account(doomed_row.id)  # authenticated already: its save will hit the foreign key
    release.set()
    statuses = [read_answers(sock, 1)[0].status for sock in [first, *socks]]
    for sock in [first, *socks]:
        sock.close()
    assert statuses == [200, 200, 200, 404, 400, 200]
    assert sizes[:2] == [1, 5]  # the group of five failed as a whole, then went one by one
    assert desk.tracker_data.get(accounts[1][0].id, "config") == {"n": 1}
    assert desk.tracker_data.get(accounts[2][0].id, "config") == {"n": 2}
    assert desk.tracker_data.get(accounts[3][0].id, "config") == {}
    assert desk.tracker_data.get(accounts[4][0].id, "config") == {"n": 4}
