"""Which client a request comes from when the endpoint sits behind a reverse proxy.

Behind nginx or another load balancer every connection comes from the proxy, so the per-address
budgets (failed authentications, the routes with an address limit) would put every tracker in one
bucket, and one misconfigured tracker would lock the others out. For the proxies listed in
``endpoint.trusted_proxies`` the client is read from ``X-Forwarded-For``: walking the list from the
right (the hop nearest to us), the first address that is not itself a trusted proxy. Anyone else's
``X-Forwarded-For`` is ignored: a client cannot choose the address it is counted as.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

_MAX_HOPS = 32  # a longer chain is not walked further: the client is the last hop read


def parse_networks(items: Iterable[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``10.0.0.0/8``, ``127.0.0.1`` or ``::1``; raises ValueError with the item that is neither."""
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ValueError(f"'{item}' is not an IP address or network (e.g. 10.0.0.0/8).") from None
    return tuple(networks)


class TrustedProxies:
    def __init__(self, items: Iterable[str] = ()):
        self.networks = parse_networks(items)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.networks)

    def client(self, peer: str, forwarded_for: bytes | None) -> str:
        """The address to count a request against: ``peer`` unless a trusted proxy forwarded it."""
        if not forwarded_for or not self.networks or not self.trusts(peer):
            return peer
        client = peer
        hops = forwarded_for.decode("latin-1").split(",")
        for hop in reversed(hops[-_MAX_HOPS:]):
            text = hop.strip()
            try:
                address = str(ipaddress.ip_address(text))
            except ValueError:
                return client  # not an address: whoever wrote it is not trusted, its sender counts
            if not self.trusts(address):
                return address
            client = address
        return client
