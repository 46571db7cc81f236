"""The Docker bridge: how containers reach this host, and the URL trackers are told to call.

Tracker containers reach the host through the Docker bridge gateway (``docker0``, usually
172.17.0.1); without one (no Docker here, another platform) loopback stands in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from giftdesk.core.network import LOOPBACK, interface_ipv4

DOCKER_BRIDGE_INTERFACE = "docker0"


def docker_bridge_ip() -> str | None:
    """The host's address on the Docker bridge (what containers use to reach the host)."""
    return interface_ipv4(DOCKER_BRIDGE_INTERFACE)


def advertised_base_url(settings: Mapping[str, Any], port: int,
                        bridge_ip: Callable[[], str | None] = docker_bridge_ip) -> str:
    """The ``BACKEND_API_URL`` trackers get: ``endpoint.public_url`` when set, else computed.

    Computed: ``http://<docker bridge ip, else 127.0.0.1>:<port>/api/instances``. ``bridge_ip``:
    how the bridge address is found (the endpoint passes its own lookup).
    """
    public = (settings.get("endpoint.public_url") or "").strip()
    if public:
        return public.rstrip("/")
    return f"http://{bridge_ip() or LOOPBACK}:{port}/api/instances"
