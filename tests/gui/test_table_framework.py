"""The table framework (RowTableModel / RowTableView): updates by key, sorting and filtering on
cached values, selection through live updates, remembered columns, mouse selection, headers."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from giftdesk.gui.table import LEFT, RIGHT, Column, RowTableModel, RowTableView


@dataclass(frozen=True)
class Item:
    id: int
    name: str
    size: int | None
    when: datetime | None = None


COLUMNS = [
    Column("Name", lambda r: r.name, width=120),
    Column("Size", lambda r: r.size, align=RIGHT, width=80),
    Column("When", lambda r: r.when.strftime("%H:%M") if r.when else "", sort=lambda r: r.when, width=90),
]
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def items(n: int) -> list[Item]:
    return [Item(i, f"item {i:04d}", i % 7, T0 + timedelta(minutes=i)) for i in range(1, n + 1)]


class Signals:
    """Counts what a model tells its views."""

    def __init__(self, model: RowTableModel):
        self.resets = self.inserted = self.removed = self.layouts = 0
        self.changed: list[tuple[int, int]] = []
        model.modelReset.connect(lambda: self._bump("resets"))
        model.rowsInserted.connect(lambda _p, first, last: self._bump("inserted", last - first + 1))
        model.rowsRemoved.connect(lambda _p, first, last: self._bump("removed", last - first + 1))
        model.layoutChanged.connect(lambda *_: self._bump("layouts"))
        model.dataChanged.connect(lambda tl, br, *_: self.changed.append((tl.row(), br.row())))

    def _bump(self, name: str, by: int = 1) -> None:
        setattr(self, name, getattr(self, name) + by)


@pytest.fixture
def view(qtbot):
    def make(**kwargs) -> RowTableView:
        table = RowTableView(kwargs.pop("columns", COLUMNS), **kwargs)
        qtbot.addWidget(table)
        table.resize(500, 300)
        table.show()
        qtbot.waitExposed(table)
        return table

    return make


def test_set_rows_is_a_diff_by_key_never_a_reset_after_the_first_fill(view, qtbot):
    table = view()
    signals = Signals(table.source)
    rows = items(100)
    table.set_rows(rows)
    assert signals.resets == 1
    qtbot.waitUntil(lambda: table.source.cold_count() == 0)  # texts computed in idle moments

    changed = replace(rows[41], name="renamed")
    fresh_equal = replace(rows[10])  # a new object with the same content
    new_rows = [r for r in rows if r.id not in (5, 6, 90)]
    new_rows[new_rows.index(rows[41])] = changed
    new_rows[new_rows.index(rows[10])] = fresh_equal
    new_rows.append(Item(500, "newcomer", 1))
    table.set_rows(new_rows)

    assert signals.resets == 1
    assert signals.removed == 3 and signals.inserted == 1
    # Only the renamed row is signalled as changed (the equal copy is not).
    assert [table.source.row_at(first) for first, last in signals.changed for _ in (0,)] == [changed]
    assert table.rows == new_rows
    assert table.source.row_of_key(500) == len(new_rows) - 1
    assert table.row_for(42) is changed


def test_upsert_and_remove_by_key_keep_the_selection_and_the_scroll_position(view, qtbot):
    table = view()
    rows = items(2000)
    table.set_rows(rows)
    table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert table.select_key(1000)
    scroll = table.verticalScrollBar().value()
    assert scroll > 0
    seen = []
    table.current_changed.connect(seen.append)

    # A batch touching every other row, the selected one among them, plus a removal above it.
    batch = [replace(r, size=(r.size or 0) + 100) for r in rows[1::2]]
    table.upsert_rows(batch)
    table.remove_keys([1999, 1998])
    assert table.current_key() == 1000
    assert table.current_row().size == rows[999].size + 100
    assert seen and seen[-1].id == 1000  # fresh data for the selected row is announced
    assert table.verticalScrollBar().value() == scroll
    assert [r.id for r in table.visible_rows()[:3]] == [2000, 1997, 1996]

    # Re-sorting by another column keeps the selected row selected and in view.
    table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    assert table.current_key() == 1000
    assert table.selected_keys() == [1000]


def test_sorting_uses_cached_keys_none_first_and_stable_ties(view):
    table = view()
    rows = [Item(1, "b", 3), Item(2, "B", None), Item(3, "a", 3), Item(4, "c", 1, T0)]
    table.set_rows(rows)
    table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    assert [r.id for r in table.visible_rows()] == [2, 4, 1, 3]  # None first, ties in service order
    table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    assert [r.id for r in table.visible_rows()] == [1, 3, 4, 2]  # None last, ties still in service order
    table.sortByColumn(2, Qt.SortOrder.DescendingOrder)  # by the datetime, not the "HH:MM" text
    assert table.visible_rows()[0].id == 4
    # A live change moves the row to its sorted place.
    table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    table.upsert_rows([replace(rows[0], size=0)])
    assert [r.id for r in table.visible_rows()] == [2, 1, 4, 3]


def test_a_column_mixing_numbers_and_texts_still_sorts(view):
    table = view(columns=[Column("Value", lambda r: r.name)])
    table.set_rows([Item(1, "x", 0), Item(2, 5, 0), Item(3, None, 0), Item(4, 2.5, 0)])  # type: ignore[arg-type]
    table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert [r.id for r in table.visible_rows()] == [3, 4, 2, 1]
    # Live updates on a sorted column: the first brings a text among numbers, the next moves it back.
    table2 = view(columns=[Column("Value", lambda r: r.name)])
    table2.set_rows([Item(1, 3, 0), Item(2, 1, 0), Item(3, None, 0)])  # type: ignore[arg-type]
    table2.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    table2.upsert_rows([Item(2, 5, 0)])  # type: ignore[arg-type]
    assert [r.id for r in table2.visible_rows()] == [2, 1, 3]
    table2.upsert_rows([Item(1, "zz", 0)])  # type: ignore[arg-type]
    assert [r.id for r in table2.visible_rows()] == [1, 2, 3]  # texts after numbers, reversed; None last
    table2.upsert_rows([Item(1, 0, 0)])  # type: ignore[arg-type]
    assert [r.id for r in table2.visible_rows()] == [2, 1, 3]


def test_filter_words_and_predicate_work_on_the_cache(view):
    table = view()
    table.set_rows(items(30))
    table.set_filter_text("ITEM 001")
    assert [r.id for r in table.visible_rows()] == [1, *range(10, 20)]
    table.set_filter_text("item 0012")  # narrower: only the shown rows are tested
    assert [r.id for r in table.visible_rows()] == [12]
    table.set_filter_text("")
    table.set_predicate(lambda r: r.size == 0)
    assert [r.id for r in table.visible_rows()] == [7, 14, 21, 28]
    # An update that makes a row match shows it; one that stops matching hides it.
    table.upsert_rows([replace(table.row_for(1), size=0), replace(table.row_for(7), size=3)])
    assert [r.id for r in table.visible_rows()] == [1, 14, 21, 28]
    assert table.source.row_of_key(7) == -1 and table.source.row_of_key(14) == 1


def test_a_mouse_click_selects_the_row_and_reports_it(view, qtbot):
    table = view()
    table.set_rows(items(5))
    seen = []
    table.current_changed.connect(seen.append)
    index = table.model().index(2, 1)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(index).center())
    assert table.current_row() is not None and table.current_key() == 3
    assert seen[-1].id == 3


def test_headers_follow_their_columns_alignment(view):
    table = view()
    model = table.model()
    align = Qt.ItemDataRole.TextAlignmentRole
    assert model.headerData(1, Qt.Orientation.Horizontal, align) == int(RIGHT)
    assert model.headerData(0, Qt.Orientation.Horizontal, align) == int(LEFT)


def test_columns_shown_order_and_widths_are_remembered_per_table(view, qtbot, tmp_path):
    first = view(settings_key="things")
    header = first.horizontalHeader()
    menu = first.header_menu()
    size_action = next(a for a in menu.actions() if a.text() == "Size")
    size_action.setChecked(False)  # as a click on the context menu's check box does
    assert header.isSectionHidden(1)
    header.moveSection(header.visualIndex(2), 0)  # "When" dragged to the front
    header.resizeSection(2, 222)
    first.save_layout()

    again = view(settings_key="things")
    h = again.horizontalHeader()
    assert h.isSectionHidden(1)
    assert h.logicalIndex(0) == 2
    assert h.sectionSize(2) == 222
    other = view(settings_key="other-table")  # another table keeps its own layout
    assert not other.horizontalHeader().isSectionHidden(1)
    stored = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                       QApplication.organizationName() or "GiftDesk", "tables").fileName()
    assert stored.startswith(str(tmp_path))

    # The last shown column cannot be hidden; "Reset columns" restores the defaults.
    for column in (0, 2):
        again.set_column_visible(column, False)
    assert not h.isSectionHidden(2) or not h.isSectionHidden(0)
    again.reset_layout()
    assert all(not h.isSectionHidden(i) for i in range(3)) and h.logicalIndex(0) == 0


def test_header_context_menu_lists_every_column(view):
    table = view()
    header = table.horizontalHeader()
    assert header.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu
    assert header.sectionsMovable()
    menu = table.header_menu()
    assert [a.text() for a in menu.actions() if a.isCheckable()] == ["Name", "Size", "When"]
    next(a for a in menu.actions() if a.text() == "When").trigger()  # a click on the checked entry
    assert header.isSectionHidden(2)


def test_relative_times_refresh_without_new_rows(view):
    now = datetime.now(timezone.utc)
    from giftdesk.gui.timefmt import relative_time

    table = view(columns=[Column("Seen", lambda r: relative_time(r.when), sort=lambda r: r.when)])
    table.set_rows([Item(1, "a", 0, now - timedelta(seconds=30))])
    assert table.model().index(0, 0).data() == "30 s ago"
    table.source.rows  # noqa: B018  (the property still works)
    table.set_rows([Item(1, "a", 0, now - timedelta(minutes=3))])
    table.refresh()
    assert table.model().index(0, 0).data() == "3 min ago"


def test_batches_prepared_on_a_worker_thread_keep_the_table_sorted_and_filtered(view):
    import random
    import threading

    rnd = random.Random(3)
    table = view()
    rows = {r.id: r for r in items(3000)}
    table.set_rows(list(rows.values()))
    table.set_predicate(lambda r: r.id % 3 != 0)
    table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    for _ in range(5):
        batch = [replace(rows[k], size=rnd.choice([None, *range(10)])) for k in rnd.sample(sorted(rows), 500)]
        batch += [Item(max(rows) + n, f"item 0new{n}", rnd.randrange(10)) for n in range(1, 4)]
        rows.update({r.id: r for r in batch})
        prepared = []
        worker = threading.Thread(target=lambda b=batch: prepared.append(table.source.prepare(b)))
        worker.start()
        worker.join()
        table.upsert_rows(prepared[0])
        # The order a fresh sort gives: None last when descending, ties in the service's order.
        service = list(rows.values())
        shown = [r for r in service if r.id % 3 != 0]
        expected = sorted((r for r in shown if r.size is not None), key=lambda r: -r.size)  # stable sort
        expected += [r for r in shown if r.size is None]
        assert [r.id for r in table.visible_rows()] == [r.id for r in expected]
        assert all(table.source.row_of_key(r.id) == i for i, r in enumerate(expected))


def test_rows_prepared_on_a_worker_fill_and_diff_like_plain_rows(qtbot):
    """A whole list reloaded off the GUI thread: ``prepare`` there, ``set_rows`` here."""
    import threading
    from dataclasses import dataclass

    from giftdesk.gui.table import Column, RowTableView

    @dataclass(frozen=True)
    class Row:
        id: int
        name: str
        size: int

    calls = []
    columns = [Column("Name", lambda r: (calls.append(threading.current_thread().name), r.name)[1]),
               Column("Size", lambda r: str(r.size), sort=lambda r: r.size)]
    table = RowTableView(columns)
    qtbot.addWidget(table)
    made = {}
    worker = threading.Thread(target=lambda: made.update(p=table.source.prepare([Row(i, f"n{i}", 10 - i) for i in range(10)])),
                              name="prepare-worker")
    worker.start()
    worker.join()
    calls.clear()
    table.set_rows(made["p"])  # first fill: nothing computed on this thread
    assert calls == [] and table.row_count() == 10
    table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    assert [r.id for r in table.visible_rows()][:3] == [9, 8, 7]
    table.select_key(3)
    worker = threading.Thread(target=lambda: made.update(p=table.source.prepare(
        [Row(i, f"n{i}", 10 - i) for i in range(10) if i != 5] + [Row(3, "renamed", 7)])), name="prepare-worker")
    worker.start()
    worker.join()
    calls.clear()
    table.set_rows(made["p"])  # a diff: one removed, one changed, the selection kept
    assert calls == []
    assert table.row_count() == 9 and table.current_key() == 3
    assert table.current_row().name == "renamed"


def test_a_big_fill_computes_texts_only_when_painted_or_idle(view, qtbot):
    """10,000 rows appear without formatting them all first; idle moments fill in the rest."""
    calls = []
    columns = [Column("Name", lambda r: calls.append(r.id) or r.name, width=120),
               Column("Size", lambda r: r.size, align=RIGHT, width=80)]
    table = view(columns=columns)
    rows = items(10_000)
    table.set_rows(rows)
    assert len(calls) == 0  # no sort column: nothing formatted yet
    assert table.source.index(4, 0).data() == "item 0005"  # what a paint asks: that row alone
    assert calls == [5]
    qtbot.waitUntil(lambda: table.source.cold_count() == 0)
    assert len(set(calls)) == 10_000


def test_sorting_filtering_and_updates_are_right_before_the_texts_are_computed(view):
    table = view()
    rows = items(3_000)
    table.set_rows(rows)  # no event loop turn: every row is still cold
    table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    shown = table.visible_rows()
    assert [r.size for r in shown] == sorted((r.size for r in rows), reverse=True)
    assert table.source.cold_count() > 2_900

    moved = replace(rows[6], size=99)  # a cold row whose sort key changes moves to the top
    table.upsert_rows([moved])
    assert table.visible_rows()[0] is moved

    table.set_filter_text("item 0042")  # a filter needs every search text: computed at once
    assert table.visible_rows() == [rows[41]]
    assert table.source.cold_count() == 0
    table.set_filter_text("")
    assert len(table.visible_rows()) == 3_000
