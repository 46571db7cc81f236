"""Alert rules and alerts: what a person sets (rules), what the runtime opens and resolves (alerts),
and what a person does about an alert (acknowledge, snooze).

Rules, acknowledgements and snoozes need the operator role; reading is for everyone. Opening,
resolving and recording a webhook's delivery are the runtime's work (it acts as an admin).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from sqlalchemy import select

from giftdesk.alerts.events import AlertsChanged
from giftdesk.core import validation
from giftdesk.core.clock import iso
from giftdesk.core.context import ServiceContext
from giftdesk.core.errors import ConflictError, NotFoundError, ValidationError
from giftdesk.db.alerts_models import ALERT_KINDS, Alert, AlertRule
from giftdesk.db.change_log import note_change
from giftdesk.db.fleet_models import Instance
from giftdesk.db.models import TikTokAccount, TrackerCredential
from giftdesk.db.types import utcnow

MAX_MINUTES = 7 * 24 * 60
MAX_DAYS = 3650
MAX_SNOOZE_MINUTES = 30 * 24 * 60
MAX_ID = 2**63 - 1  # the largest id SQLite and PostgreSQL's bigint hold


@dataclass(frozen=True)
class RuleRow:
    id: int
    name: str
    kind: str
    minutes: int
    threshold: Decimal | None
    days: int | None
    webhook_url: str | None
    enabled: bool
    created_at: datetime

    @classmethod
    def of(cls, r: AlertRule) -> "RuleRow":
        return cls(r.id, r.name, r.kind, r.minutes, r.threshold, r.days, r.webhook_url, r.enabled, r.created_at)

    def condition(self) -> str:
        """The rule in words: "balance-below 500 for 10 min"."""
        text = self.kind
        if self.threshold is not None:
            text += f" {self.threshold}"
        if self.days is not None:
            text += f" {self.days} days"
        return text + (f" for {self.minutes} min" if self.minutes else " at once")

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "kind": self.kind, "minutes": self.minutes,
                "below": None if self.threshold is None else str(self.threshold), "days": self.days,
                "webhook": self.webhook_url, "enabled": self.enabled, "createdAt": iso(self.created_at)}


@dataclass(frozen=True)
class AlertRow:
    id: int
    rule_id: int
    rule_name: str
    kind: str
    subject: str
    message: str
    opened_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    snoozed_until: datetime | None
    webhook_attempts: int
    webhook_last_error: str | None
    webhook_delivered_at: datetime | None

    @classmethod
    def of(cls, a: Alert, rule: AlertRule) -> "AlertRow":
        return cls(a.id, a.rule_id, rule.name, rule.kind, a.subject, a.message, a.opened_at, a.last_seen_at,
                   a.resolved_at, a.acknowledged_at, a.acknowledged_by, a.snoozed_until, a.webhook_attempts,
                   a.webhook_last_error, a.webhook_delivered_at)

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def state(self, now: datetime | None = None) -> str:
        if self.resolved_at is not None:
            return "resolved"
        if self.snoozed_until is not None and self.snoozed_until > (now or utcnow()):
            return "snoozed"
        return "acknowledged" if self.acknowledged_at is not None else "open"

    def webhook_state(self) -> str:
        if self.webhook_delivered_at is not None:
            return "delivered"
        if self.webhook_last_error:
            return f"failed after {self.webhook_attempts}: {self.webhook_last_error}"
        return "not sent" if not self.webhook_attempts else "sending"

    def to_json(self) -> dict:
        return {"id": self.id, "ruleId": self.rule_id, "rule": self.rule_name, "kind": self.kind,
                "subject": self.subject, "message": self.message, "state": self.state(),
                "openedAt": iso(self.opened_at), "lastSeenAt": iso(self.last_seen_at),
                "resolvedAt": iso(self.resolved_at), "acknowledgedAt": iso(self.acknowledged_at),
                "acknowledgedBy": self.acknowledged_by, "snoozedUntil": iso(self.snoozed_until),
                "webhook": {"attempts": self.webhook_attempts, "lastError": self.webhook_last_error,
                            "deliveredAt": iso(self.webhook_delivered_at)}}


@dataclass(frozen=True)
class Opened:
    """What ``open_alert`` did: ``alert`` is the open one; ``notify`` says whether to tell anyone
    (a new alert that is not under a snooze carried over from the one before)."""

    alert: AlertRow
    new: bool
    notify: bool


@dataclass(frozen=True)
class UnusedKey:
    account_id: int
    tiktok_username: str
    last_accessed_at: datetime | None


def clean_rule_name(name: str) -> str:
    cleaned = validation.name(name, "The rule's name", max_length=100)
    if not cleaned:
        raise ValidationError("A rule needs a name.", field="name")
    return cleaned


def clean_kind(kind: str) -> str:
    if kind not in ALERT_KINDS:
        raise ValidationError(f"Unknown alert kind {kind!r}: use one of {', '.join(ALERT_KINDS)}.", field="when")
    return kind


def clean_minutes(minutes) -> int:
    try:
        number = int(minutes)
    except (TypeError, ValueError):
        raise ValidationError(f"--minutes must be a whole number, not {minutes!r}.", field="minutes") from None
    if not 0 <= number <= MAX_MINUTES:
        raise ValidationError(f"--minutes must be from 0 (at once) to {MAX_MINUTES} (a week).", field="minutes")
    return number


def clean_threshold(value) -> Decimal:
    if isinstance(value, float):
        raise ValidationError("--below must be an exact number, not a float.", field="below")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(f"--below must be a number like 500 or 12.50, not {value!r}.", field="below") from None
    if not number.is_finite() or number < 0:
        raise ValidationError("--below must be a number of 0 or more.", field="below")
    return number


def clean_days(days) -> int:
    try:
        number = int(days)
    except (TypeError, ValueError):
        raise ValidationError(f"--days must be a whole number, not {days!r}.", field="days") from None
    if not 1 <= number <= MAX_DAYS:
        raise ValidationError(f"--days must be from 1 to {MAX_DAYS}.", field="days")
    return number


def clean_webhook(url: str | None) -> str | None:
    if url is None or not url.strip():
        return None
    url = validation.single_line(url.strip(), "The webhook")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"The webhook must be an http:// or https:// URL, not {url!r}.", field="webhook")
    if len(url) > 1000:
        raise ValidationError("The webhook URL is at most 1000 characters.", field="webhook")
    return url


def check_rule_fits(kind: str, threshold: Decimal | None, days: int | None) -> None:
    """What a kind needs, and nothing it would silently ignore."""
    if kind == "balance-below" and threshold is None:
        raise ValidationError("A balance-below rule needs --below AMOUNT.", field="below")
    if kind != "balance-below" and threshold is not None:
        raise ValidationError("--below applies to balance-below rules only.", field="below")
    if kind == "key-unused" and days is None:
        raise ValidationError("A key-unused rule needs --days N.", field="days")
    if kind != "key-unused" and days is not None:
        raise ValidationError("--days applies to key-unused rules only.", field="days")


class AlertService:
    def __init__(self, ctx: ServiceContext, clock: Callable[[], datetime] = utcnow):
        self.ctx = ctx
        self.clock = clock  # tests inject one; the runtime's evaluator reads the same

    # ---- rules -------------------------------------------------------------------------------
    def add_rule(self, name: str, kind: str, minutes: int = 0, below=None, days: int | None = None,
                 webhook: str | None = None, enabled: bool = True) -> RuleRow:
        self.ctx.require("operator", "add alert rules")
        name, kind, minutes = clean_rule_name(name), clean_kind(kind), clean_minutes(minutes)
        threshold = None if below is None else clean_threshold(below)
        days = None if days is None else clean_days(days)
        check_rule_fits(kind, threshold, days)
        with self.ctx.db.session() as session:
            if session.scalar(select(AlertRule.id).where(AlertRule.name == name)) is not None:
                raise ConflictError(f"There is already an alert rule named {name!r}.")
            rule = AlertRule(name=name, kind=kind, minutes=minutes, threshold=threshold, days=days,
                             webhook_url=clean_webhook(webhook), enabled=bool(enabled), created_at=self.clock())
            session.add(rule)
            session.flush()
            row = RuleRow.of(rule)
            self.ctx.audit(session, "alert.rule.add", f"Added alert rule {name} ({row.condition()})",
                           "alert_rule", rule.id, row.to_json())
        self.ctx.events.publish(AlertsChanged())
        return row

    def rules(self) -> list[RuleRow]:
        with self.ctx.db.read_session() as session:
            return [RuleRow.of(r) for r in session.scalars(select(AlertRule).order_by(AlertRule.id))]

    def rule(self, name_or_id: str | int) -> RuleRow:
        with self.ctx.db.read_session() as session:
            return RuleRow.of(self._rule(session, name_or_id))

    def edit_rule(self, name_or_id: str | int, **changes) -> RuleRow:
        """``changes``: name, minutes, below, days, webhook ("" clears it), enabled."""
        self.ctx.require("operator", "edit alert rules")
        unknown = set(changes) - {"name", "minutes", "below", "days", "webhook", "enabled"}
        if unknown:
            raise ValidationError(f"Alert rules have no {', '.join(sorted(unknown))} to change.")
        if not changes:
            raise ValidationError("Nothing to change: give --name, --minutes, --below, --days, --webhook, "
                                  "--enable or --disable.")
        with self.ctx.db.session() as session:
            rule = self._rule(session, name_or_id)
            before = RuleRow.of(rule).to_json()
            if "name" in changes:
                name = clean_rule_name(changes["name"])
                taken = session.scalar(select(AlertRule.id).where(AlertRule.name == name, AlertRule.id != rule.id))
                if taken is not None:
                    raise ConflictError(f"There is already an alert rule named {name!r}.")
                rule.name = name
            if "minutes" in changes:
                rule.minutes = clean_minutes(changes["minutes"])
            if "below" in changes:
                rule.threshold = clean_threshold(changes["below"])
            if "days" in changes:
                rule.days = clean_days(changes["days"])
            if "webhook" in changes:
                rule.webhook_url = clean_webhook(changes["webhook"])
            if "enabled" in changes:
                rule.enabled = bool(changes["enabled"])
            check_rule_fits(rule.kind, rule.threshold, rule.days)
            session.flush()
            row = RuleRow.of(rule)
            self.ctx.audit(session, "alert.rule.edit", f"Changed alert rule {row.name} ({row.condition()})",
                           "alert_rule", rule.id, {"before": before, "after": row.to_json()})
        self.ctx.events.publish(AlertsChanged())
        return row

    def remove_rule(self, name_or_id: str | int) -> RuleRow:
        """Removes the rule with its alerts (their history goes with it)."""
        self.ctx.require("operator", "remove alert rules")
        with self.ctx.db.session() as session:
            rule = self._rule(session, name_or_id)
            row = RuleRow.of(rule)
            for alert in session.scalars(select(Alert).where(Alert.rule_id == rule.id)):
                session.delete(alert)
            session.delete(rule)
            self.ctx.audit(session, "alert.rule.remove", f"Removed alert rule {row.name}", "alert_rule", row.id,
                           row.to_json())
        self.ctx.events.publish(AlertsChanged())
        return row

    @staticmethod
    def _rule(session, name_or_id: str | int) -> AlertRule:
        text = str(name_or_id).strip()
        rule = session.scalar(select(AlertRule).where(AlertRule.name == text))
        if rule is None and text.isdigit() and 1 <= int(text) <= MAX_ID:
            rule = session.get(AlertRule, int(text))
        if rule is None:
            raise NotFoundError(f"There is no alert rule named {text!r}.")
        return rule

    # ---- alerts ------------------------------------------------------------------------------
    def list(self, open_only: bool = False) -> list[AlertRow]:
        with self.ctx.db.read_session() as session:
            query = select(Alert, AlertRule).join(AlertRule, Alert.rule_id == AlertRule.id)
            if open_only:
                query = query.where(Alert.resolved_at.is_(None))
            return [AlertRow.of(a, r) for a, r in session.execute(query.order_by(Alert.id.desc()))]

    def get(self, alert_id: int) -> AlertRow:
        with self.ctx.db.read_session() as session:
            alert, rule = self._alert(session, alert_id)
            return AlertRow.of(alert, rule)

    def ack(self, alert_id: int) -> AlertRow:
        self.ctx.require("operator", "acknowledge alerts")
        with self.ctx.db.session() as session:
            alert, rule = self._alert(session, alert_id)
            if alert.acknowledged_at is None:
                alert.acknowledged_at = self.clock()
                alert.acknowledged_by = self.ctx.actor.username
                self.ctx.audit(session, "alert.ack", f"Acknowledged alert {alert.id} ({rule.name}: {alert.subject})",
                               "alert", alert.id)
            row = AlertRow.of(alert, rule)
        self.ctx.events.publish(AlertsChanged())
        return row

    def snooze(self, alert_id: int, minutes: int) -> AlertRow:
        """No notification for this rule and subject until then, even when it resolves and fires again."""
        self.ctx.require("operator", "snooze alerts")
        try:
            minutes = int(minutes)
        except (TypeError, ValueError):
            raise ValidationError(f"--minutes must be a whole number, not {minutes!r}.", field="minutes") from None
        if not 1 <= minutes <= MAX_SNOOZE_MINUTES:
            raise ValidationError(f"--minutes must be from 1 to {MAX_SNOOZE_MINUTES} (30 days).", field="minutes")
        with self.ctx.db.session() as session:
            alert, rule = self._alert(session, alert_id)
            alert.snoozed_until = self.clock() + timedelta(minutes=minutes)
            self.ctx.audit(session, "alert.snooze",
                           f"Snoozed alert {alert.id} ({rule.name}: {alert.subject}) for {minutes} min",
                           "alert", alert.id)
            row = AlertRow.of(alert, rule)
        self.ctx.events.publish(AlertsChanged())
        return row

    @staticmethod
    def _alert(session, alert_id: int) -> tuple[Alert, AlertRule]:
        alert = session.get(Alert, alert_id)
        if alert is None:
            raise NotFoundError(f"There is no alert with id {alert_id}.")
        return alert, session.get(AlertRule, alert.rule_id)

    # ---- the runtime's side ------------------------------------------------------------------
    def open_alert(self, rule_id: int, subject: str, message: str) -> Opened:
        """The open alert of ``rule_id`` and ``subject``, opened now if there is none (one at a time)."""
        self.ctx.require("operator", "open alerts")
        now = self.clock()
        with self.ctx.db.session() as session:
            rule = session.get(AlertRule, rule_id)
            if rule is None:
                raise NotFoundError(f"There is no alert rule with id {rule_id}.")
            latest = session.scalar(select(Alert).where(Alert.rule_id == rule_id, Alert.subject == subject)
                                    .order_by(Alert.id.desc()).limit(1))
            if latest is not None and latest.resolved_at is None:
                latest.last_seen_at = now
                return Opened(AlertRow.of(latest, rule), new=False, notify=False)
            snoozed = latest.snoozed_until if latest is not None and latest.snoozed_until is not None \
                and latest.snoozed_until > now else None
            alert = Alert(rule_id=rule_id, subject=subject, message=message, opened_at=now, last_seen_at=now,
                          snoozed_until=snoozed, webhook_attempts=0)
            session.add(alert)
            session.flush()
            note_change(session, "alert", alert.id, "created")  # other consoles tell it from the change feed
            row = AlertRow.of(alert, rule)
        self.ctx.events.publish(AlertsChanged())
        return Opened(row, new=True, notify=snoozed is None)

    def resolve(self, rule_id: int, subject: str) -> AlertRow | None:
        """Resolves the open alert of ``rule_id`` and ``subject``; None when none is open."""
        self.ctx.require("operator", "resolve alerts")
        with self.ctx.db.session() as session:
            alert = session.scalar(select(Alert).where(Alert.rule_id == rule_id, Alert.subject == subject,
                                                       Alert.resolved_at.is_(None)))
            if alert is None:
                return None
            alert.resolved_at = self.clock()
            row = AlertRow.of(alert, session.get(AlertRule, rule_id))
        self.ctx.events.publish(AlertsChanged())
        return row

    def open_subjects(self, rule_id: int) -> set[str]:
        with self.ctx.db.read_session() as session:
            return set(session.scalars(select(Alert.subject).where(Alert.rule_id == rule_id,
                                                                   Alert.resolved_at.is_(None))))

    def record_delivery(self, alert_id: int, attempts: int, error: str | None) -> AlertRow:
        """The webhook's outcome: delivered (no error) or the last error after ``attempts`` tries."""
        self.ctx.require("operator", "record webhook deliveries")
        with self.ctx.db.session() as session:
            alert, rule = self._alert(session, alert_id)
            alert.webhook_attempts = attempts
            alert.webhook_last_error = error[:2000] if error else None
            alert.webhook_delivered_at = None if error else self.clock()
            row = AlertRow.of(alert, rule)
        self.ctx.events.publish(AlertsChanged())
        return row

    def unused_keys(self, days: int) -> list[UnusedKey]:
        """Active keys whose tracker last called more than ``days`` ago (or never, issued that long ago)."""
        cutoff = self.clock() - timedelta(days=clean_days(days))
        with self.ctx.db.read_session() as session:
            rows = session.execute(
                select(TrackerCredential.account_id, TikTokAccount.username,
                       TrackerCredential.last_accessed_at, TrackerCredential.key_generated_at)
                .join(TikTokAccount, TikTokAccount.id == TrackerCredential.account_id)
                .where(TrackerCredential.status == "active")
                .order_by(TrackerCredential.account_id))
            return [UnusedKey(account_id, handle, last) for account_id, handle, last, issued in rows
                    if (last or issued) < cutoff]

    def instance_ids(self) -> set[int]:
        """The instances that exist: a deleted one's alerts are resolved, it will never run again."""
        with self.ctx.db.read_session() as session:
            return set(session.scalars(select(Instance.id)))
