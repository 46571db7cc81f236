"""Questions to the user go through here so tests can answer them without a modal dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox, QWidget


class Prompts:
    """Replace ``Prompts.answers`` in tests with a list of canned answers (consumed in order)."""

    answers: list | None = None

    @classmethod
    def _canned(cls):
        if cls.answers is None:
            return None, False
        if not cls.answers:
            raise AssertionError("A dialog asked a question the test did not answer")
        return cls.answers.pop(0), True

    @classmethod
    def confirm(cls, parent: QWidget | None, title: str, text: str, destructive: bool = False,
                confirm_text: str | None = None) -> bool:
        answer, canned = cls._canned()
        if canned:
            return bool(answer)
        box = QMessageBox(QMessageBox.Icon.Warning if destructive else QMessageBox.Icon.Question, title, text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, parent)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        if confirm_text or destructive:
            box.button(QMessageBox.StandardButton.Yes).setText(confirm_text or "Delete")
        return box.exec() == QMessageBox.StandardButton.Yes

    @classmethod
    def text(cls, parent: QWidget | None, title: str, label: str, value: str = "", password: bool = False) -> str | None:
        answer, canned = cls._canned()
        if canned:
            return answer
        mode = QLineEdit.EchoMode.Password if password else QLineEdit.EchoMode.Normal
        result, ok = QInputDialog.getText(parent, title, label, mode, value)
        return result if ok else None

    @classmethod
    def info(cls, parent: QWidget | None, title: str, text: str) -> None:
        if cls.answers is not None:
            return
        box = QMessageBox(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, parent)
        box.open()

    @classmethod
    def choice_box(cls, parent: QWidget | None, title: str, text: str, choices: list[str],
                   detail: str = "") -> QMessageBox:
        """The message box ``choose`` shows (its text selectable, so a path in it can be copied)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.NoButton, parent)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if detail:
            box.setInformativeText(detail)
        for choice in choices:
            box.addButton(choice, QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Close)
        return box

    @classmethod
    def choose(cls, parent: QWidget | None, title: str, text: str, choices: list[str], detail: str = "") -> str | None:
        """One of ``choices`` (button texts), or None when closed; tests answer with the text or None."""
        answer, canned = cls._canned()
        if canned:
            assert answer is None or answer in choices, f"{answer!r} is not one of {choices!r}"
            return answer
        box = cls.choice_box(parent, title, text, choices, detail)
        box.exec()
        clicked = box.clickedButton()
        return clicked.text() if clicked is not None and clicked.text() in choices else None
