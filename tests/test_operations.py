"""Operations defined once (giftdesk.core.operations and each feature's operations.py)."""

from __future__ import annotations

import pytest

from giftdesk.accounts import operations as accounts
from giftdesk.core.operations import Operation
from giftdesk.fampage import operations as fampage
from giftdesk.fleet import operations as fleet


def test_work_on_one_target_shares_its_lane_and_other_targets_do_not():
    assert fleet.EDIT.lane_key(7) == fleet.START.lane_key(7) != fleet.START.lane_key(8)
    assert fampage.REFILL.lane_key(3) == fampage.RECONCILE.lane_key(3)
    assert fampage.PAY_INVOICE.lane_key(3) != fampage.REFILL.lane_key(3)  # an invoice is not its order


def test_syncs_run_one_at_a_time_whatever_starts_them():
    assert fampage.SYNC_ORDERS.lane_key() == fampage.SYNC_OPEN_ORDERS.lane_key() == "fampage-sync"
    assert fleet.CREATE.lane_key() is None and accounts.REVEAL_KEY.lane_key() is None


def test_a_per_target_operation_needs_its_target():
    with pytest.raises(ValueError, match="target"):
        fleet.STOP.lane_key()


def test_descriptions_and_confirmations():
    assert fleet.EDIT.describe("web-1") == "Saving web-1…" and fleet.START.describe() == "Start…"
    assert fleet.instance_operation("restart") is fleet.RESTART
    assert fleet.DELETE.confirmation(count=2, names="a, b") == "Delete 2 instance(s) and their containers (a, b)?"
    with pytest.raises(ValueError):
        Operation("x", "Doing").confirmation()
