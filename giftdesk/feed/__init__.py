"""The live change feed: every console sees every change other processes make on its database.

Writers record each change in ``change_log`` (``giftdesk/db/change_log.py``); a ``ChangeFollower``
here delivers them to a callback as ``Change`` records: on SQLite by polling ``PRAGMA
data_version`` (cheap when nothing changed), on PostgreSQL by LISTEN with a catch-up read after a
reconnect. Infrastructure: imports only core/ and db/.
"""

from giftdesk.feed.changes import RESYNC, Change, read_changes_since
from giftdesk.feed.follower import ChangeFollower

__all__ = ["Change", "ChangeFollower", "RESYNC", "read_changes_since"]
