"""Companies that ask to be billed through the intake form: pending until approved or rejected."""

from __future__ import annotations

import pytest

from giftdesk.core.errors import ConflictError, ValidationError
from giftdesk.fampage.events import CompanyChanged, CompanySubmitted
from tests.support.cli import make_cli


def test_a_submitted_company_waits_and_cannot_order_until_approved(desk):
    seen = []
    desk.events.subscribe(CompanySubmitted, seen.append)
    row = desk.companies.submit({"name": "Client Corp", "email": "Ops@Client.example", "contact_name": "Ana",
                                 "notes": "We need followers"}, "203.0.113.7")
    assert row.status == "pending" and row.email == "ops@client.example" and not row.archived
    assert seen == [CompanySubmitted(row.id, "Client Corp")]
    assert [c.id for c in desk.companies.list(status="pending")] == [row.id]
    with pytest.raises(ValidationError, match="is pending; approve it before recording its orders"):
        desk.orders.create_manual(row.id, "Followers", "https://tiktok.com/@cc", 100, "0.50")
    with pytest.raises(ValidationError, match="is pending; only active companies can order"):
        desk.orders.preview(row.id, 101, "https://tiktok.com/@cc", 100)
    with pytest.raises(ConflictError, match="approve or reject it"):
        desk.companies.update(row.id, status="active")
    approved = desk.companies.approve(row.id)
    assert approved.status == "active"
    desk.orders.create_manual(row.id, "Followers", "https://tiktok.com/@cc", 100, "0.50")
    with pytest.raises(ConflictError, match="is active, not waiting for approval"):
        desk.companies.reject(row.id)
    [submitted] = [e for e in desk.audit.list() if e.action == "company.submit"]
    assert submitted.actor == "intake" and "203.0.113.7" in submitted.summary
    assert any(e.action == "company.approve" for e in desk.audit.list())


def test_a_rejected_company_is_archived_and_a_taken_name_cannot_be_approved(desk):
    desk.companies.create("Acme")
    twin = desk.companies.submit({"name": "acme"}, "198.51.100.1")  # accepted: a stranger learns nothing
    with pytest.raises(ConflictError, match="already a company called 'acme'"):
        desk.companies.approve(twin.id)
    changes = []
    desk.events.subscribe(CompanyChanged, changes.append)
    rejected = desk.companies.reject(twin.id, "duplicate of Acme")
    assert rejected.status == "rejected" and rejected.archived and changes == [CompanyChanged(twin.id)]
    assert [c.name for c in desk.companies.list()] == ["Acme"]
    assert [c.id for c in desk.companies.list(status="rejected", archived=True)] == [twin.id]
    [entry] = [e for e in desk.audit.list() if e.action == "company.reject"]
    assert entry.summary == "Rejected company acme: duplicate of Acme"


@pytest.mark.parametrize("fields,message", [
    ({}, "name is required"), ({"name": "  "}, "name"), ({"name": "X", "status": "active"}, "no field status"),
    ({"name": "X", "invoice_multiplier": "1"}, "no field invoice_multiplier"),
    ({"name": "X", "email": "not-an-email"}, "e-mail"), ({"name": "X" * 201}, "name"),
])
def test_what_a_stranger_sends_is_validated_and_nothing_is_stored(desk, fields, message):
    with pytest.raises(ValidationError, match=message):
        desk.companies.submit(fields, "192.0.2.1")
    assert desk.companies.list() == [] and desk.companies.list(archived=True) == []


def test_the_cli_lists_approves_and_rejects(desk, data_dir, capsys):
    first = desk.companies.submit({"name": "First Ltd"}, "192.0.2.10")
    second = desk.companies.submit({"name": "Second Ltd"}, "192.0.2.11")
    cli = make_cli(capsys, "--data-dir", str(data_dir))
    assert [c["name"] for c in cli.json("company", "list", "--status", "pending")] == ["First Ltd", "Second Ltd"]
    out, _ = cli("company", "approve", str(first.id))
    assert out.strip() == "First Ltd is approved and active."
    out, _ = cli("company", "reject", "Second Ltd", "--reason", "spam")
    assert out.strip() == "Second Ltd is rejected."
    _, err = cli("company", "approve", str(first.id), expect=2)
    assert "is active, not waiting for approval" in err and "Traceback" not in err
    assert cli.json("company", "list", "--status", "pending") == []
