"""A fake Fampage panel: the SMM "API v2" over real HTTP on 127.0.0.1, with Fampage's quirks.

What it does like the real panel (see /work/shared/reference/smm-api-v2.md):
- ``key``/``action``/parameters in the query string of a POST with an empty body (Fampage's own
  samples) or form-encoded in the body; both are merged, the body winning.
- JSON bodies whatever the Content-Type (``text/html`` on every other answer by default).
- numbers and ids as strings or numbers (``numbers_as_strings``), ``start_count`` as an int 0,
  prices in INR.
- errors ``{"error": …}`` with HTTP 200 or a 4xx (``error_http_status``).
- multi-status with bare-string errors per id (``bare_string_errors``) or ``{"error": …}`` objects.
- single ``cancel`` → ``{"ok": "true"}``; multi cancel/refill forms (switchable off to test fallback).
- ``refill_status`` single and multi.
- slow answers (``delay``) and time-outs (``hang(action, seconds)``), insufficient funds,
  duplicate and invalid links, quantities outside min/max.
Tests move orders through statuses with ``set_status``; every request is kept in ``requests``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.support.served import Served

API_KEY = "fake-fampage-key"

DEFAULT_SERVICES = [
    {"service": 101, "name": "TikTok Followers [Real]", "type": "Default", "category": "TikTok : Followers",
     "rate": "0.90", "min": "50", "max": "10000", "refill": True, "cancel": True, "dripfeed": False},
    {"service": 102, "name": "Tiktok Likes", "type": "Default", "category": "Tiktok: Likes",
     "rate": "18.7234", "min": 10, "max": 50000, "refill": False, "cancel": True, "dripfeed": True},
    {"service": 103, "name": "TikTok Views Package", "type": "Package", "category": "TIKTOK : Views",
     "rate": "49.50", "min": "1000", "max": "1000", "refill": False, "cancel": False, "dripfeed": False},
    {"service": 104, "name": "Instagram Comments [Custom]", "type": "Custom Comments",
     "category": "Instagram : Comments", "rate": "120", "min": "1", "max": "100", "refill": "0", "cancel": "1",
     "dripfeed": "0"},
    {"service": 105, "name": "Instagram Followers Monthly", "type": "Package Regular",
     "category": "instagram: Followers", "rate": "300.00", "min": "500", "max": "2000", "refill": 1,
     "cancel": 0, "dripfeed": 0},
    {"service": 106, "name": "YouTube Views - TikTok style", "type": "Default", "category": "YouTube : Views",
     "rate": "2.5", "min": "100", "max": "1000000", "refill": False, "cancel": False, "dripfeed": True},
]

PACKAGE_TYPES = ("Package", "Package Regular")
OPEN_STATUSES = ("Pending", "In progress", "Processing", "Awaiting")


@dataclass
class FakeOrder:
    id: int
    service: int
    link: str
    quantity: int
    charge: Decimal
    status: str = "Pending"
    start_count: int = 0
    remains: int = 0
    params: dict = field(default_factory=dict)


@dataclass
class Recorded:
    method: str
    action: str
    params: dict
    in_query: bool
    content_type: str


class FakeFampage(Served):
    def __init__(self, api_key: str = API_KEY, balance: str = "5000.00", currency: str = "INR"):
        self.api_key = api_key
        self.balance = Decimal(balance)
        self.currency = currency
        self.services = [dict(s) for s in DEFAULT_SERVICES]
        self.orders: dict[int, FakeOrder] = {}
        self.refills: dict[int, dict] = {}
        self.requests: list[Recorded] = []
        self.delay = 0.0  # seconds before every answer
        self.numbers_as_strings = True
        self.bare_string_errors = True  # Fampage's doc variant in multi-status
        self.error_http_status = 200  # 200 or a 4xx for {"error": …}
        self.multi_cancel = True
        self.multi_refill = True
        self.html_content_type = True  # every other answer says text/html
        self._hangs: dict[str, list[float]] = {}
        self._fail_next: dict[str, list[tuple[int, str]]] = {}
        self._next_order = 23500
        self._next_refill = 900
        self._lock = threading.Lock()
        self._answers = 0
        # Concurrency, proved by counting instead of timing: ``gate(n)`` holds every answer until
        # n requests are being answered at once (or ``gate_seconds`` passed); ``max_in_flight``.
        self._in_flight = 0
        self.max_in_flight = 0
        self._gate = 0
        self._gate_action = ""
        self.gate_seconds = 5.0
        self._gate_changed = threading.Condition(self._lock)

    # --- control from tests -------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._address()
        return f"http://{host}:{port}/api/v2"

    def start(self) -> "FakeFampage":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 1 << 16  # headers and body in one write (else delayed ACKs add ~40 ms)

            def do_POST(self):  # noqa: N802
                fake._handle(self)

            def do_GET(self):  # noqa: N802
                fake._handle(self)

            def log_message(self, *args):
                pass

        return self._serve(Handler, queue=256, poll_interval=0.05)

    def hang(self, action: str, seconds: float, times: int = 1) -> None:
        """The next ``times`` calls of ``action`` answer only after ``seconds`` (a client time-out)."""
        with self._lock:
            self._hangs.setdefault(action, []).extend([seconds] * times)

    def gate(self, in_flight: int, action: str) -> None:
        """Every answer to ``action`` waits until ``in_flight`` of them are open at once (0: no gate)."""
        with self._lock:
            self._gate, self._gate_action = in_flight, action
            self.max_in_flight = 0

    def _wait_at_gate(self, action: str) -> bool:
        """True when this request was counted (it must then ``_leave_gate``)."""
        with self._gate_changed:
            if action != self._gate_action:
                return False
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            self._gate_changed.notify_all()
            # Once that many were open together the gate stays open: the first to leave must not
            # shut it on the ones still waking up.
            self._gate_changed.wait_for(lambda: self.max_in_flight >= self._gate, timeout=self.gate_seconds)
            return True

    def _leave_gate(self) -> None:
        with self._gate_changed:
            self._in_flight -= 1

    def fail_next(self, action: str, http_status: int, body: str = "", times: int = 1) -> None:
        """The next calls of ``action`` answer ``http_status`` with ``body`` (e.g. 502 and HTML)."""
        with self._lock:
            self._fail_next.setdefault(action, []).extend([(http_status, body)] * times)

    def set_status(self, order_id: int, status: str, remains: int | None = None, start_count: int | None = None):
        with self._lock:
            order = self.orders[order_id]
            order.status = status
            if remains is not None:
                order.remains = remains
            if start_count is not None:
                order.start_count = start_count
            if status in ("Partial", "Canceled") and order.remains > 0:
                self.balance += (order.charge * order.remains / order.quantity)

    def set_rate(self, service_id: int, rate: str) -> None:
        for service in self.services:
            if int(service["service"]) == service_id:
                service["rate"] = rate

    def add_orders_directly(self, count: int, service: int = 101, quantity: int = 100) -> list[int]:
        """Orders placed elsewhere (for syncing thousands without placing them one by one)."""
        ids = []
        with self._lock:
            for i in range(count):
                self._next_order += 1
                oid = self._next_order
                self.orders[oid] = FakeOrder(oid, service, f"https://tiktok.com/@bulk{oid}", quantity,
                                             Decimal("0.09"), "In progress", 0, quantity)
                ids.append(oid)
        return ids

    def action_counts(self) -> Counter:
        return Counter(r.action for r in self.requests)

    # --- the protocol -----------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        content_type = handler.headers.get("Content-Type", "")
        body = {}
        if raw and "application/x-www-form-urlencoded" in content_type:
            body = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        params = {**query, **body}
        action = params.get("action", "")
        with self._lock:
            self.requests.append(Recorded(handler.command, action, {k: v for k, v in params.items() if k != "key"},
                                          "action" in query, content_type))
            hang = self._hangs.get(action, [None]).pop(0) if self._hangs.get(action) else None
            failure = self._fail_next.get(action, [None]).pop(0) if self._fail_next.get(action) else None
        # Order placement happens before a hang: a timed-out add may still have created the order.
        status, payload = (200, None)
        if failure is None:
            status, payload = self._answer(action, params)
        counted = self._wait_at_gate(action)
        try:
            if hang:
                time.sleep(hang)
            elif self.delay:
                time.sleep(self.delay)
            if failure is not None:
                self._send(handler, failure[0], failure[1].encode(), "text/html")
                return
            self._send(handler, status, json.dumps(payload, default=str).encode(), None)
        finally:
            if counted:
                self._leave_gate()

    def _send(self, handler, status: int, data: bytes, content_type: str | None) -> None:
        with self._lock:
            self._answers += 1
            html = self.html_content_type and self._answers % 2 == 0
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type or ("text/html; charset=UTF-8" if html
                                                                 else "application/json"))
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (time-out): as a real server, carry on

    def _error(self, text: str) -> tuple[int, dict]:
        return self.error_http_status, {"error": text}

    def _num(self, value):
        if value is None:
            return None
        return str(value) if self.numbers_as_strings else (int(value) if isinstance(value, int) else float(value))

    def _answer(self, action: str, p: dict) -> tuple[int, object]:
        if p.get("key") != self.api_key:
            return self._error("Invalid API key")
        handler = getattr(self, f"_action_{action}", None)
        if handler is None:
            return self._error("Incorrect request")
        with self._lock:
            return handler(p)

    def _action_services(self, p):
        return 200, self.services

    def _action_balance(self, p):
        return 200, {"balance": str(self.balance), "currency": self.currency}

    def _service(self, sid) -> dict | None:
        for service in self.services:
            if str(service["service"]) == str(sid):
                return service
        return None

    def _action_add(self, p):
        service = self._service(p.get("service"))
        if service is None:
            return self._error("error.incorrect_service_id")
        link = p.get("link", "")
        if not link.startswith(("http://", "https://")) or "." not in link:
            return self._error("neworder.error.invalid_link")
        if service["type"] in PACKAGE_TYPES:
            quantity = int(service["min"])
            charge = Decimal(str(service["rate"]))
        else:
            if service["type"] == "Custom Comments":
                comments = [c for c in p.get("comments", "").split("\n") if c.strip()]
                quantity = len(comments)
                if "quantity" in p and int(p["quantity"]) != quantity:
                    return self._error("neworder.error.invalid_quantity")
            else:
                try:
                    quantity = int(p.get("quantity", ""))
                except ValueError:
                    return self._error("neworder.error.invalid_quantity")
            if not int(service["min"]) <= quantity <= int(service["max"]):
                return self._error("neworder.error.invalid_quantity")
            runs = int(p.get("runs") or 1)
            charge = Decimal(str(service["rate"])) * quantity * runs / 1000
        for order in self.orders.values():
            if order.link == link and order.service == int(service["service"]) and order.status in OPEN_STATUSES:
                return self._error("neworder.error.link_duplicate")
        if charge > self.balance:
            return self._error("insufficient_funds")
        self.balance -= charge
        self._next_order += 1
        oid = self._next_order
        self.orders[oid] = FakeOrder(oid, int(service["service"]), link, quantity, charge, "Pending", 0, quantity,
                                     {k: v for k, v in p.items() if k != "key"})
        return 200, {"order": oid if not self.numbers_as_strings else str(oid)}

    def _status_of(self, order: FakeOrder) -> dict:
        return {"charge": str(order.charge.quantize(Decimal("0.0001"), ROUND_HALF_UP)),
                "start_count": order.start_count,  # an int, 0 included, as Fampage sends it
                "status": order.status, "remains": self._num(order.remains), "currency": self.currency}

    def _action_status(self, p):
        if "orders" in p:
            ids = [i.strip() for i in p["orders"].split(",") if i.strip()]
            if len(ids) > 100:
                return self._error("Too many orders")
            answer = {}
            for raw in ids:
                order = self.orders.get(int(raw)) if raw.isdigit() else None
                if order is None:
                    answer[raw] = "Incorrect order ID" if self.bare_string_errors else {"error": "Incorrect order ID"}
                else:
                    answer[raw] = self._status_of(order)
            return 200, answer
        order = self.orders.get(int(p["order"])) if str(p.get("order", "")).isdigit() else None
        if order is None:
            return self._error("Incorrect order ID")
        return 200, self._status_of(order)

    def _refill_one(self, raw: str):
        order = self.orders.get(int(raw)) if raw.isdigit() else None
        if order is None:
            return {"error": "Incorrect order ID"}
        service = self._service(order.service)
        if not service or str(service["refill"]).lower() not in ("1", "true"):
            return {"error": "Refill is disabled for this service"}
        self._next_refill += 1
        self.refills[self._next_refill] = {"order": order.id, "status": "Pending"}
        return self._next_refill

    def _action_refill(self, p):
        if "orders" in p:
            if not self.multi_refill:
                return self._error("Incorrect request")
            return 200, [{"order": int(raw), "refill": self._refill_one(raw)} for raw in p["orders"].split(",")]
        result = self._refill_one(str(p.get("order", "")))
        if isinstance(result, dict):
            return self.error_http_status, result
        return 200, {"refill": result}  # Fampage: an int

    def _action_refill_status(self, p):
        if "refills" in p:
            answer = []
            for raw in p["refills"].split(","):
                refill = self.refills.get(int(raw)) if raw.isdigit() else None
                answer.append({"refill": int(raw), "status": refill["status"] if refill else
                               {"error": "Refill not found"}})
            return 200, answer
        refill = self.refills.get(int(p["refill"])) if str(p.get("refill", "")).isdigit() else None
        if refill is None:
            return self._error("Refill not found")
        return 200, {"status": refill["status"]}

    def _cancel_one(self, raw: str) -> bool | str:
        order = self.orders.get(int(raw)) if raw.isdigit() else None
        if order is None:
            return "Incorrect order ID"
        service = self._service(order.service)
        if order.status not in OPEN_STATUSES or str(service["cancel"]).lower() not in ("1", "true"):
            return False
        order.status = "Canceled"
        self.balance += order.charge * order.remains / order.quantity
        return True

    def _action_cancel(self, p):
        if "orders" in p:
            if not self.multi_cancel:
                return self._error("Incorrect request")
            answer = []
            for raw in p["orders"].split(","):
                result = self._cancel_one(raw)
                answer.append({"order": int(raw), "cancel": 1 if result is True else
                               {"error": result if isinstance(result, str) else "Cancel is not available"}})
            return 200, answer
        result = self._cancel_one(str(p.get("order", "")))
        if isinstance(result, str):
            return self._error(result)
        return 200, {"ok": "true" if result else "false"}
