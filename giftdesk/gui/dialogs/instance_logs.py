"""A tracker's log: follow live, tail N or since a time, timestamps, wrap, search and highlight,
pause without losing lines, copy, save the whole log, start/stop/restart.

The stream runs on a thread of its own with its own Docker client; lines queue up and a timer
appends them in batches (a flood of lines costs one append per tick, not one per line). The
widget keeps at most ``MAX_LINES`` (older ones scroll away; "Save…" writes the whole log from the
engine). Closing the viewer closes the stream.
"""

from __future__ import annotations

import collections
import re
import threading

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextOption
from PySide6.QtWidgets import (QCheckBox, QDialog, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

MAX_LINES = 100_000
FLUSH_MS = 100


class _Highlighter(QSyntaxHighlighter):
    def __init__(self, document):
        super().__init__(document)
        self.pattern: re.Pattern | None = None
        self.format = QTextCharFormat()
        self.format.setBackground(QColor("#ffd54f"))
        self.format.setForeground(QColor("#000000"))

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt)
        if self.pattern is None:
            return
        for match in self.pattern.finditer(text):
            if match.end() > match.start():
                self.setFormat(match.start(), match.end() - match.start(), self.format)


class LogViewer(QDialog):
    stream_ended = Signal(str)
    _lines_ready = Signal()

    def __init__(self, ctx, row, parent: QWidget | None = None, tail: int = 500):
        super().__init__(parent)
        self.ctx = ctx
        self.row = row
        self.setWindowTitle(f"Logs of {row.name}")
        self.setObjectName("log-viewer")
        self.resize(900, 560)
        self._queue: collections.deque[str] = collections.deque()
        self._held: collections.deque[str] = collections.deque()  # lines that arrived while paused
        self._stream = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.received = 0

        layout = QVBoxLayout(self)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Last"))
        self.tail = QSpinBox()
        self.tail.setRange(0, 1_000_000)
        self.tail.setValue(tail)
        self.tail.setSuffix(" lines")
        controls.addWidget(self.tail)
        self.since = QLineEdit()
        self.since.setPlaceholderText("since (10m, 2h, ISO time)")
        self.since.setMaximumWidth(170)
        controls.addWidget(self.since)
        self.follow = QCheckBox("Follow")
        self.follow.setChecked(True)
        self.timestamps = QCheckBox("Timestamps")
        self.wrap = QCheckBox("Wrap")
        for box in (self.follow, self.timestamps, self.wrap):
            controls.addWidget(box)
        self.reload_button = QPushButton("Reload")
        controls.addWidget(self.reload_button)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        controls.addWidget(self.pause_button)
        controls.addStretch(1)
        layout.addLayout(controls)

        search = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search (text)")
        self.search.setClearButtonEnabled(True)
        self.regex = QCheckBox("Regex")
        self.matches = QLabel("")
        self.matches.setProperty("role", "muted")
        search.addWidget(self.search, 1)
        search.addWidget(self.regex)
        search.addWidget(self.matches)
        layout.addLayout(search)

        self.text = QPlainTextEdit()
        self.text.setObjectName("log-text")
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_LINES)
        self.text.setFont(QFont("monospace"))
        self.text.setWordWrapMode(QTextOption.WrapMode.NoWrap)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.highlighter = _Highlighter(self.text.document())
        layout.addWidget(self.text, 1)

        bottom = QHBoxLayout()
        self.status = QLabel("")
        self.status.setProperty("role", "muted")
        bottom.addWidget(self.status, 1)
        self.copy_button = QPushButton("Copy")
        self.save_button = QPushButton("Save…")
        self.start_button = QPushButton("Start")
        self.stop_button = QPushButton("Stop")
        self.restart_button = QPushButton("Restart")
        for button in (self.copy_button, self.save_button, self.start_button, self.stop_button, self.restart_button):
            bottom.addWidget(button)
        layout.addLayout(bottom)

        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self._flush)
        self._timer.start()
        self.reload_button.clicked.connect(self.reload)
        self.follow.toggled.connect(lambda _on: self.reload())
        self.timestamps.toggled.connect(lambda _on: self.reload())
        self.wrap.toggled.connect(self._set_wrap)
        self.pause_button.toggled.connect(self._set_paused)
        self.search.textChanged.connect(self._search)
        self.regex.toggled.connect(lambda _on: self._search())
        self.copy_button.clicked.connect(self._copy)
        self.save_button.clicked.connect(self._save)
        for button, action in ((self.start_button, "start"), (self.stop_button, "stop"),
                               (self.restart_button, "restart")):
            button.clicked.connect(lambda _c=False, a=action: self._lifecycle(a))
        self.stream_ended.connect(self._on_ended)
        self.reload()

    # ---- the stream --------------------------------------------------------------------------
    def reload(self) -> None:
        self.close_stream()
        self.text.clear()
        self._queue.clear()
        self._held.clear()
        from giftdesk.cli.groups.instance import parse_since

        try:
            since = parse_since(self.since.text().strip() or None)
        except Exception as exc:
            self.status.setText(str(exc))
            return
        fleet = self.ctx.desk.fleet
        row = fleet.get(self.row.id)
        if not row.container_id:
            self.status.setText("This instance has no container.")
            return
        tail, timestamps = self.tail.value(), self.timestamps.isChecked()
        if not self.follow.isChecked():
            self.ctx.runner.submit(fleet.docker.logs, row.container_id, tail=tail, since=since, timestamps=timestamps,
                                   owner=self, on_success=lambda data: self._push(data.decode("utf-8", "replace")),
                                   supersede="logs", description="Reading the log…")
            self.status.setText("Showing the log (not following).")
            return
        try:
            stream = fleet.docker.open_log_stream(row.container_id, tail=tail, since=since, timestamps=timestamps)
        except Exception as exc:
            self.status.setText(f"Could not follow the log: {exc}")
            return
        with self._lock:
            self._stream = stream
        self._thread = threading.Thread(target=self._read, args=(stream,), name=f"logs-{row.name}", daemon=True)
        self._thread.start()
        self.status.setText("Following…")

    def _read(self, stream) -> None:
        pending = b""
        reason = "The container stopped; the stream ended."
        try:
            for chunk in stream:
                pending += chunk
                *complete, pending = pending.split(b"\n")
                if complete:
                    self._queue.extend(line.decode("utf-8", "replace") for line in complete)
        except Exception as exc:  # the engine went away
            reason = f"The stream broke: {exc}"
        if pending:
            self._queue.append(pending.decode("utf-8", "replace"))
        if not stream.closed:
            try:
                self.stream_ended.emit(reason)
            except RuntimeError:  # the viewer is gone
                pass

    def _push(self, text: str) -> None:
        self._queue.extend(text.splitlines())

    def _flush(self) -> None:
        if not self._queue:
            return
        batch = []
        while self._queue:
            batch.append(self._queue.popleft())
        self.received += len(batch)
        if self.pause_button.isChecked():
            self._held.extend(batch)
            self.pause_button.setText(f"Resume ({len(self._held)} new)")
            return
        self._append(batch)

    def _append(self, lines) -> None:
        bar = self.text.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        if len(lines) > MAX_LINES:
            lines = list(lines)[-MAX_LINES:]
        self.text.appendPlainText("\n".join(lines))
        if at_end:
            bar.setValue(bar.maximum())

    def close_stream(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()  # from this thread: ends the reader's iteration

    @property
    def streaming(self) -> bool:
        return self._stream is not None and self._thread is not None and self._thread.is_alive()

    def _on_ended(self, reason: str) -> None:
        self.status.setText(reason + " Reload to follow again.")

    # ---- view -------------------------------------------------------------------------------
    def _set_wrap(self, on: bool) -> None:
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth if on else QPlainTextEdit.LineWrapMode.NoWrap)

    def _set_paused(self, paused: bool) -> None:
        if not paused:
            held, self._held = list(self._held), collections.deque()
            if held:
                self._append(held)
            self.pause_button.setText("Pause")

    def _search(self) -> None:
        text = self.search.text()
        pattern = None
        if text:
            try:
                pattern = re.compile(text if self.regex.isChecked() else re.escape(text), re.IGNORECASE)
            except re.error as exc:
                self.matches.setText(f"bad pattern: {exc}")
                self.highlighter.pattern = None
                self.highlighter.rehighlight()
                return
        self.highlighter.pattern = pattern
        self.highlighter.rehighlight()
        if pattern is None:
            self.matches.setText("")
            return
        count = sum(1 for _ in pattern.finditer(self.text.toPlainText()))
        self.matches.setText(f"{count} match{'es' if count != 1 else ''}")

    def _copy(self) -> None:
        from PySide6.QtWidgets import QApplication

        selected = self.text.textCursor().selectedText().replace("\u2029", "\n")
        QApplication.clipboard().setText(selected or self.text.toPlainText())

    def _save(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save the log", f"{self.row.name}.log", "Logs (*.log *.txt)")
            if not path:
                return
        fleet = self.ctx.desk.fleet
        row = fleet.get(self.row.id)

        def write() -> int:
            data = fleet.docker.logs(row.container_id, timestamps=self.timestamps.isChecked())
            with open(path, "wb") as handle:
                handle.write(data)
            return data.count(b"\n")

        self.ctx.runner.submit(write, owner=self, on_success=lambda n: self.status.setText(f"Saved {n} lines to {path}"),
                               description="Saving the log…")

    def _lifecycle(self, action: str) -> None:
        fleet = self.ctx.desk.fleet
        self.ctx.runner.submit(getattr(fleet, action), self.row.id, owner=self, lane=f"instance:{self.row.id}",
                               on_success=lambda _r: self.reload() if action != "stop" else None,
                               description=f"{action.title()} {self.row.name}…")

    def done(self, result: int) -> None:  # noqa: D401 (Qt): closing closes the stream
        self.close_stream()
        self._timer.stop()
        super().done(result)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt)
        self.close_stream()
        self._timer.stop()
        super().closeEvent(event)


__all__ = ["LogViewer", "MAX_LINES", "Qt"]
