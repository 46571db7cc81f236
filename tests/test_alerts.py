"""Alert rules and alerts: rules and their checks, conditions read from the bus's events and held
against injected clocks, notifications on the bus and to a real local webhook receiver, the CLI."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import update

from giftdesk.alerts.events import AlertRaised, AlertResolved
from giftdesk.alerts.runtime import AlertEvaluator, install
from giftdesk.core.errors import ConflictError, NotFoundError, ValidationError
from giftdesk.db.models import TrackerCredential
from giftdesk.fampage.events import BalanceChanged
from giftdesk.fleet.events import InstanceAlert, InstanceProbed, InstanceStateChanged
from giftdesk.runtime import Runtime
from tests.runtime.test_supervisor import wait_for
from tests.support.cli import cli  # noqa: F401 - fixture

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def alerting(desk):
    """The desk with a runtime that has only the alerts installed (no scheduler running: the tests
    call ``tick`` where the scheduler would), an injected clock and the notifications collected."""
    from giftdesk.db.fleet_models import Instance

    with desk.db.session() as session:  # the instances the events below speak of exist
        for number, name in ((3, "tracker-alice"), (4, "tracker-bob")):
            session.add(Instance(id=number, name=name, tiktok_username=name.removeprefix("tracker-"),
                                 port=18000 + number, backend_api_url="http://127.0.0.1:8080", image="busybox"))
    runtime = Runtime(desk, endpoint=False, docker=False, features=False)
    install(runtime)
    evaluator = runtime.feature("alerts", AlertEvaluator)
    evaluator.retry_delays = (0.01, 0.01)
    clock = evaluator.service.clock = desk.alerts.clock = Clock()
    raised, resolved = [], []
    desk.events.subscribe(AlertRaised, raised.append)
    desk.events.subscribe(AlertResolved, resolved.append)
    try:
        yield desk, evaluator, clock, raised, resolved
    finally:
        runtime.stop()


def down(instance_id=3, name="tracker-alice", state="exited"):
    return InstanceStateChanged(instance_id, name, state, exit_code=1 if state == "exited" else None)


def open_alerts(desk):
    return [a for a in desk.alerts.list() if a.is_open]


# ---- rules --------------------------------------------------------------------------------
def test_rules_are_added_listed_edited_and_removed_with_audit(any_db_desk):
    desk = any_db_desk
    rule = desk.alerts.add_rule("low balance", "balance-below", below="500.10", minutes=10,
                                webhook="https://hooks.example/alerts")
    assert rule.threshold == Decimal("500.10") and rule.condition() == "balance-below 500.10 for 10 min"
    assert desk.alerts.add_rule("stale keys", "key-unused", days=7).days == 7
    assert [r.name for r in desk.alerts.rules()] == ["low balance", "stale keys"]
    edited = desk.alerts.edit_rule("low balance", below="0.5", webhook="", enabled=False)
    assert (edited.threshold, edited.webhook_url, edited.enabled) == (Decimal("0.5"), None, False)
    assert desk.alerts.rule(str(rule.id)).name == "low balance"
    desk.alerts.remove_rule("stale keys")
    assert [r.name for r in desk.alerts.rules()] == ["low balance"]
    actions = [e.action for e in desk.audit.list()]
    assert {"alert.rule.add", "alert.rule.edit", "alert.rule.remove"} <= set(actions)
    with pytest.raises(ConflictError):
        desk.alerts.add_rule("low balance", "instance-down")
    with pytest.raises(NotFoundError):
        desk.alerts.remove_rule("stale keys")


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "instance-gone"}, "Unknown alert kind"),
    ({"kind": "balance-below"}, "needs --below"),
    ({"kind": "balance-below", "below": "lots"}, "must be a number"),
    ({"kind": "balance-below", "below": "-1"}, "0 or more"),
    ({"kind": "balance-below", "below": 1.5}, "not a float"),
    ({"kind": "key-unused"}, "needs --days"),
    ({"kind": "key-unused", "days": "0"}, "--days must be from 1"),
    ({"kind": "instance-down", "days": 3}, "key-unused rules only"),
    ({"kind": "instance-down", "below": "3"}, "balance-below rules only"),
    ({"kind": "instance-down", "minutes": -1}, "--minutes must be from 0"),
    ({"kind": "instance-down", "webhook": "ftp://hooks.example/x"}, "http:// or https://"),
    ({"kind": "instance-down", "webhook": "https://"}, "http:// or https://"),
    ({"kind": "instance-down", "name": "  "}, "needs a name"),
])
def test_a_bad_rule_is_refused_and_nothing_is_stored(desk, kwargs, message):
    kwargs = {"name": "rule", **kwargs}
    with pytest.raises(ValidationError, match=message):
        desk.alerts.add_rule(**kwargs)
    assert desk.alerts.rules() == []


# ---- evaluation -----------------------------------------------------------------------------
def test_instance_down_fires_at_once_resolves_on_running_and_fires_again(alerting):
    desk, evaluator, clock, raised, resolved = alerting
    rule = desk.alerts.add_rule("tracker down", "instance-down", minutes=0)
    desk.events.publish(down())
    assert wait_for(lambda: len(raised) == 1, timeout=10)
    assert raised[0].rule_name == "tracker down" and raised[0].subject == "instance 3"
    assert "tracker-alice (3) is exited (exit code 1)" in raised[0].message
    [first] = open_alerts(desk)
    desk.events.publish(down(state="exited"))  # still down: the same alert, no second notification
    desk.events.publish(down(state="running"))
    assert wait_for(lambda: len(resolved) == 1, timeout=10)
    assert resolved[0].alert_id == first.id and open_alerts(desk) == []
    desk.events.publish(down(state="dead"))
    assert wait_for(lambda: len(raised) == 2, timeout=10)
    [second] = open_alerts(desk)
    assert second.id != first.id and second.rule_id == rule.id and len(desk.alerts.list()) == 2


def test_a_condition_fires_only_once_held_for_the_rules_minutes(alerting):
    desk, evaluator, clock, raised, _resolved = alerting
    desk.alerts.add_rule("down for 5", "instance-down", minutes=5)
    desk.events.publish(down())
    evaluator.evaluate()
    assert raised == [] and open_alerts(desk) == []
    clock.advance(minutes=4, seconds=59)
    evaluator.tick()
    assert raised == []
    clock.advance(seconds=1)
    evaluator.tick()
    assert len(raised) == 1 and open_alerts(desk)[0].opened_at == clock.now


def test_unhealthy_restart_loop_and_live_ended_are_read_from_the_fleets_events(alerting):
    desk, evaluator, clock, raised, resolved = alerting
    for kind in ("instance-unhealthy", "restart-loop", "live-ended"):
        desk.alerts.add_rule(kind, kind)
    desk.events.publish(InstanceProbed(4, "healthy", "ONLINE"))
    desk.events.publish(InstanceAlert(4, "tracker-bob", "error", "Restart loop: died 3 times in a minute",
                                      {"deaths": 3, "exitCode": 1}))
    desk.events.publish(InstanceProbed(4, "unhealthy", "OFFLINE", error="no answer"))
    assert wait_for(lambda: {e.kind for e in raised} == {"instance-unhealthy", "restart-loop", "live-ended"},
                    timeout=10)
    assert any("live of tracker-bob (4) ended (OFFLINE)" in e.message for e in raised)
    desk.events.publish(InstanceProbed(4, "healthy", "ONLINE"))
    assert wait_for(lambda: len(resolved) == 3, timeout=10)
    assert open_alerts(desk) == []


def test_balance_below_fires_on_balance_changed_and_resolves_above_it(alerting):
    desk, evaluator, clock, raised, resolved = alerting
    desk.alerts.add_rule("low balance", "balance-below", below="12.50")
    desk.events.publish(BalanceChanged(Decimal("12.50"), "INR", False))  # not below: equal
    evaluator.evaluate()
    assert raised == []
    desk.events.publish(BalanceChanged(Decimal("12.49"), "INR", True))
    assert wait_for(lambda: len(raised) == 1, timeout=10)
    assert raised[0].message == "The Fampage balance 12.49 INR is below 12.50"
    desk.events.publish(BalanceChanged(Decimal("100"), "INR", False))
    assert wait_for(lambda: len(resolved) == 1, timeout=10)


def test_key_unused_reads_the_keys_last_access_against_the_clock(alerting, make_account):
    desk, evaluator, clock, raised, resolved = alerting
    account, _key = make_account("quiet_one")
    clock.now = datetime.now(timezone.utc)
    desk.alerts.add_rule("stale keys", "key-unused", days=7)
    evaluator.tick()
    assert raised == []  # issued just now
    clock.advance(days=7, minutes=1)
    evaluator.tick()
    assert [e.subject for e in raised] == [f"account {account.id} @quiet_one"]
    with desk.db.session() as session:
        session.execute(update(TrackerCredential).where(TrackerCredential.account_id == account.id)
                        .values(last_accessed_at=clock.now))
    evaluator.tick()
    assert len(resolved) == 1 and open_alerts(desk) == []


def test_a_snoozed_alert_that_fires_again_is_not_told_until_the_snooze_ends(alerting):
    desk, evaluator, clock, raised, _resolved = alerting
    desk.alerts.add_rule("tracker down", "instance-down")
    desk.events.publish(down())
    assert wait_for(lambda: len(raised) == 1, timeout=10)
    first = desk.alerts.snooze(open_alerts(desk)[0].id, 30)
    assert first.state(clock.now) == "snoozed"
    assert desk.alerts.ack(first.id).acknowledged_by == desk.actor.username
    desk.events.publish(down(state="running"))
    evaluator.evaluate()
    desk.events.publish(down())
    evaluator.evaluate()
    [again] = open_alerts(desk)
    assert again.id != first.id and again.snoozed_until == first.snoozed_until and len(raised) == 1
    desk.events.publish(down(state="running"))
    evaluator.evaluate()
    clock.advance(minutes=31)
    desk.events.publish(down())
    evaluator.evaluate()
    assert len(raised) == 2


# ---- webhooks -----------------------------------------------------------------------------
class Receiver:
    """A real HTTP server on the loopback that answers ``status`` and keeps what it was sent."""

    def __init__(self, status: int = 200):
        self.status, self.bodies = status, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.server.shutdown()
        self.server.server_close()


def test_the_webhook_gets_a_slack_compatible_body(alerting):
    desk, evaluator, clock, raised, _resolved = alerting
    with Receiver() as receiver:
        desk.alerts.add_rule("tracker down", "instance-down", webhook=receiver.url)
        desk.events.publish(down())
        assert wait_for(lambda: open_alerts(desk) and open_alerts(desk)[0].webhook_delivered_at, timeout=10)
    [body] = receiver.bodies
    assert body["text"] == "GiftDesk alert tracker down: Instance tracker-alice (3) is exited (exit code 1)"
    assert body["alert"]["rule"] == "tracker down" and body["alert"]["subject"] == "instance 3"
    alert = open_alerts(desk)[0]
    assert (alert.webhook_attempts, alert.webhook_last_error, alert.webhook_state()) == (1, None, "delivered")


def test_a_failing_webhook_is_retried_then_recorded_on_the_alert(alerting, cli):
    desk, evaluator, clock, raised, _resolved = alerting
    with Receiver(status=500) as receiver:
        desk.alerts.add_rule("tracker down", "instance-down", webhook=receiver.url)
        desk.events.publish(down())
        assert wait_for(lambda: open_alerts(desk) and open_alerts(desk)[0].webhook_last_error, timeout=10)
    assert len(receiver.bodies) == 3  # the first try and two retries (the test's delays)
    [listed] = cli.json("alert", "list", "--open")
    assert listed["webhook"] == {"attempts": 3, "lastError": "HTTP 500 Internal Server Error", "deliveredAt": None}
    out, _ = cli("alert", "list")
    assert "failed after 3: HTTP 500" in out


def test_the_endpoint_error_burst_is_read_from_the_endpoints_counts(alerting):
    desk, evaluator, clock, raised, resolved = alerting
    counts = {200: 100, 429: 0, 500: 0}

    class Server:
        def stats(self):
            return type("Stats", (), {"status_counts": dict(counts)})()

    evaluator.endpoint = Server
    desk.alerts.add_rule("endpoint errors", "endpoint-errors")
    evaluator.tick()  # the first reading is the baseline
    counts[429], counts[503] = 6, 4
    evaluator.tick()
    assert [e.subject for e in raised] == ["endpoint"]
    evaluator.tick()  # no new errors since
    assert len(resolved) == 1


# ---- the command line ---------------------------------------------------------------------
def test_the_cli_manages_rules_and_alerts_with_json(cli, desk):
    added = cli.json("alert", "rule", "add", "low balance", "--when", "balance-below", "--below", "250.75",
                     "--minutes", "0", "--webhook", "https://hooks.example/a")
    assert added["below"] == "250.75" and added["kind"] == "balance-below" and added["minutes"] == 0
    assert [r["name"] for r in cli.json("alert", "rule", "list")] == ["low balance"]
    edited = cli.json("alert", "rule", "edit", "low balance", "--minutes", "15", "--disable")
    assert (edited["minutes"], edited["enabled"]) == (15, False)
    for argv, message in [(("rule", "add", "x", "--when", "nope"), "Unknown alert kind"),
                          (("rule", "add", "x", "--when", "balance-below"), "needs --below"),
                          (("rule", "add", "x", "--when", "key-unused", "--days", "many"), "--days must be"),
                          (("rule", "add", "x", "--when", "instance-down", "--webhook", "hooks"), "http://"),
                          (("snooze", "1", "--minutes", "0"), "--minutes must be from 1")]:
        _, err = cli("alert", *argv, expect=2)
        assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    rule = desk.alerts.add_rule("tracker down", "instance-down")
    alert = desk.alerts.open_alert(rule.id, "instance 3", "Instance tracker-alice (3) is exited").alert
    assert [a["id"] for a in cli.json("alert", "list", "--open")] == [alert.id]
    acked = cli.json("alert", "ack", str(alert.id))
    assert acked["state"] == "acknowledged" and acked["acknowledgedBy"]
    assert cli.json("alert", "snooze", str(alert.id), "--minutes", "30")["state"] == "snoozed"
    desk.alerts.resolve(rule.id, "instance 3")
    assert cli.json("alert", "list", "--open") == [] and len(cli.json("alert", "list")) == 1
    removed = cli.json("alert", "rule", "remove", "tracker down")
    assert removed["name"] == "tracker down" and cli.json("alert", "list") == []


def test_a_restarted_runtime_neither_resolves_nor_retells_an_alert_it_has_not_heard_of(alerting):
    desk, evaluator, clock, raised, resolved = alerting
    rule = desk.alerts.add_rule("tracker down", "instance-down")
    left_open = desk.alerts.open_alert(rule.id, "instance 3", "Instance tracker-alice (3) is exited").alert
    evaluator.tick()  # this run has heard nothing of instance 3
    assert [a.id for a in open_alerts(desk)] == [left_open.id]
    desk.events.publish(down())  # the watcher's first list: still down
    evaluator.evaluate()
    assert [a.id for a in open_alerts(desk)] == [left_open.id] and raised == []
    desk.events.publish(down(state="running"))
    assert wait_for(lambda: [e.alert_id for e in resolved] == [left_open.id], timeout=10)


def test_the_runtime_installs_the_alerts_from_its_features(desk):
    from giftdesk.alerts.runtime import EVALUATE_JOB

    runtime = Runtime(desk, endpoint=False, docker=False)
    try:
        assert isinstance(runtime.feature("alerts", AlertEvaluator), AlertEvaluator)
        assert [j.interval for j in runtime.scheduler.jobs() if j.name == EVALUATE_JOB] == [15]
    finally:
        runtime.stop()


def test_the_migration_makes_the_tables_the_models_describe(any_db_desk):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from giftdesk.db.models import Base

    with any_db_desk.db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in differences if "alert" in repr(d)] == []


def test_endpoint_errors_are_counted_from_the_running_endpoint(desk, make_account):
    import urllib.error
    import urllib.request

    from tests.runtime.test_runtime import free_port

    account, key = make_account("busy_tracker")
    desk.settings.update({"endpoint.port": free_port(), "endpoint.bind": "local", "endpoint.rate_limit_per_minute": 1})
    runtime = Runtime(desk, docker=False, features=False)
    install(runtime)
    evaluator = runtime.feature("alerts", AlertEvaluator)
    raised = []
    desk.events.subscribe(AlertRaised, raised.append)
    try:
        runtime.start()
        assert wait_for(lambda: runtime.supervisor.status("endpoint").state == "running")
        port = runtime.endpoint_port()
        desk.alerts.add_rule("endpoint errors", "endpoint-errors")
        evaluator.tick()  # the baseline

        def answer() -> int:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/instances/{account.id}/config",
                                             headers={"X-API-Key": key, "X-Account-ID": str(account.id)})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return response.status
            except urllib.error.HTTPError as exc:
                return exc.code

        answers = [answer() for _ in range(30)]  # one a minute allowed: the rest are 429
        assert answers.count(429) >= 10, answers
        evaluator.tick()
        assert [e.subject for e in raised] == ["endpoint"]
    finally:
        runtime.stop()


def test_switching_a_rule_off_resolves_its_alerts_and_it_fires_no_more(alerting):
    desk, evaluator, _clock, raised, resolved = alerting
    desk.alerts.add_rule("tracker down", "instance-down")
    desk.events.publish(down())
    assert wait_for(lambda: len(raised) == 1, timeout=10)
    desk.alerts.edit_rule("tracker down", enabled=False)
    evaluator.tick()
    assert len(resolved) == 1 and open_alerts(desk) == []
    desk.events.publish(down(instance_id=4, name="tracker-bob"))
    evaluator.evaluate()
    assert len(raised) == 1


def test_an_alert_opened_by_another_process_is_told_here_from_the_change_feed(desk, cli):
    from giftdesk.feed.events import ChangeArrived

    rule = desk.alerts.add_rule("tracker down", "instance-down")
    alert = desk.alerts.open_alert(rule.id, "instance 3", "Instance tracker-alice (3) is exited").alert
    changes = [json.loads(line) for line in cli("--json", "events")[0].splitlines()]
    assert {"entity": "alert", "id": alert.id, "action": "created"}.items() <= changes[-1].items()
    raised = []
    desk.events.subscribe(AlertRaised, raised.append)
    arrived = ChangeArrived("alert", alert.id, "created", "giftdesk-runtime", T0, 1, here=False)
    desk.events.publish(arrived)
    assert [(e.alert_id, e.message) for e in raised] == [(alert.id, "Instance tracker-alice (3) is exited")]
    desk.events.publish(ChangeArrived("alert", alert.id, "created", "giftdesk-runtime", T0, 1, here=True))
    desk.alerts.snooze(alert.id, 10)
    desk.events.publish(arrived)
    assert len(raised) == 1  # made here, or snoozed: not told again


def test_a_deleted_instances_alerts_resolve(alerting):
    from giftdesk.db.fleet_models import Instance

    desk, evaluator, _clock, raised, resolved = alerting
    desk.alerts.add_rule("tracker down", "instance-down")
    with desk.db.session() as session:
        instance = Instance(id=5, name="tracker-gone", tiktok_username="gone", port=18005,
                            backend_api_url="http://127.0.0.1:8080", image="busybox")
        session.add(instance)
        session.flush()
        instance_id = instance.id
    desk.events.publish(down(instance_id=instance_id, name="tracker-gone"))
    assert wait_for(lambda: len(raised) == 1, timeout=10)
    evaluator.tick()
    assert resolved == []  # it exists: still down
    with desk.db.session() as session:
        session.delete(session.get(Instance, instance_id))
    evaluator.tick()
    assert [e.subject for e in resolved] == [f"instance {instance_id}"] and open_alerts(desk) == []


def test_a_failed_scheduled_backup_raises_an_alert_and_the_next_good_one_resolves_it(alerting):
    from giftdesk.system.scheduled_backups import BackupFailed, BackupTaken

    desk, evaluator, clock, raised, resolved = alerting
    desk.alerts.add_rule("backups", "backup-failed")
    desk.events.publish(BackupFailed("the disk is full"))
    assert wait_for(lambda: len(raised) == 1, timeout=10)
    assert (raised[0].kind, raised[0].subject) == ("backup-failed", "scheduled backups")
    assert raised[0].message == "The scheduled backup failed: the disk is full"
    desk.events.publish(BackupTaken("/data/backups/scheduled-x.db"))
    assert wait_for(lambda: len(resolved) == 1, timeout=10)
    assert open_alerts(desk) == []
