"""Abusive clients: pipelining floods, resets mid-stream, connections held idle or never authenticated.

The endpoint must drop a reset connection at once (no log line per failed send), let every
connection take turns, and keep slots for trackers however many idle connections one address holds.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time

from tests.endpoint.helpers import (
    auth_headers,
    paused_loop,
    read_answers,
    read_until_closed,
    request_bytes,
    wait_until,
)

HEALTH = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"


def _reset(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _drain(sock: socket.socket) -> None:
    try:
        read_until_closed(sock, 15)
    except OSError:
        pass  # closed under us at the end of the test


def _send_what_fits(sock: socket.socket, payload: bytes) -> int:
    """Sends without blocking as much as the kernel takes; returns how much that was."""
    sock.setblocking(False)
    sent = 0
    try:
        while sent < len(payload):
            sent += sock.send(payload[sent:sent + 65536])
    except BlockingIOError:
        pass
    sock.setblocking(True)
    return sent


def test_a_connection_reset_mid_pipeline_is_dropped_without_a_log_line_per_answer(endpoint, caplog):
    caplog.set_level(logging.DEBUG)
    sock = socket.create_connection(("127.0.0.1", endpoint.port))
    sock.sendall(HEALTH)
    assert read_answers(sock, 1)[0].status == 200  # accepted and answered: the server knows it
    with paused_loop(endpoint):  # the requests and then the reset are all there when the loop looks
        assert _send_what_fits(sock, HEALTH * 3000) == len(HEALTH) * 3000
        time.sleep(0.05)  # the reset must not overtake the bytes on their way into the server's socket
        _reset(sock)
    wait_until(lambda: endpoint.stats().active_connections == 0, message="the reset connection to go")
    noise = [r for r in caplog.records if r.name == "asyncio" or r.name.startswith("giftdesk.endpoint")]
    assert len(noise) <= 1, [r.getMessage() for r in noise[:5]]  # at most asyncio's one debug line
    assert endpoint.stats().requests_total <= 1 + 32  # it stopped answering once the reset showed


def test_a_pipelining_flood_does_not_take_another_connections_turn(start_endpoint, account):
    # Both connections use one key with 200 tokens: had the flood been answered in one go (as
    # much as one read brings), it would have spent them all before the other request's turn.
    server = start_endpoint(rate_limit_per_minute=200)
    account_id, api_key = account
    one = request_bytes("GET", f"/api/instances/{account_id}/gift-groups", auth_headers(account_id, api_key))
    flooder = socket.create_connection(("127.0.0.1", server.port))
    drained = threading.Thread(target=_drain, args=(flooder,), daemon=True)
    other = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        drained.start()  # the flooder reads its answers, so it is never held back by a full send buffer
        with paused_loop(server):
            assert _send_what_fits(flooder, one * 3000) > len(one) * 400
            other.sendall(one)
        answer = read_answers(other, 1)[0]
        assert answer.status == 200, answer
        # The flood did run out of tokens after all, later.
        wait_until(lambda: server.stats().status_counts.get(429, 0) > 0, message="the flood to reach the limit")
    finally:
        flooder.close()
        other.close()


def test_a_client_that_does_not_read_gets_no_more_answers_buffered_than_the_high_water_mark(endpoint):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", endpoint.port))
    try:
        _send_what_fits(sock, HEALTH * 200_000)
        wait_until(lambda: len(endpoint._state.connections) == 1, message="the server to accept it")
        (connection,) = endpoint._state.connections  # test-only look inside: the server side of ``sock``
        wait_until(lambda: connection.write_paused, message="the send buffer to fill")
        for _ in range(20):  # however long it waits, the buffer stays bounded and nothing more is read
            buffered = connection.transport.get_write_buffer_size()
            assert buffered < 64 * 1024 + 64 * 1024 + 1024, buffered
            assert connection.reading_paused
            time.sleep(0.01)
        health = socket.create_connection(("127.0.0.1", endpoint.port), timeout=5)
        health.sendall(HEALTH)
        assert read_answers(health, 1)[0].status == 200
        health.close()
    finally:
        _reset(sock)


def test_a_thousand_idle_connections_from_one_address_leave_room_for_300_trackers(start_endpoint, make_account):
    server = start_endpoint(rate_limit_per_minute=1_000_000)  # max_connections: the default 1,000
    keys = [make_account() for _ in range(10)]
    requests = [request_bytes("GET", f"/api/instances/{row.id}/gift-groups", auth_headers(row.id, key))
                for row, key in keys]

    def hold_idle(count: int) -> list[socket.socket]:
        """``count`` keep-alive connections from 127.0.0.1 that ask for /health once, then sit there."""
        held = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            try:
                sock.sendall(HEALTH)
            except OSError:
                pass
            held.append(sock)
        return held

    idle = hold_idle(1000)
    trackers = []
    try:
        for n in range(300):  # every tracker gets in, and is answered
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            trackers.append(sock)
            sock.sendall(requests[n % 10])
            assert read_answers(sock, 1)[0].status == 200, n
        idle += hold_idle(1000)  # more idle connections arrive while the trackers are connected
        for n, sock in enumerate(trackers):  # each tracker's kept-alive connection is still there
            sock.sendall(requests[n % 10])
            assert read_answers(sock, 1)[0].status == 200, n
        stats = server.stats()
        assert stats.active_connections <= 1000
        assert stats.connections_evicted > 0  # idle ones made room (some may still be in their grace)
    finally:
        for sock in idle + trackers:
            sock.close()


def test_a_full_server_closes_a_never_authenticated_connection_for_a_new_tracker(start_endpoint, account):
    server = start_endpoint(max_connections=20, max_unauthenticated_per_address=100)
    account_id, api_key = account
    squatters = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(20)]
    try:
        wait_until(lambda: server.stats().active_connections == 20, message="the squatters to be in")
        tracker = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        tracker.sendall(request_bytes("GET", f"/api/instances/{account_id}/config", auth_headers(account_id, api_key)))
        assert read_answers(tracker, 1)[0].status == 200
        tracker.close()
        oldest = squatters[0]
        assert read_until_closed(oldest, timeout=5) == (b"", True)  # the oldest squatter made room
    finally:
        for sock in squatters:
            sock.close()


def test_keep_alive_idle_time_shortens_as_the_server_fills(start_endpoint):
    server = start_endpoint(max_connections=10, idle_timeout=60, max_unauthenticated_per_address=100)
    held = []
    try:
        for _ in range(10):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(HEALTH)
            assert read_answers(sock, 1)[0].status == 200
            held.append(sock)
        # Full: the idle minute shrinks to a second, so the server closes well within this 30 s read.
        data, closed = read_until_closed(held[-1], timeout=30)
        assert closed and data == b""
    finally:
        for sock in held:
            sock.close()
