"""The embedded HTTP endpoint tracker instances call (the ``/api/instances`` API, as the trackers expect it).

Stdlib asyncio only: ``http11`` frames HTTP/1.1, ``protocol`` routes, checks keys and answers, ``routes`` is the
table of the routes the features register (``giftdesk.core.routes``), ``server`` runs it in a thread of its own (the
runtime supervises it), ``addressing`` decides where to listen and what URL trackers get, ``openapi`` describes it.
"""

from giftdesk.docker.bridge import docker_bridge_ip
from giftdesk.endpoint.addressing import advertised_base_url, bind_hosts, local_bind_hosts
from giftdesk.endpoint.server import EndpointServer, EndpointStats

__all__ = [
    "EndpointServer",
    "EndpointStats",
    "advertised_base_url",
    "bind_hosts",
    "docker_bridge_ip",
    "local_bind_hosts",
]
