"""Customer Accounts tab: list, search, sort, create/edit/delete, accounts, keyboard, live refresh, roles."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from giftdesk.core.errors import PermissionDeniedError
from giftdesk.gui.prompts import Prompts
from giftdesk.gui.accounts.customers_tab import CustomersTab
from giftdesk.accounts.keys import key_secret_name
from tests.gui.conftest import idle


@pytest.fixture
def make_tab(qtbot):
    def make(ctx) -> CustomersTab:
        tab = CustomersTab(ctx)
        qtbot.addWidget(tab)
        tab.resize(1200, 700)
        tab.show()
        qtbot.waitExposed(tab)
        idle(qtbot, ctx)
        return tab

    return make


@pytest.fixture
def seeded(desk):
    """Three customers; Lumen has two accounts (one with a key)."""
    lumen = desk.customers.create("Lumen Media", "ops@lumen.example", "Lumen Ltd", "agency")
    desk.customers.create("Aarav Sharma", "aarav@example.com", "Sharma Studio")
    desk.customers.create("Priya Nair", "priya@example.com")
    beauty = desk.customers.add_account(lumen.id, "lumen.beauty")
    desk.keys.generate(beauty.id)
    desk.customers.add_account(lumen.id, "lumen.travel")
    return lumen


def names(tab) -> list[str]:
    return [row.name for row in tab.table.visible_rows()]


def submit(qtbot, ctx, dialog) -> None:
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)


def test_lists_customers_and_selects_the_first(make_tab, ctx, seeded):
    tab = make_tab(ctx)
    assert names(tab) == ["Aarav Sharma", "Lumen Media", "Priya Nair"]
    assert tab.count_label.text() == "3 customers"
    assert tab.selected_customer.name == "Aarav Sharma"
    assert tab.detail_stack.currentWidget() is tab.detail
    assert tab.customer_name.text() == "Aarav Sharma"
    assert "Sharma Studio" in tab.customer_meta.text()


def test_before_the_orm_is_loaded_the_list_comes_first_and_the_detail_after_its_paint(qtbot, ctx, seeded,
                                                                                     monkeypatch):
    """At the window's start the ORM is not loaded yet: the list is read without it and the
    selected customer's loads (which load it) wait for the list to be painted, then arrive."""
    from giftdesk.desk import Desk

    monkeypatch.setattr(Desk, "orm_loaded", staticmethod(lambda: False))
    lists = []
    monkeypatch.setattr(type(ctx.desk.customers), "list", lambda self, search=None: lists.append(search) or [])
    tab = CustomersTab(ctx)
    qtbot.addWidget(tab)
    tab.resize(1200, 700)
    qtbot.waitUntil(lambda: len(names(tab)) == 3)
    assert tab.selected_customer.name == "Aarav Sharma" and tab.accounts.rows == [] and tab._first_paint.held
    assert lists == []  # read without the service
    tab.show()
    qtbot.waitUntil(lambda: not tab._first_paint.held and ctx.runner.running == 0)
    qtbot.waitUntil(lambda: tab.dashboard.customer is not None and tab.dashboard.customer.name == "Aarav Sharma")
    tab.table.select_key(seeded.id)
    qtbot.waitUntil(lambda: [a.username for a in tab.accounts.rows] == ["lumen.beauty", "lumen.travel"])
    qtbot.waitUntil(lambda: tab.dashboard.customer is not None and tab.dashboard.customer.id == seeded.id)


def test_empty_state_with_add_button(make_tab, ctx, qtbot):
    tab = make_tab(ctx)
    assert tab.list_stack.currentWidget() is tab.empty_state
    assert tab.empty_add.isVisibleTo(tab)
    assert tab.detail_stack.currentWidget() is tab.no_selection
    assert not tab.edit_button.isEnabled() and not tab.delete_button.isEnabled()


def test_search_as_you_type_is_debounced_and_runs_in_the_service(make_tab, ctx, seeded, qtbot):
    tab = make_tab(ctx)
    qtbot.keyClicks(tab.search, "lum")
    qtbot.waitUntil(lambda: names(tab) == ["Lumen Media"], timeout=3000)
    assert tab.count_label.text() == "1 customer match “lum”"
    tab.search.setText("@lumen.trav")  # a TikTok handle finds its customer
    qtbot.waitUntil(lambda: names(tab) == ["Lumen Media"], timeout=3000)
    tab.search.setText("nobody-here")
    qtbot.waitUntil(lambda: names(tab) == [], timeout=3000)
    assert tab.list_stack.currentWidget() is not tab.empty_state  # "no match", not "no customers"
    assert tab.detail_stack.currentWidget() is tab.no_selection
    tab.search.clear()
    qtbot.waitUntil(lambda: len(names(tab)) == 3, timeout=3000)


def test_sorting_by_columns(make_tab, ctx, seeded):
    tab = make_tab(ctx)
    tab.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)  # accounts
    assert names(tab)[0] == "Lumen Media"
    tab.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert names(tab) == ["Priya Nair", "Lumen Media", "Aarav Sharma"]
    tab.table.sortByColumn(2, Qt.SortOrder.AscendingOrder)  # company: empty first
    assert names(tab)[0] == "Priya Nair"


def test_create_customer_through_the_dialog(make_tab, ctx, qtbot, desk):
    tab = make_tab(ctx)
    dialog = tab.add_customer()
    assert dialog.isVisible()
    dialog.name.setText("Chloé Bernard")  # keyClicks aborts on non-ASCII under offscreen
    qtbot.keyClicks(dialog.email, "Chloe@Bernard.fr")
    qtbot.keyClicks(dialog.company, "CB Studio")
    dialog.notes.setPlainText("Pink goal widget")
    submit(qtbot, ctx, dialog)
    qtbot.waitUntil(lambda: names(tab) == ["Chloé Bernard"], timeout=3000)
    assert tab.selected_customer.email == "chloe@bernard.fr"  # normalised by the service
    assert tab.list_stack.currentWidget() is not tab.empty_state
    assert desk.customers.list()[0].notes == "Pink goal widget"


def test_service_errors_stay_in_the_dialog_with_the_typed_input(make_tab, ctx, qtbot, desk):
    desk.customers.create("Taken", "taken@example.com")
    tab = make_tab(ctx)
    dialog = tab.add_customer()
    qtbot.keyClicks(dialog.name, "Someone New")
    qtbot.keyClicks(dialog.email, "not-an-email")
    submit(qtbot, ctx, dialog)
    assert dialog.isVisible()
    assert "is not an e-mail address" in dialog.error.text() and dialog.error.isVisible()
    assert dialog.email.property("invalid") is True
    assert dialog.name.text() == "Someone New" and dialog.email.text() == "not-an-email"
    dialog.email.setText("taken@example.com")
    submit(qtbot, ctx, dialog)
    assert "already uses the e-mail" in dialog.error.text()
    dialog.email.setText("")
    dialog.name.setText("   ")
    submit(qtbot, ctx, dialog)
    assert dialog.error.text() == "Name is required."
    dialog.reject()
    assert len(desk.customers.list()) == 1


def test_edit_customer_with_enter_and_double_click(make_tab, ctx, qtbot, seeded, desk):
    tab = make_tab(ctx)
    tab.table.select_key(seeded.id)
    tab.table.setFocus()
    qtbot.keyClick(tab.table, Qt.Key.Key_Return)
    dialog = tab.dialog
    assert dialog is not None and dialog.windowTitle() == "Edit customer"
    assert dialog.name.text() == "Lumen Media" and dialog.notes.toPlainText() == "agency"
    dialog.company.setText("Lumen Media Group")
    submit(qtbot, ctx, dialog)
    qtbot.waitUntil(lambda: tab.selected_customer is not None
                    and tab.selected_customer.company == "Lumen Media Group", timeout=3000)
    assert desk.customers.get(seeded.id).company == "Lumen Media Group"
    assert "Lumen Media Group" in tab.customer_meta.text()

    index = tab.table.source.index(tab.table.source.row_of_key(seeded.id), 0)
    tab.table.doubleClicked.emit(index)
    assert tab.dialog is not None and tab.dialog.name.text() == "Lumen Media"
    tab.dialog.reject()


def test_delete_customer_asks_with_the_service_rule(make_tab, ctx, qtbot, seeded, desk, monkeypatch):
    tab = make_tab(ctx)
    tab.table.select_key(seeded.id)
    asked = []

    def confirm(parent, title, text, destructive=False):
        asked.append((title, text, destructive))
        return False

    monkeypatch.setattr(Prompts, "confirm", staticmethod(confirm))
    tab.delete_customer()
    idle(qtbot, ctx)
    title, text, destructive = asked[0]
    assert title == "Delete customer" and destructive
    assert desk.customers.delete_impact(seeded.id).sentence() in text
    assert "2 TikTok accounts" in text and "1 API key" in text
    assert any(r.id == seeded.id for r in desk.customers.list())  # answered No


def test_delete_customer_with_the_delete_key(make_tab, ctx, qtbot, seeded, desk, answers):
    tab = make_tab(ctx)
    tab.table.select_key(seeded.id)
    tab.table.setFocus()
    answers.append(True)
    qtbot.keyClick(tab.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: "Lumen Media" not in names(tab), timeout=3000)
    assert [c.name for c in desk.customers.list()] == ["Aarav Sharma", "Priya Nair"]
    assert desk.secrets.get(key_secret_name(1)) is None  # its key left the secret store too
    assert answers == []


def test_add_account_with_a_generated_key(make_tab, ctx, qtbot, seeded, desk):
    tab = make_tab(ctx)
    tab.table.select_key(seeded.id)
    idle(qtbot, ctx)
    assert [a.handle for a in tab.accounts.visible_rows()] == ["@lumen.beauty", "@lumen.travel"]
    dialog = tab.add_account()
    assert dialog.generate.isChecked()  # on by default
    qtbot.keyClicks(dialog.handle, "@Lumen.Food")
    submit(qtbot, ctx, dialog)
    qtbot.waitUntil(lambda: "@lumen.food" in [a.handle for a in tab.accounts.visible_rows()], timeout=3000)
    food = next(a for a in tab.accounts.visible_rows() if a.handle == "@lumen.food")
    assert food.has_key and desk.keys.get(food.id).status == "active"
    qtbot.waitUntil(lambda: tab.selected_customer.account_count == 3, timeout=3000)


def test_add_account_without_a_key_and_with_a_bad_handle(make_tab, ctx, qtbot, seeded, desk):
    tab = make_tab(ctx)
    tab.table.select_key(seeded.id)
    dialog = tab.add_account()
    qtbot.keyClicks(dialog.handle, "no spaces allowed")
    submit(qtbot, ctx, dialog)
    assert dialog.isVisible() and "is not a TikTok username" in dialog.error.text()
    dialog.handle.setText("@plain_account")
    dialog.generate.setChecked(False)
    submit(qtbot, ctx, dialog)
    assert tab.dialog is None  # accepted, closed and deleted
    qtbot.waitUntil(lambda: "@plain_account" in [a.handle for a in tab.accounts.visible_rows()], timeout=3000)
    plain = next(a for a in tab.accounts.visible_rows() if a.handle == "@plain_account")
    assert not plain.has_key


def test_delete_account_with_confirmation(make_tab, ctx, qtbot, seeded, desk, monkeypatch):
    tab = make_tab(ctx)
    tab.table.select_key(seeded.id)
    idle(qtbot, ctx)
    beauty = next(a for a in tab.accounts.visible_rows() if a.handle == "@lumen.beauty")
    tab.accounts.select_key(beauty.id)
    assert tab.delete_account_button.isEnabled()
    asked = []
    monkeypatch.setattr(Prompts, "confirm", staticmethod(lambda p, t, text, destructive=False: asked.append(text) or True))
    tab.accounts.setFocus()
    qtbot.keyClick(tab.accounts, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: [a.handle for a in tab.accounts.visible_rows()] == ["@lumen.travel"], timeout=3000)
    assert "This deletes 1 TikTok account, 1 API key" in asked[0]
    assert desk.secrets.get(key_secret_name(beauty.id)) is None


def test_ctrl_f_focuses_the_search(make_tab, ctx, qtbot, seeded):
    tab = make_tab(ctx)
    tab.activateWindow()
    tab.table.setFocus()
    qtbot.keyClick(tab.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(tab.search.hasFocus, timeout=2000)


def test_follows_changes_made_elsewhere(make_tab, ctx, qtbot, seeded, desk):
    tab = make_tab(ctx)
    tab.table.select_key(seeded.id)
    idle(qtbot, ctx)
    desk.customers.create("Zoe Added Elsewhere")  # another console, the CLI: events reach the tab
    qtbot.waitUntil(lambda: "Zoe Added Elsewhere" in names(tab), timeout=3000)
    desk.customers.add_account(seeded.id, "lumen.news")
    qtbot.waitUntil(lambda: "@lumen.news" in [a.handle for a in tab.accounts.visible_rows()], timeout=3000)
    travel = next(a for a in tab.accounts.visible_rows() if a.handle == "@lumen.travel")
    desk.keys.generate(travel.id)
    qtbot.waitUntil(lambda: next(a for a in tab.accounts.visible_rows() if a.handle == "@lumen.travel").has_key,
                    timeout=3000)
    assert tab.selected_customer.id == seeded.id  # the selection survived the refreshes


def test_places_the_dashboard_for_the_selected_customer(make_tab, ctx, qtbot, seeded):
    from giftdesk.gui.accounts.customer_dashboard import CustomerDashboard

    tab = make_tab(ctx)
    assert isinstance(tab.dashboard, CustomerDashboard)
    tab.table.select_key(seeded.id)
    qtbot.waitUntil(lambda: getattr(tab.dashboard, "customer_id", seeded.id) == seeded.id, timeout=3000)


def test_viewer_sees_disabled_edit_controls(make_tab, viewer_ctx, qtbot, seeded):
    tab = make_tab(viewer_ctx)
    tab.table.select_key(seeded.id)
    idle(qtbot, viewer_ctx)
    assert not tab.add_button.isEnabled()
    assert not tab.delete_button.isEnabled()
    assert not tab.add_account_button.isEnabled()
    assert tab.edit_button.isEnabled() and tab.edit_button.text() == "View"
    tab.edit_customer()
    assert tab.dialog.name.isReadOnly() and not tab.dialog.ok_button.isVisible()
    tab.dialog.reject()
    assert tab.add_customer() is None


def test_viewer_forcing_a_delete_gets_the_services_refusal(make_tab, viewer_ctx, qtbot, seeded, desk, answers, errors):
    tab = make_tab(viewer_ctx)
    tab.table.select_key(seeded.id)
    answers.append(True)
    tab.delete_customer()  # the button is disabled; the service still says no
    qtbot.waitUntil(lambda: bool(errors), timeout=3000)
    assert isinstance(errors[0], PermissionDeniedError)
    assert "vera is a viewer" in str(errors[0])
    assert any(c.id == seeded.id for c in desk.customers.list())


def click_row(qtbot, table, key) -> None:
    """A left click on the row's rectangle, as a person does."""
    index = table.model().index(table.source.row_of_key(key), 0)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(index).center())


def test_a_mouse_click_selects_the_customer_and_shows_it(make_tab, ctx, qtbot, seeded):
    tab = make_tab(ctx)
    tab.table.clear_selection()
    assert tab.detail_stack.currentWidget() is tab.no_selection
    assert not tab.edit_button.isEnabled() and not tab.delete_button.isEnabled()

    click_row(qtbot, tab.table, seeded.id)
    assert tab.selected_customer is not None and tab.selected_customer.id == seeded.id
    assert tab.detail_stack.currentWidget() is tab.detail
    assert tab.customer_name.text() == "Lumen Media"
    assert tab.edit_button.isEnabled() and tab.delete_button.isEnabled()
    idle(qtbot, ctx)
    qtbot.waitUntil(lambda: len(tab.accounts.rows) == 2)

    # Another customer by mouse: the pane follows at once.
    priya = next(r for r in tab.table.rows if r.name == "Priya Nair")
    click_row(qtbot, tab.table, priya.id)
    assert tab.customer_name.text() == "Priya Nair" and tab.edit_button.isEnabled()

    # And an account row by mouse enables its delete button.
    click_row(qtbot, tab.table, seeded.id)
    idle(qtbot, ctx)
    qtbot.waitUntil(lambda: len(tab.accounts.rows) == 2)
    account = tab.accounts.rows[0]
    click_row(qtbot, tab.accounts, account.id)
    assert tab.selected_account is not None and tab.delete_account_button.isEnabled()
