"""``RowTableView``: a ``RowTableModel`` in a table with an empty-state message and remembered columns."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPoint,
    QSettings,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QPainter, QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView, QWidget

from giftdesk.gui.table.columns import LEFT, Column, default_key
from giftdesk.gui.table.model import PreparedRows, RowTableModel


def table_settings() -> QSettings:
    """Where tables remember their columns: the app's own QSettings (an ini file, per user)."""
    organisation = QCoreApplication.organizationName() or "GiftDesk"
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, organisation, "tables")


class RowTableView(QTableView):
    """A self-sorting, self-filtering ``RowTableModel`` in a table with an empty-state message.

    Signals carry row objects, not indexes: ``current_changed(row | None)``, ``row_activated(row)``
    (double-click or Enter). With ``settings_key`` the table remembers which columns are shown,
    their order and widths (header context menu; drag the headers to reorder).
    """

    current_changed = Signal(object)
    row_activated = Signal(object)

    def __init__(
        self,
        columns: Sequence[Column] | None = None,
        key: Callable[[Any], Any] = default_key,
        parent: QWidget | None = None,
        empty_text: str = "Nothing to show",
        multi_select: bool = False,
        filter_columns: Sequence[int] | None = None,
        sorting: bool = True,
        settings_key: str | None = None,
        model: RowTableModel | None = None,
    ):
        super().__init__(parent)
        if model is None:
            if columns is None:
                raise ValueError("RowTableView needs columns or a model")
            model = RowTableModel(columns, key, self, filter_columns=filter_columns)
        elif model.parent() is None:
            model.setParent(self)
        self.source = model
        self.setModel(model)
        columns = model.columns
        self._empty_text = empty_text
        self._filtered_empty_text = "Nothing matches the filter"
        self._settings_key = settings_key
        self._restoring = False
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
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(not any(c.stretch for c in columns))
        header.setDefaultAlignment(LEFT)
        header.setSectionsMovable(True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        for i, column in enumerate(columns):
            if column.stretch:
                header.setSectionResizeMode(i, QHeaderView.ResizeMode.Stretch)
            elif column.width:
                header.resizeSection(i, column.width)
            if column.hidden:
                header.setSectionHidden(i, True)
        if sorting:
            self.setSortingEnabled(True)
            header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the service's order until clicked
        selection = self.selectionModel()
        # A mouse press moves the current index before it selects: follow both, or a click
        # reports "nothing selected" until the next key press.
        selection.currentRowChanged.connect(self._on_current_row)
        selection.selectionChanged.connect(self._on_selection_changed)
        # Lay the rows out at once after a re-sort or a filter change, not from a zero timer on
        # the next loop turn: that would paint the viewport twice (before and after the layout).
        model.layoutChanged.connect(self.executeDelayedItemsLayout)
        model.filter_changed.connect(self.viewport().update)
        self.doubleClicked.connect(self._on_activated)
        self._last_current: Any = object()
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(250)
        self._save_timer.timeout.connect(self.save_layout)
        self._fitting = False
        self._hand_sized: set[int] = set()
        header.sectionResized.connect(self._section_resized)
        if settings_key:
            self.restore_layout()
            header.sectionResized.connect(self._layout_touched)
            header.sectionMoved.connect(self._layout_touched)

    # ---- rows ------------------------------------------------------------------------------
    def set_rows(self, rows: Iterable[Any] | PreparedRows) -> None:
        """Replace the rows by key (a diff), keeping the selection, the current row and the scroll position.

        ``rows`` may come from ``table.source.prepare(rows)`` run on a worker thread."""
        self._apply(lambda: self.source.set_rows(rows))

    def upsert_rows(self, rows: Iterable[Any]) -> None:
        self._apply(lambda: self.source.upsert_rows(rows))

    def remove_keys(self, keys: Iterable[Any]) -> None:
        self._apply(lambda: self.source.remove_keys(keys))

    def refresh(self, columns: Sequence[int] | None = None) -> None:
        """Recompute cached texts (a ticking "5 min ago") without new rows."""
        self._apply(lambda: self.source.refresh(columns))

    def _apply(self, update: Callable[[], None]) -> None:
        scroll = self.verticalScrollBar().value()
        update()
        if self.verticalScrollBar().value() != scroll:
            self.verticalScrollBar().setValue(scroll)
        self._emit_current()

    @property
    def rows(self) -> list[Any]:
        return self.source.row_list()

    def visible_rows(self) -> list[Any]:
        return self.source.visible_rows()

    def row_count(self) -> int:
        """Rows shown (after the filter)."""
        return self.source.rowCount()

    def row_for(self, key: Any) -> Any:
        return self.source.row_for(key)

    def set_empty_text(self, text: str, filtered: str | None = None) -> None:
        self._empty_text = text
        if filtered is not None:
            self._filtered_empty_text = filtered
        self.viewport().update()

    def set_filter_text(self, text: str) -> None:
        self.source.set_filter_text(text)
        self._emit_current()

    def set_predicate(self, predicate: Callable[[Any], bool] | None) -> None:
        self.source.set_predicate(predicate)
        self._emit_current()

    def refilter(self) -> None:
        self.source.refilter()
        self._emit_current()

    # ---- selection -------------------------------------------------------------------------
    def current_row(self) -> Any:
        index = self.currentIndex()
        if not index.isValid() or not self.selectionModel().isRowSelected(index.row(), QModelIndex()):
            return None
        return self.source.row_at(index.row())

    def current_key(self) -> Any:
        index = self.currentIndex()
        if not index.isValid() or not self.selectionModel().isRowSelected(index.row(), QModelIndex()):
            return None
        return self.source.key_at(index.row())

    def selected_rows(self) -> list[Any]:
        return [self.source.row_at(i.row()) for i in self.selectionModel().selectedRows(0)]

    def selected_keys(self) -> list[Any]:
        return [self.source.key_at(i.row()) for i in self.selectionModel().selectedRows(0)]

    def select_key(self, key: Any) -> bool:
        """Select and scroll to the row with ``key``; False when it is not shown."""
        found = self._select_keys([key], key)
        self._emit_current()
        return found

    def select_keys(self, keys: Sequence[Any]) -> bool:
        found = self._select_keys(list(keys), keys[0] if keys else None)
        self._emit_current()
        return found

    def clear_selection(self) -> None:
        self.selectionModel().clear()
        self._emit_current()

    def _select_keys(self, keys: list[Any], current: Any) -> bool:
        model = self.selectionModel()
        selection = QItemSelection()
        current_index = QModelIndex()
        for key in keys:
            index = self.source.index_of_key(key)
            if not index.isValid():
                continue
            selection.select(index, index)
            if key == current:
                current_index = index
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        model.select(selection, flags)
        if current_index.isValid():
            model.setCurrentIndex(current_index, QItemSelectionModel.SelectionFlag.NoUpdate)
            self.scrollTo(current_index)
            return True
        model.setCurrentIndex(QModelIndex(), QItemSelectionModel.SelectionFlag.NoUpdate)
        return False

    def _on_current_row(self, *_args) -> None:
        self._emit_current()

    def _on_selection_changed(self, *_args) -> None:
        self._emit_current()

    def _emit_current(self) -> None:
        row = self.current_row()
        # Emit when the selection moves, and on fresh data for the same key (a new row object).
        if row is not self._last_current:
            self._last_current = row
            self.current_changed.emit(row)

    def _on_activated(self, index: QModelIndex) -> None:
        row = self.source.row_at(index.row())
        if row is not None:
            self.row_activated.emit(row)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.current_row() is not None:
            self.row_activated.emit(self.current_row())
            event.accept()
            return
        super().keyPressEvent(event)

    # ---- remembered columns ----------------------------------------------------------------
    def column_visible(self, column: int) -> bool:
        return not self.horizontalHeader().isSectionHidden(column)

    def set_column_visible(self, column: int, visible: bool) -> None:
        header = self.horizontalHeader()
        shown = [i for i in range(header.count()) if not header.isSectionHidden(i)]
        if not visible and shown == [column]:
            return  # the last shown column stays
        header.setSectionHidden(column, not visible)
        self._layout_touched()

    def _header_menu(self, pos: QPoint) -> None:
        menu = self.header_menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.horizontalHeader().mapToGlobal(pos))

    def header_menu(self) -> QMenu:
        """The header's context menu: a check box per column, and a way back to the defaults."""
        menu = QMenu(self)
        menu.setObjectName("table-columns-menu")
        header = self.horizontalHeader()
        shown = [i for i in range(header.count()) if not header.isSectionHidden(i)]
        for i, column in enumerate(self.source.columns):
            action = QAction(column.title, menu)
            action.setCheckable(True)
            action.setChecked(i in shown)
            action.setEnabled(shown != [i])  # the last shown column cannot go
            action.toggled.connect(lambda checked, i=i: self.set_column_visible(i, checked))
            menu.addAction(action)
        menu.addSeparator()
        reset = menu.addAction("Reset columns")
        reset.triggered.connect(self.reset_layout)
        return menu

    def _layout_touched(self, *_args) -> None:
        if self._settings_key and not self._restoring:
            self._save_timer.start()

    def layout_state(self) -> dict[str, dict[str, Any]]:
        header = self.horizontalHeader()
        return {
            column.name: {"visible": not header.isSectionHidden(i), "position": header.visualIndex(i),
                          "width": header.sectionSize(i) if not header.isSectionHidden(i) else
                          (header.sectionSize(i) or column.width or 0)}
            for i, column in enumerate(self.source.columns)
        }

    def save_layout(self) -> None:
        self._save_timer.stop()
        if not self._settings_key:
            return
        settings = table_settings()
        settings.setValue(f"{self._settings_key}/columns", json.dumps(self.layout_state()))
        settings.sync()

    def restore_layout(self) -> None:
        if not self._settings_key:
            return
        raw = table_settings().value(f"{self._settings_key}/columns")
        try:
            state = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            state = None
        if not isinstance(state, dict):
            return
        header = self.horizontalHeader()
        self._restoring = True
        try:
            columns = self.source.columns
            known = [(i, state[c.name]) for i, c in enumerate(columns) if isinstance(state.get(c.name), dict)]
            # Positions first (in target order), then visibility and widths.
            for i, saved in sorted(known, key=lambda item: item[1].get("position", item[0])):
                position = saved.get("position")
                if isinstance(position, int) and 0 <= position < header.count():
                    header.moveSection(header.visualIndex(i), position)
            for i, saved in known:
                header.setSectionHidden(i, not saved.get("visible", True))
                width = saved.get("width")
                if (isinstance(width, int) and width > 0 and not columns[i].stretch
                        and header.sectionResizeMode(i) == QHeaderView.ResizeMode.Interactive):
                    header.resizeSection(i, width)
            if all(header.isSectionHidden(i) for i in range(header.count())):
                header.setSectionHidden(0, False)
        finally:
            self._restoring = False

    def fit_columns(self, sample: int = 200) -> None:
        """Columns as wide as their header and their widest cell (of the first ``sample`` rows), within
        the viewport: when the total does not fit, the widest give way first; the stretch column takes
        what is left. Never wider than the view: the window does
        not grow and nothing scrolls sideways. Columns a person resized keep their width."""
        header = self.horizontalHeader()
        model = self.source
        columns = model.columns
        visible = [i for i in range(len(columns)) if not header.isSectionHidden(i)]
        if not visible:
            return
        cell_fm, header_fm = self.fontMetrics(), header.fontMetrics()
        rows = min(model.rowCount(), sample)
        wanted: dict[int, int] = {}
        floor: dict[int, int] = {}
        for i in visible:
            title = header_fm.horizontalAdvance(str(model.headerData(i, Qt.Orientation.Horizontal) or "")) + 28
            widest = max((cell_fm.horizontalAdvance(str(model.index(r, i).data() or "")) for r in range(rows)),
                         default=0) + 18
            wanted[i] = max(title, widest)
            floor[i] = min(title, wanted[i])
        for i in visible:
            if i in self._hand_sized:
                wanted[i] = floor[i] = header.sectionSize(i)
        available = self.viewport().width()
        stretch = [i for i in visible if columns[i].stretch]
        fixed = [i for i in visible if i not in stretch]

        def capped(level: int, keep: set[int]) -> dict[int, int]:
            return {i: wanted[i] if i in keep else min(wanted[i], max(level, floor[i])) for i in visible}

        widths = dict(wanted)
        if sum(wanted.values()) > available:
            # The widest columns give way first, down to a common width (never below their header):
            # a short state ("exited (0)") stays whole while a long handle is elided. The stretch
            # column (the one a person reads whole, an image name) gives way only when that is not enough.
            keep = set(stretch) if sum(capped(0, set(stretch)).values()) <= available else set()
            low, high = 0, max(wanted.values())
            while low < high:
                level = (low + high + 1) // 2
                if sum(capped(level, keep).values()) <= available:
                    low = level
                else:
                    high = level - 1
            widths = capped(low, keep)
        self._fitting = True
        try:
            for i in fixed:
                if header.sectionResizeMode(i) == QHeaderView.ResizeMode.Interactive and i not in self._hand_sized:
                    header.resizeSection(i, widths[i])
        finally:
            self._fitting = False

    def _section_resized(self, index: int, _old: int, _new: int) -> None:
        if not self._fitting and not self._restoring and not self.source.columns[index].stretch:
            self._hand_sized.add(index)  # a person's width: fit_columns leaves it

    def reset_layout(self) -> None:
        header = self.horizontalHeader()
        self._restoring = True
        try:
            for i, column in enumerate(self.source.columns):
                header.moveSection(header.visualIndex(i), i)
                header.setSectionHidden(i, column.hidden)
                if column.width and not column.stretch:
                    header.resizeSection(i, column.width)
        finally:
            self._restoring = False
        self.save_layout()

    def hideEvent(self, event) -> None:  # noqa: N802
        if self._save_timer.isActive():  # the window is closing: keep the last column change
            self.save_layout()
        super().hideEvent(event)

    # ---- empty state -----------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.source.rowCount() > 0:
            return
        text = self._filtered_empty_text if self.source.total_count() > 0 else self._empty_text
        if not text:
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
        rect = self.viewport().rect().adjusted(24, 24, -24, -24)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), text)
        painter.end()

