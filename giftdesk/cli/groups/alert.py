"""``giftdesk alert``: alert rules and the alerts they raise (the runtime evaluates the rules)."""

from __future__ import annotations

from giftdesk.cli.framework import Output, Table, arg, record_id
from giftdesk.core.clock import iso
from giftdesk.core.errors import ValidationError
from giftdesk.db.alerts_models import ALERT_KINDS

KINDS = ", ".join(ALERT_KINDS)


def _rule_table(rows) -> Table:
    return Table(["ID", "NAME", "WHEN", "WEBHOOK", "ENABLED"],
                 [(r.id, r.name, r.condition(), r.webhook_url or "-", "yes" if r.enabled else "no") for r in rows])


def register(cli) -> None:
    alert = cli.group("alert", "alert rules and the alerts they raise (instances, balance, keys, endpoint)")
    rule = alert.group("rule", "what raises an alert")  # "alert rule add|list|edit|remove"

    @rule.command("add", "add an alert rule",
                  arg("name"), arg("--when", required=True, metavar="KIND", help=f"one of {KINDS}"),
                  arg("--minutes", default="0", help="how long the condition must hold (0: at once)"),
                  arg("--below", help="balance-below: the amount (exact, in the balance's currency)"),
                  arg("--days", help="key-unused: days without a call from the tracker"),
                  arg("--webhook", help="http(s) URL that gets each alert as JSON (Slack-compatible)"),
                  arg("--disabled", action="store_true", help="add it switched off"))
    def rule_add(desk, args):
        row = desk.alerts.add_rule(args.name, args.when, args.minutes, args.below, args.days, args.webhook,
                                   enabled=not args.disabled)
        return Output(row.to_json(), f"Added alert rule {row.id}: {row.name} ({row.condition()})")

    @rule.command("list", "list alert rules")
    def rule_list(desk, args):
        rows = desk.alerts.rules()
        return Output([r.to_json() for r in rows], _rule_table(rows))

    @rule.command("edit", 'change an alert rule (--webhook "" removes the webhook)',
                  arg("rule", metavar="NAME", help="the rule's name or id"), arg("--name"), arg("--minutes"),
                  arg("--below"), arg("--days"), arg("--webhook"),
                  arg("--enable", action="store_true"), arg("--disable", action="store_true"))
    def rule_edit(desk, args):
        changes = {key: getattr(args, key) for key in ("name", "minutes", "below", "days", "webhook")
                   if getattr(args, key) is not None}
        if args.enable and args.disable:
            raise ValidationError("Give --enable or --disable, not both.")
        if args.enable or args.disable:
            changes["enabled"] = bool(args.enable)
        row = desk.alerts.edit_rule(args.rule, **changes)
        return Output(row.to_json(), f"Changed alert rule {row.id}: {row.name} ({row.condition()})")

    @rule.command("remove", "remove an alert rule with its alerts", arg("rule", metavar="NAME"))
    def rule_remove(desk, args):
        row = desk.alerts.remove_rule(args.rule)
        return Output({"removed": row.id, "name": row.name}, f"Removed alert rule {row.id}: {row.name}")

    @alert.command("list", "list alerts, newest first", arg("--open", action="store_true", help="open ones only"))
    def alert_list(desk, args):
        rows = desk.alerts.list(open_only=args.open)
        return Output([r.to_json() for r in rows],
                      Table(["ID", "RULE", "SUBJECT", "STATE", "OPENED", "RESOLVED", "MESSAGE", "WEBHOOK"],
                            [(r.id, r.rule_name, r.subject, r.state(), iso(r.opened_at), iso(r.resolved_at) or "-",
                              r.message, r.webhook_state()) for r in rows]))

    @alert.command("ack", "acknowledge an alert (it stays open until its condition ends)",
                   arg("id", type=record_id))
    def alert_ack(desk, args):
        row = desk.alerts.ack(args.id)
        return Output(row.to_json(), f"Acknowledged alert {row.id} ({row.rule_name}: {row.subject})")

    @alert.command("snooze", "no notification for this alert's rule and subject for a while",
                   arg("id", type=record_id), arg("--minutes", required=True))
    def alert_snooze(desk, args):
        row = desk.alerts.snooze(args.id, args.minutes)
        return Output(row.to_json(), f"Snoozed alert {row.id} ({row.rule_name}: {row.subject}) until "
                                     f"{iso(row.snoozed_until)}")
