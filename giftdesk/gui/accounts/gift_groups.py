"""Gift-group editor: the ``gift-groups`` document a tracker loads, edited group by group.

The dialog collects what was typed and lets ``TrackerDataService`` judge it, so the console and
trackers in the field follow one set of rules; a refused save keeps the dialog open with the
input intact and focuses the offending field. Fields a tracker added to a group are kept.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from giftdesk.core.errors import ValidationError
from giftdesk.gui import theme
from giftdesk.gui.accounts.tracker_document import TrackerDocumentDialog
from giftdesk.accounts.tracker_data import GIFT_GROUPS

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_INT = re.compile(r"^[+-]?\d+$")
_SEPARATORS = re.compile(r"[\s,;]+")
KNOWN_FIELDS = ("name", "goal", "color", "giftIds")
DEFAULT_COLOUR = "#4f8ef7"


def swatch(colour: str, size: int = 14) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(colour) if _COLOUR.match(colour or "") else QColor(0, 0, 0, 0))
    return QIcon(pixmap)


def parse_gift_ids(text: str, where: str) -> list[Any]:
    """'5655, 5656 5657' -> [5655, 5656, 5657]; refuses what is not a whole number, naming it."""
    ids: list[Any] = []
    for token in _SEPARATORS.split(text.strip()):
        if not token:
            continue
        if not _INT.match(token):
            raise ValidationError(
                f"'{token}' in {where}.giftIds is not a gift id: list whole numbers separated by commas.",
                field=f"{where}.giftIds",
            )
        ids.append(int(token))
    return ids


def _goal_value(text: str) -> Any:
    """An integer when the text is one; otherwise the text itself, which the service refuses by name."""
    text = text.strip()
    return int(text) if _INT.match(text) else text


class _Group:
    """One group as edited: the texts in the form plus the original object (key order, extra fields)."""

    def __init__(self, group_id: str, data: Any):
        self.id = group_id
        self.original: dict[str, Any] = copy.deepcopy(data) if isinstance(data, dict) else {}
        name = self.original.get("name")
        self.name = name if isinstance(name, str) else ("" if name is None else str(name))
        goal = self.original.get("goal")
        self.has_goal = goal is not None
        self.goal = "" if goal is None else str(goal)
        colour = self.original.get("color")
        self.color = colour if isinstance(colour, str) else ""
        ids = self.original.get("giftIds")
        self.gift_ids = ", ".join(str(g) for g in ids) if isinstance(ids, list) else ""

    @property
    def extra_fields(self) -> list[str]:
        return [k for k in self.original if k not in KNOWN_FIELDS]

    def build(self) -> dict[str, Any]:
        where = f"groups.{self.id}"
        group = copy.deepcopy(self.original)  # keeps the tracker's extra fields, in their order
        group["name"] = self.name.strip()
        if self.has_goal:
            group["goal"] = _goal_value(self.goal)
        elif group.get("goal") is not None:
            del group["goal"]  # the group follows the tracker's overall goal
        group["color"] = self.color.strip()
        group["giftIds"] = parse_gift_ids(self.gift_ids, where)
        if not self.original:  # a new group: the tracker's field order
            group = {k: group[k] for k in KNOWN_FIELDS if k in group}
        return group

    def clone(self, new_id: str) -> "_Group":
        twin = copy.copy(self)
        twin.id = new_id
        twin.original = copy.deepcopy(self.original)
        twin.name = f"{self.name} (copy)" if self.name else ""
        return twin


class GiftGroupsDialog(TrackerDocumentDialog):
    """``GiftGroupsDialog(ctx, account_id, handle, parent)``; call ``open()``.

    ``loaded`` fires when the groups arrive, ``saved(dict)`` after a successful save (then the
    dialog accepts). ``message`` carries status-bar texts.
    """

    data_type = GIFT_GROUPS
    title_format = "Gift groups of {handle}"
    default_size = (760, 480)
    document_name = "the gift groups"
    banner_what = "gift groups"
    loading_text = "Loading gift groups…"
    reload_title = "Reload gift groups"

    def _init_state(self) -> None:
        self.groups: list[_Group] = []
        self._colour_dialog: QColorDialog | None = None

    # ---- construction ----------------------------------------------------------------------
    def _build_ui(self) -> None:
        layout = QVBoxLayout(self)
        intro = QLabel("Each group sums the coins of its gifts towards its goal on the tracker's overlay.")
        intro.setProperty("role", "muted")
        layout.addWidget(intro)
        layout.addWidget(self.banner)

        splitter = QSplitter()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setAccessibleName("Gift groups")
        self.list.currentRowChanged.connect(self._show_group)
        left_layout.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self.add_group)
        self.duplicate_button = QPushButton("Duplicate")
        self.duplicate_button.clicked.connect(self.duplicate_group)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_group)
        for button in (self.add_button, self.duplicate_button, self.remove_button):
            buttons.addWidget(button)
        left_layout.addLayout(buttons)
        splitter.addWidget(left)

        self.form_host = QWidget()
        host_layout = QVBoxLayout(self.form_host)
        host_layout.setContentsMargins(8, 0, 0, 0)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        host_layout.addLayout(form)
        host_layout.addStretch(1)
        self.id_label = QLabel()
        self.id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.id_label.setProperty("role", "muted")
        form.addRow("Group id", self.id_label)
        self.name_edit = QLineEdit(placeholderText="e.g. VIP Gifts")
        self.name_edit.textChanged.connect(lambda text: self._edited("name", text))
        form.addRow("Name", self.name_edit)

        goal_row = QHBoxLayout()
        self.goal_check = QCheckBox("Has its own goal")
        self.goal_check.setToolTip("Unticked: the group has no goal of its own (trackers then use their overall goal)")
        self.goal_check.toggled.connect(self._goal_toggled)
        self.goal_edit = QLineEdit(placeholderText="coins, e.g. 50000")
        self.goal_edit.textChanged.connect(lambda text: self._edited("goal", text))
        goal_row.addWidget(self.goal_check)
        goal_row.addWidget(self.goal_edit, 1)
        form.addRow("Goal", goal_row)

        colour_row = QHBoxLayout()
        self.colour_button = QToolButton()
        self.colour_button.setToolTip("Pick a colour")
        self.colour_button.clicked.connect(self.pick_colour)
        self.colour_edit = QLineEdit(placeholderText="#rrggbb")
        self.colour_edit.setMaxLength(20)
        self.colour_edit.textChanged.connect(lambda text: self._edited("color", text))
        colour_row.addWidget(self.colour_button)
        colour_row.addWidget(self.colour_edit, 1)
        form.addRow("Colour", colour_row)

        self.ids_edit = QPlainTextEdit()
        self.ids_edit.setPlaceholderText("5655, 5656, 5657")
        self.ids_edit.setTabChangesFocus(True)
        self.ids_edit.setMaximumHeight(90)
        self.ids_edit.textChanged.connect(self._ids_changed)
        form.addRow("Gift ids", self.ids_edit)
        self.ids_hint = QLabel()
        self.ids_hint.setProperty("role", "muted")
        form.addRow("", self.ids_hint)
        self.extra_label = QLabel()
        self.extra_label.setWordWrap(True)
        self.extra_label.setProperty("role", "muted")
        form.addRow("", self.extra_label)
        splitter.addWidget(self.form_host)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 500])
        layout.addWidget(splitter, 1)

        self.empty_label = QLabel()
        self.empty_label.setProperty("role", "muted")
        layout.addWidget(self.empty_label)
        layout.addWidget(self.button_box)

    # ---- loading ---------------------------------------------------------------------------
    def _show_loading(self) -> None:
        self.empty_label.setText("Loading gift groups…")

    def _fill(self, data: dict[str, Any]) -> None:
        self.groups = [_Group(str(gid), group) for gid, group in (data or {}).items()]
        self._fill_list(0 if self.groups else -1)

    # ---- list and form ---------------------------------------------------------------------
    def _fill_list(self, select: int) -> None:
        self._filling = True
        self.list.clear()
        for group in self.groups:
            item = QListWidgetItem()
            self.list.addItem(item)
            self._render_item(item, group)
        self._filling = False
        self.list.setCurrentRow(select)
        self._show_group(self.list.currentRow())
        self._update_enabled()

    @staticmethod
    def _render_item(item: QListWidgetItem, group: _Group) -> None:
        item.setText(group.name.strip() or "(unnamed group)")
        item.setIcon(swatch(group.color.strip()))
        item.setToolTip(f"Group id: {group.id}")

    def current_group(self) -> _Group | None:
        row = self.list.currentRow()
        return self.groups[row] if 0 <= row < len(self.groups) else None

    def _show_group(self, row: int) -> None:
        if self._filling:
            return
        group = self.current_group()
        self._filling = True
        try:
            self.id_label.setText(group.id if group else "")
            self.name_edit.setText(group.name if group else "")
            self.goal_check.setChecked(bool(group and group.has_goal))
            self.goal_edit.setText(group.goal if group else "")
            self.colour_edit.setText(group.color if group else "")
            self.ids_edit.setPlainText(group.gift_ids if group else "")
            extra = group.extra_fields if group else []
            self.extra_label.setText(f"Also kept as the tracker saved them: {', '.join(extra)}" if extra else "")
            self.extra_label.setVisible(bool(extra))
        finally:
            self._filling = False
        self._refresh_colour()
        self._refresh_ids_hint()
        self._update_enabled()

    def _edited(self, field: str, value: Any) -> None:
        group = self.current_group()
        if self._filling or group is None:
            return
        setattr(group, field, value)
        self.dirty = True
        if field in ("name", "color"):
            self._render_item(self.list.currentItem(), group)
        if field == "color":
            self._refresh_colour()

    def _goal_toggled(self, checked: bool) -> None:
        self.goal_edit.setEnabled(checked and not self.read_only)
        self._edited("has_goal", checked)
        if checked and not self._filling and not self.goal_edit.text():
            self.goal_edit.setFocus()

    def _ids_changed(self) -> None:
        self._edited("gift_ids", self.ids_edit.toPlainText())
        self._refresh_ids_hint()

    def _refresh_ids_hint(self) -> None:
        group = self.current_group()
        if group is None:
            self.ids_hint.setText("")
            return
        try:
            count = len(parse_gift_ids(self.ids_edit.toPlainText(), f"groups.{group.id}"))
        except ValidationError as exc:
            self.ids_hint.setText(str(exc).split(" in ")[0] + " is not a whole number")
            self.ids_hint.setStyleSheet(f"color: {theme.colors().error};")
            return
        self.ids_hint.setStyleSheet("")
        self.ids_hint.setText(f"{count} gift id{'s' if count != 1 else ''} · separate them with commas")

    def _refresh_colour(self) -> None:
        self.colour_button.setIcon(swatch(self.colour_edit.text().strip(), 16))

    def pick_colour(self) -> None:
        if self.current_group() is None or self.read_only:
            return
        current = QColor(self.colour_edit.text().strip())
        dialog = QColorDialog(current if current.isValid() else QColor(DEFAULT_COLOUR), self)
        dialog.setWindowTitle("Group colour")
        dialog.colorSelected.connect(self.set_colour)
        dialog.finished.connect(dialog.deleteLater)
        self._colour_dialog = dialog
        dialog.open()

    def set_colour(self, colour: QColor | str) -> None:
        text = colour.name() if isinstance(colour, QColor) else colour
        self.colour_edit.setText(text)
        self._edited("color", text)

    def _update_editors(self, editable: bool) -> None:
        has_group = self.current_group() is not None
        self.form_host.setEnabled(has_group)
        for widget in (self.name_edit, self.goal_edit, self.colour_edit):
            widget.setReadOnly(self.read_only)
        self.ids_edit.setReadOnly(self.read_only)
        self.goal_check.setEnabled(not self.read_only)
        self.colour_button.setEnabled(not self.read_only)
        self.goal_edit.setEnabled(self.goal_check.isChecked() and not self.read_only)
        self.add_button.setEnabled(editable)
        self.duplicate_button.setEnabled(editable and has_group)
        self.remove_button.setEnabled(editable and has_group)
        if self.is_loaded:
            count = len(self.groups)
            self.empty_label.setText(
                "No gift groups yet: add one." if count == 0 and not self.read_only
                else "This tracker has no gift groups." if count == 0
                else f"{count} group{'s' if count != 1 else ''}")

    # ---- group operations ------------------------------------------------------------------
    def _new_id(self) -> str:
        taken = {g.id for g in self.groups}
        numbers = [int(m.group(1)) for g in self.groups if (m := re.fullmatch(r"group-(\d+)", g.id))]
        n = max(numbers, default=0) + 1
        while f"group-{n}" in taken:
            n += 1
        return f"group-{n}"

    def add_group(self) -> _Group:
        group = _Group(self._new_id(), None)
        group.color = DEFAULT_COLOUR
        self.groups.append(group)
        self.dirty = True
        self._fill_list(len(self.groups) - 1)
        self.name_edit.setFocus()
        return group

    def duplicate_group(self) -> _Group | None:
        group = self.current_group()
        if group is None:
            return None
        twin = group.clone(self._new_id())
        row = self.list.currentRow() + 1
        self.groups.insert(row, twin)
        self.dirty = True
        self._fill_list(row)
        return twin

    def remove_group(self) -> None:
        row = self.list.currentRow()
        if not 0 <= row < len(self.groups):
            return
        del self.groups[row]
        self.dirty = True
        self._fill_list(min(row, len(self.groups) - 1))

    # ---- saving ----------------------------------------------------------------------------
    def collect(self) -> dict[str, Any]:
        """The document as it would be saved; raises ValidationError for unparseable gift ids."""
        return {group.id: group.build() for group in self.groups}

    def _save_call(self) -> Callable[[int, dict[str, Any]], dict[str, Any]]:
        return self.ctx.desk.tracker_data.save_gift_groups

    def _saved_message(self, groups: dict[str, Any]) -> str:
        return (f"Saved {len(groups)} gift group{'s' if len(groups) != 1 else ''} of {self.handle}; "
                "its tracker picks them up on its next load.")

    def _focus_field(self, field: str) -> None:
        for row, group in enumerate(self.groups):
            prefix = f"groups.{group.id}"
            if field == prefix or field.startswith(prefix + "."):
                self.list.setCurrentRow(row)
                widget = {
                    "name": self.name_edit, "goal": self.goal_edit, "color": self.colour_edit,
                    "giftIds": self.ids_edit,
                }.get(field[len(prefix) + 1:], self.name_edit)
                widget.setFocus()
                if isinstance(widget, QLineEdit):
                    widget.selectAll()
                return
