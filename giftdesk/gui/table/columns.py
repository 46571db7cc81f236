"""What a table shows: ``Column`` (how one column shows a row), roles and alignments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the row object itself
SORT_ROLE = Qt.ItemDataRole.UserRole + 2  # the column's cached sort key for that row
KEY_ROLE = Qt.ItemDataRole.UserRole + 3  # the row's key (id)

LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
CENTER = Qt.AlignmentFlag.AlignCenter


def default_key(row: Any) -> Any:
    for attr in ("id", "account_id", "key"):
        if hasattr(row, attr):
            return getattr(row, attr)
    return id(row)



@dataclass
class Column:
    """How one column shows a row. Only ``title`` and ``value`` are required.

    value:      row -> displayed value (str, int...; ``None`` shows as empty)
    sort:       row -> sort key (defaults to ``value``); ``None`` keys sort first
    search:     row -> the text the filter looks at (defaults to the displayed text)
    searchable: False leaves the column out of the filter (masked keys, icons)
    tooltip:    row -> tooltip text
    foreground: row -> QColor/QBrush/None
    decoration: row -> QIcon/QColor/None
    font:       row -> QFont/None
    width:      initial width in pixels (None: fit contents)
    stretch:    this column takes the remaining width
    hidden:     hidden until the user shows it (header context menu)
    ident:      the name the remembered layout uses (defaults to ``title``)
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
    search: Callable[[Any], str | None] | None = None
    searchable: bool = True
    hidden: bool = False
    ident: str | None = None

    @property
    def name(self) -> str:
        return self.ident or self.title

