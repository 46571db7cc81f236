"""The background runtime: long-lived work that outlives any widget and also runs headless.

``Runtime`` is owned by the ``Desk`` (``desk.runtime``). It supervises named services (the
tracker endpoint, the Docker monitor, the scheduler, and what features install: the fleet
watcher, stats sampler, order sync, instance schedules), runs jobs in lanes, and owns the
stateful clients (Docker calls and streams, one httpx client per remote API). The window shows
its state through thin adapters; ``giftdesk serve`` runs the same runtime without Qt.
"""

from __future__ import annotations

__all__ = ["Runtime", "FEATURES"]


def __getattr__(name: str):
    # ``Runtime`` is imported when named: the window's job runner imports ``giftdesk.runtime.lanes``
    # at start-up, which need not bring the supervisor, the scheduler and the Docker clients along.
    if name in ("Runtime", "FEATURES"):
        from giftdesk.runtime import background

        return getattr(background, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
