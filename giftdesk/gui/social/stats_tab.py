"""Social Stats: creator profiles with their totals and 7/30-day change, one profile's platforms and
growth chart, syncs (dialog and CSV import), sync metrics and CSV export.

Every query and change runs in ``ctx.runner`` against ``desk.social``; the tab shows rows and asks
questions. It follows ``SocialProfileChanged`` (coalesced: the endpoint may sync many profiles a
second), debounced, so a burst of syncs costs one reload.
"""

from __future__ import annotations

import html
import io
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from giftdesk.db.social_models import SOCIAL_PLATFORMS
from giftdesk.db.types import utcnow
from giftdesk.core.errors import NotFoundError
from giftdesk.gui import theme
from giftdesk.gui.social.dialogs import ImportDialog, ProfileDialog, SyncDialog
from giftdesk.gui.prompts import Prompts
from giftdesk.gui.widgets.growth_chart import PLATFORM_COLORS, GrowthChart
from giftdesk.gui.widgets.timers import debounce_timer
from giftdesk.gui.table import RIGHT, Column, PreparedRows, RowTableView, fmt_ago
from giftdesk.core.events import DatabaseReplaced
from giftdesk.social.events import SocialProfileChanged
from giftdesk.social.validation import (
    centi_to_decimal,
    display_name,
    platform_label,
)
from giftdesk.core.storage import write_text_whole
from giftdesk.core.wording import counted

SEARCH_DEBOUNCE_MS = 200
EVENT_DEBOUNCE_MS = 250
RANGES = (("7 days", 7), ("30 days", 30), ("90 days", 90), ("All", None))


def _change_text(value: int | None) -> str:
    if value is None:
        return ""
    return f"{value:+,}" if value else "0"


def _change_color(value: int | None):
    if not value:
        return None
    c = theme.colors()
    return QColor(c.success if value > 0 else c.error)


PROFILE_COLUMNS = [
    Column("Name", lambda p: p.display_name, width=150, tooltip=lambda p: p.bio or None),
    Column("Location", lambda p: p.location, stretch=True),
    Column("Followers", lambda p: f"{p.total_followers:,}", sort=lambda p: p.total_followers, align=RIGHT, width=85),
    Column("Engagement", lambda p: f"{centi_to_decimal(p.avg_engagement_centi)} %" if p.avg_engagement_centi else "",
           sort=lambda p: p.avg_engagement_centi, align=RIGHT, width=85,
           header_tooltip="Mean over the platforms with engagement above 0"),
    Column("7 days", lambda p: _change_text(p.change_7d), sort=lambda p: p.change_7d, align=RIGHT, width=65,
           foreground=lambda p: _change_color(p.change_7d),
           header_tooltip="Change in total followers over the last 7 days (empty: no sync that old)"),
    Column("30 days", lambda p: _change_text(p.change_30d), sort=lambda p: p.change_30d, align=RIGHT, width=65,
           foreground=lambda p: _change_color(p.change_30d),
           header_tooltip="Change in total followers over the last 30 days (empty: no sync that old)"),
    Column("Last seen", lambda p: fmt_ago(p.last_seen_at), sort=lambda p: p.last_seen_at, width=90,
           tooltip=lambda p: p.last_seen_at.astimezone().strftime("%Y-%m-%d %H:%M:%S") if p.last_seen_at else None),
]


def preferences_text(extras) -> str:
    """One line: the rizz score, what the creator looks for in a collaboration, the user id."""
    if extras is None:
        return ""
    p = extras.preferences
    parts = [f"Rizz score {extras.rizz_score}", f"audience {p.audience_min:,}–{p.audience_max:,}",
             f"budget {p.budget_min:,}–{p.budget_max:,}"]
    if p.collaboration_types:
        parts.append("collaborations: " + ", ".join(p.collaboration_types))
    if p.locations:
        parts.append("in " + ", ".join(p.locations))
    if extras.user_id:
        parts.append(f"user id {extras.user_id}")
    return " · ".join(parts)


class PlatformCard(QFrame):
    """One platform's followers and engagement, with its Sync button."""

    def __init__(self, platform: str, on_sync, parent: QWidget | None = None):
        super().__init__(parent)
        self.platform = platform
        self.setProperty("role", "card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(2)
        title = QHBoxLayout()
        self.name = QLabel(display_name(platform), self)
        self.name.setProperty("role", "subheading")
        self.swatch = QLabel(self)
        self.swatch.setFixedSize(10, 10)
        self.swatch.setStyleSheet(f"background: {PLATFORM_COLORS[platform]}; border-radius: 5px;")
        title.addWidget(self.swatch)
        title.addWidget(self.name, 1)
        self.sync_button = QToolButton(self)
        self.sync_button.setText("Sync")
        self.sync_button.setIcon(theme.icon("refresh"))
        self.sync_button.setAutoRaise(True)
        self.sync_button.setAccessibleName(f"Sync {display_name(platform)}")
        self.sync_button.setToolTip(f"Record {display_name(platform)} followers and engagement")
        self.sync_button.clicked.connect(lambda _checked=False: on_sync(platform))
        title.addWidget(self.sync_button)
        layout.addLayout(title)
        self.followers = QLabel("–", self)
        self.followers.setProperty("role", "heading")
        self.engagement = QLabel(self)
        self.engagement.setProperty("role", "muted")
        self.page = QLabel(self)
        self.page.setTextFormat(Qt.TextFormat.RichText)  # a link; what people typed is escaped
        self.page.setOpenExternalLinks(True)
        self.page.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        layout.addWidget(self.followers)
        layout.addWidget(self.engagement)
        layout.addWidget(self.page)
        self.show_page(None, None)

    def show_page(self, handle: str | None, link: str | None) -> None:
        """The platform's handle (or "page" when only a link is known), linking to its page."""
        text = f"@{handle}" if handle else ("page" if link else "")
        if link:
            self.page.setText(f'<a href="{html.escape(link, quote=True)}">{html.escape(text)}</a>')
            self.page.setToolTip(link)
        else:
            self.page.setText(html.escape(text) or "&nbsp;")  # kept one line high: the cards stay aligned
            self.page.setToolTip("")

    def show_stat(self, stat) -> None:
        if stat is None:
            self.followers.setText("–")
            self.engagement.setText("not synced")
            self.setToolTip("")
            return
        self.followers.setText(f"{stat.followers:,}")
        self.engagement.setText(f"{stat.engagement} %" if stat.engagement_centi else "–")
        self.engagement.setToolTip("Engagement")
        self.setToolTip(f"Synced {stat.synced_at.astimezone():%Y-%m-%d %H:%M}" if stat.synced_at else "")


class SocialStatsTab(QWidget):
    message = Signal(str)

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.can_edit = ctx.can_edit
        self.profile = None  # the selected profile, with its platforms, once loaded
        self.growth_days: int | None = 30
        self.chart_metric = "followers"
        self.dialog = None  # the open dialog, for tests
        self.loads = 0  # finished list loads (tests wait on it)
        self._pending_select: int | None = None
        self._selected_id: int | None = None

        # ---- toolbar -----------------------------------------------------------------------
        self.search = QLineEdit(self)
        self.search.setObjectName("social-search")
        self.search.setPlaceholderText("Search name, niche, location, customer or @handle  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(theme.icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.add_button = self._button("Add profile", "add", self.add_profile, "Add a creator profile (Ctrl+N)")
        self.edit_button = self._button("Edit", "edit", self.edit_profile, "Edit the selected profile (Enter)")
        self.delete_button = self._button("Delete", "delete", self.delete_profile,
                                          "Delete the selected profile with its stats and history (Delete)")
        self.import_button = self._button("Import CSV…", "folder", self.import_csv,
                                          "Sync many profiles from a CSV file, with a preview first")
        self.export_button = QToolButton(self)
        self.export_button.setText("Export")
        self.export_button.setIcon(theme.icon("backup"))
        self.export_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        self.export_profiles_action = menu.addAction("Profiles as CSV…", lambda: self.export_csv("profiles"))
        self.export_history_action = menu.addAction("Sync history as CSV…", lambda: self.export_csv("history"))
        self.export_button.setMenu(menu)
        toolbar = QHBoxLayout()
        toolbar.addWidget(self.search, 1)
        toolbar.addSpacing(12)
        for button in (self.add_button, self.edit_button, self.delete_button, self.import_button):
            toolbar.addWidget(button)
        toolbar.addWidget(self.export_button)

        # ---- profiles table ------------------------------------------------------------------
        self.table = RowTableView(PROFILE_COLUMNS, parent=self)
        self.table.setObjectName("social-profiles")
        self.table.set_empty_text(
            "No creator profiles yet" + (" — add one, or import a CSV file" if self.can_edit else ""),
            filtered="No profile matches the search")
        self.count_label = QLabel(self)
        self.count_label.setProperty("role", "muted")
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.count_label)

        # ---- detail --------------------------------------------------------------------------
        self.detail = QWidget(self)
        detail_layout = QVBoxLayout(self.detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        header = QFrame(self.detail)
        header.setProperty("role", "card")
        header_layout = QVBoxLayout(header)
        header_layout.setContentsMargins(12, 10, 12, 10)
        header_layout.setSpacing(2)
        self.profile_name = QLabel(header)
        self.profile_name.setProperty("role", "heading")
        self.profile_name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.profile_meta = QLabel(header)
        self.profile_meta.setProperty("role", "muted")
        self.profile_meta.setWordWrap(True)
        self.profile_bio = QLabel(header)
        self.profile_bio.setWordWrap(True)
        for label in (self.profile_name, self.profile_meta, self.profile_bio):
            label.setTextFormat(Qt.TextFormat.PlainText)  # names and bios are what people typed, not HTML
        self.profile_bio.hide()
        self.profile_totals = QLabel(header)
        self.profile_preferences = QLabel(header)  # rizz score, user id and what they look for
        self.profile_preferences.setProperty("role", "muted")
        self.profile_preferences.setWordWrap(True)
        self.profile_preferences.setTextFormat(Qt.TextFormat.PlainText)
        self.profile_preferences.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        header_layout.addWidget(self.profile_name)
        header_layout.addWidget(self.profile_meta)
        header_layout.addWidget(self.profile_bio)
        header_layout.addWidget(self.profile_totals)
        header_layout.addWidget(self.profile_preferences)
        detail_layout.addWidget(header)
        cards = QGridLayout()
        cards.setSpacing(8)
        self.cards = {p: PlatformCard(p, self.sync_platform, self.detail) for p in SOCIAL_PLATFORMS}
        for i, platform in enumerate(SOCIAL_PLATFORMS):
            cards.addWidget(self.cards[platform], 0, i)
        detail_layout.addLayout(cards)
        controls = QHBoxLayout()
        chart_title = QLabel("Growth", self.detail)
        chart_title.setProperty("role", "subheading")
        controls.addWidget(chart_title)
        controls.addStretch(1)
        self.range_group = QButtonGroup(self)
        self.range_buttons: dict[int | None, QToolButton] = {}
        for text, days in RANGES:
            button = self._toggle(text, self.range_group)
            button.clicked.connect(lambda _c=False, d=days: self.set_range(d))
            self.range_buttons[days] = button
            controls.addWidget(button)
        self.range_buttons[self.growth_days].setChecked(True)
        controls.addSpacing(16)
        self.metric_group = QButtonGroup(self)
        self.followers_button = self._toggle("Followers", self.metric_group)
        self.engagement_button = self._toggle("Engagement", self.metric_group)
        self.followers_button.setChecked(True)
        self.followers_button.clicked.connect(lambda: self.set_metric("followers"))
        self.engagement_button.clicked.connect(lambda: self.set_metric("engagement"))
        controls.addWidget(self.followers_button)
        controls.addWidget(self.engagement_button)
        detail_layout.addLayout(controls)
        self.chart = GrowthChart(self.detail)
        detail_layout.addWidget(self.chart, 1)
        self.no_selection = QLabel("Select a profile to see its platforms and growth", self)
        self.no_selection.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_selection.setProperty("role", "muted")
        self.detail_stack = QStackedWidget(self)
        self.detail_stack.addWidget(self.no_selection)
        self.detail_stack.addWidget(self.detail)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.detail_stack)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([690, 590])

        # ---- metrics --------------------------------------------------------------------------
        self.metrics_card = QFrame(self)
        self.metrics_card.setProperty("role", "card")
        metrics_layout = QHBoxLayout(self.metrics_card)
        metrics_layout.setContentsMargins(12, 6, 12, 6)
        title = QLabel("Syncs", self.metrics_card)
        title.setProperty("role", "subheading")
        metrics_layout.addWidget(title)
        self.metric_labels: dict[str, QLabel] = {}
        for key, tip in (("total", "Every sync recorded: dialog, CSV, endpoint and command line"),
                         ("successful", ""), ("failed", "Refused syncs: invalid values, unknown profile"),
                         ("slow", "Syncs that took over 5 s"), ("average", "Mean duration of a sync")):
            label = QLabel(self.metrics_card)
            label.setToolTip(tip)
            self.metric_labels[key] = label
            metrics_layout.addSpacing(14)
            metrics_layout.addWidget(label)
        metrics_layout.addStretch(1)

        outer = QVBoxLayout(self)
        outer.addLayout(toolbar)
        outer.addWidget(self.splitter, 1)
        outer.addWidget(self.metrics_card)

        # ---- behaviour --------------------------------------------------------------------------
        self._search_timer = debounce_timer(self, SEARCH_DEBOUNCE_MS, self.refresh)
        self._event_timer = debounce_timer(self, EVENT_DEBOUNCE_MS, self._reload_after_events)
        self._changed_ids: set[int | None] = set()
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self.refresh)
        self.table.current_changed.connect(self._on_selected)
        # A mouse click moves the current index before it selects the row; follow the selection too.
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._on_selected(self.table.current_row()))
        self.table.row_activated.connect(lambda _row: self.edit_profile())
        ctx.bridge.subscribe_batch(SocialProfileChanged, self._on_profiles_changed, owner=self)
        ctx.bridge.subscribe(DatabaseReplaced, lambda _e: self.refresh(), owner=self)
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self.search.setFocus)
        QShortcut(QKeySequence.StandardKey.New, self, activated=self.add_profile)
        QShortcut(QKeySequence(Qt.Key.Key_Delete), self.table, activated=self.delete_profile,
                  context=Qt.ShortcutContext.WidgetShortcut)
        theme.on_theme_changed(self._retheme)
        self._update_actions()
        self.refresh()
        self.load_metrics()

    # ---- construction helpers ------------------------------------------------------------
    def _button(self, text: str, icon_name: str, slot, tip: str) -> QPushButton:
        button = QPushButton(theme.icon(icon_name), text, self)
        button.setToolTip(tip)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    def _toggle(self, text: str, group: QButtonGroup) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setCheckable(True)
        button.setAutoRaise(True)
        group.addButton(button)
        return button

    def _retheme(self) -> None:
        self.chart.retheme()
        self.table.viewport().update()

    def _submit(self, fn, *args, on_success, on_error=None, supersede: str | None = None, description: str):
        return self.ctx.runner.submit(fn, *args, on_success=on_success, on_error=on_error, owner=self,
                                      supersede=(self, supersede) if supersede else None, description=description)

    # ---- loading ----------------------------------------------------------------------------
    def refresh(self) -> None:
        self._search_timer.stop()
        search = self.search.text().strip()
        social, model = self.ctx.desk.social, self.table.source

        def load():
            rows = social.list(search or None)
            # A reload is compared row by row with what the table shows: make the cells' texts and
            # sort keys here, so the GUI thread only compares. A first fill is lazy (the table
            # formats the rows it paints), so it gets the rows as they are.
            return model.prepare(rows) if model.total_count() else rows

        self._submit(load, on_success=lambda prepared: self._show_profiles(search, prepared),
                     supersede="list", description="Loading social profiles…")

    def _show_profiles(self, search: str, loaded: list | PreparedRows) -> None:
        self.table.set_rows(loaded)
        rows = loaded.rows if isinstance(loaded, PreparedRows) else loaded
        count = len(rows)
        noun = f"{count} profile{'s' if count != 1 else ''}"
        self.count_label.setText(f"{noun} match “{search}”" if search else noun)
        pending, self._pending_select = self._pending_select, None
        if pending is not None and self.table.select_key(pending):
            pass
        elif self.table.current_row() is None and rows:
            self.table.select_key(self.table.visible_rows()[0].id)
        elif not rows:
            self._on_selected(None)
        self.loads += 1

    def load_metrics(self) -> None:
        self._submit(self.ctx.desk.social.metrics, on_success=self._show_metrics, supersede="metrics",
                     description="Loading sync metrics…")

    def _show_metrics(self, m) -> None:
        self.metric_labels["total"].setText(f"{m.total:,} total")
        self.metric_labels["successful"].setText(f"{m.successful:,} successful")
        self.metric_labels["failed"].setText(f"{m.failed:,} failed")
        self.metric_labels["slow"].setText(f"{m.slow:,} slow")
        self.metric_labels["average"].setText(f"{m.average_duration_ms} ms average")
        self.metric_labels["failed"].setProperty("role", "error" if m.failed else "")
        self.metric_labels["failed"].style().polish(self.metric_labels["failed"])
        per_platform = "\n".join(f"{display_name(p)}: {pm.total:,} ({pm.failed:,} failed)"
                                 for p, pm in m.platforms.items())
        self.metric_labels["total"].setToolTip(per_platform)
        self.last_metrics = m

    def _on_selected(self, row) -> None:
        if (row.id if row is not None else None) == self._selected_id:
            return
        self._selected_id = row.id if row is not None else None
        self._update_actions()
        if row is None:
            self.profile = None
            self.detail_stack.setCurrentWidget(self.no_selection)
            return
        self.detail_stack.setCurrentWidget(self.detail)
        if self.profile is None or self.profile.id != row.id:
            self.profile_name.setText(row.display_name)
        self.load_detail(row.id)

    def load_detail(self, profile_id: int) -> None:
        social, days = self.ctx.desk.social, self.growth_days

        def load():
            now = utcnow()
            return social.get(profile_id, now=now), social.growth(profile_id, days, now=now), now, days

        self._submit(load, on_success=self._show_detail, on_error=self._detail_failed, supersede="detail",
                     description="Loading the profile…")

    def _detail_failed(self, exc: BaseException) -> None:
        if isinstance(exc, NotFoundError):  # deleted meanwhile (elsewhere too): the list reload drops it
            self.refresh()
            return
        self.ctx.report(exc)

    def _show_detail(self, result) -> None:
        profile, growth, now, days = result
        current = self.table.current_row()
        if current is None or current.id != profile.id or days != self.growth_days:
            return  # the selection or the range moved on while this loaded
        self.profile = profile
        self.growth = growth
        self.profile_name.setText(profile.display_name)
        meta = [part for part in (
            profile.location, ", ".join(profile.niches),
            f"@{profile.tiktok_username}" if profile.tiktok_username else "",
            f"customer {profile.customer_name}" if profile.customer_name else "",
            "" if profile.is_public else "private", "" if profile.is_active else "inactive",
        ) if part]
        self.profile_meta.setText(" · ".join(meta) or "No details yet")
        self.profile_bio.setText(profile.bio or "")
        self.profile_bio.setVisible(bool(profile.bio))
        totals = f"<b>{profile.total_followers:,}</b> followers"
        if profile.avg_engagement_centi:
            totals += f" · <b>{profile.avg_engagement}</b> % average engagement"
        for label, change in (("7 days", profile.change_7d), ("30 days", profile.change_30d)):
            if change is not None:
                totals += f" · {html.escape(_change_text(change))} in {label}"
        self.profile_totals.setText(totals)
        self.profile_preferences.setText(preferences_text(profile.extras))
        self.profile_preferences.setVisible(profile.extras is not None)
        links = profile.extras.links(profile.tiktok_username) if profile.extras is not None else {}
        handles = profile.extras.platform_handles if profile.extras is not None else {}
        for platform, card in self.cards.items():
            card.show_stat(profile.platforms.get(platform))
            card.show_page(handles.get(platform), links.get(platform))
        since = None if self.growth_days is None else now - timedelta(days=self.growth_days)
        self.chart.set_series(growth, self.chart_metric, since=since, until=now)

    def set_range(self, days: int | None) -> None:
        self.growth_days = days
        self.range_buttons[days].setChecked(True)
        if self.profile is not None:
            self.load_detail(self.profile.id)

    def set_metric(self, metric: str) -> None:
        self.chart_metric = metric
        (self.followers_button if metric == "followers" else self.engagement_button).setChecked(True)
        if self.profile is not None and getattr(self, "growth", None) is not None:
            now = utcnow()
            since = None if self.growth_days is None else now - timedelta(days=self.growth_days)
            self.chart.set_series(self.growth, metric, since=since, until=now)

    def _on_profiles_changed(self, events) -> None:
        self._changed_ids.update(e.profile_id for e in events)
        self._event_timer.start()

    def _reload_after_events(self) -> None:
        changed, self._changed_ids = self._changed_ids, set()
        self.refresh()
        self.load_metrics()
        if self.profile is not None and (None in changed or self.profile.id in changed):
            self.load_detail(self.profile.id)

    def _update_actions(self) -> None:
        selected = self.table.current_row() is not None
        for widget in (self.add_button, self.import_button):
            widget.setEnabled(self.can_edit)
        for widget in (self.edit_button, self.delete_button):
            widget.setEnabled(self.can_edit and selected)
        for card in self.cards.values():
            card.sync_button.setEnabled(self.can_edit)

    # ---- actions ----------------------------------------------------------------------------
    def _open(self, dialog, on_accept) -> None:
        self.dialog = dialog
        dialog.accepted.connect(lambda: on_accept(dialog))
        dialog.open()

    def add_profile(self) -> None:
        if not self.can_edit:
            return
        self._open(ProfileDialog(self.ctx, parent=self), self._saved)

    def edit_profile(self) -> None:
        if not self.can_edit or self.profile is None:
            return
        self._open(ProfileDialog(self.ctx, self.profile, parent=self), self._saved)

    def _saved(self, dialog) -> None:
        row = dialog.result_row
        self.message.emit(f"Saved profile '{row.display_name}'.")
        self._pending_select = row.id
        self.refresh()

    def sync_platform(self, platform: str) -> None:
        if not self.can_edit or self.profile is None:
            return
        self._open(SyncDialog(self.ctx, self.profile, platform, parent=self),
                   lambda d: self.message.emit(
                       f"Social media {platform_label(d.platform.currentData())} synced successfully."))

    def delete_profile(self) -> None:
        row = self.table.current_row()
        if not self.can_edit or row is None:
            return

        def ask(impact) -> None:
            if Prompts.confirm(self, "Delete profile", f"Delete '{row.display_name}'? {impact.sentence()}",
                               destructive=True):
                self._submit(self.ctx.desk.social.delete, row.id,
                             on_success=lambda _i: self.message.emit(f"Deleted profile '{row.display_name}'."),
                             description="Deleting the profile…")

        self._submit(self.ctx.desk.social.delete_impact, row.id, on_success=ask, description="Checking…")

    def import_csv(self) -> None:
        if not self.can_edit:
            return
        self._open(ImportDialog(self.ctx, parent=self), lambda _d: None)

    def ask_save_path(self, title: str, suggested: str) -> str | None:
        """Where to write an export (tests replace this; a person picks in the file dialog)."""
        path, _ = QFileDialog.getSaveFileName(self, title, suggested, "CSV files (*.csv)")
        return path or None

    def export_csv(self, what: str) -> None:
        stamp = utcnow().astimezone().strftime("%Y%m%d-%H%M")
        path = self.ask_save_path("Export profiles" if what == "profiles" else "Export sync history",
                                  f"social-{what}-{stamp}.csv")
        if not path:
            return
        social = self.ctx.desk.social

        def write() -> int:
            out = io.StringIO()
            count = social.export_profiles_csv(out) if what == "profiles" else social.export_history_csv(out)
            write_text_whole(Path(path), out.getvalue(), newline="")  # no half file on a full disk
            return count

        self._submit(write, on_success=lambda n: self.message.emit(f"Exported {counted(n, 'profile row' if what == 'profiles' else f'{what} row')} to {path}."),
                     description="Exporting…")

    def shutdown(self) -> None:
        theme.remove_theme_listener(self._retheme)
