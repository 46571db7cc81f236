"""``giftdesk import …``: moving in what an agency runs today, without stopping a tracker."""

from __future__ import annotations

from giftdesk.cli.framework import Output, Table, arg, warn_secret_store

DRY_RUN = arg("--dry-run", action="store_true", help="show what would be imported, adopted and skipped, and why; "
                                                   "change nothing")


def _instance_manager_text(plan) -> list:
    parts: list = [Table(["NAME", "WHAT", "DETAILS"], [(p.name, p.outcome, p.text()) for p in plan.instances])]
    if plan.users_asked:
        parts.append(Table(["USER", "WHAT", "ROLE", "WHY"],
                           [(u.username, u.outcome, u.role, u.reason) for u in plan.users]))
    if plan.settings:
        parts.append(Table(["SETTING", "WHAT", "DETAILS"], [(s.name, s.outcome, s.text()) for s in plan.settings]))
    parts.append(plan.summary())
    return parts


def register(cli) -> None:
    group = cli.group("import", "move in from the systems the agency runs today (nothing is stopped or restarted)")

    @group.command("gift-instance-manager",
                   "the instance manager's database: its instances (their running containers adopted as they are), "
                   "accounts with their old ids, keys, dashboard passwords and logs",
                   arg("database", metavar="DB", help="the manager's SQLite file (data/instances.db)"),
                   arg("--users", action="store_true", help="also make its users administrators (their passwords "
                                                           "are checked at first login, then rehashed)"),
                   DRY_RUN)
    def instance_manager(desk, args):
        from giftdesk.move_in.instance_manager import InstanceManagerImport

        importer = InstanceManagerImport(desk)
        if args.dry_run:
            plan = importer.plan(args.database, users=args.users)
        else:
            warn_secret_store(desk)
            plan = importer.apply(args.database, users=args.users)
        return Output(plan.to_json(), _instance_manager_text(plan))

    @group.command("tracker-data",
                   "the tracker backend's mongoexport files: keys (status, instance URL, last access) and gift "
                   "groups, config and analytics documents as they were",
                   arg("--instances", required=True, metavar="FILE", help="mongoexport of TrackerInstance"),
                   arg("--data", required=True, metavar="FILE", help="mongoexport of InstanceData"),
                   DRY_RUN)
    def tracker_data(desk, args):
        from giftdesk.move_in.tracker_data import TrackerDataImport

        importer = TrackerDataImport(desk)
        if args.dry_run:
            plan = importer.plan(args.instances, args.data)
        else:
            warn_secret_store(desk)
            plan = importer.apply(args.instances, args.data)
        rows = [(k.legacy_account_id, "key", k.outcome, k.reason or k.status) for k in plan.keys]
        rows += [(d.legacy_account_id, d.data_type, d.outcome, d.reason) for d in plan.documents]
        return Output(plan.to_json(), [Table(["OLD ACCOUNT ID", "WHAT", "OUTCOME", "DETAILS"], rows), plan.summary()])
