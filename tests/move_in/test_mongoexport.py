"""``mongoexport`` files in every shape the tool writes are read into plain values."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from giftdesk.core.errors import ValidationError
from giftdesk.move_in.mongoexport import read_export

RELAXED = {"_id": {"$oid": "65A1B2C3D4E5F60718293A4B"}, "createdAt": {"$date": "2024-01-12T09:30:00.123Z"},
           "amount": 12.35, "count": 7, "tags": ["a", {"$oid": "65a1b2c3d4e5f60718293a4c"}]}
CANONICAL = {"_id": {"$oid": "65a1b2c3d4e5f60718293a4b"}, "createdAt": {"$date": {"$numberLong": "1705051800123"}},
             "amount": {"$numberDouble": "12.35"}, "count": {"$numberInt": "7"},
             "big": {"$numberLong": "9007199254740993"}, "price": {"$numberDecimal": "0.10"}}


def test_one_document_a_line_relaxed(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(RELAXED) + "\n\n" + json.dumps({"_id": {"$oid": "0" * 24}}) + "\n")
    first, second = read_export(path)
    assert first["_id"] == "65a1b2c3d4e5f60718293a4b"
    assert first["createdAt"] == datetime(2024, 1, 12, 9, 30, 0, 123000, tzinfo=timezone.utc)
    assert first["amount"] == Decimal("12.35") and isinstance(first["amount"], Decimal)
    assert first["count"] == 7 and first["tags"][1] == "65a1b2c3d4e5f60718293a4c"
    assert second == {"_id": "0" * 24}


def test_a_json_array_in_canonical_mode(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps([CANONICAL, CANONICAL], indent=2))
    first, _ = read_export(path)
    assert first["createdAt"] == datetime(2024, 1, 12, 9, 30, 0, 123000, tzinfo=timezone.utc)
    assert first["amount"] == Decimal("12.35") and first["count"] == 7
    assert first["big"] == 9007199254740993 and first["price"] == Decimal("0.10")


def test_a_document_with_a_dollar_field_that_is_no_wrapper_stays_as_it_is(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"config": {"$custom": 1}}))
    assert read_export(path) == [{"config": {"$custom": 1}}]


@pytest.mark.parametrize("content, says", [
    ('{"a": 1}\n{"a": \n', "line 2"),
    ('{"_id": {"$oid": "xyz"}}', "ObjectId"),
    ('[1, 2]', "JSON object"),
    ('{"d": {"$date": true}}', "not a date"),
    ('{"n": {"$numberDouble": "NaN"}}', "cannot be imported"),
])
def test_an_unreadable_export_is_one_sentence_naming_where(tmp_path, content, says):
    path = tmp_path / "c.json"
    path.write_text(content)
    with pytest.raises(ValidationError, match=says):
        read_export(path)


def test_a_missing_file_or_a_folder(tmp_path):
    with pytest.raises(ValidationError, match="does not exist"):
        read_export(tmp_path / "nope.json")
    with pytest.raises(ValidationError, match="folder"):
        read_export(tmp_path)
