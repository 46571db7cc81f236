"""The Instances tab, driven with the mouse against the real engine and the fleet runtime."""
# ruff: noqa: F811  (the fleet fixtures are imported from tests/fleet/conftest.py)

from __future__ import annotations

import subprocess

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from giftdesk.gui import theme
from tests.fleet.conftest import FLEET_IMAGE, NODE_IMAGE, engine, fleet_desk, unique  # noqa: F401 (fixtures)
from tests.gui.fleet_support import instances_tab

pytestmark = pytest.mark.docker


@pytest.fixture
def accounts(fleet_desk):
    customer = fleet_desk.customers.create("Aurora Events")
    return [fleet_desk.customers.add_account(customer.id, f"aurora_{unique('a')[2:]}".replace("-", "_"))
            for _ in range(3)]


@pytest.fixture
def tab(ctx, fleet_desk, qtbot):
    with instances_tab(ctx, fleet_desk, qtbot, width=1400) as widget:
        yield widget


def _row_rect(tab, name: str):
    table = tab.table
    for row in range(table.source.rowCount()):
        index = table.source.index(row, 0)
        if index.data() == name:
            return table.visualRect(index)
    raise AssertionError(f"{name} is not in the table")


def _click_row(qtbot, tab, name: str, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    rect = _row_rect(tab, name)
    qtbot.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def _row_of(tab, name: str) -> int:
    return next(r for r in range(tab.table.source.rowCount()) if tab.table.source.index(r, 0).data() == name)


def _view(tab, name: str):
    return next(v for v in tab.views() if v.row.name == name)


@pytest.fixture
def made(tab, qtbot, accounts, fleet_desk):
    """``made(*prefixes, start=True, healthy=False)``: instances made through the service (only the
    create test goes through the dialog), one per account in turn, once the tab shows them."""
    def make(*prefixes: str, start: bool = True, healthy: bool = False) -> list[str]:
        names = [fleet_desk.fleet.create(unique(prefix), accounts[i % len(accounts)].id, start=start).name
                 for i, prefix in enumerate(prefixes)]
        shown = lambda: {v.row.name: v for v in tab.views()}  # noqa: E731
        qtbot.waitUntil(lambda: set(names) <= set(shown()), timeout=10000)
        if start:
            qtbot.waitUntil(lambda: all(shown()[n].state == "running" for n in names), timeout=20000)
        if healthy:
            qtbot.waitUntil(lambda: all(shown()[n].health == "healthy" for n in names), timeout=20000)
        return names

    return make


def test_create_dialog_makes_a_running_instance(ctx, tab, qtbot, accounts):
    qtbot.mouseClick(tab.button("new"), Qt.MouseButton.LeftButton)
    dialog = tab.dialog
    qtbot.waitUntil(lambda: dialog.account.count() == 3, timeout=10000)
    name = unique("aurora")
    qtbot.keyClicks(dialog.name, name)
    dialog.memory.setValue(128)
    qtbot.waitUntil(lambda: dialog.image.findText(FLEET_IMAGE) >= 0, timeout=10000)
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(v.row.name == name for v in tab.views()), timeout=20000)
    qtbot.waitUntil(lambda: _view(tab, name).state == "running", timeout=20000)
    qtbot.waitUntil(lambda: _view(tab, name).health == "healthy", timeout=20000)
    assert _view(tab, name).row.memory_limit_mb == 128
    assert _view(tab, name).live.live_status == "DISCONNECTED"


def test_filter_narrows_the_rows(tab, qtbot, made):
    made("aurora", "borealis", "comet", start=False)
    qtbot.keyClicks(tab.filter, "borealis")
    qtbot.waitUntil(lambda: tab.table.source.rowCount() == 1)
    assert tab.table.source.index(0, 0).data().startswith("borealis-")
    tab.filter.clear()
    qtbot.waitUntil(lambda: tab.table.source.rowCount() == 3)


def test_ctrl_click_selects_two_and_bulk_stop_stops_only_them(tab, qtbot, made):
    first, second, third = made("aurora", "borealis", "comet")
    _click_row(qtbot, tab, first)
    _click_row(qtbot, tab, third, Qt.KeyboardModifier.ControlModifier)
    assert {v.row.name for v in tab.selected()} == {first, third}
    qtbot.mouseClick(tab.button("stop"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.bulk_results is not None, timeout=30000)
    assert [r.outcome for r in tab.bulk_results] == ["ok", "ok"]
    qtbot.waitUntil(lambda: _view(tab, first).state == "exited" and _view(tab, third).state == "exited", timeout=5000)
    assert _view(tab, second).state == "running"


def test_shift_click_selects_the_range_and_bulk_start_starts_them(tab, qtbot, made):
    made("aurora", "borealis", "comet", "dorado", start=False)
    rows = [tab.table.source.index(r, 0).data() for r in range(4)]
    _click_row(qtbot, tab, rows[0])
    _click_row(qtbot, tab, rows[2], Qt.KeyboardModifier.ShiftModifier)
    assert {v.row.name for v in tab.selected()} == set(rows[:3])
    qtbot.mouseClick(tab.button("start"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.bulk_results is not None, timeout=30000)
    assert [r.outcome for r in tab.bulk_results] == ["ok", "ok", "ok"]
    qtbot.waitUntil(lambda: all(_view(tab, n).state == "running" for n in rows[:3]), timeout=10000)
    assert _view(tab, rows[3]).state != "running"  # outside the range


def test_a_docker_stop_made_outside_shows_in_the_table(tab, qtbot, made, fleet_desk):
    # Carried by the engine's event stream; how soon is measured by tests/bench/bench_fleet.py,
    # not here on a loaded machine.
    from giftdesk.fleet.events import InstanceStateChanged

    [name] = made("borealis")
    streamed = []
    fleet_desk.events.subscribe(InstanceStateChanged, streamed.append)
    subprocess.run(["docker", "stop", "-t", "5", f"gift-tracker-{name}"], check=True, capture_output=True)
    qtbot.waitUntil(lambda: _view(tab, name).state == "exited", timeout=15000)
    assert any(e.name == name and e.state == "exited" for e in streamed)


def test_stats_columns_fill_while_the_tab_shows_them(tab, qtbot, made):
    first, third = made("aurora", "comet")
    [second] = made("borealis", start=False)
    qtbot.waitUntil(lambda: all(v.live.cpu_percent is not None and v.health == "healthy"
                                for v in tab.views() if v.state == "running"), timeout=20000)
    qtbot.waitUntil(lambda: "2/3 running" in tab.summary.text(), timeout=5000)
    cpu_column = [c.title for c in tab.table.source.columns].index("CPU")
    qtbot.waitUntil(lambda: tab.table.source.index(_row_of(tab, first), cpu_column).data().endswith("%"), timeout=5000)
    # Network I/O: the probe's GET /api/state every half second moves the counters of each running tracker.
    net_column = [c.title for c in tab.table.source.columns].index("Net I/O")
    qtbot.waitUntil(lambda: all(tab.table.source.index(_row_of(tab, v.row.name), net_column).data().startswith("↓ ")
                                and (v.live.net_tx_rate or 0) > 0 for v in tab.views() if v.state == "running"),
                    timeout=10000)
    assert tab.table.source.index(_row_of(tab, second), net_column).data() == ""  # not running: nothing to show
    assert "network ↓ " in tab.summary.text()
    _click_row(qtbot, tab, first)  # a selected row keeps its figures
    qtbot.waitUntil(lambda: all(v.health == "healthy" and v.live.live_status for v in tab.views() if v.state == "running"),
                    timeout=20000)
    qtbot.waitUntil(lambda: tab.table.source.index(_row_of(tab, first), net_column).data().startswith("↓ "), timeout=5000)


def test_log_viewer_follows_searches_and_pauses(tab, qtbot, made):
    [name] = made("aurora")
    _click_row(qtbot, tab, name)
    qtbot.mouseClick(tab.button("logs"), Qt.MouseButton.LeftButton)
    viewer = tab.dialog
    qtbot.waitExposed(viewer)
    qtbot.waitUntil(lambda: "serving /www" in viewer.text.toPlainText(), timeout=10000)
    assert viewer.streaming
    qtbot.keyClicks(viewer.search, "tracker")
    assert "match" in viewer.matches.text() and not viewer.matches.text().startswith("0 ")
    qtbot.mouseClick(viewer.pause_button, Qt.MouseButton.LeftButton)
    subprocess.run(["docker", "exec", f"gift-tracker-{name}", "sh", "-c", "echo while-paused > /proc/1/fd/1"],
                   check=True, capture_output=True)
    qtbot.waitUntil(lambda: "Resume (1 new)" in viewer.pause_button.text(), timeout=5000)
    assert "while-paused" not in viewer.text.toPlainText()
    qtbot.mouseClick(viewer.pause_button, Qt.MouseButton.LeftButton)
    assert "while-paused" in viewer.text.toPlainText()
    stream = viewer._stream
    viewer.close()
    assert stream.closed


def test_stats_dialog_graphs_cpu_memory_and_network_in_either_palette(tab, qtbot, made):
    [name] = made("aurora")
    _click_row(qtbot, tab, name)
    qtbot.mouseClick(tab.button("stats"), Qt.MouseButton.LeftButton)
    stats = tab.dialog
    qtbot.waitExposed(stats)
    qtbot.waitUntil(lambda: stats.cpu.count() >= 3 and stats.net_rx.count() >= 3 and stats.net_tx.count() >= 3,
                    timeout=20000)
    assert "memory" in stats.summary.text() and "network ↓" in stats.summary.text()
    assert stats.network_unit.endswith("B/s")
    assert all(label.endswith(stats.network_unit) for label in stats.network_y.categoriesLabels())
    stats.close()
    theme.apply_theme(QApplication.instance(), "dark")  # the charts follow the palette
    try:
        qtbot.mouseClick(tab.button("stats"), Qt.MouseButton.LeftButton)
        dark = tab.dialog
        qtbot.waitExposed(dark)
        qtbot.waitUntil(lambda: dark.net_rx.count() >= 3, timeout=20000)
        assert dark.network_view.chart().backgroundBrush().color() == dark.palette().base().color()
        dark.close()
    finally:
        theme.apply_theme(QApplication.instance(), "light")


def test_delete_asks_first_and_no_changes_nothing(tab, qtbot, made, fleet_desk, answers):
    _first, second = made("aurora", "borealis", start=False)
    _click_row(qtbot, tab, second)
    answers.extend([False])
    qtbot.mouseClick(tab.button("delete"), Qt.MouseButton.LeftButton)
    assert not answers  # the question was asked
    assert len(fleet_desk.fleet.list()) == 2 and len(tab.views()) == 2


def test_bulk_cancelled_half_way_reports_each_instance(ctx, tab, qtbot, accounts, fleet_desk):
    names = [fleet_desk.fleet.create(unique("bulk"), accounts[0].id, start=False).name for _ in range(20)]
    qtbot.waitUntil(lambda: len(tab.views()) == 20, timeout=10000)
    tab.table.selectAll()
    qtbot.mouseClick(tab.button("start"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.bulk_dialog is not None and tab.bulk_dialog.value() >= 1, timeout=20000)
    from PySide6.QtWidgets import QPushButton

    cancel = tab.bulk_dialog.findChild(QPushButton)
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.bulk_results is not None, timeout=30000)
    outcomes = [r.outcome for r in tab.bulk_results]
    assert set(outcomes) <= {"ok", "cancelled"} and "cancelled" in outcomes and "ok" in outcomes, [(r.name, r.outcome, r.message) for r in tab.bulk_results if r.outcome == "failed"]
    started = {r.name for r in tab.bulk_results if r.outcome == "ok"}
    states = {r.name: r.state for r in fleet_desk.fleet.list(with_state=True)}
    assert {n for n in names if states[n] == "running"} == started


def test_engine_banner_with_retry(ctx, tab, qtbot, fleet_desk, accounts):
    fleet_desk.fleet.create(unique("banner"), accounts[0].id, start=False)
    good = fleet_desk.settings.get("docker.host")
    ctx.desk.settings.update({"docker.host": "unix:///tmp/no-such-docker.sock"})
    tab.reload()
    qtbot.waitUntil(lambda: tab.banner.isVisible(), timeout=10000)
    assert "cannot be reached" in tab.banner_text.text()
    assert len(tab.views()) == 1  # the records still show
    ctx.desk.settings.update({"docker.host": good})
    qtbot.mouseClick(tab.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tab.banner.isVisible(), timeout=10000)


def test_regenerated_key_offers_to_recreate(ctx, tab, qtbot, fleet_desk, accounts, answers, engine):
    row = fleet_desk.fleet.create(unique("key"), accounts[0].id)
    qtbot.waitUntil(lambda: len(tab.views()) == 1, timeout=10000)
    answers.extend([True])
    new_key = ctx.desk.keys.regenerate(accounts[0].id)
    qtbot.waitUntil(lambda: tab.bulk_results is not None, timeout=30000)
    recreated = fleet_desk.fleet.get(row.id)
    assert f"API_KEY={new_key}" in engine.api.inspect_container(recreated.container_id)["Config"]["Env"]
    assert not answers  # the question was asked


def test_node_tracker_connects_from_the_table(ctx, tab, qtbot, fleet_desk, accounts):
    from giftdesk.fleet.spec import InstanceSettings

    name = fleet_desk.fleet.create(unique("node"), accounts[0].id, settings=InstanceSettings(image=NODE_IMAGE)).name
    qtbot.waitUntil(lambda: any(v.row.name == name and v.health == "healthy" for v in tab.views()), timeout=20000)
    _click_row(qtbot, tab, name)
    tab.actions["connect"].trigger()
    qtbot.waitUntil(lambda: _view(tab, name).live.live_status == "ONLINE", timeout=10000)
    assert _view(tab, name).live.viewers == 42


def test_toolbar_has_icons_and_folds_when_narrow(ctx, tab, qtbot):
    from PySide6.QtWidgets import QToolButton

    for key, action in tab.buttons.items():
        assert not action.icon().isNull(), key
        assert not action.icon().pixmap(16, 16).toImage().isNull()
        assert tab.button(key).toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon
    extension = tab.toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert not extension.isVisible()
    tab.resize(520, 400)
    qtbot.waitUntil(extension.isVisible)
    assert not tab.button("delete").isVisible()  # folded behind the arrow, not clipped
    tab.resize(1400, 520)
    qtbot.waitUntil(lambda: not extension.isVisible())
    assert tab.button("delete").isVisible()

    # On the dark palette the icons are drawn in its text colour (light strokes on a dark bar).
    from PySide6.QtGui import QColor

    from giftdesk.gui.fleet.instances_tab import InstancesTab

    def lightest_stroke(widget, key) -> float:
        image = widget.buttons[key].icon().pixmap(32, 32).toImage()
        opaque = [QColor(image.pixel(x, y)) for x in range(32) for y in range(32) if QColor(image.pixel(x, y)).alpha() > 200]
        return max(c.lightnessF() for c in opaque)

    assert lightest_stroke(tab, "stop") < 0.3
    theme.apply_theme(QApplication.instance(), "dark")
    try:
        dark = InstancesTab(ctx)
        qtbot.addWidget(dark)
        dark.resize(900, 160)
        dark.show()
        qtbot.waitExposed(dark)
        assert lightest_stroke(dark, "stop") > 0.7
        dark.close()
    finally:
        theme.apply_theme(QApplication.instance(), "light")


@pytest.mark.qt_log_ignore("This plugin does not support grabbing the keyboard", extend=True)  # offscreen menus
def test_right_click_menu_and_keys_act_on_the_row(ctx, tab, qtbot, fleet_desk, accounts):
    """A right-click on a row selects it and offers its actions; the keyboard reaches the same ones."""
    from PySide6.QtGui import QContextMenuEvent

    names = [fleet_desk.fleet.create(unique("ctx"), accounts[0].id, start=False).name for _ in range(2)]
    qtbot.waitUntil(lambda: len(tab.views()) == 2, timeout=10000)
    _click_row(qtbot, tab, names[0])
    # A right-click (as the platform delivers it) on the OTHER row: that row becomes the selection.
    viewport = tab.table.viewport()
    at = _row_rect(tab, names[1]).center()
    QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at,
                                                      viewport.mapToGlobal(at)))
    menu = tab.context_menu
    assert menu is not None and [v.row.name for v in tab.selected()] == [names[1]]
    shown = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert shown[:3] == ["Start", "Stop", "Restart"] and "Delete" in shown and "Clone…" in shown
    start = next(a for a in menu.actions() if a.text() == "Start")
    assert start.isEnabled()
    menu.close()
    start.trigger()  # what clicking the menu entry does
    qtbot.waitUntil(lambda: {v.row.name: v.state for v in tab.views()}[names[1]] == "running", timeout=20000)
    assert {v.row.name: v.state for v in tab.views()}[names[0]] != "running"

    # Keys: Ctrl+Shift+X stops the selection, Ctrl+F goes to the filter. A person presses it
    # once the bar's Stop is enabled for the row still selected.
    qtbot.waitUntil(lambda: tab.buttons["stop"].isEnabled(), timeout=10000)
    assert [v.row.name for v in tab.selected()] == [names[1]]
    tab.activateWindow()
    tab.table.setFocus()
    qtbot.waitUntil(tab.table.hasFocus)
    qtbot.keyClick(tab.table, Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: {v.row.name: v.state for v in tab.views()}[names[1]] == "exited", timeout=20000)
    qtbot.keyClick(tab.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(tab.filter.hasFocus)
    # Enabled again (its shortcut shows) once the toolbar has followed the stopped row.
    qtbot.waitUntil(lambda: "Ctrl+Shift+S" in tab.button("start").toolTip(), timeout=10000)


def test_actions_follow_the_state_of_the_selection(ctx, tab, qtbot, made):
    """Start is off on a running instance and Stop on an exited one, each saying why; with both
    selected each applies to one and the bulk action skips the other."""
    running, = made("aurora")
    exited, = made("borealis", start=False)
    _click_row(qtbot, tab, running)
    start, stop = tab.button("start"), tab.button("stop")
    assert not start.isEnabled() and stop.isEnabled() and tab.button("restart").isEnabled()
    assert tab.buttons["start"].toolTip() == f"Nothing to start: {running} already runs"
    _click_row(qtbot, tab, exited)
    assert start.isEnabled() and not stop.isEnabled() and not tab.button("restart").isEnabled()
    assert tab.buttons["stop"].toolTip() == f"Nothing to stop: {exited} is not running"
    assert not tab.actions["connect"].isEnabled()

    _click_row(qtbot, tab, running, Qt.KeyboardModifier.ControlModifier)
    assert start.isEnabled() and stop.isEnabled()
    assert f"1 of 2 selected; 1 skipped ({running}: already running)" in tab.buttons["start"].toolTip()
    messages = []
    tab.message.connect(messages.append)
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.bulk_results is not None, timeout=30000)
    assert [(r.name, r.outcome) for r in tab.bulk_results] == [(exited, "ok")]
    qtbot.waitUntil(lambda: bool(messages))
    assert messages[-1] == f"1 done, 1 skipped ({running}: already running)"
    # Both run now: Start says so, and turned itself off without a click.
    qtbot.waitUntil(lambda: not start.isEnabled(), timeout=20000)
    assert tab.buttons["start"].toolTip() == "Nothing to start: every selected instance runs"


def test_rows_arriving_never_widen_the_window(ctx, qtbot, fleet_desk, accounts):
    """The window keeps its width when the first running instance (with its figures) shows; the
    columns share that width, the image name whole."""
    from giftdesk.gui.main_window import MainWindow
    from tests.gui.fleet_support import start_runtime, stop_runtime

    started = start_runtime(ctx, fleet_desk)
    win = MainWindow(ctx, background=False)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    win.show_tab("Instances")
    tab = win.instances_tab
    try:
        name = fleet_desk.fleet.create(unique("wide"), accounts[0].id, start=True).name
        qtbot.waitUntil(lambda: any(v.row.name == name and v.state == "running" for v in tab.views()), timeout=20000)
        qtbot.waitUntil(lambda: "network" in tab.summary.text() and _view(tab, name).live.memory_bytes is not None,
                        timeout=20000)
        qtbot.wait(100)  # one more layout pass after the figures
        assert win.width() == 1280
        image = tab.table.source.index(_row_of(tab, name), len(tab.table.source.columns) - 1)
        needed = tab.table.fontMetrics().horizontalAdvance(image.data()) + 12
        assert tab.table.columnWidth(image.column()) >= needed, (tab.table.columnWidth(image.column()), needed)
        right = tab.table.columnViewportPosition(image.column()) + tab.table.columnWidth(image.column())
        assert right <= tab.table.viewport().width()  # no horizontal scrolling either
        win.grab().save("/tmp/instances-window.png")
    finally:
        win.close()
        stop_runtime(ctx, started)


def test_logs_and_stats_windows_cascade_and_close(tab, qtbot, made):
    """Each new logs or stats window opens off the last one still open, and each has a Close button
    (Esc closes it too)."""
    import shiboken6

    first, second = made("aurora", "borealis", start=False)
    opened = []
    for name, key in ((first, "logs"), (first, "stats"), (second, "logs")):
        _click_row(qtbot, tab, name)
        qtbot.mouseClick(tab.button(key), Qt.MouseButton.LeftButton)
        qtbot.waitExposed(tab.dialog)
        opened.append(tab.dialog)
    positions = [(w.x(), w.y()) for w in opened]
    assert len(set(positions)) == 3, positions
    assert positions[1][0] > positions[0][0] and positions[2][1] > positions[1][1]

    close = opened[1].findChild(QDialogButtonBox, "viewer-buttons").button(QDialogButtonBox.StandardButton.Close)
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not shiboken6.isValid(opened[1]) or not opened[1].isVisible())
    opened[2].activateWindow()
    qtbot.keyClick(opened[2], Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not shiboken6.isValid(opened[2]) or not opened[2].isVisible())
    # The next one does not land on the window still open.
    _click_row(qtbot, tab, second)
    qtbot.mouseClick(tab.button("stats"), Qt.MouseButton.LeftButton)
    qtbot.waitExposed(tab.dialog)
    assert tab.dialog.pos() != opened[0].pos()
    tab.dialog.grab().save("/tmp/stats-with-close.png")
    for window in (tab.dialog, opened[0]):
        window.close()
