"""Names are one line of visible text: control characters are refused by the services."""

from __future__ import annotations

import pytest

from giftdesk.core.errors import ValidationError
from giftdesk.core import validation

CONTROL = ["a\tb", "a\nb", "a\rb", "a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "a\u2028b"]


@pytest.mark.parametrize("bad", CONTROL)
def test_validation_refuses_control_characters(bad):
    with pytest.raises(ValidationError, match="control character") as caught:
        validation.name(bad, "name")
    assert caught.value.field == "name"
    assert "at position 2" in str(caught.value)


def test_validation_keeps_ordinary_names():
    assert validation.name("  Chloé Bernard  ") == "Chloé Bernard"
    assert validation.name("株式会社 Lumen ✨") == "株式会社 Lumen ✨"
    assert validation.name(None) is None
    with pytest.raises(ValidationError, match="required"):
        validation.name(" ", required=True)


def test_customers_refuse_them_and_change_nothing(any_db_desk):
    desk = any_db_desk
    kept = desk.customers.create("Lumen Media", company="Lumen Ltd")
    with pytest.raises(ValidationError, match=r"name contains a control character \(TAB\)"):
        desk.customers.create("Lumen\tMedia")
    with pytest.raises(ValidationError, match="company contains a control character"):
        desk.customers.update(kept.id, name="Renamed", company="Lumen\nLtd")
    with pytest.raises(ValidationError, match="email contains a control character"):
        desk.customers.create("Someone", email="a\x01b@example.com")
    rows = desk.customers.list()
    assert [(r.name, r.company) for r in rows] == [("Lumen Media", "Lumen Ltd")]  # the update did nothing


def test_administrators_and_company_settings_refuse_them(any_db_desk):
    desk = any_db_desk
    with pytest.raises(ValidationError, match="username contains a control character"):
        desk.admins.create("bob\tby", "long-enough-password-1")
    with pytest.raises(ValidationError, match="control character"):
        desk.settings.update({"company.name": "Gift\tOps"})
    assert desk.settings.get("company.name") == ""
    assert all("bob" not in a.username for a in desk.admins.list())
