"""File → Move in…: what the agency runs today, brought over with every tracker left running.

One tab per source (``sources``), each the same page (``page.SourcePage``): choose the files,
Preview shows what would be adopted, created, updated, linked or skipped and why (nothing changes),
Import writes it all in one transaction.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTabWidget, QVBoxLayout, QWidget

from giftdesk.gui.move_in.page import SourcePage
from giftdesk.gui.move_in.sources import sources


class MoveInDialog(QDialog):
    """One page per system to move in from."""

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("move-in-dialog")
        self.setWindowTitle("Move in")
        self.resize(1000, 680)
        layout = QVBoxLayout(self)
        intro = QLabel("Brings over what the agency runs today, in the order of the tabs. Each page previews first "
                       "and changes nothing until you press Import; an import is all or nothing, and importing the "
                       "same files again changes nothing.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.tabs = QTabWidget()
        self.pages: dict[str, SourcePage] = {}
        for source in sources():
            page = SourcePage(ctx, source, self)
            self.pages[source.key] = page
            self.tabs.addTab(page, source.title)
        layout.addWidget(self.tabs, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
