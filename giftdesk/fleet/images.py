"""Images on the fleet's engine: which containers and instances use them, removal, builds.

The images dialog and ``giftdesk image …`` use these. An image is "in use" when a container
(ours or not) was created from it, or when an instance's record names it (a stopped or missing
tracker still needs its image to start or be recreated). Removing an image in use needs
``force`` and the refusal names the instances; "unused" never includes the Settings' default
tracker image. Blocking: run off the GUI thread.
"""

from __future__ import annotations

import collections
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from giftdesk.core.errors import ConflictError, GiftDeskError, NotFoundError, ValidationError

TRACKER_PREFIX = "gift-tracker"
# Docker's reference grammar, simplified: [registry[:port]/]path[:tag] with a lowercase path.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(rf"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*(?::[\w][\w.-]{{0,127}})?$")


def normalized(reference: str) -> str:
    """``name`` means ``name:latest``, as the engine reads it."""
    last = reference.rsplit("/", 1)[-1]
    return reference if ":" in last or "@" in last else f"{reference}:latest"


def build_tag(value: object) -> str:
    """A tag the engine accepts for a build (``gift-tracker:1.4``), or a sentence why not."""
    text = str(value or "").strip()
    if not text:
        raise ValidationError("Give the image a tag, e.g. gift-tracker:latest.", field="tag")
    if len(text) > 255 or not _REFERENCE.match(text):
        raise ValidationError(f"'{text}' is not a valid image tag: lowercase letters, digits, '.', '_', '-' and '/', "
                              "then ':' and the tag (e.g. gift-tracker:1.4).", field="tag")
    return text


def build_folder(value: object) -> Path:
    """A folder holding a Dockerfile (the tracker's repository checked out)."""
    text = str(value or "").strip()
    if not text:
        raise ValidationError("Choose the folder that holds the Dockerfile.", field="directory")
    folder = Path(text).expanduser()
    if not folder.is_dir():
        raise ValidationError(f"{folder} is not a folder.", field="directory")
    if not (folder / "Dockerfile").is_file():
        raise ValidationError(f"{folder} has no Dockerfile: choose the folder of the tracker's repository "
                              "(the one with the Dockerfile in it).", field="directory")
    return folder


@dataclass(frozen=True)
class ImageRow:
    id: str
    tags: tuple[str, ...]
    size_bytes: int
    created: datetime
    containers: int = 0  # containers created from it (any state)
    running: int = 0
    instances: tuple[str, ...] = ()  # GiftDesk instances whose container or record uses it
    other_containers: int = 0  # containers of no GiftDesk instance
    is_default: bool = False  # Settings' tracker.default_image

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]

    @property
    def reference(self) -> str:
        """What to call it: the first tag, or the short id of an untagged image."""
        return self.tags[0] if self.tags else self.short_id

    @property
    def in_use(self) -> bool:
        return self.containers > 0 or bool(self.instances)

    @property
    def unused(self) -> bool:
        return not self.in_use and not self.is_default

    @property
    def is_tracker(self) -> bool:
        return any(t.startswith(TRACKER_PREFIX) for t in self.tags)

    @property
    def usage(self) -> str:
        """One sentence: who uses it (the confirmation and the refusal say it)."""
        parts = []
        if self.instances:
            parts.append(f"instance{'s' if len(self.instances) > 1 else ''} {', '.join(self.instances)}")
        others = self.other_containers
        if others > 0:
            parts.append(f"{others} other container{'s' if others > 1 else ''}")
        return " and ".join(parts)

    def to_json(self) -> dict:
        return {"id": self.id, "shortId": self.short_id, "tags": list(self.tags), "sizeBytes": self.size_bytes,
                "created": self.created, "containers": self.containers, "running": self.running,
                "instances": list(self.instances), "inUse": self.in_use, "isDefault": self.is_default}


@dataclass(frozen=True)
class Removal:
    reference: str
    outcome: str  # removed | refused | failed
    message: str = ""

    def to_json(self) -> dict:
        return {"reference": self.reference, "outcome": self.outcome, "message": self.message}


@dataclass
class BuildResult:
    tag: str
    image_id: str
    lines: int
    log_tail: list[str] = field(default_factory=list)

    @property
    def short_id(self) -> str:
        return self.image_id.removeprefix("sha256:")[:12]

    def to_json(self) -> dict:
        return {"tag": self.tag, "id": self.image_id, "lines": self.lines}


class ImageCatalog:
    """Images on an engine of ``fleet`` (a ``FleetService``): ``engine`` names it ('' the local one)."""

    def __init__(self, fleet, engine: str = ""):
        from giftdesk.fleet.engines import engine_key

        self.fleet = fleet
        self.engine = engine_key(engine)
        self.docker = fleet.docker_for(self.engine)

    # ---- reading ------------------------------------------------------------------------
    def tags(self) -> list[str]:
        """Every local tag, ``gift-tracker*`` first (the create dialog's image picker): one engine call."""
        tags = {t for image in self.docker.images_raw() for t in image.get("RepoTags") or () if t != "<none>:<none>"}
        return sorted(tags, key=lambda t: (not t.startswith(TRACKER_PREFIX), t))

    def list(self) -> list[ImageRow]:
        """Every local image with who uses it: 2 engine calls and one database read."""
        raw_images = self.docker.images_raw()
        containers = self.docker.containers_raw()
        records = [r for r in self.fleet.list() if r.engine == self.engine]
        default = normalized(str(self.fleet.settings.get("tracker.default_image") or ""))
        by_image: dict[str, list[dict]] = {}
        for container in containers:
            by_image.setdefault(container.get("ImageID", ""), []).append(container)
        container_image = {c["Id"]: c.get("ImageID", "") for c in containers}
        tag_to_id = {t: image["Id"] for image in raw_images for t in image.get("RepoTags") or ()}
        users: dict[str, set[str]] = {}
        instance_containers = {r.container_id for r in records if r.container_id}
        for record in records:
            image_id = container_image.get(record.container_id or "") or tag_to_id.get(normalized(record.image or ""))
            if image_id:
                users.setdefault(image_id, set()).add(record.name)
        rows = []
        for image in raw_images:
            tags = tuple(t for t in image.get("RepoTags") or () if t != "<none>:<none>")
            used_by = by_image.get(image["Id"], [])
            rows.append(ImageRow(
                image["Id"], tags, int(image.get("Size") or 0),
                datetime.fromtimestamp(image.get("Created") or 0, UTC),
                containers=len(used_by), running=sum(1 for c in used_by if c.get("State") == "running"),
                instances=tuple(sorted(users.get(image["Id"], ()))),
                other_containers=sum(1 for c in used_by if c["Id"] not in instance_containers),
                is_default=default in tags))
        rows.sort(key=lambda r: (not r.is_tracker, not r.tags, r.reference))
        return rows

    def find(self, reference: str, rows: list[ImageRow] | None = None) -> ImageRow:
        reference = reference.strip()
        wanted = normalized(reference)
        for row in rows if rows is not None else self.list():
            bare = row.id.removeprefix("sha256:")
            if wanted in row.tags or reference == row.id or (len(reference) >= 4 and bare.startswith(
                    reference.removeprefix("sha256:"))):
                return row
        raise NotFoundError(f"There is no image '{reference}' on the Docker engine.")

    # ---- removing -----------------------------------------------------------------------
    def remove(self, image_ids: Iterable[str], force: bool = False) -> list[Removal]:
        """Removes whole images (every tag). One in use is refused with who uses it, unless
        ``force``; the engine itself still refuses one a running container uses."""
        self.fleet.ctx.require("operator", "remove images")
        rows = self.list()
        results = []
        for image_id in image_ids:
            try:
                row = self.find(image_id, rows)
            except NotFoundError as exc:
                results.append(Removal(image_id, "failed", str(exc)))
                continue
            if row.in_use and not force:
                results.append(Removal(row.reference, "refused", f"{row.reference} is used by {row.usage}; "
                                                                  "remove it anyway only with force."))
                continue
            results.append(self._remove_row(row, force))
        return results

    def unused(self, rows: list[ImageRow] | None = None) -> list[ImageRow]:
        """Images no container uses and no instance names, the default tracker image excepted."""
        return [r for r in (rows if rows is not None else self.list()) if r.unused]

    def remove_unused(self, image_ids: Iterable[str] | None = None) -> list[Removal]:
        """Removes the unused images (only those of ``image_ids`` when given), re-checked against
        the engine now: one that became used since it was listed is kept."""
        self.fleet.ctx.require("operator", "remove images")
        wanted = set(image_ids) if image_ids is not None else None
        fresh = self.list()
        by_id = {r.id: r for r in fresh}
        results = []
        for image_id in sorted(wanted) if wanted is not None else [r.id for r in fresh]:
            row = by_id.get(image_id)
            if row is None:
                continue  # gone meanwhile: nothing to do
            if not row.unused:
                results.append(Removal(row.reference, "refused", f"{row.reference} is in use now "
                                                                  f"({row.usage or 'the default tracker image'})."))
                continue
            results.append(self._remove_row(row, force=False))
        return results

    def _remove_row(self, row: ImageRow, force: bool) -> Removal:
        # Tag by tag: removing an image by id that has several tags needs force.
        try:
            for tag in row.tags:
                self.docker.remove_image(tag, force=force)
            if not row.tags or self.docker.image_exists(row.id):
                self.docker.remove_image(row.id, force=force)
        except NotFoundError:
            pass  # gone already
        except ConflictError as exc:
            return Removal(row.reference, "refused", _engine_sentence(exc))
        except GiftDeskError as exc:
            return Removal(row.reference, "failed", str(exc))
        self._audit("image.remove", f"Removed image {row.reference}" + (" (forced)" if force else ""),
                    row.id, {"tags": list(row.tags), "forced": force, "usedBy": list(row.instances)})
        return Removal(row.reference, "removed")

    def _audit(self, action: str, summary: str, image_id: str, details: dict) -> None:
        # The engine changed, not a table: the entry stands alone in the audit log.
        ctx = self.fleet.ctx
        with ctx.db.session() as session:
            ctx.audit(session, action, summary, "image", image_id, details)

    # ---- building -----------------------------------------------------------------------
    def build(self, directory: object, tag: object, cancel: threading.Event | None = None,
              on_line: Callable[[str], None] | None = None) -> BuildResult:
        """Builds ``tag`` from a folder with a Dockerfile. The log streams to ``on_line``;
        ``cancel`` stops the engine's build (``BuildCancelled``); a failing step raises
        ``ValidationError`` with the build's own error line."""
        self.fleet.ctx.require("operator", "build images")
        folder = build_folder(directory)
        tag = build_tag(tag)
        tail: collections.deque[str] = collections.deque(maxlen=50)
        count = 0

        def line(text: str) -> None:
            nonlocal count
            count += 1
            tail.append(text)
            if on_line is not None:
                on_line(text)

        image_id = self.docker.build_image(str(folder), tag, cancel=cancel, on_line=line)
        if not image_id:  # older engines only say "Successfully built <id>"
            image_id = self.find(tag).id
        self._audit("image.build", f"Built image {tag} from {folder}", image_id, {"tag": tag, "folder": str(folder)})
        return BuildResult(tag, image_id, count, list(tail))


def _engine_sentence(exc: Exception) -> str:
    text = str(exc)
    # "Removing image x: conflict: unable to delete … (must be forced) - image is being used by …"
    return text.split(": ", 1)[1] if text.startswith("Removing image ") and ": " in text else text
