"""API keys in a keyring, never in a file Carrel writes in the clear.

The backend is chosen in code, never by keyring's own detection (merely installing
`keyrings.cryptfile` makes it the default, which then prompts on stdin): the operating
system's keyring (Secret Service, macOS Keychain, Windows Credential Locker), or an
encrypted file vault unlocked by a passphrase the person types. Keys are shown only as
their last four characters.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.privacy.errors import KeyringLockedError, KeyringUnavailableError, VaultLockedError

log = logging.getLogger(__name__)

SERVICE = "carrel"
VAULT_NAME = "keys.vault"


def hint(key: str | None) -> str:
    """What may be shown of a key: its last four characters."""
    if not key:
        return "(no key)"
    return "…" + key[-4:] if len(key) > 4 else "…"


def _account(endpoint: str) -> str:
    return f"remote:{endpoint}"


def system_backend() -> Any:
    """The operating system's keyring, or `KeyringUnavailableError` saying why not."""
    try:
        if sys.platform == "darwin":
            from keyring.backends import macOS

            backend: Any = macOS.Keyring()
        elif sys.platform == "win32":
            from keyring.backends import Windows

            backend = Windows.WinVaultKeyring()
        else:
            from keyring.backends import SecretService

            backend = SecretService.Keyring()  # type: ignore[no-untyped-call]
        backend.priority  # noqa: B018 - raises when the service is not reachable
    except Exception as exc:
        raise KeyringUnavailableError(str(exc) or type(exc).__name__) from exc
    return backend


def vault_backend(path: Path, passphrase: str) -> Any:
    """The encrypted file vault at `path`, unlocked (or created) with `passphrase`."""
    from keyrings.cryptfile.cryptfile import (  # type: ignore[import-untyped]
        CryptFileKeyring,
    )

    path.parent.mkdir(parents=True, exist_ok=True)
    backend = CryptFileKeyring()
    backend.file_path = str(path)
    try:
        backend.keyring_key = passphrase
    except ValueError as exc:  # the MAC check of the reference entry failed
        raise VaultLockedError from exc
    return backend


class Keys:
    """Set, read, replace and clear the API key of each remote endpoint."""

    def __init__(self, backend: Any, where: str) -> None:
        self._backend = backend
        # For the person: "system keyring" or "encrypted vault at …".
        self.where = where

    @classmethod
    def system(cls) -> Keys:
        return cls(system_backend(), "the system keyring")

    @classmethod
    def vault(cls, path: Path, passphrase: str) -> Keys:
        return cls(vault_backend(path, passphrase), f"the encrypted vault {path}")

    def set(self, endpoint: str, key: str) -> str:
        """Store (or replace) the key; returns the hint that may be shown."""
        key = key.strip()
        if not key:
            raise ValueError("empty key")
        with self._unlocked():
            self._backend.set_password(SERVICE, _account(endpoint), key)
        log.info("Stored a key for %s in %s", endpoint, self.where)
        return hint(key)

    def get(self, endpoint: str) -> str | None:
        with self._unlocked():
            value = self._backend.get_password(SERVICE, _account(endpoint))
        return str(value) if value is not None else None

    @contextmanager
    def _unlocked(self) -> Iterator[None]:
        """A locked keyring (the person dismissed its prompt) is an error they can act on."""
        import keyring.errors

        try:
            yield
        except keyring.errors.KeyringLocked as exc:
            raise KeyringLockedError(self.where) from exc

    def hint(self, endpoint: str) -> str:
        return hint(self.get(endpoint))

    def clear(self, endpoint: str) -> bool:
        """Delete the key; False when there was none."""
        import keyring.errors

        try:
            with self._unlocked():
                self._backend.delete_password(SERVICE, _account(endpoint))
        except keyring.errors.PasswordDeleteError:
            return False
        log.info("Cleared the key for %s in %s", endpoint, self.where)
        return True
