"""The live change feed: every console sees every change other processes make on its database.

Writers record each change in ``change_log`` (``giftdesk/db/change_log.py``); a ``ChangeFollower``
here delivers them to a callback as ``Change`` records: on SQLite by polling ``PRAGMA
data_version`` (cheap when nothing changed), on PostgreSQL by LISTEN with a catch-up read after a
reconnect. Infrastructure: imports only core/ and db/.
"""

__all__ = ["Change", "ChangeFollower", "RESYNC", "read_changes_since"]


def __getattr__(name: str):
    # Imported when named: ``giftdesk.feed.events``, which every front end imports at start-up,
    # need not load SQLAlchemy with the feed's readers.
    if name == "ChangeFollower":
        from giftdesk.feed.follower import ChangeFollower

        return ChangeFollower
    if name in ("RESYNC", "Change", "read_changes_since"):
        from giftdesk.feed import changes

        return getattr(changes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
