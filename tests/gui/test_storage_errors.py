"""A damaged database and a full disk as the window shows them: one sentence, no traceback."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap

from giftdesk.desk import Desk
from giftdesk.core.errors import DiskFullError
from giftdesk.gui.errors import ErrorRoute
from tests.test_damaged_database import damage_table


def test_the_window_on_a_damaged_database_says_so_in_a_dialog_and_exits_1(tmp_path):
    data_dir = tmp_path / "data"
    Desk.open(str(data_dir)).close()
    damage_table(data_dir / "giftdesk.db", "instance_logs")  # no query at start-up reads it
    script = textwrap.dedent("""
        import sys
        from PySide6.QtWidgets import QMessageBox
        from giftdesk.gui import app as gui_app

        def critical(parent, title, text, *rest):
            print("dialog:", text.replace("\\n", " "), flush=True)

        QMessageBox.critical = critical
        sys.exit(gui_app.run(sys.argv[1]))
    """)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "GIFTDESK_KEYRING": "file"}
    done = subprocess.run([sys.executable, "-c", script, str(data_dir)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert f"The database {data_dir / 'giftdesk.db'} is damaged (" in done.stdout
    assert "Restore a backup with `giftdesk backup restore FILE`." in done.stdout
    assert "Traceback" not in done.stderr
    assert "Traceback" not in (data_dir / "logs" / "giftdesk.log").read_text()


def test_a_full_disk_reaching_the_error_route_as_an_os_error_names_the_disk(errors, tmp_path):
    target = tmp_path / "exports" / "profiles.csv"
    ErrorRoute.report(OSError(errno.ENOSPC, "No space left on device", str(target)))
    assert len(errors) == 1 and isinstance(errors[0], DiskFullError)
    assert str(errors[0]) == f"The disk holding {target.parent} is full: free some space, then try again."
