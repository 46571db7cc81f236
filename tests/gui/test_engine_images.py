"""The engine panel and the images dialog, driven with the mouse against the real engine."""
# ruff: noqa: F811  (the fleet fixtures are imported from tests/fleet)

from __future__ import annotations

import os
import uuid
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from giftdesk.fleet.spec import InstanceSettings
from giftdesk.gui.prompts import Prompts
from tests.fleet.conftest import (  # noqa: F401 (fixtures)
    FLEET_IMAGE,
    account,
    engine,
    fleet_desk,
    foreign,
    unique,
)
from tests.fleet.test_engine_images import built  # noqa: F401 (fixture)
from tests.gui.conftest import idle
from tests.gui.fleet_support import instances_tab

pytestmark = pytest.mark.docker
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def asked(monkeypatch):
    """Questions the dialogs ask, with the replies the test queued (``asked.replies``)."""
    class Asked(list):
        def __init__(self):
            super().__init__()
            self.replies: list = []
            self.told: list = []

    record = Asked()

    def confirm(parent, title, text, destructive=False, confirm_text=None):
        record.append((title, text, confirm_text))
        assert record.replies, f"unexpected question: {title}: {text}"
        return record.replies.pop(0)

    monkeypatch.setattr(Prompts, "confirm", staticmethod(confirm))
    monkeypatch.setattr(Prompts, "info", staticmethod(lambda parent, title, text: record.told.append(text)))
    return record


@pytest.fixture
def tab(ctx, fleet_desk, qtbot):
    with instances_tab(ctx, fleet_desk, qtbot, width=1100, height=480, runtime=False) as widget:
        yield widget


def _click_row(qtbot, table, reference: str, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    for row in range(table.source.rowCount()):
        index = table.source.index(row, 0)
        if reference in str(index.data()):
            qtbot.mouseClick(table.viewport(), LEFT, modifier, table.visualRect(index).center())
            return
    raise AssertionError(f"{reference} is not in the table")


@pytest.fixture
def panel(tab, qtbot):
    """The engine panel opened from the tab's menu, its figures loaded."""
    tab.actions["engine"].trigger()
    opened = tab.dialog
    qtbot.waitExposed(opened)
    qtbot.waitUntil(lambda: opened.info is not None, timeout=10000)
    return opened


def test_engine_panel_shows_the_engine_figures(tab, qtbot, fleet_desk, account):
    fleet_desk.fleet.create(unique("panel"), account().id)
    tab.actions["engine"].trigger()
    panel = tab.dialog
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.info is not None, timeout=10000)
    host = os.environ["DOCKER_HOST"]
    assert panel.values["Host"].text() == f"{host} (from DOCKER_HOST)"
    assert panel.values["GiftDesk trackers"].text().startswith("1 of this desk (1 running)")
    assert panel.values["Containers"].text().split(":")[0].isdigit() and "running" in panel.values["Containers"].text()
    assert panel.values["Round trip"].text().endswith(" ms")
    assert panel.heading.text().startswith("Docker ") and "API" in panel.heading.text()


def test_engine_panel_test_button_pings_the_engine(panel, qtbot):
    qtbot.mouseClick(panel.test_button, LEFT)
    qtbot.waitUntil(lambda: panel.check is not None, timeout=10000)
    assert panel.check.reachable and panel.test_result.text().startswith("✓ The Docker engine")
    assert "ping" in panel.test_result.text() and panel.test_button.isEnabled()


def test_engine_panel_says_when_the_engine_is_away_and_retry_brings_it_back(ctx, panel, qtbot, fleet_desk):
    # The engine goes away (a wrong host in Settings): one sentence and Retry, no traceback.
    good = fleet_desk.settings.get("docker.host")
    ctx.desk.settings.update({"docker.host": "unix:///tmp/no-such-docker.sock"})
    qtbot.mouseClick(panel.refresh_button, LEFT)
    qtbot.waitUntil(lambda: panel.error_frame.isVisible(), timeout=10000)
    text = panel.error_text.text()
    assert text.startswith("The Docker engine at unix:///tmp/no-such-docker.sock did not answer")
    assert "Traceback" not in text and not panel.form_frame.isVisible()
    qtbot.mouseClick(panel.test_button, LEFT)
    qtbot.waitUntil(lambda: panel.check is not None, timeout=10000)
    assert not panel.check.reachable and panel.test_result.text().startswith("✗ The Docker engine at")
    ctx.desk.settings.update({"docker.host": good})
    qtbot.mouseClick(panel.retry_button, LEFT)
    qtbot.waitUntil(lambda: panel.form_frame.isVisible() and not panel.error_frame.isVisible(), timeout=10000)
    assert panel.info is not None


def test_status_bar_docker_label_opens_the_panel(window, qtbot, fleet_desk):
    qtbot.mouseClick(window.status.docker, LEFT)
    panel = window.status.engine_panel
    assert panel is not None
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.info is not None, timeout=10000)
    assert panel.values["Engine"].text().startswith("Docker ")
    qtbot.mouseClick(window.status.docker, LEFT)  # a second click: the same panel, brought up to date
    assert window.status.engine_panel is panel
    qtbot.waitUntil(lambda: not panel.loading, timeout=10000)
    panel.close()


@pytest.fixture
def dialog(tab, qtbot):
    """The images dialog opened from the tab's menu, its list loaded."""
    tab.actions["images"].trigger()
    opened = tab.dialog
    qtbot.waitExposed(opened)
    qtbot.waitUntil(lambda: not opened.loading, timeout=10000)
    return opened


@pytest.fixture
def images(dialog, qtbot, fleet_desk, account, built):
    """Three images of this test, the dialog filtered to them: ``used`` by a (stopped) instance,
    ``free`` and ``spare`` by none."""
    from giftdesk.fleet.images import ImageCatalog

    catalog = ImageCatalog(fleet_desk.fleet)
    mark = uuid.uuid4().hex[:8]
    tags = {}
    for key, name in (("used", f"gift-tracker-gdt{mark}"), ("free", f"gd-gui-{mark}-free"),
                      ("spare", f"gd-gui-{mark}-spare")):
        folder, tags[key] = built(name=name)
        catalog.build(folder, tags[key])
    instance = fleet_desk.fleet.create(unique("img"), account().id, settings=InstanceSettings(image=tags["used"]),
                                       start=False).name
    qtbot.mouseClick(dialog.refresh_button, LEFT)
    qtbot.waitUntil(lambda: not dialog.loading and any(tags["used"] in r.tags for r in dialog.table.rows),
                    timeout=10000)
    qtbot.keyClicks(dialog.filter, mark)
    qtbot.waitUntil(lambda: dialog.table.row_count() == 3)
    return SimpleNamespace(instance=instance, mark=mark, **tags)


def test_images_list_tracker_images_first_and_filter_as_you_type(dialog, images):
    # (the fixture typed the filter; three of all the engine's images are left)
    assert dialog.table.rows[0].is_tracker  # gift-tracker images first
    assert dialog.table.source.index(0, 0).data() == images.used
    instances_column = [c.title for c in dialog.table.source.columns].index("Instances")
    assert dialog.table.source.index(0, instances_column).data() == images.instance
    assert "3 shown" in dialog.summary.text()


def test_removing_a_used_and_a_free_image_removes_only_the_free_one(dialog, images, qtbot, asked):
    # The question names the instance; declining force removes only the free one, and the used
    # one comes back refused with its instance.
    used, free, instance = images.used, images.free, images.instance
    assert not dialog.remove_button.isEnabled()
    _click_row(qtbot, dialog.table, used)
    _click_row(qtbot, dialog.table, free, Qt.KeyboardModifier.ControlModifier)
    asked.replies.extend([False, True])
    qtbot.mouseClick(dialog.remove_button, LEFT)
    qtbot.waitUntil(lambda: dialog.results is not None, timeout=10000)
    (title, text, button), (_title2, text2, _b) = asked
    assert title == "Images in use" and instance in text and used in text and button == "Force remove"
    assert free in text2 and used not in text2
    outcomes = {r.reference: r for r in dialog.results}
    assert outcomes[free].outcome == "removed" and outcomes[used].outcome == "refused"
    assert instance in outcomes[used].message
    qtbot.waitUntil(lambda: not dialog.loading and dialog.table.row_count() == 2, timeout=10000)


def test_remove_unused_lists_what_goes_then_removes_it(dialog, images, qtbot, asked, engine):
    # Among the rows shown only: the used one stays.
    asked.replies.append(True)
    qtbot.mouseClick(dialog.unused_button, LEFT)
    qtbot.waitUntil(lambda: dialog.results is not None, timeout=10000)
    [(_title, text, _b)] = asked
    assert images.spare in text and images.free in text and images.used not in text
    assert "among the images shown" in text
    assert sorted((r.reference, r.outcome) for r in dialog.results) == sorted(
        [(images.free, "removed"), (images.spare, "removed")])
    qtbot.waitUntil(lambda: not dialog.loading and dialog.table.row_count() == 1, timeout=10000)
    assert not engine.api.images(filters={"reference": images.spare})


def test_a_used_image_goes_only_with_force(dialog, images, qtbot, asked, engine):
    # Force declined: nothing changes, and the answer says who uses it.
    used = images.used
    _click_row(qtbot, dialog.table, used)
    asked.replies.append(False)
    qtbot.mouseClick(dialog.remove_button, LEFT)
    assert [(r.reference, r.outcome) for r in dialog.results] == [(used, "refused")]
    assert f"used by instance {images.instance}" in asked.told[-1] and engine.api.images(filters={"reference": used})
    # Force, confirmed: the image the (stopped) instance uses loses its tag.
    asked.clear()
    dialog.results = None
    asked.replies.append(True)
    qtbot.mouseClick(dialog.remove_button, LEFT)
    qtbot.waitUntil(lambda: dialog.results is not None, timeout=10000)
    assert [(r.reference, r.outcome) for r in dialog.results] == [(used, "removed")]
    assert not engine.api.images(filters={"reference": used})


@pytest.fixture
def build(dialog, qtbot):
    """The Build… dialog, opened from the images dialog with a click."""
    qtbot.mouseClick(dialog.build_button, LEFT)
    opened = dialog.build_dialog
    qtbot.waitExposed(opened)
    yield opened
    opened.close()


def _build_from(qtbot, build, folder: str, tag: str) -> None:
    """Types the folder and the tag over what the fields hold and clicks Build."""
    build.folder.clear()
    qtbot.keyClicks(build.folder, folder)
    build.tag.clear()
    qtbot.keyClicks(build.tag, tag)
    qtbot.mouseClick(build.build_button, LEFT)


def test_build_checks_the_folder_before_building(build, qtbot, tmp_path):
    assert build.tag.text() == FLEET_IMAGE  # Settings' default image
    qtbot.mouseClick(build.build_button, LEFT)
    assert build.problem.isVisible() and "Choose the folder" in build.problem.text() and build.outcome == ""
    qtbot.keyClicks(build.folder, str(tmp_path))
    qtbot.mouseClick(build.build_button, LEFT)
    assert "has no Dockerfile" in build.problem.text() and not build.running


def test_build_streams_its_log_and_the_list_sees_the_image(dialog, build, qtbot, built, engine):
    folder, tag = built("RUN echo step-output-line && echo second-line\n", name=f"gd-gui-{uuid.uuid4().hex[:8]}-built")
    _build_from(qtbot, build, folder, tag)
    qtbot.waitUntil(lambda: build.outcome == "built", timeout=60000)
    assert "step-output-line" in build.log.toPlainText() and "Step 4/4" in build.log.toPlainText()
    assert build.result.short_id in build.status.text() and build.status.text().startswith("✓ Built")
    assert engine.api.inspect_image(tag)["Id"] == build.result.image_id
    qtbot.waitUntil(lambda: any(tag in r.tags for r in dialog.table.rows), timeout=10000)


def test_a_failing_build_step_shows_its_error(build, qtbot, built):
    folder, tag = built("RUN echo about-to-fail && exit 7\n", name=f"gd-gui-{uuid.uuid4().hex[:8]}-broken")
    _build_from(qtbot, build, folder, tag)
    qtbot.waitUntil(lambda: build.outcome == "failed", timeout=60000)
    assert "returned a non-zero code: 7" in build.status.text()


def test_cancel_stops_the_engine_build(build, qtbot, built, engine):
    # The step would sleep 30 s; had the build run on to its end instead, the image would be tagged.
    marker = f"gd-gui-cancel-{uuid.uuid4().hex[:8]}"
    folder, tag = built(f"RUN echo {marker} && sleep 30\n", name="gd-gui-slow")
    _build_from(qtbot, build, folder, tag)
    qtbot.waitUntil(lambda: any(line.strip() == marker for line in build.log.toPlainText().splitlines()),
                    timeout=30000)
    qtbot.waitUntil(lambda: "Step 4/4" in build.status.text(), timeout=5000)  # the step the build is at
    qtbot.mouseClick(build.cancel_button, LEFT)
    qtbot.waitUntil(lambda: build.outcome == "cancelled", timeout=30000)
    assert "tagged nothing" in build.status.text()
    qtbot.waitUntil(lambda: not [c for c in engine.api.containers(all=True) if marker in (c.get("Command") or "")],
                    timeout=60000)
    assert not engine.api.images(filters={"reference": tag})


def test_create_dialog_sees_a_built_image(ctx, tab, qtbot, fleet_desk, built, account):
    from giftdesk.fleet.images import ImageCatalog

    account()
    folder, tag = built(name="gift-tracker-gdtcreate")
    ImageCatalog(fleet_desk.fleet).build(folder, tag)
    qtbot.mouseClick(tab.button("new"), LEFT)
    create = tab.dialog
    qtbot.waitUntil(lambda: create.image.findText(tag) >= 0, timeout=10000)
    assert create.image.findText(tag) < create.image.findText(FLEET_IMAGE)  # gift-tracker images first
    create.close()


def test_viewer_cannot_remove_or_build(viewer_ctx, fleet_desk, qtbot):
    from giftdesk.gui.fleet.images import ImagesDialog

    dialog = ImagesDialog(viewer_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.loading and bool(dialog.table.rows), timeout=10000)
    dialog.table.selectAll()
    assert not dialog.remove_button.isEnabled() and not dialog.build_button.isEnabled()
    assert not dialog.unused_button.isEnabled()


def test_panel_follows_the_docker_monitor(ctx, tab, qtbot, fleet_desk):
    from giftdesk.docker.state import DockerState
    from giftdesk.runtime.docker_monitor import DockerStateChanged

    tab.actions["engine"].trigger()
    panel = tab.dialog
    qtbot.waitUntil(lambda: panel.info is not None, timeout=10000)
    ctx.desk.events.publish(DockerStateChanged(DockerState(False, "unix:///x.sock", error="connection refused")))
    qtbot.waitUntil(lambda: panel.error_frame.isVisible(), timeout=5000)
    assert panel.error_text.text().startswith("The Docker engine at unix:///x.sock did not answer: connection refused")
    ctx.desk.events.publish(DockerStateChanged(DockerState(True, "", "x", 1, 1)))
    qtbot.waitUntil(lambda: panel.info is not None and panel.form_frame.isVisible(), timeout=10000)


def test_closing_the_images_dialog_stops_its_build(ctx, tab, qtbot, fleet_desk, built, engine):
    tab.actions["images"].trigger()
    dialog = tab.dialog
    qtbot.waitUntil(lambda: not dialog.loading, timeout=10000)
    qtbot.mouseClick(dialog.build_button, LEFT)
    build = dialog.build_dialog
    marker = f"gd-gui-close-{uuid.uuid4().hex[:8]}"
    folder, tag = built(f"RUN echo {marker} && sleep 30\n", name="gd-gui-close")
    build.folder.setText(folder)
    build.tag.setText(tag)
    qtbot.mouseClick(build.build_button, LEFT)
    qtbot.waitUntil(lambda: marker in build.log.toPlainText().split(), timeout=30000)
    dialog.close()
    qtbot.waitUntil(lambda: not [c for c in engine.api.containers(all=True) if marker in (c.get("Command") or "")],
                    timeout=10000)
    idle(qtbot, ctx, timeout=10000)
    assert not engine.api.images(filters={"reference": tag})


def test_images_dialog_with_no_engine_says_so(ctx, fleet_desk, qtbot):
    from giftdesk.gui.fleet.images import ImagesDialog

    fleet_desk.settings.update({"docker.host": "unix:///tmp/no-such-docker.sock"})
    dialog = ImagesDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.loading, timeout=10000)
    assert dialog.table.row_count() == 0 and dialog.summary.text() == ""
    assert dialog.table._empty_text.startswith("The Docker engine at unix:///tmp/no-such-docker.sock did not answer")
    qtbot.mouseClick(dialog.build_button, LEFT)
    build = dialog.build_dialog
    qtbot.waitExposed(build)
    qtbot.keyClicks(build.folder, "/no/such/folder")
    qtbot.mouseClick(build.build_button, LEFT)
    assert build.problem.text() == "/no/such/folder is not a folder." and build.outcome == ""
