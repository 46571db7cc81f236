"""Customer Accounts: customers, their TikTok accounts, and the selected customer's dashboard.

Every query and change goes through ``ctx.runner`` to ``desk.customers`` / ``desk.keys``; the
tab only shows rows and asks questions. Deletes are confirmed with the service's own
``delete_impact(...).sentence()``, the rule of what a delete removes. The lists follow domain
events (``CustomerChanged``, ``AccountChanged``, ``KeyChanged``, ``KeysAccessed``, ``DatabaseReplaced``).
"""

from __future__ import annotations

import html
import logging


from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from giftdesk.gui import theme
from giftdesk.gui.accounts.customer_edit import AddAccountDialog, CustomerDialog
from giftdesk.gui.prompts import Prompts
from giftdesk.gui.timefmt import relative_time
from giftdesk.gui.accounts.key_table_model import TICK_MS
from giftdesk.gui.table import RIGHT, Column, RowTableView, fmt_date
from giftdesk.gui.widgets.after_paint import AfterPaint
from giftdesk.accounts.events import AccountChanged, CustomerChanged, KeyChanged, KeysAccessed
from giftdesk.core.events import DatabaseReplaced, Event

log = logging.getLogger(__name__)

SEARCH_DEBOUNCE_MS = 200
EVENT_DEBOUNCE_MS = 120


def _key_status(account) -> str:
    if not account.has_key:
        return "no key"
    return account.key_status or "active"


def _key_color(account):
    c = theme.colors()
    if not account.has_key:
        return None
    return QColor(c.success) if account.key_status == "active" else QColor(c.warning)


CUSTOMER_COLUMNS = [
    Column("Name", lambda c: c.name, width=140),
    Column("E-mail", lambda c: c.email or "", stretch=True),
    Column("Company", lambda c: c.company or "", width=120),
    Column("Accounts", lambda c: c.account_count, align=RIGHT, width=70,
           header_tooltip="TikTok accounts of this customer"),
    Column("Created", lambda c: fmt_date(c.created_at), sort=lambda c: c.created_at, width=92,
           tooltip=lambda c: c.created_at.astimezone().strftime("%Y-%m-%d %H:%M")),
]

ACCOUNT_COLUMNS = [
    Column("Account", lambda a: a.handle, stretch=True),
    Column("API key", _key_status, width=80, foreground=_key_color),
    Column("Last tracker access", lambda a: relative_time(a.last_accessed_at) if a.has_key else "",
           sort=lambda a: a.last_accessed_at, width=150,
           tooltip=lambda a: a.last_accessed_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
           if a.last_accessed_at else None),
    Column("Added", lambda a: fmt_date(a.created_at), sort=lambda a: a.created_at, width=92),
]


class _EmptyState(QWidget):
    """A centred icon, a sentence and an optional action button."""

    def __init__(self, icon_name: str, title: str, text: str, button: QPushButton | None, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        self.icon = QLabel(self)
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._icon_name = icon_name
        layout.addWidget(self.icon)
        self.title = QLabel(title, self)
        self.title.setProperty("role", "subheading")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.title)
        self.text = QLabel(text, self)
        self.text.setProperty("role", "muted")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.text)
        if button is not None:
            row = QHBoxLayout()
            row.addStretch(1)
            row.addWidget(button)
            row.addStretch(1)
            layout.addSpacing(6)
            layout.addLayout(row)
        layout.addStretch(3)
        self.refresh_icon()

    def refresh_icon(self) -> None:
        self.icon.setPixmap(theme.icon(self._icon_name).pixmap(48, 48))


class CustomersTab(QWidget):
    message = Signal(str)  # a short confirmation for the status bar

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.can_edit = ctx.can_edit
        self._loaded_once = False
        self._pending_select: int | None = None
        self._closed = False
        self._customer = None  # the selected CustomerRow (with accounts once loaded)
        self._account_ids: set[int] = set()
        self.dialog = None  # the open dialog, for tests

        # ---- toolbar -----------------------------------------------------------------------
        self.search = QLineEdit(self)
        self.search.setObjectName("customer-search")
        self.search.setPlaceholderText("Search name, e-mail, company, notes or @handle  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search_icon = self.search.addAction(theme.icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.setMinimumWidth(320)
        self.add_button = self._button("Add customer", "add", self.add_customer, "Add a customer (Ctrl+N)")
        self.edit_button = self._button("Edit", "edit", self.edit_customer, "Edit the selected customer (Enter)")
        self.delete_button = self._button("Delete", "delete", self.delete_customer,
                                          "Delete the selected customer with their accounts and keys (Delete)")
        toolbar = QHBoxLayout()
        toolbar.addWidget(self.search, 1)
        toolbar.addSpacing(12)
        for button in (self.add_button, self.edit_button, self.delete_button):
            toolbar.addWidget(button)

        # ---- customers list ----------------------------------------------------------------
        self.table = RowTableView(CUSTOMER_COLUMNS, parent=self, settings_key="customers")
        self.table.setObjectName("customers-table")
        self.table.set_empty_text("No customers yet", filtered="No customer matches the search")
        self.count_label = QLabel(self)
        self.count_label.setProperty("role", "muted")
        self.empty_add = QPushButton(theme.icon("add"), "Add customer", self)
        self.empty_add.clicked.connect(self.add_customer)
        self.empty_state = _EmptyState(
            "empty-customers", "No customers yet",
            "Customers own TikTok accounts; each account gets an API key for its gift tracker."
            + (" Add your first customer to start." if self.can_edit else " An operator or admin can add them."),
            self.empty_add if self.can_edit else None, self,
        )
        if not self.can_edit:
            self.empty_add.hide()
        self.list_stack = QStackedWidget(self)
        table_page = QWidget(self)
        table_layout = QVBoxLayout(table_page)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.table, 1)
        table_layout.addWidget(self.count_label)
        self.list_stack.addWidget(table_page)
        self.list_stack.addWidget(self.empty_state)

        # ---- detail: header, accounts, dashboard -------------------------------------------
        self.detail = QWidget(self)
        detail_layout = QVBoxLayout(self.detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        self.header = QFrame(self.detail)
        self.header.setProperty("role", "card")
        header_layout = QVBoxLayout(self.header)
        header_layout.setContentsMargins(12, 10, 12, 10)
        header_layout.setSpacing(2)
        self.customer_name = QLabel(self.header)
        self.customer_name.setProperty("role", "heading")
        self.customer_name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.customer_meta = QLabel(self.header)
        self.customer_meta.setProperty("role", "muted")
        self.customer_meta.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.customer_notes = QLabel(self.header)
        self.customer_notes.setWordWrap(True)
        self.customer_notes.setProperty("role", "muted")
        self.customer_notes.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        header_layout.addWidget(self.customer_name)
        header_layout.addWidget(self.customer_meta)
        header_layout.addWidget(self.customer_notes)

        accounts_title = QLabel("TikTok accounts", self.detail)
        accounts_title.setProperty("role", "subheading")
        self.add_account_button = self._button("Add account", "add", self.add_account,
                                                "Add a TikTok account to this customer")
        self.delete_account_button = self._button("Delete account", "delete", self.delete_account,
                                                  "Delete the selected account with its API key and tracker data")
        accounts_bar = QHBoxLayout()
        accounts_bar.addWidget(accounts_title)
        accounts_bar.addStretch(1)
        accounts_bar.addWidget(self.add_account_button)
        accounts_bar.addWidget(self.delete_account_button)
        self.accounts = RowTableView(ACCOUNT_COLUMNS, parent=self.detail, settings_key="customer-accounts")
        self.accounts.setObjectName("accounts-table")
        self.accounts.set_empty_text(
            "No TikTok accounts yet — click “Add account”." if self.can_edit else "No TikTok accounts yet."
        )
        accounts_box = QWidget(self.detail)
        accounts_layout = QVBoxLayout(accounts_box)
        accounts_layout.setContentsMargins(0, 0, 0, 0)
        accounts_layout.addLayout(accounts_bar)
        accounts_layout.addWidget(self.accounts, 1)

        from giftdesk.gui.accounts.customer_dashboard import CustomerDashboard

        self.dashboard = CustomerDashboard(ctx, self.detail)
        self.detail_split = QSplitter(Qt.Orientation.Vertical, self.detail)
        self.detail_split.setObjectName("customers-detail-split")
        self.detail_split.setChildrenCollapsible(False)
        self.detail_split.addWidget(accounts_box)
        self.detail_split.addWidget(self.dashboard)
        self.detail_split.setStretchFactor(0, 1)
        self.detail_split.setStretchFactor(1, 3)
        self.detail_split.setSizes([190, 470])
        detail_layout.addWidget(self.header)
        detail_layout.addWidget(self.detail_split, 1)

        self.no_selection = _EmptyState("customers", "No customer selected",
                                        "Select a customer to see their TikTok accounts and tracker keys.",
                                        None, self)
        self.detail_stack = QStackedWidget(self)
        self.detail_stack.addWidget(self.no_selection)
        self.detail_stack.addWidget(self.detail)

        self.split = QSplitter(Qt.Orientation.Horizontal, self)
        self.split.setObjectName("customers-split")
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(self.list_stack)
        self.split.addWidget(self.detail_stack)
        self.split.setStretchFactor(0, 4)
        self.split.setStretchFactor(1, 5)
        self.split.setSizes([600, 660])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 6)
        layout.addLayout(toolbar)
        layout.addWidget(self.split, 1)

        # ---- behaviour ---------------------------------------------------------------------
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self._list_timer = QTimer(self)
        self._list_timer.setSingleShot(True)
        self._list_timer.setInterval(EVENT_DEBOUNCE_MS)
        self._list_timer.timeout.connect(self.refresh)
        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.setInterval(EVENT_DEBOUNCE_MS)
        self._detail_timer.timeout.connect(self.reload_detail)
        # "12 s ago" moves on in the table as it does on the cards beside it (the same helper, the same tick).
        self._tick_timer = QTimer(self)
        self._tick_timer.setInterval(TICK_MS)
        self._tick_timer.timeout.connect(lambda: self.accounts.refresh())
        self._tick_timer.start()

        # While the ORM is not loaded, the selected customer's loads (which load it) wait for the
        # list's first paint: the list itself is read without it (``desk.customer_list``).
        self._first_paint = None if ctx.desk.orm_loaded() else AfterPaint(self.table.viewport(), ctx.runner, self)
        self.table.current_changed.connect(self._on_customer_selected)
        self.table.row_activated.connect(lambda _row: self.edit_customer())
        self.accounts.current_changed.connect(lambda _row: self._update_actions())
        self.dashboard.message.connect(self.message)  # the cards' confirmations reach the status bar
        ctx.bridge.subscribe(Event, self._on_event, owner=self)

        self._shortcut(QKeySequence.StandardKey.Find, self._focus_search, self)
        self._shortcut(QKeySequence.StandardKey.New, self.add_customer, self)
        self._shortcut(QKeySequence(Qt.Key.Key_Delete), self.delete_customer, self.table, widget_only=True)
        self._shortcut(QKeySequence(Qt.Key.Key_Delete), self.delete_account, self.accounts, widget_only=True)
        self._shortcut(QKeySequence(Qt.Key.Key_Escape), self._clear_search, self.search, widget_only=True)
        self.search.returnPressed.connect(self._search_now)
        theme.on_theme_changed(self._retheme)
        self._update_actions()
        self.refresh()

    # ---- construction helpers --------------------------------------------------------------
    def _submit(self, fn, *args, on_success, on_error=None, description: str, supersede=None):
        """Work in the runner; results for a closed or deleted tab are dropped (it owns the job)."""
        def open_only(callback):
            return lambda value: None if self._closed else callback(value)

        return self.ctx.runner.submit(fn, *args, on_success=open_only(on_success),
                                      on_error=open_only(on_error) if on_error else self.ctx.report,
                                      owner=self, supersede=supersede, description=description)

    def _button(self, text: str, icon_name: str, slot, tip: str) -> QPushButton:
        button = QPushButton(theme.icon(icon_name), text, self)
        button.setToolTip(tip)
        button.clicked.connect(lambda _checked=False: slot())
        button._icon_name = icon_name  # type: ignore[attr-defined]
        return button

    def _shortcut(self, keys, slot, widget: QWidget, widget_only: bool = False) -> QShortcut:
        shortcut = QShortcut(keys, widget)
        shortcut.setContext(Qt.ShortcutContext.WidgetShortcut if widget_only
                            else Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(slot)
        return shortcut

    def _retheme(self) -> None:
        for button in self.findChildren(QPushButton) + self.findChildren(QToolButton):
            name = getattr(button, "_icon_name", None)
            if name:
                button.setIcon(theme.icon(name))
        self.empty_add.setIcon(theme.icon("add"))
        self.search_icon.setIcon(theme.icon("search"))
        self.empty_state.refresh_icon()
        self.no_selection.refresh_icon()

    # ---- state -----------------------------------------------------------------------------
    @property
    def selected_customer(self):
        return self.table.current_row()

    @property
    def selected_account(self):
        return self.accounts.current_row()

    def _update_actions(self) -> None:
        has_customer = self.table.current_row() is not None
        self.add_button.setEnabled(self.can_edit)
        self.edit_button.setEnabled(has_customer)
        self.edit_button.setText("Edit" if self.can_edit else "View")
        self.delete_button.setEnabled(self.can_edit and has_customer)
        self.add_account_button.setEnabled(self.can_edit and has_customer)
        self.delete_account_button.setEnabled(self.can_edit and self.accounts.current_row() is not None)
        tip = "" if self.can_edit else "Your role is viewer: you can look, not change."
        for button in (self.add_button, self.delete_button, self.add_account_button, self.delete_account_button):
            if not self.can_edit:
                button.setToolTip(tip)

    # ---- loading ---------------------------------------------------------------------------
    def refresh(self, select_id: int | None = None) -> None:
        """Reload the customer list for the current search (off the GUI thread)."""
        if self._closed:
            return
        self._search_timer.stop()
        self._list_timer.stop()
        if select_id is not None:
            self._pending_select = select_id
        search = self.search.text().strip()
        desk = self.ctx.desk
        # ``desk.customers`` is looked up on the worker: made there, the ORM it imports does not
        # hold up the GUI thread; without a search, the desk lists them without the ORM until it is loaded.
        load = (lambda: desk.customers.list(search)) if search else desk.customer_list
        self._submit(load, supersede="customers.list",
                     on_success=lambda rows: self._show_customers(search, rows),
                     description="Loading customers…")

    def _search_now(self) -> None:
        self.refresh()

    def _show_customers(self, search: str, rows) -> None:
        self.table.set_rows(rows)
        if self._pending_select is not None:
            if self.table.select_key(self._pending_select):
                self._pending_select = None
        elif not self._loaded_once and rows:
            self.table.select_key(self.table.visible_rows()[0].id)
        self._loaded_once = True
        total_empty = not rows and not search
        self.list_stack.setCurrentWidget(self.empty_state if total_empty else self.list_stack.widget(0))
        count = len(rows)
        noun = "customer" if count == 1 else "customers"
        self.count_label.setText(f"{count} {noun} match “{search}”" if search else f"{count} {noun}")
        if self.table.current_row() is None:
            self._on_customer_selected(None)
        self._update_actions()

    def _on_customer_selected(self, row) -> None:
        self._update_actions()
        if row is None:
            self._customer = None
            self._account_ids = set()
            self.accounts.set_rows([])
            self.detail_stack.setCurrentWidget(self.no_selection)
            self.dashboard.show_customer(None)
            return
        previous = self._customer.id if self._customer is not None else None
        self._customer = row
        self._show_header(row)
        self.detail_stack.setCurrentWidget(self.detail)
        if previous != row.id:
            self.accounts.set_rows([])
            self._after_first_paint("dashboard", lambda: self.dashboard.show_customer(
                self._customer.id if self._customer is not None else None))
        self._after_first_paint("detail", self.reload_detail)

    def _after_first_paint(self, key: str, fn) -> None:
        """``fn`` now, or, while the ORM was not loaded at the start, once the list has painted."""
        if self._first_paint is None:
            fn()
        else:
            self._first_paint.hold(key, fn)  # at once when the paint has been

    def reload_detail(self) -> None:
        self._detail_timer.stop()
        customer = self._customer
        if customer is None or self._closed:
            return
        desk = self.ctx.desk
        self._submit(lambda customer_id: desk.customers.get(customer_id), customer.id, supersede="customers.detail",
                     on_success=self._show_detail,
                     on_error=lambda exc: self._detail_failed(customer.id, exc),
                     description="Loading TikTok accounts…")

    def _show_detail(self, customer) -> None:
        if self._customer is None or self._customer.id != customer.id:
            return
        self._show_header(customer)
        self._account_ids = {a.id for a in customer.accounts}
        self.accounts.set_rows(customer.accounts)
        # No accounts: the table's own sentence says so; the dashboard would only repeat it.
        self.dashboard.setVisible(bool(customer.accounts))
        self._update_actions()

    def _detail_failed(self, customer_id: int, exc: BaseException) -> None:
        from giftdesk.core.errors import NotFoundError

        if isinstance(exc, NotFoundError):  # deleted meanwhile (another console, the CLI)
            self.refresh()
            return
        self.ctx.report(exc)

    def _show_header(self, customer) -> None:
        self.customer_name.setText(customer.name)
        meta = [m for m in (customer.email, customer.company) if m]
        meta.append(f"customer since {fmt_date(customer.created_at)}")
        self.customer_meta.setText("  ·  ".join(meta))
        notes = (customer.notes or "").strip()
        if len(notes) > 280:
            notes = notes[:279] + "…"
        self.customer_notes.setText(html.escape(notes).replace("\n", "<br>"))
        self.customer_notes.setVisible(bool(notes))

    def _on_event(self, event: Event) -> None:
        if self._closed:
            return
        selected = self._customer.id if self._customer is not None else None
        if isinstance(event, DatabaseReplaced):
            self._list_timer.start()
            self._detail_timer.start()
        elif isinstance(event, CustomerChanged):
            self._list_timer.start()
            if event.customer_id == selected or event.customer_id is None:
                self._detail_timer.start()
        elif isinstance(event, AccountChanged):
            self._list_timer.start()
            if selected is not None and (event.customer_id == selected or event.account_id in self._account_ids):
                self._detail_timer.start()
        elif isinstance(event, KeyChanged):
            if event.account_id in self._account_ids:
                self._detail_timer.start()
        elif isinstance(event, KeysAccessed):
            if self._account_ids.intersection(event.accessed):
                self._detail_timer.start()

    # ---- search ----------------------------------------------------------------------------
    def _focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _clear_search(self) -> None:
        if self.search.text():
            self.search.clear()
        else:
            self.table.setFocus()

    # ---- customer actions ------------------------------------------------------------------
    def add_customer(self) -> CustomerDialog | None:
        if not self.can_edit:
            return None
        dialog = CustomerDialog(self.ctx, None, self)
        dialog.accepted.connect(lambda: self._customer_saved(dialog, "Added"))
        return self._open(dialog)

    def edit_customer(self) -> CustomerDialog | None:
        row = self.table.current_row()
        if row is None:
            return None
        dialog = CustomerDialog(self.ctx, row, self, read_only=not self.can_edit)
        dialog.accepted.connect(lambda: self._customer_saved(dialog, "Saved"))
        return self._open(dialog)

    def _customer_saved(self, dialog: CustomerDialog, verb: str) -> None:
        row = dialog.result_row
        if row is None:
            return
        self.message.emit(f"{verb} customer “{row.name}”.")
        if self.search.text().strip() and verb == "Added":
            self.search.clear()  # show the new customer even when it does not match the search
        self.refresh(select_id=row.id)

    def delete_customer(self) -> None:
        """Asks with the service's impact sentence, then deletes. Roles are checked by the service."""
        row = self.table.current_row()
        if row is None:
            return
        self._submit(self.ctx.desk.customers.delete_impact, row.id,
                               on_success=lambda impact: self._confirm_delete_customer(row, impact),
                               description="Counting what the delete removes…")

    def _confirm_delete_customer(self, row, impact) -> None:
        text = (f"Delete the customer “{row.name}”?\n\n{impact.sentence()}\n\n"
                "This cannot be undone (File → Backup database… keeps a copy).")
        if not Prompts.confirm(self, "Delete customer", text, destructive=True):
            return
        self._submit(self.ctx.desk.customers.delete, row.id,
                               on_success=lambda _impact: self._deleted(f"Deleted customer “{row.name}”."),
                               description="Deleting the customer…")

    def _deleted(self, message: str) -> None:
        self.message.emit(message)
        self.refresh()

    # ---- account actions -------------------------------------------------------------------
    def add_account(self) -> AddAccountDialog | None:
        customer = self._customer
        if customer is None or not self.can_edit:
            return None
        dialog = AddAccountDialog(self.ctx, customer, self)
        dialog.accepted.connect(lambda: self._account_added(dialog))
        return self._open(dialog)

    def _account_added(self, dialog: AddAccountDialog) -> None:
        account = dialog.result_row
        if account is None:
            return
        key = " with a new API key" if dialog.api_key else ""
        self.message.emit(f"Added {account.handle}{key}.")
        self.reload_detail()
        self.refresh()

    def delete_account(self) -> None:
        account = self.accounts.current_row()
        if account is None:
            return
        self._submit(self.ctx.desk.customers.account_delete_impact, account.id,
                               on_success=lambda impact: self._confirm_delete_account(account, impact),
                               description="Counting what the delete removes…")

    def _confirm_delete_account(self, account, impact) -> None:
        text = f"Delete the TikTok account {account.handle}?\n\n{impact.sentence()}\n\nThis cannot be undone."
        if not Prompts.confirm(self, "Delete TikTok account", text, destructive=True):
            return
        self._submit(self.ctx.desk.customers.delete_account, account.id,
                               on_success=lambda _impact: self._account_deleted(account),
                               description="Deleting the TikTok account…")

    def _account_deleted(self, account) -> None:
        self.message.emit(f"Deleted {account.handle}.")
        self.reload_detail()
        self.refresh()

    # ---- dialogs ---------------------------------------------------------------------------
    def _open(self, dialog):
        """Window-modal without a nested event loop (safe under qasync)."""
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda *_: setattr(self, "dialog", None) if self.dialog is dialog else None)
        dialog.open()
        return dialog

    # ---- window state ----------------------------------------------------------------------
    def save_state(self, settings: QSettings) -> None:
        # The tables remember their own columns (settings_key).
        settings.setValue("customers/split", self.split.saveState())
        settings.setValue("customers/detail_split", self.detail_split.saveState())

    def restore_state(self, settings: QSettings) -> None:
        for key, target in (("customers/split", self.split), ("customers/detail_split", self.detail_split)):
            value = settings.value(key)
            if value is not None:
                target.restoreState(value)

    def shutdown(self) -> None:
        """Stops timers and event handling; called before the runner shuts down."""
        self._closed = True
        theme.remove_theme_listener(self._retheme)
        self._search_timer.stop()
        self._list_timer.stop()
        self._detail_timer.stop()
        self._tick_timer.stop()
        stop = getattr(self.dashboard, "shutdown", None)
        if callable(stop):
            stop()
