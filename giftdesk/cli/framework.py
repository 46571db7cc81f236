"""How a command group is written: arguments beside their handler, handlers return data.

    from giftdesk.cli.framework import CommandGroup, Output, Table, arg

    def register(cli) -> None:
        company = cli.group("company", "client companies billed for Fampage orders")

        @company.command("list", "list companies", arg("--search"), arg("--archived", action="store_true"))
        def company_list(desk, args):
            rows = desk.companies.list(args.search, archived=args.archived)
            return Output([r.to_json() for r in rows],
                          Table(["ID", "NAME"], [(r.id, r.name) for r in rows]))

A handler gets the opened ``Desk`` (closed again by ``desk_session`` when it returns) and the
parsed ``args``; with ``needs_desk=False`` it gets ``(args)`` only. It returns an ``Output``: the
JSON data (camelCase keys) printed with ``--json``, and what a person reads otherwise (a string,
a ``Table``, ``Fields`` or a list of them; without it the data is printed as fields or a table).
Bad input is ``giftdesk.errors.ValidationError``: one line on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from giftdesk.cli.output import emit_json, fields, table
from giftdesk.errors import ValidationError


@dataclass
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]


@dataclass
class Fields:
    pairs: Sequence[tuple[str, Any]]


@dataclass
class Output:
    data: Any
    text: Any = None  # str | Table | Fields | list of those | None
    exit_code: int = 0


@dataclass
class _Arg:
    args: tuple
    kwargs: dict = field(default_factory=dict)


def arg(*names: str, **kwargs: Any) -> _Arg:
    """One ``add_argument`` call, written next to the handler that reads it."""
    return _Arg(names, kwargs)


YES = arg("--yes", action="store_true", help="do not ask for confirmation")


@contextmanager
def desk_session(args, migrate: bool = True) -> Iterator[Any]:
    """The Desk for one command: opened as the person running it (admin role), always closed."""
    from giftdesk.desk import Desk
    from giftdesk.logs import setup_logging
    from giftdesk.paths import resolve_data_dir
    from giftdesk.services.context import Actor

    setup_logging(resolve_data_dir(args.data_dir).ensure().logs)
    desk = Desk.open(args.data_dir, args.database_url, actor=Actor(f"cli:{getpass.getuser()}", "admin"),
                     migrate=migrate)
    try:
        yield desk
    finally:
        desk.close()


def confirm(args, question: str) -> None:
    """Go on with ``--yes`` or a typed 'yes'; otherwise nothing is changed."""
    if getattr(args, "yes", False):
        return
    if not sys.stdin.isatty():
        raise ValidationError(f"{question} Refusing without --yes (no terminal to ask).", field="yes")
    answer = input(f"{question} Type 'yes' to go on: ")
    if answer.strip().lower() != "yes":
        raise ValidationError("Cancelled; nothing was changed.")


class CommandGroup:
    def __init__(self, subparsers, common: argparse.ArgumentParser):
        self._sub = subparsers
        self._common = common

    def command(self, name: str, help_text: str, *arguments: _Arg, needs_desk: bool = True,
                migrate: bool = True) -> Callable:
        def decorate(handler: Callable) -> Callable:
            parser = self._sub.add_parser(name, parents=[self._common], help=help_text, description=help_text)
            for a in arguments:
                parser.add_argument(*a.args, **a.kwargs)
            parser.set_defaults(handler=_runner(handler, needs_desk, migrate))
            return handler

        return decorate


class CommandLine:
    """What a group module's ``register(cli)`` is handed."""

    def __init__(self, subparsers, common: argparse.ArgumentParser):
        self._sub = subparsers
        self._common = common

    def group(self, name: str, help_text: str) -> CommandGroup:
        parser = self._sub.add_parser(name, help=help_text, description=help_text)
        return CommandGroup(parser.add_subparsers(dest=f"{name}_command", metavar="ACTION", required=True),
                            self._common)

    @property
    def top(self) -> CommandGroup:
        """For single commands without a group (``giftdesk status``)."""
        return CommandGroup(self._sub, self._common)


def _runner(handler: Callable, needs_desk: bool, migrate: bool) -> Callable[[Any], int]:
    def run(args) -> int:
        if needs_desk:
            with desk_session(args, migrate=migrate) as desk:
                result = handler(desk, args)
        else:
            result = handler(args)
        return render(result, args.json)

    return run


def render(result: Any, as_json: bool) -> int:
    if result is None:
        return 0
    if not isinstance(result, Output):
        result = Output(result)
    if as_json:
        emit_json(result.data)
    else:
        _print_text(result.text if result.text is not None else _auto_text(result.data))
    return result.exit_code


def _auto_text(data: Any) -> Any:
    if isinstance(data, dict):
        return Fields(list(data.items()))
    if isinstance(data, list) and data and all(isinstance(d, dict) for d in data):
        headers = list(data[0])
        return Table([h.upper() for h in headers], [[d.get(h) for h in headers] for d in data])
    return "" if data is None else str(data)


def _print_text(text: Any) -> None:
    if isinstance(text, list):
        for i, part in enumerate(text):
            if i:
                print()
            _print_text(part)
    elif isinstance(text, Table):
        table(text.headers, text.rows)
    elif isinstance(text, Fields):
        if text.pairs:
            fields(text.pairs)
    elif text:
        print(text)
