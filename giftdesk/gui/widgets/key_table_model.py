"""The API-key table's model and proxy, and the time/colour helpers the key views share.

Rows are ``KeyRow``s from ``KeyService.list``. A revealed key lives here only while it is shown
(the tab hides it again after ``REVEAL_SECONDS``); last-access times are patched in place from
``KEYS_ACCESSED`` events, so a busy fleet never makes the table re-query.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

import shiboken6
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
)
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication

from giftdesk.gui import theme
from giftdesk.services.keys import KeyRow

REVEAL_SECONDS = 30
CLIPBOARD_CLEAR_SECONDS = 30
TICK_MS = 5_000

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ACCOUNT_ID_ROLE = Qt.ItemDataRole.UserRole + 2



def status_colour(status: str | None) -> QColor:
    """Green for active, red for inactive, muted otherwise; follows the light/dark theme."""
    c = theme.colors()
    return QColor({"active": c.success, "inactive": c.error}.get(status or "", c.muted))


def muted_colour() -> QColor:
    return QColor(theme.colors().muted)


# ---- shared helpers ----------------------------------------------------------------------------
def relative_time(when: datetime | None, now: datetime | None = None) -> str:
    """'never', 'just now', '12 s ago', '5 min ago', '3 h ago', '2 d ago'."""
    if when is None:
        return "never"
    now = now or datetime.now(timezone.utc)
    seconds = int((now - when).total_seconds())
    if seconds < 0:
        return "just now"  # clocks a second apart
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86_400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86_400
    if days < 60:
        return f"{days} d ago"
    return when.astimezone().strftime("%Y-%m-%d")


def exact_time(when: datetime | None) -> str:
    if when is None:
        return "Never accessed by its tracker"
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def mono_font() -> QFont:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


def alive(obj: QObject) -> bool:
    """False once the C++ side of a widget is gone (a job can finish after its tab closed)."""
    return shiboken6.isValid(obj)


def guarded(obj: QObject, fn: Callable[..., Any]) -> Callable[..., Any]:
    """A runner callback that does nothing when ``obj`` has been deleted meanwhile."""

    def call(*args: Any) -> Any:
        if alive(obj):
            return fn(*args)
        return None

    return call


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def copy_secret(secret: str, context: QObject, seconds: float | None = None,
                on_cleared: Callable[[], None] | None = None) -> None:
    """Puts ``secret`` on the clipboard and wipes it after ``seconds`` if the clipboard still holds it.

    Only a digest is kept for the comparison; ``context`` ends the timer when it is deleted.
    """
    QGuiApplication.clipboard().setText(secret)
    digest = _digest(secret)

    def clear() -> None:
        clipboard = QGuiApplication.clipboard()
        if _digest(clipboard.text()) == digest:
            clipboard.clear()
            if on_cleared is not None:
                on_cleared()

    delay = CLIPBOARD_CLEAR_SECONDS if seconds is None else seconds
    QTimer.singleShot(int(delay * 1000), context, clear)


# ---- model ---------------------------------------------------------------------------------------
class KeyTableModel(QAbstractTableModel):
    CUSTOMER, ACCOUNT, KEY, URL, STATUS, ACCESSED = range(6)
    HEADERS = ("Customer", "Account", "API key", "Instance URL", "Status", "Last accessed")

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._rows: list[KeyRow] = []
        self._index: dict[int, int] = {}  # account id -> row
        self._revealed: dict[int, str] = {}

    # -- contents
    def set_rows(self, rows: Iterable[KeyRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._index = {row.account_id: i for i, row in enumerate(self._rows)}
        # A regenerated key has a new hint: never show the old one again.
        self._revealed = {aid: key for aid, key in self._revealed.items()
                          if aid in self._index and key.endswith(self._rows[self._index[aid]].key_hint)}
        self.endResetModel()

    def row_at(self, row: int) -> KeyRow:
        return self._rows[row]

    def row_for(self, account_id: int) -> KeyRow | None:
        i = self._index.get(account_id)
        return None if i is None else self._rows[i]

    def source_row(self, account_id: int) -> int | None:
        return self._index.get(account_id)

    def rows(self) -> list[KeyRow]:
        return list(self._rows)

    def set_accessed(self, accessed: dict[int, datetime]) -> int:
        """Patches last-access times in place; returns how many rows it touched."""
        touched = 0
        for account_id, when in accessed.items():
            i = self._index.get(int(account_id))
            if i is None or when is None:
                continue
            current = self._rows[i].last_accessed_at
            if current is not None and current >= when:
                continue
            self._rows[i] = dataclasses.replace(self._rows[i], last_accessed_at=when)
            cell = self.index(i, self.ACCESSED)
            self.dataChanged.emit(cell, cell)
            touched += 1
        return touched

    def tick(self) -> None:
        """Re-renders the relative last-access texts."""
        if self._rows:
            self.dataChanged.emit(self.index(0, self.ACCESSED), self.index(len(self._rows) - 1, self.ACCESSED),
                                  [Qt.ItemDataRole.DisplayRole])

    # -- revealed keys
    def reveal(self, account_id: int, key: str) -> None:
        self._revealed[account_id] = key
        self._key_changed(account_id)

    def hide(self, account_id: int) -> None:
        if self._revealed.pop(account_id, None) is not None:
            self._key_changed(account_id)

    def hide_all(self) -> None:
        for account_id in list(self._revealed):
            self.hide(account_id)

    def is_revealed(self, account_id: int) -> bool:
        return account_id in self._revealed

    def revealed_key(self, account_id: int) -> str | None:
        return self._revealed.get(account_id)

    def _key_changed(self, account_id: int) -> None:
        i = self._index.get(account_id)
        if i is not None:
            cell = self.index(i, self.KEY)
            self.dataChanged.emit(cell, cell)

    # -- Qt
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == ACCOUNT_ID_ROLE:
            return row.account_id
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == SORT_ROLE:
            return self._sort_key(row, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == self.ACCESSED:
                return exact_time(row.last_accessed_at)
            if col == self.KEY:
                if row.account_id in self._revealed:
                    return "Shown for a short while; hide it with Show/Hide key (Space)"
                return f"Hidden; generated {exact_time(row.key_generated_at)}. Show it with Space or copy it with Ctrl+C"
            if col == self.URL and not row.instance_url:
                return "No instance URL yet: edit it with F2"
            if col == self.STATUS:
                return ("Trackers using this key are served" if row.status == "active"
                        else "Deactivated: trackers using this key are refused (401)")
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == self.STATUS:
                return status_colour(row.status)
            if (col == self.URL and not row.instance_url) or (col == self.ACCESSED and row.last_accessed_at is None):
                return muted_colour()
            return None
        if role == Qt.ItemDataRole.FontRole:
            if col == self.KEY:
                return mono_font()
            if col == self.STATUS:
                font = QFont()
                font.setBold(True)
                return font
        return None

    def _display(self, row: KeyRow, col: int) -> str:
        if col == self.CUSTOMER:
            return row.customer_name
        if col == self.ACCOUNT:
            return f"@{row.tiktok_username}"
        if col == self.KEY:
            return self._revealed.get(row.account_id, row.masked_key)
        if col == self.URL:
            return row.instance_url or "(not set)"
        if col == self.STATUS:
            return row.status.capitalize()
        if col == self.ACCESSED:
            return relative_time(row.last_accessed_at)
        return ""

    @staticmethod
    def _sort_key(row: KeyRow, col: int):
        if col == KeyTableModel.CUSTOMER:
            return row.customer_name.lower()
        if col == KeyTableModel.ACCOUNT:
            return row.tiktok_username
        if col == KeyTableModel.KEY:
            return row.key_hint
        if col == KeyTableModel.URL:
            return (row.instance_url or "").lower()
        if col == KeyTableModel.STATUS:
            return row.status
        if col == KeyTableModel.ACCESSED:
            # Seconds since the epoch; never-accessed sorts before everything.
            return row.last_accessed_at.timestamp() if row.last_accessed_at else -1.0
        return ""


class KeyFilterProxy(QSortFilterProxyModel):
    """Filters as ``KeyService.list`` does (customer, handle, URL; '@' ignored) without a query."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._needle = ""
        self._status: str | None = None
        self.setSortRole(SORT_ROLE)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def set_filter(self, search: str | None = None, status: str | None = ...) -> None:  # type: ignore[assignment]
        needle = (search if search is not None else self._needle).strip().lower().removeprefix("@")
        new_status = self._status if status is ... else (status or None)
        if needle == self._needle and new_status == self._status:
            return
        begin = getattr(self, "beginFilterChange", None)
        if begin is not None:  # Qt >= 6.9
            begin()
            self._needle, self._status = needle, new_status
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self._needle, self._status = needle, new_status
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        if not isinstance(model, KeyTableModel):
            return True
        row = model.row_at(source_row)
        if self._status and row.status != self._status:
            return False
        if self._needle:
            haystack = (row.tiktok_username, row.customer_name.lower(), (row.instance_url or "").lower())
            return any(self._needle in text for text in haystack)
        return True
