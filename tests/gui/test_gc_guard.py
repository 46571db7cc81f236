"""Python's cyclic collector never runs on a worker thread of the window (it would destroy QObjects
there and deadlock), and a closed main window does not wait for the collector to go."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest
from PySide6.QtCore import QCoreApplication, QEvent

from giftdesk.gui import gc_guard
from giftdesk.gui.context import GuiContext
from giftdesk.core.context import Actor


@pytest.fixture
def collections_by_thread():
    """Every collection that starts, by the name of the thread it runs on."""
    seen: dict[str, int] = {}

    def record(phase, _info):
        if phase == "start":
            name = threading.current_thread().name
            seen[name] = seen.get(name, 0) + 1

    gc.callbacks.append(record)
    yield seen
    gc.callbacks.remove(record)


def _make_garbage_on_a_worker(stop: threading.Event) -> threading.Thread:
    """Cyclic garbage allocated on a worker: past the threshold, the automatic collector would run there."""

    def churn():
        while not stop.is_set():
            for _ in range(2000):
                cycle: list = []
                cycle.append(cycle)
            stop.wait(0.001)

    worker = threading.Thread(target=churn, name="garbage-churn", daemon=True)
    worker.start()
    return worker


def _open_and_drop_window(desk, app, wait_for_jobs: bool):
    from giftdesk.gui.main_window import MainWindow

    ctx = GuiContext.create(desk.as_actor(Actor("alice", "admin")))
    window = MainWindow(ctx, background=False)
    window.show()
    for index in range(window.tabs.count()):  # every tab loads through the job lanes
        window.tabs.setCurrentIndex(index)
        app.processEvents()
        if wait_for_jobs:
            ctx.runner.wait_idle()
            app.processEvents()
    kept = {name: weakref.ref(obj) for name, obj in
            [("runner", ctx.runner), ("bridge", ctx.bridge), ("window", window)]
            + [(type(tab).__name__, tab) for tab in window.tab_widgets()]}
    window.close()  # while the lanes may still be loading the tabs
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    ctx.close()
    app.processEvents()
    return kept


def test_the_console_application_takes_the_collector_off_every_thread_but_its_own(qapp):
    guard = gc_guard.installed(qapp)
    assert guard is not None, "create_application installs the guard"
    assert not gc.isenabled()
    assert gc_guard.install(qapp) is guard  # one per application


def test_windows_built_and_dropped_under_load_collect_only_on_the_gui_thread(desk, qapp, collections_by_thread):
    for n in range(20):
        customer = desk.customers.create(f"Customer {n}")
        desk.customers.add_account(customer.id, f"account_{n}")
    guard = gc_guard.installed(qapp)
    stop = threading.Event()
    churn = _make_garbage_on_a_worker(stop)
    try:
        for _round in range(12):
            _open_and_drop_window(desk, qapp, wait_for_jobs=False)
            for _ in range(4000):  # garbage on the GUI thread too, then its timer's work
                cycle: list = []
                cycle.append(cycle)
            guard.collect_due()
    finally:
        stop.set()
        churn.join(10)
    assert set(collections_by_thread) == {"MainThread"}, collections_by_thread
    assert collections_by_thread["MainThread"] >= 12  # the check above saw collections happen


def test_a_closed_main_window_goes_without_the_collector(desk, qapp):
    _open_and_drop_window(desk, qapp, wait_for_jobs=True)  # warm-up: first-use caches stay
    gc.collect()
    # A reference cycle keeps the same objects every time. A tab's load whose result was still queued
    # for the GUI thread when the window closed keeps its tab for a moment only, and only sometimes:
    # so one round of several that leaves nothing behind is enough, and a cycle fails every round.
    rounds = []
    for _ in range(5):
        kept = _open_and_drop_window(desk, qapp, wait_for_jobs=True)
        left = sorted(name for name, ref in kept.items() if ref() is not None)
        rounds.append(left)
        if not left:
            break
        gc.collect()
    assert [] in rounds, f"kept alive by reference cycles until the collector runs, every round: {rounds}"
