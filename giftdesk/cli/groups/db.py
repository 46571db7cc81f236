"""``giftdesk db``: database maintenance."""

from __future__ import annotations

from giftdesk.cli.framework import Output, database_errors, prepared_data_dir


def register(cli) -> None:
    db = cli.group("db", "database maintenance")

    @db.command("upgrade", "migrate the schema to this version (copying the file first)", needs_desk=False)
    def db_upgrade(args):
        # No Desk here: it would read tables that may not exist before the upgrade.
        from giftdesk.db import Database
        from giftdesk.db.migrate import current_revision, head_revision, upgrade
        from giftdesk.core.paths import resolve_database_url

        paths = prepared_data_dir(args)
        url = resolve_database_url(paths, args.database_url)
        with database_errors(url):
            database = Database(url)
            try:
                before = current_revision(database)
                copy = upgrade(database, paths.backups)
            finally:
                database.dispose()
        result = {"from": before, "to": head_revision(), "copy": str(copy) if copy else None}
        changed = f" (was {before}; copy at {copy})" if before != result["to"] else " (already current)"
        return Output(result, f"Schema at {result['to']}{changed}")
