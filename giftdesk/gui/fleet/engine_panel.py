"""The Docker engine panel: what the fleet runs on, and a connection test.

The figures come from ``giftdesk.fleet.engine`` (the same as ``giftdesk engine info|test``),
asked in the job runner. An engine that does not answer shows its one sentence and Retry.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from giftdesk.core.errors import GiftDeskError
from giftdesk.docker.engine import EngineCheck, EngineInfo, check_engine, engine_info
from giftdesk.gui.widgets.list_dialog import ResultLine
from giftdesk.runtime.docker_monitor import DockerStateChanged

#: The rows in reading order; EngineInfo.pairs() fills them.
FIELDS = ("Host", "Engine", "API version", "Operating system", "Kernel", "Containers", "Images", "Storage driver",
          "CPUs / memory", "GiftDesk trackers", "Round trip")


class EnginePanel(QDialog):
    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.info: EngineInfo | None = None
        self.check: EngineCheck | None = None
        self.setWindowTitle("Docker engine")
        self.setObjectName("engine-panel")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)

        self.heading = QLabel("Docker engine")
        self.heading.setProperty("role", "heading")
        layout.addWidget(self.heading)

        # Unreachable: one sentence and Retry instead of the figures.
        self.error_frame = QFrame(self)
        self.error_frame.setObjectName("engine-error")
        error_layout = QHBoxLayout(self.error_frame)
        error_layout.setContentsMargins(0, 0, 0, 0)
        self.error_text = QLabel("")
        self.error_text.setObjectName("engine-error-text")
        self.error_text.setProperty("role", "banner-warning")
        self.error_text.setWordWrap(True)
        self.error_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setObjectName("engine-panel-retry")
        error_layout.addWidget(self.error_text, 1)
        error_layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignTop)
        self.error_frame.hide()
        layout.addWidget(self.error_frame)

        self.form_frame = QFrame(self)
        self.form_frame.setProperty("role", "card")
        form = QFormLayout(self.form_frame)
        form.setContentsMargins(14, 12, 14, 12)
        form.setHorizontalSpacing(18)
        form.setVerticalSpacing(7)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.values: dict[str, QLabel] = {}
        for name in FIELDS:
            value = QLabel("…")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setMinimumHeight(value.fontMetrics().height() + 4)  # underscores and descenders stay visible
            caption = QLabel(name)
            caption.setProperty("role", "muted")
            form.addRow(caption, value)
            self.values[name] = value
        layout.addWidget(self.form_frame)

        self.test_result = ResultLine("engine-test-result", selectable=True)
        layout.addWidget(self.test_result)
        layout.addStretch(1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.test_button = buttons.addButton("Test connection", QDialogButtonBox.ButtonRole.ActionRole)
        self.test_button.setObjectName("engine-test")
        self.refresh_button = buttons.addButton("Refresh", QDialogButtonBox.ButtonRole.ActionRole)
        self.refresh_button.setObjectName("engine-refresh")
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.retry_button.clicked.connect(self.refresh)
        self.refresh_button.clicked.connect(self.refresh)
        self.test_button.clicked.connect(self.test_connection)
        # The runtime's Docker monitor notices the engine going away or coming back: follow it.
        ctx.bridge.subscribe(DockerStateChanged, self._on_docker, owner=self)
        self.refresh()

    def _on_docker(self, event) -> None:
        state = event.state
        if state.reachable is False and self.info is not None:
            self._failed(GiftDeskError(f"The Docker engine at {state.host or 'the default host'} did not answer: "
                                       f"{state.error or 'no answer'}"))
        elif state.reachable and self.info is None and not self.loading:
            self.refresh()

    # ---- loading ------------------------------------------------------------------------
    @property
    def loading(self) -> bool:
        return not self.refresh_button.isEnabled()

    def refresh(self) -> None:
        self.refresh_button.setEnabled(False)
        self.retry_button.setEnabled(False)
        if self.error_frame.isVisible():
            self.error_text.setText(f"Asking the Docker engine at {self.ctx.desk.fleet.docker.clients.where} again…")
        self.ctx.runner.submit(engine_info, self.ctx.desk.fleet, owner=self, supersede="engine.info",
                               on_success=self._show, on_error=self._failed, description="Asking the Docker engine…")

    def _show(self, info: EngineInfo) -> None:
        self.info = info
        self.refresh_button.setEnabled(True)
        self.retry_button.setEnabled(True)
        self.error_frame.hide()
        self.form_frame.show()
        self.heading.setText(f"Docker {info.version} · API {info.api_version}")
        for name, text in info.pairs():
            if name in self.values:
                self.values[name].setText(text)
        self.adjustSize()
        self.values["Host"].setToolTip("Settings' Docker host is used when set, else DOCKER_HOST, else the "
                                       "default socket (File → Settings).")

    def _failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self.retry_button.setEnabled(True)
        if not isinstance(exc, GiftDeskError):
            self.ctx.report(exc)
            return
        self.info = None
        self.test_result.setText("")  # an older test's answer would contradict the sentence
        self.heading.setText("Docker engine: not reachable")
        self.error_text.setText(f"{exc}\nEvery other tab keeps working; check the Docker host in File → Settings, "
                                "then Retry.")
        self.form_frame.hide()
        self.error_frame.show()
        self.adjustSize()

    # ---- the connection test ------------------------------------------------------------------
    def test_connection(self) -> None:
        self.test_button.setEnabled(False)
        self.test_result.say("Testing the connection…", "muted")
        self.ctx.runner.submit(check_engine, self.ctx.desk.fleet, owner=self, supersede="engine.test",
                               on_success=self._tested, on_error=self._test_failed,
                               description="Testing the Docker engine…")

    def _tested(self, check: EngineCheck) -> None:
        self.check = check
        self.test_button.setEnabled(True)
        if not check.reachable and self.info is not None:
            self._failed(GiftDeskError(check.error))  # the figures shown are no longer true
        self.test_result.say(("✓ " if check.reachable else "✗ ") + check.sentence,
                             "success" if check.reachable else "error")
        if check.reachable and self.info is None:
            self.refresh()  # it answers now: show the figures

    def _test_failed(self, exc: BaseException) -> None:
        self.test_button.setEnabled(True)
        self.test_result.say("")  # not "Testing…" under the error's message box
        self.ctx.report(exc)
