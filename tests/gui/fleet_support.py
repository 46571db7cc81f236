"""The Instances tab as the GUI tests open it: on the fleet runtime (or without one), shown."""

from __future__ import annotations

import random
from contextlib import contextmanager

from giftdesk.fleet.runtime import install
from giftdesk.runtime import Runtime
from tests.gui.conftest import idle


def start_runtime(ctx, fleet_desk) -> Runtime:
    """The fleet runtime (probes and stats every half second) on a port window of its own."""
    # Fleet tests of other modules allocate from 3300 on, and on an engine shared by several test
    # runs a port taken between the choice and the start fails it.
    start = random.randrange(3700, 3940)
    fleet_desk.settings.update({"tracker.port_start": start, "tracker.port_end": start + 49})
    started = Runtime(ctx.desk, endpoint=False, features=False)
    install(started, probe_interval=0.5, stats_interval=0.5, probe_grace=2.0)
    ctx.desk.attach_runtime(started)
    started.start()
    return started


def stop_runtime(ctx, started: Runtime) -> None:
    started.stop()
    ctx.desk.attach_runtime(None)


@contextmanager
def instances_tab(ctx, fleet_desk, qtbot, width: int, height: int = 520, runtime: bool = True):
    from giftdesk.gui.fleet.instances_tab import InstancesTab

    started = start_runtime(ctx, fleet_desk) if runtime else None
    widget = InstancesTab(ctx)
    widget.resize(width, height)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    idle(qtbot, ctx)
    try:
        yield widget
    finally:
        widget.close()
        if started is not None:
            stop_runtime(ctx, started)
