"""``giftdesk engine info|test``: the Docker engine the fleet runs on (the engine panel's data)."""

from __future__ import annotations

from giftdesk.cli.framework import Fields, Output
from giftdesk.core.errors import ServiceUnavailableError


def register(cli) -> None:
    engine = cli.group("engine", "the Docker engine the trackers run on")

    @engine.command("info", "version, API version, host, containers, images, storage, trackers")
    def info(desk, args):
        from giftdesk.docker.engine import engine_info

        data = engine_info(desk.fleet)
        return Output(data.to_json(), Fields(data.pairs()))

    @engine.command("test", "check the connection: ping, version, tracker list, round-trip time")
    def test(desk, args):
        from giftdesk.docker.engine import check_engine

        result = check_engine(desk.fleet)
        if not result.reachable and not args.json:
            raise ServiceUnavailableError(result.error)
        return Output(result.to_json(), result.sentence, exit_code=0 if result.reachable else 1)
