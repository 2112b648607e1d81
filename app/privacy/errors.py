"""The privacy errors a person can meet, each saying what happened and what to do."""

from __future__ import annotations

from app.errors import CarrelError


class KeyringUnavailableError(CarrelError):
    """No operating-system keyring can hold an API key on this machine."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"No system keyring is available here ({detail}). Keep API keys in Carrel's "
            "encrypted file vault instead: it is unlocked by a passphrase you type "
            "('carrel remote set-key NAME --vault')."
        )


class KeyringLockedError(CarrelError):
    """The keyring holding the keys stayed locked."""

    def __init__(self, where: str) -> None:
        super().__init__(
            f"{where[0].upper()}{where[1:]} is locked. Unlock it (your desktop's keyring "
            "prompt or Passwords and Keys) and try again."
        )


class VaultLockedError(CarrelError):
    """The encrypted key vault could not be opened with the passphrase given."""

    def __init__(self) -> None:
        super().__init__(
            "The key vault did not open: the passphrase is wrong. Type it again; if it is "
            "lost, delete the vault file and set the keys again."
        )


class EndpointNotFoundError(CarrelError):
    """A remote endpoint name that is not configured."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"There is no remote endpoint called '{name}'. "
            "Run 'carrel remote list' to see them, or 'carrel remote add' to add one."
        )
        self.name = name


class EndpointExistsError(CarrelError):
    """`remote add` with a name already in use."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"A remote endpoint called '{name}' already exists; remove it first or pick "
            "another name."
        )


class InvalidEndpointError(CarrelError):
    """A base URL, kind or pattern that cannot be used."""


class RemoteDisabledError(CarrelError):
    """A request to an endpoint that the person has not switched on."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"The remote endpoint '{name}' is switched off, so nothing was sent. Switch it on "
            f"in Settings or with 'carrel remote enable {name}'."
        )
        self.name = name


class ConsentRefusedError(CarrelError):
    """The person refused to let a request leave the device."""

    def __init__(self, host: str) -> None:
        super().__init__(
            f"You refused to send this request to {host}; nothing left the device. "
            "Ask again to review it, or answer with the local model."
        )
        self.host = host


class OnDeviceOnlyError(CarrelError):
    """Passages from an on-device-only collection would have gone to a remote endpoint."""

    def __init__(self, collections: list[str], *, run_locally: bool) -> None:
        names = ", ".join(sorted(set(collections)))
        super().__init__(
            f"Passages from the on-device-only collection(s) {names} cannot be sent to a "
            "remote endpoint; nothing left the device. Answer with the local model, or "
            "change the collection's setting."
        )
        self.collections = sorted(set(collections))
        # The policy says: answer this with the local model instead of refusing.
        self.run_locally = run_locally


class RemoteFailedError(CarrelError):
    """The remote endpoint could not be reached or answered with an error."""

    def __init__(self, host: str, detail: str) -> None:
        super().__init__(
            f"The remote endpoint {host} failed ({detail}). Check that it is running and "
            "the key is right, or answer with the local model."
        )
        self.host = host


class NamesModelError(CarrelError):
    """A named-entity model that cannot be imported or used."""
