"""Reading ``mongoexport`` files without a MongoDB driver.

``mongoexport`` writes Extended JSON (v2, relaxed by default, canonical with ``--jsonFormat
canonical``; older tools wrote v1 "strict" mode), either one document a line or, with
``--jsonArray``, one array. Both shapes and every mode are read here into plain Python values:
``{"$oid": ...}`` becomes the 24-hex string, dates become aware UTC datetimes, numbers wrapped
as ``$numberInt``/``$numberLong`` become ints and ``$numberDouble``/``$numberDecimal`` become
``Decimal`` (money must not pass through a float; a plain JSON number with a fraction is read as
``Decimal`` too, for the same reason). Anything unreadable is a ``ValidationError`` naming the file
and line.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from giftdesk.core.errors import ValidationError

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MAX_FILE_BYTES = 2 * 1024**3  # a sanity bound: exports of an agency's data are megabytes


def read_export(path: str | Path) -> list[dict[str, Any]]:
    """Every document in the export at ``path`` (one a line, or a ``--jsonArray`` array)."""
    return list(iter_export(path))


def iter_export(path: str | Path) -> Iterator[dict[str, Any]]:
    path = Path(path)
    try:
        if path.is_dir():
            raise ValidationError(f"{path} is a folder; give the file mongoexport wrote.", field="file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ValidationError(f"{path} is larger than 2 GB; export the collection in parts.", field="file")
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ValidationError(f"{path} does not exist.", field="file") from None
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path} is not UTF-8 text (byte {exc.start}).", field="file") from None
    except OSError as exc:
        raise ValidationError(f"{path} cannot be read: {exc.strerror or exc}.", field="file") from None
    stripped = text.lstrip()
    if stripped.startswith("["):
        documents = _loads(stripped, path, 1)
        if not isinstance(documents, list):
            raise ValidationError(f"{path}: expected an array of documents.", field="file")
        for number, document in enumerate(documents, 1):
            yield _document(document, path, f"document {number}")
        return
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield _document(_loads(line, path, number), path, f"line {number}")


def _loads(text: str, path: Path, line: int) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        where = f"line {line + exc.lineno - 1}" if line > 1 or exc.lineno > 1 else "line 1"
        raise ValidationError(f"{path}, {where}: not JSON ({exc.msg}).", field="file") from None
    except RecursionError:
        raise ValidationError(f"{path}, line {line}: nested too deeply.", field="file") from None


def _document(value: Any, path: Path, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(f"{path}, {where}: a document must be a JSON object.", field="file")
    try:
        return decode(value)
    except (ValueError, TypeError, InvalidOperation, OverflowError) as exc:
        raise ValidationError(f"{path}, {where}: {exc}", field="file") from None


def decode(value: Any) -> Any:
    """Extended JSON (any mode) to plain values; raises ValueError on a malformed wrapper."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1 or (len(value) == 2 and "$options" in value):
        (key, inner), *_ = value.items()
        if key.startswith("$"):
            decoded = _wrapper(key, inner, value)
            if decoded is not _NOT_A_WRAPPER:
                return decoded
    return {key: decode(inner) for key, inner in value.items()}


_NOT_A_WRAPPER = object()


def _wrapper(key: str, inner: Any, whole: dict) -> Any:
    if key == "$oid":
        if not (isinstance(inner, str) and len(inner) == 24 and all(c in "0123456789abcdefABCDEF" for c in inner)):
            raise ValueError(f"{inner!r} is not an ObjectId (24 hex digits)")
        return inner.lower()
    if key == "$date":
        return _date(inner)
    if key in ("$numberInt", "$numberLong"):
        return int(str(inner))
    if key in ("$numberDouble", "$numberDecimal"):
        if str(inner) in ("Infinity", "-Infinity", "NaN"):
            raise ValueError(f"{inner} cannot be imported as a number")
        return Decimal(str(inner))
    if key == "$binary":
        payload = inner.get("base64") if isinstance(inner, dict) else inner
        return base64.b64decode(str(payload), validate=True)
    if key == "$uuid":
        return str(inner).lower()
    if key == "$timestamp" and isinstance(inner, dict):
        return EPOCH + timedelta(seconds=int(inner.get("t", 0)))
    if key in ("$regularExpression", "$regex"):
        return inner.get("pattern") if isinstance(inner, dict) else inner
    if key in ("$minKey", "$maxKey", "$undefined"):
        return None
    return _NOT_A_WRAPPER


def _date(inner: Any) -> datetime:
    if isinstance(inner, dict):  # canonical: {"$numberLong": "1700000000000"}
        inner = _wrapper(*next(iter(inner.items())), inner)
    if isinstance(inner, (int, Decimal)) and not isinstance(inner, bool):
        return EPOCH + timedelta(milliseconds=int(inner))
    if isinstance(inner, str):
        text = inner.strip().replace("Z", "+00:00")
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)
    raise ValueError(f"{inner!r} is not a date")
