"""The endpoint as the tests start it: ``EndpointServer(gateway, hosts, port, social=handler, ...)``.

The tracker routes on ``gateway`` and the social sync route (served when a ``SocialSyncHandler``
is given, else answering 404), wired as ``Desk.endpoint_routes`` wires them for the runtime.
"""

from __future__ import annotations

from giftdesk.desk import feature_routes
from giftdesk.endpoint import server as _server


class EndpointServer(_server.EndpointServer):
    def __init__(self, gateway, hosts=("127.0.0.1",), port: int = _server.DEFAULT_PORT, *, social=None,
                 social_workers: int = _server.DEFAULT_WORKERS, **options):
        super().__init__(gateway, hosts, port, routes=feature_routes(gateway, social), workers=social_workers,
                         **options)
