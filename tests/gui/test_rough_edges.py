"""The rough edges a new user met in the window, each pinned by a test."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import keyring
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from giftdesk.core.errors import ValidationError
from giftdesk.gui.system.settings import SettingsDialog
from giftdesk.gui.accounts.api_keys_tab import ApiKeysTab
from giftdesk.gui.accounts.customers_tab import CustomersTab
from tests.gui.conftest import idle


@pytest.fixture
def customers_tab(qtbot, ctx):
    tab = CustomersTab(ctx)
    qtbot.addWidget(tab)
    tab.resize(1200, 700)
    tab.show()
    qtbot.waitExposed(tab)
    idle(qtbot, ctx)
    return tab


def submit(qtbot, ctx, dialog) -> None:
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)


def test_a_customer_without_accounts_says_so_once(desk, ctx, qtbot):
    lonely = desk.customers.create("Omar Haddad")
    tab = CustomersTab(ctx)
    qtbot.addWidget(tab)
    tab.resize(1200, 700)
    tab.show()
    idle(qtbot, ctx)
    assert tab.table.select_key(lonely.id)
    idle(qtbot, ctx)
    qtbot.waitUntil(lambda: tab.dashboard.customer is not None)
    # The accounts table's sentence is the one message; the dashboard (its title "0 TikTok
    # accounts" and its own "No TikTok accounts yet" placeholder) stays out of the way.
    assert tab.accounts.isVisible() and tab.accounts.row_count() == 0
    assert not tab.dashboard.isVisible()
    shown = [w.text() for w in tab.findChildren(QLabel)
             if w.isVisible() and ("No TikTok" in w.text() or "0 TikTok" in w.text())]
    assert shown == []
    # An account appears: so does the dashboard.
    desk.customers.add_account(lonely.id, "omar.live")
    qtbot.waitUntil(lambda: tab.dashboard.isVisible() and tab.accounts.row_count() == 1, timeout=3000)


def test_a_key_generation_message_shows_once_in_the_window(window, desk, qtbot):
    customer = desk.customers.create("Newcomer")
    account = desk.customers.add_account(customer.id, "fresh_one")
    tab: ApiKeysTab = window.api_keys_tab
    window.show_tab("API Keys")
    tab.reload()
    qtbot.waitUntil(lambda: tab.generate_combo.findData(account.id) >= 0)
    tab.generate_combo.setCurrentIndex(tab.generate_combo.findData(account.id))
    qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Generated an API key" in window.status.currentMessage(), timeout=3000)
    assert tab.status_label.text() == ""  # not repeated in the tab's footer


def test_the_dashboard_reports_through_the_status_bar(window, make_account, qtbot):
    account, _ = make_account("card_copy")
    tab = window.customers_tab
    window.show_tab("Customer Accounts")
    qtbot.waitUntil(lambda: tab.table.select_key(account.customer_id), timeout=3000)
    qtbot.waitUntil(lambda: account.id in tab.dashboard.cards, timeout=3000)
    tab.dashboard.say("Copied the tracker URL of @card_copy.")
    assert window.status.currentMessage() == "Copied the tracker URL of @card_copy."


def test_a_field_error_clears_when_the_field_is_corrected(customers_tab, ctx, qtbot):
    dialog = customers_tab.add_customer()
    qtbot.keyClicks(dialog.name, "Someone")
    qtbot.keyClicks(dialog.email, "not-an-email")
    submit(qtbot, ctx, dialog)
    assert dialog.email.property("invalid") is True and dialog.error.isVisible()
    qtbot.keyClicks(dialog.email, "@example.com")  # corrected
    assert dialog.email.property("invalid") is False
    assert not dialog.error.isVisible()
    dialog.reject()


def test_error_sentences_use_the_forms_spelling(customers_tab, ctx, qtbot):
    dialog = customers_tab.add_customer()
    qtbot.keyClicks(dialog.name, "Someone")
    qtbot.keyClicks(dialog.email, "nope")
    submit(qtbot, ctx, dialog)
    assert dialog.error.text().startswith("E-mail 'nope' is not an e-mail address")
    assert "Email" not in dialog.error.text()
    dialog.reject()


def test_one_spelling_of_e_mail_in_every_label_of_the_window(window, qtbot):
    from PySide6.QtWidgets import QLineEdit

    texts = [w.text() for w in window.findChildren(QLabel) + window.findChildren(QPushButton)]
    texts += [w.placeholderText() for w in window.findChildren(QLineEdit)]
    model = window.customers_tab.table.model()
    texts += [model.headerData(i, Qt.Orientation.Horizontal) for i in range(model.columnCount())]
    assert not [t for t in texts if "Email" in t or "email" in t.replace("e-mail", "")]


def test_relative_times_agree_between_the_accounts_table_and_the_card(desk, ctx, qtbot, make_account):
    account, _ = make_account("agree_live")
    when = datetime.now(timezone.utc) - timedelta(seconds=21)
    from sqlalchemy import update

    from giftdesk.db.models import TrackerCredential

    with desk.db.session() as session:
        session.execute(update(TrackerCredential).where(TrackerCredential.account_id == account.id)
                        .values(last_accessed_at=when))
    tab = CustomersTab(ctx)
    qtbot.addWidget(tab)
    tab.resize(1200, 700)
    tab.show()
    idle(qtbot, ctx)
    qtbot.waitUntil(lambda: account.id in tab.dashboard.cards and tab.accounts.row_count() == 1, timeout=3000)
    card = tab.dashboard.cards[account.id]
    table_text = tab.accounts.model().index(0, 2).data()
    assert table_text == card.accessed_label.text()
    assert table_text.endswith("s ago") and table_text != "just now"


def test_toolbar_buttons_all_have_icons(window):
    keys = window.api_keys_tab
    missing = [a.text() for a in keys.toolbar.actions() if not a.isSeparator() and a.icon().isNull()]
    assert missing == []
    customers = window.customers_tab
    for button in (customers.add_button, customers.edit_button, customers.delete_button,
                   customers.add_account_button, customers.delete_account_button):
        assert not button.icon().isNull(), button.text()


def test_headers_are_aligned_like_their_cells(window):
    model = window.customers_tab.table.model()
    align = Qt.ItemDataRole.TextAlignmentRole
    accounts = next(i for i in range(model.columnCount()) if model.headerData(i, Qt.Orientation.Horizontal) == "Accounts")
    assert model.headerData(accounts, Qt.Orientation.Horizontal, align) & Qt.AlignmentFlag.AlignRight
    assert model.headerData(0, Qt.Orientation.Horizontal, align) & Qt.AlignmentFlag.AlignLeft
    # The QSS must not centre them again.
    header = window.customers_tab.table.horizontalHeader()
    assert header.defaultAlignment() & Qt.AlignmentFlag.AlignLeft
    # The API keys table used to centre every title over its left-aligned cells.
    keys = window.api_keys_tab.table
    assert keys.horizontalHeader().defaultAlignment() & Qt.AlignmentFlag.AlignLeft
    assert keys.model().headerData(0, Qt.Orientation.Horizontal, align) & Qt.AlignmentFlag.AlignLeft


@pytest.mark.parametrize("bad", ["Lumen\tMedia", "Lumen\nMedia", "Lumen\x07Media", "Lumen\u2028Media"])
def test_control_characters_in_names_are_refused(desk, bad):
    with pytest.raises(ValidationError, match="control character") as caught:
        desk.customers.create(bad)
    assert caught.value.field == "name"
    with pytest.raises(ValidationError, match="control character"):
        desk.customers.create("Fine", company=bad)
    assert desk.customers.list() == []
    from giftdesk.core import validation

    assert validation.name("  Lumen Media  ") == "Lumen Media"  # trimming still applies


def test_the_tab_message_names_the_character(desk):
    with pytest.raises(ValidationError) as caught:
        desk.customers.create("Lumen\tMedia")
    assert str(caught.value) == ("name contains a control character (TAB) at position 6: "
                                 "use one line of visible characters.")


def test_the_customer_dialog_refuses_a_tab_in_the_name(customers_tab, ctx, qtbot, desk):
    dialog = customers_tab.add_customer()
    dialog.name.setText("Lumen\tMedia")  # pasted: a TAB key press would move the focus instead
    submit(qtbot, ctx, dialog)
    assert dialog.isVisible() and dialog.name.property("invalid") is True
    assert dialog.error.text().startswith("Name contains a control character (TAB)")
    assert desk.customers.list() == []
    # The wrapped sentence gets its own room below the notes (it was drawn over them).
    qtbot.waitUntil(lambda: dialog.error.geometry().top() >= dialog.notes.geometry().bottom())
    dialog.reject()


def test_settings_explain_a_missing_keyring_in_a_sentence(desk, ctx, qtbot, monkeypatch):
    monkeypatch.delenv("GIFTDESK_KEYRING")
    keyring.set_keyring(keyring.core.load_keyring("keyring.backends.fail.Keyring"))
    try:
        from giftdesk.core.secrets import SecretStore

        desk.secrets.__dict__.update(SecretStore(desk.paths.secrets_fallback, desk.secrets.namespace).__dict__)
        dialog = SettingsDialog(ctx)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(lambda: dialog.loaded is not None, timeout=5000)
        hint = dialog.keyring_hint.text()
        assert "fail." not in hint and "Keyring:" not in hint
        assert hint.startswith("No system keyring is available on this computer")
        assert "install and unlock one" in hint and "restart GiftDesk" in hint
        assert dialog.keyring.text().startswith("A file readable only by your user account")
        assert "fail.Keyring" in dialog.keyring_hint.toolTip()  # the technical reason stays reachable
        dialog.close()
    finally:
        keyring.core._keyring_backend = None
