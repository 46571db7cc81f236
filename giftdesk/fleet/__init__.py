"""Instances: gift tracker containers on Docker, Qt-free.

``service.FleetService`` (``desk.fleet``) keeps records and containers together, put together
from ``lifecycle``, ``edit``, ``bulk``, ``reconcile``, ``templates``, ``ports``, ``urls``,
``trackers`` and ``environment``; ``docker_api`` is what makes a container one of ours (labels,
config) on top of ``giftdesk.docker``; ``runtime`` installs the watcher, probe, stats sampler,
alerts and schedules into the background runtime (``giftdesk.runtime.FEATURES``).
"""
