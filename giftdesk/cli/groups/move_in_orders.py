"""``giftdesk import social-scale|hyperbuds``: the orders backend's and the creator profiles'
``mongoexport`` files, previewed with ``--dry-run``, imported in one transaction each."""

from __future__ import annotations

from pathlib import Path

from giftdesk.cli.framework import Output, Table, arg

IMPORT_HELP = "bring in what the agency runs today (previews with --dry-run)"
DRY_RUN = arg("--dry-run", action="store_true", help="show what would be imported and why; change nothing")


def report_text(report, nouns: dict[str, tuple[str, str]]) -> list:
    """The sentence, then every document's fate, every rounded amount and every note."""
    text: list = [report.summary(nouns)]
    if report.steps:
        text.append(Table(["KIND", "OLD ID", "WHAT", "ACTION", "HERE", "WHY"],
                          [(s.kind, s.legacy_id, s.label[:60], s.action, s.record_id, s.reason or "")
                           for s in report.steps]))
    if report.rounded:
        text.append(Table(["KIND", "OLD ID", "FIELD", "EXPORTED", "IMPORTED"],
                          [(r.kind, r.legacy_id, r.field, r.exported, r.imported) for r in report.rounded]))
    numbering = report.extra.get("numbering")
    if numbering:
        text.append(Table(["SERIES", "LAST IMPORTED", "OUR NEXT NUMBER"],
                          [(series, n["lastNumber"], n["next"]) for series, n in numbering.items()]))
    text.extend(report.notes)
    return text


def register(cli) -> None:
    group = cli.group("import", IMPORT_HELP)

    @group.command("social-scale", "the orders backend's companies, orders and invoices (mongoexport files)",
                   arg("--companies", type=Path, help="the Company collection's export"),
                   arg("--orders", type=Path, help="the Order collection's export"),
                   arg("--invoices", type=Path, help="the Invoice collection's export"), DRY_RUN)
    def social_scale(desk, args):
        from giftdesk.move_in.social_scale import NOUNS, SocialScaleImport

        importer = SocialScaleImport(desk.ctx, desk.settings, desk.invoices)
        files = dict(companies=args.companies, orders=args.orders, invoices=args.invoices)
        report = importer.preview(**files) if args.dry_run else importer.run(**files)
        return Output(report.to_json(NOUNS), report_text(report, NOUNS))

    @group.command("hyperbuds", "HyperBuds creator profiles with their platform numbers (a mongoexport file)",
                   arg("--profiles", type=Path, required=True, help="the profiles collection's export"), DRY_RUN)
    def hyperbuds(desk, args):
        from giftdesk.move_in.hyperbuds import NOUNS, HyperBudsImport

        importer = HyperBudsImport(desk.ctx)
        report = importer.preview(args.profiles) if args.dry_run else importer.run(args.profiles)
        return Output(report.to_json(NOUNS), report_text(report, NOUNS))
