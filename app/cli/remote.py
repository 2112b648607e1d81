"""`carrel remote …` (endpoints and their keys) and `carrel ledger` (what left the device).

Keys and passphrases are read from the terminal without echo (or one line each from a
pipe), never from the command line, so they stay out of shell history.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from app.cli.output import print_json
from app.config import Paths
from app.errors import CarrelError
from app.privacy.errors import KeyringUnavailableError
from app.privacy.keys import Keys
from app.privacy.ledger import summary
from app.privacy.policy import EndpointKind
from app.privacy.service import Privacy
from app.store import Store


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


def read_secret(prompt: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline()
    if not line:
        raise CarrelError(f"{prompt.rstrip(': ')} was expected on standard input; none came.")
    return line.rstrip("\r\n")


class KeySession:
    def __init__(self) -> None:
        self.paths = Paths.default().ensure()
        self.store = Store(self.paths.database)
        self.privacy = Privacy(self.paths, self.store)

    def uses_vault(self, vault: bool) -> bool:
        return vault or self.privacy.policy.key_store == "vault"

    def vault_exists(self) -> bool:
        return Path(self.privacy.vault_path).exists()

    def keys(self, vault: bool, *, create: bool = False) -> Keys:
        """The key store; the vault asks for its passphrase (twice when `create` makes a new
        one). The policy switches to the vault only once it opened."""
        if not self.uses_vault(vault):
            return self.privacy.keys()
        new = not self.vault_exists()
        if new and not create:
            raise CarrelError(
                "There is no key vault yet, so it holds no key. "
                "'carrel remote set-key NAME --vault' creates one."
            )
        passphrase = read_secret("New vault passphrase: " if new else "Vault passphrase: ")
        if not passphrase:
            raise CarrelError("An empty passphrase cannot lock the vault; nothing was changed.")
        if new and read_secret("Repeat the new passphrase: ") != passphrase:
            raise CarrelError("The two passphrases differ; no vault was created.")
        keys = Keys.vault(Path(self.privacy.vault_path), passphrase)
        if self.privacy.policy.key_store != "vault":
            self.privacy.use_vault(True)
        return keys

    def close(self) -> None:
        self.store.close()


def with_key_session(args: argparse.Namespace, body: Any) -> int:
    s = KeySession()
    try:
        result: int = body(s, args)
        return result
    finally:
        s.close()


def _add(args: argparse.Namespace) -> int:
    def body(s: KeySession, a: argparse.Namespace) -> int:
        e = s.privacy.add_endpoint(a.name, a.url, a.model, EndpointKind(a.kind))
        print(f"Added {e.name} ({e.kind}, {e.host}), switched off. ")
        print(
            f"Store its key with 'carrel remote set-key {e.name}'; switch it on with "
            f"'carrel remote enable {e.name}'."
        )
        return 0

    return with_key_session(args, body)


def _list(args: argparse.Namespace) -> int:
    def body(s: KeySession, a: argparse.Namespace) -> int:
        hints: dict[str, str] = {}
        keys: Keys | None = None
        locked = "(key store locked)"
        if s.uses_vault(a.vault) and not s.vault_exists():
            locked = "(no key vault yet)"  # listing never creates one
        elif s.privacy.policy.key_store != "vault" or a.vault:
            try:
                keys = s.keys(a.vault)
            except KeyringUnavailableError:
                keys = None
        for e in s.privacy.endpoints():
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
            for e in s.privacy.endpoints()
        ]
        if a.json:
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

    return with_key_session(args, body)


def _remove(args: argparse.Namespace) -> int:
    def body(s: KeySession, a: argparse.Namespace) -> int:
        e = s.privacy.remove_endpoint(a.name)
        cleared = False
        if not (s.uses_vault(a.vault) and not s.vault_exists()):  # no vault: no key to clear
            try:
                cleared = s.keys(a.vault).clear(e.name)
            except KeyringUnavailableError:
                cleared = False
        print(f"Removed {e.name}" + (" and its key." if cleared else "."))
        return 0

    return with_key_session(args, body)


def _enable(args: argparse.Namespace) -> int:
    def body(s: KeySession, a: argparse.Namespace) -> int:
        e = s.privacy.set_enabled(a.name, a.enabled)
        if a.enabled:
            print(f"{e.name} is on: requests to {e.host} may leave after you approve each one.")
        else:
            print(f"{e.name} is off: nothing will be sent to {e.host}.")
        return 0

    return with_key_session(args, body)


def _set_key(args: argparse.Namespace) -> int:
    def body(s: KeySession, a: argparse.Namespace) -> int:
        s.privacy.policy.endpoint(a.name)  # a typo fails before any prompt
        keys = s.keys(a.vault, create=True)
        key = read_secret(f"API key for {a.name}: ")
        if not key.strip():
            raise CarrelError("The key was empty; nothing was stored.")
        shown = keys.set(a.name, key)
        print(f"Stored the key for {a.name} ({shown}) in {keys.where}.")
        return 0

    return with_key_session(args, body)


def _clear_key(args: argparse.Namespace) -> int:
    def body(s: KeySession, a: argparse.Namespace) -> int:
        keys = s.keys(a.vault)
        if keys.clear(a.name):
            print(f"Deleted the key for {a.name} from {keys.where}.")
        else:
            print(f"There was no key for {a.name} in {keys.where}.")
        return 0

    return with_key_session(args, body)


def _ledger(args: argparse.Namespace) -> int:
    def body(s: KeySession, a: argparse.Namespace) -> int:
        ledger = s.privacy.ledger
        if a.json:
            sys.stdout.write(ledger.export_json() + "\n")
            return 0
        if a.csv:
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
            print(f"{d['at']}  {e.host} ({e.kind}) {e.model}{conv}, consent {e.consent}: {what}")
        print(summary(entries))
        return 0

    return with_key_session(args, body)
