"""Company intake on the endpoint: off by default, validated, pending until approved, rate limited per
address, bounded, and a filled-in honeypot stores nothing."""

from __future__ import annotations

import httpx
import pytest

from giftdesk.desk import feature_routes
from giftdesk.endpoint.server import EndpointServer
from giftdesk.fampage.events import CompanySubmitted
from giftdesk.fampage.http import MAX_BODY_BYTES, PER_ADDRESS, ROUTE


@pytest.fixture
def intake(desk, gateway):
    server = EndpointServer(gateway, ["127.0.0.1"], 0,
                            routes=feature_routes(gateway, None, (desk.companies, desk.settings)))
    server.start()
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as client:
        yield client
    server.stop()


def test_off_by_default_it_answers_404_and_stores_nothing(desk, intake):
    answer = intake.post(ROUTE, json={"name": "Client Corp"})
    assert answer.status_code == 404 and answer.json() == {"success": False, "message": "Not found"}
    assert desk.companies.list() == []


def test_a_company_asks_and_waits_for_approval(desk, intake):
    desk.settings.update({"endpoint.company_intake": True})
    submitted = []
    desk.events.subscribe(CompanySubmitted, submitted.append)
    answer = intake.post(ROUTE, json={"name": "Client Corp", "contactName": "Ana", "email": "ana@client.example",
                                      "message": "Followers for our launch"})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["success"] and body["data"]["status"] == "pending" and body["data"]["name"] == "Client Corp"
    [company] = desk.companies.list(status="pending")
    assert (company.contact_name, company.email, company.notes) == ("Ana", "ana@client.example",
                                                                    "Followers for our launch")
    assert submitted == [CompanySubmitted(company.id, "Client Corp")]
    [entry] = [e for e in desk.audit.list() if e.action == "company.submit"]
    assert "127.0.0.1" in entry.summary


@pytest.mark.parametrize("body,status,field", [
    (b"not json", 400, "body"), (b"[1, 2]", 400, "body"), (b'{"name": ""}', 400, "name"),
    (b'{"name": "X", "status": "active"}', 400, "status"), (b'{"name": "X", "email": "nope"}', 400, "email"),
    (b'{"name": 7}', 400, "name"), (b'{"name": "X", "notes": "a", "message": "b"}', 400, "message"),
    (b'{"name": "' + b"x" * 300 + b'"}', 400, "name"),
])
def test_what_a_stranger_sends_gets_a_4xx_and_changes_nothing(desk, intake, body, status, field):
    desk.settings.update({"endpoint.company_intake": True})
    answer = intake.post(ROUTE, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == status and answer.json()["success"] is False
    assert answer.json().get("field") == field
    assert desk.companies.list() == [] and desk.companies.list(archived=True) == []


def test_too_large_a_body_is_413_and_a_honeypot_stores_nothing(desk, intake):
    desk.settings.update({"endpoint.company_intake": True})
    answer = intake.post(ROUTE, content=b'{"name": "' + b"x" * MAX_BODY_BYTES + b'"}',
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    trapped = intake.post(ROUTE, json={"name": "Bot Ltd", "website": "http://spam.example"})
    assert trapped.status_code == 201 and trapped.json()["success"]  # the bot learns nothing
    assert desk.companies.list(status="pending") == []


def test_each_address_asks_a_few_times_then_waits(desk, intake):
    desk.settings.update({"endpoint.company_intake": True})
    statuses = [intake.post(ROUTE, json={"name": f"Company {i}"}).status_code for i in range(PER_ADDRESS)]
    assert statuses == [201] * PER_ADDRESS
    refused = intake.post(ROUTE, json={"name": "One too many"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert len(desk.companies.list(status="pending")) == PER_ADDRESS
