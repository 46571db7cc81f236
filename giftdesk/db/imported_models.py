"""Where imported records came from: the id each had in the system the agency moved in from.

One row per imported record, written in the import's transaction. Matching a document by its old
id (a MongoDB ObjectId) is what makes a second import of the same export change nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from giftdesk.db.base import Base
from giftdesk.db.types import UTCDateTime, utcnow

# What an imported record is here: a company, an order, an invoice or a social profile.
IMPORTED_KINDS = ("company", "order", "invoice", "social_profile")


class ImportedRecord(Base):
    __tablename__ = "imported_records"
    __table_args__ = (UniqueConstraint("kind", "legacy_id", name="uq_imported_records_kind_legacy_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(32), nullable=False)  # "social-scale", "hyperbuds"
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    legacy_id: Mapped[str] = mapped_column(String(64), nullable=False)
    # Our record's id. Not a foreign key: it names rows of several tables, and a record deleted
    # later must stay known as imported (a new import does not bring it back).
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
