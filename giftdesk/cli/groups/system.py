"""Top-level commands: ``giftdesk status`` and ``giftdesk serve``."""

from __future__ import annotations

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
                          "syncs (until Ctrl+C or SIGTERM)",
                 arg("--host", action="append", metavar="ADDRESS",
                     help="address to listen on (repeatable; overrides --bind)"),
                 arg("--port", type=whole_number(0, 65535), help="port (default: the endpoint.port setting; 0 = any free port)"),
                 arg("--bind", choices=["local", "all"],
                     help="local: loopback and the Docker bridge; all: every interface (default: setting)"),
                 arg("--rate-limit", type=whole_number(1, 1_000_000), metavar="PER_MINUTE", help="requests per minute per API key"),
                 arg("--port-file", help="write the port to this file once listening"),
                 reads_only=True)
    def serve(desk, args):
        from giftdesk.core.logs import setup_logging
        from giftdesk.runtime.headless import serve as serve_runtime

        if args.port is not None and not 0 <= args.port <= 65535:
            raise ValidationError("--port must be between 0 and 65535.", field="port")
        desk.db.check_integrity()  # long-running, like the window: damage found now, not by a tracker
        setup_logging(desk.paths.logs, console=True)
        code = serve_runtime(desk, port=args.port, bind=args.bind, hosts=args.host,
                             rate_limit_per_minute=args.rate_limit, port_file=args.port_file)
        return Output(None, None, exit_code=code or 0)


def _runtime(desk) -> dict | None:
    """The background services of a window or `giftdesk serve` running on this data directory."""
    from giftdesk.runtime.status_file import read_runtime_status

    document = read_runtime_status(desk.paths.root)
    if document is None:
        return None
    return {"kind": document.get("kind"), "pid": document.get("pid"), "host": document.get("host"),
            "writtenAt": document.get("writtenAt"), "services": document.get("services") or []}


def _runtime_line(runtime: dict | None) -> str:
    if runtime is None:
        return "not running (no window or giftdesk serve on this data directory)"
    services = ", ".join(f"{s.get('name')} {_service_state(s)}" for s in runtime["services"]) or "no services"
    return f"{runtime['kind']} (pid {runtime['pid']}): {services}"


def _service_state(service: dict) -> str:
    """A service that runs but cannot reach the engine (the Docker monitor, the fleet watcher) says so."""
    if service.get("reachable") is False:
        return "running, engine unreachable"
    if service.get("state") == "running" and str(service.get("detail") or "").startswith("reconnecting"):
        return "running, engine unreachable (reconnecting)"
    return str(service.get("state"))
