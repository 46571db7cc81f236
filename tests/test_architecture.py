"""The floor plan, checked from the imports (``scripts/import_floors.py`` draws the same graph).

``core/`` is the ground and ``db/`` stands on it; the features (accounts, social, fampage, fleet,
system) stand side by side on those two; ``docker/`` (the Docker adapter and client pool) is
infrastructure on the ground that the features may use; the runtime, the endpoint and the change feed
(``feed/``) are infrastructure the features plug into; ``desk.py`` wires the features, and the CLI and the
GUI sit on top. That no
module outside ``gui/`` loads Qt is checked in ``tests/test_guards.py``.

The lists of exceptions below are what a later slice removes: each may only shrink, and an entry
that no longer applies fails the test so that it is taken off.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "giftdesk"


def _load_floors():
    spec = importlib.util.spec_from_file_location("import_floors", ROOT / "scripts" / "import_floors.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


floors = _load_floors()
FEATURES = {"accounts", "social", "fampage", "fleet", "system", "alerts"}
GROUND = {"core", "db"}

# Imports that cross the floor plan today, each with why it is still there.
KNOWN_CROSSINGS: set[tuple[str, str]] = set()  # none left; a new one needs a reason here

MAX_LINES = 800
# Modules still to split (the list may only shrink).
TOO_LONG: set[str] = set()  # none left


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return floors.package_edges(PACKAGE)


def allowed(source: str, graph) -> set[str]:
    """What a package may import, by its floor."""
    if source == "core":
        return set()
    if source == "db":
        return {"core"}
    if source == "docker":  # infrastructure on the ground: the Docker adapter and client pool
        return {"core"}
    if source in FEATURES or source in ("endpoint", "feed"):
        return GROUND | {"docker"}
    if source == "runtime":
        return GROUND | {"endpoint", "docker"}
    if source == "desk":  # wires the features and the runtime for the front ends
        return GROUND | FEATURES | {"runtime", "endpoint", "docker", "feed"}
    if source == "move_in":  # imports what an agency runs today into several features at once
        return GROUND | FEATURES | {"docker"}
    return set(graph) - {source}  # the command line and the window: anything


def crossings(graph) -> set[tuple[str, str]]:
    return {(source, target) for source, targets in graph.items() for target in targets
            if target not in allowed(source, graph)}


def test_the_graph_sees_every_package(graph):
    assert FEATURES | GROUND | {"docker", "runtime", "endpoint", "feed", "desk", "cli", "gui"} <= set(graph)
    assert "services" not in graph


def test_core_and_db_import_no_feature_and_no_infrastructure_above_them(graph):
    assert graph["core"] == set(), "core/ imports nothing of ours: " + ", ".join(sorted(graph["core"]))
    assert graph["db"] <= {"core"}, "db/ imports only core/: " + ", ".join(sorted(graph["db"]))


def test_no_import_crosses_the_floor_plan_but_the_known_ones(graph):
    found = crossings(graph)
    new = sorted(found - KNOWN_CROSSINGS)
    where = [f"{s} -> {t}: {file}:{line}" for s, t, file, line in floors.module_edges(PACKAGE) if (s, t) in new]
    assert not new, "imports across the floor plan:\n" + "\n".join(where)


def test_the_known_crossings_are_still_there(graph):
    gone = sorted(KNOWN_CROSSINGS - crossings(graph))
    assert not gone, f"no longer crossing, take them off KNOWN_CROSSINGS: {gone}"


def test_no_cycle_between_packages(graph):
    assert floors.cycles(graph) == [], f"packages that import each other: {floors.cycles(graph)}"


def _lines(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for _ in handle)


def test_no_module_is_longer_than_the_limit_but_the_listed_ones():
    long = {str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")
            if "migrations" not in p.parts and _lines(p) > MAX_LINES}
    assert long - TOO_LONG == set(), f"over {MAX_LINES} lines, split them: {sorted(long - TOO_LONG)}"
    assert TOO_LONG - long == set(), f"short enough now, take them off TOO_LONG: {sorted(TOO_LONG - long)}"
