"""``giftdesk service``: ``giftdesk serve`` for this data directory, started at boot (or logon)."""

from __future__ import annotations

from giftdesk.cli.framework import Fields, Output, arg, existing_data_dir

SYSTEM = arg("--system", action="store_true",
             help="a system unit in /etc/systemd/system, run as the data directory's owner (needs root); "
                  "default: a user unit")
UNIT_DIR = arg("--unit-dir", metavar="DIR",
               help="write the unit into DIR and leave the service manager alone (env GIFTDESK_UNIT_DIR)")


def register(cli) -> None:
    service = cli.group("service", "start giftdesk serve for this data directory at boot (systemd, launchd, "
                                   "Windows logon task)")

    @service.command("install", "write and enable the unit that runs giftdesk serve for this data directory",
                     SYSTEM, UNIT_DIR, needs_desk=False, reads_only=True)
    def service_install(args):
        from giftdesk.core.paths import DATABASE_URL_ENV
        from giftdesk.runtime import at_boot
        from giftdesk.runtime.detached import giftdesk_command
        from giftdesk.runtime.ownership import describe_owner, runtime_owned
        from giftdesk.runtime.status_file import read_runtime_status
        import os

        root = existing_data_dir(args).root.resolve()
        database_url = args.database_url or os.environ.get(DATABASE_URL_ENV)
        report = at_boot.install(giftdesk_command(), root, system=args.system, unit_dir=args.unit_dir,
                                 database_url=database_url)
        if runtime_owned(root):
            report.notes.append(f"{describe_owner(read_runtime_status(root))} serves this data directory now: "
                                "the unit's serve starts once it is stopped (`giftdesk serve stop`, or close the window).")
        return Output(report.to_json(), _report_text(report))

    @service.command("uninstall", "disable and remove this data directory's unit", SYSTEM, UNIT_DIR,
                     needs_desk=False, reads_only=False)
    def service_uninstall(args):
        from giftdesk.core.paths import resolve_data_dir
        from giftdesk.runtime import at_boot

        report = at_boot.uninstall(resolve_data_dir(args.data_dir).root, system=args.system, unit_dir=args.unit_dir)
        return Output(report.to_json(), _report_text(report))

    @service.command("status", "whether this data directory's unit is installed, enabled and running", SYSTEM,
                     UNIT_DIR, needs_desk=False, reads_only=False)
    def service_status(args):
        from giftdesk.core.paths import resolve_data_dir
        from giftdesk.runtime import at_boot
        from giftdesk.runtime.ownership import describe_owner, runtime_owned
        from giftdesk.runtime.status_file import read_runtime_status

        root = resolve_data_dir(args.data_dir).root
        report = at_boot.status(root, system=args.system, unit_dir=args.unit_dir)
        owner = read_runtime_status(root) if root.is_dir() else None
        serving = describe_owner(owner) if owner or (root.is_dir() and runtime_owned(root)) else None
        installed = bool(report.path) or bool(report.enabled)
        data = {**report.to_json(), "installed": installed, "servedBy": serving}
        pairs = [("Unit", report.name), ("Installed", report.path or ("yes" if installed else "no")),
                 ("Enabled", _yes_no(report.enabled)), ("Active", _yes_no(report.active)),
                 ("Served by", serving or "nothing runs on this data directory")]
        text = [Fields(pairs), *report.notes]
        return Output(data, text)


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _report_text(report) -> list:
    lines = [f"Done: {step}" for step in report.done]
    if report.todo:
        lines.append("Still to run:")
        lines += [f"  {step}" for step in report.todo]
    lines += report.notes
    return ["\n".join(lines)]
