"""Guards on the layering: the domain layer and the command line never load Qt."""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "giftdesk"


def non_gui_modules() -> list[str]:
    """Every module under giftdesk/ outside giftdesk/gui/ (found on disk, so new packages count too).

    Left out: ``__main__`` modules (importing one runs the program) and the Alembic scripts
    (files Alembic loads itself, not modules)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[1:2] == ("gui",) or "migrations" in parts or parts[-1] == "__main__":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


PROBE = """
import importlib, json, sys
culprits = {}
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
    qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6"))
    if qt and not culprits:
        culprits[name] = qt[:3]
print(json.dumps(culprits))
"""


def _fresh_python(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)


def test_the_module_list_is_the_whole_domain_layer():
    names = non_gui_modules()
    for expected in ("giftdesk.desk", "giftdesk.accounts.customers", "giftdesk.cli.main", "giftdesk.cli.groups.system",
                     "giftdesk.endpoint.server", "giftdesk.db.engine"):
        assert expected in names
    assert not any(n.startswith("giftdesk.gui") for n in names)


def test_importing_every_non_gui_module_never_imports_pyside6():
    result = _fresh_python("-c", PROBE, json.dumps(non_gui_modules()))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {}, "these modules load Qt: " + result.stdout


def test_no_module_outside_the_gui_names_qt():
    """Also the imports that run late (inside a function), which importing every module does not run."""
    import ast

    culprits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[1:2] == ("gui",) or "migrations" in parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            culprits += [f"{path.relative_to(ROOT)}:{node.lineno}" for name in names
                         if name.split(".")[0] in ("PySide6", "shiboken6", "qasync")]
    assert not culprits, "Qt outside giftdesk/gui/: " + ", ".join(culprits)


def test_command_line_commands_never_import_pyside6(tmp_path):
    script = (
        "import sys; from giftdesk.cli.main import main\n"
        f"for argv in (['customer', 'add', '--name', 'A'], ['--json', 'status'], ['customer', 'list'], ['--help']):\n"
        f"    try:\n        main(['--data-dir', {str(tmp_path)!r}, *argv])\n    except SystemExit:\n        pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))))"
    )
    result = _fresh_python("-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


# Where a feature came from is history, kept in one README table; the program's words never cite it.
HISTORY_MENTION = re.compile(r"\bseeds? ?[0-9]{1,3}\b(?!,[0-9])|\bissues? ?#?[0-9]+\b|(?<![\w\"'])#1[0-9]\b", re.IGNORECASE)


def _history_mentions(paths) -> list[str]:
    found = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if HISTORY_MENTION.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    return found


def test_no_design_document_or_issue_number_is_cited_in_code_help_or_messages():
    """Help texts, messages, UI strings, comments and tests say what things do, not which document
    or issue they came from."""
    sources = [p for p in sorted(PACKAGE.rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    sources += sorted((ROOT / "tests").rglob("*.py")) + sorted((ROOT / "scripts").rglob("*"))
    sources += [ROOT / "giftdesk.spec"]
    assert _history_mentions(p for p in sources if p.is_file()) == []


def test_the_readme_names_the_design_documents_in_one_table_only():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    outside = [f"README.md:{n}: {line[:100]}" for n, line in enumerate(lines, 1)
               if HISTORY_MENTION.search(line) and not line.lstrip().startswith("|")]
    assert outside == []
    rows = [n for n, line in enumerate(lines) if HISTORY_MENTION.search(line)]
    assert rows == list(range(rows[0], rows[0] + len(rows))), "one table, not several"
