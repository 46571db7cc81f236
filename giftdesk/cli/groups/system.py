"""Top-level commands: ``giftdesk status`` and ``giftdesk serve``."""

from __future__ import annotations

import argparse

from giftdesk.cli.framework import Fields, Output, arg, whole_number
from giftdesk.core.errors import ValidationError


# Text mode speaks to people; ``--json`` keeps the camelCase keys.
STATUS_LABELS = {
    "version": "Version", "dataDir": "Data directory", "database": "Database", "schema": "Schema",
    "keyringBackend": "Keyring", "keyringWarning": "Keyring warning", "administrators": "Administrators",
    "customers": "Customers",
}


def register(cli) -> None:
    top = cli.top

    @top.command("status", "data directory, database, keyring backend, Docker engine")
    def status(desk, args):
        import giftdesk
        from giftdesk.db.migrate import current_revision
        from giftdesk.docker.state import DockerEngine

        data = {
            "version": giftdesk.__version__,
            "dataDir": str(desk.paths.root),
            "database": desk.db.display_name,
            "schema": current_revision(desk.db),
            "keyringBackend": desk.secrets.backend_name,
            "keyringWarning": desk.secrets.warning,
            "administrators": desk.admins.count(),
            "customers": len(desk.customers.list()),
        }
        engine = DockerEngine(str(desk.settings.get("docker.host") or ""))
        try:
            docker_state = engine.probe()
        finally:
            engine.close()
        docker_line = docker_state.label.removeprefix("Docker: ")
        if not docker_state.reachable:
            docker_line = f"engine unreachable ({docker_state.error})"
        runtime = _runtime(desk)
        return Output({**data, "docker": docker_state.to_json(), "runtime": runtime},
                      Fields([*((STATUS_LABELS[k], v) for k, v in data.items()), ("Docker", docker_line),
                              ("Docker host", docker_state.host or "default"), ("Runtime", _runtime_line(runtime))]))

    @top.command("serve", "run the background work without the window: the tracker endpoint, schedules and "
                          "syncs (until Ctrl+C or SIGTERM); `serve --detach` in the background, `serve stop` stops it",
                 arg("action", nargs="?", choices=["stop"], metavar="stop",
                     help="stop the giftdesk serve running on this data directory"),
                 arg("--detach", action="store_true",
                     help="run in the background (log in serve.log in the data directory); returns once it answers"),
                 arg("--host", action="append", metavar="ADDRESS",
                     help="address to listen on (repeatable; overrides --bind)"),
                 arg("--port", type=whole_number(0, 65535), help="port (default: the endpoint.port setting; 0 = any free port)"),
                 arg("--bind", choices=["local", "all"],
                     help="local: loopback and the Docker bridge; all: every interface (default: setting)"),
                 arg("--rate-limit", type=whole_number(1, 1_000_000), metavar="PER_MINUTE", help="requests per minute per API key"),
                 arg("--port-file", help="write the port to this file once listening"),
                 arg("--timeout", type=whole_number(1, 3600), metavar="SECONDS",
                     help="how long --detach waits for it to answer, and stop for it to end (default: 60 / 30)"),
                 arg("--take-over", metavar="HOST=FD,…", type=_inherited_fds, help=argparse.SUPPRESS),
                 needs_desk=False, reads_only=True)
    def serve(args):
        if args.action == "stop":
            return _serve_stop(args)
        if args.detach:
            return _serve_detached(args)
        from giftdesk.cli.framework import desk_session
        from giftdesk.core.logs import setup_logging
        from giftdesk.runtime.headless import serve as serve_runtime

        with desk_session(args, reads_only=True) as desk:
            desk.db.check_integrity()  # long-running, like the window: damage found now, not by a tracker
            setup_logging(desk.paths.logs, console=True)
            code = serve_runtime(desk, port=args.port, bind=args.bind, hosts=args.host,
                                 rate_limit_per_minute=args.rate_limit, port_file=args.port_file,
                                 inherited_fds=args.take_over, owner_wait_s=TAKE_OVER_WAIT_S if args.take_over else None)
        return Output(None, None, exit_code=code or 0)


TAKE_OVER_WAIT_S = 60.0  # a closing window stops its runtime before the serve it started can own the directory


def _inherited_fds(text: str) -> dict[str, int]:
    """``--take-over 127.0.0.1=5,172.17.0.1=6``: listening sockets a closing window passed on."""
    try:
        pairs = [item.rpartition("=") for item in text.split(",") if item]
        fds = {host: int(fd) for host, _, fd in pairs if host}
    except ValueError:
        raise argparse.ArgumentTypeError(f"not HOST=FD pairs: {text!r}") from None
    if not fds or len(fds) != len(pairs):
        raise argparse.ArgumentTypeError(f"not HOST=FD pairs: {text!r}")
    return fds


def _serve_detached(args) -> Output:
    from giftdesk.cli.framework import existing_data_dir
    from giftdesk.runtime.detached import READY_TIMEOUT_S, start_detached

    passed = []
    for host in args.host or []:
        passed += ["--host", host]
    for option, value in (("--port", args.port), ("--bind", args.bind), ("--rate-limit", args.rate_limit),
                          ("--port-file", args.port_file)):
        if value is not None:
            passed += [option, str(value)]
    from giftdesk.cli.framework import desk_session

    root = existing_data_dir(args).root
    with desk_session(args, reads_only=True):
        pass  # the database opens and is migrated here, where its errors reach the terminal
    started = start_detached(root, passed, database_url=args.database_url, timeout=args.timeout or READY_TIMEOUT_S)
    data = {"pid": started.pid, "endpoint": started.address, "log": str(started.log)}
    return Output(data, f"giftdesk serve runs in the background: pid {started.pid}, tracker endpoint on "
                        f"{started.address}; log {started.log}. `giftdesk serve stop` stops it.")


def _serve_stop(args) -> Output:
    from giftdesk.cli.framework import existing_data_dir
    from giftdesk.runtime.detached import STOP_TIMEOUT_S, stop_serve

    if args.detach:
        raise ValidationError("serve stop does not take --detach.", field="detach")
    result = stop_serve(existing_data_dir(args).root, timeout=args.timeout or STOP_TIMEOUT_S)
    return Output(result, f"Stopped giftdesk serve (pid {result['pid']}).")


def _runtime(desk) -> dict | None:
    """The background services of a window or `giftdesk serve` running on this data directory."""
    from giftdesk.runtime.ownership import endpoint_address, runtime_owned
    from giftdesk.runtime.status_file import read_runtime_status

    document = read_runtime_status(desk.paths.root)
    if document is None:
        if runtime_owned(desk.paths.root):  # the lock is taken, the owner has not described itself yet
            return {"kind": None, "serve": False, "pid": None, "since": None, "endpoint": None, "starting": True,
                    "host": None, "writtenAt": None, "services": []}
        return None
    return {"kind": document.get("kind"), "serve": document.get("kind") == "serve", "pid": document.get("pid"),
            "since": document.get("startedAt"), "endpoint": endpoint_address(document), "starting": False,
            "host": document.get("host"), "writtenAt": document.get("writtenAt"),
            "services": document.get("services") or []}


def _runtime_line(runtime: dict | None) -> str:
    from giftdesk.runtime.ownership import describe_owner

    if runtime is None:
        return "not running (no window or giftdesk serve on this data directory)"
    if runtime["starting"]:
        return "starting (a process holds the runtime lock and has not described itself yet)"
    services = ", ".join(f"{s.get('name')} {_service_state(s)}" for s in runtime["services"]) or "no services"
    owner = describe_owner({**runtime, "startedAt": runtime["since"]})
    return f"{owner}: {services}"


def _service_state(service: dict) -> str:
    """A service that runs but cannot reach the engine (the Docker monitor, the fleet watcher) says so."""
    if service.get("reachable") is False:
        return "running, engine unreachable"
    if service.get("state") == "running" and str(service.get("detail") or "").startswith("reconnecting"):
        return "running, engine unreachable (reconnecting)"
    return str(service.get("state"))
