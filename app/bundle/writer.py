"""Writing a bundle: models and collections streamed into one tar, each file read once and
hashed on the way, the manifest last (see `app.bundle.manifest` for the layout).

The archive is written to `<out>.part` and renamed when whole, beside a `<out>.sha256` file
(`sha256sum -c` reads it) so the copy that reaches the other machine can be checked before
anything else; an export that fails or is stopped leaves neither behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import tarfile
import time
from pathlib import Path
from typing import BinaryIO

from app.bundle.errors import BundleError, BundleSpaceError
from app.bundle.manifest import (
    MANIFEST,
    MANIFEST_SUM,
    RECORDS,
    ROOT,
    SENTENCES,
    FileEntry,
    Manifest,
)
from app.bundle.stream import CHUNK, HashingWriter, RangeReader, Ticker, data_extents
from app.rag.naming import collection_key

# pax header keys that carry a sparse file's ranges inside the archive, so an import can
# write the file as it reads it; the manifest lists them too, and both must agree.
PAX_LENGTH = "CARREL.length"
PAX_EXTENTS = "CARREL.extents"


def sum_file(out: Path) -> Path:
    """The `sha256sum`-style file written beside a bundle."""
    return out.with_name(out.name + ".sha256")


class BundleWriter:
    """One archive being written. `add_file` and `add_bytes` return the manifest's entry
    for what they added; `finish` writes the manifest and puts the archive in place."""

    def __init__(self, out: Path, ticker: Ticker) -> None:
        self.out = out
        self.part = out.with_name(out.name + ".part")
        self.ticker = ticker
        self.entries: list[FileEntry] = []
        out.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.part.open("wb")
        self._hashed = HashingWriter(self._file)
        self._now = int(time.time())

    def _member(self, info: tarfile.TarInfo, source: BinaryIO) -> None:
        """A tar member as tarfile lays it out (pax header, data, zeros to 512 bytes),
        written straight to the archive: tarfile's own stream copies its buffer over and
        over (see `app.bundle.stream.CHUNK`)."""
        self._hashed.write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        left = info.size
        while left:
            data = source.read(min(CHUNK, left))
            if not data:
                raise OSError("unexpected end of data")
            self._hashed.write(data)
            left -= len(data)
        if info.size % tarfile.BLOCKSIZE:
            self._hashed.write(tarfile.NUL * (tarfile.BLOCKSIZE - info.size % tarfile.BLOCKSIZE))

    def add_file(self, member: str, path: Path, *, sparse: bool = False) -> FileEntry:
        """Add a file (only its data ranges when `sparse`) as `member` (under `ROOT`)."""
        self.ticker.at(member)
        if sparse:
            length, extents = data_extents(path)
        else:
            length, extents = path.stat().st_size, [(0, path.stat().st_size)]
        size = sum(n for _, n in extents)
        info = tarfile.TarInfo(f"{ROOT}/{member}")
        info.size, info.mtime, info.mode = size, self._now, 0o644
        if sparse:
            info.pax_headers = {
                PAX_LENGTH: str(length),
                PAX_EXTENTS: ",".join(f"{a}:{n}" for a, n in extents),
            }
        reader = RangeReader(path, extents, self.ticker)
        try:
            self._member(info, reader)  # type: ignore[arg-type]
        except OSError as exc:
            if "unexpected end of data" in str(exc):
                raise BundleError(
                    f"'{path}' changed while it was being exported; try again."
                ) from exc
            raise
        finally:
            reader.close()
        entry = FileEntry(
            member,
            size,
            reader.sha256.hexdigest(),
            length if sparse else None,
            extents if sparse else None,
        )
        self.entries.append(entry)
        return entry

    def add_bytes(self, member: str, data: bytes) -> FileEntry:
        """Add a small file made here (a collection's records)."""
        info = tarfile.TarInfo(f"{ROOT}/{member}")
        info.size, info.mtime, info.mode = len(data), self._now, 0o644
        self._member(info, io.BytesIO(data))
        entry = FileEntry(member, len(data), hashlib.sha256(data).hexdigest())
        self.entries.append(entry)
        return entry

    def add_json(self, member: str, value: object) -> FileEntry:
        return self.add_bytes(member, json.dumps(value, ensure_ascii=False).encode())

    def finish(self, manifest: Manifest) -> tuple[int, str]:
        """Write the manifest and its checksum, close, and put the archive and its
        `.sha256` file in place; returns the archive's size and SHA-256."""
        manifest.files = list(self.entries)
        data = manifest.to_json()
        self.add_bytes(MANIFEST, data)
        self.add_bytes(MANIFEST_SUM, (hashlib.sha256(data).hexdigest() + "\n").encode())
        # The end of a tar: two zero blocks, then zeros to a whole record, as tar writes it.
        end = self._hashed.size + 2 * tarfile.BLOCKSIZE
        padding = -end % tarfile.RECORDSIZE
        self._hashed.write(tarfile.NUL * (2 * tarfile.BLOCKSIZE + padding))
        self._file.flush()
        with contextlib.suppress(OSError):
            os.fsync(self._file.fileno())
        self._file.close()
        digest = self._hashed.sha256.hexdigest()
        self.part.replace(self.out)
        sum_file(self.out).write_text(f"{digest}  {self.out.name}\n", encoding="utf-8")
        return self._hashed.size, digest

    def abort(self) -> None:
        """Throw the half-written archive away."""
        with contextlib.suppress(OSError):
            self._file.close()
        self._hashed.sha256.close()
        self.part.unlink(missing_ok=True)


def check_space(out: Path, need: int) -> None:
    """Refuse before writing when the bundle would not fit where it is going."""
    folder = out.parent if out.parent.exists() else Path.cwd()
    free = shutil.disk_usage(folder).free
    if need > free:
        raise BundleSpaceError(folder, need, free)


def collection_member(name: str, *parts: str) -> str:
    return "/".join(("collections", collection_key(name), *parts))


def sentences_member(name: str, suffix: str) -> str:
    return collection_member(name, SENTENCES + suffix)


def records_member(name: str) -> str:
    return collection_member(name, RECORDS)
