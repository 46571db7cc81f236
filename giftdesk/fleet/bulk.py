"""Bulk actions: start, stop, restart, delete or recreate many instances, a few at a time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from giftdesk.core.errors import GiftDeskError, ValidationError
from giftdesk.fleet.records import BulkResult

log = logging.getLogger(__name__)

BULK_CONCURRENCY = 8


class BulkActions:
    """Part of ``FleetService``: one action over many instances."""

    def bulk(self, action: str, refs: Iterable[int | str], *, concurrency: int = BULK_CONCURRENCY,
             cancel: threading.Event | None = None,
             on_result: Callable[[BulkResult, int, int], None] | None = None) -> list[BulkResult]:
        """start | stop | restart | delete | recreate of many, ``concurrency`` at a time on each engine
        (the engines all at once); one result each, in the order asked. ``on_result(result, done, total)``
        counts over every engine. ``cancel``: nothing new begins; what runs finishes; the rest is 'cancelled'."""
        operations = {"start": lambda i: self._lifecycle(i, "start", fetch=False),
                      "stop": lambda i: self._lifecycle(i, "stop", fetch=False),
                      "restart": lambda i: self._lifecycle(i, "restart", fetch=False),
                      "delete": self.delete, "recreate": self.recreate}
        if action not in operations:
            raise ValidationError(f"'{action}' is not a bulk action: {', '.join(operations)}.", field="action")
        # Refused as a whole: each operation would refuse on its own, but as per-row "failed" results.
        self.ctx.require("operator", f"{action} instances")
        rows = self.resolve(list(refs))
        # One queue per engine, each with its own workers: a slow or hung engine holds its own
        # rows only, never the workers of another engine's (a Swarm's instances are its engine's).
        queues: dict[str, list] = {}
        for row in rows:
            queues.setdefault(row.engine or "", []).append(row)
        results: dict[int, BulkResult] = {}
        lock = threading.Lock()
        done = [0]

        def finish(result: BulkResult) -> None:
            with lock:
                results[result.instance_id] = result
                done[0] += 1
                count = done[0]
            if on_result is not None:
                on_result(result, count, len(rows))

        def worker(pending: list) -> None:
            while True:
                with lock:
                    if not pending:
                        return
                    row = pending.pop(0)
                if cancel is not None and cancel.is_set():
                    finish(BulkResult(row.id, row.name, "cancelled", "cancelled before it began", row.engine))
                    continue
                try:
                    operations[action](row.id)
                    finish(BulkResult(row.id, row.name, "ok", engine=row.engine))
                except GiftDeskError as exc:
                    finish(BulkResult(row.id, row.name, "failed", str(exc), row.engine))
                except Exception as exc:  # reported per instance; the others go on
                    log.exception("Bulk %s of %s failed", action, row.name)
                    finish(BulkResult(row.id, row.name, "failed", str(exc) or type(exc).__name__, row.engine))

        per_engine = {key: max(1, min(concurrency, len(queue))) for key, queue in queues.items()}
        if per_engine:
            with ThreadPoolExecutor(sum(per_engine.values()), thread_name_prefix=f"fleet-{action}") as pool:
                for key, workers in per_engine.items():
                    for _ in range(workers):
                        pool.submit(worker, queues[key])
        return [results[r.id] for r in rows]
