"""Generic table helpers: rows are plain Python objects (service dataclasses), columns say how to show them.

    columns = [
        Column("Name", lambda c: c.name),
        Column("Accounts", lambda c: c.account_count, align=RIGHT),
        Column("Created", lambda c: fmt_datetime(c.created_at), sort=lambda c: c.created_at),
    ]
    table = RowTableView(columns, empty_text="No customers yet")
    table.set_rows(service_rows)           # keeps the selection (by row key) and the sort order
    table.current_changed.connect(...)     # emits the selected row object or None
    table.set_filter_text("abc")           # optional client-side filter over displayed text

``RowTableModel`` and ``RowFilterProxy`` can also be used on their own with any ``QAbstractItemView``.
The model holds no logic besides presentation: fetching rows is the caller's job (in the runner).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the row object itself
SORT_ROLE = Qt.ItemDataRole.UserRole + 2  # the column's sort key for that row
KEY_ROLE = Qt.ItemDataRole.UserRole + 3  # the row's key (id)

LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
CENTER = Qt.AlignmentFlag.AlignCenter


def _default_key(row: Any) -> Any:
    for attr in ("id", "account_id", "key"):
        if hasattr(row, attr):
            return getattr(row, attr)
    return id(row)


@dataclass
class Column:
    """How one column shows a row. Only ``title`` and ``value`` are required.

    value:      row -> displayed value (str, int...; ``None`` shows as empty)
    sort:       row -> sort key (defaults to ``value``); ``None`` keys sort first
    tooltip:    row -> tooltip text
    foreground: row -> QColor/QBrush/None
    decoration: row -> QIcon/QColor/None
    font:       row -> QFont/None
    width:      initial width in pixels (None: fit contents)
    stretch:    this column takes the remaining width
    """

    title: str
    value: Callable[[Any], Any]
    sort: Callable[[Any], Any] | None = None
    align: Qt.AlignmentFlag | None = None
    tooltip: Callable[[Any], str | None] | None = None
    foreground: Callable[[Any], Any] | None = None
    decoration: Callable[[Any], Any] | None = None
    font: Callable[[Any], Any] | None = None
    width: int | None = None
    stretch: bool = False
    header_tooltip: str | None = None


class RowTableModel(QAbstractTableModel):
    """A read-only table over a list of row objects."""

    def __init__(self, columns: Sequence[Column], key: Callable[[Any], Any] = _default_key, parent=None):
        super().__init__(parent)
        self.columns = list(columns)
        self.key = key
        self._rows: list[Any] = []
        self._keys: list[Any] = []

    # ---- data ----------------------------------------------------------------------------
    @property
    def rows(self) -> list[Any]:
        return list(self._rows)

    def set_rows(self, rows: Iterable[Any]) -> None:
        """Replace the rows. The same keys in the same order only refresh the cells (no reset)."""
        rows = list(rows)
        keys = [self.key(r) for r in rows]
        if keys == self._keys and rows:
            self._rows = rows
            self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(self.columns) - 1))
            return
        self.beginResetModel()
        self._rows, self._keys = rows, keys
        self.endResetModel()

    def row_at(self, row: int) -> Any:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of_key(self, key: Any) -> int:
        try:
            return self._keys.index(key)
        except ValueError:
            return -1

    # ---- QAbstractTableModel -------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.header_tooltip
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align is not None:
            return int(column.align)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            value = column.value(row)
            return "" if value is None else value if isinstance(value, str | int) else str(value)
        if role == SORT_ROLE:
            return (column.sort or column.value)(row)
        if role == ROW_ROLE:
            return row
        if role == KEY_ROLE:
            return self._keys[index.row()]
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align is not None:
            return int(column.align)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
            return column.tooltip(row)
        if role == Qt.ItemDataRole.ForegroundRole and column.foreground is not None:
            return column.foreground(row)
        if role == Qt.ItemDataRole.DecorationRole and column.decoration is not None:
            return column.decoration(row)
        if role == Qt.ItemDataRole.FontRole and column.font is not None:
            return column.font(row)
        return None


def _sortable(value: Any) -> tuple:
    """Orders None first and never compares unrelated types (str vs int) directly."""
    if value is None:
        return (0, 0, "")
    if isinstance(value, str):
        return (1, 1, value.casefold())
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return (1, 0, aware.timestamp())
    if isinstance(value, bool | int | float):
        return (1, 0, value)
    return (1, 2, str(value).casefold())


class RowFilterProxy(QSortFilterProxyModel):
    """Sorts by ``SORT_ROLE`` with None-safe comparisons; filters on displayed text, case-insensitively.

    ``set_filter_text`` matches every whitespace-separated word against any column (or the
    ``filter_columns`` given); ``set_predicate`` adds an arbitrary row test.
    """

    def __init__(self, parent=None, filter_columns: Sequence[int] | None = None):
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setDynamicSortFilter(True)
        self.filter_columns = list(filter_columns) if filter_columns is not None else None
        self._words: list[str] = []
        self._predicate: Callable[[Any], bool] | None = None

    def set_filter_text(self, text: str) -> None:
        self.beginFilterChange()
        self._words = [w.casefold() for w in (text or "").split()]
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_predicate(self, predicate: Callable[[Any], bool] | None) -> None:
        self.beginFilterChange()
        self._predicate = predicate
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent) -> bool:
        model = self.sourceModel()
        if self._predicate is not None:
            row = model.data(model.index(source_row, 0, source_parent), ROW_ROLE)
            if not self._predicate(row):
                return False
        if not self._words:
            return True
        columns = self.filter_columns if self.filter_columns is not None else range(model.columnCount())
        haystack = " ".join(
            str(model.data(model.index(source_row, c, source_parent), Qt.ItemDataRole.DisplayRole) or "")
            for c in columns
        ).casefold()
        return all(word in haystack for word in self._words)

    def lessThan(self, left, right) -> bool:
        model = self.sourceModel()
        a = model.data(left, SORT_ROLE)
        b = model.data(right, SORT_ROLE)
        ka, kb = _sortable(a), _sortable(b)
        if ka != kb:
            return ka < kb
        return left.row() < right.row()  # stable: ties keep the service's order


class RowTableView(QTableView):
    """A table over a ``RowTableModel`` through a ``RowFilterProxy``, with an empty-state message.

    Signals carry row objects, not indexes: ``current_changed(row | None)``, ``row_activated(row)``
    (double-click or Enter).
    """

    current_changed = Signal(object)
    row_activated = Signal(object)

    def __init__(
        self,
        columns: Sequence[Column],
        key: Callable[[Any], Any] = _default_key,
        parent: QWidget | None = None,
        empty_text: str = "Nothing to show",
        multi_select: bool = False,
        filter_columns: Sequence[int] | None = None,
        sorting: bool = True,
    ):
        super().__init__(parent)
        self.source = RowTableModel(columns, key, self)
        self.proxy = RowFilterProxy(self, filter_columns)
        self.proxy.setSourceModel(self.source)
        self.setModel(self.proxy)
        self._empty_text = empty_text
        self._filtered_empty_text = "Nothing matches the filter"
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(
            QAbstractItemView.SelectionMode.ExtendedSelection if multi_select
            else QAbstractItemView.SelectionMode.SingleSelection
        )
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(not any(c.stretch for c in columns))
        header.setDefaultAlignment(LEFT)
        for i, column in enumerate(columns):
            if column.stretch:
                header.setSectionResizeMode(i, QHeaderView.ResizeMode.Stretch)
            elif column.width:
                header.resizeSection(i, column.width)
        if sorting:
            self.setSortingEnabled(True)
            header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the service's order until clicked
        self.selectionModel().currentRowChanged.connect(self._on_current_row)
        self.doubleClicked.connect(self._on_activated)
        self._last_current: Any = object()

    # ---- rows ----------------------------------------------------------------------------
    def set_rows(self, rows: Iterable[Any]) -> None:
        """Replace the rows, keeping the selected row (by key) and the scroll position."""
        selected = self.selected_keys()
        current = self.current_key()
        scroll = self.verticalScrollBar().value()
        blocker = self.selectionModel().blockSignals(True)
        try:
            self.source.set_rows(rows)
            if current is not None or selected:
                self._select_keys(selected or [current], current if current is not None else selected[0])
        finally:
            self.selectionModel().blockSignals(blocker)
        self.verticalScrollBar().setValue(scroll)
        self.viewport().update()
        self._emit_current()

    @property
    def rows(self) -> list[Any]:
        return self.source.rows

    def visible_rows(self) -> list[Any]:
        return [self.proxy.data(self.proxy.index(r, 0), ROW_ROLE) for r in range(self.proxy.rowCount())]

    def row_count(self) -> int:
        """Rows shown (after the filter)."""
        return self.proxy.rowCount()

    def set_empty_text(self, text: str, filtered: str | None = None) -> None:
        self._empty_text = text
        if filtered is not None:
            self._filtered_empty_text = filtered
        self.viewport().update()

    def set_filter_text(self, text: str) -> None:
        self.proxy.set_filter_text(text)
        self.viewport().update()

    # ---- selection -----------------------------------------------------------------------
    def current_row(self) -> Any:
        index = self.currentIndex()
        if not index.isValid() or not self.selectionModel().isRowSelected(index.row(), QModelIndex()):
            return None
        return self.proxy.data(self.proxy.index(index.row(), 0), ROW_ROLE)

    def current_key(self) -> Any:
        row = self.current_row()
        return None if row is None else self.source.key(row)

    def selected_rows(self) -> list[Any]:
        return [self.proxy.data(i, ROW_ROLE) for i in self.selectionModel().selectedRows(0)]

    def selected_keys(self) -> list[Any]:
        return [self.source.key(r) for r in self.selected_rows()]

    def select_key(self, key: Any) -> bool:
        """Select and scroll to the row with ``key``; False when it is not shown."""
        found = self._select_keys([key], key)
        self._emit_current()
        return found

    def clear_selection(self) -> None:
        self.selectionModel().clear()
        self._emit_current()

    def _select_keys(self, keys: list[Any], current: Any) -> bool:
        model = self.selectionModel()
        model.clearSelection()
        found = False
        for key in keys:
            source_row = self.source.row_of_key(key)
            if source_row < 0:
                continue
            proxy_index = self.proxy.mapFromSource(self.source.index(source_row, 0))
            if not proxy_index.isValid():
                continue
            flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
            if key == current:
                model.setCurrentIndex(proxy_index, flags)
                self.scrollTo(proxy_index)
                found = True
            else:
                model.select(proxy_index, flags)
        if not found:
            model.setCurrentIndex(QModelIndex(), QItemSelectionModel.SelectionFlag.NoUpdate)
        return found

    def _on_current_row(self, *_args) -> None:
        self._emit_current()

    def _emit_current(self) -> None:
        row = self.current_row()
        # Emit when the selection moves, and on fresh data for the same key (a new row object).
        if row is not self._last_current:
            self._last_current = row
            self.current_changed.emit(row)

    def _on_activated(self, index: QModelIndex) -> None:
        row = self.proxy.data(self.proxy.index(index.row(), 0), ROW_ROLE)
        if row is not None:
            self.row_activated.emit(row)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.current_row() is not None:
            self.row_activated.emit(self.current_row())
            event.accept()
            return
        super().keyPressEvent(event)

    # ---- empty state ---------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.proxy.rowCount() > 0:
            return
        text = self._filtered_empty_text if self.source.rowCount() > 0 else self._empty_text
        if not text:
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
        rect = self.viewport().rect().adjusted(24, 24, -24, -24)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), text)
        painter.end()


# ---- formatting helpers shared by tables ---------------------------------------------------
def _aware(value: datetime) -> datetime:
    """The database hands back UTC; a naive value is read as UTC too."""
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def fmt_datetime(value: datetime | None, empty: str = "") -> str:
    """Local time, minutes precision: ``2025-10-16 14:03``."""
    return empty if value is None else _aware(value).astimezone().strftime("%Y-%m-%d %H:%M")


def fmt_date(value: datetime | None, empty: str = "") -> str:
    return empty if value is None else _aware(value).astimezone().strftime("%Y-%m-%d")


def fmt_ago(value: datetime | None, now: datetime | None = None, empty: str = "never") -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``2 days ago``, else the date."""
    if value is None:
        return empty
    value = _aware(value)
    now = now or datetime.now(timezone.utc)
    seconds = (now - value).total_seconds()
    if seconds < 0:
        return fmt_datetime(value)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 7 * 86400:
        days = int(seconds // 86400)
        return f"{days} day{'s' if days != 1 else ''} ago"
    return fmt_date(value)
