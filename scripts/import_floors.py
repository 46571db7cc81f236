"""Draw the floors of giftdesk/ from its imports.

A node is a first-level package (``giftdesk/fleet/``) or a top-level module (``giftdesk/desk.py``);
an edge ``A -> B`` means some module in A imports something from B, at the top of a file or inside
a function (a deferred import is still a dependency; one under ``if TYPE_CHECKING:`` is not). A node's floor is the longest path from it
down to a node that imports nothing of ours, so floor 0 is the ground. Cycles between nodes are
printed; the floors are then computed on the graph with those cycles' back edges ignored.

    python scripts/import_floors.py [--root giftdesk] [--json]

tests/test_architecture.py uses ``package_edges`` and ``cycles`` from here.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP = "giftdesk"


def node_of(module: str) -> str | None:
    """``giftdesk.fleet.service`` -> ``fleet``; ``giftdesk.desk`` -> ``desk``; ``giftdesk`` -> None."""
    parts = module.split(".")
    if parts[0] != TOP or len(parts) < 2:
        return None
    return parts[1]


def module_name(path: Path, package_dir: Path) -> str:
    parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imported_modules(path: Path, package_dir: Path) -> list[tuple[str, int]]:
    """Absolute names of the modules a file imports (relative imports resolved), with line numbers."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module_name(path, package_dir)
    is_package = path.name == "__init__.py"
    # Imports under ``if TYPE_CHECKING:`` name a type for annotations and load nothing: not edges.
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If) and _is_type_checking(block.test)
                   for stmt in block.body for n in ast.walk(stmt)}
    out = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append((name, node.lineno))
            # "from giftdesk import paths" imports the module giftdesk.paths ("import APP_NAME" names a constant)
            if name == TOP:
                out += [(f"{TOP}.{alias.name}", node.lineno) for alias in node.names
                        if (package_dir / alias.name).is_dir() or (package_dir / f"{alias.name}.py").is_file()]
    return out


def source_files(package_dir: Path):
    for path in sorted(package_dir.rglob("*.py")):
        if "migrations" in path.relative_to(package_dir).parts:
            continue  # Alembic's scripts: files Alembic loads, not part of the floor plan
        yield path


def module_edges(package_dir: Path = ROOT / TOP) -> list[tuple[str, str, str, int]]:
    """(from node, to node, file, line) for every import that crosses from one node to another."""
    edges = []
    for path in source_files(package_dir):
        src = node_of(module_name(path, package_dir))
        if src is None:
            continue  # giftdesk/__init__.py
        for name, line in imported_modules(path, package_dir):
            dst = node_of(name)
            if dst is not None and dst != src:
                edges.append((src, dst, str(path.relative_to(package_dir.parent)), line))
    return edges


def package_edges(package_dir: Path = ROOT / TOP) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in source_files(package_dir):
        src = node_of(module_name(path, package_dir))
        if src is not None:
            graph.setdefault(src, set())
    for src, dst, _file, _line in module_edges(package_dir):
        graph[src].add(dst)
        graph.setdefault(dst, set())
    return dict(graph)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(1000, 10 * len(graph)))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def floors(graph: dict[str, set[str]]) -> dict[str, int]:
    """Longest path to a leaf; inside a cycle, edges back into the path being walked are skipped."""
    memo: dict[str, int] = {}

    def floor(v: str, path: frozenset[str]) -> int:
        if v in memo:
            return memo[v]
        below = [floor(w, path | {v}) for w in graph.get(v, ()) if w not in path and w != v]
        result = 1 + max(below) if below else 0
        if not (graph.get(v, set()) & path):
            memo[v] = result  # only cache values that no cycle cut short
        return result

    return {v: floor(v, frozenset()) for v in graph}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT / TOP, help="the package directory (default giftdesk/)")
    parser.add_argument("--json", action="store_true", help="print floors, edges and cycles as JSON")
    args = parser.parse_args(argv)
    graph = package_edges(args.root)
    level = floors(graph)
    loops = cycles(graph)
    if args.json:
        print(json.dumps({"floors": level, "edges": {k: sorted(v) for k, v in sorted(graph.items())},
                          "cycles": loops}, indent=2))
        return 0
    by_floor: dict[int, list[str]] = defaultdict(list)
    for name, n in level.items():
        by_floor[n].append(name)
    print("Floors (longest import path down to a node that imports nothing of ours):")
    for n in sorted(by_floor, reverse=True):
        print(f"  {n:2d}  {'  '.join(sorted(by_floor[n]))}")
    print("\nEdges:")
    for name in sorted(graph, key=lambda k: (-level[k], k)):
        print(f"  {name:14s} -> {', '.join(sorted(graph[name])) or '-'}")
    print("\nCycles between packages:")
    if not loops:
        print("  none")
    for loop in loops:
        print("  " + " <-> ".join(loop))
        for src, dst, file, line in module_edges(args.root):
            if src in loop and dst in loop:
                print(f"      {src} -> {dst}: {file}:{line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
