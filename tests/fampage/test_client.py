"""The Fampage client against the fake panel over real HTTP: every action and every quirk."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from giftdesk.fampage.client import (
    BadApiKey, DuplicateLink, FampageClient, FampageTimeout, FampageUnavailable, InsufficientFunds,
    InvalidLink, InvalidQuantity, NewOrder,
)
from giftdesk.fampage.parse import network_of, normalise_status
from tests.support.fake_fampage import API_KEY


def test_services_parse_strings_numbers_and_flags(client, fake):
    services = {s.id: s for s in client.services()}
    assert services[101].rate == Decimal("0.90") and services[101].min == 50 and services[101].max == 10000
    assert services[102].min == 10 and services[102].dripfeed is True and services[102].refill is False
    assert services[104].type == "Custom Comments" and services[104].cancel is True and services[104].refill is False
    assert services[105].refill is True and services[105].cancel is False
    assert {services[i].network for i in (101, 102, 103)} == {"TikTok"}
    assert services[104].network == services[105].network == "Instagram"
    # "YouTube Views - TikTok style": the category decides, not a substring of the name
    assert services[106].network == "YouTube"
    assert all(isinstance(s.rate, Decimal) for s in services.values())


def test_parameters_go_in_the_query_string_of_an_empty_post_by_default(client, fake):
    client.balance()
    request = fake.requests[-1]
    assert request.method == "POST" and request.in_query and request.content_type == ""


def test_form_encoded_style_works_too(fake, calls):
    with httpx.Client() as http:
        client = FampageClient(http, fake.url, API_KEY, style="form")
        assert client.balance().currency == "INR"
    assert not fake.requests[-1].in_query and "x-www-form-urlencoded" in fake.requests[-1].content_type


def test_balance_in_inr_as_decimal_whatever_the_content_type(client, fake):
    fake.balance = Decimal("16.6132")
    first, second = client.balance(), client.balance()  # one of the two answers says text/html
    assert first == second and first.amount == Decimal("16.6132") and first.currency == "INR"


def test_add_sends_type_specific_fields(client, fake):
    default = client.add(NewOrder(101, "https://tiktok.com/@a", 100))
    drip = client.add(NewOrder(102, "https://tiktok.com/@a/video/1", 100, runs=5, interval=30))
    package = client.add(NewOrder(103, "https://tiktok.com/@a/video/2", 999, service_type="Package"))
    comments = client.add(NewOrder(104, "https://instagram.com/p/x", None, service_type="Custom Comments",
                                   comments="Great!\n\n  Love it \nWow"))
    assert fake.orders[default].quantity == 100
    assert fake.orders[drip].params["runs"] == "5" and fake.orders[drip].params["interval"] == "30"
    assert "quantity" not in fake.orders[package].params and fake.orders[package].quantity == 1000
    assert fake.orders[comments].params["comments"] == "Great!\nLove it\nWow"
    assert fake.orders[comments].params["quantity"] == "3"


@pytest.mark.parametrize("http_status", [200, 400])
def test_add_errors_become_clear_sentences(client, fake, http_status):
    fake.error_http_status = http_status
    with pytest.raises(InvalidLink, match="link"):
        client.add(NewOrder(101, "not a link", 100))
    with pytest.raises(InvalidQuantity):
        client.add(NewOrder(101, "https://tiktok.com/@b", 10))
    client.add(NewOrder(101, "https://tiktok.com/@b", 100))
    with pytest.raises(DuplicateLink, match="already has an active order"):
        client.add(NewOrder(101, "https://tiktok.com/@b", 100))
    fake.balance = Decimal("0.01")
    with pytest.raises(InsufficientFunds, match="balance is too low") as info:
        client.add(NewOrder(101, "https://tiktok.com/@c", 100))
    assert info.value.code == "insufficient_funds" and info.value.http_status == http_status


def test_wrong_key_is_a_sentence(fake):
    with httpx.Client() as http:
        with pytest.raises(BadApiKey, match="Settings"):
            FampageClient(http, fake.url, "wrong").balance()


def test_add_is_never_retried_and_a_time_out_says_so(client, fake):
    fake.hang("add", 3)
    with pytest.raises(FampageTimeout):
        client.add(NewOrder(101, "https://tiktok.com/@slow", 100))
    assert fake.action_counts()["add"] == 1
    assert len(fake.orders) == 1  # the panel did create it: hence "unconfirmed", never a blind retry


def test_reads_are_retried_with_backoff(client, fake, calls):
    fake.fail_next("balance", 502, "<html>Bad gateway</html>", times=2)
    assert client.balance().currency == "INR"
    assert fake.action_counts()["balance"] == 3
    assert [c.http_status for c in calls] == [502, 502, 200] and not calls[0].ok
    fake.hang("services", 3)
    assert client.services()  # the first attempt timed out, the second answered
    assert fake.action_counts()["services"] == 2


def test_reads_give_up_after_the_retries(fake):
    fake.fail_next("balance", 503, "", times=10)
    with httpx.Client() as http:
        client = FampageClient(http, fake.url, API_KEY, retries=2, backoff=0.01)
        with pytest.raises(FampageUnavailable, match="HTTP 503"):
            client.balance()
    assert fake.action_counts()["balance"] == 3


def test_unreachable_panel_is_a_sentence():
    with httpx.Client() as http:
        client = FampageClient(http, "http://127.0.0.1:9/api/v2", API_KEY, retries=1, backoff=0.01)
        with pytest.raises(FampageUnavailable, match="Cannot reach Fampage"):
            client.balance()


def test_status_one_keeps_raw_text_zero_start_count_and_decimal_charge(client, fake):
    oid = client.add(NewOrder(101, "https://tiktok.com/@d", 1000))
    fake.set_status(oid, "In Progress", remains=400)
    status = client.status(oid)
    assert status.status == "In Progress" and normalise_status(status.status) == "in_progress"
    assert status.start_count == 0 and status.remains == 400 and status.charge == Decimal("0.9000")
    assert status.currency == "INR"


@pytest.mark.parametrize("bare", [True, False])
def test_status_many_with_per_id_errors(client, fake, bare):
    fake.bare_string_errors = bare
    fake.numbers_as_strings = not bare
    ids = fake.add_orders_directly(250)
    statuses = client.status_many(ids + [1, 2])
    assert len(statuses) == 252
    assert statuses[1].error == "Incorrect order ID" and statuses[2].status is None
    assert all(statuses[i].status == "In progress" and statuses[i].remains == 100 for i in ids)
    assert fake.action_counts()["status"] == 3  # 252 ids → 3 batches of at most 100


def test_status_batches_run_in_parallel(fake):
    ids = fake.add_orders_directly(800)
    fake.gate(8, "status")  # no batch is answered until all eight are asked at once
    with httpx.Client() as http:
        client = FampageClient(http, fake.url, API_KEY, parallel=8)
        assert len(client.status_many(ids)) == 800
    assert fake.action_counts()["status"] == 8
    assert fake.max_in_flight == 8


def test_refill_single_multi_and_fallback(client, fake):
    a = client.add(NewOrder(101, "https://tiktok.com/@e", 100))
    b = client.add(NewOrder(101, "https://tiktok.com/@f", 100))
    no_refill = client.add(NewOrder(102, "https://tiktok.com/@g", 100))
    [single] = client.refill([a])
    assert single.refill_id is not None and fake.requests[-1].params.get("order") == str(a)
    results = client.refill([a, b, no_refill, 999])
    assert fake.requests[-1].params.get("orders")
    assert [r.refill_id is not None for r in results] == [True, True, False, False]
    assert results[3].error == "Incorrect order ID"
    fake.multi_refill = False
    other = FampageClient(client.http, fake.url, API_KEY)
    fallback = other.refill([a, b])
    assert all(r.refill_id for r in fallback)
    assert [r.action for r in fake.requests[-3:]] == ["refill"] * 3  # multi refused, then one by one
    statuses = client.refill_status([single.refill_id, results[0].refill_id, 4242])
    assert [s.status for s in statuses[:2]] == ["Pending", "Pending"] and statuses[2].error == "Refill not found"
    [one] = client.refill_status([single.refill_id])
    assert one.status == "Pending"


def test_cancel_single_ok_true_and_multi_with_fallback(client, fake):
    a = client.add(NewOrder(101, "https://tiktok.com/@h", 100))
    b = client.add(NewOrder(101, "https://tiktok.com/@i", 100))
    c = client.add(NewOrder(101, "https://tiktok.com/@j", 100))
    package = client.add(NewOrder(103, "https://tiktok.com/@k", None, service_type="Package"))
    [single] = client.cancel([a])
    assert single.ok and fake.orders[a].status == "Canceled"
    [again] = client.cancel([a])
    assert not again.ok  # {"ok": "false"}
    fake.multi_cancel = False
    results = FampageClient(client.http, fake.url, API_KEY).cancel([b, package, 31337])
    assert [r.ok for r in results] == [True, False, False] and results[2].error == "Incorrect order ID"
    fake.multi_cancel = True
    [multi] = client.cancel([c, c + 1000])[:1]
    assert multi.ok and fake.requests[-1].params.get("orders")


def test_every_call_is_logged_without_the_key(client, fake, calls):
    client.balance()
    with pytest.raises(InvalidLink):
        client.add(NewOrder(101, "nope", 100))
    assert [c.action for c in calls] == ["balance", "add"]
    assert calls[0].ok and calls[0].http_status == 200 and '"INR"' in calls[0].result
    assert not calls[1].ok and calls[1].error == "neworder.error.invalid_link"
    assert calls[1].params == {"service": 101, "link": "nope", "quantity": 100}
    assert all(API_KEY not in repr(c) for c in calls)


@pytest.mark.parametrize("raw,state", [
    ("Pending", "pending"), ("In progress", "in_progress"), ("In Progress", "in_progress"),
    ("Processing", "in_progress"), ("Completed", "completed"), ("Partial", "partial"),
    ("Canceled", "canceled"), ("Cancelled", "canceled"), ("Awaiting", "pending"), ("Fail", "failed"),
    ("failed", "failed"), ("Refunded", "refunded"), ("Something new", "pending"), (None, "pending"),
])
def test_status_normalisation(raw, state):
    assert normalise_status(raw) == state


@pytest.mark.parametrize("category,network", [
    ("TikTok : Followers", "TikTok"), ("Tiktok: Likes", "TikTok"), ("TIKTOK : Views", "TikTok"),
    ("instagram: Followers", "Instagram"), ("Snap chat : Views", "Snap Chat"), ("Followers", "Other"),
    (None, "Other"),
])
def test_network_from_category(category, network):
    assert network_of(category) == network
