"""``giftdesk audit``: who changed what, newest first."""

from __future__ import annotations

from giftdesk.cli.framework import Output, Table, arg, whole_number


def register(cli) -> None:
    audit = cli.group("audit", "who changed what")

    @audit.command("list", "recent audit entries, newest first",
                   arg("--limit", type=whole_number(1, 10_000), default=50, help="how many entries (1 to 10000; default 50)"),
                   arg("--search", help="match actor, action, summary or target (literally)"))
    def audit_list(desk, args):
        rows = desk.audit.list(limit=args.limit, search=args.search)
        return Output([r.to_json() for r in rows],
                      Table(["AT", "ACTOR", "ACTION", "SUMMARY"], [(r.at, r.actor, r.action, r.summary) for r in rows]))
