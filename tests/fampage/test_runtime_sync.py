"""The runtime syncs open Fampage orders on its schedule and reschedules when the interval changes."""

from __future__ import annotations

from giftdesk.fampage.events import BalanceChanged, OrderStatusChanged
from giftdesk.fampage.runtime import PRUNE_JOB, SYNC_JOB
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


def test_a_viewers_window_still_syncs_and_prunes_as_the_runtime(fdesk, fake):
    """Scheduled jobs act as the runtime (admin), whoever is logged in: the role checks leave them be."""
    from giftdesk.core.context import Actor

    fdesk.fampage.ensure_catalogue()
    company = fdesk.companies.create("Acme")
    order, _ = fdesk.orders.place(company.id, 101, "https://tiktok.com/@viewer-window", 100)
    viewer = fdesk.as_actor(Actor("vera", "viewer"))
    runtime = Runtime(viewer, endpoint=False, docker=False)
    viewer.attach_runtime(runtime)
    try:
        jobs = {j.name: j for j in runtime.scheduler.jobs()}
        fake.set_status(order.provider_order_id, "Canceled")
        assert jobs[SYNC_JOB].fn()["changed"] == 1
        assert fdesk.orders.get(order.id).state == "canceled"
        assert sorted(i.kind for i in fdesk.invoices.list(order_id=order.id)) == ["credit_note", "invoice"]
        assert fdesk.fampage.calls()
        jobs[PRUNE_JOB].fn()  # keeps 30 days: today's calls stay
        assert fdesk.fampage.calls()
    finally:
        runtime.stop()
