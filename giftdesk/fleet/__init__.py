"""Instances: gift tracker containers on Docker, Qt-free.

``service.FleetService`` (``desk.fleet``) keeps records and containers together;
``docker_api`` talks to the engine; ``runtime`` installs the watcher, probe, stats sampler,
alerts and schedules into the background runtime (``giftdesk.runtime.FEATURES``).
"""
