"""Social Stats dialogs: a profile's fields, one platform's sync, and the CSV import with its preview.

The sync dialog checks what is typed with the same rules as the service as the person
types, and shows each field's sentence beside it; a sync is only sent once both fields are valid,
so typing mistakes are not counted as failed syncs (a refusal by the service still is).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from giftdesk.db.social_models import SOCIAL_PLATFORMS
from giftdesk.core.errors import GiftDeskError
from giftdesk.gui.widgets.form_dialog import FormDialog
from giftdesk.gui.errors import ErrorRoute
from giftdesk.gui.table import RIGHT, Column, RowTableView
from giftdesk.social.profile_fields import EXTRA_FIELDS, PLATFORM_HOSTS, ProfileExtras, cents_to_decimal
from giftdesk.social.validation import (
    SyncValidationError,
    display_name,
    max_followers,
    validate_sync,
)


def _buddy(text: str, widget: QWidget, parent: QWidget) -> QLabel:
    """A form label whose mnemonic focuses ``widget`` (rows holding a layout get none by themselves)."""
    label = QLabel(text, parent)
    label.setBuddy(widget)
    return label


def _error_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setProperty("role", "error")
    label.setWordWrap(True)
    label.hide()
    return label


class ProfileDialog(FormDialog):
    """``profile`` None: create. After ``accepted``, ``result_row`` is the saved Profile."""

    def __init__(self, ctx, profile=None, parent: QWidget | None = None):
        super().__init__(ctx.runner, "Add creator profile" if profile is None else "Edit creator profile", parent,
                         ok_text="Add profile" if profile is None else "Save")
        self.ctx = ctx
        self.profile = profile
        self.result_row = None
        self.setMinimumWidth(520)
        form = QFormLayout()
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("required")
        self.bio = QPlainTextEdit(self)
        self.bio.setTabChangesFocus(True)
        self.bio.setFixedHeight(70)
        self.avatar = QLineEdit(self)
        self.avatar.setPlaceholderText("https://…")
        self.url = QLineEdit(self)
        self.url.setPlaceholderText("https://…")
        self.niches = QLineEdit(self)
        self.niches.setPlaceholderText("music, gaming, comedy")
        self.city, self.state, self.country = QLineEdit(self), QLineEdit(self), QLineEdit(self)
        self.city.setPlaceholderText("city")
        self.state.setPlaceholderText("state")
        self.country.setPlaceholderText("country")
        location = QHBoxLayout()
        for widget in (self.city, self.state, self.country):
            location.addWidget(widget)
        self.public = QCheckBox("&Public", self)
        self.active = QCheckBox("&Active", self)
        flags = QHBoxLayout()
        flags.addWidget(self.public)
        flags.addWidget(self.active)
        flags.addStretch(1)
        self.customer = QComboBox(self)
        self.account = QComboBox(self)
        self.account.setToolTip("The account's API key authenticates syncs sent to the endpoint for this profile")
        form.addRow("&Display name", self.name)
        form.addRow("&Bio", self.bio)
        form.addRow("A&vatar URL", self.avatar)
        form.addRow("Profile &URL", self.url)
        form.addRow("&Niches", self.niches)
        form.addRow(_buddy("&Location", self.city, self), location)
        form.addRow("", flags)
        form.addRow("&Customer", self.customer)
        form.addRow("&TikTok account", self.account)
        self.tabs = QTabWidget(self)
        main_page = QWidget(self.tabs)
        main_page.setLayout(form)
        self.tabs.addTab(main_page, "Profile")
        self.tabs.addTab(self._preferences_page(), "Preferences")
        self.tabs.addTab(self._links_page(), "Links and handles")
        self.layout_.addWidget(self.tabs)
        self.fields = {"display name": self.name, "bio": self.bio, "avatar URL": self.avatar,
                       "profile URL": self.url, "niches": self.niches, "city": self.city, "state": self.state,
                       "country": self.country, "customer": self.customer, "account_id": self.account,
                       "TikTok account": self.account, "user_id": self.user_id, "rizz_score": self.rizz_score,
                       "audience_min": self.audience_min, "audience_max": self.audience_max,
                       "budget_min": self.budget_min, "budget_max": self.budget_max,
                       "collaboration_types": self.collaboration_types,
                       "preferred_locations": self.preferred_locations,
                       **{f"social_links.{p}": self.links[p] for p in SOCIAL_PLATFORMS},
                       **{f"platform_handles.{p}": self.handles[p] for p in SOCIAL_PLATFORMS}}
        self._accounts: dict[int, list] = {}
        self.customer.addItem("— none —", None)
        self.customer.currentIndexChanged.connect(self._fill_accounts)
        p = profile
        self.name.setText(p.display_name if p else "")
        self.bio.setPlainText(p.bio or "" if p else "")
        self.avatar.setText(p.avatar_url or "" if p else "")
        self.url.setText(p.profile_url or "" if p else "")
        self.niches.setText(", ".join(p.niches) if p else "")
        for widget, value in ((self.city, p.city if p else None), (self.state, p.state if p else None),
                              (self.country, p.country if p else None)):
            widget.setText(value or "")
        self.public.setChecked(p.is_public if p else True)
        self.active.setChecked(p.is_active if p else True)
        # A profile read from a list has no extras: its stored ones are then left as they are.
        self._extras_known = p is None or p.extras is not None
        self._show_extras(p.extras if p is not None and p.extras is not None else ProfileExtras())
        self.finish_layout()
        self.name.setFocus()
        self.loaded = False
        ctx.runner.submit(self._load_links, on_success=self._show_links, owner=self,
                          description="Loading customers…")

    def _preferences_page(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.user_id = QLineEdit(page)
        self.user_id.setPlaceholderText("24 hexadecimal digits, from the web app")
        self.rizz_score = QLineEdit(page)
        self.rizz_score.setPlaceholderText("0–100")
        self.audience_min, self.audience_max = QLineEdit(page), QLineEdit(page)
        self.budget_min, self.budget_max = QLineEdit(page), QLineEdit(page)
        for low, high in ((self.audience_min, self.audience_max), (self.budget_min, self.budget_max)):
            low.setPlaceholderText("smallest")
            high.setPlaceholderText("largest")
        self.collaboration_types = QLineEdit(page)
        self.collaboration_types.setPlaceholderText("shoutout, live, review")
        self.preferred_locations = QLineEdit(page)
        self.preferred_locations.setPlaceholderText("Delhi, Mumbai")
        form.addRow("User &id", self.user_id)
        form.addRow("&Rizz score", self.rizz_score)
        for text, low, high in (("Audienc&e size", self.audience_min, self.audience_max),
                                ("Bud&get", self.budget_min, self.budget_max)):
            row = QHBoxLayout()
            row.addWidget(low, 1)
            row.addWidget(QLabel("to", page))
            row.addWidget(high, 1)
            form.addRow(_buddy(text, low, page), row)
        form.addRow("C&ollaboration types", self.collaboration_types)
        form.addRow("Pre&ferred locations", self.preferred_locations)
        return page

    def _links_page(self) -> QWidget:
        page = QWidget(self)
        grid = QGridLayout(page)
        grid.setColumnStretch(2, 1)
        grid.setColumnMinimumWidth(1, 150)
        for column, text in ((1, "Handle"), (2, "Page")):
            header = QLabel(text, page)
            header.setProperty("role", "muted")
            grid.addWidget(header, 0, column)
        self.handles: dict[str, QLineEdit] = {}
        self.links: dict[str, QLineEdit] = {}
        for row, platform in enumerate(SOCIAL_PLATFORMS, start=1):
            handle, link = QLineEdit(page), QLineEdit(page)
            handle.setPlaceholderText("@handle")
            link.setPlaceholderText(f"https://{PLATFORM_HOSTS[platform][0]}/…")
            handle.setAccessibleName(f"{display_name(platform)} handle")
            link.setAccessibleName(f"{display_name(platform)} page")
            grid.addWidget(_buddy(display_name(platform), handle, page), row, 0)
            grid.addWidget(handle, row, 1)
            grid.addWidget(link, row, 2)
            self.handles[platform], self.links[platform] = handle, link
        note = QLabel("A page left empty shows the handle's page; the TikTok account's page when both are empty.",
                      page)
        note.setProperty("role", "muted")
        note.setWordWrap(True)
        grid.addWidget(note, len(SOCIAL_PLATFORMS) + 1, 0, 1, 3)
        grid.setRowStretch(len(SOCIAL_PLATFORMS) + 2, 1)
        return page

    def _show_extras(self, extras: ProfileExtras) -> None:
        preferences = extras.preferences
        self.user_id.setText(extras.user_id or "")
        self.rizz_score.setText(str(extras.rizz_score))
        self.audience_min.setText(str(preferences.audience_min))
        self.audience_max.setText(str(preferences.audience_max))
        self.budget_min.setText(str(cents_to_decimal(preferences.budget_min_cents)))
        self.budget_max.setText(str(cents_to_decimal(preferences.budget_max_cents)))
        self.collaboration_types.setText(", ".join(preferences.collaboration_types))
        self.preferred_locations.setText(", ".join(preferences.locations))
        for platform in SOCIAL_PLATFORMS:
            self.handles[platform].setText(extras.platform_handles.get(platform, ""))
            self.links[platform].setText(extras.social_links.get(platform, ""))

    def show_error(self, message: str, field: str | None = None) -> None:
        widget = self.fields.get(field or "")
        if widget is None and field in ("social_links", "platform_handles"):
            field = None
        for index in range(self.tabs.count()):  # the refused field's page in front
            if widget is not None and self.tabs.widget(index).isAncestorOf(widget):
                self.tabs.setCurrentIndex(index)
        super().show_error(message, field)

    def _load_links(self):
        customers = self.ctx.desk.customers
        by_customer: dict[int, list] = {}
        for account in customers.list_accounts():
            by_customer.setdefault(account.customer_id, []).append(account)
        return customers.list(), by_customer

    def _show_links(self, result) -> None:
        rows, self._accounts = result
        for row in rows:
            self.customer.addItem(row.name, row.id)
        if self.profile is not None and self.profile.customer_id is not None:
            self.customer.setCurrentIndex(max(0, self.customer.findData(self.profile.customer_id)))
        self._fill_accounts()
        if self.profile is not None and self.profile.account_id is not None:
            self.account.setCurrentIndex(max(0, self.account.findData(self.profile.account_id)))
        self.loaded = True

    def _fill_accounts(self) -> None:
        self.account.clear()
        self.account.addItem("— none —", None)
        for account in self._accounts.get(self.customer.currentData(), []):
            self.account.addItem(account.handle, account.id)
        self.account.setEnabled(self.customer.currentData() is not None)

    def values(self) -> dict:
        return {
            "display_name": self.name.text(), "bio": self.bio.toPlainText(), "avatar_url": self.avatar.text(),
            "profile_url": self.url.text(), "niches": self.niches.text(), "city": self.city.text(),
            "state": self.state.text(), "country": self.country.text(), "is_public": self.public.isChecked(),
            "is_active": self.active.isChecked(), "customer_id": self.customer.currentData(),
            "account_id": self.account.currentData(), "user_id": self.user_id.text(),
            "rizz_score": self.rizz_score.text(), "audience_min": self.audience_min.text(),
            "audience_max": self.audience_max.text(), "budget_min": self.budget_min.text(),
            "budget_max": self.budget_max.text(), "collaboration_types": self.collaboration_types.text(),
            "preferred_locations": self.preferred_locations.text(),
            # Every platform: an emptied field clears that platform's link or handle.
            "social_links": {p: self.links[p].text() for p in SOCIAL_PLATFORMS},
            "platform_handles": {p: self.handles[p].text() for p in SOCIAL_PLATFORMS},
        }

    def on_ok(self) -> None:
        values = self.values()
        if not self._extras_known:
            for key in EXTRA_FIELDS:
                values.pop(key)
        if not self.loaded:  # links not loaded yet: leave them as they are
            values.pop("customer_id")
            values.pop("account_id")
        social = self.ctx.desk.social
        if self.profile is None:
            name = values.pop("display_name")
            self.submit(lambda: social.create(name, **values), on_success=self._saved,
                        description="Adding the profile…")
        else:
            profile_id = self.profile.id
            self.submit(lambda: social.update(profile_id, **values), on_success=self._saved,
                        description="Saving the profile…")

    def _saved(self, row) -> None:
        self.result_row = row
        self.accept()


class SyncDialog(FormDialog):
    """Records one platform's followers and engagement. After ``accepted``: ``result_row`` (Profile)."""

    def __init__(self, ctx, profile, platform: str = "tiktok", parent: QWidget | None = None):
        super().__init__(ctx.runner, f"Sync — {profile.display_name}", parent, ok_text="Sync")
        self.ctx = ctx
        self.profile = profile
        self.result_row = None
        self.setMinimumWidth(540)
        form = QFormLayout()
        self.platform = QComboBox(self)
        for name in SOCIAL_PLATFORMS:
            self.platform.addItem(display_name(name), name)
        self.platform.setCurrentIndex(max(0, self.platform.findData(platform)))
        self.followers = QLineEdit(self)
        self.followers_error = _error_label(self)
        self.engagement = QLineEdit(self)
        self.engagement.setPlaceholderText("optional, 0–100 %")
        self.engagement_error = _error_label(self)
        current = profile.platforms.get(platform)
        if current is not None:
            self.followers.setText(str(current.followers))
            self.engagement.setText(str(current.engagement) if current.engagement_centi else "")
        followers_box = QVBoxLayout()
        followers_box.setSpacing(2)
        followers_box.addWidget(self.followers)
        followers_box.addWidget(self.followers_error)
        engagement_box = QVBoxLayout()
        engagement_box.setSpacing(2)
        engagement_box.addWidget(self.engagement)
        engagement_box.addWidget(self.engagement_error)
        form.addRow("&Platform", self.platform)
        form.addRow(_buddy("&Followers", self.followers, self), followers_box)
        form.addRow(_buddy("&Engagement %", self.engagement, self), engagement_box)
        self.layout_.addLayout(form)
        self.fields = {"followers": self.followers, "engagement": self.engagement}
        self._touched: set[str] = set()
        self.followers.textEdited.connect(lambda _t: self._touch("followers"))
        self.engagement.textEdited.connect(lambda _t: self._touch("engagement"))
        self.platform.currentIndexChanged.connect(lambda _i: self.check())
        self.finish_layout()
        self._update_placeholder()
        self.followers.setFocus()

    def _touch(self, field: str) -> None:
        self._touched.add(field)
        self.check()

    def _update_placeholder(self) -> None:
        self.followers.setPlaceholderText(f"0 – {max_followers(self.platform.currentData()):,}")

    def check(self, everything: bool = False):
        """Shows each field's sentence beside it; returns the values when both are valid."""
        self._update_placeholder()
        problems: dict[str, str] = {}
        values = None
        try:
            values = validate_sync(self.platform.currentData(), self.followers.text(), self.engagement.text(),
                                   allow_text=True)
        except SyncValidationError as exc:
            for detail in exc.details:
                problems.setdefault(detail["path"][0], detail["message"])
        for field, label in (("followers", self.followers_error), ("engagement", self.engagement_error)):
            message = problems.get(field) if (everything or field in self._touched) else None
            label.setText(message or "")
            label.setVisible(bool(message))
            self.adjustSize()
            widget = self.fields[field]
            if bool(widget.property("invalid")) != bool(message):
                widget.setProperty("invalid", bool(message))
                widget.style().unpolish(widget)
                widget.style().polish(widget)
        return values

    def on_ok(self) -> None:
        if self.check(everything=True) is None:
            (self.followers if self.followers_error.isVisible() else self.engagement).setFocus()
            return
        profile_id, platform = self.profile.id, self.platform.currentData()
        followers, engagement = self.followers.text(), self.engagement.text()
        social = self.ctx.desk.social
        self.submit(lambda: social.sync(profile_id, platform, followers, engagement, source="dialog",
                                        allow_text=True),
                    on_success=self._synced, description=f"Syncing {display_name(platform)}…")

    def handle_error(self, exc: BaseException) -> None:
        if isinstance(exc, SyncValidationError):  # the service's rules won: show them beside the fields
            self.set_busy(False)
            self._touched.update(("followers", "engagement"))
            for field, label in (("followers", self.followers_error), ("engagement", self.engagement_error)):
                message = exc.message_for(field)
                label.setText(message or "")
                label.setVisible(bool(message))
            return
        super().handle_error(exc)

    def _synced(self, row) -> None:
        self.result_row = row
        self.accept()


def _row_result(row) -> str:
    return "ok" if row.ok else f"rejected: {row.error}"


IMPORT_COLUMNS = [
    Column("Line", lambda r: r.line, align=RIGHT, width=50),
    Column("Profile", lambda r: r.profile_name or r.profile_ref, width=150),
    Column("Platform", lambda r: r.platform, width=90),
    Column("Followers", lambda r: f"{r.values.followers:,}" if r.values else r.followers, align=RIGHT, width=100,
           sort=lambda r: r.values.followers if r.values else -1),
    Column("Engagement", lambda r: f"{r.values.engagement} %" if r.values else r.engagement, align=RIGHT, width=90),
    Column("Result", _row_result, stretch=True, tooltip=lambda r: r.error),
]


class ImportDialog(QDialog):
    """Choose a CSV file, see each row's outcome, then apply: valid rows are synced, the others listed."""

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Import social stats from CSV")
        self.setModal(True)
        self.resize(820, 520)
        self.preview = None
        self.result = None
        self.applied = False
        layout = QVBoxLayout(self)
        intro = QLabel("One sync per row, with a header: <b>profile,platform,followers,engagement</b> "
                       "(profile: id, display name or @handle). Nothing changes until you apply; each row is "
                       "applied on its own, and rejected rows are listed with their reason.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        chooser = QHBoxLayout()
        self.choose_button = QPushButton("Choose file…", self)
        self.choose_button.clicked.connect(self.choose_file)
        self.path_label = QLabel("No file chosen", self)
        self.path_label.setProperty("role", "muted")
        chooser.addWidget(self.choose_button)
        chooser.addWidget(self.path_label, 1)
        layout.addLayout(chooser)
        self.table = RowTableView(IMPORT_COLUMNS, key=lambda r: r.line, parent=self)
        self.table.set_empty_text("Choose a CSV file to preview it")
        layout.addWidget(self.table, 1)
        self.summary = QLabel(self)
        self.error = _error_label(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.apply_button = self.buttons.addButton("Apply", QDialogButtonBox.ButtonRole.AcceptRole)
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import social stats", "", "CSV files (*.csv);;All files (*)")
        if path:
            self.load_file(path)

    def load_file(self, path: str) -> None:
        self.path_label.setText(path)
        self.error.hide()
        self.apply_button.setEnabled(False)
        social = self.ctx.desk.social

        def read_and_check():
            try:
                text = Path(path).read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise GiftDeskError(f"Cannot read {path}: {getattr(exc, 'strerror', None) or 'not UTF-8 text'}.") from None
            return social.preview_import(text)

        self.ctx.runner.submit(read_and_check, on_success=self._show_preview,
                               on_error=self._failed, owner=self,
                               supersede=(self, "preview"), description="Checking the CSV file…")

    def _show_preview(self, preview) -> None:
        self.preview = preview
        self.table.set_rows(preview.rows)
        self.summary.setText(f"{preview.valid} row{'s' if preview.valid != 1 else ''} would be applied, "
                             f"{preview.rejected} rejected.")
        self.apply_button.setEnabled(preview.valid > 0 and self.ctx.can_edit)

    def _failed(self, exc: BaseException) -> None:
        if not isinstance(exc, GiftDeskError):
            ErrorRoute.report(exc)
            return
        self.error.setText(str(exc))
        self.error.show()
        self.table.set_rows([])
        self.summary.clear()

    def apply(self) -> None:
        if self.preview is None:
            return
        self.apply_button.setEnabled(False)
        self.choose_button.setEnabled(False)
        self.ctx.runner.submit(self.ctx.desk.social.apply_import, self.preview,
                               on_success=self._show_result,
                               on_error=self._failed, owner=self, description="Importing…")

    def _show_result(self, result) -> None:
        self.result = result
        self.applied = True
        self.table.set_rows(result.rows)
        self.summary.setText(f"{result.valid} row{'s' if result.valid != 1 else ''} applied, "
                             f"{result.rejected} rejected.")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Close")
        self.apply_button.hide()
        self.choose_button.setEnabled(True)

