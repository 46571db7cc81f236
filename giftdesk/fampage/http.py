"""Company intake on the endpoint: ``POST /api/v1/companies`` lets a client company ask to be billed
without an account. Off unless ``endpoint.company_intake`` is on (then 404, as if not served).

What arrives is a stranger's: the body is small and bounded, validated like an operator's form, and
the company waits as "pending" (no orders, no invoices) until someone approves it in the window or
with ``giftdesk company approve``. Each client address may ask ``PER_ADDRESS`` times per
``WINDOW_S``; a filled-in honeypot field (``website``, hidden from people in a form) gets the
same answer as a real request and stores nothing, so a bot learns nothing from it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import Any

from giftdesk.core.errors import ValidationError
from giftdesk.core.routes import Refusals, Route

ROUTE = "/api/v1/companies"
MAX_BODY_BYTES = 8 * 1024
PER_ADDRESS = 5
WINDOW_S = 15 * 60.0
MAX_ADDRESSES = 10_000  # the limiter's memory is bounded too
HONEYPOT = "website"
# The body's camelCase names and the company fields they fill.
FIELDS = {"name": "name", "contactName": "contact_name", "email": "email", "phone": "phone",
          "address": "address", "taxId": "tax_id", "notes": "notes", "message": "notes"}
THANKS = "Thank you: your company waits for approval."


def _encoded(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _refusal(message: str, field: str | None = None) -> dict[str, Any]:
    return {"success": False, "message": message, **({"field": field} if field else {})}


class AddressLimiter:
    """At most ``limit`` requests per ``window`` seconds from one address (sliding window)."""

    def __init__(self, limit: int = PER_ADDRESS, window: float = WINDOW_S, clock=time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, address: str) -> int:
        """0 when the request may go on (and it is counted), else the seconds to wait."""
        now = self.clock()
        with self._lock:
            times = self._seen.setdefault(address, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                return max(1, int(times[0] + self.window - now + 0.999))
            times.append(now)
            if len(self._seen) > MAX_ADDRESSES:  # forget the addresses with nothing recent
                for stale in [a for a, t in self._seen.items() if not t or t[-1] <= now - self.window]:
                    del self._seen[stale]
            return 0


class CompanyIntake:
    def __init__(self, companies, settings, limiter: AddressLimiter | None = None):
        self.companies = companies
        self.settings = settings
        self.limiter = limiter or AddressLimiter()

    def serve(self, _principal, _parameter, body: bytes, client: str) -> tuple[int, dict[str, Any], list]:
        if not self.settings.get("endpoint.company_intake"):
            return 404, _refusal("Not found"), []
        wait = self.limiter.retry_after(client)
        if wait:
            return 429, _refusal(f"Too many requests from this address; try again in {wait} seconds."), [
                ("Retry-After", str(wait))]
        try:
            fields, trap = _fields_of(body)
        except ValidationError as exc:
            return 400, _refusal(str(exc), exc.field), []
        if trap:
            return 201, {"success": True, "message": THANKS}, []
        try:
            row = self.companies.submit(fields, client)
        except ValidationError as exc:
            return 400, _refusal(str(exc), _camel(exc.field)), []
        return 201, {"success": True, "message": THANKS,
                     "data": {"id": row.id, "name": row.name, "status": row.status}}, []


def _camel(field: str | None) -> str | None:
    reverse = {v: k for k, v in FIELDS.items() if k != "message"}
    return reverse.get(field or "", field)


def _fields_of(body: bytes) -> tuple[dict[str, Any], bool]:
    """The company's fields from a JSON body, and whether the honeypot was filled in."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ValidationError("The body must be a JSON object, e.g. {\"name\": \"Client Corp\"}.", field="body") from None
    if not isinstance(document, dict):
        raise ValidationError("The body must be a JSON object, e.g. {\"name\": \"Client Corp\"}.", field="body")
    trap = document.pop(HONEYPOT, None)
    unknown = sorted(set(document) - set(FIELDS))
    if unknown:
        raise ValidationError(f"Unknown field {unknown[0]!r}; the fields are {', '.join(sorted(FIELDS))}.",
                              field=unknown[0])
    if "notes" in document and "message" in document:
        raise ValidationError("Give notes or message, not both.", field="message")
    fields = {}
    for key, value in document.items():
        if value is not None and not isinstance(value, str):
            raise ValidationError(f"{key} must be text.", field=key)
        fields[FIELDS[key]] = value
    return fields, bool(trap)


def intake_routes(companies, settings) -> list[Route]:
    intake = CompanyIntake(companies, settings)
    refusals = Refusals(too_large=_encoded(_refusal(f"The body may be at most {MAX_BODY_BYTES} bytes.")))
    return [Route(ROUTE, work=intake.serve, max_body=MAX_BODY_BYTES, refusals=refusals, openapi=openapi_fragment)]


def openapi_fragment() -> dict[str, Any]:
    text = {"type": "string"}
    answer = {"type": "object", "properties": {"success": {"type": "boolean"}, "message": text,
                                               "field": text, "data": {"type": "object"}}}
    json_answer = {"application/json": {"schema": answer}}
    return {
        "paths": {ROUTE: {"post": {
            "summary": "Ask for a company to be billed (it waits for approval)",
            "description": "Off unless the console's setting endpoint.company_intake is on (404 otherwise). "
                           f"At most {PER_ADDRESS} requests per {int(WINDOW_S // 60)} minutes per address.",
            "tags": ["companies"],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["name"], "additionalProperties": False,
                "properties": {**{k: {"type": "string"} for k in FIELDS}, HONEYPOT: text}}}}},
            "responses": {
                "201": {"description": "Recorded as pending", "content": json_answer},
                "400": {"description": "A field is missing or wrong", "content": json_answer},
                "404": {"description": "Company intake is off", "content": json_answer},
                "405": {"$ref": "#/components/responses/MethodNotAllowed"},
                "413": {"description": "The body is too large", "content": json_answer},
                "429": {"description": "Too many requests from this address", "content": json_answer,
                        "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
            },
        }}},
        "tags": [{"name": "companies", "description": "Client companies asking to be billed"}],
    }
