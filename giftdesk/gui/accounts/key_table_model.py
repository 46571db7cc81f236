"""The API-key table (a ``RowTableModel`` of ``KeyRow``s) and the helpers the key views share.

A revealed key lives here only while it is shown (the tab hides it again after
``REVEAL_SECONDS``); last-access times are patched by key from ``KEYS_ACCESSED`` events
(``upsert_rows``), so a busy fleet never makes the table re-query.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication

from giftdesk.gui import theme
from giftdesk.gui.table import KEY_ROLE, Column, RowTableModel
from giftdesk.gui.timefmt import exact_time as _exact_time
from giftdesk.gui.timefmt import relative_time  # noqa: F401  (the one helper; views import it from here too)

if TYPE_CHECKING:  # the keys' module loads the ORM, which the window's first paint does without
    from giftdesk.accounts.keys import KeyRow

REVEAL_SECONDS = 30
CLIPBOARD_CLEAR_SECONDS = 30
TICK_MS = 5_000

ACCOUNT_ID_ROLE = KEY_ROLE  # the row's key is its account id


def status_colour(status: str | None) -> QColor:
    """Green for active, red for inactive, muted otherwise; follows the light/dark theme."""
    c = theme.colors()
    return QColor({"active": c.success, "inactive": c.error}.get(status or "", c.muted))


def muted_colour() -> QColor:
    return QColor(theme.colors().muted)


# ---- shared helpers ----------------------------------------------------------------------------
def exact_time(when: datetime | None) -> str:
    return _exact_time(when)


def mono_font() -> QFont:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


def _digest(text: str) -> str:
    import hashlib  # here: OpenSSL's start-up is not the window's first paint's

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
class KeyTableModel(RowTableModel):
    """Every API key; the column numbers below are the tab's. Keyed by account id."""

    CUSTOMER, ACCOUNT, KEY, URL, STATUS, ACCESSED = range(6)
    HEADERS = ("Customer", "Account", "API key", "Instance URL", "Status", "Last accessed")

    def __init__(self, parent: QObject | None = None):
        # The columns close over this dict, never over the model: a model in a reference cycle
        # would wait for the cyclic collector (see gc_guard) instead of going with its view.
        self._revealed: dict[int, str] = {}
        revealed = self._revealed

        def key_tooltip(row: KeyRow) -> str:
            if row.account_id in revealed:
                return "Shown for a short while; hide it with Show/Hide key (Space)"
            return (f"Hidden; generated {exact_time(row.key_generated_at)}. "
                    "Show it with Space or copy it with Ctrl+C")

        bold = QFont()
        bold.setBold(True)
        mono = mono_font()
        columns = [
            Column("Customer", lambda r: r.customer_name, width=150),
            Column("Account", lambda r: f"@{r.tiktok_username}", sort=lambda r: r.tiktok_username, width=130),
            Column("API key", lambda r: revealed.get(r.account_id, r.masked_key), sort=lambda r: r.key_hint,
                   searchable=False, width=330, font=lambda _r: mono, tooltip=key_tooltip),
            Column("Instance URL", lambda r: r.instance_url or "(not set)", sort=lambda r: (r.instance_url or ""),
                   search=lambda r: r.instance_url or "", stretch=True,
                   foreground=lambda r: None if r.instance_url else muted_colour(),
                   tooltip=lambda r: None if r.instance_url else "No instance URL yet: edit it with F2"),
            Column("Status", lambda r: r.status.capitalize(), searchable=False, width=80,
                   foreground=lambda r: status_colour(r.status), font=lambda _r: bold,
                   tooltip=lambda r: "Trackers using this key are served" if r.status == "active"
                   else "Deactivated: trackers using this key are refused (401)"),
            Column("Last accessed", lambda r: relative_time(r.last_accessed_at), sort=lambda r: r.last_accessed_at,
                   searchable=False, width=110, tooltip=lambda r: exact_time(r.last_accessed_at),
                   foreground=lambda r: muted_colour() if r.last_accessed_at is None else None),
        ]
        super().__init__(columns, key=lambda r: r.account_id, parent=parent)

    # -- contents
    def set_rows(self, rows: Iterable[KeyRow]) -> None:
        rows = list(rows)
        hints = {row.account_id: row.key_hint for row in rows}
        # A regenerated key has a new hint: never show the old one again.
        stale = [aid for aid, key in self._revealed.items() if aid not in hints or not key.endswith(hints[aid])]
        for aid in stale:
            del self._revealed[aid]
        super().set_rows(rows)

    def rows(self) -> list[KeyRow]:  # type: ignore[override]  # a method here, as the tab has always called it
        return self.row_list()

    def source_row(self, account_id: int) -> int | None:
        """The shown row of ``account_id`` (None when absent or filtered out)."""
        row = self.row_of_key(account_id)
        return None if row < 0 else row

    def set_accessed(self, accessed: dict[int, datetime]) -> int:
        """Patches last-access times by key; returns how many rows it touched."""
        newer = []
        for account_id, when in accessed.items():
            row = self.row_for(int(account_id))
            if row is None or when is None:
                continue
            if row.last_accessed_at is not None and row.last_accessed_at >= when:
                continue
            newer.append(dataclasses.replace(row, last_accessed_at=when))
        self.upsert_rows(newer)
        return len(newer)

    def tick(self) -> None:
        """Re-renders the relative last-access texts."""
        self.refresh([self.ACCESSED])

    def set_filter(self, search: str, status: str | None) -> None:
        """Words of ``search`` in customer, @handle or URL; ``status`` 'active'/'inactive' or None for all."""
        self._predicate = None if not status else (lambda row: row.status == status)
        self._words = [w.casefold() for w in (search or "").split()]
        self.refilter()

    # -- revealed keys
    def reveal(self, account_id: int, key: str) -> None:
        self._revealed[account_id] = key
        self._key_changed(account_id)

    def hide(self, account_id: int | None) -> None:
        if self._revealed.pop(account_id, None) is not None:  # type: ignore[arg-type]
            self._key_changed(account_id)

    def hide_all(self) -> None:
        for account_id in list(self._revealed):
            self.hide(account_id)

    def is_revealed(self, account_id: int) -> bool:
        return account_id in self._revealed

    def revealed_key(self, account_id: int) -> str | None:
        return self._revealed.get(account_id)

    def _key_changed(self, account_id: int | None) -> None:
        row = self.row_for(account_id)
        if row is not None:
            self.upsert_rows([row])  # the cached text changes: one dataChanged for that row
