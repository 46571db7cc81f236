"""The runtime syncs open Fampage orders on its schedule and reschedules when the interval changes."""

from __future__ import annotations

from giftdesk.fampage.events import BalanceChanged, OrderStatusChanged
from giftdesk.fampage.runtime_feature import PRUNE_JOB, SYNC_JOB
from giftdesk.runtime import Runtime
from tests.runtime.test_supervisor import wait_for


def test_scheduled_sync_of_open_orders(fdesk, fake):
    fdesk.fampage.ensure_catalogue()
    company = fdesk.companies.create("Acme")
    order, _ = fdesk.orders.place(company.id, 101, "https://tiktok.com/@sched", 100)
    changes, balances = [], []
    fdesk.events.subscribe(OrderStatusChanged, changes.append)
    fdesk.events.subscribe(BalanceChanged, balances.append)
    runtime = Runtime(fdesk, endpoint=False, docker=False)
    fdesk.attach_runtime(runtime)
    try:
        [job] = [j for j in runtime.scheduler.jobs() if j.name == SYNC_JOB]
        assert job.interval == 15 * 60
        assert [j.daily for j in runtime.scheduler.jobs() if j.name == PRUNE_JOB] == [(4, 30)]
        assert runtime.desk.fampage._http is runtime.http.get("fampage")  # the runtime's client
        runtime.start()
        fake.set_status(order.provider_order_id, "Completed", remains=0)
        fake.balance = 5
        # (Scheduler.run_now leaves next_run alone, so its heap entry is dropped as stale: re-add instead.)
        runtime.scheduler.every(SYNC_JOB, job.interval, job.fn, first_in=0.05)
        assert wait_for(lambda: fdesk.orders.get(order.id).state == "completed")
        assert wait_for(lambda: any(b.low for b in balances))
        assert OrderStatusChanged(order.id, "completed") in changes
        fdesk.settings.update({"fampage.sync_interval_minutes": 5})
        assert wait_for(lambda: [j.interval for j in runtime.scheduler.jobs() if j.name == SYNC_JOB] == [300])
    finally:
        runtime.stop()
