"""``giftdesk service``: ``giftdesk serve`` started by the operating system, at boot or at logon.

Linux: a systemd unit (a user unit in ~/.config/systemd/user, kept running after logout by
``loginctl enable-linger``; or a system unit in /etc/systemd/system running as the data
directory's owner). macOS: a launchd agent in ~/Library/LaunchAgents. Windows: a task run at
logon (schtasks). The generators are pure functions; ``install``/``uninstall``/``status`` write
the file and ask the service manager, and where there is none running (a container) they write
the file and say what to run rather than fail.

Each data directory gets its own unit, named after a hash of its path, so two consoles on one
machine can each have a backend.
"""

from __future__ import annotations

import hashlib
import os
import plistlib
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from giftdesk.core.errors import NotFoundError, ValidationError

UNIT_DIR_ENV = "GIFTDESK_UNIT_DIR"  # where install writes (tests, packagers); the service manager is then left alone
STOP_TIMEOUT_S = 30
EXIT_ALREADY_SERVED = 2  # `giftdesk serve` when another process serves the data directory: retrying cannot help


def unit_id(data_dir: Path) -> str:
    return hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:10]


def serve_command(command: list[str], data_dir: Path) -> list[str]:
    return [*command, "serve", "--data-dir", str(Path(data_dir).resolve())]


# ---- systemd ------------------------------------------------------------------------------------
def systemd_unit_name(data_dir: Path) -> str:
    return f"giftdesk-serve-{unit_id(data_dir)}.service"


def _systemd_word(word: str) -> str:
    """One ExecStart= word: specifiers (%) and variables ($) taken literally, quoted when it has blanks."""
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    if escaped and not any(c.isspace() or c in "'\";" for c in word):
        return escaped
    return f'"{escaped}"'


def _systemd_value(text: str) -> str:
    return text.replace("%", "%%").replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def systemd_unit(command: list[str], data_dir: Path, *, system: bool = False, user: str | None = None,
                 database_url: str | None = None) -> str:
    """The unit file's text: ``giftdesk serve`` for ``data_dir``, restarted when it fails."""
    data_dir = Path(data_dir).resolve()
    lines = [
        "[Unit]",
        f"Description=GiftDesk trackers' backend (giftdesk serve) for {_systemd_value(str(data_dir))}",
        "After=network-online.target docker.service",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        "ExecStart=" + " ".join(_systemd_word(word) for word in serve_command(command, data_dir)),
        "Restart=on-failure",
        "RestartSec=5",
        f"RestartPreventExitStatus={EXIT_ALREADY_SERVED}",
        "KillSignal=SIGTERM",
        f"TimeoutStopSec={STOP_TIMEOUT_S}",
        "Environment=PYTHONUNBUFFERED=1",
    ]
    if database_url:
        lines.append(f'Environment="GIFTDESK_DATABASE_URL={_systemd_value(database_url)}"')
    if system and user:
        lines.append(f"User={user}")
    lines += ["", "[Install]", f"WantedBy={'multi-user.target' if system else 'default.target'}", ""]
    return "\n".join(lines)


# ---- launchd (macOS) ----------------------------------------------------------------------------
def launchd_label(data_dir: Path) -> str:
    return f"com.giftdesk.serve.{unit_id(data_dir)}"


def launchd_plist(command: list[str], data_dir: Path, *, database_url: str | None = None) -> str:
    """A LaunchAgent: started at login, restarted when it exits with an error."""
    data_dir = Path(data_dir).resolve()
    agent: dict = {
        "Label": launchd_label(data_dir),
        "ProgramArguments": serve_command(command, data_dir),
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": 5,
        "StandardOutPath": str(data_dir / "serve.log"),
        "StandardErrorPath": str(data_dir / "serve.log"),
        "EnvironmentVariables": {"PYTHONUNBUFFERED": "1"},
    }
    if database_url:
        agent["EnvironmentVariables"]["GIFTDESK_DATABASE_URL"] = database_url
    return plistlib.dumps(agent).decode("utf-8")


# ---- Task Scheduler (Windows) -------------------------------------------------------------------
def windows_task_name(data_dir: Path) -> str:
    return f"GiftDesk serve {unit_id(data_dir)}"


def schtasks_create(command: list[str], data_dir: Path) -> list[str]:
    """The schtasks call that runs ``giftdesk serve`` at this user's logon (replacing an older task)."""
    task_line = subprocess.list2cmdline(serve_command(command, data_dir))
    return ["schtasks", "/Create", "/F", "/SC", "ONLOGON", "/RL", "LIMITED", "/TN", windows_task_name(data_dir),
            "/TR", task_line]


def schtasks_delete(data_dir: Path) -> list[str]:
    return ["schtasks", "/Delete", "/F", "/TN", windows_task_name(data_dir)]


def schtasks_query(data_dir: Path) -> list[str]:
    return ["schtasks", "/Query", "/TN", windows_task_name(data_dir)]


# ---- installing -----------------------------------------------------------------------------------
Runner = Callable[[list[str]], "subprocess.CompletedProcess[str]"]


def run_command(argv: list[str]) -> "subprocess.CompletedProcess[str]":
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(argv, 127, "", str(exc))


@dataclass
class Report:
    """What was done, and what a person still has to run (``todo``)."""

    kind: str  # systemd | launchd | schtasks
    name: str
    path: str | None
    done: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    active: bool | None = None
    enabled: bool | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "name": self.name, "path": self.path, "done": self.done, "todo": self.todo,
                "notes": self.notes, "active": self.active, "enabled": self.enabled}


def systemd_unit_dir(system: bool, unit_dir: str | None = None) -> tuple[Path, bool]:
    """(where the unit goes, whether systemctl is to be asked): an explicit place is left to the caller."""
    explicit = unit_dir or os.environ.get(UNIT_DIR_ENV)
    if explicit:
        return Path(explicit), False
    if system:
        return Path("/etc/systemd/system"), True
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "systemd" / "user", True


def systemd_running() -> bool:
    """systemctl is there and systemd is the running init (sd_booted(): /run/systemd/system exists)."""
    return shutil.which("systemctl") is not None and Path("/run/systemd/system").is_dir()


def _systemctl(system: bool) -> list[str]:
    return ["systemctl"] if system else ["systemctl", "--user"]


def data_dir_owner(data_dir: Path) -> str | None:
    try:
        import pwd

        return pwd.getpwuid(Path(data_dir).stat().st_uid).pw_name
    except (ImportError, KeyError, OSError):
        return None


def install_systemd(command: list[str], data_dir: Path, *, system: bool, unit_dir: str | None = None,
                    database_url: str | None = None, run: Runner = run_command) -> Report:
    folder, ask_systemctl = systemd_unit_dir(system, unit_dir)
    name = systemd_unit_name(data_dir)
    path = folder / name
    user = data_dir_owner(data_dir)
    text = systemd_unit(command, data_dir, system=system, user=user, database_url=database_url)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if database_url:  # it may hold a password
            path.chmod(0o600)
    except PermissionError:
        raise ValidationError(f"Cannot write {path}: permission denied"
                              + (" (a system unit needs root: run it with sudo)." if system else ".")) from None
    report = Report("systemd", name, str(path), done=[f"wrote {path}"])
    systemctl = _systemctl(system)
    steps = [[*systemctl, "daemon-reload"], [*systemctl, "enable", "--now", name]]
    if not system and user:
        steps.insert(0, ["loginctl", "enable-linger", user])  # runs at boot, not only while logged in
    if not ask_systemctl:
        report.todo = [" ".join(step) for step in steps]
        report.notes.append(f"The unit was written to {folder}, which the service manager was not asked about.")
        return report
    if not systemd_running():
        report.todo = [" ".join(step) for step in steps]
        report.notes.append("systemd does not run here (no systemctl, or not the init system, as in a container): "
                            "the unit is written; on a machine with systemd run the commands above.")
        return report
    for step in steps:
        result = run(step)
        if result.returncode == 0:
            report.done.append(" ".join(step))
        elif step[0] == "loginctl":
            report.todo.append(f"sudo {' '.join(step)}")
            report.notes.append("Without lingering the user unit starts at login, not at boot: "
                                f"`sudo loginctl enable-linger {user}` changes that.")
        else:
            report.todo.append(" ".join(step))
            report.notes.append(f"`{' '.join(step)}` failed: {(result.stderr or result.stdout).strip()}")
    return report


def uninstall_systemd(data_dir: Path, *, system: bool, unit_dir: str | None = None,
                      run: Runner = run_command) -> Report:
    folder, ask_systemctl = systemd_unit_dir(system, unit_dir)
    name = systemd_unit_name(data_dir)
    path = folder / name
    if not path.exists():
        raise NotFoundError(f"No giftdesk serve unit for {Path(data_dir).resolve()} is installed ({path} does not exist).")
    report = Report("systemd", name, str(path))
    systemctl = _systemctl(system)
    managed = ask_systemctl and systemd_running()
    if managed:
        result = run([*systemctl, "disable", "--now", name])
        (report.done if result.returncode == 0 else report.todo).append(f"{' '.join(systemctl)} disable --now {name}")
    try:
        path.unlink()
    except PermissionError:
        raise ValidationError(f"Cannot remove {path}: permission denied"
                              + (" (a system unit needs root: run it with sudo)." if system else ".")) from None
    report.done.append(f"removed {path}")
    if managed:
        run([*systemctl, "daemon-reload"])
    else:  # what `systemctl enable` would have linked, so that no dangling link is left
        for wants in folder.glob("*.wants"):
            link = wants / name
            if link.is_symlink():
                link.unlink()
                report.done.append(f"removed {link}")
        report.notes.append("The service manager was not asked (systemd does not run here, or --unit-dir was given).")
    return report


def systemd_status(data_dir: Path, *, system: bool, unit_dir: str | None = None, run: Runner = run_command) -> Report:
    folder, ask_systemctl = systemd_unit_dir(system, unit_dir)
    name = systemd_unit_name(data_dir)
    path = folder / name
    report = Report("systemd", name, str(path) if path.exists() else None)
    if ask_systemctl and systemd_running() and path.exists():
        systemctl = _systemctl(system)
        report.active = run([*systemctl, "is-active", "--quiet", name]).returncode == 0
        report.enabled = run([*systemctl, "is-enabled", "--quiet", name]).returncode == 0
    elif path.exists():
        report.notes.append("systemd does not run here: whether the unit is enabled cannot be asked.")
    return report


def launch_agent_path(data_dir: Path, unit_dir: str | None = None) -> Path:
    folder = Path(unit_dir or os.environ.get(UNIT_DIR_ENV) or Path.home() / "Library" / "LaunchAgents")
    return folder / f"{launchd_label(data_dir)}.plist"


def install_launchd(command: list[str], data_dir: Path, *, unit_dir: str | None = None,
                    database_url: str | None = None, run: Runner = run_command) -> Report:
    path = launch_agent_path(data_dir, unit_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(launchd_plist(command, data_dir, database_url=database_url), encoding="utf-8")
    if database_url:
        path.chmod(0o600)
    report = Report("launchd", launchd_label(data_dir), str(path), done=[f"wrote {path}"])
    step = ["launchctl", "load", "-w", str(path)]
    if unit_dir or os.environ.get(UNIT_DIR_ENV) or shutil.which("launchctl") is None:
        report.todo.append(" ".join(step))
    elif run(step).returncode == 0:
        report.done.append(" ".join(step))
    else:
        report.todo.append(" ".join(step))
    return report


def uninstall_launchd(data_dir: Path, *, unit_dir: str | None = None, run: Runner = run_command) -> Report:
    path = launch_agent_path(data_dir, unit_dir)
    if not path.exists():
        raise NotFoundError(f"No giftdesk serve agent for {Path(data_dir).resolve()} is installed ({path} does not exist).")
    report = Report("launchd", launchd_label(data_dir), str(path))
    if shutil.which("launchctl") is not None and not (unit_dir or os.environ.get(UNIT_DIR_ENV)):
        run(["launchctl", "unload", "-w", str(path)])
        report.done.append(f"launchctl unload -w {path}")
    path.unlink()
    report.done.append(f"removed {path}")
    return report


def install_schtasks(command: list[str], data_dir: Path, *, run: Runner = run_command) -> Report:
    step = schtasks_create(command, data_dir)
    report = Report("schtasks", windows_task_name(data_dir), None)
    result = run(step)
    if result.returncode == 0:
        report.done.append(subprocess.list2cmdline(step))
    else:
        report.todo.append(subprocess.list2cmdline(step))
        report.notes.append(f"schtasks failed: {(result.stderr or result.stdout).strip()}")
    return report


def uninstall_schtasks(data_dir: Path, *, run: Runner = run_command) -> Report:
    result = run(schtasks_delete(data_dir))
    if result.returncode != 0:
        raise NotFoundError(f"No GiftDesk task for {Path(data_dir).resolve()} could be removed: "
                            f"{(result.stderr or result.stdout).strip()}")
    return Report("schtasks", windows_task_name(data_dir), None, done=[subprocess.list2cmdline(schtasks_delete(data_dir))])


def install(command: list[str], data_dir: Path, *, system: bool = False, unit_dir: str | None = None,
            database_url: str | None = None, platform: str = sys.platform) -> Report:
    if platform == "darwin":
        _no_system(system, "launchd agents")
        return install_launchd(command, data_dir, unit_dir=unit_dir, database_url=database_url)
    if platform == "win32":
        _no_system(system, "logon tasks")
        return install_schtasks(command, data_dir)
    return install_systemd(command, data_dir, system=system, unit_dir=unit_dir, database_url=database_url)


def uninstall(data_dir: Path, *, system: bool = False, unit_dir: str | None = None,
              platform: str = sys.platform) -> Report:
    if platform == "darwin":
        return uninstall_launchd(data_dir, unit_dir=unit_dir)
    if platform == "win32":
        return uninstall_schtasks(data_dir)
    return uninstall_systemd(data_dir, system=system, unit_dir=unit_dir)


def status(data_dir: Path, *, system: bool = False, unit_dir: str | None = None, platform: str = sys.platform) -> Report:
    if platform == "darwin":
        path = launch_agent_path(data_dir, unit_dir)
        return Report("launchd", launchd_label(data_dir), str(path) if path.exists() else None)
    if platform == "win32":
        installed = run_command(schtasks_query(data_dir)).returncode == 0
        return Report("schtasks", windows_task_name(data_dir), None, enabled=installed)
    return systemd_status(data_dir, system=system, unit_dir=unit_dir)


def _no_system(system: bool, what: str) -> None:
    if system:
        raise ValidationError(f"--system is for systemd; here GiftDesk installs {what} for the logged-in user.",
                              field="system")
