"""Endpoint fixtures: a real EndpointServer on a port-0 loopback socket over the ``desk`` fixture's SQLite."""

from __future__ import annotations

import httpx
import pytest

from tests.support.endpoint_server import EndpointServer
from giftdesk.accounts.tracker_gateway import TrackerGateway
from tests.endpoint.helpers import auth_headers


@pytest.fixture
def gateway(desk):
    return TrackerGateway(desk.db, desk.events)


@pytest.fixture
def start_endpoint(gateway):
    """Starts servers with the options given (port 0 on loopback); stops them all afterwards."""
    started: list[EndpointServer] = []

    def start(**options) -> EndpointServer:
        options.setdefault("hosts", ["127.0.0.1"])
        options.setdefault("port", 0)
        server = EndpointServer(gateway, **options)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def endpoint(start_endpoint):
    return start_endpoint()


@pytest.fixture
def account(make_account):
    """(account id, API key) of a fresh account."""
    row, api_key = make_account()
    return row.id, api_key


@pytest.fixture
def client(endpoint):
    with httpx.Client(base_url=f"http://127.0.0.1:{endpoint.port}", timeout=10) as http:
        yield http


@pytest.fixture
def tracker(client, account):
    """An httpx client that sends the account's headers, as a tracker does."""
    account_id, api_key = account
    client.headers.update(auth_headers(account_id, api_key))
    client.account_id = account_id
    client.base = f"/api/instances/{account_id}"
    return client
