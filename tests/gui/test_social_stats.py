"""Social Stats tab, driven with the mouse and keyboard: table, detail, chart ranges, sync dialog,
CSV import with preview, delete, export, live refresh from other syncs, roles."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from giftdesk.db.types import utcnow
from giftdesk.gui.social.stats_tab import SocialStatsTab
from tests.gui.chart_support import assert_inside, hover_until
from tests.gui.conftest import idle

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def seeded(desk):
    """Yash with a month of TikTok history, Ann with one Twitch sync, Zoe never synced."""
    now = utcnow()
    yash = desk.social.create("Yash Gupta", city="Delhi", country="India", niches="music")
    for day in range(40, -1, -5):
        desk.social.sync(yash.id, "tiktok", 1000 + (40 - day) * 10, "7.5", source="cli", allow_text=True,
                         now=now - timedelta(days=day))
    ann = desk.social.create("Ann Lee", city="Lyon")
    desk.social.sync(ann.id, "twitch", 500, 3, source="cli", now=now - timedelta(days=2))
    desk.social.create("Zoe Park")
    return yash, ann


@pytest.fixture
def make_tab(qtbot):
    def make(ctx) -> SocialStatsTab:
        tab = SocialStatsTab(ctx)
        qtbot.addWidget(tab)
        tab.resize(1280, 760)
        tab.show()
        qtbot.waitExposed(tab)
        qtbot.waitUntil(lambda: tab.loads >= 1, timeout=5000)
        idle(qtbot, ctx)
        return tab

    return make


def names(tab) -> list[str]:
    return [p.display_name for p in tab.table.visible_rows()]


def click_row(qtbot, tab, name: str) -> None:
    row = names(tab).index(name)
    rect = tab.table.visualRect(tab.table.source.index(row, 0))
    qtbot.mouseClick(tab.table.viewport(), LEFT, pos=rect.center())


def wait_detail(qtbot, tab, name: str) -> None:
    qtbot.waitUntil(lambda: tab.profile is not None and tab.profile.display_name == name, timeout=5000)


def test_table_shows_totals_and_changes_and_a_click_opens_the_profile(make_tab, ctx, seeded, qtbot):
    tab = make_tab(ctx)
    assert names(tab) == ["Ann Lee", "Yash Gupta", "Zoe Park"]
    assert tab.count_label.text() == "3 profiles"
    yash = next(p for p in tab.table.rows if p.display_name == "Yash Gupta")
    assert yash.total_followers == 1400 and yash.change_7d == 100 and yash.change_30d == 300
    model = tab.table.source
    row = names(tab).index("Yash Gupta")
    assert [model.index(row, c).data() for c in (2, 3, 4, 5)] == ["1,400", "7.50 %", "+100", "+300"]  # 7 days ago: the day-10 sync
    assert model.index(names(tab).index("Zoe Park"), 4).data() == ""  # nothing to compare with

    click_row(qtbot, tab, "Yash Gupta")
    wait_detail(qtbot, tab, "Yash Gupta")
    assert tab.profile_name.text() == "Yash Gupta"
    assert "1,400</b> followers" in tab.profile_totals.text()
    assert tab.cards["tiktok"].followers.text() == "1,400" and tab.cards["twitch"].engagement.text() == "not synced"
    assert set(tab.chart.lines) == {"tiktok"}


def test_chart_ranges_and_metric(make_tab, ctx, seeded, qtbot):
    tab = make_tab(ctx)
    click_row(qtbot, tab, "Yash Gupta")
    wait_detail(qtbot, tab, "Yash Gupta")
    qtbot.waitUntil(lambda: tab.chart.point_count > 0, timeout=5000)
    counts = {}
    for days, button in tab.range_buttons.items():
        qtbot.mouseClick(button, LEFT)
        idle(qtbot, ctx)
        assert button.isChecked() and tab.growth_days == days
        counts[days] = tab.chart.point_count
    # each range starts with the value at its start (7 days: the day-10 sync's), then the syncs inside it
    assert counts == {7: 3, 30: 7, 90: 9, None: 9}
    qtbot.mouseClick(tab.engagement_button, LEFT)
    assert tab.chart.shown_metric == "engagement" and tab.chart.y_axis.max() <= 100
    values = [p.y() for p in tab.chart.lines["tiktok"].points()]
    assert set(values) == {7.5}


def test_sync_dialog_shows_the_sentence_beside_the_field_then_syncs(make_tab, ctx, seeded, qtbot):
    tab = make_tab(ctx)
    click_row(qtbot, tab, "Zoe Park")
    wait_detail(qtbot, tab, "Zoe Park")
    qtbot.mouseClick(tab.cards["twitch"].sync_button, LEFT)
    dialog = tab.dialog
    qtbot.waitExposed(dialog)
    assert dialog.platform.currentData() == "twitch"
    qtbot.keyClicks(dialog.followers, "20000000")
    assert dialog.followers_error.isVisible()
    assert dialog.followers_error.text() == '"followers" must be less than or equal to 10,000,000'
    qtbot.keyClicks(dialog.engagement, "101")
    assert dialog.engagement_error.text() == '"engagement" must be between 0 and 100'
    qtbot.mouseClick(dialog.ok_button, LEFT)
    idle(qtbot, ctx)
    assert dialog.isVisible() and ctx.desk.social.metrics().total == 9 + 1  # nothing sent

    dialog.followers.clear()
    qtbot.keyClicks(dialog.followers, "2,500")
    dialog.engagement.clear()
    qtbot.keyClicks(dialog.engagement, "4.25")
    assert not dialog.followers_error.isVisible() and not dialog.engagement_error.isVisible()
    qtbot.mouseClick(dialog.ok_button, LEFT)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: tab.cards["twitch"].followers.text() == "2,500", timeout=5000)
    assert tab.cards["twitch"].engagement.text() == "4.25 %"
    zoe = ctx.desk.social.resolve("Zoe Park")
    assert [h.source for h in ctx.desk.social.history(zoe)] == ["dialog"]
    qtbot.waitUntil(lambda: tab.metric_labels["total"].text() == "11 total", timeout=5000)


def test_a_required_field_left_empty_is_named_on_sync(make_tab, ctx, seeded, qtbot):
    tab = make_tab(ctx)
    click_row(qtbot, tab, "Zoe Park")
    wait_detail(qtbot, tab, "Zoe Park")
    qtbot.mouseClick(tab.cards["tiktok"].sync_button, LEFT)
    dialog = tab.dialog
    assert not dialog.followers_error.isVisible()  # not before the person tried
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert dialog.followers_error.text() == '"followers" is required'
    dialog.reject()


def test_csv_import_previews_then_applies(make_tab, ctx, seeded, qtbot, tmp_path):
    tab = make_tab(ctx)
    path = tmp_path / "import.csv"
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerows([["profile", "platform", "followers", "engagement"], ["Zoe Park", "youtube", "900", "2"],
                          ["Ann Lee", "instagram", "-1", ""], ["Nobody", "tiktok", "5", ""]])
    qtbot.mouseClick(tab.import_button, LEFT)
    dialog = tab.dialog
    qtbot.waitExposed(dialog)
    assert not dialog.apply_button.isEnabled()
    dialog.load_file(str(path))
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=5000)
    assert dialog.summary.text() == "1 row would be applied, 2 rejected."
    results = [dialog.table.source.index(r, 5).data() for r in range(3)]
    assert results == ["ok", 'rejected: "followers" must be a positive number', "rejected: There is no social profile 'Nobody'."]
    assert ctx.desk.social.get(ctx.desk.social.resolve("Zoe Park")).total_followers == 0
    qtbot.mouseClick(dialog.apply_button, LEFT)
    qtbot.waitUntil(lambda: dialog.applied, timeout=5000)
    assert dialog.summary.text() == "1 row applied, 2 rejected."
    dialog.accept()
    qtbot.waitUntil(lambda: next(p for p in tab.table.rows if p.display_name == "Zoe Park").total_followers == 900,
                    timeout=5000)


def test_import_of_an_unusable_file_says_why(make_tab, ctx, qtbot, tmp_path):
    tab = make_tab(ctx)
    path = tmp_path / "bad.csv"
    path.write_text("name,count\nx,1\n", encoding="utf-8")
    qtbot.mouseClick(tab.import_button, LEFT)
    tab.dialog.load_file(str(path))
    qtbot.waitUntil(lambda: tab.dialog.error.isVisible(), timeout=5000)
    assert "lacks the columns profile, platform, followers" in tab.dialog.error.text()
    assert not tab.dialog.apply_button.isEnabled()


def test_add_edit_and_delete_a_profile(make_tab, ctx, seeded, qtbot, answers):
    tab = make_tab(ctx)
    qtbot.mouseClick(tab.add_button, LEFT)
    dialog = tab.dialog
    qtbot.waitUntil(lambda: dialog.loaded, timeout=5000)
    qtbot.mouseClick(dialog.ok_button, LEFT)
    idle(qtbot, ctx)
    assert dialog.error.isVisible() and "display name is required" in dialog.error.text().lower()
    qtbot.keyClicks(dialog.name, "Mia Chen")
    qtbot.keyClicks(dialog.niches, "Dance, dance, food")
    qtbot.keyClicks(dialog.avatar, "not a url")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    idle(qtbot, ctx)
    assert dialog.error.text().startswith("Avatar URL must be") and dialog.avatar.property("invalid")
    dialog.avatar.clear()
    qtbot.mouseClick(dialog.ok_button, LEFT)
    qtbot.waitUntil(lambda: "Mia Chen" in names(tab), timeout=5000)
    qtbot.waitUntil(lambda: tab.profile is not None and tab.profile.display_name == "Mia Chen", timeout=5000)
    assert tab.profile.niches == ("dance", "food")

    qtbot.mouseClick(tab.edit_button, LEFT)
    dialog = tab.dialog
    qtbot.waitUntil(lambda: dialog.loaded, timeout=5000)
    dialog.city.setText("Taipei")
    qtbot.keyClicks(dialog.bio, "Street dance & <b>food</b>")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    qtbot.waitUntil(lambda: tab.profile is not None and tab.profile.city == "Taipei", timeout=5000)
    assert tab.profile_bio.isVisibleTo(tab) and tab.profile_bio.text() == "Street dance & <b>food</b>"
    assert tab.profile_bio.textFormat() == Qt.TextFormat.PlainText

    answers.extend([False, True])
    qtbot.mouseClick(tab.delete_button, LEFT)
    idle(qtbot, ctx)
    assert "Mia Chen" in names(tab)  # cancelled
    qtbot.mouseClick(tab.delete_button, LEFT)
    qtbot.waitUntil(lambda: "Mia Chen" not in names(tab), timeout=5000)


def test_search_filters_in_the_service(make_tab, ctx, seeded, qtbot):
    tab = make_tab(ctx)
    qtbot.keyClicks(tab.search, "lyon")
    qtbot.waitUntil(lambda: names(tab) == ["Ann Lee"], timeout=3000)
    assert tab.count_label.text() == "1 profile match “lyon”"
    tab.search.clear()
    qtbot.waitUntil(lambda: len(names(tab)) == 3, timeout=3000)


def test_syncs_from_elsewhere_show_up_live(make_tab, ctx, seeded, qtbot):
    yash, _ = seeded
    tab = make_tab(ctx)
    click_row(qtbot, tab, "Yash Gupta")
    wait_detail(qtbot, tab, "Yash Gupta")
    ctx.desk.social.sync(yash.id, "youtube", 321, source="endpoint", check_role=False)  # as the endpoint would
    qtbot.waitUntil(lambda: tab.cards["youtube"].followers.text() == "321", timeout=5000)
    qtbot.waitUntil(lambda: "youtube" in tab.chart.lines, timeout=5000)
    assert next(p for p in tab.table.rows if p.id == yash.id).total_followers == 1721


def test_export_writes_csv_files(make_tab, ctx, seeded, qtbot, tmp_path, monkeypatch):
    tab = make_tab(ctx)
    target = tmp_path / "profiles.csv"
    monkeypatch.setattr(tab, "ask_save_path", lambda *_a: str(target))
    messages = []
    tab.message.connect(messages.append)
    tab.export_profiles_action.trigger()
    qtbot.waitUntil(lambda: bool(messages), timeout=5000)
    rows = list(csv.DictReader(target.read_text(encoding="utf-8").splitlines()))
    assert [r["displayName"] for r in rows] == ["Ann Lee", "Yash Gupta", "Zoe Park"]
    history = tmp_path / "history.csv"
    monkeypatch.setattr(tab, "ask_save_path", lambda *_a: str(history))
    tab.export_history_action.trigger()
    qtbot.waitUntil(lambda: len(messages) == 2, timeout=5000)
    assert len(history.read_text(encoding="utf-8").splitlines()) == 1 + 10


def test_viewers_read_but_cannot_change(make_tab, viewer_ctx, seeded, qtbot):
    tab = make_tab(viewer_ctx)
    assert names(tab)
    for button in (tab.add_button, tab.edit_button, tab.delete_button, tab.import_button):
        assert not button.isEnabled()
    assert not tab.cards["tiktok"].sync_button.isEnabled()


def test_the_main_window_has_the_tab(window):
    window.show_tab("Social Stats")
    assert isinstance(window.tabs.currentWidget(), SocialStatsTab)


def test_dialog_csv_and_endpoint_syncs_agree_in_the_window_and_on_the_command_line(make_tab, ctx, desk, qtbot,
                                                                                    tmp_path, capsys):
    import json

    from giftdesk.cli.main import main
    from giftdesk.social.http import SocialSyncHandler

    customer = desk.customers.create("Agency")
    account = desk.customers.add_account(customer.id, "yash_live")
    key = desk.keys.generate(account.id)
    profile = desk.social.create("Yash Gupta", account_id=account.id)
    tab = make_tab(ctx)
    wait_detail(qtbot, tab, "Yash Gupta")

    qtbot.mouseClick(tab.cards["tiktok"].sync_button, LEFT)  # 1. the dialog
    qtbot.keyClicks(tab.dialog.followers, "1000")
    qtbot.keyClicks(tab.dialog.engagement, "7.5")
    qtbot.mouseClick(tab.dialog.ok_button, LEFT)
    qtbot.waitUntil(lambda: not tab.dialog.isVisible(), timeout=5000)
    path = tmp_path / "sync.csv"  # 2. a CSV file
    path.write_text("profile,platform,followers,engagement\nYash Gupta,instagram,15925,2.91\n", encoding="utf-8")
    desk.social.apply_import(desk.social.preview_import(path.read_text(encoding="utf-8")))
    handler = SocialSyncHandler(desk.social)  # 3. the endpoint
    status, _, _ = handler.handle("youtube", f"Bearer {key}".encode(), b'{"followers": 7100, "engagement": 2.66}',
                                  "127.0.0.1")
    assert status == 200

    qtbot.waitUntil(lambda: tab.cards["youtube"].followers.text() == "7,100", timeout=5000)
    qtbot.waitUntil(lambda: tab.metric_labels["total"].text() == "3 total", timeout=5000)
    assert "24,025</b> followers" in tab.profile_totals.text() and "4.36</b> %" in tab.profile_totals.text()
    assert set(tab.chart.lines) == {"tiktok", "instagram", "youtube"}

    base = ["--data-dir", str(desk.paths.root), "--json", "social"]
    assert main([*base, "profile", "show", str(profile.id)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["stats"]["totalFollowers"], shown["stats"]["avgEngagement"]) == (24025, 4.36)
    assert main([*base, "history", "Yash Gupta"]) == 0
    assert [h["source"] for h in json.loads(capsys.readouterr().out)] == ["dialog", "csv", "endpoint"]
    assert main([*base, "metrics"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert (metrics["totalSyncs"], metrics["successfulSyncs"], metrics["failedSyncs"]) == (3, 3, 0)


# ---- the growth chart with no, one, two and many syncs ------------------------------------------------------

def dot_position(chart, platform: str, index: int = 0):
    """Where a sync's dot is drawn in the chart view, and the plot area it must sit inside."""
    dots = chart.markers[platform]
    scene = chart.chart_.mapToPosition(dots.points()[index], dots)
    return chart.mapFromScene(scene), chart.chart_.plotArea()  # view (viewport) coordinates


def assert_dots_inside(chart, platform: str, margin: float = 4.0) -> None:
    """Every dot of the platform inside the plot, off its edges (a point on the edge reads as nothing)."""
    assert_inside(chart.chart_, chart.markers[platform], margin)


@pytest.fixture
def growth_profiles(desk):
    now = utcnow()
    desk.social.create("Nia None")
    one = desk.social.create("Omar One")
    desk.social.sync(one.id, "tiktok", 1_250_000, "7.5", source="cli", allow_text=True, now=now - timedelta(minutes=1))
    two = desk.social.create("Tess Two")
    desk.social.sync(two.id, "tiktok", 1_250_000, "7.5", source="cli", allow_text=True, now=now - timedelta(days=10))
    desk.social.sync(two.id, "tiktok", 1_262_000, "8.1", source="cli", allow_text=True, now=now - timedelta(days=1))
    many = desk.social.create("Mia Many")
    for day in range(29, 0, -2):
        desk.social.sync(many.id, "tiktok", 1000 + (30 - day) * 13, "7", source="cli", allow_text=True,
                         now=now - timedelta(days=day))


def test_a_profile_never_synced_says_what_will_fill_its_chart(make_tab, ctx, growth_profiles, qtbot):
    tab = make_tab(ctx)
    click_row(qtbot, tab, "Nia None")
    wait_detail(qtbot, tab, "Nia None")
    chart = tab.chart
    qtbot.waitUntil(lambda: chart.empty.isVisible(), timeout=5000)
    assert chart.empty.text() == "No syncs yet: sync a platform to start the growth history"
    assert not chart.x_axis.isVisible() and not chart.y_axis.isVisible()  # no bare 0–10 axes
    assert chart.empty.geometry().center() == chart.rect().center()


def test_one_sync_is_a_dot_off_the_edges_with_a_readable_axis(make_tab, ctx, growth_profiles, qtbot):
    tab = make_tab(ctx)
    click_row(qtbot, tab, "Omar One")
    wait_detail(qtbot, tab, "Omar One")
    chart = tab.chart
    qtbot.waitUntil(lambda: chart.point_count == 1, timeout=5000)
    assert not chart.empty.isVisible() and chart.y_axis.isVisible()
    dots = chart.markers["tiktok"]
    assert dots.isVisible() and dots.count() == 1 and dots.markerSize() >= 6
    assert chart.y_axis.min() == 0 and 1_250_000 * 1.05 <= chart.y_axis.max() <= 2_000_000
    assert list(chart.y_axis.categoriesLabels()) == ["0", "500,000", "1,000,000", "1,500,000"]
    span_days = (chart.x_axis.max().toMSecsSinceEpoch() - chart.x_axis.min().toMSecsSinceEpoch()) / 86_400_000
    assert 30 < span_days < 33  # the 30 days shown, with a margin
    assert_dots_inside(chart, "tiktok", margin=8)

    hover_until(qtbot, chart, lambda: dot_position(chart, "tiktok")[0],  # hovering the dot says what it is
                lambda tip: tip.startswith("TikTok · 1,250,000 followers · "))

    qtbot.mouseClick(tab.engagement_button, LEFT)
    assert list(chart.y_axis.categoriesLabels())[-1].endswith(" %") and chart.y_axis.max() <= 100
    assert_dots_inside(chart, "tiktok", margin=8)


def test_two_close_syncs_are_not_flattened(make_tab, ctx, growth_profiles, qtbot):
    tab = make_tab(ctx)
    click_row(qtbot, tab, "Tess Two")
    wait_detail(qtbot, tab, "Tess Two")
    chart = tab.chart
    qtbot.waitUntil(lambda: chart.point_count == 2, timeout=5000)
    assert chart.markers["tiktok"].count() == 2
    assert 1_200_000 <= chart.y_axis.min() < 1_250_000 and 1_262_000 < chart.y_axis.max() <= 1_300_000
    labels = list(chart.y_axis.categoriesLabels())
    assert "1,250,000" in labels and all("," in label for label in labels)
    assert_dots_inside(chart, "tiktok")


def test_many_syncs_start_at_zero_with_separators(make_tab, ctx, growth_profiles, qtbot):
    tab = make_tab(ctx)
    click_row(qtbot, tab, "Mia Many")
    wait_detail(qtbot, tab, "Mia Many")
    chart = tab.chart
    qtbot.waitUntil(lambda: chart.point_count == 15, timeout=5000)
    assert chart.markers["tiktok"].count() == 15
    assert chart.y_axis.min() == 0 and list(chart.y_axis.categoriesLabels())[-1] == "1,500"
    assert_dots_inside(chart, "tiktok")
