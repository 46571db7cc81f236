"""``giftdesk admin``: administrators who log in to the console."""

from __future__ import annotations

import getpass
import sys

from giftdesk.cli.framework import YES, Output, Table, arg, confirm
from giftdesk.core.errors import NotFoundError, PermissionDeniedError, ValidationError

ROLES = ["admin", "operator", "viewer"]


def read_password(args, prompt: str = "Password") -> str:
    """``--password``, or asked twice on a terminal; never read from a pipe silently."""
    if args.password is not None:
        return args.password
    if not sys.stdin.isatty():
        raise ValidationError("Give --password, or run in a terminal to be asked for it.", field="password")
    first = getpass.getpass(f"{prompt}: ")
    if getpass.getpass(f"{prompt} (again): ") != first:
        raise ValidationError("The two passwords differ.", field="password")
    return first


def register(cli) -> None:
    admin = cli.group("admin", "administrators who log in to the console")

    @admin.command("create", "create an administrator (the first one becomes the super admin)",
                   arg("username"),
                   arg("--password", help="the password (asked for when omitted)"),
                   arg("--role", default="admin", choices=ROLES))
    def admin_create(desk, args):
        row = desk.admins.create(args.username, read_password(args), args.role)
        return Output(row.to_json(), f"Created {row.role} '{row.username}'" + (" (super admin)" if row.is_super else ""))

    @admin.command("list", "list administrators")
    def admin_list(desk, args):
        rows = desk.admins.list()
        return Output([r.to_json() for r in rows],
                      Table(["ID", "USERNAME", "ROLE", "SUPER", "CREATED", "LAST LOGIN", "LOCKED UNTIL"],
                            [(r.id, r.username, r.role, r.is_super, r.created_at, r.last_login_at,
                              r.locked_until or "") for r in rows]))

    @admin.command("unlock", "let a name try again after too many wrong passwords", arg("username"))
    def admin_unlock(desk, args):
        desk.admins.unlock(args.username)
        return Output({"unlocked": args.username}, f"'{args.username}' may log in again.")

    @admin.command("reset-password", "set a new password (for the owner of the data directory)",
                   arg("username"),
                   arg("--password", help="the new password (asked for when omitted)"))
    def admin_reset_password(desk, args):
        desk.admins.reset_password(args.username, read_password(args, "New password"))
        return Output({"username": args.username, "reset": True}, f"Password of '{args.username}' reset.")

    @admin.command("set-role", "change an administrator's role", arg("username"), arg("role", choices=ROLES))
    def admin_set_role(desk, args):
        row = desk.admins.set_role(args.username, args.role)
        return Output(row.to_json(), f"'{row.username}' is now {row.role}.")

    @admin.command("delete", "delete an administrator", arg("username"), YES)
    def admin_delete(desk, args):
        target = next((a for a in desk.admins.list() if a.username.lower() == args.username.strip().lower()), None)
        if target is None:
            raise NotFoundError(f"There is no administrator called '{args.username}'.")
        if target.is_super:
            raise PermissionDeniedError("The super admin cannot be deleted.")
        confirm(args, f"Delete administrator '{args.username}'?")
        desk.admins.delete(args.username)
        return Output({"deleted": args.username}, f"Deleted '{args.username}'.")
