"""The main window: five tabs, the menus, the status bar and the background monitors.

Window geometry, the current tab and splitter positions are kept in ``window.ini`` inside the
data directory (not the user's global Qt settings), so each data directory remembers its own
layout and tests never touch the user's configuration.

A tab is built when it is first shown (or first reached, ``window.orders_tab``): until then its
page is an empty placeholder, its module is not imported and it submits no work. Everything that
goes over the tabs (state, reloads, shutdown) goes over the built ones (``tab_widgets``).
"""

from __future__ import annotations

import importlib
import logging
import platform
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QTimer, QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QTabWidget, QWidget

import giftdesk
from giftdesk.core.errors import ValidationError
from giftdesk.gui import theme
from giftdesk.gui.errors import ErrorRoute
from giftdesk.gui.prompts import Prompts
from giftdesk.gui.runtime_view import RuntimeView
from giftdesk.gui.status_bar import StatusBar
from giftdesk.gui.tray import AlertNotification, BackupFailureWarning, CompanyRequestNotice, TrayNotifier

log = logging.getLogger(__name__)

# (icon, title) in the order the tabs appear.
TABS = [
    ("instances", "Instances"),
    ("keys", "API Keys"),
    ("customers", "Customer Accounts"),
    ("stats", "Social Stats"),
    ("orders", "Fampage Orders"),
]
# Each tab's class ("module:Class"), built on first show; same order as TABS.
TAB_CLASSES = [
    "giftdesk.gui.fleet.instances_tab:InstancesTab",
    "giftdesk.gui.accounts.api_keys_tab:ApiKeysTab",
    "giftdesk.gui.accounts.customers_tab:CustomersTab",
    "giftdesk.gui.social.stats_tab:SocialStatsTab",
    "giftdesk.gui.fampage.orders_tab:FampageOrdersTab",
]
CUSTOMERS = TABS.index(("customers", "Customer Accounts"))
BACKGROUND_LATEST_MS = 2000  # the background runtime starts at the latest this long after the window is made
DEFAULT_SIZE = (1280, 800)
SETTINGS_FILE = "window.ini"


def window_settings(root: Path) -> QSettings:
    return QSettings(str(Path(root) / SETTINGS_FILE), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    logout_requested = Signal()
    closed = Signal()

    def __init__(self, ctx, background: bool = True, parent: QWidget | None = None):
        """``background``: ping Docker and run the tracker endpoint (off in tests and the self-test)."""
        super().__init__(parent)
        self.ctx = ctx
        desk = ctx.desk
        self._shut_down = False
        self.dialog = None  # the last dialog opened from the menus (tests reach it here)
        self.settings = window_settings(desk.paths.root)
        actor = desk.actor
        # Qt appends the application display name ("… — GiftDesk"); the title names only the user.
        self.setWindowTitle(f"{actor.username} ({actor.role})")
        self.setWindowIcon(theme.app_icon())
        self.setObjectName("main-window")
        ErrorRoute.parent = self

        # ---- tabs (placeholders; each is built when first shown) --------------------------------
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("main-tabs")
        self.tabs.setDocumentMode(True)
        self._built: dict[int, QWidget] = {}
        for icon_name, title in TABS:
            placeholder = QWidget()
            placeholder.setObjectName("unbuilt-tab")
            self.tabs.addTab(placeholder, theme.icon(icon_name), title)
        self.setCentralWidget(self.tabs)

        # ---- status bar and monitors -----------------------------------------------------
        self.status = StatusBar(ctx, self)
        self.setStatusBar(self.status)
        # Tray notices for what happens in the background, to the roles that can act on it.
        self.notifier = TrayNotifier(self.show_message, self)
        self.backup_warning = BackupFailureWarning(ctx.bridge, self.notifier, self) if actor.can("admin") else None
        self.company_requests = (CompanyRequestNotice(ctx.bridge, self.notifier, self) if actor.can("operator")
                                 else None)
        self.alert_notification = AlertNotification(ctx.bridge, self.notifier, self)
        self.runtime_view: RuntimeView | None = None
        self.hand_over_on_close = False  # the console sets it: closing hands the runtime to a detached serve
        self._background_pending = background
        self._waiting_for_idle = False
        if background:
            # After the first paint, once the shown tab's first loads are in: the Docker SDK
            # import and the server start would otherwise compete with them for the GIL. At the
            # latest BACKGROUND_LATEST_MS after this, whatever is still loading.
            QTimer.singleShot(BACKGROUND_LATEST_MS, self._start_background_at_the_latest)

        self._build_menus()
        theme.on_theme_changed(self._retheme)
        self.restore_state()  # builds the current tab
        self.tabs.currentChanged.connect(self._tab_shown)

    # ---- construction ----------------------------------------------------------------------
    def _action(self, text: str, slot, icon_name: str | None = None, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if icon_name:
            action.setIcon(theme.icon(icon_name))
            action.setData(icon_name)
        if shortcut is not None:
            action.setShortcut(shortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_menus(self) -> None:
        desk = self.ctx.desk
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.backup_action = self._action("&Backup database…", self.backup_database, "backup",
                                          tip="Save a consistent copy of the database")
        if desk.db.sqlite_path is None:
            self.backup_action.setEnabled(False)
            self.backup_action.setToolTip("The database is on a server; back it up with the server's tools (pg_dump)")
        elif not desk.actor.can("admin"):
            self.backup_action.setEnabled(False)
            self.backup_action.setToolTip("Only administrators with the admin role can back up the database")
        self.restore_action = self._action(
            "&Restore database…", self.restore_database,
            tip="Replace the database with a backup; the current one is kept in backups/")
        if desk.db.sqlite_path is None:
            self.restore_action.setEnabled(False)
            self.restore_action.setToolTip(
                "The database is on a server; restore it with the server's tools (pg_restore)")
        elif not desk.actor.can("admin"):
            self.restore_action.setEnabled(False)
            self.restore_action.setToolTip("Only administrators with the admin role can restore the database")
        self.audit_action = self._action("&Audit log…", self.open_audit_log, tip="Who changed what, and when")
        self.alerts_action = self._action("A&lerts…", self.open_alerts,
                                          tip="What the alert rules raised: acknowledge or snooze them")
        self.move_in_action = self._action("&Move in…", self.open_move_in,
                                           tip="Bring over the instance manager's trackers, the tracker backend's "
                                               "data, the orders backend and HyperBuds profiles; no tracker restarts")
        self.engines_action = self._action("Docker &engines…", self.open_engines,
                                           tip="The Docker engines trackers run on: add, test, edit, remove")
        self.settings_action = self._action("&Settings…", self.open_settings, "settings",
                                            QKeySequence.StandardKey.Preferences)
        if self.settings_action.shortcut().isEmpty():
            self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.quit_action = self._action("&Quit", self.close, "quit", QKeySequence.StandardKey.Quit)
        file_menu.addAction(self.backup_action)
        file_menu.addAction(self.restore_action)
        file_menu.addSeparator()
        file_menu.addAction(self.audit_action)
        file_menu.addAction(self.alerts_action)
        file_menu.addAction(self.move_in_action)
        file_menu.addAction(self.engines_action)
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        account_menu = bar.addMenu("&Account")
        who = QAction(f"Logged in as {desk.actor.username} ({desk.actor.role})", self)
        who.setEnabled(False)
        account_menu.addAction(who)
        account_menu.addSeparator()
        self.password_action = self._action("&Change password…", self.change_password, "password")
        self.admins_action = self._action("&Administrators…", self.open_administrators, "user",
                                          tip="Who can log in, and with which role")
        self.logout_action = self._action("&Log out", self.log_out, "logout")
        account_menu.addAction(self.password_action)
        account_menu.addAction(self.admins_action)
        account_menu.addAction(self.logout_action)

        help_menu = bar.addMenu("&Help")
        self.about_action = self._action("&About GiftDesk", self.show_about, "info")
        self.open_data_action = self._action("Open &data folder", self.open_data_folder, "folder")
        self.open_log_action = self._action("Open &log file", self.open_log_file)
        help_menu.addAction(self.open_data_action)
        help_menu.addAction(self.open_log_action)
        help_menu.addSeparator()
        help_menu.addAction(self.about_action)

    def _retheme(self) -> None:
        for index, (icon_name, _title) in enumerate(TABS):
            self.tabs.setTabIcon(index, theme.icon(icon_name))
        for action in self.findChildren(QAction):
            name = action.data()
            if isinstance(name, str) and name:
                action.setIcon(theme.icon(name))
        self.setWindowIcon(theme.app_icon())

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self._background_pending:  # the first paint
            self._background_pending = False
            self._waiting_for_idle = True
            self.ctx.runner.busy_changed.connect(self._start_background_if_idle)
            QTimer.singleShot(0, self._start_background_if_idle)

    def _start_background_if_idle(self, *_busy) -> None:
        # Looked at again once the event in hand is handled: the runner says "idle" just before
        # it hands a result over, and showing it may ask for more (the selected customer's detail).
        if self.ctx.runner.running == 0:
            QTimer.singleShot(0, self._start_background_if_still_idle)

    def _start_background_if_still_idle(self) -> None:
        if self.ctx.runner.running == 0:
            self.start_background()

    def _start_background_at_the_latest(self) -> None:
        self.start_background()

    def start_background(self) -> None:
        """The background runtime: endpoint, Docker monitor, schedules and features, on their own threads."""
        self._background_pending = False
        if self._waiting_for_idle:
            self._waiting_for_idle = False
            self.ctx.runner.busy_changed.disconnect(self._start_background_if_idle)
        if self.runtime_view is None and not self._shut_down:
            self.runtime_view = RuntimeView(self.ctx, parent=self)
            self.runtime_view.docker_changed.connect(self.status.set_docker_state)
            self.runtime_view.endpoint_changed.connect(self.status.set_endpoint_state)
            self.runtime_view.status_changed.connect(self.status.set_service_status)
            self.runtime_view.start()
            self.status.set_endpoint_state(self.runtime_view.status("endpoint"))

    # ---- tabs ------------------------------------------------------------------------------
    def tab_titles(self) -> list[str]:
        return [self.tabs.tabText(i) for i in range(self.tabs.count())]

    def tab_widgets(self) -> list[QWidget]:
        """The tabs built so far, in tab order (a tab never shown is not built)."""
        return [self._built[i] for i in sorted(self._built)]

    def tab(self, index: int) -> QWidget:
        """The tab at ``index``, built now if it was not yet (it then takes its placeholder's page)."""
        widget = self._built.get(index)
        if widget is not None:
            return widget
        module_name, _, class_name = TAB_CLASSES[index].partition(":")
        widget = getattr(importlib.import_module(module_name), class_name)(self.ctx, self)
        self._built[index] = widget
        icon_name, title = TABS[index]
        placeholder = self.tabs.widget(index)
        current = self.tabs.currentIndex()
        blocked = self.tabs.blockSignals(True)  # the swap is not a change of tab
        try:
            self.tabs.removeTab(index)
            self.tabs.insertTab(index, widget, theme.icon(icon_name), title)
            self.tabs.setCurrentIndex(current)
        finally:
            self.tabs.blockSignals(blocked)
        placeholder.deleteLater()
        message = getattr(widget, "message", None)
        if message is not None and hasattr(message, "connect"):
            message.connect(self.show_message)
        self._restore_tab(widget)
        if self._shut_down:  # reached after the window closed: nothing it started may outlive it
            self._stop_tab(widget)
        return widget

    def _tab_shown(self, index: int) -> None:
        if index >= 0 and not self._shut_down:
            self.tab(index)

    instances_tab = property(lambda self: self.tab(0), doc="The Instances tab (built on first access).")
    api_keys_tab = property(lambda self: self.tab(1), doc="The API Keys tab (built on first access).")
    customers_tab = property(lambda self: self.tab(2), doc="The Customer Accounts tab (built on first access).")
    stats_tab = property(lambda self: self.tab(3), doc="The Social Stats tab (built on first access).")
    orders_tab = property(lambda self: self.tab(4), doc="The Fampage Orders tab (built on first access).")

    def show_tab(self, title: str) -> None:
        self.tabs.setCurrentIndex(self.tab_titles().index(title))

    def show_message(self, text: str) -> None:
        self.status.showMessage(text, 6000)

    # ---- actions ---------------------------------------------------------------------------
    def open_settings(self):
        from giftdesk.gui.system.settings import SettingsDialog

        dialog = SettingsDialog(self.ctx, self)
        dialog.accepted.connect(lambda: self.show_message("Settings saved."))
        return self._open(dialog)

    def change_password(self):
        from giftdesk.gui.system.change_password import ChangePasswordDialog

        dialog = ChangePasswordDialog(self.ctx, self)
        dialog.accepted.connect(lambda: self.show_message("Password changed."))
        return self._open(dialog)

    def open_administrators(self):
        from giftdesk.gui.system.administrators import AdministratorsDialog

        return self._open(AdministratorsDialog(self.ctx, self))

    def open_audit_log(self):
        from giftdesk.gui.system.audit_log import AuditLogDialog

        return self._open(AuditLogDialog(self.ctx, self))

    def open_alerts(self):
        from giftdesk.gui.alerts.alert_list import AlertsDialog

        return self._open(AlertsDialog(self.ctx, self))

    def open_move_in(self):
        from giftdesk.gui.move_in.dialog import MoveInDialog

        return self._open(MoveInDialog(self.ctx, self))

    def open_engines(self):
        from giftdesk.gui.fleet.engines import EnginesDialog

        return self._open(EnginesDialog(self.ctx, self))

    def _open(self, dialog):
        """Window-modal without a nested event loop (safe under qasync); deleted when closed."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.open()
        return dialog

    def backup_database(self, target: str | Path | None = None) -> None:
        """With ``target`` None, asks where (a non-blocking file dialog), then copies in the runner."""
        source = self.ctx.desk.db.sqlite_path
        if source is None:
            ErrorRoute.report(ValidationError(
                "This console uses a database server; back it up with the server's own tools (pg_dump)."))
            return
        if target is None:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            suggested = self.ctx.desk.paths.backups / f"giftdesk-{stamp}.db"
            dialog = QFileDialog(self, "Back up the database", str(suggested), "SQLite database (*.db)")
            dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dialog.setDefaultSuffix("db")
            dialog.fileSelected.connect(lambda path: self.backup_database(path))
            self._open(dialog)
            return
        self.ctx.runner.submit(self.ctx.desk.backups.create, target, owner=self,
                               on_success=lambda path: self.show_message(f"Database backed up to {path}"),
                               description="Backing up the database…")

    def restore_database(self, path: str | Path | None = None) -> None:
        """With ``path`` None, asks for the backup (a non-blocking file dialog). Then, in the runner: the
        file is checked (refusals go to the error route), the user confirms, the backup replaces the
        database (the current one is kept in backups/) and every tab and the endpoint reload."""
        desk = self.ctx.desk
        if desk.db.sqlite_path is None:
            ErrorRoute.report(ValidationError(
                "This console uses a database server; restore it with the server's own tools (pg_restore)."))
            return
        if path is None:
            dialog = QFileDialog(self, "Restore the database from a backup", str(desk.paths.backups),
                                 "SQLite database (*.db *.sqlite *.sqlite3);;All files (*)")
            dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
            dialog.fileSelected.connect(lambda chosen: self.restore_database(chosen))
            self._open(dialog)
            return

        def confirm(checked: Path) -> None:
            if not Prompts.confirm(
                self, "Restore database",
                f"Replace the current database with {checked}?\n\nEverything changed since that backup is "
                f"replaced. The current database is kept in {desk.paths.backups}.",
                destructive=True, confirm_text="Restore",
            ):
                return
            self.ctx.runner.submit(desk.backups.restore, checked, on_success=restored,
                                   owner=self, description="Restoring the database…")

        def restored(kept: Path) -> None:
            self.reload_tabs()
            self.show_message(f"Database restored from {Path(path).name}.")
            Prompts.info(self, "Database restored",
                         f"The database was restored from {path}.\n\nThe previous database is kept at {kept}.")

        self.ctx.runner.submit(desk.backups.check, path, on_success=confirm,
                               owner=self, description="Checking the backup…")

    def reload_tabs(self) -> None:
        """Every built tab loads its data again (after a restore); the others load theirs when built."""
        for tab in self.tab_widgets():
            for name in ("reload", "refresh"):
                method = getattr(tab, name, None)
                if callable(method):
                    method()
                    break
        dashboard = getattr(self._built.get(CUSTOMERS), "dashboard", None)
        if dashboard is not None and callable(getattr(dashboard, "reload", None)):
            dashboard.reload()

    def show_about(self) -> QMessageBox:
        import PySide6
        from PySide6.QtCore import qVersion

        desk = self.ctx.desk
        rows = [
            ("GiftDesk", giftdesk.__version__),
            ("Python", f"{platform.python_version()} ({platform.platform(terse=True)})"),
            ("PySide6 / Qt", f"{PySide6.__version__} / {qVersion()}"),
            ("Database", desk.db.display_name),
            ("Secrets", desk.secrets.backend_name),
            ("Data folder", str(desk.paths.root)),
        ]
        table = "".join(f"<tr><td style='padding-right:12px'><b>{k}</b></td><td>{_escape(v)}</td></tr>" for k, v in rows)
        box = QMessageBox(self)
        box.setWindowTitle("About GiftDesk")
        box.setIconPixmap(theme.app_icon().pixmap(64, 64))
        box.setText(f"<h3>GiftDesk {giftdesk.__version__}</h3>"
                    "Desktop console for gift-tracker fleets, creator social stats and Fampage orders.")
        box.setInformativeText(f"<table>{table}</table>")
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        return self._open(box)

    def open_data_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.ctx.desk.paths.root)))

    def open_log_file(self) -> None:
        logfile = self.ctx.desk.paths.logs / "giftdesk.log"
        target = logfile if logfile.exists() else self.ctx.desk.paths.logs
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(target)))

    def log_out(self) -> None:
        self.hand_over_on_close = False  # the next login's window runs the runtime again
        self.logout_requested.emit()
        self.close()

    # ---- state -----------------------------------------------------------------------------
    def restore_state(self) -> None:
        s = self.settings
        geometry = s.value("main/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(*DEFAULT_SIZE)
        state = s.value("main/state")
        if state is not None:
            self.restoreState(state)
        try:
            index = int(s.value("main/tab", CUSTOMERS))
        except (TypeError, ValueError):
            index = CUSTOMERS
        if not 0 <= index < self.tabs.count():
            index = CUSTOMERS
        built = self.tab_widgets()
        self.tabs.setCurrentIndex(index)
        self.tab(index)  # restores its own state as it is built
        for tab in built:
            self._restore_tab(tab)

    def _restore_tab(self, tab: QWidget) -> None:
        restore = getattr(tab, "restore_state", None)
        if callable(restore):
            try:
                restore(self.settings)
            except Exception:
                log.exception("Restoring the state of %s failed", type(tab).__name__)

    def save_state(self) -> None:
        s = self.settings
        s.setValue("main/geometry", self.saveGeometry())
        s.setValue("main/state", self.saveState())
        s.setValue("main/tab", self.tabs.currentIndex())
        for tab in self.tab_widgets():
            save = getattr(tab, "save_state", None)
            if callable(save):
                try:
                    save(s)
                except Exception:
                    log.exception("Saving the state of %s failed", type(tab).__name__)
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.shutdown()
        super().closeEvent(event)
        self.closed.emit()

    def shutdown(self) -> None:
        """Stops monitors and the endpoint (flushing last-access times). Idempotent; before the Desk closes."""
        if self._shut_down:
            return
        self._shut_down = True
        theme.remove_theme_listener(self._retheme)
        if self.runtime_view is not None:
            self.runtime_view.stop(hand_over=self.hand_over_on_close)
        for tab in self.tab_widgets():
            self._stop_tab(tab)
        if ErrorRoute.parent is self:
            ErrorRoute.parent = None
        # Nothing in this window reacts to domain events any more (the runner is about to close).
        self.ctx.bridge.close()

    @staticmethod
    def _stop_tab(tab: QWidget) -> None:
        stop = getattr(tab, "shutdown", None)
        if callable(stop):
            try:
                stop()
            except Exception:
                log.exception("Shutting down %s failed", type(tab).__name__)


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
