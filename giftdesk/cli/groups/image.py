"""``giftdesk image list|build|remove|prune``: images on the fleet's engine (the images dialog's data)."""

from __future__ import annotations

import sys

from giftdesk.cli.framework import YES, Output, Table, arg, confirm
from giftdesk.core.errors import ValidationError
from giftdesk.core.printable import escape_controls
from giftdesk.fleet.units import fmt_size


ENGINE = arg("--engine", help="the Docker engine (default: local; see `engine list`)")


def _catalog(desk, args):
    from giftdesk.fleet.images import ImageCatalog

    return ImageCatalog(desk.fleet, args.engine or "")


def _removal_output(results) -> Output:
    lines = [f"{r.outcome}: {r.reference}" + (f" ({r.message})" if r.message else "") for r in results]
    failed = any(r.outcome != "removed" for r in results)
    return Output([r.to_json() for r in results], "\n".join(lines) or "Nothing to remove.", exit_code=1 if failed else 0)


def register(cli) -> None:
    image = cli.group("image", "Docker images for trackers")

    @image.command("list", "local images, gift-tracker ones first, with the containers and instances using them",
                   ENGINE)
    def list_(desk, args):
        rows = _catalog(desk, args).list()
        return Output([r.to_json() for r in rows],
                      Table(["TAGS", "ID", "SIZE", "CONTAINERS", "INSTANCES", "CREATED"],
                            [(", ".join(r.tags) or "<none>", r.short_id, fmt_size(r.size_bytes),
                              r.containers, ", ".join(r.instances), r.created) for r in rows]))

    @image.command("build", "build an image from a folder with a Dockerfile (the tracker's repository)",
                   arg("directory", metavar="DIR"), arg("--tag", required=True, help="e.g. gift-tracker:latest"), ENGINE)
    def build(desk, args):
        def show(line: str) -> None:
            if not args.json:
                print(escape_controls(line, keep="\t"), file=sys.stdout, flush=True)  # a build step's output

        lines: list[str] = []
        result = _catalog(desk, args).build(args.directory, args.tag, on_line=lambda line: (lines.append(line), show(line)))
        return Output({**result.to_json(), "log": lines}, f"Built {result.tag} ({result.short_id}).")

    @image.command("remove", "remove an image (refused while a container or an instance uses it, unless --force)",
                   arg("reference", metavar="IMAGE"), arg("--force", action="store_true"), ENGINE, YES)
    def remove(desk, args):
        catalog = _catalog(desk, args)
        row = catalog.find(args.reference)
        if row.in_use and not args.force:
            raise ValidationError(f"{row.reference} is used by {row.usage}; stop and delete them first, or --force.")
        confirm(args, f"Remove the image {row.reference}?")
        return _removal_output(catalog.remove([row.id], force=args.force))

    @image.command("prune", "remove images no container uses and no instance names (the default image stays)",
                   arg("--match", help="only images whose tag or id contains this text"),
                   arg("--dry-run", action="store_true", help="list what would go, remove nothing"), ENGINE, YES)
    def prune(desk, args):
        catalog = _catalog(desk, args)
        needle = (args.match or "").strip().lower()
        unused = [r for r in catalog.unused() if not needle or needle in " ".join(r.tags).lower() or needle in r.id]
        if args.dry_run or not unused:
            return Output([r.to_json() for r in unused],
                          Table(["TAGS", "ID", "SIZE"], [(", ".join(r.tags) or "<none>", r.short_id,
                                                          fmt_size(r.size_bytes)) for r in unused])
                          if unused else "No unused images.")
        confirm(args, f"Remove {len(unused)} unused image(s): {', '.join(r.reference for r in unused[:10])}"
                      f"{'…' if len(unused) > 10 else ''}?")
        return _removal_output(catalog.remove_unused([r.id for r in unused]))
