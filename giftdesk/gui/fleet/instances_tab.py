"""The Instances tab: every tracker with live state, health, TikTok status and stats.

Rows come from one list call; from then on the runtime's fleet services push changes (engine
events, the ``/api/state`` probe, the stats sampler) as typed events that the bridge delivers at
most once per frame. Nothing here polls the engine. Actions run in the job runner, each instance
on its own lane; bulk actions run in parallel with a progress dialog and cancel.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import (QComboBox, QDialogButtonBox, QFrame, QHBoxLayout, QLabel, QLineEdit, QMenu,
                               QProgressDialog,
                               QPushButton, QSizePolicy, QSystemTrayIcon, QToolBar, QToolButton, QVBoxLayout, QWidget)

from giftdesk.core.errors import ServiceUnavailableError
from giftdesk.fleet.engines import engine_key
from giftdesk.fleet.events import (EnginesChanged, FleetConnectionChanged, InstanceAlert, InstanceProbed,
                                   InstancesChanged,
                                   InstanceStateChanged, InstanceStatsSampled)
from giftdesk.fleet.actions import Target, instance_actions
from giftdesk.fleet.runtime import fleet_of
from giftdesk.fleet.live import LiveInstance
from giftdesk.fleet.records import InstanceRow
from giftdesk.fleet import operations as fleet_operations
from giftdesk.fleet.operations import instance_operation
from giftdesk.fleet.presentation import InstanceView, fleet_summary, fmt_uptime
from giftdesk.gui import theme
from giftdesk.gui.prompts import Prompts
from giftdesk.gui.widgets.elided import ElidedLabel
from giftdesk.gui.table import RIGHT, Column, RowTableView
from giftdesk.runtime.docker_monitor import DockerStateChanged
from giftdesk.accounts.events import KeyChanged
from giftdesk.core.events import DatabaseReplaced
from giftdesk.core.wording import counted

STATE_COLORS = {"running": "#2e7d32", "restarting": "#e65100", "exited": "#757575", "missing": "#c62828",
                "dead": "#c62828", "created": "#1565c0", "paused": "#6a1b9a",
                # A Swarm service's task: placing or starting, or refused by the nodes.
                "pending": "#e65100", "starting": "#1565c0", "rejected": "#c62828", "failed": "#c62828"}
RENDER_MS = 40  # live figures (stats, probes) reach the table within this, however many arrive
STATE_RENDER_MS = 16  # a state change (started, stopped, died) waits at most a frame
HEALTH_COLORS = {"healthy": "#2e7d32", "unhealthy": "#c62828", "starting": "#e65100"}


def _color(mapping):
    return lambda v: QColor(mapping[key]) if (key := v) in mapping else None


def _greyed_when_unreachable(column: Column) -> Column:
    """Rows of an engine that does not answer read grey, and say since when."""
    foreground, tooltip = column.foreground, column.tooltip
    return replace(column, foreground=lambda v: QColor(theme.colors().muted) if v.engine_unreachable else
                   (foreground(v) if foreground else None),
                   tooltip=lambda v: v.engine_tooltip or (tooltip(v) if tooltip else None))


COLUMNS = [_greyed_when_unreachable(column) for column in [
    Column("Name", width=140, value=lambda v: v.row.name, tooltip=lambda v: v.alert or v.row.local_url),
    Column("Customer", width=110, value=lambda v: v.row.customer_name or ""),
    Column("TikTok", width=125, value=lambda v: f"@{v.row.tiktok_username}"),
    Column("Account", width=90, value=lambda v: v.row.account_ref,
           tooltip=lambda v: f"Imported: its trackers call as {v.row.account_legacy_id} (our id {v.row.account_id})"
           if v.row.account_legacy_id else None),
    # Shown once there is more than the local engine (the header's menu shows it any time).
    Column("Engine", width=80, value=lambda v: v.engine_name, hidden=True),
    Column("State", width=88, value=lambda v: v.state_text, foreground=lambda v: _color(STATE_COLORS)(v.state),
           tooltip=lambda v: v.state_tooltip),
    Column("Health", width=68, value=lambda v: "" if v.health == "none" else v.health,
           foreground=lambda v: _color(HEALTH_COLORS)(v.health), tooltip=lambda v: v.live.probe_error or None),
    Column("TikTok live", width=112, value=lambda v: v.while_running(v.live.live_status) or ""),
    Column("Viewers", width=60, value=lambda v: v.while_running(v.live.viewers), align=RIGHT,
           sort=lambda v: v.live.viewers or 0),
    Column("Gifts", width=48, value=lambda v: v.while_running(v.live.gifts), align=RIGHT,
           sort=lambda v: v.live.gifts or 0),
    Column("Diamonds", width=72, value=lambda v: v.while_running(v.live.diamonds), align=RIGHT,
           sort=lambda v: v.live.diamonds or 0),
    Column("Port", width=46, value=lambda v: v.row.port, align=RIGHT),
    Column("Uptime", width=64, value=lambda v: fmt_uptime(v.uptime), align=RIGHT, sort=lambda v: v.uptime or 0),
    Column("CPU", width=58, value=lambda v: v.cpu_text, align=RIGHT, sort=lambda v: v.live.cpu_percent or 0,
           tooltip=lambda v: v.stats_tooltip),
    Column("Memory", width=76, value=lambda v: v.memory_text, align=RIGHT,
           sort=lambda v: v.live.memory_bytes or 0),
    Column("Net I/O", width=148, value=lambda v: v.net_io_text, align=RIGHT, sort=lambda v: v.net_io_rate,
           tooltip=lambda v: v.net_io_tooltip),
    Column("Image", lambda v: v.row.image, stretch=True),
]]


# (key, text, icon in resources/icons)
TOOLBAR = (("new", "New…", "add"), ("start", "Start", "start"), ("stop", "Stop", "stop"),
           ("restart", "Restart", "restart"), ("logs", "Logs…", "logs"), ("stats", "Stats…", "stats"),
           ("edit", "Edit…", "edit"), ("delete", "Delete", "delete"))


class InstancesTab(QWidget):
    message = Signal(str)
    loaded = Signal()

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("instances-tab")
        self._rows: dict[int, InstanceRow] = {}
        self._alerts: dict[int, str] = {}
        self._own_live: dict[int, LiveInstance] = {}
        self._shown: dict[int, InstanceView] = {}  # what the table shows now
        self._uptimes: dict[int, str] = {}
        self._rendered_at = 0.0
        self.dialog = None  # the last dialog opened (tests reach it here)
        self.context_menu: QMenu | None = None  # the last row menu shown (tests reach it here)
        self.bulk_results = None
        self._skipped = ""  # what the last bulk action left out, for its outcome message
        self._viewers: list = []  # logs and stats windows open, in the order they opened
        self.bulk_dialog: QProgressDialog | None = None
        self._tray: QSystemTrayIcon | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        self.banner = QFrame(self)
        self.banner.setObjectName("engine-banner")
        self.banner.setStyleSheet("#engine-banner { background: #fdecea; border: 1px solid #f5c2c0; border-radius: 4px; }"
                                  " #engine-banner QLabel { color: #8a1c1c; }")
        banner_layout = QHBoxLayout(self.banner)
        self.banner_text = QLabel("")
        self.banner_text.setWordWrap(True)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setObjectName("engine-retry")
        banner_layout.addWidget(self.banner_text, 1)
        banner_layout.addWidget(self.retry_button)
        self.banner.hide()
        layout.addWidget(self.banner)

        bar = QHBoxLayout()
        # A tool bar folds what does not fit behind its extension arrow (the window stays narrow).
        self.toolbar = QToolBar(self)
        self.toolbar.setObjectName("instances-toolbar")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toolbar.setIconSize(theme.icon_size(16))
        self.buttons: dict[str, QAction] = {}
        for key, text, icon_name in TOOLBAR:
            action = self.toolbar.addAction(theme.icon(icon_name), text)
            action.setObjectName(f"instances-{key}")
            action.setData(icon_name)  # the main window re-themes actions by this name
            self.buttons[key] = action
        self.more = QToolButton()
        self.more.setText("More")
        self.more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.more)
        self.actions = {}
        for key, text in (("clone", "Clone…"), ("connect", "Connect to TikTok live"),
                          ("disconnect", "Disconnect from TikTok live"), ("recreate", "Recreate container"),
                          ("sync", "Reconcile with the engines…"), ("events", "Event history…")):
            self.actions[key] = menu.addAction(text)
        menu.addSeparator()  # fleet administration: dialogs of their own (giftdesk/gui/fleet/)
        for key, text in (("templates", "Templates…"), ("export", "Export instances…"),
                          ("import", "Import instances…"), ("public_urls", "Public URLs and nginx…")):
            self.actions[key] = menu.addAction(text)
        menu.addSeparator()
        self.actions["engines"] = menu.addAction("Engines…")
        self.actions["engine"] = menu.addAction("Local engine…")
        self.actions["images"] = menu.addAction("Images…")
        self.more.setMenu(menu)
        self.toolbar.addWidget(self.more)
        bar.addWidget(self.toolbar, 1)
        # Which engine's instances to show; offered once there is more than the local engine.
        self.engine_filter = QComboBox()
        self.engine_filter.setObjectName("instances-engine-filter")
        self.engine_filter.setToolTip("Show the instances of one Docker engine")
        self.engine_filter.addItem("All engines", None)
        self.engine_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.engine_filter.hide()
        bar.addWidget(self.engine_filter)
        self.filter = QLineEdit()
        self.filter.setObjectName("instances-filter")
        self.filter.setPlaceholderText("Filter…")
        self.filter.setClearButtonEnabled(True)
        self.filter.setMinimumWidth(100)
        self.filter.setMaximumWidth(240)
        bar.addWidget(self.filter)
        layout.addLayout(bar)

        self.summary = ElidedLabel("")  # however long the figures grow, the window keeps its width
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.summary.setObjectName("fleet-summary")
        self.summary.setProperty("role", "muted")
        layout.addWidget(self.summary)
        self.table = RowTableView(COLUMNS, parent=self, multi_select=True,
                                  empty_text="No tracker instances yet — New… creates one for a TikTok account")
        self.table.setObjectName("instances-table")
        layout.addWidget(self.table, 1)

        self.retry_button.clicked.connect(self.retry)
        self.filter.textChanged.connect(self.table.set_filter_text)
        self.engine_filter.currentIndexChanged.connect(self._engine_chosen)
        self.table.row_activated.connect(lambda _v: self.open_logs())
        self.table.current_changed.connect(lambda _v: self._update_buttons())
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        self.buttons["new"].triggered.connect(self.open_create)
        self.buttons["edit"].triggered.connect(self.open_edit)
        self.buttons["logs"].triggered.connect(self.open_logs)
        self.buttons["stats"].triggered.connect(self.open_stats)
        for action in ("start", "stop", "restart", "delete"):
            self.buttons[action].triggered.connect(lambda _c=False, a=action: self.bulk(a))
        self.actions["clone"].triggered.connect(self.clone)
        self.actions["connect"].triggered.connect(lambda: self.live_command("connect"))
        menu.setToolTipsVisible(True)  # a disabled entry says why
        self.actions["disconnect"].triggered.connect(lambda: self.live_command("disconnect"))
        self.actions["recreate"].triggered.connect(lambda: self.bulk("recreate"))
        self.actions["sync"].triggered.connect(self.open_reconcile)
        self.actions["templates"].triggered.connect(self.open_templates)
        self.actions["export"].triggered.connect(self.export_instances)
        self.actions["import"].triggered.connect(self.open_import)
        self.actions["public_urls"].triggered.connect(self.open_public_urls)
        self.actions["events"].triggered.connect(self.show_events)
        self.actions["engine"].triggered.connect(self.open_engine)
        self.actions["engines"].triggered.connect(self.open_engines)
        self.actions["images"].triggered.connect(self.open_images)

        bridge = ctx.bridge
        bridge.subscribe_batch(InstanceStateChanged, self._on_live_batch, owner=self)
        bridge.subscribe_batch(InstanceProbed, self._on_live_batch, owner=self)
        bridge.subscribe_batch(InstanceStatsSampled, self._on_live_batch, owner=self)
        bridge.subscribe(InstancesChanged, lambda _e: self.reload(), owner=self)
        bridge.subscribe(DatabaseReplaced, lambda _e: self.reload(), owner=self)
        bridge.subscribe(InstanceAlert, self._on_alert, owner=self)
        bridge.subscribe(FleetConnectionChanged, self._on_connection, owner=self)
        bridge.subscribe(DockerStateChanged, self._on_docker, owner=self)
        bridge.subscribe(KeyChanged, self._on_key_changed, owner=self)
        bridge.subscribe(EnginesChanged, lambda _e: self._load_engine_names(), owner=self)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._render)
        self._tick.start()
        # Live events mark the table dirty; one render per RENDER_MS however many events came.
        self._render_soon = QTimer(self)
        self._render_soon.setSingleShot(True)
        self._render_soon.setInterval(RENDER_MS)
        self._render_soon.timeout.connect(self._render)
        self._fit_soon = QTimer(self)
        self._fit_soon.setSingleShot(True)
        self._fit_soon.setInterval(1000)
        self._fit_soon.timeout.connect(self.table.fit_columns)
        self._add_shortcuts()
        self._update_buttons()
        self.reload()
        self._load_engine_names()

    # ---- data ---------------------------------------------------------------------------------
    @property
    def fleet_runtime(self):
        return fleet_of(self.ctx.desk)

    def reload(self) -> None:
        self.ctx.runner.submit(self.ctx.desk.fleet.list, True, owner=self, supersede="instances.list",
                               on_success=self._loaded, on_error=self._load_failed, description="Loading instances…")

    def _load_engine_names(self) -> None:
        engines = self.ctx.desk.fleet.engines
        self.ctx.runner.submit(lambda: [row.name for row in engines.list_engines()], owner=self,
                               supersede="instances.engines", on_success=self._engine_names,
                               description="Listing the Docker engines…")

    def _engine_names(self, names: list[str]) -> None:
        chosen = self.engine_filter.currentData()
        self.engine_filter.blockSignals(True)
        self.engine_filter.clear()
        self.engine_filter.addItem("All engines", None)
        for name in names:
            self.engine_filter.addItem(name, engine_key(name))
        index = self.engine_filter.findData(chosen) if chosen is not None else 0
        self.engine_filter.setCurrentIndex(max(0, index))
        self.engine_filter.blockSignals(False)
        several = len(names) > 1
        self.engine_filter.setVisible(several or index > 0)
        column = next(i for i, c in enumerate(COLUMNS) if c.title == "Engine")
        if several != self.table.column_visible(column):
            self.table.set_column_visible(column, several)
            self.table.fit_columns()
        if index < 0 and chosen is not None:  # the engine shown was removed
            self._engine_chosen()

    def _engine_chosen(self, *_args) -> None:
        key = self.engine_filter.currentData()
        self.table.set_predicate(None if key is None else (lambda v: v.row.engine == key))
        self._update_buttons()

    def retry(self) -> None:
        runtime = getattr(self.ctx.desk, "runtime", None)
        monitor = getattr(runtime, "docker_monitor", None) if runtime is not None else None
        if monitor is not None:
            monitor.probe_now()
        self.banner_text.setText("Trying the Docker engine again…")
        self.reload()

    def _loaded(self, rows: list[InstanceRow]) -> None:
        self._own_live = {r.id: LiveInstance(r.id, r.name, r.stats_container_id, r.state, r.exit_code,
                                             r.last_started_at if r.state == "running" else None, r.engine_health)
                          for r in rows}
        if self.fleet_runtime is None or self.fleet_runtime.live.connection != "reconnecting":
            self.banner.hide()
        self._show_rows(rows)

    def _load_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ServiceUnavailableError):
            self.show_banner(str(exc))
            # The records still show, their state unknown (read off the GUI thread like every list).
            self.ctx.runner.submit(self.ctx.desk.fleet.list, owner=self, supersede="instances.list",
                                   on_success=self._show_rows, description="Loading instances…")
            return
        self.ctx.report(exc)

    def _show_rows(self, rows: list[InstanceRow]) -> None:
        self._rows = {r.id: r for r in rows}
        self._render()
        self.loaded.emit()

    def show_banner(self, text: str) -> None:
        self.banner_text.setText(f"The Docker engine cannot be reached: {text}\nEvery other tab keeps working; "
                                 "set the Docker host in File → Settings, then Retry.")
        self.banner.show()

    def views(self) -> list[InstanceView]:
        runtime = self.fleet_runtime
        live = runtime.live.all() if runtime is not None else {}
        engines = self.ctx.desk.fleet.engines
        return [InstanceView(row, live.get(row.id) or self._own_live.get(row.id) or LiveInstance(row.id),
                             self._alerts.get(row.id, ""), engines.unreachable_since(row.engine) if row.engine else None)
                for row in self._rows.values()]

    def _render(self) -> None:
        self._rendered_at = time.monotonic()
        views = self.views()
        shown = self._shown
        if set(shown) == {v.id for v in views}:
            # Same rows: hand over only the rows whose state, figures or uptime text changed.
            changed = [v for v in views if shown.get(v.id) != v or fmt_uptime(v.uptime) != self._uptimes.get(v.id)]
            if changed:
                self.table.upsert_rows(changed)
                if not self._fit_soon.isActive():
                    self._fit_soon.start()  # figures change widths: refit now and then, not per frame
        else:
            self.table.set_rows(views)
            self.table.fit_columns()
        self._shown = {v.id: v for v in views}
        self._update_buttons()  # a started or stopped instance changes what applies
        self._uptimes = {v.id: fmt_uptime(v.uptime) for v in views}
        self.summary.setText(fleet_summary(views))

    def _on_live_batch(self, events) -> None:
        if any(e.instance_id not in self._rows for e in events if getattr(e, "state", "") != "removed"):
            self.reload()
        # The first change after a quiet spell renders at once; a burst, once per RENDER_MS, but a
        # state change does not queue behind the stats figures that stream while the tab shows.
        interval = STATE_RENDER_MS if any(isinstance(e, InstanceStateChanged) for e in events) else RENDER_MS
        wait_ms = interval - (time.monotonic() - self._rendered_at) * 1000
        if wait_ms <= 0:
            self._render_soon.stop()
            self._render()
        elif not self._render_soon.isActive() or self._render_soon.remainingTime() > wait_ms:
            self._render_soon.start(max(1, int(wait_ms)))

    def _on_alert(self, event: InstanceAlert) -> None:
        self._alerts[event.instance_id] = event.message
        self.message.emit(f"{event.name}: {event.message}")
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self._tray is None:
                self._tray = QSystemTrayIcon(theme.app_icon(), self)
                self._tray.show()
            icon = (QSystemTrayIcon.MessageIcon.Critical if event.level == "error"
                    else QSystemTrayIcon.MessageIcon.Warning)
            self._tray.showMessage(f"Tracker {event.name}", event.message, icon, 8000)
        self._render()

    def _on_connection(self, event: FleetConnectionChanged) -> None:
        if event.state == "reconnecting":
            self.show_banner("its event stream ended (restarted?); reconnecting…")
            self.message.emit("Docker engine: event stream ended; reconnecting…")
        elif event.state == "connected":
            self.banner.hide()
            self.message.emit(f"Docker engine: {event.detail}")
            self.reload()

    def _on_docker(self, event) -> None:
        state = event.state
        if state.reachable is False:
            self.show_banner(state.error or "no answer")
        elif state.reachable and self.banner.isVisible():
            self.banner.hide()
            self.reload()

    def _on_key_changed(self, event: KeyChanged) -> None:
        if not event.replaces_key:
            return
        affected = [r for r in self._rows.values() if r.account_id == event.account_id]
        if not affected or event.action == "deleted":
            return
        names = ", ".join(r.name for r in affected)
        verb = "regenerated" if event.action == "regenerated" else "deactivated"
        if event.action == "deactivated":
            self.message.emit(f"The API key of {names} was deactivated; the tracker can no longer reach the console.")
            return
        if Prompts.confirm(self, "API key changed", f"The API key used by {names} was {verb}. Recreate the "
                           "tracker(s) now with the new key?", confirm_text="Recreate"):
            self._run_bulk("recreate", [r.id for r in affected])

    def button(self, key: str):
        """The tool bar's button of an action (tests click it)."""
        return self.toolbar.widgetForAction(self.buttons[key])

    # ---- selection and buttons ------------------------------------------------------------------
    def selected(self) -> list[InstanceView]:
        return self.table.selected_rows()

    # Keys a person reaches for in a container list; they act on the selection, as the buttons do.
    SHORTCUTS = {"new": "Ctrl+N", "start": "Ctrl+Shift+S", "stop": "Ctrl+Shift+X", "restart": "Ctrl+Shift+R",
                 "logs": "Ctrl+L", "edit": "F2", "delete": "Del"}

    def _add_shortcuts(self) -> None:
        for key, sequence in self.SHORTCUTS.items():
            action = self.buttons[key]
            action.setShortcut(QKeySequence(sequence))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setToolTip(f"{action.text().rstrip('…')} "
                              f"({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})")
            self.addAction(action)  # the toolbar may fold a button away; its key still works
        reload = QAction("Refresh", self)
        reload.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        reload.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        reload.triggered.connect(self.reload)
        find = QAction("Filter", self)
        find.setShortcut(QKeySequence(QKeySequence.StandardKey.Find))
        find.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.triggered.connect(lambda: (self.filter.setFocus(), self.filter.selectAll()))
        self.addActions([reload, find])
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)

    def context_menu_actions(self) -> list[QAction | None]:
        """What a right-click on a row offers (None: a separator); the same actions as the bar's."""
        b, a = self.buttons, self.actions
        return [b["start"], b["stop"], b["restart"], None, b["logs"], b["stats"], a["events"], None,
                b["edit"], a["clone"], a["recreate"], None, a["connect"], a["disconnect"], None, b["delete"]]

    def _context_menu(self, pos) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        row = self.table.source.row_at(index.row())
        if row is not None and row not in self.selected():
            self.table.select_key(row.id)  # a right-click on an unselected row acts on that row
        menu = QMenu(self)
        menu.setToolTipsVisible(True)  # a disabled entry says why
        for action in self.context_menu_actions():
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.context_menu = menu
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def applicable(self) -> dict:
        """Which actions apply to the selection now (the rules: ``giftdesk.fleet.actions``)."""
        targets = [Target(v.id, v.row.name, v.state) for v in self.selected()]
        return instance_actions(targets, may_operate=self.ctx.can_edit)

    def _update_buttons(self) -> None:
        count = len(self.selected())
        can = self.ctx.can_edit
        applies = self.applicable()
        self.buttons["new"].setEnabled(can)
        for key in ("start", "stop", "restart", "delete"):
            self._set_applicable(self.buttons[key], applies[key])
        for key in ("edit", "logs", "stats"):
            self.buttons[key].setEnabled(count == 1 and (key != "edit" or can))
        for key in ("recreate", "connect", "disconnect"):
            self._set_applicable(self.actions[key], applies[key])
        self.actions["clone"].setEnabled(can and count == 1)
        self.actions["events"].setEnabled(count == 1)

    def _set_applicable(self, action: QAction, applies) -> None:
        """Enabled when the action applies to some selected instance; the tool tip says to which, or why not."""
        base = action.property("base_tooltip")
        if base is None:
            base = action.toolTip() or action.text().rstrip("…")
            action.setProperty("base_tooltip", base)
        action.setEnabled(applies.enabled)
        if not applies.enabled:
            action.setToolTip(applies.reason)
        elif applies.skipped:
            action.setToolTip(f"{base}: {len(applies.applies)} of {len(applies.applies) + len(applies.skipped)} "
                              f"selected; {applies.skipped_text()}")
        else:
            action.setToolTip(base)

    # ---- actions ----------------------------------------------------------------------------
    def open_create(self) -> None:
        from giftdesk.gui.fleet.instance_edit import InstanceDialog

        self.dialog = InstanceDialog(self.ctx, parent=self)
        self.dialog.saved.connect(lambda row: (self.message.emit(f"Created {row.name} on port {row.port}"), self.reload()))
        self.dialog.open()

    def open_edit(self) -> None:
        from giftdesk.gui.fleet.instance_edit import InstanceDialog

        views = self.selected()
        if len(views) != 1:
            return
        self.dialog = InstanceDialog(self.ctx, views[0].row, parent=self)
        self.dialog.saved.connect(lambda row: (self.message.emit(f"Saved {row.name}"), self.reload()))
        self.dialog.open()

    def open_logs(self) -> None:
        from giftdesk.gui.fleet.instance_logs import LogViewer

        views = self.selected()
        if len(views) != 1:
            return
        self.dialog = LogViewer(self.ctx, views[0].row, parent=self)
        self._show_viewer(self.dialog)

    def open_stats(self) -> None:
        from giftdesk.gui.fleet.instance_stats import StatsDialog

        views = self.selected()
        if len(views) != 1:
            return
        runtime = self.fleet_runtime
        self.dialog = StatsDialog(self.ctx, views[0].row, runtime.live if runtime else None, parent=self)
        self._show_viewer(self.dialog)

    CASCADE = 36  # px right and down from the last viewer still open

    def _show_viewer(self, dialog) -> None:
        """Logs and stats windows: a Close button (Esc closes a dialog too), and each new one cascaded
        from the last one still open, so none opens exactly over another."""
        import shiboken6

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
        buttons.setObjectName("viewer-buttons")
        buttons.rejected.connect(dialog.reject)
        dialog.layout().addWidget(buttons)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._viewers = [w for w in self._viewers if shiboken6.isValid(w) and w.isVisible()]
        if self._viewers:
            taken = {(w.x(), w.y()) for w in self._viewers}
            at = self._viewers[-1].pos()
            while (at.x(), at.y()) in taken:
                at += QPoint(self.CASCADE, self.CASCADE)
            dialog.move(at)
        self._viewers.append(dialog)
        dialog.show()

    def bulk(self, action: str) -> None:
        applies = self.applicable().get(action)
        if applies is None or not applies.enabled:
            return
        views = [v for v in self.selected() if v.id in set(applies.ids)]
        if action == "delete" and not Prompts.confirm(
                self, "Delete instances", fleet_operations.DELETE.confirmation(
                    count=len(views), names=", ".join(v.row.name for v in views[:5]) + ("…" if len(views) > 5 else "")),
                destructive=True):
            return
        self._skipped = applies.skipped_text()
        self._run_bulk(action, applies.ids)

    def _run_bulk(self, action: str, ids: list[int]) -> None:
        if len(ids) == 1 and action != "delete":
            instance_id = ids[0]
            fleet = self.ctx.desk.fleet
            self.ctx.runner.run(instance_operation(action), lambda: fleet.bulk(action, [instance_id]), owner=self,
                                target=instance_id, on_success=self._bulk_done)
            return
        cancel = threading.Event()
        dialog = QProgressDialog(f"{action.title()} {counted(len(ids), 'instance')}…", "Cancel", 0, len(ids), self)
        dialog.setObjectName("bulk-progress")
        dialog.setWindowTitle(f"{action.title()} instances")
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(cancel.set)
        dialog.show()
        self.bulk_dialog = dialog
        fleet = self.ctx.desk.fleet

        def run(job):
            return fleet.bulk(action, ids, cancel=cancel,
                              on_result=lambda result, done, total: job.progress(done, total, result.name))

        def progress(job) -> None:
            if dialog.isVisible() and job.done_count is not None:
                dialog.setValue(job.done_count)
                dialog.setLabelText(f"{action.title()}: {job.done_count}/{job.total} ({job.message})")

        def finished(results) -> None:
            dialog.setValue(len(ids))
            dialog.close()
            self._bulk_done(results)

        self.ctx.runner.submit(run, owner=self, on_success=finished, on_progress=progress,
                               on_error=lambda exc: (dialog.close(), self.ctx.report(exc)),
                               description=f"{action.title()} {counted(len(ids), 'instance')}…")

    def _bulk_done(self, results) -> None:
        self.bulk_results = results
        failed = [r for r in results if r.outcome == "failed"]
        cancelled = [r for r in results if r.outcome == "cancelled"]
        ok = len(results) - len(failed) - len(cancelled)
        text = f"{ok} done"
        if cancelled:
            text += f", {len(cancelled)} cancelled"
        if self._skipped:
            text += f", {self._skipped}"
            self._skipped = ""
        if failed:
            text += f", {len(failed)} failed: " + "; ".join(f"{r.where}: {r.message}" for r in failed[:3])
        self.message.emit(text)
        if failed:
            Prompts.info(self, "Some instances failed", "\n".join(f"{r.where}: {r.message}" for r in failed))
        self.reload()

    def clone(self) -> None:
        views = self.selected()
        if len(views) != 1:
            return
        name = Prompts.text(self, "Clone instance", "Name of the copy:", f"{views[0].row.name}-copy")
        if not name:
            return
        self.ctx.runner.run(fleet_operations.CLONE, self.ctx.desk.fleet.clone, views[0].id, name, owner=self,
                            on_success=lambda row: self.message.emit(f"Cloned into {row.name}"))

    def live_command(self, command: str) -> None:
        ids = set(self.applicable()[command].ids)
        for view in [v for v in self.selected() if v.id in ids]:
            self.ctx.runner.run(instance_operation(command), self.ctx.desk.fleet.live_command, view.id, command,
                                owner=self, target=view.id,
                                on_success=lambda answer, n=view.row.name: self.message.emit(
                                    f"{n}: {answer.get('liveStatus', 'done')}"))

    # ---- fleet administration: reconcile, templates, export/import, public URLs ------------------
    def _open_admin(self, dialog) -> None:
        self.dialog = dialog
        changed = getattr(dialog, "changed", None) or getattr(dialog, "imported", None)
        if changed is not None:
            changed.connect(lambda *_a: self.reload())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    def open_reconcile(self) -> None:
        from giftdesk.gui.fleet.reconcile import ReconcileDialog

        self._open_admin(ReconcileDialog(self.ctx, parent=self))

    def open_templates(self) -> None:
        from giftdesk.gui.fleet.templates import TemplatesDialog

        self._open_admin(TemplatesDialog(self.ctx, parent=self))

    def open_import(self) -> None:
        from giftdesk.gui.fleet.import_dialog import ImportDialog

        self._open_admin(ImportDialog(self.ctx, parent=self))

    def open_public_urls(self) -> None:
        from giftdesk.gui.fleet.nginx import PublicUrlsDialog

        self._open_admin(PublicUrlsDialog(self.ctx, parent=self))

    def ask_save_path(self, title: str, suggested: str) -> str | None:
        """Where to write the export (tests replace this; a person picks in the file dialog)."""
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(self, title, suggested, "GiftDesk exports (*.json)")
        return path or None

    def export_instances(self) -> None:
        from giftdesk.fleet.portability import save_export

        path = self.ask_save_path("Export instances", f"giftdesk-instances-{datetime.now():%Y%m%d-%H%M}.json")
        if not path:
            return
        fleet = self.ctx.desk.fleet
        self.ctx.runner.submit(lambda: save_export(fleet, path), owner=self, description="Exporting instances…",
                               on_success=lambda data: self.message.emit(
                                   f"Exported {len(data['instances'])} instance(s) and {len(data['templates'])} "
                                   f"template(s) to {path} (no keys, no passwords)"))

    def show_events(self) -> None:
        views = self.selected()
        if len(views) != 1:
            return

        def show(events) -> None:
            lines = [f"{e.created_at.astimezone():%Y-%m-%d %H:%M:%S}  {e.level:<7}  {e.message}" for e in events]
            Prompts.info(self, f"Events of {views[0].row.name}", "\n".join(lines) or "No events yet.")

        self.ctx.runner.submit(self.ctx.desk.fleet.events, views[0].id, owner=self, on_success=show,
                               description="Loading events…")

    def open_engine(self) -> None:
        from giftdesk.gui.fleet.engine_panel import EnginePanel

        self.dialog = EnginePanel(self.ctx, parent=self)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog.show()

    def open_engines(self) -> None:
        from giftdesk.gui.fleet.engines import EnginesDialog

        self._open_admin(EnginesDialog(self.ctx, parent=self))
        self.dialog.changed.connect(self._load_engine_names)

    def open_images(self) -> None:
        from giftdesk.gui.fleet.images import ImagesDialog

        self.dialog = ImagesDialog(self.ctx, parent=self)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog.show()

    # ---- stats only while shown ------------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(event)
        QTimer.singleShot(0, self, self.table.fit_columns)  # after the layout gave the table its width

    def showEvent(self, event) -> None:  # noqa: N802 (Qt)
        super().showEvent(event)
        runtime = self.fleet_runtime
        if runtime is not None:
            runtime.live.want_stats(self)
            runtime.wake_stats()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt)
        runtime = self.fleet_runtime
        if runtime is not None:
            runtime.live.release_stats(self)
        super().hideEvent(event)


def replace_view(view: InstanceView, **changes) -> InstanceView:
    return replace(view, **changes)
