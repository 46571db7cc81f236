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
Bad input is ``giftdesk.core.errors.ValidationError``: one line on stderr, exit status 2; ids take
``type=record_id`` (a positive number a database can hold); confirmations use ``confirm`` (and
the ``YES`` argument); before storing or showing a secret, ``warn_secret_store(desk)``.

Commands that only read (``list``, ``show``, ``get``, ``env``, ``status`` by name, or
``reads_only=True``) refuse a data directory that does not exist instead of creating an empty
one: a mistyped ``--data-dir`` must not look like a database with nothing in it. Commands that
change something (``admin create``, ``customer add`` …) create it, as the first start does.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from giftdesk.cli.output import emit_json, fields, table, visible_text, warn
from giftdesk.core.errors import DiskFullError, ServiceUnavailableError, ValidationError
from giftdesk.core.storage import is_disk_full


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

MAX_ID = 2**63 - 1  # the largest id SQLite and PostgreSQL's bigint hold


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """``type=`` for a count or a number of days: a whole number from ``low`` to ``high``."""
    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{text} is not a whole number from {low} to {high}")
        return number

    return parse


def record_id(text: str) -> int:
    """``type=`` for ids: a positive whole number a database can hold (a 30-digit id is a typo, not a crash)."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if not 1 <= number <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{text} is not an id (ids are 1 to {MAX_ID})")
    return number


# Command names that only read: their data directory must exist already (see the module docstring).
READ_ONLY_NAMES = frozenset({"list", "show", "get", "env", "status"})


def existing_data_dir(args):
    """The data directory's paths; a ValidationError when it does not exist (nothing is created)."""
    from giftdesk.core.paths import resolve_data_dir

    from giftdesk.core.paths import DATABASE_URL_ENV

    paths = resolve_data_dir(getattr(args, "data_dir", None))
    if not paths.root.is_dir():
        raise ValidationError(
            f"There is no data directory at {paths.root}: check --data-dir (or GIFTDESK_DATA_DIR); "
            "commands that only read do not create one.", field="data_dir")
    uses_file = not (getattr(args, "database_url", None) or os.environ.get(DATABASE_URL_ENV))
    if uses_file and not paths.database.is_file() and any(paths.root.iterdir()):
        # A folder with other things in it and no database is not ours (a home directory, /):
        # reading must not leave a database, logs and backups in it. An empty one is fine.
        raise ValidationError(
            f"{paths.root} is not a GiftDesk data directory (it has no {paths.database.name}): check --data-dir "
            "(or GIFTDESK_DATA_DIR); commands that only read do not create one.", field="data_dir")
    return paths


def prepared_data_dir(args, console_log: bool = False):
    """The data directory, created if need be, with logging into it; an unusable one is one sentence."""
    from giftdesk.core.logs import setup_logging
    from giftdesk.core.paths import resolve_data_dir

    paths = resolve_data_dir(getattr(args, "data_dir", None))
    try:
        paths.ensure()
        setup_logging(paths.logs, console=console_log)
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFullError(paths.root) from None
        raise ValidationError(f"Cannot use {paths.root} as the data directory: {exc.strerror or exc}.",
                              field="data_dir") from None
    return paths


@contextmanager
def database_errors(url: str | None) -> Iterator[None]:
    """A --database-url that names no database, or one that does not answer, as one sentence."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    try:
        yield
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ValidationError(f"--database-url is not a database URL SQLAlchemy knows ({exc}); "
                              "e.g. postgresql+psycopg://user:password@host/db.", field="database_url") from None
    except OperationalError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ServiceUnavailableError(f"Cannot open the database {_safe_url(url)}: {reason}") from None


def _safe_url(url: str | None) -> str:
    from sqlalchemy.engine import make_url

    if not url:
        return "(the data directory's SQLite file)"
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even a URL: say nothing of it that could hold a password
        return "given"


@contextmanager
def desk_session(args, migrate: bool = True, reads_only: bool = False, console_log: bool = False) -> Iterator[Any]:
    """The Desk for one command: opened as the person running it (admin role), always closed."""
    from giftdesk.desk import Desk
    from giftdesk.core.paths import resolve_database_url
    from giftdesk.core.context import Actor

    if reads_only:
        existing_data_dir(args)
    paths = prepared_data_dir(args, console_log)
    with database_errors(resolve_database_url(paths, args.database_url)):
        desk = Desk.open(args.data_dir, args.database_url, actor=Actor(f"cli:{getpass.getuser()}", "admin"),
                         migrate=migrate)
    try:
        yield desk
    finally:
        desk.close()


KEYRING_WARNED = ".keyring-warning-shown"  # in the data directory: the warning said there, once


def warn_secret_store(desk) -> None:
    """Before a command stores or shows a secret: say when there is no real keyring, once per data
    directory and warning (``giftdesk status`` always shows it); said on every command it drowns
    the output scripts read."""
    warning = desk.secrets.warning
    if not warning:
        return
    marker = desk.paths.root / KEYRING_WARNED
    said = hashlib.sha256(warning.encode()).hexdigest()
    try:
        if marker.read_text(encoding="ascii") == said:
            return
    except OSError:
        pass
    warn(warning)
    try:
        marker.write_text(said, encoding="ascii")
    except OSError:  # a read-only data directory: said again next time, which is the safe side
        pass


def confirm(args, question: str, flag: str = "yes") -> None:
    """Go on with ``--yes`` (or the ``flag`` named) or a typed 'yes'; otherwise nothing is changed."""
    if getattr(args, flag, False):
        return
    if not sys.stdin.isatty():
        raise ValidationError(f"{question} Refusing without --{flag} (no terminal to ask).", field=flag)
    answer = input(f"{question} Type 'yes' to go on: ")
    if answer.strip().lower() != "yes":
        raise ValidationError("Cancelled; nothing was changed.")


class CommandGroup:
    def __init__(self, subparsers, common: argparse.ArgumentParser):
        self._sub = subparsers
        self._common = common

    def group(self, name: str, help_text: str) -> "CommandGroup":
        """A group inside this group (``giftdesk social profile add``)."""
        return CommandLine(self._sub, self._common).group(name, help_text)

    def command(self, name: str, help_text: str, *arguments: _Arg, needs_desk: bool = True,
                migrate: bool = True, reads_only: bool | None = None) -> Callable:
        """``reads_only``: refuse a missing data directory (default: a Desk command named in READ_ONLY_NAMES)."""
        if reads_only is None:
            reads_only = needs_desk and name in READ_ONLY_NAMES

        def decorate(handler: Callable) -> Callable:
            parser = self._sub.add_parser(name, parents=[self._common], help=help_text, description=help_text)
            for a in arguments:
                parser.add_argument(*a.args, **a.kwargs)
            parser.set_defaults(handler=_runner(handler, needs_desk, migrate, reads_only))
            return handler

        return decorate


class CommandLine:
    """What a group module's ``register(cli)`` is handed."""

    def __init__(self, subparsers, common: argparse.ArgumentParser):
        self._sub = subparsers
        self._common = common

    def group(self, name: str, help_text: str) -> CommandGroup:
        """A group of commands; asked again for the same name (by another module), the same group,
        so that modules can add commands to one group (``giftdesk import …``). The first help text stays."""
        made = self._sub.choices.get(name)
        if made is not None and hasattr(made, "giftdesk_commands"):
            return CommandGroup(made.giftdesk_commands, self._common)
        parser = self._sub.add_parser(name, help=help_text, description=help_text)
        parser.giftdesk_commands = parser.add_subparsers(dest=f"{name}_command", metavar="ACTION", required=True)
        return CommandGroup(parser.giftdesk_commands, self._common)

    @property
    def top(self) -> CommandGroup:
        """For single commands without a group (``giftdesk status``)."""
        return CommandGroup(self._sub, self._common)


def _runner(handler: Callable, needs_desk: bool, migrate: bool, reads_only: bool) -> Callable[[Any], int]:
    def run(args) -> int:
        if needs_desk:
            with desk_session(args, migrate=migrate, reads_only=reads_only) as desk:
                result = handler(desk, args)
        else:
            if reads_only:
                existing_data_dir(args)
            result = handler(args)
        return render(result, args.json)

    return run


def render(result: Any, as_json: bool) -> int:
    if result is None:
        return 0
    if not isinstance(result, Output):
        result = Output(result)
    if result.data is None and result.text is None:
        return result.exit_code  # the command printed what it had to say (serve)
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
        print(visible_text(str(text)))
