"""Where the tracker endpoint listens, and the address trackers are told to call.

Tracker containers reach the host through the Docker bridge gateway (``giftdesk.docker.bridge``),
so ``endpoint.bind = 'local'`` listens on loopback plus that address when the host has one, and
never on public interfaces. ``'all'`` listens on every IPv4 interface.
"""

from __future__ import annotations

import sys  # noqa: F401  (tests set sys.platform through this module)
from collections.abc import Mapping
from typing import Any

from giftdesk.core.errors import ValidationError
from giftdesk.core.network import ALL_INTERFACES, LOOPBACK, interface_ipv4
from giftdesk.docker import bridge
from giftdesk.docker.bridge import DOCKER_BRIDGE_INTERFACE, docker_bridge_ip

__all__ = ["ALL_INTERFACES", "DOCKER_BRIDGE_INTERFACE", "LOOPBACK", "advertised_base_url", "bind_hosts",
           "docker_bridge_ip", "interface_ipv4", "local_bind_hosts"]


def local_bind_hosts() -> list[str]:
    """Loopback, plus the Docker bridge gateway address when this host has one."""
    bridge_ip = docker_bridge_ip()
    return [LOOPBACK, bridge_ip] if bridge_ip and bridge_ip != LOOPBACK else [LOOPBACK]


def bind_hosts(bind: str) -> list[str]:
    """The listen addresses for the ``endpoint.bind`` setting ('local' or 'all')."""
    if bind == "local":
        return local_bind_hosts()
    if bind == "all":
        return [ALL_INTERFACES]
    raise ValidationError("endpoint.bind must be one of: local, all.", field="endpoint.bind")


def advertised_base_url(settings: Mapping[str, Any], port: int) -> str:
    """``giftdesk.docker.bridge.advertised_base_url`` with the bridge address this module finds."""
    return bridge.advertised_base_url(settings, port, lambda: docker_bridge_ip())
