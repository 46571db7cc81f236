"""Words in the window: the tracker environment dialog says what a container really gets."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from giftdesk.gui.accounts.api_keys_tab import TrackerEnvironmentDialog


def test_the_tracker_environment_dialog_names_every_variable_a_container_gets(qtbot):
    env = {"API_KEY": "k" * 36, "ACCOUNT_ID": "7", "TIKTOK_USERNAME": "ann",
           "BACKEND_API_URL": "http://127.0.0.1:8000/api/instances"}
    dialog = TrackerEnvironmentDialog("@ann", env)
    qtbot.addWidget(dialog)
    said = " ".join(label.text() for label in dialog.findChildren(QLabel)) + dialog.env_text(False)
    assert "exactly" not in said
    for name in ("API_KEY", "ACCOUNT_ID", "TIKTOK_USERNAME", "BACKEND_API_URL", "PORT", "DASH_PASSWORD",
                 "DEBUG_MODE", "NODE_ENV"):
        assert name in said
