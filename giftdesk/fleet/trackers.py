"""The tracker's own HTTP API and one-off samples: its state, health, live connection and stats now.

The runtime probes on its own (``probe.py``); these are the CLI's and the window's calls of the moment.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from giftdesk.core.errors import GiftDeskError
from giftdesk.fleet.records import InstanceRow


class TrackerCalls:
    """Part of ``FleetService``: calls to a running tracker."""

    def tracker_state(self, ref: int | str):
        """The tracker's ``/api/state`` (live status, viewers, gifts, diamonds)."""
        from giftdesk.fleet.probe import read_state

        return read_state(self._http(), self.tracker_url(self._row_to_call(ref)))

    def _row_to_call(self, ref: int | str) -> InstanceRow:
        """The instance's row; a service's with its state, which says the node its task runs on."""
        row = self.get(ref)
        return self.get(row.id, with_state=True) if row.is_service else row

    def _tracker_state_at(self, row: InstanceRow):
        from giftdesk.fleet.probe import read_state

        return read_state(self._http(), self.tracker_url(row))

    def tracker_url(self, row: InstanceRow, node_address: str | None = None) -> str:
        """Where this console calls the tracker: on this computer its local URL; on an engine on
        another computer, that computer's address (the port published on all addresses there).

        A service whose port is published in host mode answers on the node its task runs on only:
        when that is another node than its engine's, at that node's address (``node_address``, or
        the row's own from its state). Through the routing mesh (ingress) every node answers, its
        engine's too."""
        address = node_address or row.node_address
        if row.is_service and address and (row.publish_mode != "ingress" or row.network == "host"):
            return f"http://{_url_host(address)}:{row.port}"
        host = self.engines.tracker_host_of(row.engine) if row.engine else None
        if host is None:
            return row.local_url
        if row.network != "host" and row.publish_address not in ("0.0.0.0", "127.0.0.1"):
            return row.local_url  # published on one address of that computer: reached there
        return f"http://{host}:{row.port}"

    def health_now(self, row: InstanceRow):
        """(health, TrackerState or None) from one probe now, for the CLI (the runtime probes on its own)."""
        from giftdesk.fleet.probe import classify

        state = None
        if row.state == "running":
            try:
                state = self._tracker_state_at(row)
            except GiftDeskError:
                state = None
        health = classify(state is not None, 99, row.last_started_at, row.state, row.engine_health)
        return health, state

    def stats_now(self, refs: Iterable[int | str], concurrency: int = 8) -> dict[int, Any]:
        """CPU %, memory and network rates of running instances: two one-shot samples each, a second apart."""
        from giftdesk.docker.stats import compute_stats

        rows = [r for r in self.attach_state(self.resolve(list(refs)))
                if r.state == "running" and r.stats_container_id]
        if not rows:
            return {}
        with ThreadPoolExecutor(max(1, min(concurrency, len(rows) or 1))) as pool:
            first = dict(zip([r.id for r in rows], pool.map(lambda r: compute_stats(
                self.docker_for(r.stats_engine).stats_once(r.stats_container_id)), rows)))
            time.sleep(1.0)
            second = dict(zip([r.id for r in rows], pool.map(lambda r: compute_stats(
                self.docker_for(r.stats_engine).stats_once(r.stats_container_id), first[r.id]), rows)))
        return second

    def live_command(self, ref: int | str, command: str) -> dict:
        """connect | disconnect: the tracker joins or leaves its TikTok live."""
        from giftdesk.fleet.probe import send_live_command

        self.ctx.require("operator", f"{command} trackers")
        row = self._row_to_call(ref)
        answer = send_live_command(self._http(), self.tracker_url(row), command)
        self.record_event(row.id, "info", "Connected to the TikTok live" if command == "connect"
                          else "Disconnected from the TikTok live")
        return answer

    def _http(self):
        runtime = self._runtime()
        if runtime is not None:
            return runtime.http.get("trackers")
        with self._http_lock:
            if self._own_http is None:
                import httpx

                self._own_http = httpx.Client(timeout=5.0)
            return self._own_http


def _url_host(address: str) -> str:
    """An address as a URL's host: an IPv6 one in brackets."""
    return f"[{address}]" if ":" in address and not address.startswith("[") else address
