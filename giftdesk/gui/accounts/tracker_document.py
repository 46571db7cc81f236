"""What the tracker-document editors share: load, dirty state, read-only mode, save, tracker notices.

``TrackerDocumentDialog`` loads one document a tracker reads (``data_type``) through the job
runner and saves it through ``TrackerDataService``, which judges the input: a refused save keeps
the dialog open with the input intact and focuses the offending field. A subclass builds its
form and implements the hooks marked below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from giftdesk.core.errors import ValidationError
from giftdesk.gui import theme
from giftdesk.gui.prompts import Prompts
from giftdesk.accounts import events as ev


class TrackerSavedBanner(QFrame):
    """'This tracker saved new … while this editor was open — Reload'."""

    reload_requested = Signal()

    def __init__(self, what: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trackerSavedBanner")
        c = theme.colors()
        self.setStyleSheet(f"#trackerSavedBanner {{ background: {c.warning_bg}; border: 1px solid {c.warning}; "
                           f"border-radius: 6px; }} #trackerSavedBanner QLabel {{ color: {c.warning}; }}")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel(f"This tracker saved new {what} while this editor was open.")
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self.reload_button = QPushButton("Reload")
        self.reload_button.setToolTip("Load what the tracker saved (your unsaved changes are discarded)")
        self.reload_button.clicked.connect(self.reload_requested)
        layout.addWidget(self.reload_button)
        self.hide()


class TrackerDocumentDialog(QDialog):
    """``Dialog(ctx, account_id, handle, parent)``; call ``open()``.

    ``loaded`` fires when the document arrives, ``saved(dict)`` after a successful save (then the
    dialog accepts). ``message`` carries status-bar texts. ``banner`` and ``button_box`` are made
    here; the subclass's ``_build_ui`` places them.
    """

    loaded = Signal()
    saved = Signal(dict)
    message = Signal(str)

    data_type: str  # the tracker_data document, e.g. GIFT_GROUPS
    title_format: str  # window title, with {handle}
    default_size: tuple[int, int]
    document_name: str  # "the gift groups": in the save description and the discard question
    banner_what: str  # "This tracker saved new {banner_what} …"
    loading_text: str  # the runner's description while loading
    reload_title: str  # title of the "discard and reload?" question

    def __init__(self, ctx, account_id: int, handle: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.account_id = account_id
        self.handle = handle or f"account {account_id}"
        self.read_only = not ctx.can_edit
        self.dirty = False
        self.is_loaded = False
        self._saving = False
        self._filling = False  # set while the form is filled from data, so its signals are not edits
        self._init_state()
        self.setWindowTitle(self.title_format.format(handle=self.handle)
                            + (" (read-only)" if self.read_only else ""))
        self.resize(*self.default_size)
        self.banner = TrackerSavedBanner(self.banner_what)
        self.banner.reload_requested.connect(self.reload_from_tracker)
        self.button_box = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.button_box.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.clicked.connect(self.save)
        self.button_box.rejected.connect(self.reject)
        self._build_ui()
        self._update_enabled()
        ctx.bridge.subscribe(ev.TrackerDataSaved, self._on_saved_elsewhere, owner=self)
        self.load()

    # ---- hooks -----------------------------------------------------------------------------
    def _init_state(self) -> None:
        """The subclass's own state; runs before ``_build_ui`` since ``_update_enabled`` reads it."""

    def _build_ui(self) -> None:
        raise NotImplementedError

    def _show_loading(self) -> None:
        """Says in the form that the document is being loaded."""
        raise NotImplementedError

    def _fill(self, document: dict[str, Any]) -> None:
        """Shows a freshly loaded document (with ``_filling`` set around widget updates)."""
        raise NotImplementedError

    def _update_editors(self, editable: bool) -> None:
        """Enables the subclass's widgets; ``editable``: loaded, not read-only, not saving."""
        raise NotImplementedError

    def collect(self) -> dict[str, Any]:
        """The document as it would be saved; raises ValidationError naming the field."""
        raise NotImplementedError

    def _save_call(self) -> Callable[[int, dict[str, Any]], dict[str, Any]]:
        """The ``TrackerDataService`` method that saves the document."""
        raise NotImplementedError

    def _saved_message(self, document: dict[str, Any]) -> str:
        raise NotImplementedError

    def _focus_field(self, field: str) -> None:
        """Brings the widget of a ValidationError's ``field`` into view and focuses it."""
        raise NotImplementedError

    # ---- loading ---------------------------------------------------------------------------
    def load(self) -> None:
        self.is_loaded = False
        self._show_loading()
        self._update_enabled()
        self.ctx.runner.submit(self.ctx.desk.tracker_data.get, self.account_id, self.data_type,
                               on_success=self._loaded, owner=self, description=self.loading_text)

    def _loaded(self, document: dict[str, Any]) -> None:
        self._fill(document)
        self.dirty = False
        self.is_loaded = True
        self.banner.hide()
        self._update_enabled()
        self.loaded.emit()

    def reload_from_tracker(self) -> None:
        if self.dirty and not Prompts.confirm(self, self.reload_title,
                                              "Discard your unsaved changes and load what the tracker saved?"):
            return
        self.load()

    def _on_saved_elsewhere(self, event: ev.TrackerDataSaved) -> None:
        if event.account_id == self.account_id and event.data_type == self.data_type and event.source == "tracker":
            self.banner.show()

    def _update_enabled(self) -> None:
        editable = self.is_loaded and not self.read_only and not self._saving
        # Save last: a focused widget that gets disabled hands the focus on to the next one.
        self._update_editors(editable)
        self.save_button.setEnabled(editable)
        if self.read_only:
            self.save_button.setToolTip("Viewers cannot change tracker data")

    # ---- saving ----------------------------------------------------------------------------
    def save(self) -> None:
        if self.read_only or not self.is_loaded or self._saving:
            return
        try:
            document = self.collect()
        except ValidationError as exc:
            self._refused(exc)
            return
        self._saving = True
        self._update_enabled()
        self.ctx.runner.submit(self._save_call(), self.account_id, document,
                               on_success=self._saved, on_error=self._refused,
                               owner=self, description=f"Saving {self.document_name} of {self.handle}…")

    def _saved(self, document: dict[str, Any]) -> None:
        self._saving = False
        self.dirty = False
        self.message.emit(self._saved_message(document))
        self.saved.emit(document)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        """The dialog stays open with everything as typed; the offending field gets the focus."""
        self._saving = False
        self._update_enabled()
        if isinstance(exc, ValidationError) and exc.field:
            self._focus_field(exc.field)
        self.ctx.report(exc)

    def reject(self) -> None:
        if self.dirty and not self.read_only and not Prompts.confirm(
                self, "Discard changes", f"Discard your changes to {self.document_name} of {self.handle}?"):
            return
        super().reject()
