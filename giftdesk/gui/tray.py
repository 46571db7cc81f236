"""Warnings from the system tray, with the status bar as the fallback where there is no tray.

``AlertNotification`` says every raised alert (``AlertRaised``: the runtime already tells each
once, and not while it is snoozed). ``LowBalanceWarning`` follows ``BalanceChanged`` and speaks once per crossing below the
threshold: every scheduled sync re-reads the balance, and a warning on each would be noise.
``BackupFailureWarning`` tells administrators that a scheduled backup failed (``BackupFailed``), and
``CompanyRequestNotice`` tells operators that a company asked through the intake form
(``CompanySubmitted``) and waits for approval.
"""

from __future__ import annotations

import inspect
import weakref

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QSystemTrayIcon

from giftdesk.alerts.events import AlertRaised
from giftdesk.fampage.events import BalanceChanged, CompanySubmitted
from giftdesk.fampage.money import format_money
from giftdesk.gui import theme
from giftdesk.system.events import BackupFailed


class TrayNotifier(QObject):
    """Shows a tray message when a tray exists; else hands the text to ``fallback`` (the status bar)."""

    def __init__(self, fallback: Callable[[str], None], parent: QObject | None = None):
        super().__init__(parent)
        # Weakly when it is a method of the window that owns this: a strong one would keep a closed
        # window alive in a reference cycle until the collector runs.
        self._fallback = weakref.WeakMethod(fallback) if inspect.ismethod(fallback) else (lambda: fallback)
        self._tray: QSystemTrayIcon | None = None
        self.shown: list[str] = []  # what was said, for tests and the log

    def notify(self, title: str, text: str, warning: bool = True) -> None:
        self.shown.append(text)
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self._tray is None:
                self._tray = QSystemTrayIcon(theme.app_icon(), self)
                self._tray.setToolTip("GiftDesk")
            self._tray.show()
            icon = QSystemTrayIcon.MessageIcon.Warning if warning else QSystemTrayIcon.MessageIcon.Information
            self._tray.showMessage(title, text, icon, 10_000)
        else:
            fallback = self._fallback()
            if fallback is not None:
                fallback(text)


class LowBalanceWarning(QObject):
    """Warns when the Fampage balance drops below the threshold, once until it rises again."""

    def __init__(self, bridge, notifier: TrayNotifier, threshold: Callable[[], object], parent: QObject | None = None):
        super().__init__(parent)
        self.notifier = notifier
        self.threshold = threshold
        self.low: bool | None = None  # unknown until the first balance
        bridge.subscribe(BalanceChanged, self.on_balance, owner=self)

    def on_balance(self, event: BalanceChanged) -> None:
        was_low, self.low = self.low, event.low
        if event.low and not was_low:
            self.notifier.notify("Fampage balance is low",
                                 f"The Fampage balance is {format_money(event.amount, event.currency)}, below "
                                 f"{format_money(self.threshold(), event.currency)}: top it up before the next "
                                 "orders.")


class BackupFailureWarning(QObject):
    """A scheduled backup failed (in this window's runtime or a ``giftdesk serve``): say so and why."""

    def __init__(self, bridge, notifier: TrayNotifier, parent: QObject | None = None):
        super().__init__(parent)
        self.notifier = notifier
        bridge.subscribe(BackupFailed, self.on_failed, owner=self)

    def on_failed(self, event: BackupFailed) -> None:
        self.notifier.notify("Scheduled backup failed",
                             f"The scheduled backup failed: {event.error} Settings → Storage shows the last "
                             "result; “Back up now” tries again.")


class CompanyRequestNotice(QObject):
    """A company asked to be added through the intake form: it waits for an operator to approve it."""

    def __init__(self, bridge, notifier: TrayNotifier, parent: QObject | None = None):
        super().__init__(parent)
        self.notifier = notifier
        bridge.subscribe(CompanySubmitted, self.on_submitted, owner=self)

    def on_submitted(self, event: CompanySubmitted) -> None:
        self.notifier.notify("Company waiting for approval",
                             f"{event.name} asked to be added through the intake form. Approve or reject it in "
                             "Fampage Orders → Companies.", warning=False)


class AlertNotification(QObject):
    """Shows each alert the runtime raises from the tray (the status bar where there is no tray)."""

    def __init__(self, bridge, notifier: TrayNotifier, parent: QObject | None = None):
        super().__init__(parent)
        self.notifier = notifier
        bridge.subscribe(AlertRaised, self.on_alert, owner=self)

    def on_alert(self, event: AlertRaised) -> None:
        self.notifier.notify(f"Alert: {event.rule_name}", event.message)
