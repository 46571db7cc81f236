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
        """start | stop | restart | delete of many, ``concurrency`` at a time; one result each.
        ``cancel``: nothing new begins; what runs finishes; the rest is 'cancelled'."""
        operations = {"start": lambda i: self._lifecycle(i, "start", fetch=False),
                      "stop": lambda i: self._lifecycle(i, "stop", fetch=False),
                      "restart": lambda i: self._lifecycle(i, "restart", fetch=False),
                      "delete": self.delete, "recreate": self.recreate}
        if action not in operations:
            raise ValidationError(f"'{action}' is not a bulk action: {', '.join(operations)}.", field="action")
        # Refused as a whole: each operation would refuse on its own, but as per-row "failed" results.
        self.ctx.require("operator", f"{action} instances")
        rows = self.resolve(list(refs))
        results: dict[int, BulkResult] = {}
        lock = threading.Lock()
        pending = list(rows)
        done = [0]

        def finish(result: BulkResult) -> None:
            with lock:
                results[result.instance_id] = result
                done[0] += 1
                count = done[0]
            if on_result is not None:
                on_result(result, count, len(rows))

        def worker() -> None:
            while True:
                with lock:
                    if not pending:
                        return
                    row = pending.pop(0)
                if cancel is not None and cancel.is_set():
                    finish(BulkResult(row.id, row.name, "cancelled", "cancelled before it began"))
                    continue
                try:
                    operations[action](row.id)
                    finish(BulkResult(row.id, row.name, "ok"))
                except GiftDeskError as exc:
                    finish(BulkResult(row.id, row.name, "failed", str(exc)))
                except Exception as exc:  # reported per instance; the others go on
                    log.exception("Bulk %s of %s failed", action, row.name)
                    finish(BulkResult(row.id, row.name, "failed", str(exc) or type(exc).__name__))

        workers = max(1, min(concurrency, len(rows)))
        with ThreadPoolExecutor(workers, thread_name_prefix=f"fleet-{action}") as pool:
            for _ in range(workers):
                pool.submit(worker)
        return [results[r.id] for r in rows]
