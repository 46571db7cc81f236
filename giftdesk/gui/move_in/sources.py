"""The four systems an agency moves in from, described for the Move in page.

Each source calls its ``giftdesk.move_in`` service (the same work as ``giftdesk import …``) and
turns what the service returns into the page's ``Report``: the instance manager and the tracker
backend return plans with their own items, the exports an ``ImportReport`` of steps; the small
converters below make them the same rows.
"""

from __future__ import annotations

from giftdesk.gui.move_in.page import FileField, Line, Option, Report, RoundedLine, Source

DATABASE_FILTER = "SQLite databases (*.db *.sqlite);;All files (*)"
EXPORT_KINDS = {"company": "Company", "order": "Order", "invoice": "Invoice", "social_profile": "Profile"}


def _account(account_id: int | None) -> str:
    return f"account #{account_id}" if account_id else ""


# ---- the instance manager ----------------------------------------------------------------------
def _manager_report(plan) -> Report:
    # An adopted instance's text says how (its container, port, account); the Outcome column says "adopt".
    lines = [Line(i, "Instance", p.name, p.outcome, _account(p.account_id),
                  p.text().removeprefix("adopt ") if p.outcome == "adopt" else p.reason)
             for i, p in enumerate(plan.instances)]
    lines += [Line(len(lines) + i, "User", f"{u.username} ({u.role})" if u.role else u.username, u.outcome, "",
                   u.reason) for i, u in enumerate(plan.users)]
    lines += [Line(len(lines) + i, "Setting", s.name, s.outcome, s.setting or "",
                   f"{s.value}" if s.outcome != "skip" else s.reason) for i, s in enumerate(plan.settings)]
    return Report(plan.summary(), lines, plan.changes_anything)


def _manager_preview(desk, files, options) -> Report:
    from giftdesk.move_in.instance_manager import InstanceManagerImport

    return _manager_report(InstanceManagerImport(desk).plan(files["database"], users=options["users"]))


def _manager_run(desk, files, options) -> Report:
    from giftdesk.move_in.instance_manager import InstanceManagerImport

    return _manager_report(InstanceManagerImport(desk).apply(files["database"], users=options["users"]))


# ---- the tracker backend -----------------------------------------------------------------------
def _tracker_report(plan) -> Report:
    lines = [Line(i, "Key", f"API key of {k.legacy_account_id}", k.outcome, _account(k.account_id),
                  k.reason or (f"status {k.status}" if k.status else ""))
             for i, k in enumerate(plan.keys)]
    lines += [Line(len(lines) + i, "Data", f"{d.data_type} of {d.legacy_account_id}", d.outcome,
                   _account(d.account_id), d.reason) for i, d in enumerate(plan.documents)]
    return Report(plan.summary(), lines, plan.changes_anything)


def _tracker_preview(desk, files, options) -> Report:
    from giftdesk.move_in.tracker_data import TrackerDataImport

    return _tracker_report(TrackerDataImport(desk).plan(files["instances"], files["data"]))


def _tracker_run(desk, files, options) -> Report:
    from giftdesk.move_in.tracker_data import TrackerDataImport

    return _tracker_report(TrackerDataImport(desk).apply(files["instances"], files["data"]))


# ---- the exports (orders backend, HyperBuds) ---------------------------------------------------
def _export_report(report, nouns: dict) -> Report:
    # An export's "skip" is a document imported before: here already, not a problem.
    lines = [Line(i, kind, s.label, "unchanged" if s.action == "skip" else s.action,
                  f"{kind.lower()} #{s.record_id}" if s.record_id else "", s.reason or "")
             for i, s in enumerate(report.steps) for kind in [EXPORT_KINDS.get(s.kind, s.kind)]]
    labels = {(s.kind, s.legacy_id): s.label for s in report.steps}
    rounded = [RoundedLine(i, labels.get((r.kind, r.legacy_id), r.legacy_id), r.field, str(r.exported),
                           str(r.imported)) for i, r in enumerate(report.rounded)]
    numbering = report.extra.get("numbering") or {}
    notes = [f"The next invoice number here will be {n['next']}." for n in numbering.values()] + list(report.notes)
    return Report(report.summary(nouns), lines, report.changes, rounded, notes)


def _social_scale(desk):
    from giftdesk.move_in.social_scale import NOUNS, SocialScaleImport

    return SocialScaleImport(desk.ctx, desk.settings, desk.invoices), NOUNS


def _hyperbuds(desk):
    from giftdesk.move_in.hyperbuds import NOUNS, HyperBudsImport

    return HyperBudsImport(desk.ctx), NOUNS


def _export_source(make):
    """preview and run for an export service made by ``make(desk)`` (files given are its keyword arguments)."""

    def preview(desk, files, options) -> Report:
        service, nouns = make(desk)
        return _export_report(service.preview(**files), nouns)

    def run(desk, files, options) -> Report:
        service, nouns = make(desk)
        return _export_report(service.run(**files), nouns)

    return preview, run


def sources() -> list[Source]:
    exports = "{} export"
    orders_preview, orders_run = _export_source(_social_scale)
    profiles_preview, profiles_run = _export_source(_hyperbuds)
    return [
        Source("manager", "Instance manager", (
            "The instance manager's database (data/instances.db). Each instance's running container is adopted "
            "as it runs (never restarted), with its account (keeping its old id, which its tracker calls with), its "
            "API key, dashboard password and logs. Nothing changes until you press Import."),
            (FileField("database", "Instance manager database", DATABASE_FILTER),),
            _manager_preview, _manager_run, import_role="operator",
            options=(Option("users", "Also make its users administrators (their passwords are checked at their "
                                     "first login, then rehashed)", role="admin",
                            refused="Only administrators with the admin role can add administrators"),)),
        Source("tracker-data", "Tracker backend", (
            "The tracker backend's mongoexport files: the keys (TrackerInstance: status, instance URL, last access) "
            "and the gift groups, config and analytics documents (InstanceData), by the accounts' old ids. Import "
            "the instance manager first. Nothing changes until you press Import."),
            (FileField("instances", "TrackerInstance export"), FileField("data", "InstanceData export")),
            _tracker_preview, _tracker_run, import_role="operator"),
        Source("social-scale", "Orders backend", (
            "The social-scale backend's Company, Order and Invoice collections, as mongoexport wrote them. Orders "
            "keep their Fampage order ids (the status sync goes on with them), invoices their numbers (ours "
            "continue after the highest); floats become exact money and every rounded value is listed. Give the "
            "files you have; companies may come first and the rest later. Nothing changes until you press Import."),
            tuple(FileField(key, exports.format(label)) for key, label in
                  (("companies", "Companies"), ("orders", "Orders"), ("invoices", "Invoices"))),
            orders_preview, orders_run, every_file=False,
            rounding="Values rounded: floats made exact (money to its minor unit, provider charges to eight decimals)"),
        Source("hyperbuds", "HyperBuds profiles", (
            "The HyperBuds profiles collection, as mongoexport wrote it: profiles with their followers and "
            "engagement on each platform and when each was last synced. Nothing changes until you press Import."),
            (FileField("profiles", "Profiles export"),),
            profiles_preview, profiles_run,
            rounding="Values rounded: floats made exact (engagement to two decimals)"),
    ]
