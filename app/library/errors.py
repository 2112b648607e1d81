"""The model library's errors: hub, download, import and quantize failures a person meets."""

from __future__ import annotations

from pathlib import Path

from app.errors import CarrelError


class HubError(CarrelError):
    """The model hub could not be asked (offline, refused, an answer we cannot read)."""


class HubOfflineError(HubError):
    """HF_HUB_OFFLINE is set: the person asked that the hub is never contacted."""

    def __init__(self) -> None:
        super().__init__(
            "The model hub is switched off here (HF_HUB_OFFLINE is set), so Carrel did not "
            "contact it. Unset HF_HUB_OFFLINE to search and download models; the models "
            "already on this device work as before."
        )


class HubUnreachableError(HubError):
    """The network went away or the hub did not answer."""

    def __init__(self, endpoint: str, detail: str, *, nothing_sent: bool = False) -> None:
        super().__init__(
            f"Cannot reach the model hub at {endpoint} ({detail}). Check the network "
            "connection and try again; downloads resume where they stopped."
        )
        self.detail = detail
        # True when the failure came before any byte of the request left (connecting).
        self.nothing_sent = nothing_sent


class GatedRepoError(HubError):
    """401/403: the repository is gated or private and needs an accepted licence and token."""

    def __init__(self, repo: str, status: int) -> None:
        super().__init__(
            f"'{repo}' refused access (HTTP {status}): it is gated or private. Accept its "
            "licence on huggingface.co and add your Hugging Face token in Settings."
        )
        self.repo = repo
        self.status = status


class HubNotFoundError(HubError):
    """404: no such repository, revision or file."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"The hub has no {what}. Check the spelling, or search with 'carrel models search'."
        )


class DownloadError(CarrelError):
    """A download that cannot go on (disk, hash, cancelled)."""


class DiskFullError(DownloadError):
    """Not enough free space for the file being downloaded, copied or written."""

    def __init__(self, need: int, free: int, where: Path) -> None:
        gb = 1e9
        super().__init__(
            f"Not enough disk space in {where}: {need / gb:.2f} GB needed, {free / gb:.2f} GB "
            "free. Free some space or delete models you no longer use."
        )
        self.need = need
        self.free = free


class HashMismatchError(DownloadError):
    """The bytes on disk do not have the SHA-256 the hub (or the record) says they should."""

    def __init__(self, name: str, expected: str, actual: str) -> None:
        super().__init__(
            f"'{name}' is damaged: its SHA-256 is {actual[:12]}… but should be "
            f"{expected[:12]}…. The bad copy was removed; download it again."
        )
        self.expected = expected
        self.actual = actual


class DownloadCancelledError(DownloadError):
    """A download stopped on request (cancel removes the part file, pause keeps it)."""

    def __init__(self, name: str, paused: bool) -> None:
        what = "paused; resume it to continue" if paused else "cancelled"
        super().__init__(f"The download of '{name}' was {what}.")
        self.paused = paused


class ImportModelError(CarrelError):
    """A file that cannot be imported into the library."""


class QuantizeError(CarrelError):
    """llama.cpp could not quantize a model (or the quantization was cancelled)."""
