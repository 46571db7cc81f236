"""The main window builds a tab when it is first shown. Clicked open, each tab shows its content;
a tab never shown is never built and asks for nothing; the window closes, remembers and restores
its state with tabs left unbuilt; the background runtime waits for the first paint and the shown
tab's loads; start-up imports none of the heavy modules, and the splash not even asyncio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from giftdesk.gui.main_window import MainWindow, window_settings
from giftdesk.gui.accounts.customers_tab import CustomersTab
from tests.gui.conftest import idle

LEFT = Qt.MouseButton.LeftButton
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def jobs(ctx, monkeypatch):
    """Every job submitted to the runner from now on, as (description, owner)."""
    submitted: list[tuple[str, object]] = []
    submit = ctx.runner.submit

    def recording(fn, *args, **kwargs):
        submitted.append((kwargs.get("description", ""), kwargs.get("owner")))
        return submit(fn, *args, **kwargs)

    monkeypatch.setattr(ctx.runner, "submit", recording)
    return submitted


def open_window(qtbot, ctx, background: bool = False) -> MainWindow:
    window = MainWindow(ctx, background=background)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    idle(qtbot, ctx)
    return window


def click_tab(qtbot, window, title: str):
    bar = window.tabs.tabBar()
    index = window.tab_titles().index(title)
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(index).center())
    assert window.tabs.currentIndex() == index
    shown = window.tabs.currentWidget()
    assert shown.isVisible()
    return shown


def customer_names(tab: CustomersTab) -> list[str]:
    return [row.name for row in tab.table.visible_rows()]


def test_only_the_tab_shown_is_built_and_only_it_asks_for_work(ctx, qtbot, jobs, desk):
    desk.customers.create("Alpha Agency")
    window = open_window(qtbot, ctx)
    customers = window.tabs.currentWidget()
    assert isinstance(customers, CustomersTab)
    assert window.tab_widgets() == [customers]
    assert customer_names(customers) == ["Alpha Agency"]
    for index in (0, 1, 3, 4):  # the pages of the other tabs are empty placeholders
        assert window.tabs.widget(index).children() == []
    # Every job came from the customers tab (its list, detail, dashboard) or the status bar's keyring check.
    for description, owner in jobs:
        if owner is None:
            assert description == "Checking the keyring…"
        else:
            assert owner is customers or customers.isAncestorOf(owner), description
    assert "Loading customers…" in [description for description, _owner in jobs]


def test_each_tab_shows_its_content_when_first_clicked(ctx, qtbot, desk, make_account):
    make_account("alpha_live", "Alpha")
    desk.social.create("Yash Gupta", city="Delhi")
    window = open_window(qtbot, ctx)
    customers = window.customers_tab
    built_before = window.tab_widgets()

    keys = click_tab(qtbot, window, "API Keys")
    assert type(keys).__name__ == "ApiKeysTab" and keys is window.api_keys_tab
    qtbot.waitUntil(lambda: keys.model.rowCount() == 1, timeout=5000)
    assert keys.model.index(0, keys.model.ACCOUNT).data() == "@alpha_live"

    stats = click_tab(qtbot, window, "Social Stats")
    assert type(stats).__name__ == "SocialStatsTab" and stats is window.stats_tab
    qtbot.waitUntil(lambda: stats.loads >= 1, timeout=5000)
    assert [p.display_name for p in stats.table.visible_rows()] == ["Yash Gupta"]

    orders = click_tab(qtbot, window, "Fampage Orders")
    assert type(orders).__name__ == "FampageOrdersTab" and orders is window.orders_tab
    qtbot.waitUntil(lambda: orders.configured is False, timeout=5000)  # no Fampage key in the tests
    assert orders.stack.currentWidget() is orders.empty and orders.empty.isVisible()

    instances = click_tab(qtbot, window, "Instances")
    assert type(instances).__name__ == "InstancesTab" and instances is window.instances_tab
    qtbot.waitUntil(lambda: "running" in instances.summary.text(), timeout=10000)  # its list is in

    again = click_tab(qtbot, window, "Customer Accounts")
    assert again is customers and built_before == [customers]
    assert customer_names(customers) == ["Alpha 1"]
    assert window.tab_widgets() == [instances, keys, customers, stats, orders]
    assert window.tab_titles() == ["Instances", "API Keys", "Customer Accounts", "Social Stats", "Fampage Orders"]
    assert all(not window.tabs.tabIcon(i).isNull() for i in range(window.tabs.count()))
    # A tab built late still speaks to the status bar.
    stats.message.emit("Profile synced.")
    assert window.status.currentMessage() == "Profile synced."
    idle(qtbot, ctx)


def test_the_tab_restored_from_the_window_state_is_the_one_built(ctx, qtbot, desk, jobs):
    desk.customers.create("Alpha Agency")
    settings = window_settings(desk.paths.root)
    settings.setValue("main/tab", 3)  # Social Stats was shown when the last window closed
    settings.sync()
    window = open_window(qtbot, ctx)
    stats = window.tabs.currentWidget()
    assert type(stats).__name__ == "SocialStatsTab" and window.tab_widgets() == [stats]
    assert "Loading customers…" not in [description for description, _owner in jobs]

    customers = click_tab(qtbot, window, "Customer Accounts")
    qtbot.waitUntil(lambda: customer_names(customers) == ["Alpha Agency"], timeout=5000)
    assert customers.detail_stack.currentWidget() is customers.detail  # the first customer selected


def test_closing_with_tabs_never_built_keeps_their_state(ctx, qtbot, desk):
    first = open_window(qtbot, ctx)
    first.customers_tab.split.setSizes([300, 900])  # a quarter for the list (it starts near a half)
    click_tab(qtbot, first, "Social Stats")
    first.close()  # saves: the current tab is Social Stats

    saved = window_settings(desk.paths.root).value("customers/split")
    second = open_window(qtbot, ctx)
    assert [type(t).__name__ for t in second.tab_widgets()] == ["SocialStatsTab"]
    second.close()  # the customers tab was never built: its saved layout stays as it was
    assert window_settings(desk.paths.root).value("customers/split") == saved

    third = open_window(qtbot, ctx)
    customers = click_tab(qtbot, third, "Customer Accounts")
    listed, detail = customers.split.sizes()
    assert listed / (listed + detail) == pytest.approx(0.25, abs=0.02)
    third.close()


def test_a_closed_window_builds_nothing_on_a_tab_change(ctx, qtbot):
    window = open_window(qtbot, ctx)
    window.close()
    window.tabs.setCurrentIndex(4)
    assert [type(t).__name__ for t in window.tab_widgets()] == ["CustomersTab"]


def test_the_background_runtime_starts_after_the_first_paint_once_the_shown_tab_has_loaded(ctx, qtbot, desk,
                                                                                           monkeypatch):
    from giftdesk.gui import main_window

    monkeypatch.setattr(main_window, "BACKGROUND_LATEST_MS", 600_000)  # only the loads decide here
    desk.customers.create("Alpha Agency")
    started: list[int] = []
    gate = threading.Event()
    window = MainWindow(ctx, background=True)
    qtbot.addWidget(window)
    window.start_background = lambda: started.append(ctx.runner.running)  # no real runtime in this test
    assert started == []  # not when the window is made
    ctx.runner.submit(gate.wait, 10, owner=window, description="Something slow")
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: customer_names(window.customers_tab) == ["Alpha Agency"], timeout=5000)
    assert started == []  # painted, customers listed, but a load is still in flight
    gate.set()
    qtbot.waitUntil(lambda: started == [0], timeout=5000)
    idle(qtbot, ctx)


def test_start_up_imports_no_heavy_module(tmp_path):
    """The main window painted with its customers listed, in a fresh process: no QtCharts, reportlab,
    Docker SDK or httpx (nor the tabs that need them) was imported."""
    script = r"""
import json, sys, time
from giftdesk.gui.app import create_application
app = create_application()
from giftdesk.desk import Desk
from giftdesk.gui.context import GuiContext
from giftdesk.gui.main_window import MainWindow
from giftdesk.core.context import Actor
desk = Desk.open(sys.argv[1])
desk.customers.create("Alpha Agency")
ctx = GuiContext.create(desk.as_actor(Actor("alice", "admin")))
window = MainWindow(ctx, background=False)
window.show()
deadline = time.monotonic() + 20
while not window.customers_tab.table.rows and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.005)
ctx.runner.wait_idle()
app.processEvents()
heavy = ["PySide6.QtCharts", "reportlab", "docker", "httpx", "giftdesk.gui.fleet.instances_tab",
         "giftdesk.gui.social.stats_tab", "giftdesk.gui.fampage.orders_tab", "giftdesk.gui.accounts.api_keys_tab"]
print(json.dumps({"listed": len(window.customers_tab.table.rows), "imported": [m for m in heavy if m in sys.modules]}))
window.close()
ctx.close()
desk.close()
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "GIFTDESK_KEYRING": "file", "PYTHONPATH": str(REPO)}
    env.pop("GIFTDESK_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "data")], capture_output=True, text=True,
                            env=env, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"listed": 1, "imported": []}


def test_the_splash_is_painted_before_asyncio_or_the_domain_layer_is_imported():
    script = r"""
import json, sys
from giftdesk.gui import app as gapp
application = gapp._splash(gapp.create_application())
print(json.dumps([m for m in ("asyncio", "ssl", "sqlalchemy", "giftdesk.desk", "secrets") if m in sys.modules]))
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO,
                            timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
