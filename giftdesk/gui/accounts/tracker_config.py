"""Tracker config editor: the tracker's known keys as typed fields, every other key as a JSON value.

Saving replaces the whole ``config`` document (``TrackerDataService.save_config``). A key that
was absent stays absent unless it is given a value here; keys this console does not know are
kept exactly as they came unless edited.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from giftdesk.core.errors import ValidationError
from giftdesk.gui.accounts.tracker_document import TrackerDocumentDialog
from giftdesk.gui.accounts.key_table_model import mono_font
from giftdesk.accounts.tracker_data import CONFIG, CONFIG_NUMBERS, CONFIG_TYPES

THEMES = ("dark", "light")
LANGUAGES = ("en", "es", "pt", "fr", "de", "it", "id", "tr", "ar", "hi", "ja", "ko", "zh")
TEXT_KEYS = ("tiktokUsername", "language")
BOOL_KEYS = ("notifications", "autoConnect")
TYPED_KEYS = tuple(CONFIG_TYPES) + tuple(k for k in CONFIG_NUMBERS if k not in CONFIG_TYPES)
_ORIGINAL = Qt.ItemDataRole.UserRole + 1  # (text as first shown, value) on a value cell
_INT = re.compile(r"^[+-]?\d+$")


def number_value(text: str) -> Any:
    """'1500' -> 1500, '2.5' -> 2.5; anything else is returned as typed for the service to refuse."""
    text = text.strip()
    if _INT.match(text):
        return int(text)
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class TrackerConfigDialog(TrackerDocumentDialog):
    """``TrackerConfigDialog(ctx, account_id, handle, parent)``; call ``open()``."""

    data_type = CONFIG
    title_format = "Tracker config of {handle}"
    default_size = (620, 560)
    document_name = "the tracker config"
    banner_what = "settings"
    loading_text = "Loading the tracker config…"
    reload_title = "Reload config"

    def _init_state(self) -> None:
        self.original: dict[str, Any] = {}
        self._set_by_user: set[str] = set()  # absent keys the user gave a value

    # ---- construction ----------------------------------------------------------------------
    def _build_ui(self) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.username_edit = QLineEdit(placeholderText=f"@{self.handle.removeprefix('@')} (empty: not set)")
        self.username_edit.textChanged.connect(lambda _t: self._touch("tiktokUsername"))
        form.addRow("TikTok username", self.username_edit)

        self.theme_combo = QComboBox()
        self.theme_combo.currentIndexChanged.connect(lambda _i: self._touch("theme"))
        form.addRow("Theme", self.theme_combo)

        self.language_combo = QComboBox()
        self.language_combo.setEditable(True)
        self.language_combo.addItems(("",) + LANGUAGES)
        self.language_combo.lineEdit().setPlaceholderText("e.g. en (empty: not set)")
        self.language_combo.currentTextChanged.connect(lambda _t: self._touch("language"))
        form.addRow("Language", self.language_combo)

        self.checks: dict[str, QCheckBox] = {}
        self.check_hints: dict[str, QLabel] = {}
        for key, label, tip in (("notifications", "Show notifications", "Notifications on the tracker's page"),
                                ("autoConnect", "Connect to the live stream on start",
                                 "The tracker connects to TikTok Live when it starts")):
            row = QHBoxLayout()
            box = QCheckBox(label)
            box.setToolTip(tip)
            box.clicked.connect(lambda _c, k=key: self._touch(k))
            hint = QLabel("not set: the tracker's default")
            hint.setProperty("role", "muted")
            row.addWidget(box)
            row.addWidget(hint)
            row.addStretch(1)
            self.checks[key], self.check_hints[key] = box, hint
            form.addRow("Notifications" if key == "notifications" else "Auto-connect", row)

        self.target_edit = QLineEdit(placeholderText="coins (empty: not set)")
        self.target_edit.textChanged.connect(lambda _t: self._touch("target"))
        form.addRow("Target", self.target_edit)
        self.combo_edit = QLineEdit(placeholderText="milliseconds (empty: not set)")
        self.combo_edit.setToolTip("How long a gift combo may pause before it counts as finished")
        self.combo_edit.textChanged.connect(lambda _t: self._touch("comboTimeout"))
        form.addRow("Combo timeout (ms)", self.combo_edit)
        layout.addLayout(form)

        other = QLabel("<b>Other keys</b> — kept as the tracker saved them; values are JSON "
                       "(\"text\", 12, true, [1, 2], {\"a\": 1}).")
        other.setWordWrap(True)
        layout.addWidget(other)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(("Key", "Value (JSON)"))
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 180)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.itemChanged.connect(self._table_edited)
        layout.addWidget(self.table, 1)
        row_buttons = QHBoxLayout()
        self.add_key_button = QPushButton("Add key")
        self.add_key_button.clicked.connect(self.add_key)
        self.remove_key_button = QPushButton("Remove key")
        self.remove_key_button.clicked.connect(self.remove_key)
        row_buttons.addWidget(self.add_key_button)
        row_buttons.addWidget(self.remove_key_button)
        row_buttons.addStretch(1)
        self.status_label = QLabel()
        self.status_label.setProperty("role", "muted")
        row_buttons.addWidget(self.status_label)
        layout.addLayout(row_buttons)
        layout.addWidget(self.button_box)

    # ---- loading ---------------------------------------------------------------------------
    def _show_loading(self) -> None:
        self.status_label.setText("Loading…")

    def _fill(self, config: dict[str, Any]) -> None:
        self.original = dict(config or {})
        self._filling = True
        try:
            c = self.original
            self.username_edit.setText(self._text(c.get("tiktokUsername")))
            self.theme_combo.clear()
            self.theme_combo.addItem("(not set)", None)
            for theme in THEMES:
                self.theme_combo.addItem(theme.capitalize(), theme)
            theme = c.get("theme")
            if theme is not None and self.theme_combo.findData(theme) < 0:
                self.theme_combo.addItem(f"{theme} (set by the tracker)", theme)
            self.theme_combo.setCurrentIndex(max(0, self.theme_combo.findData(theme)) if theme is not None else 0)
            self.language_combo.setCurrentText(self._text(c.get("language")))
            for key, box in self.checks.items():
                box.setChecked(bool(c.get(key)))
                self.check_hints[key].setVisible(key not in c)
            self.target_edit.setText(self._text(c.get("target")))
            self.combo_edit.setText(self._text(c.get("comboTimeout")))
            self.table.setRowCount(0)
            for key, value in c.items():
                if key not in TYPED_KEYS:
                    self._append_row(key, value)
        finally:
            self._filling = False
        self._set_by_user.clear()

    @staticmethod
    def _text(value: Any) -> str:
        return "" if value is None else str(value)

    def _append_row(self, key: str, value: Any = None, new: bool = False) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        key_item = QTableWidgetItem(key)
        text = "" if new else _json_text(value)
        value_item = QTableWidgetItem(text)
        value_item.setFont(mono_font())
        if not new:
            value_item.setData(_ORIGINAL, (text, value))
        if self.read_only:
            for item in (key_item, value_item):
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
        self.table.setItem(row, 0, key_item)
        self.table.setItem(row, 1, value_item)
        return row

    # ---- editing ---------------------------------------------------------------------------
    def _touch(self, key: str) -> None:
        if self._filling:
            return
        self._set_by_user.add(key)
        self.dirty = True
        if key in self.check_hints:
            self.check_hints[key].hide()

    def _table_edited(self, _item: QTableWidgetItem) -> None:
        if not self._filling:
            self.dirty = True

    def add_key(self) -> None:
        self._filling = True
        try:
            row = self._append_row("", new=True)
        finally:
            self._filling = False
        self.dirty = True
        self.table.setCurrentCell(row, 0)
        self.table.editItem(self.table.item(row, 0))

    def remove_key(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)
            self.dirty = True

    def _update_editors(self, editable: bool) -> None:
        for widget in (self.username_edit, self.target_edit, self.combo_edit):
            widget.setReadOnly(self.read_only)
        self.language_combo.setEnabled(not self.read_only)
        self.theme_combo.setEnabled(not self.read_only)
        for box in self.checks.values():
            box.setEnabled(not self.read_only)
        self.add_key_button.setEnabled(editable)
        self.remove_key_button.setEnabled(editable)
        if self.is_loaded:
            self.status_label.setText(f"{len(self.original)} key{'s' if len(self.original) != 1 else ''} saved")

    # ---- saving ----------------------------------------------------------------------------
    def _typed_values(self) -> dict[str, Any]:
        """The typed fields that carry a value; a field left empty (or never set) is absent."""
        values: dict[str, Any] = {}
        present = set(self.original) | self._set_by_user
        username = self.username_edit.text().strip()
        if username:
            values["tiktokUsername"] = username
        theme = self.theme_combo.currentData()
        if theme is not None:
            values["theme"] = theme
        language = self.language_combo.currentText().strip()
        if language:
            values["language"] = language
        for key, box in self.checks.items():
            if key in present:
                values[key] = box.isChecked()
        for key, edit in (("target", self.target_edit), ("comboTimeout", self.combo_edit)):
            if edit.text().strip():
                values[key] = number_value(edit.text())
        return values

    def _table_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for row in range(self.table.rowCount()):
            key = (self.table.item(row, 0).text() if self.table.item(row, 0) else "").strip()
            value_item = self.table.item(row, 1)
            text = value_item.text() if value_item else ""
            if not key:
                if not text.strip():
                    continue  # an empty row added and left alone
                raise ValidationError("A key in the table has no name.", field=f"row:{row}")
            if key in TYPED_KEYS:
                raise ValidationError(f"{key} has its own field above; remove it from the table.", field=f"row:{row}")
            if key in values:
                raise ValidationError(f"The key {key} is in the table twice.", field=f"row:{row}")
            original = value_item.data(_ORIGINAL) if value_item else None
            if original is not None and original[0] == text:
                values[key] = original[1]  # untouched: exactly as it came
                continue
            try:
                values[key] = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValidationError(
                    f"The value of {key} is not JSON ({exc.msg}); text needs quotes, like \"hello\".",
                    field=f"value:{row}") from None
        return values

    def collect(self) -> dict[str, Any]:
        """The whole config as it would be saved, in the order the tracker had it, new keys last."""
        merged = {**self._typed_values(), **self._table_values()}
        ordered = {key: merged[key] for key in self.original if key in merged}
        ordered.update({key: value for key, value in merged.items() if key not in ordered})
        return ordered

    def _save_call(self) -> Callable[[int, dict[str, Any]], dict[str, Any]]:
        return self.ctx.desk.tracker_data.save_config

    def _saved_message(self, config: dict[str, Any]) -> str:
        return f"Saved the tracker config of {self.handle}."

    def _focus_field(self, field: str) -> None:
        kind, _, rest = field.partition(":")
        if kind in ("row", "value") and rest.isdigit():
            row = int(rest)
            self.table.setCurrentCell(row, 0 if kind == "row" else 1)
            self.table.setFocus()
            return
        widget = {
            "tiktokUsername": self.username_edit, "theme": self.theme_combo, "language": self.language_combo,
            "target": self.target_edit, "comboTimeout": self.combo_edit, **self.checks,
        }.get(field)
        if widget is None:
            for row in range(self.table.rowCount()):
                if self.table.item(row, 0) and self.table.item(row, 0).text().strip() == field:
                    self.table.setCurrentCell(row, 1)
                    self.table.setFocus()
                    return
            return
        widget.setFocus()
        if isinstance(widget, QLineEdit):
            widget.selectAll()
