"""Which instance actions apply to a selection (no Qt, no engine)."""

from __future__ import annotations

from giftdesk.fleet.actions import Target, applicability, instance_actions

RUNNING, EXITED, MISSING = Target(1, "web-1", "running"), Target(2, "web-2", "exited"), Target(3, "web-3", "missing")


def test_a_running_instance_can_be_stopped_and_restarted_not_started():
    actions = instance_actions([RUNNING])
    assert not actions["start"].enabled and actions["start"].reason == "Nothing to start: web-1 already runs"
    assert actions["stop"].ids == [1] and actions["restart"].ids == [1]
    assert actions["connect"].enabled and actions["delete"].enabled


def test_an_exited_instance_can_be_started_only():
    actions = instance_actions([EXITED])
    assert actions["start"].ids == [2]
    assert actions["stop"].reason == "Nothing to stop: web-2 is not running"
    assert not actions["restart"].enabled and not actions["connect"].enabled


def test_a_mixed_selection_acts_on_those_an_action_applies_to_and_skips_the_others():
    start = applicability("start", [RUNNING, EXITED])
    assert start.enabled and start.ids == [2] and [t.name for t in start.skipped] == ["web-1"]
    assert start.skipped_text() == "1 skipped (web-1: already running)"
    stop = applicability("stop", [RUNNING, EXITED])
    assert stop.ids == [1] and stop.skipped_text() == "1 skipped (web-2: not running)"


def test_every_selected_instance_running_says_so():
    other = Target(4, "web-4", "running")
    assert applicability("start", [RUNNING, other]).reason == "Nothing to start: every selected instance runs"
    assert applicability("stop", [EXITED, Target(5, "web-5", "created")]).reason == \
        "Nothing to stop: no selected instance runs"


def test_a_missing_container_can_only_be_recreated_or_deleted():
    actions = instance_actions([MISSING])
    assert not actions["start"].enabled and "Recreate" in actions["start"].reason
    assert not actions["stop"].enabled
    assert actions["recreate"].ids == [3] and actions["delete"].ids == [3]


def test_nothing_selected_or_a_viewer_enables_nothing():
    assert applicability("start", []).reason == "Select one or more instances first"
    viewer = instance_actions([EXITED], may_operate=False)
    assert not any(a.enabled for a in viewer.values())
    assert viewer["start"].reason == "Viewers cannot start instances"
