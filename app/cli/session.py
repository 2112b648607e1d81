"""What the subcommands share: the Workbench for the length of a command, secrets read
from the terminal, and the key store a command asks for."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from app.errors import CarrelError
from app.privacy.keys import Keys
from app.workbench import Workbench


@contextmanager
def workbench() -> Iterator[Workbench]:
    """The Workbench, opened for one command and closed after it, however it ends."""
    wb = Workbench.open()
    try:
        yield wb
    finally:
        wb.close()


def read_secret(prompt: str) -> str:
    """A key or passphrase from the terminal without echo, or one line of a pipe; never
    from the command line, so it stays out of shell history."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline()
    if not line:
        raise CarrelError(f"{prompt.rstrip(': ')} was expected on standard input; none came.")
    return line.rstrip("\r\n")


def open_keys(wb: Workbench, vault: bool, *, create: bool = False) -> Keys:
    """The key store: the vault (its passphrase read now, twice when `create` makes a new
    one) when `vault` is asked for or the keys already live there, else the system
    keyring. Keys move to the vault only once it opened."""
    if not (vault or wb.privacy.uses_vault):
        return wb.privacy.keys()
    new = not wb.privacy.has_vault
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
    return wb.privacy.unlock_vault(passphrase)
