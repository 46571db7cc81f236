"""The instance manager's ``settings`` table (key, value) moved onto GiftDesk's settings.

The manager kept its configuration under the names of its environment variables, which are the
variables GiftDesk's own settings read (``giftdesk.system.settings.SPECS``): the default tracker
image and the port range come over, checked exactly as the Settings dialog checks them. A value
that fails is skipped with the reason and never applied; so is one this console already has set
to something else (someone chose it here), and everything GiftDesk has no setting for. The
values of names that are not understood are never shown: such a table may hold secrets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from giftdesk.core.errors import ValidationError
from giftdesk.fleet.spec import image_reference
from giftdesk.system.settings import SPECS

UPDATE, UNCHANGED, SKIP = "update", "unchanged", "skip"
PORT_START, PORT_END, IMAGE = "tracker.port_start", "tracker.port_end", "tracker.default_image"

# Its environment variables' names, lower-case, and the shorter names it may have used besides.
_MAPPED = {spec.env.lower(): key for key, spec in SPECS.items()
           if spec.env and key in (IMAGE, PORT_START, PORT_END)}
_MAPPED |= {"docker_image": IMAGE, "tracker_image": IMAGE, "default_image": IMAGE, "port_start": PORT_START,
            "port_end": PORT_END}
_PORT_RANGES = {"port_range", "instance_port_range", "instance_ports"}
# Names the manager had that have no place here, with why.
_KEPT = {
    "backend_api_url": "this console is the trackers' backend now; each adopted instance keeps the address its "
                       "container calls",
    "docker_socket_path": "the Docker host stays as set here: the adopted containers were found on this "
                          "console's engine",
    "docker_host": "the Docker host stays as set here: the adopted containers were found on this console's engine",
}
_RANGE = re.compile(r"^\s*(\d{1,6})\s*(?:-|–|:|\.\.)\s*(\d{1,6})\s*$")


@dataclass(frozen=True)
class SettingPlan:
    """One of the manager's settings: applied to ``setting`` here (update), here already with
    that value (unchanged), or skipped with the reason."""

    name: str  # the manager's
    outcome: str
    setting: str | None = None
    value: Any = None  # as it is (or would be) stored here; never shown for a name not understood
    reason: str = ""

    def to_json(self) -> dict:
        return {"name": self.name, "setting": self.setting, "value": self.value, "outcome": self.outcome,
                "reason": self.reason or None}

    def text(self) -> str:
        if self.outcome == SKIP:
            return f"skipped: {self.reason}"
        if self.outcome == UNCHANGED:
            return f"{self.setting} is {self.value} here already"
        return f"{self.setting} = {self.value}"


def _normal(name: str) -> str:
    return re.sub(r"[\s.\-]+", "_", name.strip().lower())


def _candidates(name: str, raw: str) -> list[SettingPlan]:
    """What the manager's ``name`` stands for here, its value checked; skips say why not."""
    normal = _normal(name)
    if normal in _KEPT:
        return [SettingPlan(name, SKIP, reason=_KEPT[normal])]
    if normal in _PORT_RANGES:
        found = _RANGE.match(raw or "")
        if not found:
            return [SettingPlan(name, SKIP, reason=f"'{(raw or '')[:40]}' is not a port range like 3000-3999")]
        pairs = [(PORT_START, found.group(1)), (PORT_END, found.group(2))]
    elif normal in _MAPPED:
        pairs = [(_MAPPED[normal], raw)]
    else:
        return [SettingPlan(name, SKIP, reason="GiftDesk has no setting it stands for")]
    plans = []
    for setting, text in pairs:
        if not (text or "").strip():
            plans.append(SettingPlan(name, SKIP, setting, reason="it is empty"))
            continue
        try:
            value = SPECS[setting].check(text.strip(), f"The manager's {name}")
            if setting == IMAGE:  # the setting takes any text; a tracker needs an image it can pull
                value = image_reference(value)
        except ValidationError as exc:
            plans.append(SettingPlan(name, SKIP, setting, reason=str(exc).rstrip(".")))
            continue
        plans.append(SettingPlan(name, UPDATE, setting, value))
    return plans


def plan_settings(manager: Mapping[str, str], current: Mapping[str, Any], stored: set[str],
                  may_change: bool) -> list[SettingPlan]:
    """The manager's settings (name → text) against this console's: ``current`` every setting's
    value, ``stored`` those set here on purpose (not a default), ``may_change`` whether the person
    importing may change settings (an administrator)."""
    plans: list[SettingPlan] = []
    given: dict[str, SettingPlan] = {}
    for name in sorted(manager):
        for plan in _candidates(name, manager[name]):
            if plan.outcome == UPDATE:
                earlier = given.get(plan.setting)
                if earlier is not None:  # two of its names for one setting: the first (by name) counts
                    plan = replace(plan, outcome=SKIP, reason=f"its {earlier.name} gives {plan.setting} already"
                                   + ("" if earlier.value == plan.value else f" ({earlier.value})"))
                elif plan.value == current.get(plan.setting):
                    plan = replace(plan, outcome=UNCHANGED)
                elif plan.setting in stored:
                    plan = replace(plan, outcome=SKIP, reason=f"{plan.setting} is set here to {current[plan.setting]} "
                                                              "already; that stays (change it in Settings)")
                if plan.outcome != SKIP:
                    given.setdefault(plan.setting, plan)
            plans.append(plan)
    start = given[PORT_START].value if PORT_START in given else current.get(PORT_START)
    end = given[PORT_END].value if PORT_END in given else current.get(PORT_END)
    if isinstance(start, int) and isinstance(end, int) and start > end:
        reason = (f"its port range {start}-{end} ends before it starts" if {PORT_START, PORT_END} <= set(given)
                  else f"the first tracker port would be {start}, above the last, {end}")
        plans = [replace(p, outcome=SKIP, reason=reason) if p.outcome == UPDATE and p.setting in (PORT_START, PORT_END)
                 else p for p in plans]
    if not may_change:
        plans = [replace(p, outcome=SKIP, reason="changing settings needs an administrator") if p.outcome == UPDATE
                 else p for p in plans]
    return plans
