"""``giftdesk engine …``: the Docker engines trackers run on: the configured one ("local") and
named ones reached over TLS, ssh or a Docker context."""

from __future__ import annotations

from giftdesk.cli.framework import YES, Fields, Output, Table, arg, confirm
from giftdesk.core.errors import ServiceUnavailableError

CONNECTION_ARGS = (
    arg("--host", help="unix:///path, tcp://host:2376 (with --tls-*) or ssh://user@host"),
    arg("--tls-ca", metavar="FILE", help="the CA certificate the engine's certificate is signed by"),
    arg("--tls-cert", metavar="FILE", help="the client certificate"),
    arg("--tls-key", metavar="FILE", help="the client key (kept in the keyring, not in the database)"),
    arg("--context", metavar="NAME", help="a Docker CLI context instead of --host"),
    arg("--backend-url", metavar="URL", help="where this engine's trackers reach the tracker endpoint"),
)


def _is_local(name) -> bool:
    from giftdesk.fleet.engines import engine_key

    return not engine_key(name)


def register(cli) -> None:
    engine = cli.group("engine", "the Docker engines the trackers run on")

    @engine.command("list", "every engine: host, reachable, version, Swarm role, instances")
    def list_(desk, args):
        statuses = desk.fleet.engines.statuses()
        return Output([s.to_json() for s in statuses], Table(
            ["NAME", "HOST", "REACHABLE", "VERSION", "SWARM", "INSTANCES"],
            [(s.name, s.engine.host, "yes" if s.reachable else "no", s.version, s.swarm, s.instances)
             for s in statuses]))

    @engine.command("info", "an engine's version, API version, host, containers, images, storage, trackers",
                    arg("name", metavar="NAME", nargs="?", help="an engine (default: local)"))
    def info(desk, args):
        if _is_local(args.name):
            from giftdesk.docker.engine import engine_info

            data = engine_info(desk.fleet)
            return Output(data.to_json(), Fields(data.pairs()))
        status = desk.fleet.engines.status(args.name)
        if not status.reachable and not args.json:
            raise ServiceUnavailableError(status.error)
        return Output(status.to_json(), Fields(status.pairs()), exit_code=0 if status.reachable else 1)

    @engine.command("test", "check the connection: ping, version, tracker list, round-trip time",
                    arg("name", metavar="NAME", nargs="?", help="an engine (default: local)"))
    def test(desk, args):
        if _is_local(args.name):
            from giftdesk.docker.engine import check_engine

            result = check_engine(desk.fleet)
            if not result.reachable and not args.json:
                raise ServiceUnavailableError(result.error)
            return Output(result.to_json(), result.sentence, exit_code=0 if result.reachable else 1)
        status = desk.fleet.engines.status(args.name)
        if not status.reachable and not args.json:
            raise ServiceUnavailableError(status.error)
        return Output(status.to_json(), status.sentence, exit_code=0 if status.reachable else 1)

    @engine.command("add", "add an engine (the connection is tested first; nothing is stored if it fails)",
                    arg("name", metavar="NAME"), *CONNECTION_ARGS)
    def add(desk, args):
        status = desk.fleet.engines.add(args.name, args.host, tls_ca=args.tls_ca, tls_cert=args.tls_cert,
                                        tls_key=args.tls_key, context=args.context, backend_url=args.backend_url)
        return Output(status.to_json(), f"Added the engine '{status.name}': {status.sentence}")

    @engine.command("edit", "change an engine's address, certificates, context or backend URL (tested first)",
                    arg("name", metavar="NAME"), *CONNECTION_ARGS,
                    arg("--no-backend-url", action="store_true", help="forget the backend URL"))
    def edit(desk, args):
        status = desk.fleet.engines.edit(args.name, host=args.host, tls_ca=args.tls_ca, tls_cert=args.tls_cert,
                                         tls_key=args.tls_key, context=args.context, backend_url=args.backend_url,
                                         clear_backend_url=args.no_backend_url)
        return Output(status.to_json(), f"Changed the engine '{status.name}': {status.sentence}")

    @engine.command("remove", "forget an engine (refused while instances live there, unless --force)",
                    arg("name", metavar="NAME"),
                    arg("--force", action="store_true",
                        help="also forget the records of its instances (nothing on the engine is deleted)"), YES)
    def remove(desk, args):
        engines = desk.fleet.engines
        living = engines.instances_on(args.name) if args.force else []
        if living:
            confirm(args, f"Forget the engine '{args.name}' and the records of its {len(living)} instance(s) "
                          f"({', '.join(living[:5])})? Their containers stay on the engine.")
        forgotten = engines.remove(args.name, force=args.force)
        text = f"Removed the engine '{args.name}'" + (
            f" and forgot {len(forgotten)} instance(s): {', '.join(forgotten)}." if forgotten else ".")
        return Output({"name": args.name, "forgottenInstances": forgotten}, text)
