"""A catalog entry made concrete: its file on the hub (size, SHA-256) and whether it fits
this machine at a context length. Asking goes online (the hub's file list and a few
hundred kilobytes of the file's header), so it is done when a person asks: "Look up" or
"Download" on the Catalog tab, or `carrel models catalog --fit`."""

from __future__ import annotations

from dataclasses import dataclass

from app.library.catalog import CatalogEntry
from app.library.errors import HubNotFoundError
from app.library.hub import RepoDetails
from app.library.listings import QuantChoice
from app.library.service import ModelLibrary


@dataclass(frozen=True)
class CatalogChoice:
    """A catalog entry with its repository as the hub lists it and the quant file the
    entry recommends, with that file's fit verdict."""

    entry: CatalogEntry
    details: RepoDetails
    choice: QuantChoice

    @property
    def filename(self) -> str:
        return self.choice.file.name

    @property
    def size(self) -> int:
        return self.choice.file.size


def look_up(library: ModelLibrary, entry: CatalogEntry, n_ctx: int) -> CatalogChoice:
    """Ask the hub for `entry`'s repository and pick the file of its quant (raises a
    `HubError` saying why when the hub cannot be asked or has no such file)."""
    details, choices = library.files(entry.repo, n_ctx)
    wanted = entry.quant.upper()
    for choice in choices:
        if choice.file.quant.upper() == wanted:
            return CatalogChoice(entry, details, choice)
    raise HubNotFoundError(f"{entry.quant} file in '{entry.repo}'")
