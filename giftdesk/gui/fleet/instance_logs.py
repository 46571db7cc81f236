"""A tracker's log: follow live, the last N lines or since a time (presets or a local date-time,
sent in UTC), timestamps, wrap, search and highlight, pause without losing lines, copy, save the
whole log, start/stop/restart.

The stream runs on a thread of its own with its own Docker client; lines queue up and a timer
appends them in batches (a flood of lines costs one append per tick, not one per line). The
widget keeps at most ``MAX_LINES`` (older ones scroll away; "Save…" writes the whole log from the
engine). Closing the viewer closes the stream.
"""

from __future__ import annotations

import collections
import re
import threading
from datetime import datetime, timezone

from PySide6.QtCore import QDateTime, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextOption
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDateTimeEdit, QDialog, QFileDialog, QHBoxLayout,
                               QLabel, QLineEdit, QPlainTextEdit, QPushButton, QRadioButton, QSpinBox, QVBoxLayout,
                               QWidget)

from giftdesk.fleet.operations import instance_operation
from giftdesk.fleet.log_range import MAX_TAIL, SINCE_PRESETS, LogRange, since_preset
from giftdesk.core.wording import counted

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
        # Which part of the log: the last N lines OR since a moment (each control only in its mode).
        controls = QHBoxLayout()
        self.last_radio = QRadioButton("Last")
        self.last_radio.setObjectName("logs-last")
        self.last_radio.setChecked(True)
        self.tail = QSpinBox()
        self.tail.setObjectName("logs-tail")
        self.tail.setRange(0, MAX_TAIL)
        self.tail.setValue(tail)
        self.tail.setSuffix(" lines")
        self.tail.setGroupSeparatorShown(True)
        self.tail.setAccelerated(True)
        self.since_radio = QRadioButton("Since")
        self.since_radio.setObjectName("logs-since")
        self.since_preset = QComboBox()
        self.since_preset.setObjectName("logs-since-preset")
        for key, label in SINCE_PRESETS:
            self.since_preset.addItem(label, key)
        self.since_preset.addItem("Custom…", "custom")
        self.since_preset.setCurrentIndex(1)  # 1 hour
        self.since_time = QDateTimeEdit()
        self.since_time.setObjectName("logs-since-time")
        self.since_time.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
        self.since_time.setCalendarPopup(True)
        self.since_time.setMinimumDateTime(QDateTime.fromSecsSinceEpoch(0))
        offset = QDateTime.currentDateTime().offsetFromUtc()
        zone = f"UTC{'+' if offset >= 0 else '-'}{abs(offset) // 3600:02d}:{abs(offset) % 3600 // 60:02d}"
        self.since_time.setToolTip(f"Your local time ({zone}); the engine is asked in UTC.")
        self.range_group = QButtonGroup(self)
        for button in (self.last_radio, self.since_radio):
            self.range_group.addButton(button)
        for widget in (self.last_radio, self.tail, self.since_radio, self.since_preset, self.since_time):
            controls.addWidget(widget)
        controls.addStretch(1)
        self.reload_button = QPushButton("Reload")
        controls.addWidget(self.reload_button)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        controls.addWidget(self.pause_button)
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
        search.addSpacing(12)
        self.follow = QCheckBox("Follow")
        self.follow.setChecked(True)
        self.timestamps = QCheckBox("Timestamps")
        self.wrap = QCheckBox("Wrap")
        for box in (self.follow, self.timestamps, self.wrap):
            search.addWidget(box)
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
        # A custom time reloads once the person stops turning it (arrows, wheel, calendar).
        self._custom_settled = QTimer(self)
        self._custom_settled.setSingleShot(True)
        self._custom_settled.setInterval(600)
        self._custom_settled.timeout.connect(self.reload)
        self.last_radio.toggled.connect(lambda on: self._range_changed() if on else None)
        self.since_radio.toggled.connect(lambda on: self._range_changed() if on else None)
        self.tail.editingFinished.connect(self._tail_changed)
        self.since_preset.currentIndexChanged.connect(lambda _i: self._range_changed())
        self.since_time.dateTimeChanged.connect(lambda _t: self._custom_settled.start())
        self._loaded_range: LogRange | None = None
        self._sync_range_controls()
        self.follow.toggled.connect(lambda _on: self.reload())
        self.timestamps.toggled.connect(lambda _on: self.reload())
        self.wrap.toggled.connect(self._set_wrap)
        self.pause_button.toggled.connect(self._set_paused)
        self.search.textChanged.connect(self._search)
        self.regex.toggled.connect(lambda _on: self._search())
        self.copy_button.clicked.connect(self._copy)
        self.save_button.clicked.connect(lambda _checked=False: self._save())  # (clicked passes a bool)
        for button, action in ((self.start_button, "start"), (self.stop_button, "stop"),
                               (self.restart_button, "restart")):
            button.clicked.connect(lambda _c=False, a=action: self._lifecycle(a))
        self.stream_ended.connect(self._on_ended)
        self.reload()

    # ---- the stream --------------------------------------------------------------------------
    # ---- which part of the log ------------------------------------------------------------
    def _sync_range_controls(self) -> None:
        """Only the controls of the chosen mode take input; a preset shows the moment it means."""
        since = self.since_radio.isChecked()
        custom = self.since_preset.currentData() == "custom"
        self.tail.setEnabled(not since)
        self.since_preset.setEnabled(since)
        self.since_time.setEnabled(since and custom)
        self.since_time.blockSignals(True)  # set here, not turned by the person
        self.since_time.setMaximumDateTime(QDateTime.currentDateTime())  # nothing to show from the future
        if not custom:
            moment = since_preset(self.since_preset.currentData())
            self.since_time.setDateTime(QDateTime.fromSecsSinceEpoch(int(moment.timestamp())).toLocalTime())
        self.since_time.blockSignals(False)

    def _range_changed(self) -> None:
        self._custom_settled.stop()
        self._sync_range_controls()
        self.reload()

    def _tail_changed(self) -> None:
        if self._loaded_range is None or self._loaded_range.tail != self.tail.value():
            self.reload()

    def current_range(self) -> LogRange:
        """What the controls say, as the engine is asked for it (a moment in UTC)."""
        if self.last_radio.isChecked():
            return LogRange.last(self.tail.value())
        key = self.since_preset.currentData()
        if key != "custom":
            return LogRange.since_moment(since_preset(key))
        seconds = self.since_time.dateTime().toSecsSinceEpoch()  # the local time shown, as an instant
        return LogRange.since_moment(datetime.fromtimestamp(seconds, timezone.utc))

    def reload(self) -> None:
        self._custom_settled.stop()
        self.close_stream()
        self.text.clear()
        self._queue.clear()
        self._held.clear()
        self._sync_range_controls()
        try:
            chosen = self.current_range()
        except Exception as exc:
            self.status.setText(str(exc))
            return
        self._loaded_range = chosen
        since = chosen.since
        fleet = self.ctx.desk.fleet
        row = fleet.get(self.row.id)
        if not row.container_id and not row.service_id:
            self.status.setText("This instance has no container.")
            return
        tail, timestamps = chosen.tail, self.timestamps.isChecked()
        if not self.follow.isChecked():
            self.ctx.runner.submit(fleet.instance_logs, row, tail=tail, since=since, timestamps=timestamps,
                                   owner=self, on_success=lambda data: self._push(data.decode("utf-8", "replace")),
                                   supersede="logs", description="Reading the log…")
            self.status.setText(f"Showing {chosen.describe()} (not following).")
            return
        try:
            stream = fleet.open_instance_log_stream(row, tail=tail, since=since, timestamps=timestamps)
        except Exception as exc:
            self.status.setText(f"Could not follow the log: {exc}")
            return
        with self._lock:
            self._stream = stream
        self._thread = threading.Thread(target=self._read, args=(stream,), name=f"logs-{row.name}", daemon=True)
        self._thread.start()
        self.status.setText(f"Following, from {chosen.describe()}…")

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
            data = fleet.instance_logs(row, timestamps=self.timestamps.isChecked())
            with open(path, "wb") as handle:
                handle.write(data)
            return data.count(b"\n")

        self.ctx.runner.submit(write, owner=self, on_success=lambda n: self.status.setText(f"Saved {counted(n, 'line')} to {path}"),
                               description="Saving the log…")

    def _lifecycle(self, action: str) -> None:
        fleet = self.ctx.desk.fleet
        self.ctx.runner.run(instance_operation(action), getattr(fleet, action), self.row.id, owner=self,
                            target=self.row.id, subject=self.row.name,
                            on_success=lambda _r: self.reload() if action != "stop" else None)

    def done(self, result: int) -> None:  # noqa: D401 (Qt): closing closes the stream
        self.close_stream()
        self._timer.stop()
        super().done(result)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt)
        self.close_stream()
        self._timer.stop()
        super().closeEvent(event)


__all__ = ["LogViewer", "MAX_LINES", "Qt"]
