"""What the document imports share: reading fields of exported documents, the old ids that make a
second run change nothing, the plan a preview shows, and the report of rounded values.

An import reads its files, plans every document (create, link to a record we have, or skip with
the reason), then writes the plan in one transaction; the preview is the same plan, not written.
A document that cannot be imported is a ``ValidationError`` naming the file and the document, and
nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from giftdesk.core.clock import iso
from giftdesk.core.errors import ValidationError
from giftdesk.core.wording import counted
from giftdesk.db.imported_models import ImportedRecord
from giftdesk.move_in.mongoexport import read_export


@dataclass(frozen=True)
class Document:
    """One exported document and where it was: for sentences that say which one is wrong."""

    values: dict[str, Any]
    path: Path
    position: int

    @property
    def where(self) -> str:
        legacy = self.values.get("_id")
        return f"{self.path.name}, document {self.position}" + (f" ({legacy})" if isinstance(legacy, str) else "")

    def refuse(self, sentence: str, field_name: str = "file") -> ValidationError:
        return ValidationError(f"{self.where}: {sentence}", field=field_name)

    def first(self, *keys: str) -> Any:
        """The first of ``keys`` present and not null; a dotted key looks inside (``stats.remains``)."""
        for key in keys:
            value: Any = self.values
            for part in key.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value is not None:
                return value
        return None

    def legacy_id(self) -> str:
        value = self.values.get("_id")
        if not isinstance(value, str) or not value.strip():
            raise self.refuse("it has no _id; export the collection with its ids.", "_id")
        return value.strip().lower()[:64]

    def reference(self, *keys: str) -> str | None:
        """An ObjectId this document points at (``companyId``), or an embedded document's ``_id``."""
        value = self.first(*keys)
        if isinstance(value, dict):
            value = value.get("_id")
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.refuse(f"{keys[0]} is not an id.", keys[0])
        return value.strip().lower()

    def text(self, *keys: str, max_length: int = 200) -> str | None:
        value = self.first(*keys)
        if value is None:
            return None
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise self.refuse(f"{keys[0]} is not text.", keys[0])
        cleaned = value.strip()
        if len(cleaned) > max_length:
            raise self.refuse(f"{keys[0]} is longer than {max_length:,} characters.", keys[0])
        return cleaned or None

    def whole(self, *keys: str) -> int | None:
        value = self.first(*keys)
        if value is None or value == "":
            return None
        try:
            number = Decimal(str(value).strip()) if not isinstance(value, bool) else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number != number.to_integral_value():
            raise self.refuse(f"{keys[0]} must be a whole number, not {value!r}.", keys[0])
        if abs(number) > 2**63 - 1:
            raise self.refuse(f"{keys[0]} is too large ({value}).", keys[0])
        return int(number)

    def number(self, *keys: str) -> Decimal | None:
        """A number as the export wrote it (read_export keeps its decimal text exactly)."""
        value = self.first(*keys)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
            raise self.refuse(f"{keys[0]} is not a number.", keys[0])
        try:
            number = Decimal(value.strip().replace(",", "")) if isinstance(value, str) else Decimal(value)
        except InvalidOperation:
            raise self.refuse(f"{keys[0]} is not a number ({value!r}).", keys[0]) from None
        if not number.is_finite():
            raise self.refuse(f"{keys[0]} is not a finite number.", keys[0])
        return number

    def moment(self, *keys: str) -> datetime | None:
        value = self.first(*keys)
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                raise self.refuse(f"{keys[0]} is not a date ({value!r}).", keys[0]) from None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            return parsed
        raise self.refuse(f"{keys[0]} is not a date.", keys[0])

    def day(self, *keys: str) -> date | None:
        moment = self.moment(*keys)
        return None if moment is None else moment.date()


def read_documents(path: Path | str | None) -> list[Document]:
    """The documents of one export; none when no file was given."""
    if path is None:
        return []
    path = Path(path)
    return [Document(values, path, position) for position, values in enumerate(read_export(path), 1)]


def unique_ids(documents: list[Document], what: str) -> dict[str, Document]:
    found: dict[str, Document] = {}
    for document in documents:
        legacy = document.legacy_id()
        if legacy in found:
            raise document.refuse(f"the {what} {legacy} is in the export twice (also {found[legacy].where}).")
        found[legacy] = document
    return found


def imported_ids(session: Session, kind: str) -> dict[str, int]:
    """Old id → our record's id, for every record of ``kind`` imported before."""
    return dict(session.execute(select(ImportedRecord.legacy_id, ImportedRecord.record_id)
                                .where(ImportedRecord.kind == kind)).all())


def remember(session: Session, source: str, kind: str, legacy_id: str, record_id: int) -> None:
    session.add(ImportedRecord(source=source, kind=kind, legacy_id=legacy_id, record_id=record_id))


@dataclass(frozen=True)
class Rounded:
    """An amount the export held as a float, and the exact money it became."""

    kind: str
    legacy_id: str
    field: str
    exported: Decimal
    imported: Decimal

    def to_json(self) -> dict:
        return {"kind": self.kind, "legacyId": self.legacy_id, "field": self.field,
                "exported": str(self.exported), "imported": str(self.imported),
                "difference": str(self.imported - self.exported)}


def exact(value: Decimal | None, places: int, rounded: list[Rounded], kind: str, legacy_id: str,
          field_name: str, tidy=None) -> Decimal | None:
    """``value`` rounded once, half-up, to ``places`` decimals; a value that changed is reported.
    ``tidy`` writes the result as it is kept (trailing zeros dropped, say)."""
    if value is None:
        return None
    result = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if tidy is not None:
        result = tidy(result)
    if result != value:
        rounded.append(Rounded(kind, legacy_id, field_name, value, result))
    return result


@dataclass
class Step:
    """What the import does with one document."""

    kind: str
    legacy_id: str
    action: str  # "create", "link" (to a record we already have) or "skip"
    label: str
    reason: str | None = None
    record_id: int | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "legacyId": self.legacy_id, "action": self.action, "label": self.label,
                "reason": self.reason, "recordId": self.record_id}


@dataclass
class ImportReport:
    source: str
    dry_run: bool
    steps: list[Step] = field(default_factory=list)
    rounded: list[Rounded] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    finished_at: datetime | None = None

    def count(self, action: str, kind: str | None = None) -> int:
        return sum(1 for s in self.steps if s.action == action and (kind is None or s.kind == kind))

    @property
    def changes(self) -> bool:
        return any(s.action in ("create", "link") for s in self.steps)

    def summary(self, nouns: dict[str, tuple[str, str]]) -> str:
        """One sentence: what was (or would be) created, linked and skipped (``nouns``: kind → its
        singular and plural)."""
        parts = [counted(self.count("create", kind), *noun) for kind, noun in nouns.items()
                 if self.count("create", kind)]
        verb = "Would import" if self.dry_run else "Imported"
        if not self.changes:
            said = ("Nothing to import: every document was imported before"
                    if self.steps else "Nothing to import: the export has no documents")
            return f"{said}; nothing {'would change' if self.dry_run else 'was changed'}."
        text = f"{verb} {', '.join(parts) if parts else 'nothing new'}"
        linked = self.count("link")
        if linked:
            text += f", {'would link' if self.dry_run else 'linked'} {counted(linked, 'document')} to records here"
        skipped = self.count("skip")
        if skipped:
            text += f"; {counted(skipped, 'document')} skipped (imported before)"
        if self.rounded:
            text += f"; {counted(len(self.rounded), 'value')} rounded (listed)"
        return text + "."

    def to_json(self, nouns: dict[str, tuple[str, str]]) -> dict:
        return {"source": self.source, "dryRun": self.dry_run, "changed": self.changes and not self.dry_run,
                "summary": self.summary(nouns),
                "created": {kind: self.count("create", kind) for kind in nouns},
                "linked": {kind: self.count("link", kind) for kind in nouns},
                "skipped": {kind: self.count("skip", kind) for kind in nouns},
                "steps": [s.to_json() for s in self.steps], "rounded": [r.to_json() for r in self.rounded],
                "notes": list(self.notes), **self.extra, "finishedAt": iso(self.finished_at)}
