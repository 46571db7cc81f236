"""``giftdesk instance …``: the tracker fleet from the command line."""

from __future__ import annotations

import json

import sys

from giftdesk.cli.framework import YES, Fields, Output, Table, arg, confirm
from giftdesk.cli.output import warn
from giftdesk.core.errors import ServiceUnavailableError, ValidationError
from giftdesk.core.printable import escape_controls
from giftdesk.fleet.log_range import parse_since
from giftdesk.fleet.operations import DELETE
from giftdesk.fleet.records import UNKNOWN_STATE

ENGINE_DOWN_WARNING = "the Docker engine does not answer: the states shown are unknown."

SETTINGS_ARGS = (
    arg("--image", help="image reference (default: Settings' tracker image)"),
    arg("--network", help="bridge (default), host, or a user-defined network"),
    arg("--publish", help="address to publish the port on: local (127.0.0.1, default), all, or an IPv4 address"),
    arg("--restart", help="restart policy: unless-stopped (default), always, on-failure, no"),
    arg("--memory", help="memory limit in MiB or with a unit (256, 1g); 0 for none"),
    arg("--cpus", help="CPU limit, e.g. 0.5; 0 for none"),
    arg("--debug", action="store_true", default=None, help="DEBUG_MODE=true"),
    arg("--no-debug", dest="debug", action="store_false", help="DEBUG_MODE=false"),
)
SCHEDULE_ARGS = (
    arg("--start-at", help="start every day at HH:MM"),
    arg("--stop-at", help="stop every day at HH:MM"),
    arg("--tz", help="time zone of the schedule, e.g. Europe/Berlin (default: this computer's)"),
)
SERVICE_ARGS = (
    arg("--service", action="store_true", help="run it as a one-replica Swarm service (the engine must be a manager)"),
    arg("--constraint", action="append", default=[], metavar="EXPR",
        help="with --service: where it may run, e.g. node.labels.zone==eu (repeatable)"),
    arg("--spread", action="append", default=[], metavar="ATTRIBUTE",
        help="with --service: Docker's spread preference over a node attribute, e.g. node.labels.zone "
             "(repeatable; it spreads one service's tasks, and each tracker is a service of its own)"),
    arg("--ingress", action="store_true",
        help="with --service: publish through the routing mesh (needs IPVS) instead of on its node"),
)
TARGETS = (arg("names", nargs="*", metavar="NAME", help="instance names or ids"),
           arg("--all", action="store_true", help="every instance"),
           arg("--concurrency", type=int, default=8, help="how many at a time on each engine (default 8)"))


def _warn_unknown(rows) -> None:
    """Which engines did not answer, when some rows' states are unknown."""
    down = sorted({r.engine or "local" for r in rows if r.state == UNKNOWN_STATE})
    if down == ["local"]:
        warn(ENGINE_DOWN_WARNING)
    elif down:
        warn(f"the Docker engine(s) {', '.join(down)} do not answer: the states of their instances are unknown.")


def _orphan_choices(short_id: str, engine: str) -> str:
    where = f" --engine {engine}" if engine else ""
    return f"--adopt {short_id} or --remove-orphan {short_id}{where}"


def _settings(args, base):
    from giftdesk.fleet import spec

    changes = {}
    if args.image is not None:
        changes["image"] = args.image
    if args.network is not None:
        changes["network"] = args.network
    if args.publish is not None:
        changes["publish_address"] = args.publish
    if args.restart is not None:
        changes["restart_policy"] = args.restart
    if args.memory is not None:
        changes["memory_limit_mb"] = spec.memory_mb(args.memory)
    if args.cpus is not None:
        changes["cpu_millis"] = spec.cpu_millis(args.cpus)
    if args.debug is not None:
        changes["debug_mode"] = args.debug
    return base.merged(**changes)


def _service_options(args):
    from giftdesk.fleet.services_mode import ServiceOptions

    if not args.service:
        if args.constraint or args.spread or args.ingress:
            raise ValidationError("--constraint, --spread and --ingress apply to a Swarm service: add --service.")
        return None
    if args.publish is not None and args.publish.strip() not in ("all", "*", "0.0.0.0"):
        raise ValidationError("A Swarm service publishes its port on every address of the node it runs on; "
                              "leave out --publish.", field="publish")
    if args.restart is not None and args.restart.strip() != "on-failure":
        raise ValidationError("A Swarm service restarts on failure; leave out --restart.", field="restart")
    return ServiceOptions(tuple(args.constraint), tuple(args.spread), args.ingress)


def _targets(desk, args) -> list:
    if args.all and args.names:
        raise ValidationError("Give instance names or --all, not both.")
    if args.all:
        return [r.id for r in desk.fleet.list()]
    if not args.names:
        raise ValidationError("Give one or more instance names, or --all.")
    return [r.id for r in desk.fleet.resolve(args.names)]


def _row_text(row, health=None, tracker=None) -> Fields:
    pairs = [("Name", row.name), ("State", row.state_label), ("Health", health),
             ("TikTok", f"@{row.tiktok_username}"), ("Account", row.account_ref or None),
             ("Customer", row.customer_name), ("Port", row.port),
             ("Local URL", row.local_url), ("Public URL", row.public_url), ("Image", row.image),
             ("Network", row.network), ("Published on", row.publish_address if row.network != "host" else "-"),
             ("Restart policy", row.restart_policy),
             ("Memory limit", f"{row.memory_limit_mb} MiB" if row.memory_limit_mb else "none"),
             ("CPU limit", f"{row.cpu_millis / 1000:g} CPUs" if row.cpu_millis else "none"),
             ("Debug", row.debug_mode), ("Backend", row.backend_api_url),
             ("Schedule", _schedule(row)), ("Container", (row.container_id or "-")[:12]),
             ("Last started", row.last_started_at), ("Last stopped", row.last_stopped_at)]
    if row.is_service:
        pairs[10:12] = [("Restart policy", "on failure (Swarm)"), ("Runs as", "Swarm service"),
                        ("Service", (row.service_id or "-")[:12]), ("Node", _node_text(row)),
                        ("Node address", row.node_address),
                        ("Task state", row.task_state or "-"), ("Published", f"{row.publish_mode} mode"),
                        ("Constraints", ", ".join(row.placement_constraints) or "none"),
                        ("Spread over", ", ".join(row.placement_preferences) or "-")]
    if tracker is not None:
        pairs[3:3] = [("Live status", tracker.live_status), ("Viewers", tracker.viewers), ("Gifts", tracker.gifts),
                      ("Diamonds", tracker.diamonds)]
    return Fields([(k, v) for k, v in pairs if v is not None or k in ("Health",)])


def _node_text(row) -> str:
    """The task's node, and whose engine its stats come through (or why there are none)."""
    if not row.node:
        return "-"
    if row.task_engine is not None:
        return f"{row.node} (stats through the engine '{row.node_engine}')"
    return f"{row.node} ({row.stats_note})" if row.stats_note and row.state == "running" else row.node


def _runs_as(row) -> str:
    """'container', or 'service' with the node its task is on."""
    if not row.is_service:
        return "container"
    return f"service on {row.node}" if row.node else "service"


def _schedule(row) -> str | None:
    if not row.schedule_start and not row.schedule_stop:
        return None
    parts = [f"start {row.schedule_start}" if row.schedule_start else "", f"stop {row.schedule_stop}" if row.schedule_stop else ""]
    return ", ".join(p for p in parts if p) + (f" ({row.schedule_tz})" if row.schedule_tz else "")


def _show(desk, row) -> Output:
    health, tracker = desk.fleet.health_now(row)
    data = {**row.to_json(), "health": health, "liveStatus": tracker.live_status if tracker else None,
            "tracker": tracker.to_json() if tracker else None}
    return Output(data, _row_text(row, health, tracker))


def _bulk(desk, args, action: str) -> Output:
    ids = _targets(desk, args)
    if action == "delete":
        names = ", ".join(r.name for r in desk.fleet.resolve(ids))
        confirm(args, DELETE.confirmation(count=len(ids), names=names))
    results = desk.fleet.bulk(action, ids, concurrency=max(1, args.concurrency))
    failed = [r for r in results if not r.ok]
    rows = [(r.name, r.engine or "local", r.outcome, r.message) for r in results]
    return Output([r.to_json() for r in results], Table(["NAME", "ENGINE", "RESULT", "MESSAGE"], rows),
                  exit_code=1 if failed else 0)


def recover_first(desk) -> None:
    """Before an instance command: finish what a killed fleet operation left (one query when the
    journal is empty). With the engine down the entries wait, and this says so once."""
    fleet = desk.fleet
    if not fleet.journal.pending():
        return
    try:
        done = fleet.recover()
    except ServiceUnavailableError:
        warn("interrupted fleet operations wait for the Docker engine; `giftdesk instance sync` finishes them "
             "once it answers.")
        return
    for line in done:
        print(f"giftdesk: {line}", file=sys.stderr)


class _RecoveringGroup:
    """The instance group, each command of which runs ``recover_first`` before its handler."""

    def __init__(self, group):
        self._group = group

    def command(self, *arguments, **options):
        decorate = self._group.command(*arguments, **options)

        def wrap(handler):
            def run(desk, args):
                recover_first(desk)
                return handler(desk, args)

            decorate(run)
            return handler

        return wrap


def register(cli) -> None:
    plain = cli.group("instance", "gift tracker containers (one per TikTok account)")
    instance = _RecoveringGroup(plain)

    @instance.command("create", "create a tracker instance (and start it)",
                      arg("name", metavar="NAME"), arg("--account", type=int, required=True, help="TikTok account id"),
                      arg("--port", help="host port (default: the next free one in the range)"),
                      arg("--template", help="template name or id to start from"),
                      arg("--no-start", action="store_true", help="create only"),
                      arg("--engine", help="the Docker engine to run it on (default: local; see `engine list`)"),
                      *SETTINGS_ARGS, *SCHEDULE_ARGS, *SERVICE_ARGS)
    def create(desk, args):
        from giftdesk.fleet.spec import InstanceSettings

        base = desk.fleet.template(args.template).settings if args.template else InstanceSettings()
        row = desk.fleet.create(args.name, args.account, port=args.port, settings=_settings(args, base),
                                template=args.template, start=not args.no_start, schedule_start=args.start_at,
                                schedule_stop=args.stop_at, schedule_tz=args.tz, engine=args.engine,
                                service=_service_options(args))
        what = " as a Swarm service" if row.is_service else ""
        where = f" on the engine '{row.engine}'" if row.engine else ""
        return Output(row.to_json(),
                      f"Created '{row.name}'{what}{where} on port {row.port} ({row.state_label}): {row.local_url}")

    @instance.command("list", "list instances with their container state", arg("--search"))
    def list_(desk, args):
        rows = desk.fleet.list(with_state=True, search=args.search, unknown_if_unreachable=True)
        _warn_unknown(rows)
        return Output([r.to_json() for r in rows], Table(
            ["NAME", "ENGINE", "STATE", "TIKTOK", "ACCOUNT", "CUSTOMER", "PORT", "IMAGE", "NETWORK", "RUNS AS"],
            [(r.name, r.engine or "local", r.state_label, f"@{r.tiktok_username}", r.account_ref, r.customer_name,
              r.port, r.image, r.network, _runs_as(r)) for r in rows]))

    @instance.command("ports", "the tracker port range (Settings) with who holds each port",
                      arg("--free", action="store_true", help="only the free ports"),
                      arg("--engine", help="the ports of this engine (default: local)"))
    def ports(desk, args):
        uses = desk.fleet.port_uses(engine=args.engine or "")
        if any(u.holder == "unknown" for u in uses):
            warn(ENGINE_DOWN_WARNING)
        shown = [u for u in uses if u.free] if args.free else uses
        return Output([u.to_json() for u in shown], Table(["PORT", "HELD BY"], [(u.port, u.text()) for u in shown]))

    @instance.command("show", "one instance: state, health, the tracker's live status", arg("name", metavar="NAME"))
    def show(desk, args):
        row = desk.fleet.get(args.name, with_state=True, unknown_if_unreachable=True)
        if row.state == UNKNOWN_STATE:
            warn(ENGINE_DOWN_WARNING)
        return _show(desk, row)

    @instance.command("move", "move an instance to another engine: created and started there, its tracker "
                      "answering, then the old container removed (on failure it stays where it was)",
                      arg("name", metavar="NAME"), arg("--engine", required=True, help="the engine to move it to"),
                      arg("--port", help="host port there (default: the same when free, else the next free one)"))
    def move(desk, args):
        row = desk.fleet.move(args.name, args.engine, port=args.port)
        return Output(row.to_json(), f"Moved '{row.name}' to the engine '{row.engine or 'local'}' "
                                     f"(port {row.port}, {row.state_label}).")

    @instance.command("edit", "change an instance (the container is recreated; the old one is put back on failure)",
                      arg("name", metavar="NAME"), arg("--port"), *SETTINGS_ARGS, *SCHEDULE_ARGS,
                      arg("--no-schedule", action="store_true", help="remove the daily start/stop"),
                      arg("--public-url", help="the tracker's public URL ('' to use the Settings pattern)"),
                      arg("--recreate", action="store_true", help="recreate even when nothing changed (a new key)"))
    def edit(desk, args):
        row = desk.fleet.get(args.name)
        schedule = {}
        if args.no_schedule:
            schedule = dict(schedule_start=None, schedule_stop=None, schedule_tz=None)
        else:
            for key, value in (("schedule_start", args.start_at), ("schedule_stop", args.stop_at),
                               ("schedule_tz", args.tz)):
                if value is not None:
                    schedule[key] = value
        if args.public_url is not None:
            schedule["public_url"] = args.public_url or None
        edited = desk.fleet.edit(row.id, port=args.port, settings=_settings(args, row.settings),
                                 recreate=True if args.recreate else None, **schedule)
        return Output(edited.to_json(), f"Updated '{edited.name}' ({edited.state_label}, port {edited.port}).")

    @instance.command("clone", "a new instance with the same settings", arg("name", metavar="NAME"),
                      arg("new_name", metavar="NEW_NAME"), arg("--account", type=int, help="another TikTok account"),
                      arg("--start", action="store_true"))
    def clone(desk, args):
        row = desk.fleet.clone(args.name, args.new_name, account_id=args.account, start=args.start)
        return Output(row.to_json(), f"Cloned into '{row.name}' on port {row.port} ({row.state_label}).")

    for action, text in (("start", "start instances"), ("stop", "stop instances"), ("restart", "restart instances")):
        def handler(desk, args, _action=action):
            return _bulk(desk, args, _action)

        instance.command(action, text, *TARGETS)(handler)

    @instance.command("delete", "delete instances and their containers", *TARGETS, YES)
    def delete(desk, args):
        return _bulk(desk, args, "delete")

    @instance.command("logs", "the container's output",
                      arg("name", metavar="NAME"), arg("--tail", type=int, help="the last N lines"),
                      arg("--since", help="from a time: 10m, 2h, 1d, today or an ISO date/time (local unless it says)"),
                      arg("--follow", "-f", action="store_true", help="keep printing new lines (Ctrl-C ends)"),
                      arg("--timestamps", "-t", action="store_true"))
    def logs(desk, args):
        row = desk.fleet.get(args.name)
        if args.tail is not None and args.tail < 0:
            raise ValidationError("--tail must be 0 or more.", field="tail")
        since = parse_since(args.since)
        if not args.follow:
            text = desk.fleet.instance_logs(row, tail=args.tail, since=since, timestamps=args.timestamps)
            lines = text.decode("utf-8", "replace").splitlines()
            return Output({"name": row.name, "lines": lines}, "\n".join(lines))
        stream = desk.fleet.open_instance_log_stream(row, tail=args.tail, since=since, timestamps=args.timestamps)
        try:
            pending = b""
            for chunk in stream:
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for line in complete:
                    text = line.decode("utf-8", "replace")
                    print(json.dumps({"name": row.name, "line": text}) if args.json
                          else escape_controls(text, keep="\t"), flush=True)  # a log line may carry escapes
        except KeyboardInterrupt:
            pass
        finally:
            stream.close()
        return None

    @instance.command("stats", "CPU, memory and network I/O of running instances (as docker stats computes them)",
                      arg("names", nargs="*", metavar="NAME"), arg("--all", action="store_true"))
    def stats(desk, args):
        from giftdesk.fleet.units import NONE, fmt_net_io, fmt_net_totals

        rows = desk.fleet.list() if (args.all or not args.names) else desk.fleet.resolve(args.names)
        samples = desk.fleet.stats_now([r.id for r in rows])
        elsewhere = {r.id: r.stats_note for r in desk.fleet.attach_state(rows) if r.stats_note and r.state == "running"}
        data, table = [], []
        for row in rows:
            sample = samples.get(row.id)
            if sample is None and row.id in elsewhere:
                data.append({"name": row.name, "running": True, "statsUnavailable": elsewhere[row.id]})
                table.append((row.name, elsewhere[row.id], NONE, NONE, NONE))
                continue
            if sample is None:
                data.append({"name": row.name, "running": False})
                table.append((row.name, NONE, NONE, NONE, NONE))
                continue
            # netRxBytes/netTxBytes null: host networking (no counters of its own), not "nothing sent".
            data.append({"name": row.name, "running": True, "cpuPercent": sample.cpu_percent,
                         "memoryBytes": sample.memory_bytes, "memoryLimitBytes": sample.memory_limit,
                         "netRxBytes": sample.net_rx, "netTxBytes": sample.net_tx,
                         "netRxRate": sample.net_rx_rate, "netTxRate": sample.net_tx_rate})
            host = sample.net_rx is None
            table.append((row.name, f"{sample.cpu_percent:.2f} %" if sample.cpu_percent is not None else NONE,
                          f"{sample.memory_bytes / 1048576:.1f} MiB / {sample.memory_limit / 1048576:.0f} MiB",
                          NONE if host else fmt_net_io(sample.net_rx_rate, sample.net_tx_rate),
                          NONE if host else fmt_net_totals(sample.net_rx, sample.net_tx)))
        return Output(data, Table(["NAME", "CPU", "MEMORY", "NET I/O", "NET TOTAL"], table))

    for command in ("connect", "disconnect"):
        def live(desk, args, _command=command):
            answer = desk.fleet.live_command(args.name, _command)
            return Output({"name": args.name, "command": _command, "answer": answer},
                          f"{'Connected' if _command == 'connect' else 'Disconnected'} '{args.name}': "
                          f"{answer.get('liveStatus', 'ok')}")

        instance.command(command, f"{command} the tracker {'to' if command == 'connect' else 'from'} its TikTok live",
                         arg("name", metavar="NAME"))(live)

    @plain.command("sync", "finish interrupted operations, then reconcile records and containers on every engine: "
                           "missing containers, orphans",
                      arg("--recreate-missing", action="store_true", help="recreate every missing container"),
                      arg("--adopt", metavar="CONTAINER", help="make an orphan container an instance (on its engine)"),
                      arg("--account", type=int, help="the TikTok account for --adopt"),
                      arg("--remove-orphan", metavar="CONTAINER", help="remove an orphan container"),
                      arg("--engine", help="only this engine (default: every engine; needed with --adopt or "
                                           "--remove-orphan when the container is on two)"), YES)
    def sync(desk, args):
        if args.adopt:
            row = desk.fleet.adopt(args.adopt, account_id=args.account, engine=args.engine)
            where = f" on the engine '{row.engine}'" if row.engine else ""
            return Output(row.to_json(), f"Adopted as '{row.name}'{where} on port {row.port}.")
        if args.remove_orphan:
            confirm(args, f"Remove the orphan container {args.remove_orphan}?")
            orphan = desk.fleet.remove_orphan(args.remove_orphan, engine=args.engine)
            return Output({"removed": orphan.id}, f"Removed {orphan.name}.")
        result = desk.fleet.reconcile(args.engine)
        recreated = []
        if args.recreate_missing:
            recreated = desk.fleet.bulk("recreate", [r.id for r in result.missing])
        text = [Table(["RECOVERED"], [(line,) for line in result.recovered]),
                Table(["MISSING CONTAINER OF"], [(r.name,) for r in result.missing]),
                Table(["ORPHAN", "ENGINE", "CONTAINER", "STATE", "WHAT", "CHOICES"],
                      [(o.name, result.engine_of(o) or "local", o.id[:12], o.state, result.origin(o),
                        _orphan_choices(o.id[:12], result.engine_of(o))) for o in result.orphans])]
        if result.unreachable:
            text.append(f"Not answering: {', '.join(result.unreachable)} (orphans there are not known; records "
                        "there are left as they are).")
        if recreated:
            text.append(Table(["RECREATED", "ENGINE", "RESULT", "MESSAGE"],
                              [(r.name, r.engine or "local", r.outcome, r.message) for r in recreated]))
        return Output({**result.to_json(), "recreated": [r.to_json() for r in recreated]}, text)

    @instance.command("events", "an instance's event history (deaths, restarts, edits…)",
                      arg("name", metavar="NAME"), arg("--limit", type=int, default=50))
    def events(desk, args):
        rows = desk.fleet.events(args.name, limit=args.limit)
        return Output([r.to_json() for r in rows], Table(["WHEN", "LEVEL", "MESSAGE"],
                                                         [(r.created_at, r.level, r.message) for r in rows]))

    @instance.command("export", "instances and templates as JSON (no keys, no passwords)", arg("--file"))
    def export(desk, args):
        from giftdesk.fleet.portability import export_fleet, save_export

        if args.file:
            data = save_export(desk.fleet, args.file)  # whole or not at all
            return Output({"file": args.file, "instances": len(data["instances"])},
                          f"Exported {len(data['instances'])} instance(s) to {args.file}.")
        data = export_fleet(desk.fleet)
        return Output(data, json.dumps(data, indent=2, default=str))

    @instance.command("import", "create instances from an export (existing names are skipped)",
                      arg("file", metavar="FILE"), arg("--start", action="store_true"),
                      arg("--new-ports", action="store_true", help="choose free ports instead of the exported ones"),
                      arg("--dry-run", action="store_true", help="show what would be created, skipped or refused"))
    def import_(desk, args):
        from giftdesk.fleet.portability import import_fleet, plan_import, read_export

        data = read_export(args.file)
        keep_ports = not args.new_ports
        plan = plan_import(desk.fleet, data, keep_ports=keep_ports)
        if args.dry_run:
            return Output(plan.to_json(), Table(
                ["NAME", "ACCOUNT", "PORT", "WOULD", "REASON"],
                [(i.name, f"@{i.username}" if i.username else "", i.port or "", i.action, i.reason)
                 for i in plan.items]),
                exit_code=1 if any(i.action == "refuse" for i in plan.items) else 0)
        results = import_fleet(desk.fleet, data, start=args.start, keep_ports=keep_ports, plan=plan)
        return Output([r.to_json() for r in results],
                      Table(["NAME", "RESULT", "MESSAGE"], [(r.name, r.outcome, r.message) for r in results]),
                      exit_code=1 if any(r.outcome == "failed" for r in results) else 0)

    @instance.command("templates", "saved templates for new instances")
    def templates(desk, args):
        rows = desk.fleet.templates()
        return Output([t.to_json() for t in rows], Table(
            ["NAME", "IMAGE", "NETWORK", "RESTART", "MEMORY", "CPUS"],
            [(t.name, t.settings.image or "(default)", t.settings.network, t.settings.restart_policy,
              t.settings.memory_limit_mb, t.settings.cpu_millis and t.settings.cpu_millis / 1000) for t in rows]))

    @instance.command("template-save", "save a template (settings for new instances)", arg("name", metavar="NAME"),
                      *SETTINGS_ARGS)
    def template_save(desk, args):
        from giftdesk.fleet.spec import InstanceSettings

        row = desk.fleet.save_template(args.name, _settings(args, InstanceSettings()))
        return Output(row.to_json(), f"Saved template '{row.name}'.")

    @instance.command("nginx", "write one nginx site file per instance with a public URL",
                      arg("--folder", required=True, help="where to write the .conf files"))
    def nginx(desk, args):
        from giftdesk.fleet.portability import write_nginx_sites

        sites = write_nginx_sites(desk.fleet, args.folder)
        lines = [f"Wrote {len(sites.files)} site file(s) to {args.folder}."]
        if sites.skipped:
            lines.append(f"Skipped (no public host name): {', '.join(sites.skipped)}")
        if sites.certbot_command:
            lines.append(f"Then run: {sites.certbot_command}")
        return Output(sites.to_json(), "\n".join(lines))

