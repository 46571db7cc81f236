"""Administrators, audit log and restore: what the CLI does about them, the GUI does too."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from giftdesk.core.errors import AuthenticationError, PermissionDeniedError, ValidationError
from giftdesk.gui.system.administrators import (
    AddAdminDialog,
    AdministratorsDialog,
    ChangeRoleDialog,
    ResetPasswordDialog,
)
from giftdesk.gui.system.audit_log import AuditLogDialog
from tests.gui.conftest import idle


# ---- administrators --------------------------------------------------------------------------
@pytest.fixture
def admins(desk):
    desk.admins.create("alice", "alice-secret-1")  # the first one: the super admin
    desk.admins.create("bob", "bob-secret-1", "operator")


@pytest.fixture
def open_admins(qtbot):
    def make(ctx) -> AdministratorsDialog:
        dialog = AdministratorsDialog(ctx)
        qtbot.addWidget(dialog)
        dialog.open()
        qtbot.waitUntil(lambda: dialog.loaded, timeout=5000)
        return dialog

    return make


def names(dialog) -> list[tuple[str, str, str]]:
    return [(a.username, a.role, "super" if a.is_super else "") for a in dialog.table.visible_rows()]


def select(dialog, username: str) -> None:
    row = next(r for r in dialog.table.rows if r.username == username)
    assert dialog.table.select_key(row.id)


def ok(qtbot, ctx, form) -> None:
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)


def test_lists_administrators(admins, ctx, open_admins):
    dialog = open_admins(ctx)
    assert names(dialog) == [("alice", "admin", "super"), ("bob", "operator", "")]
    model = dialog.table.model()
    assert [model.headerData(i, Qt.Orientation.Horizontal) for i in range(model.columnCount())] == [
        "Username", "Role", "Super admin", "Created", "Last login", "Locked until"]
    assert model.index(1, 4).data() == "never"
    assert dialog.add_button.isEnabled() and not dialog.delete_button.isEnabled()  # nothing selected yet
    select(dialog, "bob")
    assert all(b.isEnabled() for b in (dialog.role_button, dialog.reset_button, dialog.delete_button))


def test_add_change_role_reset_and_delete(admins, ctx, desk, open_admins, qtbot, answers):
    dialog = open_admins(ctx)
    form = dialog.add_admin()
    assert isinstance(form, AddAdminDialog)
    form.username.setText("carol")
    form.password.setText("carol-secret-1")
    form.confirm.setText("carol-secret-1")
    form.role.setCurrentIndex(form.role.findData("viewer"))
    with qtbot.waitSignal(form.accepted, timeout=5000):
        ok(qtbot, ctx, form)
    idle(qtbot, ctx)
    assert ("carol", "viewer", "") in names(dialog)
    assert dialog.table.current_row().username == "carol"  # the new one is selected

    form = dialog.change_role()
    assert isinstance(form, ChangeRoleDialog) and form.role.currentData() == "viewer"
    form.role.setCurrentIndex(form.role.findData("operator"))
    with qtbot.waitSignal(form.accepted, timeout=5000):
        ok(qtbot, ctx, form)
    idle(qtbot, ctx)
    assert ("carol", "operator", "") in names(dialog)

    form = dialog.reset_password()
    assert isinstance(form, ResetPasswordDialog)
    form.new.setText("carol-new-pass")
    form.confirm.setText("carol-new-pass")
    with qtbot.waitSignal(form.accepted, timeout=5000):
        ok(qtbot, ctx, form)
    assert desk.admins.authenticate("carol", "carol-new-pass").role == "operator"

    answers.extend([False, True])  # the first delete is cancelled
    dialog.delete_admin()
    idle(qtbot, ctx)
    assert "carol" in [u for u, _, _ in names(dialog)]
    dialog.delete_admin()
    idle(qtbot, ctx)
    assert [u for u, _, _ in names(dialog)] == ["alice", "bob"]
    with pytest.raises(AuthenticationError):
        desk.admins.authenticate("carol", "carol-new-pass")
    entries = [e for e in desk.audit.list() if e.action != "admin.login_failed"]  # carol's try above
    assert [e.action for e in entries[:4]] == ["admin.delete", "admin.reset_password", "admin.role", "admin.create"]
    assert entries[0].actor == "alice"


def test_service_errors_are_shown_inline_and_input_kept(admins, ctx, open_admins, qtbot):
    dialog = open_admins(ctx)
    form = dialog.add_admin()
    form.username.setText("dave")
    form.password.setText("short")
    form.confirm.setText("short")
    ok(qtbot, ctx, form)
    assert form.isVisible() and "at least 8 characters" in form.error.text()
    assert form.password.property("invalid") is True
    assert form.username.text() == "dave" and form.password.text() == "short"

    form.username.setText("BOB")  # duplicates are case-insensitive
    form.password.setText("long-enough-1")
    form.confirm.setText("long-enough-1")
    ok(qtbot, ctx, form)
    assert form.isVisible() and "already exists" in form.error.text()
    assert form.username.property("invalid") is True
    assert form.username.text() == "BOB" and form.password.text() == "long-enough-1"

    form.confirm.setText("something-else")
    ok(qtbot, ctx, form)
    assert "differ" in form.error.text() and form.confirm.property("invalid") is True
    form.reject()

    select(dialog, "alice")
    form = dialog.change_role()
    form.role.setCurrentIndex(form.role.findData("viewer"))
    ok(qtbot, ctx, form)
    assert form.isVisible() and "super admin always keeps the admin role" in form.error.text()
    form.reject()

    form = dialog.reset_password()
    form.new.setText("alice")
    form.confirm.setText("alice")
    ok(qtbot, ctx, form)
    assert "at least 8 characters" in form.error.text() and form.new.text() == "alice"


def test_refused_delete_reaches_the_error_route(admins, ctx, open_admins, qtbot, answers, errors):
    dialog = open_admins(ctx)
    select(dialog, "alice")
    answers.append(True)
    dialog.delete_admin()
    idle(qtbot, ctx)
    assert len(errors) == 1 and isinstance(errors[0], PermissionDeniedError)
    assert "cannot be deleted" in str(errors[0])
    assert "alice" in [u for u, _, _ in names(dialog)]


def test_viewer_sees_the_list_read_only(admins, viewer_ctx, open_admins):
    dialog = open_admins(viewer_ctx)
    assert [u for u, _, _ in names(dialog)] == ["alice", "bob"]
    select(dialog, "bob")
    for button in (dialog.add_button, dialog.role_button, dialog.reset_button, dialog.unlock_button,
                   dialog.delete_button):
        assert not button.isEnabled() and "Only administrators" in button.toolTip()
    assert dialog.add_admin() is None and dialog.change_role() is None and dialog.reset_password() is None
    assert dialog.refresh_button.isEnabled()


def test_account_menu_opens_the_dialog(admins, window, qtbot):
    assert window.admins_action.isEnabled()
    window.admins_action.trigger()
    assert isinstance(window.dialog, AdministratorsDialog)
    qtbot.waitUntil(lambda: window.dialog.loaded, timeout=5000)


# ---- audit log ---------------------------------------------------------------------------------
@pytest.fixture
def open_audit(qtbot):
    def make(ctx) -> AuditLogDialog:
        dialog = AuditLogDialog(ctx)
        qtbot.addWidget(dialog)
        dialog.open()
        qtbot.waitUntil(lambda: dialog.loaded, timeout=5000)
        return dialog

    return make


def test_audit_log_lists_newest_first_filters_and_shows_details(ctx, desk, open_audit, qtbot):
    customer = ctx.desk.customers.create("Audited Co")
    account = ctx.desk.customers.add_account(customer.id, "audited_handle")
    ctx.desk.keys.generate(account.id)
    dialog = open_audit(ctx)
    rows = dialog.table.visible_rows()
    assert [r.action for r in rows][:3] == ["key.generate", "account.create", "customer.create"]
    assert [r.id for r in rows] == sorted((r.id for r in rows), reverse=True)
    assert all(r.actor == "alice" for r in rows)
    assert rows[0].id == dialog.table.current_row().id  # the newest is selected
    model = dialog.table.model()
    assert [model.headerData(i, Qt.Orientation.Horizontal) for i in range(4)] == ["When", "Who", "Action", "Summary"]

    calls = []
    monkey = ctx.desk.audit.list
    ctx.desk.audit.list = lambda *a, **k: calls.append(a) or monkey(*a, **k)  # no query per keystroke
    try:
        qtbot.keyClicks(dialog.search, "audited co")
        assert calls == []
    finally:
        ctx.desk.audit.list = monkey
    shown = dialog.table.visible_rows()
    assert shown and all("audited co" in r.summary.lower() for r in shown)
    assert "of" in dialog.count_label.text()

    dialog.search.clear()
    dialog.table.select_key(rows[-1].id)
    assert rows[-1].action in dialog.heading.text() and "alice" in dialog.heading.text()
    assert dialog.details.toPlainText().startswith('{\n  "name": "Audited Co",\n')  # customer.create's details
    dialog.table.select_key(rows[1].id)  # account.create
    assert "account.create" in dialog.heading.text()

    ctx.desk.customers.create("Later Co")
    dialog.refresh_button.click()
    idle(qtbot, ctx)
    assert "Later Co" in dialog.table.visible_rows()[0].summary


def test_audit_log_pretty_prints_details(ctx, desk, open_audit):
    with desk.db.session() as session:
        desk.ctx.audit(session, "test.details", "with details", "thing", 7, {"nested": {"a": 1}, "list": [1, 2]})
    dialog = open_audit(ctx)
    dialog.table.select_key(dialog.table.visible_rows()[0].id)
    assert dialog.details.toPlainText() == '{\n  "nested": {\n    "a": 1\n  },\n  "list": [\n    1,\n    2\n  ]\n}'
    assert "test.details" in dialog.heading.text() and "thing 7" in dialog.heading.text()


def test_audit_menu_for_viewers_too(viewer_ctx, qtbot):
    from giftdesk.gui.main_window import MainWindow

    win = MainWindow(viewer_ctx, background=False)
    qtbot.addWidget(win)
    assert win.audit_action.isEnabled() and win.admins_action.isEnabled()
    assert not win.restore_action.isEnabled() and "admin role" in win.restore_action.toolTip()
    win.audit_action.trigger()
    assert isinstance(win.dialog, AuditLogDialog)
    qtbot.waitUntil(lambda: win.dialog.loaded, timeout=5000)
    idle(qtbot, viewer_ctx)
    win.close()


def test_audit_service_limit_and_search(desk):
    for name in ("One", "Two", "Three"):
        desk.customers.create(f"Customer {name}")
    assert len(desk.audit.list(limit=2)) == 2
    assert [r.summary for r in desk.audit.list(search="TWO")] == [desk.audit.list(search="two")[0].summary]
    assert desk.audit.list(search="two")[0].to_json()["at"].startswith("20")
    with pytest.raises(ValidationError):
        desk.audit.list(limit=0)


# ---- restore -----------------------------------------------------------------------------------
def test_restore_refuses_a_file_that_is_not_a_giftdesk_database(window, ctx, qtbot, tmp_path, errors):
    import sqlite3

    junk = tmp_path / "notes.db"
    conn = sqlite3.connect(junk)
    conn.execute("CREATE TABLE notes (id INTEGER)")
    conn.commit()
    conn.close()
    window.restore_database(junk)  # no question is asked: Prompts.answers is empty
    idle(qtbot, ctx)
    assert len(errors) == 1 and isinstance(errors[0], ValidationError)
    assert "not a GiftDesk database" in str(errors[0])
    text_file = tmp_path / "readme.txt"
    text_file.write_text("hello")
    window.restore_database(text_file)
    idle(qtbot, ctx)
    assert "not a SQLite database" in str(errors[1])


def test_restore_from_a_backup(window, ctx, desk, qtbot, tmp_path, answers):
    from giftdesk.db.backup import backup_sqlite
    from giftdesk.accounts.tracker_gateway import TrackerGateway

    old = desk.customers.create("In backup")
    old_account = desk.customers.add_account(old.id, "in_backup")
    old_key = desk.keys.generate(old_account.id)
    backup = backup_sqlite(desk.db.sqlite_path, tmp_path / "snap.db")
    new = desk.customers.create("Not in backup")
    new_account = desk.customers.add_account(new.id, "not_in_backup")
    new_key = desk.keys.generate(new_account.id)
    old_key_now = desk.keys.regenerate(old_account.id)  # the backup holds the earlier key

    gateway = TrackerGateway(desk.db, desk.events, poll_interval=60)  # the running endpoint's key table
    gateway.start()
    try:
        assert gateway.authenticate(str(new_account.id), str(new_account.id), new_key) == new_account.id
        window.customers_tab.refresh()
        idle(qtbot, ctx)
        assert {r.name for r in window.customers_tab.table.rows} == {"In backup", "Not in backup"}

        answers.append(False)  # cancelled: nothing happens
        window.restore_database(backup)
        idle(qtbot, ctx)
        assert len(desk.customers.list()) == 2

        answers.append(True)
        window.restore_database(backup)
        idle(qtbot, ctx)
        assert [c.name for c in desk.customers.list()] == ["In backup"]
        assert "restored" in window.status.currentMessage()
        kept = sorted(desk.paths.backups.glob("before-restore-*.db"))
        assert len(kept) == 1
        qtbot.waitUntil(lambda: {r.name for r in window.customers_tab.table.rows} == {"In backup"}, timeout=5000)
        qtbot.waitUntil(lambda: [r.account_id for r in window.api_keys_tab.model.rows()] == [old_account.id],
                        timeout=5000)
        # The key table follows at once (events), not after a poll: the backup's key works again.
        assert gateway.authenticate(str(old_account.id), str(old_account.id), old_key) == old_account.id
        from giftdesk.core.errors import AuthenticationError as AuthError

        for account, key in ((new_account, new_key), (old_account, old_key_now)):
            with pytest.raises(AuthError):
                gateway.authenticate(str(account.id), str(account.id), key)
        assert desk.audit.list(limit=1)[0].action == "database.restore"
    finally:
        gateway.close()


def test_restore_restarts_the_endpoint(window, ctx, desk, qtbot, tmp_path, answers):
    import socket

    from giftdesk.db.backup import backup_sqlite

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    desk.settings.update({"endpoint.port": port, "endpoint.bind": "local", "docker.host": "tcp://127.0.0.1:9"})
    desk.customers.create("Kept")
    backup = backup_sqlite(desk.db.sqlite_path, tmp_path / "snap.db")
    desk.customers.create("Dropped")
    window.start_background()
    view = window.runtime_view
    qtbot.waitUntil(lambda: getattr(view.status("endpoint"), "state", "") == "running", timeout=8000)
    first_start = view.status("endpoint").since
    answers.append(True)
    window.restore_database(backup)
    idle(qtbot, ctx)
    qtbot.waitUntil(lambda: view.status("endpoint").state == "running" and view.status("endpoint").since > first_start,
                    timeout=8000)
    assert [c.name for c in desk.customers.list()] == ["Kept"]


def test_restore_is_for_admins_only(viewer_ctx, desk, qtbot, tmp_path, errors):
    from giftdesk.db.backup import backup_sqlite
    from giftdesk.gui.main_window import MainWindow

    backup = backup_sqlite(desk.db.sqlite_path, tmp_path / "snap.db")
    win = MainWindow(viewer_ctx, background=False)
    qtbot.addWidget(win)
    win.restore_database(backup)
    idle(qtbot, viewer_ctx)
    assert len(errors) == 1 and isinstance(errors[0], PermissionDeniedError)
    win.close()


def test_restore_menu_asks_for_the_file_without_blocking(window, ctx, qtbot, tmp_path, errors):
    from PySide6.QtWidgets import QFileDialog

    assert window.restore_action.isEnabled()
    window.restore_action.trigger()
    dialog = window.dialog
    assert isinstance(dialog, QFileDialog) and dialog.isVisible()
    assert dialog.directory().absolutePath() == str(ctx.desk.paths.backups)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database")
    dialog.fileSelected.emit(str(junk))
    dialog.close()
    idle(qtbot, ctx)
    assert len(errors) == 1 and "not a SQLite database" in str(errors[0])


def lock_out(desk, username: str) -> None:
    """Five wrong passwords, spaced as the pauses ask, stamped in the last minute (time is never waited for)."""
    from datetime import timedelta

    from giftdesk.db.types import utcnow

    moments = iter(utcnow() - timedelta(seconds=60) + timedelta(seconds=10 * i) for i in range(5))
    desk.admins.clock = lambda: current
    for current in moments:
        with pytest.raises(AuthenticationError):
            desk.admins.authenticate(username, "wrong horse")


def test_a_locked_administrator_shows_when_and_an_admin_unlocks_them(admins, ctx, desk, open_admins, qtbot):
    lock_out(desk, "bob")
    dialog = open_admins(ctx)
    model = dialog.table.model()
    rows = {row.username: row for row in dialog.table.visible_rows()}
    assert rows["bob"].locked_until is not None and rows["alice"].locked_until is None
    bob_index = dialog.table.visible_rows().index(rows["bob"])
    assert model.index(bob_index, 5).data() != "" and model.index(1 - bob_index, 5).data() == ""

    select(dialog, "alice")
    assert not dialog.unlock_button.isEnabled()
    assert dialog.unlock_button.toolTip() == "'alice' is not locked: there is nothing to unlock"
    select(dialog, "bob")
    assert dialog.unlock_button.isEnabled()
    qtbot.mouseClick(dialog.unlock_button, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)
    qtbot.waitUntil(lambda: dialog.selected() is not None and dialog.selected().locked_until is None, timeout=5000)
    assert desk.admins.locked_until("bob") is None
    assert model.index(dialog.table.visible_rows().index(dialog.selected()), 5).data() == ""
    assert not dialog.unlock_button.isEnabled()
    assert desk.admins.authenticate("bob", "bob-secret-1").username == "bob"


def test_a_viewer_sees_the_lock_but_cannot_unlock(admins, viewer_ctx, desk, open_admins):
    lock_out(desk, "bob")
    dialog = open_admins(viewer_ctx)
    select(dialog, "bob")
    assert dialog.selected().locked_until is not None
    assert not dialog.unlock_button.isEnabled() and "Only administrators" in dialog.unlock_button.toolTip()
