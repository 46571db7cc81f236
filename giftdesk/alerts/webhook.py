"""Posting an alert to a rule's webhook: JSON with a Slack-compatible ``text`` and the alert itself,
tried again after a pause when the receiver fails (time-outs, connection errors, non-2xx)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Pauses before each retry: the first try at once, then after 1 s, 5 s and 30 s.
RETRY_DELAYS_S: tuple[float, ...] = (1.0, 5.0, 30.0)


@dataclass(frozen=True)
class Delivery:
    attempts: int
    error: str | None  # None: delivered

    @property
    def delivered(self) -> bool:
        return self.error is None


def slack_body(text: str, alert: dict) -> dict:
    """Slack's incoming webhooks read ``text``; other receivers get the whole alert beside it."""
    return {"text": text, "alert": alert}


def post_with_retries(client, url: str, body: dict, delays: Sequence[float] = RETRY_DELAYS_S,
                      stop: threading.Event | None = None,
                      wait: Callable[[threading.Event, float], bool] | None = None) -> Delivery:
    """POSTs ``body`` until a 2xx answer or the retries run out. ``stop`` ends the pauses early
    (the runtime stopping); ``client`` is an ``httpx.Client``."""
    stop = stop or threading.Event()
    wait = wait or (lambda event, seconds: event.wait(seconds))
    error = None
    attempts = 0
    for pause in (0.0, *delays):
        if pause and wait(stop, pause):
            break  # stopping: what was tried so far is the outcome
        attempts += 1
        try:
            response = client.post(url, json=body)
            if 200 <= response.status_code < 300:
                return Delivery(attempts, None)
            error = f"HTTP {response.status_code} {response.reason_phrase}".strip()
        except Exception as exc:  # noqa: BLE001 - httpx's errors and a bad URL alike are this receiver's failure
            error = f"{type(exc).__name__}: {exc}"
        log.info("Alert webhook %s failed (attempt %d): %s", url, attempts, error)
    return Delivery(attempts, error or "not sent: the runtime stopped")
