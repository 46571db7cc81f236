"""Tray notices: a failed scheduled backup and a company waiting for approval, to the roles that can act."""

from __future__ import annotations

import pytest

from giftdesk.fampage.events import CompanySubmitted
from giftdesk.system.scheduled_backups import BackupFailed
from tests.gui.conftest import idle


@pytest.fixture
def failing_backups(desk, monkeypatch):
    def no_space(_self, _stem):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(type(desk.scheduled_backups), "_copy", no_space)


def test_a_failed_scheduled_backup_is_told_to_an_admin(window, ctx, desk, qtbot, failing_backups):
    result = desk.scheduled_backups.run()  # as the runtime's scheduler runs it, off the GUI thread's work
    assert not result.ok
    qtbot.waitUntil(lambda: len(window.notifier.shown) == 1, timeout=5000)
    text = window.notifier.shown[0]
    assert text.startswith("The scheduled backup failed: [Errno 28] No space left on device")
    assert "Settings → Storage" in text
    assert window.status.currentMessage() == text  # no tray here: the status bar says it


def test_a_company_from_the_intake_form_is_told_to_an_operator(window, ctx, desk, qtbot):
    desk.companies.submit({"name": "Delta Media"}, source="203.0.113.5")
    qtbot.waitUntil(lambda: len(window.notifier.shown) == 1, timeout=5000)
    assert window.notifier.shown[0] == ("Delta Media asked to be added through the intake form. Approve or reject "
                                        "it in Fampage Orders → Companies.")


def test_a_viewer_is_not_told_what_they_cannot_act_on(viewer_ctx, desk, qtbot, failing_backups):
    from giftdesk.gui.main_window import MainWindow

    window = MainWindow(viewer_ctx, background=False)
    qtbot.addWidget(window)
    window.show()
    idle(qtbot, viewer_ctx)
    assert window.backup_warning is None and window.company_requests is None
    delivered = []
    viewer_ctx.bridge.subscribe(BackupFailed, delivered.append)
    viewer_ctx.bridge.subscribe(CompanySubmitted, delivered.append)
    desk.scheduled_backups.run()
    desk.companies.submit({"name": "Delta Media"}, source="203.0.113.5")
    qtbot.waitUntil(lambda: len(delivered) == 2, timeout=5000)  # both reached the window's thread
    assert window.notifier.shown == []
    window.close()
