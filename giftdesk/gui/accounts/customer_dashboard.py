"""Customer dashboard (the tracker's DashboardView): one card per TikTok account of a customer.

Each card shows the tracker URL (copy, open), the API key (masked; show and copy on demand),
the key's status and a live last-access time, and opens the gift-group and config editors.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from giftdesk.accounts import events as ev
from giftdesk.accounts import operations
from giftdesk.core.errors import NotFoundError
from giftdesk.core.events import DatabaseReplaced, Event
from giftdesk.gui.accounts.key_table_model import (
    CLIPBOARD_CLEAR_SECONDS,
    REVEAL_SECONDS,
    TICK_MS,
    copy_secret,
    exact_time,
    mono_font,
    muted_colour,
    relative_time,
    status_colour,
)

if TYPE_CHECKING:  # the rows' modules load the ORM, which the window's first paint does without
    from giftdesk.accounts.keys import KeyRow
    from giftdesk.accounts.rows import AccountRow, CustomerRow

_RELOAD_EVENTS = (ev.KeyChanged, ev.AccountChanged, ev.CustomerChanged)


class AccountCard(QFrame):
    """One TikTok account. The dashboard drives it; the card only renders and raises signals."""

    show_key_requested = Signal(int)
    copy_key_requested = Signal(int)
    generate_requested = Signal(int)
    gift_groups_requested = Signal(int)
    config_requested = Signal(int)
    message = Signal(str)

    def __init__(self, account: AccountRow, key: KeyRow | None, can_edit: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.account = account
        self.key = key
        self.can_edit = can_edit
        self.revealed = False
        self.setObjectName("accountCard")
        self.setProperty("role", "card")  # the theme's card look
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(14, 10, 14, 10)
        outer.setSpacing(6)

        head = QHBoxLayout()
        self.handle_label = QLabel(f"<b>{account.handle}</b>")
        self.handle_label.setStyleSheet("font-size: 15px;")
        self.handle_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head.addWidget(self.handle_label)
        self.status_label = QLabel()
        head.addWidget(self.status_label)
        head.addStretch(1)
        self.open_button = QPushButton("Open Tracker")
        self.open_button.clicked.connect(self.open_tracker)
        head.addWidget(self.open_button)
        outer.addLayout(head)

        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(4)
        grid.setColumnStretch(1, 1)

        grid.addWidget(self._caption("Tracker URL"), 0, 0)
        self.url_label = QLabel()
        self.url_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_url_button = QPushButton("Copy")
        self.copy_url_button.setToolTip("Copy the tracker URL")
        self.copy_url_button.clicked.connect(self.copy_url)
        grid.addLayout(self._row(self.url_label, self.copy_url_button), 0, 1)

        grid.addWidget(self._caption("API key"), 1, 0)
        self.key_label = QLabel()
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.show_key_button = QPushButton("Show")
        self.show_key_button.clicked.connect(self._toggle_key)
        self.copy_key_button = QPushButton("Copy")
        self.copy_key_button.setToolTip("Copy the API key")
        self.copy_key_button.clicked.connect(lambda: self.copy_key_requested.emit(self.account.id))
        self.generate_button = QPushButton("Generate key")
        self.generate_button.clicked.connect(lambda: self.generate_requested.emit(self.account.id))
        grid.addLayout(self._row(self.key_label, self.show_key_button, self.copy_key_button, self.generate_button), 1, 1)

        grid.addWidget(self._caption("Last accessed"), 2, 0)
        self.accessed_label = QLabel()
        grid.addWidget(self.accessed_label, 2, 1)
        outer.addLayout(grid)

        actions = QHBoxLayout()
        verb = "Edit" if can_edit else "View"
        self.gift_groups_button = QPushButton(f"{verb} gift groups…")
        self.gift_groups_button.clicked.connect(lambda: self.gift_groups_requested.emit(self.account.id))
        self.config_button = QPushButton(f"{verb} config…")
        self.config_button.clicked.connect(lambda: self.config_requested.emit(self.account.id))
        actions.addWidget(self.gift_groups_button)
        actions.addWidget(self.config_button)
        actions.addStretch(1)
        outer.addLayout(actions)
        self._render()

    @staticmethod
    def _row(label: QLabel, *buttons: QPushButton) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(6)
        row.addWidget(label)
        row.addSpacing(6)
        for button in buttons:
            button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
            row.addWidget(button)
        row.addStretch(1)
        return row

    @staticmethod
    def _caption(text: str) -> QLabel:
        label = QLabel(text)
        label.setProperty("role", "muted")
        return label

    # ---- state -----------------------------------------------------------------------------
    @property
    def instance_url(self) -> str | None:
        return self.key.instance_url if self.key else self.account.instance_url

    @property
    def last_accessed_at(self) -> datetime | None:
        return self.key.last_accessed_at if self.key else self.account.last_accessed_at

    def _render(self) -> None:
        url = self.instance_url
        self.url_label.setText(url or ("Not set (API Keys tab → Edit instance URL)" if self.key else "Not set"))
        self.url_label.setStyleSheet("" if url else f"color: {muted_colour().name()};")
        self.copy_url_button.setEnabled(bool(url))
        self.open_button.setEnabled(bool(url))
        self.open_button.setToolTip(f"Open {url} in the browser" if url else "No tracker URL yet")

        has_key = self.key is not None
        if has_key:
            status = self.key.status
            colour = status_colour(status).name()
            self.status_label.setText(f"<span style='color:{colour}'>● {status.capitalize()}</span>")
            if not self.revealed:
                self.key_label.setText(self.key.masked_key)
        else:
            self.status_label.setText(f"<span style='color:{muted_colour().name()}'>● No API key</span>")
            self.key_label.setText("No API key yet")
        self.key_label.setFont(mono_font() if has_key else self.font())
        self.key_label.setStyleSheet("" if has_key else f"color: {muted_colour().name()};")
        self.show_key_button.setVisible(has_key)
        self.copy_key_button.setVisible(has_key)
        self.generate_button.setVisible(not has_key)
        for button in (self.show_key_button, self.copy_key_button, self.generate_button):
            button.setEnabled(self.can_edit)
            if not self.can_edit:
                button.setToolTip("Viewers cannot see or issue API keys")
        self.show_key_button.setText("Hide" if self.revealed else "Show")
        self.tick()

    def tick(self) -> None:
        when = self.last_accessed_at
        if self.key is None:
            self.accessed_label.setText("—")
        else:
            self.accessed_label.setText(relative_time(when))
        self.accessed_label.setToolTip(exact_time(when))

    def set_accessed(self, when: datetime) -> None:
        if self.key is None or (self.key.last_accessed_at and self.key.last_accessed_at >= when):
            return
        self.key = replace(self.key, last_accessed_at=when)
        self.tick()

    def reveal(self, api_key: str) -> None:
        self.revealed = True
        self.key_label.setText(api_key)
        self.show_key_button.setText("Hide")

    def hide_key(self) -> None:
        self.revealed = False
        self._render()

    def _toggle_key(self) -> None:
        if self.revealed:
            self.hide_key()
        else:
            self.show_key_requested.emit(self.account.id)

    # ---- URL -------------------------------------------------------------------------------
    def copy_url(self) -> None:
        if self.instance_url:
            QGuiApplication.clipboard().setText(self.instance_url)
            self.message.emit(f"Copied the tracker URL of {self.account.handle}.")

    def open_tracker(self) -> None:
        if self.instance_url:
            QDesktopServices.openUrl(QUrl(self.instance_url))


class CustomerDashboard(QWidget):
    """Cards for the selected customer's accounts; ``show_customer(None)`` shows the empty state."""

    message = Signal(str)
    loaded = Signal()

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.customer_id: int | None = None
        self.customer: CustomerRow | None = None
        self.cards: dict[int, AccountCard] = {}
        self.dialogs: dict[tuple[str, int], QDialog] = {}
        self._latest = 0
        self._reveal_tokens: dict[int, int] = {}
        self._token = itertools.count(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel()
        self.title.setStyleSheet("font-size: 15px; font-weight: bold; padding: 4px 2px;")
        layout.addWidget(self.title)

        self.placeholder = QLabel("Select a customer")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet("color: palette(placeholder-text); font-size: 14px;")

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.card_host = QWidget()
        self.card_layout = QVBoxLayout(self.card_host)
        self.card_layout.setContentsMargins(2, 2, 8, 2)
        self.card_layout.setSpacing(10)
        self.card_layout.addStretch(1)
        self.scroll.setWidget(self.card_host)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.scroll)
        layout.addWidget(self.stack, 1)

        self._reload_timer = QTimer(self, singleShot=True, interval=150)
        self._reload_timer.timeout.connect(self.reload)
        self._tick_timer = QTimer(self, interval=TICK_MS)
        self._tick_timer.timeout.connect(self._tick)
        self._tick_timer.start()
        ctx.bridge.subscribe(Event, self._on_event, owner=self)
        self._show_empty("Select a customer", "")

    # ---- public ----------------------------------------------------------------------------
    def show_customer(self, customer_id: int | None) -> None:
        if customer_id != self.customer_id:
            self._clear_cards()
        self.customer_id = customer_id
        if customer_id is None:
            self.ctx.runner.drop("dashboard.load", owner=self)  # loads still on their way
            self._show_empty("Select a customer", "")
            return
        self.reload()

    def reload(self) -> None:
        customer_id = self.customer_id
        if customer_id is None:
            return
        desk = self.ctx.desk

        def load():
            customer = desk.customers.get(customer_id)
            keys = {k.account_id: k for k in desk.keys.list() if k.customer_id == customer_id}
            return customer, keys

        def failed(exc: BaseException) -> None:
            if isinstance(exc, NotFoundError):
                self._clear_cards()
                self._show_empty("This customer no longer exists.", "")
            else:
                self.ctx.report(exc)

        self.ctx.runner.submit(load, on_success=lambda result: self._loaded(*result), supersede="dashboard.load",
                               on_error=failed, owner=self, description="Loading the customer's trackers…")

    # ---- rendering -------------------------------------------------------------------------
    def _loaded(self, customer: CustomerRow, keys: dict[int, KeyRow]) -> None:
        self.customer = customer
        scrolled = self.scroll.verticalScrollBar().value()
        self._clear_cards()  # shown keys are hidden again: a reload may mean the key changed
        count = len(customer.accounts)
        self.title.setText(f"{customer.name} — {count} TikTok account{'s' if count != 1 else ''}")
        self.title.setVisible(True)
        if not customer.accounts:
            self._show_empty("No TikTok accounts yet.\nAdd one to this customer to give it a tracker.",
                             self.title.text())
            self.loaded.emit()
            return
        for account in customer.accounts:
            card = AccountCard(account, keys.get(account.id), self.ctx.can_edit)
            card.show_key_requested.connect(self.show_key)
            card.copy_key_requested.connect(self.copy_key)
            card.generate_requested.connect(self.generate_key)
            card.gift_groups_requested.connect(self.edit_gift_groups)
            card.config_requested.connect(self.edit_config)
            card.message.connect(self.message)
            self.card_layout.insertWidget(self.card_layout.count() - 1, card)
            self.cards[account.id] = card
        self.stack.setCurrentWidget(self.scroll)
        if scrolled:
            QTimer.singleShot(0, self, lambda: self.scroll.verticalScrollBar().setValue(scrolled))
        self.loaded.emit()

    def _clear_cards(self) -> None:
        for card in self.cards.values():
            card.hide()
            card.deleteLater()
        self.cards.clear()
        self._reveal_tokens.clear()

    def _show_empty(self, text: str, title: str) -> None:
        self.placeholder.setText(text)
        self.title.setText(title)
        self.title.setVisible(bool(title))
        self.stack.setCurrentWidget(self.placeholder)

    def _tick(self) -> None:
        for card in self.cards.values():
            card.tick()

    def _on_event(self, event: Event) -> None:
        if self.customer_id is None:
            return
        if isinstance(event, ev.KeysAccessed):
            for account_id, when in event.accessed.items():
                card = self.cards.get(int(account_id))
                if card is not None and when is not None:
                    card.set_accessed(when)
        elif isinstance(event, DatabaseReplaced):
            self._reload_timer.start()
        elif isinstance(event, _RELOAD_EVENTS):
            mine = (getattr(event, "customer_id", None) == self.customer_id
                    or getattr(event, "account_id", None) in self.cards
                    or (isinstance(event, ev.CustomerChanged) and event.customer_id is None))
            if mine:
                self._reload_timer.start()

    def say(self, text: str) -> None:
        self.message.emit(text)

    # ---- key actions -----------------------------------------------------------------------
    def show_key(self, account_id: int) -> None:
        card = self.cards.get(account_id)
        if card is None or not self.ctx.can_edit:
            return

        def shown(api_key: str) -> None:
            card = self.cards.get(account_id)
            if card is None:
                return
            card.reveal(api_key)
            token = self._reveal_tokens[account_id] = next(self._token)
            QTimer.singleShot(int(REVEAL_SECONDS * 1000), self, lambda: self._expire(account_id, token))
            self.say(f"Showing the API key of {card.account.handle} for {REVEAL_SECONDS} s.")

        self.ctx.runner.submit(self.ctx.desk.keys.reveal, account_id, on_success=shown,
                               owner=self, description="Reading the API key…")

    def _expire(self, account_id: int, token: int) -> None:
        if self._reveal_tokens.get(account_id) == token:
            self._reveal_tokens.pop(account_id, None)
            card = self.cards.get(account_id)
            if card is not None:
                card.hide_key()

    def copy_key(self, account_id: int) -> None:
        card = self.cards.get(account_id)
        if card is None or not self.ctx.can_edit:
            return
        handle = card.account.handle

        def copy(api_key: str) -> None:
            copy_secret(api_key, self)
            self.say(f"Copied the API key of {handle}; the clipboard clears in {CLIPBOARD_CLEAR_SECONDS} s.")

        self.ctx.runner.submit(self.ctx.desk.keys.reveal, account_id, on_success=copy,
                               owner=self, description="Reading the API key…")

    def generate_key(self, account_id: int) -> None:
        card = self.cards.get(account_id)
        if card is None or not self.ctx.can_edit:
            return
        handle = card.account.handle
        self.ctx.runner.run(operations.GENERATE_KEY, self.ctx.desk.keys.generate, account_id,
                            on_success=lambda _key: self.say(f"Generated an API key for {handle}."), owner=self,
                            subject=handle)

    # ---- editors ---------------------------------------------------------------------------
    def edit_gift_groups(self, account_id: int) -> None:
        from giftdesk.gui.accounts.gift_groups import GiftGroupsDialog

        self._open_dialog("gift-groups", account_id, GiftGroupsDialog)

    def edit_config(self, account_id: int) -> None:
        from giftdesk.gui.accounts.tracker_config import TrackerConfigDialog

        self._open_dialog("config", account_id, TrackerConfigDialog)

    def _open_dialog(self, kind: str, account_id: int, cls) -> QDialog | None:
        card = self.cards.get(account_id)
        if card is None:
            return None
        existing = self.dialogs.get((kind, account_id))
        if existing is not None:
            if QGuiApplication.platformName() != "offscreen":  # which warns that it cannot raise
                existing.raise_()
            existing.activateWindow()
            return existing
        dialog = cls(self.ctx, account_id, card.account.handle, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialogs[(kind, account_id)] = dialog
        dialog.finished.connect(lambda _result: self.dialogs.pop((kind, account_id), None))
        if hasattr(dialog, "message"):
            dialog.message.connect(self.message)
        dialog.open()
        return dialog
