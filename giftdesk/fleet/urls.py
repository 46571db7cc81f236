"""Addresses: the URL trackers call the endpoint on, and each account's public instance URL."""

from __future__ import annotations

import logging

from giftdesk.core.errors import GiftDeskError
from giftdesk.core.network import LOOPBACK
from giftdesk.docker import bridge
from giftdesk.fleet.records import InstanceRow

log = logging.getLogger(__name__)


class PublicUrls:
    """Part of ``FleetService``: the endpoint's address for trackers, the accounts' instance URLs."""

    def public_url_for(self, name: str, port: int) -> str:
        pattern = str(self.settings.get("tracker.url_pattern") or "").strip()
        if pattern:
            return pattern.replace("{name}", name).replace("{port}", str(port))
        return f"http://{LOOPBACK}:{port}"

    def apply_public_urls(self) -> int:
        """After Settings' URL pattern changed: every account's instance URL follows its tracker
        again. Returns how many instances were looked at."""
        self.ctx.require("operator", "change instance URLs")
        rows = self.list()
        for row in rows:
            self._apply_public_url(row)
        return len(rows)

    def _apply_public_url(self, row: InstanceRow) -> None:
        """The account's instance URL (the tracker API's ``instanceUrl``) follows its tracker."""
        url = row.public_url or self.public_url_for(row.name, row.port)
        if row.account_id is None:
            return
        try:
            current = self.keys.get(row.account_id).instance_url
            if current != url:
                self.keys.set_instance_url(row.account_id, url)
        except GiftDeskError as exc:
            log.warning("Could not set the instance URL of %s: %s", row.name, exc)

    def _engine_backend_url(self, engine: str, network: str) -> str:
        """What trackers on ``engine`` call: the engine's own backend URL when it has one."""
        return self.engines.backend_url_of(engine) or self.backend_url(network)

    def backend_url(self, network: str) -> str:
        """The endpoint's advertised address; with host networking the endpoint's loopback one."""
        settings = self.settings.all()
        public = (settings.get("endpoint.public_url") or "").strip()
        if public:
            return public.rstrip("/")
        port = int(settings["endpoint.port"])
        runtime = self._runtime()
        listening = runtime.endpoint_port() if runtime is not None else None
        port = int(listening or port)
        if network == "host":
            return f"http://{LOOPBACK}:{port}/api/instances"
        return bridge.advertised_base_url(settings, port)
