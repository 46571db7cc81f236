"""``giftdesk social …``: creator profiles, syncs, CSV import/export, history and metrics.

A sync refused by validation exits 2 with the route's message on stderr; with ``--json`` the
route's error body (``{"message": "Validation failed", "details": [...]}``) is printed instead.
``social import`` exits 2 when any row was rejected (the good rows are applied all the same).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from giftdesk.cli.framework import MAX_ID, YES, CommandLine, Fields, Output, Table, arg, confirm, whole_number
from giftdesk.db.social_models import SOCIAL_PLATFORMS
from giftdesk.core.errors import ValidationError
from giftdesk.social.records import Profile
from giftdesk.social.service import SORT_KEYS
from giftdesk.social.validation import (
    SyncValidationError,
    centi_to_decimal,
    platform_label,
)
from giftdesk.core.storage import write_text_whole


def _profile_options(required_name: bool) -> list:
    name_help = "display name" + ("" if required_name else " (new)")
    return [
        arg("--name", required=required_name, help=name_help),
        arg("--bio"), arg("--avatar", help="avatar URL"), arg("--url", help="profile URL"),
        arg("--niches", help="comma-separated, e.g. music,gaming"),
        arg("--city"), arg("--state"), arg("--country"),
        arg("--customer", help="customer id ('' to unlink)"),
        arg("--account", help="TikTok account id of that customer ('' to unlink); its API key authenticates syncs"),
        arg("--public", dest="is_public", action="store_true", default=None, help="listed publicly (default)"),
        arg("--private", dest="is_public", action="store_false"),
        arg("--active", dest="is_active", action="store_true", default=None, help="active (default)"),
        arg("--inactive", dest="is_active", action="store_false"),
        arg("--user-id", help="the creator's id in the web app: 24 hexadecimal digits ('' to clear)"),
        arg("--rizz-score", help="a whole number from 0 to 100"),
        arg("--audience-min", help="smallest audience size wanted for a collaboration"),
        arg("--audience-max", help="largest audience size wanted"),
        arg("--budget-min", help="smallest collaboration budget, e.g. 49.99"),
        arg("--budget-max", help="largest collaboration budget"),
        arg("--collaboration-types", help="comma-separated, e.g. shoutout,live ('' to clear)"),
        arg("--locations", dest="preferred_locations", help="preferred places, comma-separated ('' to clear)"),
        arg("--link", action="append", metavar="PLATFORM=URL",
            help="a platform's page, repeatable (PLATFORM= clears it); other platforms keep theirs"),
        arg("--handle", action="append", metavar="PLATFORM=HANDLE",
            help="a platform's handle, repeatable (PLATFORM= clears it); other platforms keep theirs"),
    ]


def _per_platform(pairs: list[str] | None, option: str) -> dict[str, str] | None:
    """``PLATFORM=VALUE`` options as a map; an empty VALUE clears that platform."""
    if pairs is None:
        return None
    result: dict[str, str] = {}
    for pair in pairs:
        platform, sign, value = pair.partition("=")
        if not sign or not platform.strip():
            raise ValidationError(f"{option} takes PLATFORM=VALUE, e.g. {option} instagram=…, not '{pair[:60]}'.",
                                  field=option.lstrip("-"))
        result[platform.strip()] = value
    return result


def _profile_fields(args) -> dict:
    mapping = {"name": "display_name", "bio": "bio", "avatar": "avatar_url", "url": "profile_url",
               "niches": "niches", "city": "city", "state": "state", "country": "country",
               "customer": "customer_id", "account": "account_id", "is_public": "is_public", "is_active": "is_active",
               "user_id": "user_id", "rizz_score": "rizz_score", "audience_min": "audience_min",
               "audience_max": "audience_max", "budget_min": "budget_min", "budget_max": "budget_max",
               "collaboration_types": "collaboration_types", "preferred_locations": "preferred_locations"}
    fields = {field: getattr(args, option) for option, field in mapping.items() if getattr(args, option) is not None}
    for option, field in (("link", "social_links"), ("handle", "platform_handles")):
        value = _per_platform(getattr(args, option), f"--{option}")
        if value is not None:
            fields[field] = value
    return fields


def _engagement(centi: int | None) -> str:
    return "-" if centi is None else f"{centi_to_decimal(centi)} %"


def _change(value: int | None) -> str:
    return "-" if value is None else f"{value:+,}"


def _profile_text(p: Profile) -> list:
    pairs = [("ID", p.id), ("Name", p.display_name), ("Bio", p.bio), ("Niches", ", ".join(p.niches) or None),
             ("Location", p.location or None), ("Public", p.is_public), ("Active", p.is_active),
             ("Customer", f"{p.customer_name} (id {p.customer_id})" if p.customer_id else None),
             ("TikTok account", f"@{p.tiktok_username} (id {p.account_id})" if p.account_id else None),
             ("Avatar", p.avatar_url), ("Profile URL", p.profile_url), ("Last seen", p.last_seen_at),
             ("Total followers", f"{p.total_followers:,}"), ("Avg engagement", _engagement(p.avg_engagement_centi)),
             ("Change 7 days", _change(p.change_7d)), ("Change 30 days", _change(p.change_30d))]
    links: dict[str, str] = {}
    handles: dict[str, str] = {}
    if p.extras is not None:
        preferences = p.extras.preferences
        pairs += [("User id", p.extras.user_id), ("Rizz score", p.extras.rizz_score),
                  ("Audience size", f"{preferences.audience_min:,} – {preferences.audience_max:,}"),
                  ("Budget", f"{preferences.budget_min:,} – {preferences.budget_max:,}"),
                  ("Collaboration types", ", ".join(preferences.collaboration_types) or None),
                  ("Preferred locations", ", ".join(preferences.locations) or None)]
        links, handles = p.extras.links(p.tiktok_username), p.extras.platform_handles
    platforms = Table(["PLATFORM", "FOLLOWERS", "ENGAGEMENT", "SYNCED", "HANDLE", "LINK"], [
        (name, f"{p.platforms[name].followers:,}" if name in p.platforms else "-",
         _engagement(p.platforms[name].engagement_centi) if name in p.platforms else "-",
         p.platforms[name].synced_at if name in p.platforms else None,
         f"@{handles[name]}" if name in handles else "-", links.get(name, "-"))
        for name in SOCIAL_PLATFORMS
    ])
    return [Fields(pairs), platforms]


def _read_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValidationError(f"There is no file {path}.", field="file") from None
    except UnicodeDecodeError:
        raise ValidationError(f"{path} is not UTF-8 text.", field="file") from None
    except OSError as exc:
        raise ValidationError(f"Cannot read {path}: {exc.strerror or exc}.", field="file") from None


def register(cli: CommandLine) -> None:
    social = cli.group("social", "creator profiles and their social-media stats")
    profile = social.group("profile", "creator profiles")  # "social profile add|list|…"

    @profile.command("add", "add a creator profile", *_profile_options(True))
    def profile_add(desk, args):
        fields = _profile_fields(args)
        row = desk.social.create(fields.pop("display_name"), **fields)
        return Output(row.to_json(), f"Added profile {row.id} '{row.display_name}'.")

    @profile.command("list", "list profiles with totals and 7/30-day change", arg("--search"),
                     arg("--sort", choices=SORT_KEYS, default="name"), arg("--desc", action="store_true"))
    def profile_list(desk, args):
        # --json gives each profile as 'show' does; the table needs only the list's columns.
        rows = desk.social.list(args.search, args.sort, args.desc, detailed=args.json)
        return Output([r.to_json() for r in rows], Table(
            ["ID", "NAME", "LOCATION", "FOLLOWERS", "ENGAGEMENT", "7 DAYS", "30 DAYS", "LAST SEEN"],
            [(r.id, r.display_name, r.location or "-", f"{r.total_followers:,}", _engagement(r.avg_engagement_centi),
              _change(r.change_7d), _change(r.change_30d), r.last_seen_at) for r in rows]))

    @profile.command("show", "one profile with its platforms", arg("profile", help="id or display name"))
    def profile_show(desk, args):
        row = desk.social.get(desk.social.resolve(args.profile))
        return Output(row.to_json(), _profile_text(row))

    @profile.command("edit", "change a profile's fields", arg("profile", help="id or display name"),
                     *_profile_options(False))
    def profile_edit(desk, args):
        row = desk.social.update(desk.social.resolve(args.profile), **_profile_fields(args))
        return Output(row.to_json(), f"Saved profile {row.id} '{row.display_name}'.")

    @profile.command("delete", "delete a profile with its stats and history", arg("profile"), YES)
    def profile_delete(desk, args):
        profile_id = desk.social.resolve(args.profile)
        impact = desk.social.delete_impact(profile_id)
        confirm(args, impact.sentence())
        desk.social.delete(profile_id)
        return Output({"id": profile_id, "deleted": True, **impact.to_json()}, f"Deleted profile {profile_id}.")

    @social.command("sync", "record a profile's followers and engagement on one platform",
                    arg("profile", help="id or display name"), arg("platform", help=", ".join(SOCIAL_PLATFORMS)),
                    arg("--followers", required=True), arg("--engagement", help="percent, 0-100"))
    def sync(desk, args):
        try:
            row = desk.social.sync(desk.social.resolve(args.profile), args.platform, args.followers, args.engagement,
                                   source="cli", allow_text=True)
        except SyncValidationError as exc:
            if not args.json:
                raise
            return Output(exc.to_json(), exit_code=exc.exit_code)
        message = f"Social media {platform_label(args.platform.strip().lower())} synced successfully"
        return Output({"success": True, "message": message, "profile": row.to_json()},
                      [message, *_profile_text(row)])

    @social.command("import", "sync from a CSV file (profile,platform,followers,engagement)",
                    arg("file"), arg("--dry-run", action="store_true", help="show what would happen, change nothing"))
    def import_csv(desk, args):
        preview = desk.social.preview_import(_read_file(args.file))
        result = preview if args.dry_run else desk.social.apply_import(preview)
        verb = "would apply" if args.dry_run else "applied"
        table = Table(["LINE", "PROFILE", "PLATFORM", "FOLLOWERS", "ENGAGEMENT", "RESULT"], [
            (r.line, r.profile_name or r.profile_ref, r.platform,
             f"{r.values.followers:,}" if r.values else r.followers,
             f"{r.values.engagement} %" if r.values else r.engagement or "-",
             verb if r.ok else f"rejected: {r.error}") for r in result.rows])
        summary = f"{result.valid} row{'s' if result.valid != 1 else ''} {verb}, {result.rejected} rejected."
        return Output(result.to_json(applied=not args.dry_run), [table, summary],
                      exit_code=2 if result.rejected else 0)

    @social.command("history", "a profile's recorded syncs, oldest first", arg("profile"),
                    arg("--platform"), arg("--days", type=whole_number(1, 36_500), help="only the last N days"),
                    arg("--limit", type=whole_number(1, MAX_ID), help="only the newest N"), reads_only=True)
    def history(desk, args):
        from datetime import timedelta

        from giftdesk.db.types import utcnow

        if args.days is not None and not 1 <= args.days <= 36_500:
            raise ValidationError("--days must be a number of days from 1 to 36,500.", field="days")
        if args.limit is not None and not 1 <= args.limit <= 1_000_000:
            raise ValidationError("--limit must be from 1 to 1,000,000.", field="limit")
        since = utcnow() - timedelta(days=args.days) if args.days else None
        rows = desk.social.history(desk.social.resolve(args.profile), args.platform, since=since, limit=args.limit)
        return Output([r.to_json() for r in rows], Table(
            ["AT", "PLATFORM", "FOLLOWERS", "ENGAGEMENT", "TOTAL", "SOURCE", "MS", "RESULT"],
            [(r.at, r.platform, "-" if r.followers is None else f"{r.followers:,}", _engagement(r.engagement_centi),
              "-" if r.total_followers is None else f"{r.total_followers:,}", r.source, r.duration_ms,
              "ok" if r.success else f"failed: {r.error}") for r in rows]))

    @social.command("metrics", "sync counts: total, successful, failed, per platform, slow, average duration",
                    reads_only=True)
    def metrics(desk, args):
        m = desk.social.metrics()
        return Output(m.to_json(), [
            Fields([("Total syncs", m.total), ("Successful", m.successful), ("Failed", m.failed),
                    ("Slow (> 5 s)", m.slow), ("Average duration", f"{m.average_duration_ms} ms")]),
            Table(["PLATFORM", "TOTAL", "SUCCESSFUL", "FAILED", "SLOW"],
                  [(name, p.total, p.successful, p.failed, p.slow) for name, p in m.platforms.items()]),
        ])

    @social.command("export", "profiles (or the sync history) as CSV",
                    arg("what", nargs="?", choices=("profiles", "history"), default="profiles"),
                    arg("--profile", help="history of this profile only"),
                    arg("--output", "-o", help="file to write (default: standard output)"), reads_only=True)
    def export(desk, args):
        profile_id = desk.social.resolve(args.profile) if args.profile else None
        if args.what == "profiles" and profile_id is not None:
            raise ValidationError("--profile goes with 'export history'.", field="profile")
        buffer = io.StringIO()
        if args.what == "profiles":
            count = desk.social.export_profiles_csv(buffer)
        else:
            count = desk.social.export_history_csv(buffer, profile_id)
        if args.output:
            try:
                write_text_whole(Path(args.output), buffer.getvalue(), newline="")  # no half file on a full disk
            except OSError as exc:
                raise ValidationError(f"Cannot write {args.output}: {exc.strerror}.", field="output") from None
            return Output({"file": str(Path(args.output).resolve()), "rows": count, "what": args.what},
                          f"Wrote {count} {args.what} row{'s' if count != 1 else ''} to {args.output}.")
        if args.json:
            raise ValidationError("With --json, give --output FILE (the CSV goes to the file).", field="output")
        sys.stdout.write(buffer.getvalue())
        return None
