"""``giftdesk settings``: console settings and the Fampage API key."""

from __future__ import annotations

import getpass
import json
import sys

from giftdesk.cli.framework import Output, Table, arg, warn_secret_store
from giftdesk.core.errors import ValidationError


def _shown(value) -> str:
    return json.dumps(value, ensure_ascii=False)  # "Ü", not "\u00dc"


def parse_value(text: str):
    """JSON when it parses (numbers, true, lists…), else the text itself; decimals stay exact text."""
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return text  # plain text values need no quotes
    return text if isinstance(value, float) else value


def _source_text(key: str, source: str) -> str:
    from giftdesk.system.settings import ENVIRONMENT, SPECS
    return f"${SPECS[key].env}" if source == ENVIRONMENT else source


def register(cli) -> None:
    settings = cli.group("settings", "console settings")

    @settings.command("list", "list settings")
    def settings_list(desk, args):
        from giftdesk.system.settings import SPECS

        values = desk.settings.all()
        sources = desk.settings.sources()
        problems = desk.settings.environment_problems()
        key_set = desk.settings.has_fampage_api_key()
        # Setting names ("endpoint.port") are identifiers, as `settings set` takes them.
        data = {"settings": values, "sources": sources, "environmentProblems": problems,
                "fampageApiKeySet": key_set, "secretBackend": desk.secrets.backend_name}
        return Output(data, [
            Table(["KEY", "VALUE", "FROM", "DESCRIPTION"],
                  [(k, _shown(v), _source_text(k, sources[k]), SPECS[k].label) for k, v in values.items()]),
            *problems,
            f"Fampage API key: {'set' if key_set else 'not set'} ({desk.secrets.backend_name})",
        ])

    @settings.command("set", "change one setting", arg("key"), arg("value"))
    def settings_set(desk, args):
        merged = desk.settings.update({args.key: parse_value(args.value)})
        return Output({args.key: merged[args.key]}, f"{args.key} = {_shown(merged[args.key])}")

    @settings.command("fampage-key", "store the Fampage API key in the keyring",
                      arg("--value", help="the key (read from stdin or asked for when omitted)"),
                      arg("--clear", action="store_true", help="remove the stored key"))
    def settings_fampage_key(desk, args):
        if args.clear and args.value is not None:
            raise ValidationError("Give --value or --clear, not both.", field="value")
        if args.clear:
            desk.settings.set_fampage_api_key(None)
        else:
            value = args.value
            if value is None:
                value = sys.stdin.readline() if not sys.stdin.isatty() else getpass.getpass("Fampage API key: ")
            if not value.strip():
                # An empty answer is a slip, not a request: removing the key is --clear only.
                raise ValidationError("The Fampage API key is empty; nothing was changed "
                                      "(use --clear to remove the stored key).", field="value")
            warn_secret_store(desk)
            desk.settings.set_fampage_api_key(value.strip())
        state = {"set": desk.settings.has_fampage_api_key(), "backend": desk.secrets.backend_name}
        return Output(state, f"Fampage API key {'stored in ' + state['backend'] if state['set'] else 'removed'}.")
