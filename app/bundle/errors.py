"""The bundle errors a person meets, each naming the archive or the file inside it."""

from __future__ import annotations

from pathlib import Path

from app.errors import CarrelError


class BundleError(CarrelError):
    """A bundle that cannot be written or taken in; nothing in the library was changed."""


class NotABundleError(BundleError):
    """A file that is not a Carrel bundle, or whose manifest cannot be read."""

    def __init__(self, archive: Path, detail: str) -> None:
        super().__init__(
            f"'{archive.name}' is not a Carrel bundle Carrel can read ({detail}). Nothing "
            "was imported; make the bundle again with 'carrel bundle export'."
        )


class BundleDamagedError(BundleError):
    """A file inside the bundle whose bytes differ from what its manifest says."""

    def __init__(self, archive: Path, member: str, detail: str) -> None:
        super().__init__(
            f"The bundle '{archive.name}' is damaged: {member} {detail}. Nothing was "
            "imported; copy the bundle again (compare its .sha256 file) or export it again."
        )
        self.member = member


class BundleTruncatedError(BundleError):
    """An archive that ends early: an interrupted copy or a full disk where it was written."""

    def __init__(self, archive: Path, member: str) -> None:
        where = f"inside {member}" if member else "before its manifest"
        super().__init__(
            f"The bundle '{archive.name}' is cut short ({where}): the copy was interrupted. "
            "Nothing was imported; copy the whole file again."
        )
        self.member = member


class BundleConflictError(BundleError):
    """Names in the bundle that the library already has: the person must choose."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(
            f"This library already has {', '.join(names)}. Nothing was imported; run the "
            "import again with --replace to replace them or --skip to keep yours."
        )
        self.names = names


class BundleCancelledError(BundleError):
    """The person stopped an export or import; what was half written is removed."""

    def __init__(self, what: str) -> None:
        super().__init__(f"The bundle {what} was stopped; nothing was kept of it.")


class BundleSpaceError(BundleError):
    """Not enough room on the disk the bundle is written to or taken in on."""

    def __init__(self, where: Path, need: int, free: int) -> None:
        super().__init__(
            f"Not enough disk space in {where}: {need / 1e9:.2f} GB needed, {free / 1e9:.2f} "
            "GB free. Free some space and try again; nothing was changed."
        )
