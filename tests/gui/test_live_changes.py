"""Another console's changes reach this window's tables through the change feed, without a refresh."""

from __future__ import annotations

import threading

import pytest

from giftdesk.feed.service import ChangeFeedService
from giftdesk.gui.accounts.customers_tab import CustomersTab
from giftdesk.runtime.supervisor import Supervisor
from tests.gui.conftest import idle
from tests.test_change_feed import run_giftdesk


@pytest.fixture
def feed(ctx):
    supervisor = Supervisor(ctx.desk.events)
    service = supervisor.add(ChangeFeedService(ctx.desk.db, ctx.desk.events, poll_interval=0.05))
    supervisor.start()
    while service.follower is None or not service.follower.listening.is_set():
        threading.Event().wait(0.05)
    yield service
    assert supervisor.stop(timeout=10) == [], "the change feed's thread was left behind"


def test_a_customer_added_in_another_console_appears_and_one_renamed_there_follows(ctx, qtbot, desk, data_dir, feed):
    desk.customers.create("Already here")
    tab = CustomersTab(ctx)
    qtbot.addWidget(tab)
    tab.show()
    qtbot.waitExposed(tab)
    idle(qtbot, ctx)
    assert [r.name for r in tab.table.visible_rows()] == ["Already here"]
    run_giftdesk(desk, data_dir, "customer", "add", "--name", "Added elsewhere")
    qtbot.waitUntil(lambda: [r.name for r in tab.table.visible_rows()] == ["Added elsewhere", "Already here"],
                    timeout=10_000)
    here = desk.customers.list("Already here")[0]
    run_giftdesk(desk, data_dir, "customer", "edit", str(here.id), "--name", "Renamed elsewhere")
    qtbot.waitUntil(lambda: [r.name for r in tab.table.visible_rows()] == ["Added elsewhere", "Renamed elsewhere"],
                    timeout=10_000)


def test_a_key_regenerated_in_another_console_shows_its_new_hint(ctx, qtbot, desk, data_dir, feed):
    from giftdesk.gui.accounts.api_keys_tab import ApiKeysTab
    from giftdesk.gui.accounts.key_table_model import KeyTableModel

    customer = desk.customers.create("Keyholder")
    account, old_key = desk.customers.add_account_with_key(customer.id, "keyed_live")
    tab = ApiKeysTab(ctx)
    qtbot.addWidget(tab)
    tab.show()
    qtbot.waitExposed(tab)
    idle(qtbot, ctx)

    def shown_key() -> str:
        return tab.model.index(tab.model.source_row(account.id), KeyTableModel.KEY).data()

    assert shown_key().endswith(old_key[-4:])
    run_giftdesk(desk, data_dir, "key", "regenerate", "--account", str(account.id))
    new_hint = desk.keys.get(account.id).key_hint
    assert new_hint != old_key[-4:]
    qtbot.waitUntil(lambda: shown_key() is not None and shown_key().endswith(new_hint), timeout=10_000)
