"""`giftdesk service`: the systemd unit (checked by systemd-analyze), the launchd agent, the logon task."""

from __future__ import annotations

import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from giftdesk.runtime import at_boot
from tests.support.cli import cli  # noqa: F401 - fixture

COMMAND = [sys.executable, "-m", "giftdesk"]


def test_the_systemd_unit_runs_serve_for_the_data_directory(tmp_path):
    data_dir = tmp_path / "my data 100%"
    data_dir.mkdir()
    unit = at_boot.systemd_unit(COMMAND, data_dir, system=True, user="gift",
                                database_url="postgresql+psycopg://u:p%40ss@db/giftdesk")
    lines = unit.splitlines()
    assert f'ExecStart={sys.executable} -m giftdesk serve --data-dir "{str(data_dir).replace("%", "%%")}"' in lines
    assert "Restart=on-failure" in lines and "RestartPreventExitStatus=2" in lines
    assert "After=network-online.target docker.service" in lines
    assert "User=gift" in lines and "WantedBy=multi-user.target" in lines
    assert 'Environment="GIFTDESK_DATABASE_URL=postgresql+psycopg://u:p%%40ss@db/giftdesk"' in lines
    user_unit = at_boot.systemd_unit(COMMAND, data_dir).splitlines()
    assert "WantedBy=default.target" in user_unit and not any(line.startswith("User=") for line in user_unit)


@pytest.mark.parametrize("system", [False, True])
def test_systemd_analyze_accepts_the_unit(tmp_path, system):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package)")
    data_dir = tmp_path / "data dir with spaces and 50% \"quotes\""
    data_dir.mkdir()
    path = tmp_path / at_boot.systemd_unit_name(data_dir)
    path.write_text(at_boot.systemd_unit(COMMAND, data_dir, system=system, user="root",
                                         database_url="sqlite:////tmp/x y.db"))
    result = subprocess.run([analyze, "verify", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    problems = [line for line in result.stderr.splitlines() if path.name in line or "ignoring" in line.lower()]
    assert problems == []


def test_the_launchd_agent_and_the_logon_task(tmp_path):
    data_dir = tmp_path / "data"
    agent = plistlib.loads(at_boot.launchd_plist(COMMAND, data_dir).encode())
    assert agent["ProgramArguments"] == [*COMMAND, "serve", "--data-dir", str(data_dir.resolve())]
    assert agent["RunAtLoad"] is True and agent["KeepAlive"] == {"SuccessfulExit": False}
    assert agent["Label"] == at_boot.launchd_label(data_dir) and agent["StandardOutPath"].endswith("serve.log")
    task = at_boot.schtasks_create([r"C:\Program Files\GiftDesk\giftdesk.exe"], Path("D:/gift data"))
    assert task[:6] == ["schtasks", "/Create", "/F", "/SC", "ONLOGON", "/RL"]
    assert task[task.index("/TN") + 1] == at_boot.windows_task_name(Path("D:/gift data"))
    assert task[-1].startswith('"C:\\Program Files\\GiftDesk\\giftdesk.exe" serve --data-dir ')
    assert at_boot.schtasks_delete(Path("D:/gift data"))[:3] == ["schtasks", "/Delete", "/F"]


def test_install_asks_systemd_to_enable_it_and_advises_lingering(tmp_path, monkeypatch):
    monkeypatch.setattr(at_boot, "systemd_running", lambda: True)
    calls = []

    def run(argv):
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 1 if argv[0] == "loginctl" else 0, "", "denied")

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    report = at_boot.install_systemd(COMMAND, data_dir, system=False, run=run)
    name = at_boot.systemd_unit_name(data_dir)
    assert Path(report.path) == tmp_path / "home" / ".config" / "systemd" / "user" / name
    assert calls[1:] == [["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", name]]
    assert calls[0][:2] == ["loginctl", "enable-linger"] and report.todo == [f"sudo {' '.join(calls[0])}"]


def test_service_install_status_uninstall_without_a_running_systemd(cli, data_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(at_boot, "systemd_running", lambda: False)
    cli("settings", "list")  # the data directory exists
    installed = cli.json("service", "install")
    unit = tmp_path / "home" / ".config" / "systemd" / "user" / at_boot.systemd_unit_name(data_dir)
    assert installed["path"] == str(unit) and unit.is_file()
    assert f"systemctl --user enable --now {unit.name}" in installed["todo"]
    assert any("systemd does not run here" in note for note in installed["notes"])
    assert cli.json("service", "status")["installed"] is True
    (unit.parent / "default.target.wants").mkdir()
    (unit.parent / "default.target.wants" / unit.name).symlink_to(unit)
    cli("service", "uninstall")
    assert not unit.exists() and not (unit.parent / "default.target.wants" / unit.name).is_symlink()
    assert cli.json("service", "status")["installed"] is False
    _, err = cli("service", "uninstall", expect=2)
    assert err.count("\n") == 1 and "is installed" in err


def test_service_install_into_a_chosen_folder(cli, data_dir, tmp_path, monkeypatch):
    cli("settings", "list")
    folder = tmp_path / "units"
    out, _ = cli("service", "install", "--system", "--unit-dir", str(folder))
    unit = folder / at_boot.systemd_unit_name(data_dir)
    assert "WantedBy=multi-user.target" in unit.read_text() and "systemctl daemon-reload" in out
    monkeypatch.setenv("GIFTDESK_UNIT_DIR", str(folder))
    assert cli.json("service", "status", "--system")["path"] == str(unit)
    cli("service", "uninstall", "--system")
    assert not unit.exists()
    _, err = cli("--data-dir", str(tmp_path / "missing"), "service", "install", expect=2)
    assert "There is no data directory" in err
