"""`carrel remote …` (endpoints and their keys) and `carrel ledger` (what left the device).

Keys and passphrases are read from the terminal without echo (or one line each from a
pipe), never from the command line, so they stay out of shell history.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli.output import print_json
from app.cli.session import open_keys, read_secret, workbench
from app.errors import CarrelError
from app.privacy.errors import KeyringUnavailableError
from app.privacy.keys import Keys
from app.privacy.ledger import summary
from app.privacy.policy import EndpointKind


def register(commands: Any) -> None:
    remote = commands.add_parser("remote", help="remote endpoints (off unless you enable them)")
    sub = remote.add_subparsers(dest="remote_command", metavar="ACTION", required=True)

    p = sub.add_parser("add", help="add an OpenAI-compatible endpoint, switched off")
    p.add_argument("name")
    p.add_argument("--url", required=True, help="base URL, e.g. https://api.example.com/v1")
    p.add_argument("--model", required=True, help="the model name the server expects")
    p.add_argument(
        "--kind",
        choices=[str(k) for k in EndpointKind],
        default=str(EndpointKind.THIRD_PARTY),
        help="third-party (a vendor) or self-hosted (your team's server)",
    )
    p.set_defaults(handler=_add)

    p = sub.add_parser("list", help="show the endpoints")
    p.add_argument("--json", action="store_true")
    p.add_argument("--vault", action="store_true", help="unlock the key vault to show hints")
    p.set_defaults(handler=_list)

    for action, helptext in (("remove", "forget an endpoint and its key"),):
        p = sub.add_parser(action, help=helptext)
        p.add_argument("name")
        p.add_argument("--vault", action="store_true", help="its key is in the vault")
        p.set_defaults(handler=_remove)

    for action, on in (("enable", True), ("disable", False)):
        p = sub.add_parser(action, help=f"switch an endpoint {'on' if on else 'off'}")
        p.add_argument("name")
        p.set_defaults(handler=_enable, enabled=on)

    p = sub.add_parser("set-key", help="store or replace an endpoint's key (read from stdin)")
    p.add_argument("name")
    p.add_argument(
        "--vault",
        action="store_true",
        help="keep keys in an encrypted file unlocked by a passphrase (no system keyring)",
    )
    p.set_defaults(handler=_set_key)

    p = sub.add_parser("clear-key", help="delete an endpoint's key")
    p.add_argument("name")
    p.add_argument("--vault", action="store_true", help="the key is in the vault")
    p.set_defaults(handler=_clear_key)

    p = commands.add_parser("ledger", help="every request that left the device, or was refused")
    form = p.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print JSON")
    form.add_argument("--csv", action="store_true", help="print CSV")
    p.set_defaults(handler=_ledger)


def _add(args: argparse.Namespace) -> int:
    with workbench() as wb:
        e = wb.privacy.add_endpoint(args.name, args.url, args.model, EndpointKind(args.kind))
        print(f"Added {e.name} ({e.kind}, {e.host}), switched off. ")
        print(
            f"Store its key with 'carrel remote set-key {e.name}'; switch it on with "
            f"'carrel remote enable {e.name}'."
        )
        return 0


def _list(args: argparse.Namespace) -> int:
    with workbench() as wb:
        hints: dict[str, str] = {}
        keys: Keys | None = None
        locked = "(key store locked)"
        if (args.vault or wb.privacy.uses_vault) and not wb.privacy.has_vault:
            locked = "(no key vault yet)"  # listing never creates one
        elif not wb.privacy.uses_vault or args.vault:
            try:
                keys = open_keys(wb, args.vault)
            except KeyringUnavailableError:
                keys = None
        for e in wb.privacy.endpoints():
            try:
                hints[e.name] = keys.hint(e.name) if keys is not None else locked
            except CarrelError:
                hints[e.name] = locked
        rows = [
            {
                "name": e.name,
                "base_url": e.base_url,
                "model": e.model,
                "kind": str(e.kind),
                "enabled": e.enabled,
                "key": hints[e.name],
            }
            for e in wb.privacy.endpoints()
        ]
        if args.json:
            print_json(rows)
        elif not rows:
            print("No remote endpoints: everything runs on this device.")
        else:
            for r in rows:
                state = "on " if r["enabled"] else "off"
                print(
                    f"{state}  {r['name']}  {r['kind']}  {r['model']}  {r['base_url']}  "
                    f"key {r['key']}"
                )
        return 0


def _remove(args: argparse.Namespace) -> int:
    with workbench() as wb:
        e = wb.privacy.remove_endpoint(args.name)
        cleared = False
        # No vault: no key to clear, and removing an endpoint never creates one.
        if not ((args.vault or wb.privacy.uses_vault) and not wb.privacy.has_vault):
            try:
                cleared = wb.privacy.clear_key(e.name, open_keys(wb, args.vault))
            except KeyringUnavailableError:
                cleared = False
        print(f"Removed {e.name}" + (" and its key." if cleared else "."))
        return 0


def _enable(args: argparse.Namespace) -> int:
    with workbench() as wb:
        e = wb.privacy.set_enabled(args.name, args.enabled)
        if args.enabled:
            print(f"{e.name} is on: requests to {e.host} may leave after you approve each one.")
        else:
            print(f"{e.name} is off: nothing will be sent to {e.host}.")
        return 0


def _set_key(args: argparse.Namespace) -> int:
    with workbench() as wb:
        wb.privacy.endpoint(args.name)  # a typo fails before any prompt
        keys = open_keys(wb, args.vault, create=True)
        key = read_secret(f"API key for {args.name}: ")
        shown = wb.privacy.set_key(args.name, key, keys)
        print(f"Stored the key for {args.name} ({shown}) in {keys.where}.")
        return 0


def _clear_key(args: argparse.Namespace) -> int:
    with workbench() as wb:
        keys = open_keys(wb, args.vault)
        if wb.privacy.clear_key(args.name, keys):
            print(f"Deleted the key for {args.name} from {keys.where}.")
        else:
            print(f"There was no key for {args.name} in {keys.where}.")
        return 0


def _ledger(args: argparse.Namespace) -> int:
    with workbench() as wb:
        ledger = wb.privacy.ledger
        if args.json:
            sys.stdout.write(ledger.export_json() + "\n")
            return 0
        if args.csv:
            sys.stdout.write(ledger.export_csv())
            return 0
        entries = ledger.entries()
        for e in entries:
            d = e.as_dict()
            what = e.describe_outcome()
            if e.bytes:
                what += f": {e.bytes:,} B sha256 {e.sha256[:12]}… {e.redactions} redacted"
            if e.carried:
                what += f": {e.carried}"
            conv = f" «{e.describe_conversation()}»" if e.conversation_id is not None else ""
            print(
                f"{d['at']}  [{e.describe_origin()}] {e.host} ({e.kind}) {e.model}{conv}, "
                f"consent {e.consent}: {what}"
            )
        print(summary(entries))
        return 0
