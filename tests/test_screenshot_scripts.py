"""The fleet screenshot script names every README picture of the Instances tab and its dialogs (and
of the Move in page, which adopts running trackers)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_fleet_screenshots_write_every_fleet_picture_the_readme_shows():
    spec = importlib.util.spec_from_file_location("fleet_screenshots", ROOT / "scripts" / "fleet_screenshots.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)  # the engine part runs only under __main__
    shown = set(re.findall(r"resources/screenshots/([\w.-]+\.png)", (ROOT / "README.md").read_text()))
    # instances.png and instances-dark.png are the main window's, by giftdesk.gui.screenshots
    fleet = {n for n in shown if n.startswith(("instances-", "engine-", "images-", "move-in-"))
             and n != "instances-dark.png"}
    assert fleet and fleet <= set(script.OUTPUTS), fleet - set(script.OUTPUTS)


def test_engines_screenshots_write_every_engines_picture_the_readme_shows():
    spec = importlib.util.spec_from_file_location("engines_screenshots", ROOT / "scripts" / "engines_screenshots.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)  # the engine part runs only under __main__
    shown = set(re.findall(r"resources/screenshots/(engines[\w.-]*\.png)", (ROOT / "README.md").read_text()))
    assert "engines.png" in shown and shown <= set(script.OUTPUTS), shown - set(script.OUTPUTS)
    assert all((ROOT / "resources" / "screenshots" / name).exists() for name in shown)
