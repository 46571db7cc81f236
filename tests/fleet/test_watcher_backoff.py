"""Without a Docker engine the fleet watcher backs off and logs the change of state only.

Driven through the watcher's own loop: ``run`` gets a stop flag whose ``wait`` records each
pause instead of sleeping, and the engine is a socket path where nothing listens.
"""

from __future__ import annotations

import logging

from giftdesk.fleet.live import FleetLive
from giftdesk.fleet.watcher import RECONNECT_FIRST_S, RECONNECT_MAX_S, FleetWatcher

ATTEMPTS = 40  # minutes at the cap; the old loop logged once per attempt


class CountingStop:
    """A stop flag for ``run``: records the pauses asked for and stops after ``attempts`` of them."""

    def __init__(self, attempts: int, between=None):
        self.pauses: list[float] = []
        self._attempts = attempts
        self._between = between

    def is_set(self) -> bool:
        return len(self.pauses) >= self._attempts

    def wait(self, seconds: float) -> bool:
        self.pauses.append(seconds)
        if self._between is not None:
            self._between(len(self.pauses))
        return self.is_set()


def _watcher(desk, tmp_path) -> FleetWatcher:
    desk.settings.update({"docker.host": f"unix://{tmp_path / 'no-engine.sock'}"})
    return FleetWatcher(desk, desk.fleet, FleetLive())


def _fleet_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "giftdesk.fleet.watcher" and r.levelno >= logging.INFO]


def test_without_an_engine_the_pauses_grow_to_the_cap_and_the_log_says_it_once(desk, tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="giftdesk.fleet.watcher")
    watcher = _watcher(desk, tmp_path)
    stop = CountingStop(ATTEMPTS)
    watcher.run(stop)
    assert stop.pauses[:3] == [RECONNECT_FIRST_S, RECONNECT_FIRST_S * 2, RECONNECT_FIRST_S * 4]
    assert stop.pauses == sorted(stop.pauses) and stop.pauses[-1] == RECONNECT_MAX_S
    assert stop.pauses.count(RECONNECT_MAX_S) > ATTEMPTS // 2
    [record] = _fleet_records(caplog)
    assert record.levelno == logging.WARNING and "no-engine.sock" in record.getMessage()
    assert watcher.failed_attempts == ATTEMPTS and watcher.live.connection == "reconnecting"


def test_the_engine_coming_back_is_logged_once_and_a_new_loss_once_more(desk, tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="giftdesk.fleet.watcher")
    watcher = _watcher(desk, tmp_path)
    watcher.run(CountingStop(10))
    watcher._engine_answered()  # what a successful connect does
    watcher.run(CountingStop(10))
    messages = [r.getMessage() for r in _fleet_records(caplog)]
    assert len(messages) == 3 and "is back (after 10 failed attempts)" in messages[1]
    assert "away" in messages[0] and "away" in messages[2]
