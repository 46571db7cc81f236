"""``giftdesk image list|build|remove``: tracker images on the engine."""

from __future__ import annotations

import sys
from pathlib import Path

from giftdesk.cli.framework import YES, Output, Table, arg, confirm
from giftdesk.errors import ValidationError


def register(cli) -> None:
    image = cli.group("image", "Docker images for trackers")

    @image.command("list", "local images, gift-tracker ones first")
    def list_(desk, args):
        rows = desk.fleet.docker.images()
        data = [{**r, "id": r["id"], "created": r["created"]} for r in rows]
        return Output(data, Table(["TAGS", "ID", "SIZE", "IN USE", "CREATED"],
                                  [(", ".join(r["tags"]) or "<none>", r["id"].removeprefix("sha256:")[:12],
                                    f"{r['sizeBytes'] / 1048576:.1f} MB", r["inUse"], r["created"]) for r in rows]))

    @image.command("build", "build an image from a folder with a Dockerfile (the tracker's repository)",
                   arg("directory", metavar="DIR"), arg("--tag", required=True, help="e.g. gift-tracker:latest"))
    def build(desk, args):
        from giftdesk.fleet.spec import image_reference

        folder = Path(args.directory).expanduser()
        if not (folder / "Dockerfile").is_file():
            raise ValidationError(f"{folder} has no Dockerfile.", field="directory")
        tag = image_reference(args.tag)
        lines: list[str] = []

        def show(line: str) -> None:
            lines.append(line)
            if not args.json:
                print(line, file=sys.stdout, flush=True)

        image_id = desk.fleet.docker.build_image(str(folder), tag, on_line=show)
        return Output({"tag": tag, "id": image_id, "log": lines}, f"Built {tag}.")

    @image.command("remove", "remove an image (refused while a container uses it unless --force)",
                   arg("reference", metavar="IMAGE"), arg("--force", action="store_true"), YES)
    def remove(desk, args):
        in_use = [r for r in desk.fleet.docker.images() if args.reference in r["tags"] or r["id"].endswith(args.reference)]
        if in_use and in_use[0]["inUse"] and not args.force:
            raise ValidationError(f"{args.reference} is used by a container; stop and delete it first, or --force.")
        confirm(args, f"Remove the image {args.reference}?")
        desk.fleet.docker.remove_image(args.reference, force=args.force)
        return Output({"removed": args.reference}, f"Removed {args.reference}.")
