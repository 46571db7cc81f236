"""The Fampage SMM panel client ("API v2"): one POST endpoint, ``key`` + ``action`` + parameters.

Design points (smm-api-v2.md):
- Parameters go in the query string of a POST with an empty body (Fampage's own samples) unless
  ``style="form"`` asks for a form-encoded body.
- The body is parsed as JSON whatever the Content-Type and whatever the HTTP status; ``{"error": …}``
  is the failure signal (with 200 or 4xx).
- Every call has a timeout. Reads (``services``, ``status``, ``balance``, ``refill_status``) are
  retried with exponential backoff on time-outs, connection errors and 5xx; ``add`` is never
  retried: a time-out raises ``FampageTimeout`` and the caller keeps the order "unconfirmed".
  ``refill`` and ``cancel`` are not retried either (a lost answer may have been acted on).
- Every call is handed to ``log_sink`` (action, parameters without the key, HTTP status, duration,
  result or error) — the service layer writes it to the integration log table.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from giftdesk.core.errors import GiftDeskError, ServiceUnavailableError, ValidationError
from giftdesk.fampage.parse import loads, network_of, to_bool, to_decimal, to_int

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://fampage.in/api/v2"
BATCH = 100  # the panel's limit of ids per status/refill/cancel request
READ_ACTIONS = frozenset({"services", "status", "balance", "refill_status"})
PACKAGE_TYPES = ("Package", "Package Regular")
_LOGGED_RESULT_CHARS = 4000


# --- errors ---------------------------------------------------------------------------------
class FampageError(GiftDeskError):
    """Fampage said no. ``code`` is its raw error text; ``str()`` a sentence a person can act on."""

    exit_code = 2

    def __init__(self, message: str, code: str | None = None, http_status: int | None = None):
        super().__init__(message)
        self.code = code
        self.http_status = http_status


class InsufficientFunds(FampageError):
    pass


class InvalidLink(FampageError):
    pass


class DuplicateLink(FampageError):
    pass


class InvalidQuantity(FampageError):
    pass


class UnknownService(FampageError):
    pass


class BadApiKey(FampageError):
    pass


class FampageUnavailable(ServiceUnavailableError):
    """No usable answer (connection refused, 5xx, time-out) after the retries allowed.

    ``maybe_processed``: the request may have reached Fampage (a read time-out, a dropped
    connection, a 5xx from a gateway) — for ``add`` an unknown outcome, not a refusal."""

    def __init__(self, message: str, maybe_processed: bool = True):
        super().__init__(message)
        self.maybe_processed = maybe_processed


class FampageTimeout(FampageUnavailable):
    """No answer in time. For ``add`` this means: the order may or may not exist at Fampage."""


_ERRORS: list[tuple[tuple[str, ...], type[FampageError], str]] = [
    (("insufficient_funds", "not_enough_funds", "not enough funds", "insufficient"), InsufficientFunds,
     "Fampage balance is too low for this order; top up the Fampage account and try again."),
    (("link_duplicate", "duplicate"), DuplicateLink,
     "Fampage already has an active order for this link; wait until it finishes or use another link."),
    (("invalid_link", "incorrect link", "bad link"), InvalidLink,
     "Fampage rejected the link; check that it is the full public address of the post or profile."),
    (("invalid_quantity", "quantity"), InvalidQuantity,
     "Fampage rejected the quantity; check the service's minimum and maximum."),
    (("incorrect_service_id", "service"), UnknownService,
     "Fampage does not offer this service any more; refresh the services list."),
    (("invalid api key", "api key", "invalid key"), BadApiKey,
     "Fampage refused the API key; check it in Settings (Fampage API key)."),
]


def error_for(code: str, http_status: int | None = None) -> FampageError:
    low = code.lower()
    for needles, cls, sentence in _ERRORS:
        if any(n in low for n in needles):
            return cls(sentence, code, http_status)
    return FampageError(f"Fampage answered with an error: {code}", code, http_status)


# --- results --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Service:
    id: int
    name: str
    type: str
    category: str
    network: str
    rate: Decimal  # per 1000 units; for Package types the price of the whole pack
    min: int
    max: int
    refill: bool
    cancel: bool
    dripfeed: bool


@dataclass(frozen=True)
class OrderStatus:
    order_id: int
    status: str | None = None  # raw text as Fampage sent it
    charge: Decimal | None = None
    start_count: int | None = None
    remains: int | None = None
    currency: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Balance:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class RefillResult:
    order_id: int
    refill_id: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class RefillStatus:
    refill_id: int
    status: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class CancelResult:
    order_id: int
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class CallRecord:
    """One call, as the integration log keeps it."""

    action: str
    params: dict
    http_status: int | None
    duration_ms: int
    ok: bool
    result: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class NewOrder:
    """What ``add`` sends. ``comments``: one per line, the quantity is their count."""

    service: int
    link: str
    quantity: int | None = None
    service_type: str = "Default"
    comments: str | None = None
    runs: int | None = None
    interval: int | None = None

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"service": self.service, "link": self.link}
        if self.service_type in PACKAGE_TYPES:
            return params  # packages take the link only
        if self.service_type == "Custom Comments":
            lines = comment_lines(self.comments)
            params["comments"] = "\n".join(lines)
            params["quantity"] = len(lines)
        else:
            params["quantity"] = self.quantity
        if self.runs:
            params["runs"] = self.runs
            params["interval"] = self.interval
        return params


def comment_lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


# --- the client -----------------------------------------------------------------------------
class FampageClient:
    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        api_key: str,
        *,
        log_sink: Callable[[CallRecord], None] | None = None,
        style: str = "query",
        read_timeout: float = 15.0,
        add_timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        parallel: int = 4,
    ):
        if style not in ("query", "form"):
            raise ValueError("style is 'query' or 'form'")
        self.http = http
        self.base_url = base_url
        self._key = api_key
        self.log_sink = log_sink
        self.style = style
        self.read_timeout = read_timeout
        self.add_timeout = add_timeout
        self.retries = retries
        self.backoff = backoff
        self.parallel = max(1, parallel)
        self._unsupported: dict[str, str] = {}  # "cancel"/"refill" → the form the panel refused
        self._forms_lock = threading.Lock()

    @classmethod
    def standalone(cls, base_url: str, api_key: str, **kwargs) -> "FampageClient":
        """A client with its own ``httpx.Client`` (scripts, tests); close it with ``client.http.close()``."""
        return cls(httpx.Client(limits=httpx.Limits(max_connections=16)), base_url, api_key, **kwargs)

    # --- transport ------------------------------------------------------------------------
    def call(self, action: str, **params: Any) -> Any:
        """One action; returns the parsed JSON (money as Decimal) or raises a FampageError."""
        retryable = action in READ_ACTIONS
        attempts = 1 + (self.retries if retryable else 0)
        for attempt in range(attempts):
            try:
                return self._call_once(action, params)
            except FampageUnavailable:
                if attempt + 1 >= attempts:
                    raise
                time.sleep(self.backoff * (2 ** attempt))
        raise AssertionError("unreachable")

    def _call_once(self, action: str, params: dict) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        wire = {"key": self._key, "action": action, **{k: str(v) for k, v in clean.items()}}
        timeout = httpx.Timeout(self.add_timeout if action == "add" else self.read_timeout, connect=5.0)
        started = time.perf_counter()
        status: int | None = None
        try:
            if self.style == "query":
                response = self.http.post(self.base_url, params=wire, timeout=timeout)
            else:
                response = self.http.post(self.base_url, data=wire, timeout=timeout)
            status = response.status_code
            text = response.text
        except (httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ConnectError) as exc:  # never sent
            self._log(action, clean, None, started, False, error=f"{type(exc).__name__}: {exc}")
            raise FampageUnavailable(f"Cannot reach Fampage at {self.base_url}: {exc or type(exc).__name__}",
                                     maybe_processed=False) from None
        except httpx.TimeoutException as exc:
            self._log(action, clean, None, started, False, error=f"timed out ({type(exc).__name__})")
            raise FampageTimeout(f"Fampage did not answer '{action}' in time.") from None
        except httpx.HTTPError as exc:
            self._log(action, clean, None, started, False, error=f"{type(exc).__name__}: {exc}")
            raise FampageUnavailable(f"The connection to Fampage broke during '{action}': {exc}") from None
        try:
            data = loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict) and "error" in data:
            code = str(data["error"])
            self._log(action, clean, status, started, False, result=text, error=code)
            raise error_for(code, status)
        if data is None or status >= 500:
            self._log(action, clean, status, started, False, result=text,
                      error=f"HTTP {status}, not a JSON answer" if data is None else f"HTTP {status}")
            if status >= 500 or status == 429:
                raise FampageUnavailable(f"Fampage is not answering properly (HTTP {status}); try again later.")
            raise FampageError(f"Fampage answered HTTP {status} with something that is not JSON.", None, status)
        self._log(action, clean, status, started, True, result=text)
        return data

    def _log(self, action, params, status, started, ok, result=None, error=None) -> None:
        record = CallRecord(action, dict(params), status, int((time.perf_counter() - started) * 1000), ok,
                            None if result is None else result[:_LOGGED_RESULT_CHARS], error)
        if not ok:
            log.info("Fampage %s failed: %s", action, error)
        if self.log_sink is not None:
            try:
                self.log_sink(record)
            except Exception:  # the log must never break the call it records
                log.exception("Could not record a Fampage call")

    # --- actions --------------------------------------------------------------------------
    def services(self) -> list[Service]:
        data = self.call("services")
        if not isinstance(data, list):
            raise FampageError("Fampage's services answer is not a list.")
        services = []
        for item in data:
            sid, rate = to_int(item.get("service")), to_decimal(item.get("rate"))
            if sid is None or rate is None:
                log.warning("Skipping a Fampage service without id or rate: %r", item)
                continue
            category = str(item.get("category") or "")
            services.append(Service(
                sid, str(item.get("name") or f"Service {sid}"), str(item.get("type") or "Default"), category,
                network_of(category), rate, to_int(item.get("min")) or 0, to_int(item.get("max")) or 0,
                to_bool(item.get("refill", False)), to_bool(item.get("cancel", False)),
                to_bool(item.get("dripfeed", False)),
            ))
        return services

    def add(self, order: NewOrder) -> int:
        """Places an order; returns Fampage's order id. Never retried (see the module doc)."""
        data = self.call("add", **order.params())
        order_id = to_int(data.get("order")) if isinstance(data, dict) else None
        if order_id is None:
            raise FampageError(f"Fampage's answer to the order has no order id: {str(data)[:200]}")
        return order_id

    def status(self, order_id: int) -> OrderStatus:
        return _order_status(order_id, self.call("status", order=order_id))

    def status_many(self, order_ids: Iterable[int]) -> dict[int, OrderStatus]:
        """Statuses by batches of 100, the batches in parallel (at most ``parallel`` at a time).

        A batch that fails as a whole gives every id in it an ``error``; others are unaffected.
        """
        ids = list(dict.fromkeys(int(i) for i in order_ids))
        batches = [ids[i:i + BATCH] for i in range(0, len(ids), BATCH)]
        results: dict[int, OrderStatus] = {}

        def one_batch(batch: list[int]) -> dict[int, OrderStatus]:
            try:
                data = self.call("status", orders=",".join(map(str, batch)))
            except (FampageError, FampageUnavailable) as exc:
                return {i: OrderStatus(i, error=str(exc)) for i in batch}
            if not isinstance(data, dict):
                return {i: OrderStatus(i, error="Fampage's answer is not an object") for i in batch}
            found = {}
            for i in batch:
                item = data.get(str(i), data.get(i))
                found[i] = (OrderStatus(i, error="missing from Fampage's answer") if item is None
                            else _order_status(i, item, raise_error=False))
            return found

        if len(batches) <= 1 or self.parallel == 1:
            for batch in batches:
                results.update(one_batch(batch))
        else:
            with ThreadPoolExecutor(max_workers=min(self.parallel, len(batches)),
                                    thread_name_prefix="fampage-status") as pool:
                for part in pool.map(one_batch, batches):
                    results.update(part)
        return results

    def balance(self) -> Balance:
        data = self.call("balance")
        amount = to_decimal(data.get("balance")) if isinstance(data, dict) else None
        if amount is None:
            raise FampageError("Fampage's balance answer has no balance.")
        return Balance(amount, str(data.get("currency") or "INR").upper())

    def refill(self, order_ids: Sequence[int]) -> list[RefillResult]:
        return self._multi_or_single("refill", list(order_ids), _refill_multi, _refill_single)

    def cancel(self, order_ids: Sequence[int]) -> list[CancelResult]:
        return self._multi_or_single("cancel", list(order_ids), _cancel_multi, _cancel_single)

    def refill_status(self, refill_ids: Sequence[int]) -> list[RefillStatus]:
        ids = list(refill_ids)
        if len(ids) == 1:
            try:
                data = self.call("refill_status", refill=ids[0])
            except FampageError as exc:
                return [RefillStatus(ids[0], error=exc.code or str(exc))]
            return [RefillStatus(ids[0], status=str(data.get("status")))]
        results = []
        for start in range(0, len(ids), BATCH):
            data = self.call("refill_status", refills=",".join(map(str, ids[start:start + BATCH])))
            for item in data if isinstance(data, list) else []:
                rid, status = to_int(item.get("refill")), item.get("status")
                if isinstance(status, dict):
                    results.append(RefillStatus(rid, error=str(status.get("error"))))
                else:
                    results.append(RefillStatus(rid, status=str(status)))
        return results

    def _multi_or_single(self, action, ids, parse_multi, parse_single) -> list:
        """Multi-id form by batches of 100 when there are several ids, single form otherwise;
        falls back to the other form when the panel says it does not know this one."""
        if not ids:
            return []
        unsupported = self._unsupported.get(action)
        multi_first = len(ids) > 1 and unsupported != "multi" or unsupported == "single"
        forms = ("multi", "single") if multi_first else ("single", "multi")
        for position, form in enumerate(forms):
            try:
                if form == "multi":
                    results = []
                    for start in range(0, len(ids), BATCH):
                        batch = ids[start:start + BATCH]
                        results.extend(parse_multi(batch, self._multi(action, batch)))
                else:
                    results = [parse_single(i, self._single(action, i)) for i in ids]
            except _FormNotSupported:
                with self._forms_lock:
                    self._unsupported[action] = form
                if position == 0:
                    continue
                raise FampageError(f"Fampage supports neither form of '{action}'.") from None
            return results
        raise AssertionError("unreachable")

    def _multi(self, action: str, batch: list[int]) -> Any:
        try:
            return self.call(action, orders=",".join(map(str, batch)))
        except FampageError as exc:
            if _means_unknown_form(exc.code):
                raise _FormNotSupported() from None
            raise

    def _single(self, action: str, order_id: int) -> Any:
        try:
            return self.call(action, order=order_id)
        except FampageError as exc:
            if _means_unknown_form(exc.code):
                raise _FormNotSupported() from None
            return {"error": exc.code or str(exc)}


class _FormNotSupported(Exception):
    pass


def _means_unknown_form(code: str | None) -> bool:
    return (code or "").strip().lower() in ("incorrect request", "unknown action", "bad request", "invalid action")


def _order_status(order_id: int, item: Any, raise_error: bool = True) -> OrderStatus:
    if isinstance(item, str):  # Fampage's bare-string error per id in multi-status
        return OrderStatus(order_id, error=item)
    if not isinstance(item, dict):
        return OrderStatus(order_id, error=f"unexpected answer {str(item)[:100]}")
    if "error" in item:
        if raise_error:
            raise error_for(str(item["error"]))
        return OrderStatus(order_id, error=str(item["error"]))
    return OrderStatus(
        order_id, status=None if item.get("status") is None else str(item["status"]),
        charge=to_decimal(item.get("charge")), start_count=to_int(item.get("start_count")),
        remains=to_int(item.get("remains")),
        currency=None if item.get("currency") is None else str(item["currency"]).upper(),
    )


def _list_or_unsupported(data: Any) -> list:
    if not isinstance(data, list):
        raise FampageError(f"Fampage's answer is not a list: {str(data)[:200]}")
    return data


def _refill_multi(batch: list[int], data: Any) -> list[RefillResult]:
    by_id = {to_int(item.get("order")): item.get("refill") for item in _list_or_unsupported(data)}
    results = []
    for oid in batch:
        value = by_id.get(oid)
        if isinstance(value, dict):
            results.append(RefillResult(oid, error=str(value.get("error"))))
        elif to_int(value) is not None:
            results.append(RefillResult(oid, refill_id=to_int(value)))
        else:
            results.append(RefillResult(oid, error="missing from Fampage's answer"))
    return results


def _refill_single(order_id: int, data: Any) -> RefillResult:
    if isinstance(data, dict) and "error" in data:
        return RefillResult(order_id, error=str(data["error"]))
    refill_id = to_int(data.get("refill")) if isinstance(data, dict) else None
    return RefillResult(order_id, refill_id=refill_id, error=None if refill_id is not None else "no refill id")


def _cancel_multi(batch: list[int], data: Any) -> list[CancelResult]:
    by_id = {to_int(item.get("order")): item.get("cancel") for item in _list_or_unsupported(data)}
    results = []
    for oid in batch:
        value = by_id.get(oid)
        if isinstance(value, dict):
            results.append(CancelResult(oid, False, str(value.get("error"))))
        elif value is None:
            results.append(CancelResult(oid, False, "missing from Fampage's answer"))
        else:
            results.append(CancelResult(oid, to_bool(value), None if to_bool(value) else "not cancelled"))
    return results


def _cancel_single(order_id: int, data: Any) -> CancelResult:
    if isinstance(data, dict) and "error" in data:
        return CancelResult(order_id, False, str(data["error"]))
    ok = to_bool(data.get("ok")) if isinstance(data, dict) else False
    return CancelResult(order_id, ok, None if ok else "Fampage did not cancel the order")


def require_key(api_key: str | None) -> str:
    if not api_key:
        raise ValidationError("No Fampage API key: set it in Settings or `giftdesk settings fampage-key`, "
                              "or in FAMPAGE_API_KEY.", field="fampage_api_key")
    return api_key
