"""The fleet's operations (see ``giftdesk.core.operations``): everything done to one instance runs on
that instance's lane, so an edit never overtakes a start of the same container."""

from __future__ import annotations

from giftdesk.core.operations import Operation

INSTANCE_LANE = "instance"

START = Operation("instance.start", "Start", lane=INSTANCE_LANE)
STOP = Operation("instance.stop", "Stop", lane=INSTANCE_LANE)
RESTART = Operation("instance.restart", "Restart", lane=INSTANCE_LANE)
RECREATE = Operation("instance.recreate", "Recreate", lane=INSTANCE_LANE)
CONNECT = Operation("instance.connect", "Connect", lane=INSTANCE_LANE)
DISCONNECT = Operation("instance.disconnect", "Disconnect", lane=INSTANCE_LANE)
DELETE = Operation("instance.delete", "Delete", lane=INSTANCE_LANE,
                   confirm="Delete {count} instance(s) and their containers ({names})?")
EDIT = Operation("instance.edit", "Saving", lane=INSTANCE_LANE)
CREATE = Operation("instance.create", "Creating the tracker")
CLONE = Operation("instance.clone", "Cloning")

#: The operations a bulk action or a live command names by its action word.
BY_ACTION = {op.name.removeprefix("instance."): op
             for op in (START, STOP, RESTART, RECREATE, CONNECT, DISCONNECT, DELETE)}


def instance_operation(action: str) -> Operation:
    return BY_ACTION[action]
