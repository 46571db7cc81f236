"""``giftdesk events``: what any console changes on this database, as it happens (like ``docker events``)."""

from __future__ import annotations

import json
import re
import signal
import sys
import threading
from datetime import datetime, timedelta, timezone

from giftdesk.cli.framework import Output, arg
from giftdesk.cli.output import visible_text
from giftdesk.core.errors import ValidationError

DEFAULT_SINCE = timedelta(hours=1)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_DURATION = re.compile(r"(\d+)([smhd])")
HELP = ("changes to customers, accounts, keys, instances, orders, invoices, companies, social profiles and "
        "settings made by any console or `giftdesk serve` on this database; one line per change")


def parse_since(text: str | None, now: datetime | None = None) -> datetime:
    """``90s``, ``15m``, ``2h``, ``7d`` (or combined: ``1h30m``) ago, or an ISO time (UTC unless it says)."""
    now = now or datetime.now(timezone.utc)
    if not text:
        return now - DEFAULT_SINCE
    text = text.strip()
    if _DURATION.fullmatch(text) or re.fullmatch(r"(\d+[smhd])+", text):
        return now - sum((timedelta(**{_UNITS[unit]: int(n)}) for n, unit in _DURATION.findall(text)), timedelta())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"--since {text!r} is neither a duration (90s, 15m, 2h, 7d) nor an ISO time "
                              "(2026-05-01T09:30).", field="since") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _printer(as_json: bool):
    def emit(change) -> None:
        if as_json:
            print(json.dumps(change.to_json(), ensure_ascii=False), flush=True)
        else:
            print(visible_text(change.line()), flush=True)

    return emit


def register(cli) -> None:
    @cli.top.command("events", HELP,
                     arg("--follow", "-f", action="store_true",
                         help="keep printing changes as they happen, until Ctrl+C or SIGTERM"),
                     arg("--since", metavar="DURATION|ISO",
                         help="print the changes since then first: 90s, 15m, 2h, 7d or an ISO time "
                              "(default: the last hour without --follow, none with it)"),
                     reads_only=True)
    def events(desk, args):
        from giftdesk.feed import ChangeFollower, read_changes_since

        emit = _printer(args.json)
        since = parse_since(args.since)
        if not args.follow:
            for change in read_changes_since(desk.db, since)[0]:
                emit(change)
            return Output(None, None)
        stop = threading.Event()
        # Before the first line: whoever reads the output may send SIGTERM once it has seen one.
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        follower = None
        try:
            head = None  # from now on
            if args.since:
                changes, head = read_changes_since(desk.db, since)
                for change in changes:
                    emit(change)
            follower = ChangeFollower(desk.db, emit, after_id=head).start()
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass  # Ctrl+C ends a follow as SIGTERM does: cleanly, exit 0
        finally:
            signal.signal(signal.SIGTERM, previous)
            if follower is not None and not follower.stop(timeout=5.0):
                print("giftdesk: the change feed did not stop in time", file=sys.stderr)
        return Output(None, None)
