"""Alerts in the background runtime (window and ``giftdesk serve``): conditions read from the
events on the desk's bus, held against the rules, alerts opened and resolved, and their
notifications (``AlertRaised``/``AlertResolved``, the log, the rule's webhook).

Features do not import each other, so the fleet's and Fampage's events are read by their class
name and fields (``InstanceStateChanged``, ``InstanceProbed``, ``InstanceAlert``,
``BalanceChanged``, and the console's ``BackupFailed``/``BackupTaken``). An event only notes when a condition began, in memory and at once; the
evaluation that opens and resolves alerts runs on a runtime job lane (never on the publisher's
thread), right after such an event and every ``EVALUATE_EVERY_S`` from the scheduler, which is
what fires a condition held for N minutes. ``key-unused`` is read from the keys' last access in
the database; ``endpoint-errors`` from the tracker endpoint's answer counts (5xx and 429) between
two scheduled evaluations, when the endpoint runs in this process.

Installed by ``giftdesk.runtime.FEATURES``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from giftdesk.alerts.events import AlertRaised, AlertResolved
from giftdesk.alerts.service import AlertService, Opened, RuleRow
from giftdesk.alerts.webhook import RETRY_DELAYS_S, post_with_retries, slack_body
from giftdesk.core.events import Event, EventBus

log = logging.getLogger(__name__)

EVALUATE_JOB = "alerts.evaluate"
EVALUATE_EVERY_S = 15
EVALUATION_LANE = "alerts.evaluate"
WEBHOOK_LANE = "alerts.webhook"  # one lane: deliveries wait on each other, never on the bus
ENDPOINT_ERROR_BURST = 10  # 5xx/429 answers between two scheduled evaluations
DOWN_STATES = ("exited", "dead", "missing")
BACKUPS = "scheduled backups"  # the subject of backup-failed alerts
LIVE = "ONLINE"


@dataclass(frozen=True)
class Condition:
    since: datetime
    message: str


class AlertEvaluator:
    """Holds the conditions the events report and turns them into alerts by the rules."""

    def __init__(self, service: AlertService, events: EventBus, jobs, http_client=None, endpoint=None):
        """``jobs``: the runtime's lanes; ``http_client()``: the httpx client for webhooks;
        ``endpoint()``: the running endpoint server (its ``stats()``), or None."""
        self.service = service
        self.events = events
        self.jobs = jobs
        self.http_client = http_client
        self.endpoint = endpoint
        self.retry_delays: Sequence[float] = RETRY_DELAYS_S
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        # The lane's evaluations and the scheduler's ticks run on different threads: one at a time,
        # so a rule and subject never get two open alerts.
        self._evaluating = threading.Lock()
        self._conditions: dict[tuple[str, str], Condition] = {}
        # What the events have said since this runtime started, holding or not. An alert left open by
        # an earlier run is resolved only once its subject is heard of again: a restart alone must
        # neither resolve it nor, when the condition is reported again, tell it a second time.
        self._heard: set[tuple[str, str]] = set()
        self._names: dict[int, str] = {}
        self._live: dict[int, str | None] = {}
        self._balance: tuple[Decimal, str] | None = None
        self._below_since: dict[int, datetime] = {}  # rule id -> when the balance went below its threshold
        self._endpoint_errors_seen: int | None = None
        self._readers = {
            "InstanceStateChanged": self._read_state,
            "InstanceProbed": self._read_probe,
            "InstanceAlert": self._read_instance_alert,
            "BalanceChanged": self._read_balance,
            "BackupFailed": self._read_backup_failed,
            "BackupTaken": self._read_backup_taken,
        }

    # ---- events: note the condition, then evaluate off the bus -----------------------------
    def on_event(self, event: Event) -> None:
        reader = self._readers.get(type(event).__name__)
        if reader is not None and reader(event):
            self.evaluate_soon()

    def evaluate_soon(self) -> None:
        # A newer request supersedes a queued one: a burst of events costs one evaluation.
        self.jobs.submit(self.evaluate, lane=EVALUATION_LANE, supersede=EVALUATE_JOB,
                         description="Evaluate alert rules")

    def _subject(self, instance_id: int, name: str | None = None) -> str:
        if name:
            self._names[instance_id] = name
        return f"instance {instance_id}"

    def _label(self, instance_id: int) -> str:
        name = self._names.get(instance_id)
        return f"{name} ({instance_id})" if name else f"instance {instance_id}"

    def _begin(self, kind: str, subject: str, message: str) -> bool:
        with self._lock:
            self._heard.add((kind, subject))
            if (kind, subject) in self._conditions:
                return False  # held since it began; the first message stands
            self._conditions[(kind, subject)] = Condition(self.service.clock(), message)
        return True

    def _end(self, kind: str, subject: str) -> bool:
        with self._lock:
            first_word = (kind, subject) not in self._heard  # an alert from before may wait for it
            self._heard.add((kind, subject))
            return self._conditions.pop((kind, subject), None) is not None or first_word

    def _read_state(self, event) -> bool:
        subject = self._subject(event.instance_id, event.name)
        if event.state in DOWN_STATES:
            code = "" if event.exit_code is None else f" (exit code {event.exit_code})"
            return self._begin("instance-down", subject, f"Instance {self._label(event.instance_id)} is "
                                                         f"{event.state}{code}")
        if event.state == "running":
            return self._end("instance-down", subject)
        return False

    def _read_probe(self, event) -> bool:
        subject, label = self._subject(event.instance_id), self._label(event.instance_id)
        changed = False
        if event.health == "unhealthy":
            why = f": {event.error}" if event.error else ""
            changed |= self._begin("instance-unhealthy", subject, f"Instance {label} is unhealthy{why}")
        else:
            changed |= self._end("instance-unhealthy", subject)
        if event.health == "healthy":
            changed |= self._end("restart-loop", subject)  # it stayed up long enough to answer
        with self._lock:
            before, self._live[event.instance_id] = self._live.get(event.instance_id), event.live_status
        if event.live_status == LIVE:
            changed |= self._end("live-ended", subject)
        elif before == LIVE:
            now = event.live_status or "unknown"
            changed |= self._begin("live-ended", subject, f"The TikTok live of {label} ended ({now})")
        return changed

    def _read_instance_alert(self, event) -> bool:
        if "deaths" not in (event.details or {}):
            return False  # deaths and unhealthy probes arrive as their own state events
        subject = self._subject(event.instance_id, event.name)
        return self._begin("restart-loop", subject, f"Instance {self._label(event.instance_id)}: {event.message}")

    def _read_backup_failed(self, event) -> bool:
        self._begin("backup-failed", BACKUPS, f"The scheduled backup failed: {event.error}")
        return True

    def _read_backup_taken(self, event) -> bool:
        return self._end("backup-failed", BACKUPS)

    def _read_balance(self, event) -> bool:
        with self._lock:
            self._balance = (Decimal(event.amount), str(event.currency))
        return True

    # ---- evaluation -----------------------------------------------------------------------
    def tick(self) -> dict:
        """The scheduled evaluation: the endpoint's errors since the last tick, then every rule."""
        self._sample_endpoint()
        self._forget_deleted_instances()
        return self.evaluate()

    def _forget_deleted_instances(self) -> None:
        """A deleted instance sends no more events: its conditions end and its open alerts resolve."""
        existing = self.service.instance_ids()
        open_subjects = {(a.kind, a.subject) for a in self.service.list(open_only=True)}
        with self._lock:
            for kind, subject in open_subjects | set(self._conditions):
                number = subject.removeprefix("instance ")
                if subject.startswith("instance ") and number.isdigit() and int(number) not in existing:
                    self._conditions.pop((kind, subject), None)
                    self._heard.add((kind, subject))

    def _sample_endpoint(self) -> None:
        server = self.endpoint() if self.endpoint is not None else None
        if server is None:
            self._endpoint_errors_seen = None
            self._end("endpoint-errors", "endpoint")
            return
        counts = server.stats().status_counts
        errors = sum(n for status, n in counts.items() if status >= 500 or status == 429)
        seen, self._endpoint_errors_seen = self._endpoint_errors_seen, errors
        if seen is None:
            return
        burst = errors - seen
        if burst >= ENDPOINT_ERROR_BURST:
            self._begin("endpoint-errors", "endpoint",
                        f"The tracker endpoint answered {burst} errors (5xx or 429) in {EVALUATE_EVERY_S} s")
        else:
            self._end("endpoint-errors", "endpoint")

    def evaluate(self) -> dict:
        """Opens the alerts whose condition has held long enough, resolves those whose has ended."""
        with self._evaluating:
            return self._evaluate()

    def _evaluate(self) -> dict:
        now = self.service.clock()
        with self._lock:
            conditions = dict(self._conditions)
            heard = set(self._heard)
            balance = self._balance
        opened = resolved = 0
        for rule in self.service.rules():
            try:
                rule_opened, rule_resolved = self._evaluate_rule(rule, now, conditions, heard, balance)
            except Exception:  # one rule's failure (a lost database connection) must not silence the others
                log.exception("Alert rule %s could not be evaluated", rule.name)
                continue
            opened += rule_opened
            resolved += rule_resolved
        return {"opened": opened, "resolved": resolved}

    def _evaluate_rule(self, rule: RuleRow, now: datetime, conditions, heard, balance) -> tuple[int, int]:
        opened = resolved = 0
        # A switched-off rule holds nothing: its open alerts are resolved.
        holding = self._holding(rule, now, conditions, balance) if rule.enabled else {}
        for subject, condition in holding.items():
            if (now - condition.since).total_seconds() >= rule.minutes * 60:
                outcome = self.service.open_alert(rule.id, subject, condition.message)
                if outcome.new:
                    opened += 1
                    self._raised(rule, outcome)
        for subject in self.service.open_subjects(rule.id) - set(holding):
            if rule.enabled and not self._knows(rule, subject, heard, balance):
                continue
            row = self.service.resolve(rule.id, subject)
            if row is not None:
                resolved += 1
                log.info("Alert %d resolved: %s: %s", row.id, rule.name, subject)
                self.events.publish(AlertResolved(row.id, rule.name, rule.kind, subject))
        return opened, resolved

    @staticmethod
    def _knows(rule: RuleRow, subject: str, heard: set, balance) -> bool:
        """Whether this run knows that ``subject``'s condition ended (see ``_heard``)."""
        if rule.kind == "balance-below":
            return balance is not None
        if rule.kind == "key-unused":
            return True  # read whole from the database on every evaluation
        return (rule.kind, subject) in heard

    def _holding(self, rule: RuleRow, now: datetime, conditions, balance) -> dict[str, Condition]:
        """The subjects whose condition holds now for ``rule``, with when it began."""
        if rule.kind == "balance-below":
            if balance is None or balance[0] >= rule.threshold:
                self._below_since.pop(rule.id, None)
                return {}
            since = self._below_since.setdefault(rule.id, now)
            amount, currency = balance
            return {"fampage balance": Condition(since, f"The Fampage balance {amount} {currency} is below "
                                                        f"{rule.threshold}")}
        if rule.kind == "key-unused":
            return {f"account {key.account_id} @{key.tiktok_username}": Condition(
                        now - timedelta(minutes=rule.minutes),  # held for days already
                        f"The key of @{key.tiktok_username} (account {key.account_id}) has not been used for "
                        f"{rule.days} days")
                    for key in self.service.unused_keys(rule.days)}
        return {subject: condition for (kind, subject), condition in conditions.items() if kind == rule.kind}

    # ---- notifications --------------------------------------------------------------------
    def _raised(self, rule: RuleRow, outcome: Opened) -> None:
        alert = outcome.alert
        if not outcome.notify:
            log.info("Alert %d opened under a snooze: %s: %s", alert.id, rule.name, alert.message)
            return
        log.warning("Alert %d: %s: %s", alert.id, rule.name, alert.message)
        self.events.publish(AlertRaised(alert.id, rule.name, rule.kind, alert.subject, alert.message))
        if rule.webhook_url and self.http_client is not None:
            body = slack_body(f"GiftDesk alert {rule.name}: {alert.message}", alert.to_json())
            self.jobs.submit(self._deliver, alert.id, rule.webhook_url, body, lane=WEBHOOK_LANE,
                             description=f"Post alert {alert.id} to its webhook")

    def _deliver(self, alert_id: int, url: str, body: dict, cancel: threading.Event | None = None) -> None:
        stop = cancel if cancel is not None else self.stopping  # the runtime's shutdown cancels the job
        delivery = post_with_retries(self.http_client(), url, body, self.retry_delays, stop=stop)
        self.service.record_delivery(alert_id, delivery.attempts, delivery.error)
        if not delivery.delivered:
            log.warning("Alert %d could not be posted to %s after %d attempts: %s", alert_id, url,
                        delivery.attempts, delivery.error)


def install(runtime) -> None:
    desk = runtime.desk
    endpoint = runtime.endpoint
    evaluator = AlertEvaluator(desk.alerts, desk.events, runtime.jobs,
                               http_client=lambda: runtime.http.get("alert-webhooks"),
                               endpoint=(lambda: endpoint.server) if endpoint is not None else None)
    desk.events.subscribe(Event, evaluator.on_event, owner=runtime)
    runtime.scheduler.every(EVALUATE_JOB, EVALUATE_EVERY_S, evaluator.tick, first_in=5)
    runtime.install_feature("alerts", evaluator)
