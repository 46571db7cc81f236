"""``giftdesk data``: the documents trackers load and save (gift groups, config, analytics)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from giftdesk.cli.framework import Output, arg, record_id
from giftdesk.core.errors import ValidationError

ACCOUNT = arg("--account", type=record_id, required=True)


def read_json_file(name: str):
    """The JSON document in file ``name`` ('-' = stdin); every way it can be unreadable is one sentence."""
    try:
        if name == "-":
            stream = sys.stdin
            raw = stream.buffer.read() if hasattr(stream, "buffer") else stream.read().encode("utf-8", "surrogateescape")
        else:
            path = Path(name)
            if path.is_dir():
                raise ValidationError(f"{name} is a folder; give a JSON file.", field="file")
            raw = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError(f"{name} does not exist.", field="file") from None
    except OSError as exc:
        raise ValidationError(f"{name} cannot be read: {exc.strerror or exc}.", field="file") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{name} is not UTF-8 text (byte {exc.start}); save it as UTF-8 JSON.",
                              field="file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{name} is not valid JSON: {exc}", field="file") from None
    except RecursionError:
        raise ValidationError(f"{name} is nested too deeply to be a tracker document.", field="file") from None


def register(cli) -> None:
    data = cli.group("data", "documents trackers load and save (gift groups, config, analytics)")

    @data.command("get", "print a tracker document as JSON", ACCOUNT,
                  arg("--type", required=True, choices=["gift-groups", "config", "analytics"]))
    def data_get(desk, args):
        document = desk.tracker_data.get(args.account, args.type)
        return Output(document, json.dumps(document, indent=2, ensure_ascii=False))

    @data.command("set", "replace gift groups or config from a JSON file ('-' for stdin)", ACCOUNT,
                  arg("--type", required=True, choices=["gift-groups", "config"]),
                  arg("--file", required=True))
    def data_set(desk, args):
        document = read_json_file(args.file)
        if args.type == "gift-groups":
            groups = document.get("groups", document) if isinstance(document, dict) else document
            saved = desk.tracker_data.save_gift_groups(args.account, groups)
        else:
            saved = desk.tracker_data.save_config(args.account, document)
        return Output(saved, f"Saved {args.type} of account {args.account}.")
