"""API Keys tab: every tracker credential, with show/copy, regenerate, (de)activate and URL editing.

All service calls go through the job runner. Revealed keys stay in the model only while shown
(``REVEAL_SECONDS``, or until the tab is hidden); a copied key is wiped from the clipboard after
``CLIPBOARD_CLEAR_SECONDS`` if the clipboard still holds it. Last-access times follow
``KeysAccessed`` events in place and the relative texts tick every few seconds.
"""

from __future__ import annotations

import itertools
from typing import Any

from PySide6.QtCore import SIGNAL, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from giftdesk.gui import theme
from giftdesk.gui.prompts import Prompts
from giftdesk.gui.accounts.key_table_model import (
    CLIPBOARD_CLEAR_SECONDS,
    REVEAL_SECONDS,
    TICK_MS,
    KeyTableModel,
    copy_secret,
    mono_font,
)
from giftdesk.gui.table import RowTableView
from giftdesk.accounts import operations
from giftdesk.accounts import events as ev
from giftdesk.core.events import DatabaseReplaced, Event
from giftdesk.accounts.keys import KeyRow, mask_key
from giftdesk.core.wording import counted

STATUS_FILTERS = (("All statuses", None), ("Active", "active"), ("Inactive", "inactive"))
_REFRESH_EVENTS = (ev.KeyChanged, ev.AccountChanged, ev.CustomerChanged, DatabaseReplaced)


def backend_api_url(settings: dict[str, Any]) -> str:
    """The BACKEND_API_URL a tracker container is given (the endpoint's advertised address).

    Uses ``giftdesk.endpoint.addressing.advertised_base_url`` as is, so the environment shown
    is the one the fleet hands out; the fallback only serves builds without the endpoint.
    """
    port = settings.get("endpoint.port", 8787)
    try:
        from giftdesk.endpoint.addressing import advertised_base_url
    except ImportError:
        url = (settings.get("endpoint.public_url") or f"http://127.0.0.1:{port}").rstrip("/")
        return url if url.endswith("/api/instances") else url + "/api/instances"
    return advertised_base_url(settings, port)


# What a container gets from its instance's settings besides the account's variables.
INSTANCE_VARIABLES = ("PORT", "DASH_PASSWORD", "DEBUG_MODE", "NODE_ENV")


class TrackerEnvironmentDialog(QDialog):
    """The four variables a tracker container gets from its account; the key stays masked until asked for."""

    def __init__(self, handle: str, env: dict[str, str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # do not keep the key around
        self.setWindowTitle(f"Tracker environment of {handle}")
        self._env = dict(env)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"A tracker container for <b>{handle}</b> gets these variables from its account; "
                                f"its instance adds {', '.join(INSTANCE_VARIABLES)}:"))
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(mono_font())
        self.text.setMinimumSize(560, 110)
        layout.addWidget(self.text)
        self.show_key = QCheckBox("Show API key")
        self.show_key.toggled.connect(self._render)
        layout.addWidget(self.show_key)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("Copy as .env", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self._copy)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._render()

    def env_text(self, reveal: bool) -> str:
        lines = []
        for name, value in self._env.items():
            if name == "API_KEY" and not reveal:
                value = mask_key(value[-4:])
            lines.append(f"{name}={value}")
        return "\n".join(lines)

    def _render(self) -> None:
        self.text.setPlainText(self.env_text(self.show_key.isChecked()))

    def _copy(self) -> None:
        # Holds the key: wiped like a copied key (the timer lives on the tab, this dialog may close first).
        copy_secret(self.env_text(True) + "\n", self.parent() or self)
        self.copy_button.setText(f"Copied (clears in {CLIPBOARD_CLEAR_SECONDS} s)")


class ApiKeysTab(QWidget):
    """All tracker credentials. ``message`` carries status-bar texts for the main window."""

    message = Signal(str)
    loaded = Signal()

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self._reveal_tokens: dict[int, int] = {}
        self._token = itertools.count(1)
        self._pending_select: int | None = None
        self.env_dialog: TrackerEnvironmentDialog | None = None
        self.url_dialog = None  # the last instance URL dialog (tests reach it here)

        self.model = KeyTableModel(self)

        self._build_ui()
        self._build_actions()

        self._refresh_timer = QTimer(self, singleShot=True, interval=150)
        self._refresh_timer.timeout.connect(self.reload)
        self._tick_timer = QTimer(self, interval=TICK_MS)
        self._tick_timer.timeout.connect(self.model.tick)
        self._tick_timer.start()
        ctx.bridge.subscribe(ev.KeysAccessed, self._on_accessed, owner=self)
        ctx.bridge.subscribe(Event, self._on_event, owner=self)
        self.reload()

    # ---- construction ----------------------------------------------------------------------
    def _build_ui(self) -> None:
        layout = QVBoxLayout(self)

        filters = QHBoxLayout()
        self.search = QLineEdit(placeholderText="Search customer, @handle or instance URL", clearButtonEnabled=True)
        self.search.setAccessibleName("Search API keys")
        self.search.textChanged.connect(lambda text: self._apply_filter())
        filters.addWidget(self.search, 3)
        self.status_filter = QComboBox()
        self.status_filter.setAccessibleName("Status filter")
        for label, value in STATUS_FILTERS:
            self.status_filter.addItem(label, value)
        self.status_filter.currentIndexChanged.connect(lambda _i: self._apply_filter())
        filters.addWidget(self.status_filter)
        filters.addSpacing(16)
        filters.addWidget(QLabel("Generate a key for:"))
        self.generate_combo = QComboBox()
        self.generate_combo.setAccessibleName("Accounts without an API key")
        self.generate_combo.setMinimumContentsLength(22)
        self.generate_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        filters.addWidget(self.generate_combo, 2)
        self.generate_button = QPushButton(theme.icon("add"), "Generate key")
        self.generate_button.clicked.connect(self.generate_selected)
        filters.addWidget(self.generate_button)
        layout.addLayout(filters)

        self.toolbar = QToolBar()
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toolbar.setIconSize(theme.icon_size(16))
        layout.addWidget(self.toolbar)

        self.table = RowTableView(model=self.model, parent=self, empty_text="", settings_key="api-keys")
        self.table.setObjectName("api-keys-table")
        self.table.sortByColumn(KeyTableModel.CUSTOMER, Qt.SortOrder.AscendingOrder)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.current_changed.connect(lambda _row: self._update_actions())
        self.table.doubleClicked.connect(lambda _index: self.toggle_reveal())

        self.placeholder = QLabel()
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet("color: palette(placeholder-text); font-size: 14px;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.placeholder)
        layout.addWidget(self.stack, 1)

        footer = QHBoxLayout()
        self.status_label = QLabel()
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        footer.addWidget(self.status_label, 1)
        self.count_label = QLabel()
        footer.addWidget(self.count_label)
        layout.addLayout(footer)

    def _action(self, text: str, slot, shortcut=None, tip: str = "", table_only: bool = False,
                icon: str | None = None) -> QAction:
        """``table_only``: keys that mean something else in line edits and buttons (Space, Ctrl+C)."""
        action = QAction(text, self)
        if icon:
            action.setIcon(theme.icon(icon))
            action.setData(icon)  # the main window re-themes actions by this name
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut if table_only
                                      else Qt.ShortcutContext.WidgetWithChildrenShortcut)
        tip = tip or text.rstrip("…")
        action.setToolTip(f"{tip} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
                          if shortcut is not None else tip)
        action.triggered.connect(lambda _checked=False: slot())
        (self.table if table_only else self).addAction(action)
        return action

    def _build_actions(self) -> None:
        self.act_reveal = self._action("Show key", self.toggle_reveal, Qt.Key.Key_Space,
                                       f"Show the API key for {REVEAL_SECONDS} s, or hide it again", table_only=True,
                                       icon="show")
        self.act_copy = self._action("Copy key", self.copy_selected, QKeySequence.StandardKey.Copy,
                                     "Copy the API key to the clipboard", table_only=True, icon="copy")
        self.act_regenerate = self._action("Regenerate…", self.regenerate_selected, "Ctrl+R",
                                           "Issue a new key; the old one stops working at once", icon="keys")
        self.act_toggle = self._action("Deactivate", self.toggle_active_selected, "Ctrl+D",
                                       "Deactivate or activate the key", icon="power")
        self.act_url = self._action("Edit instance URL…", self.edit_url_selected, Qt.Key.Key_F2, icon="edit")
        self.act_env = self._action("Tracker environment…", self.show_environment_selected, "Ctrl+E",
                                    "The environment a tracker container of this account gets", icon="info")
        self.act_refresh = self._action("Refresh", self.reload, QKeySequence.StandardKey.Refresh, icon="refresh")
        self.act_find = self._action("Find", lambda: (self.search.setFocus(), self.search.selectAll()),
                                     QKeySequence.StandardKey.Find)
        for action in (self.act_reveal, self.act_copy, None, self.act_regenerate, self.act_toggle, self.act_url,
                       None, self.act_env, None, self.act_refresh):
            if action is None:
                self.toolbar.addSeparator()
            else:
                self.toolbar.addAction(action)
        self._update_actions()

    # ---- loading ---------------------------------------------------------------------------
    def reload(self) -> None:
        desk = self.ctx.desk

        def load():
            keys = desk.keys.list()
            names = {c.id: c.name for c in desk.customers.list()}
            keyless = [a for a in desk.customers.list_accounts() if not a.has_key]
            return keys, [(names.get(a.customer_id, "?"), a) for a in keyless]

        self.ctx.runner.submit(load, on_success=lambda result: self._loaded(*result), supersede="keys.list",
                               owner=self, description="Loading API keys…")

    def _loaded(self, keys: list[KeyRow], keyless: list) -> None:
        self.table.set_rows(keys)  # by key: the selection and the scroll position stay
        if self._pending_select is not None and self.select_account(self._pending_select):
            self._pending_select = None

        chosen = self.generate_combo.currentData()
        self.generate_combo.clear()
        for customer_name, account in sorted(keyless, key=lambda item: (item[0].lower(), item[1].username)):
            self.generate_combo.addItem(f"@{account.username} — {customer_name}", account.id)
        if not keyless:
            self.generate_combo.addItem("Every account has a key", None)
        elif chosen is not None and (i := self.generate_combo.findData(chosen)) >= 0:
            self.generate_combo.setCurrentIndex(i)
        self._update_placeholder()
        self._update_actions()
        self.loaded.emit()

    def _on_accessed(self, event: ev.KeysAccessed) -> None:
        self.model.set_accessed(event.accessed)  # upserts by key: the selection stays
        self._update_actions()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, _REFRESH_EVENTS):
            if isinstance(event, ev.KeyChanged) and event.action in ("regenerated", "deleted"):
                self.model.hide(event.account_id)
            self._refresh_timer.start()

    # ---- filtering and selection -----------------------------------------------------------
    def _apply_filter(self) -> None:
        self.model.set_filter(self.search.text(), self.status_filter.currentData())
        self._update_placeholder()
        self._update_actions()

    def _update_placeholder(self) -> None:
        total, shown = self.model.total_count(), self.model.rowCount()
        if total == 0:
            self.placeholder.setText("No API keys yet.\nPick an account under “Generate a key for” to issue its first key.")
        elif shown == 0:
            self.placeholder.setText("No API keys match the search and status filter.")
        self.stack.setCurrentWidget(self.table if shown else self.placeholder)
        active = sum(1 for r in self.model.rows() if r.status == "active")
        self.count_label.setText(f"{shown:,} of {counted(total, 'key')} shown · {active:,} active" if shown != total
                                 else f"{counted(total, 'key')} · {active:,} active")

    def selected_account_id(self) -> int | None:
        keys = self.table.selected_keys()
        return keys[0] if keys else None

    def selected_row(self) -> KeyRow | None:
        account_id = self.selected_account_id()
        return None if account_id is None else self.model.row_for(account_id)

    def select_account(self, account_id: int) -> bool:
        return self.table.select_key(account_id)

    def _update_actions(self) -> None:
        row = self.selected_row()
        editable = self.ctx.can_edit
        for action in (self.act_reveal, self.act_copy, self.act_regenerate, self.act_toggle, self.act_url, self.act_env):
            action.setEnabled(editable and row is not None)
        if row is not None and row.status != "active":
            self.act_env.setEnabled(False)
            self.act_env.setToolTip("Activate the key first: deactivated keys are not handed to trackers")
        else:
            self.act_env.setToolTip("The environment a tracker container of this account gets (Ctrl+E)")
        self.act_reveal.setText("Hide key" if row is not None and self.model.is_revealed(row.account_id) else "Show key")
        self.act_toggle.setText("Activate" if row is not None and row.status != "active" else "Deactivate")
        if row is None:
            self.act_toggle.setToolTip("Select a key first")
        elif row.status == "active":
            self.act_toggle.setToolTip("Deactivate the key: its tracker can no longer reach the console (Ctrl+D)")
        else:
            self.act_toggle.setToolTip("Activate the key again: its tracker reaches the console with it (Ctrl+D)")
        if not editable:
            for action in (self.act_reveal, self.act_copy, self.act_regenerate, self.act_toggle, self.act_url,
                           self.act_env):
                action.setToolTip("Viewers cannot see or change API keys")
        has_candidates = self.generate_combo.currentData() is not None
        self.generate_combo.setEnabled(editable and has_candidates)
        self.generate_button.setEnabled(editable and has_candidates)
        if not editable:
            self.generate_button.setToolTip("Viewers cannot generate API keys")

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        self.select_account(self.model.key_at(index.row()))
        menu = QMenu(self)
        for action in (self.act_reveal, self.act_copy, None, self.act_regenerate, self.act_toggle, self.act_url,
                       None, self.act_env):
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def say(self, text: str) -> None:
        """Once: in the window's status bar when the tab is in one, else in the tab's footer."""
        if self.receivers(SIGNAL("message(QString)")) > 0:
            self.status_label.clear()
            self.message.emit(text)
        else:
            self.status_label.setText(text)

    # ---- actions ---------------------------------------------------------------------------
    def toggle_reveal(self) -> None:
        row = self.selected_row()
        if row is None or not self.ctx.can_edit:
            return
        if self.model.is_revealed(row.account_id):
            self.hide_key(row.account_id)
            return
        account_id, handle = row.account_id, f"@{row.tiktok_username}"

        def shown(key: str) -> None:
            self._show_key(account_id, key)
            self.say(f"Showing the API key of {handle} for {REVEAL_SECONDS} s.")

        self.ctx.runner.run(operations.REVEAL_KEY, self.ctx.desk.keys.reveal, account_id, on_success=shown,
                            owner=self, subject=handle)

    def _show_key(self, account_id: int, key: str) -> None:
        self.model.reveal(account_id, key)
        token = self._reveal_tokens[account_id] = next(self._token)
        QTimer.singleShot(int(REVEAL_SECONDS * 1000), self, lambda: self._expire(account_id, token))
        self._update_actions()

    def _expire(self, account_id: int, token: int) -> None:
        if self._reveal_tokens.get(account_id) == token:
            self.hide_key(account_id)

    def hide_key(self, account_id: int) -> None:
        self._reveal_tokens.pop(account_id, None)
        self.model.hide(account_id)
        self._update_actions()

    def copy_selected(self) -> None:
        row = self.selected_row()
        if row is None or not self.ctx.can_edit:
            return
        account_id, handle = row.account_id, f"@{row.tiktok_username}"
        key = self.model.revealed_key(account_id)
        if key is not None:
            self._copy_key(handle, key)
            return
        self.ctx.runner.run(operations.REVEAL_KEY, self.ctx.desk.keys.reveal, account_id,
                            on_success=lambda k: self._copy_key(handle, k), owner=self, subject=handle)

    def _copy_key(self, handle: str, key: str) -> None:
        copy_secret(key, self, on_cleared=lambda: self.say("Cleared the copied API key from the clipboard."))
        self.say(f"Copied the API key of {handle}; the clipboard clears in {CLIPBOARD_CLEAR_SECONDS} s.")

    def regenerate_selected(self) -> None:
        row = self.selected_row()
        if row is None or not self.ctx.can_edit:
            return
        handle = f"@{row.tiktok_username}"
        if not Prompts.confirm(self, "Regenerate API key", operations.REGENERATE_KEY.confirmation(handle=handle)):
            return
        account_id = row.account_id

        def done(key: str) -> None:
            self._show_key(account_id, key)
            self.say(f"Regenerated the API key of {handle}; the new key is shown for {REVEAL_SECONDS} s. "
                     "Give it to the tracker.")

        self.ctx.runner.run(operations.REGENERATE_KEY, self.ctx.desk.keys.regenerate, account_id, on_success=done,
                            owner=self, subject=handle)

    def toggle_active_selected(self) -> None:
        row = self.selected_row()
        if row is None or not self.ctx.can_edit:
            return
        activate = row.status != "active"
        handle = f"@{row.tiktok_username}"

        def done(updated: KeyRow) -> None:
            self.say(f"{'Activated' if activate else 'Deactivated'} the API key of {handle}."
                     + ("" if activate else " Its tracker is refused until the key is activated again."))

        operation = operations.ACTIVATE_KEY if activate else operations.DEACTIVATE_KEY
        self.ctx.runner.run(operation, self.ctx.desk.keys.set_active, row.account_id, activate, on_success=done,
                            owner=self, subject=handle)

    def edit_url_selected(self) -> None:
        row = self.selected_row()
        if row is None or not self.ctx.can_edit:
            return
        from giftdesk.gui.fleet.instance_url import InstanceUrlDialog

        handle = f"@{row.tiktok_username}"
        dialog = InstanceUrlDialog(self.ctx, row, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(lambda updated: self.say(
            f"Set the instance URL of {handle} to {updated.instance_url or '(none)'}."))
        self.url_dialog = dialog
        dialog.destroyed.connect(lambda *_: setattr(self, "url_dialog", None))
        dialog.open()

    def show_environment_selected(self) -> None:
        row = self.selected_row()
        if row is None or not self.ctx.can_edit:
            return
        handle, desk, account_id = f"@{row.tiktok_username}", self.ctx.desk, row.account_id

        def environment() -> dict[str, str]:
            return desk.keys.tracker_environment(account_id, backend_api_url(desk.settings.all()))

        def show(env: dict[str, str]) -> None:
            if self.env_dialog is not None and self.env_dialog.isVisible():
                self.env_dialog.close()
            self.env_dialog = TrackerEnvironmentDialog(handle, env, self)
            self.env_dialog.destroyed.connect(lambda *_: setattr(self, "env_dialog", None))
            self.env_dialog.open()

        self.ctx.runner.submit(environment, on_success=show,
                               owner=self, description=f"Preparing the tracker environment of {handle}…")

    def generate_selected(self) -> None:
        account_id = self.generate_combo.currentData()
        if account_id is None or not self.ctx.can_edit:
            return
        label = self.generate_combo.currentText().split(" — ")[0]

        def done(key: str) -> None:
            # The KeyChanged event reloads the table; the new row is selected once it is there.
            if not self.select_account(account_id):
                self._pending_select = account_id
            self._show_key(account_id, key)
            self.say(f"Generated an API key for {label}; it is shown for {REVEAL_SECONDS} s.")

        self.ctx.runner.run(operations.GENERATE_KEY, self.ctx.desk.keys.generate, account_id, on_success=done,
                            owner=self, subject=label)

    # ---- visibility ------------------------------------------------------------------------
    def hideEvent(self, event) -> None:
        # Leaving the tab (or minimising) hides every shown key.
        for account_id in list(self._reveal_tokens):
            self.hide_key(account_id)
        self.model.hide_all()
        super().hideEvent(event)
