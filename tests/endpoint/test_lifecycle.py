"""EndpointServer: start/stop, addresses, the busy-port error, stats, in-flight writes at stop."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from giftdesk.endpoint import local_bind_hosts
from tests.support.endpoint_server import EndpointServer
from giftdesk.core.errors import ServiceUnavailableError
from tests.endpoint.helpers import auth_headers, exchange, read_answers, request_bytes


def test_port_zero_reports_the_real_port_and_answers_there(endpoint):
    (host, port), = endpoint.addresses
    assert host == "127.0.0.1" and port > 0 and endpoint.port == port
    assert exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")[0][0].status == 200


def test_a_taken_port_is_a_clear_error(gateway):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        server = EndpointServer(gateway, ["127.0.0.1"], port)
        with pytest.raises(ServiceUnavailableError, match=f"Port {port} is in use"):
            server.start()
        assert not server.running
    server.start()  # the same object starts once the port is free
    try:
        assert server.port == port
        assert exchange(port, request_bytes("POST", "/api/instances/1/config", {}, b"{}"))[0][0].status == 401
    finally:
        server.stop()


def test_several_hosts_share_one_port(start_endpoint):
    server = start_endpoint(hosts=["127.0.0.1", "127.0.0.2"])
    ports = {port for _, port in server.addresses}
    assert [host for host, _ in server.addresses] == ["127.0.0.1", "127.0.0.2"] and len(ports) == 1
    for host, port in server.addresses:
        assert exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", host=host)[0][0].status == 200


def test_local_binding_includes_the_docker_bridge_when_there_is_one(gateway):
    server = EndpointServer.from_settings(gateway, {"endpoint.bind": "local", "endpoint.port": 8787}, port=0)
    assert server.hosts == local_bind_hosts() and server.hosts[0] == "127.0.0.1"
    server.start()
    try:
        for host, port in server.addresses:  # loopback, and docker0's address on hosts that have one
            assert exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", host=host)[0][0].status == 200
    finally:
        server.stop()


def test_from_settings_takes_port_bind_and_rate_limit(gateway):
    settings = {"endpoint.bind": "all", "endpoint.port": 9999, "endpoint.rate_limit_per_minute": 42}
    server = EndpointServer.from_settings(gateway, settings)
    assert server.hosts == ["0.0.0.0"] and server.requested_port == 9999 and server.rate_limit_per_minute == 42
    server = EndpointServer.from_settings(gateway, settings, port=0, hosts=["127.0.0.1"], rate_limit_per_minute=7)
    assert server.hosts == ["127.0.0.1"] and server.requested_port == 0 and server.rate_limit_per_minute == 7


def test_start_twice_is_an_error_and_stop_twice_is_not(endpoint):
    with pytest.raises(RuntimeError):
        endpoint.start()
    endpoint.stop()
    endpoint.stop()
    assert not endpoint.running


def test_a_stopped_server_starts_again(start_endpoint, account, desk):
    server = start_endpoint(rate_limit_per_minute=100)
    account_id, api_key = account
    server.stop()
    server.start()
    payload = request_bytes("POST", f"/api/instances/{account_id}/config", auth_headers(account_id, api_key),
                            b'{"theme": "again"}')
    assert [a.status for a in exchange(server.port, payload)[0]] == [200]
    assert server.rate_limit_per_minute == 100 and server.stats().requests_total == 1
    assert desk.tracker_data.get(account_id, "config") == {"theme": "again"}


def test_stats_count_requests_statuses_and_connections(start_endpoint, account):
    server = start_endpoint(idle_timeout=2)  # ticks every 0.5 s
    account_id, api_key = account
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(request_bytes("GET", f"/api/instances/{account_id}/config", auth_headers(account_id, api_key))
                     + request_bytes("GET", "/missing") + request_bytes("GET", "/health"))
        read_answers(sock, 3)
        stats = server.stats()
        assert stats.active_connections == 1
    assert stats.requests_total == 3 and stats.status_counts == {200: 2, 404: 1}
    give_up = time.monotonic() + 3
    while server.stats().requests_last_minute != 3 and time.monotonic() < give_up:
        time.sleep(0.05)
    stats = server.stats()
    assert stats.requests_last_minute == 3 and stats.connections_total == 1 and stats.active_connections == 0


def test_stop_answers_writes_in_flight_before_closing(start_endpoint, gateway, account, desk):
    server = start_endpoint()
    account_id, api_key = account
    real_save = gateway.save_group
    entered = threading.Event()

    def slow_save(*args):
        entered.set()
        time.sleep(0.5)
        return real_save(*args)

    gateway.save_group = slow_save
    body = json.dumps({"theme": "saved-during-stop"}).encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        sock.sendall(request_bytes("POST", f"/api/instances/{account_id}/config", auth_headers(account_id, api_key), body))
        assert entered.wait(5)
        idle = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        try:
            idle.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_answers(idle, 1)[0].status == 200
            server.stop()
            assert idle.recv(100) == b""  # idle connections were closed
        finally:
            idle.close()
        answers = read_answers(sock, 1)
    finally:
        sock.close()
    assert answers[0].status == 200
    assert desk.tracker_data.get(account_id, "config") == {"theme": "saved-during-stop"}
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
