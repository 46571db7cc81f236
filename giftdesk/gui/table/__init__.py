"""One table framework for every tab: rows are plain Python objects, columns say how to show them.

    columns = [
        Column("Name", lambda c: c.name),
        Column("Accounts", lambda c: c.account_count, align=RIGHT),
        Column("Created", lambda c: fmt_datetime(c.created_at), sort=lambda c: c.created_at),
    ]
    table = RowTableView(columns, empty_text="No customers yet", settings_key="customers")
    table.set_rows(service_rows)           # a diff by key: inserts, removes, changes; never a reset
    table.upsert_rows(changed_rows)        # live updates by key (an event, a stats batch)
    table.remove_keys([3, 4])
    table.current_changed.connect(...)     # emits the selected row object or None
    table.set_filter_text("abc")           # every word must occur in the row's search text

``RowTableModel`` sorts and filters itself. Each row's displayed texts, sort keys and search text
are computed once and cached (``prepare`` can do that on a worker thread); sorting is Python's list
sort over the cached keys followed by one ``layoutChanged`` that remaps persistent indexes (so the
selection and the current row follow their rows), and filtering is a substring test over the cached
search text. Nothing calls back into Python per comparison, which is what made the former
``QSortFilterProxyModel`` take seconds on 10,000 rows. Key -> row is a dict kept in step.

A big fill is lazy: a row arriving unprepared gets only its key for the current sort column; its
texts are computed when it is first painted, and the rest are filled in idle moments in small
chunks (or at once when a filter needs them). Formatting 10,000 rows up front (~0.15 s) was most of
the time it took a big table to appear.

Only the roles a painted cell asks for beyond the text (tooltip, colour, font, icon) call the
column's functions on demand, and only for visible cells.
"""

from giftdesk.gui.table.columns import CENTER, KEY_ROLE, LEFT, RIGHT, ROW_ROLE, SORT_ROLE, Column
from giftdesk.gui.table.model import PreparedRows, RowTableModel
from giftdesk.gui.table.view import RowTableView, table_settings
from giftdesk.gui.timefmt import fmt_ago, fmt_date, fmt_datetime

__all__ = [
    "CENTER", "KEY_ROLE", "LEFT", "RIGHT", "ROW_ROLE", "SORT_ROLE", "Column", "PreparedRows", "RowTableModel",
    "RowTableView", "fmt_ago", "fmt_date", "fmt_datetime", "table_settings",
]
