"""Public URLs and nginx: Settings' URL pattern, each instance's public URL, and one nginx site
file per instance written into a folder the admin picks. The console shows the certbot command
to run (with a Copy button); it never runs sudo or a shell."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFrame, QGridLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget)

from giftdesk.core.errors import GiftDeskError
from giftdesk.gui import theme
from giftdesk.gui.errors import ErrorRoute
from giftdesk.gui.table import RIGHT, Column, RowTableView

PATTERN_KEY = "tracker.url_pattern"

SITE_COLUMNS = [
    Column("Instance", lambda p: p.name, width=170),
    Column("Port", lambda p: p.port, align=RIGHT, width=55),
    Column("Public URL", lambda p: p.url, width=300),
    Column("nginx site", lambda p: p.file_name if p.host else p.reason, stretch=True,
           foreground=lambda p: None if p.host else QColor(theme.colors().muted), tooltip=lambda p: p.reason or None),
]


class PublicUrlsDialog(QDialog):
    changed = Signal()

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("public-urls-dialog")
        self.setWindowTitle("Public URLs and nginx")
        self.resize(900, 620)
        self.sites = None  # the last NginxSites written
        self.loads = 0
        can_change = ctx.desk.actor.can("admin")
        layout = QVBoxLayout(self)

        pattern_row = QHBoxLayout()
        pattern_row.addWidget(QLabel("URL pattern"))
        self.pattern = QLineEdit(str(ctx.desk.settings.get(PATTERN_KEY) or ""))
        self.pattern.setObjectName("public-urls-pattern")
        self.pattern.setPlaceholderText("https://{name}.app.example.com — empty: http://127.0.0.1:<port>")
        self.pattern.setReadOnly(not can_change)
        self.save_pattern_button = QPushButton("Save pattern")
        self.save_pattern_button.setObjectName("public-urls-save-pattern")
        self.save_pattern_button.setVisible(can_change)
        pattern_row.addWidget(self.pattern, 1)
        pattern_row.addWidget(self.save_pattern_button)
        layout.addLayout(pattern_row)
        self.pattern_note = QLabel("Stored in Settings (tracker.url_pattern). {name} is the instance name, {port} its "
                                   "port; each account's instance URL follows it. An instance's own public URL "
                                   "(instance edit --public-url) wins." if can_change else
                                   "Only an administrator can change the pattern (File → Settings).")
        self.pattern_note.setObjectName("public-urls-pattern-note")
        self.pattern_note.setProperty("role", "muted")
        self.pattern_note.setWordWrap(True)
        layout.addWidget(self.pattern_note)

        self.table = RowTableView(SITE_COLUMNS, key=lambda p: p.name, parent=self,
                                  empty_text="No instances yet — their public URLs show here")
        self.table.setObjectName("public-urls-table")
        layout.addWidget(self.table, 1)

        folder_row = QHBoxLayout()
        folder_row.addWidget(QLabel("Folder"))
        self.folder = QLineEdit()
        self.folder.setObjectName("public-urls-folder")
        self.folder.setPlaceholderText("Where the site files go, e.g. a folder you copy to /etc/nginx/sites-available")
        self.browse_button = QPushButton("Choose…")
        self.write_button = QPushButton("Write site files")
        self.write_button.setObjectName("public-urls-write")
        self.write_button.setDefault(True)
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse_button)
        folder_row.addWidget(self.write_button)
        layout.addLayout(folder_row)

        self.error = QLabel("")
        self.error.setObjectName("public-urls-error")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)

        self.result = QFrame()
        self.result.setObjectName("public-urls-result")
        self.result.setProperty("role", "card")
        grid = QGridLayout(self.result)
        self.written = QLabel("")
        self.written.setObjectName("public-urls-written")
        self.written.setWordWrap(True)
        grid.addWidget(self.written, 0, 0, 1, 2)
        self.files = QPlainTextEdit()
        self.files.setObjectName("public-urls-files")
        self.files.setReadOnly(True)
        self.files.setMaximumHeight(90)
        grid.addWidget(self.files, 1, 0, 1, 2)
        self.certbot = QLineEdit()
        self.certbot.setObjectName("public-urls-certbot")
        self.certbot.setReadOnly(True)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("public-urls-copy")
        self.steps = QLabel("On the server: copy the files to /etc/nginx/sites-available/, link them into "
                            "sites-enabled, check with <code>nginx -t</code> and reload nginx; then get the "
                            "certificates with this command. Run it yourself: GiftDesk never runs sudo or a shell.")
        self.steps.setProperty("role", "muted")
        self.steps.setWordWrap(True)
        self.steps.setTextFormat(Qt.TextFormat.RichText)
        grid.addWidget(self.steps, 2, 0, 1, 2)
        grid.addWidget(self.certbot, 3, 0)
        grid.addWidget(self.copy_button, 3, 1)
        self.result.hide()
        layout.addWidget(self.result)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.save_pattern_button.clicked.connect(self.save_pattern)
        self.pattern.returnPressed.connect(self.save_pattern)
        self.browse_button.clicked.connect(self.browse)
        self.write_button.clicked.connect(self.write)
        self.copy_button.clicked.connect(self.copy_command)
        self.reload()

    def reload(self) -> None:
        from giftdesk.fleet.portability import site_plan

        fleet = self.ctx.desk.fleet
        self.ctx.runner.submit(lambda: site_plan(fleet), owner=self, supersede="sites", on_success=self._loaded,
                               on_error=self._failed, description="Reading public URLs…")

    def _loaded(self, plans) -> None:
        self.table.set_rows(plans)
        self.write_button.setEnabled(any(p.host for p in plans))
        self.loads += 1

    def save_pattern(self) -> None:
        if not self.save_pattern_button.isVisible():
            return
        self.error.hide()
        desk, text = self.ctx.desk, self.pattern.text().strip()

        def save():
            desk.settings.update({PATTERN_KEY: text})  # the desk makes every instance URL follow it

        self.save_pattern_button.setEnabled(False)
        self.ctx.runner.submit(save, owner=self, on_success=self._pattern_saved, on_error=self._failed,
                               description="Saving the URL pattern…")

    def _pattern_saved(self, _result) -> None:
        self.save_pattern_button.setEnabled(True)
        self.pattern_note.setText("Saved. Each account's instance URL now follows the pattern.")
        self.changed.emit()
        self.reload()

    def ask_folder(self) -> str | None:
        """A person picks the folder here (tests type it instead)."""
        return QFileDialog.getExistingDirectory(self, "Folder for the nginx site files", self.folder.text()) or None

    def browse(self) -> None:
        folder = self.ask_folder()
        if folder:
            self.folder.setText(folder)

    def write(self) -> None:
        from giftdesk.fleet.portability import write_nginx_sites

        self.error.hide()
        folder = self.folder.text().strip()
        if not folder:
            self.error.setText("Choose the folder to write the site files into.")
            self.error.show()
            self.folder.setFocus()
            return
        fleet = self.ctx.desk.fleet
        self.write_button.setEnabled(False)
        self.ctx.runner.submit(lambda: write_nginx_sites(fleet, folder), owner=self, on_success=self._written,
                               on_error=self._failed, description="Writing nginx site files…")

    def _written(self, sites) -> None:
        self.sites = sites
        self.write_button.setEnabled(True)
        text = f"Wrote {len(sites.files)} site file{'s' if len(sites.files) != 1 else ''}."
        if sites.skipped:
            text += f" No site for {', '.join(sites.skipped)} (no public host name)."
        self.written.setText(text)
        self.files.setPlainText("\n".join(sites.files))
        self.certbot.setText(sites.certbot_command)
        self.copy_button.setEnabled(bool(sites.certbot_command))
        self.copy_button.setText("Copy")
        self.result.show()

    def copy_command(self) -> None:
        QGuiApplication.clipboard().setText(self.certbot.text())
        self.copy_button.setText("Copied")

    def _failed(self, exc: BaseException) -> None:
        self.save_pattern_button.setEnabled(True)
        self.write_button.setEnabled(True)
        if not isinstance(exc, GiftDeskError):
            ErrorRoute.report(exc)
            return
        self.error.setText(str(exc))
        self.error.show()
