"""Reading a bundle: every member written into staging folders on the disks it is going to
(so placing it later is a rename), hashed as it is written, and nothing trusted until the
whole archive has been read and every file matches the manifest.

Refused, with the file named and the staging folders removed: a member whose bytes or size
differ from the manifest, a manifest that differs from its own checksum, an archive cut
short, a name a bundle never holds (so nothing can be written outside the staging folder),
links and devices, and a `.sha256` file beside the archive that disagrees with it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil

from app.bundle.errors import (
    BundleDamagedError,
    BundleSpaceError,
    BundleTruncatedError,
    NotABundleError,
)
from app.bundle.manifest import (
    MANIFEST,
    MANIFEST_SUM,
    MODEL_MEMBER,
    ROOT,
    FileEntry,
    Manifest,
    is_member,
)
from app.bundle.stream import CHUNK, HashingReader, Ticker
from app.bundle.writer import PAX_EXTENTS, PAX_LENGTH, sum_file
from app.rag.naming import collection_key

STAGING = ".bundle-import-"
_SMALL = 64 << 20  # the manifest and its checksum are read into memory, up to this size


@dataclass
class Staged:
    """A verified bundle in its staging folders, waiting to be placed or discarded."""

    archive: Path
    manifest: Manifest
    sha256: str
    size: int
    folders: list[Path]
    # Each member's staged file, by its path under `ROOT`.
    files: dict[str, Path] = field(default_factory=dict)

    def discard(self) -> None:
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)


def staging_folder(parent: Path) -> Path:
    """A fresh staging folder in `parent`; those a dead process left there are removed."""
    parent.mkdir(parents=True, exist_ok=True)
    for old in parent.glob(f"{STAGING}*"):
        pid = old.name[len(STAGING) :].split("-", 1)[0]
        if not pid.isdigit() or not psutil.pid_exists(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    folder = parent / f"{STAGING}{os.getpid()}-{secrets.token_hex(4)}"
    folder.mkdir()
    return folder


def stage(archive: Path, models_dir: Path, index_root: Path, ticker: Ticker) -> Staged:
    """Read and verify the whole bundle into staging folders under `models_dir` and
    `index_root`; raises a `BundleError` naming what is wrong (and removes the staging)."""
    try:
        size = archive.stat().st_size
    except OSError as exc:
        raise NotABundleError(archive, exc.strerror or "cannot be read") from exc
    ticker.state.total = size
    models, index = staging_folder(models_dir), staging_folder(index_root)
    staged = Staged(archive, Manifest(0, ""), "", size, [models, index])
    try:
        _verify(staged, *_extract(archive, staged, models, index, ticker))
        return staged
    except BaseException:
        staged.discard()
        raise


# What was written of a staged member: (bytes, SHA-256, ranges for a sparse file or None).
Written = tuple[int, str, list[tuple[int, int]] | None]


def _extract(
    archive: Path, staged: Staged, models: Path, index: Path, ticker: Ticker
) -> tuple[dict[str, bytes], dict[str, Written]]:
    """Write every member into the staging folders; returns the manifest and its
    checksum (read into memory) and what was written of each other member."""
    small: dict[str, bytes] = {}
    written: dict[str, Written] = {}
    current = ""
    with archive.open("rb") as raw:
        reader = HashingReader(raw, ticker)
        try:
            # A stream: closed with the file it reads.
            tar = tarfile.open(fileobj=reader, mode="r:")  # type: ignore[call-overload]  # noqa: SIM115
            for member in tar:
                if member.isdir():
                    continue
                rel = _member_name(archive, member)
                current = rel
                if rel in staged.files or rel in small:
                    raise NotABundleError(archive, f"it holds {rel} twice")
                source = tar.extractfile(member)
                assert source is not None
                if rel in (MANIFEST, MANIFEST_SUM):
                    if member.size > _SMALL:
                        raise NotABundleError(archive, f"its {rel} is {member.size:,} bytes")
                    small[rel] = source.read()
                    continue
                target = (models if MODEL_MEMBER.fullmatch(rel) else index) / rel
                staged.files[rel] = target
                ticker.at(rel)
                written[rel] = _write(source, target, member, archive, rel)
            current = ""
            reader.drain()
        except (tarfile.ReadError, EOFError) as exc:
            if not current and not staged.files and not small:
                raise NotABundleError(archive, f"not a tar archive: {exc}") from exc
            raise BundleTruncatedError(archive, current or "between two files") from exc
        finally:
            staged.sha256 = reader.sha256.hexdigest()  # the helper thread ends either way
    return small, written


def _member_name(archive: Path, member: tarfile.TarInfo) -> str:
    prefix = ROOT + "/"
    if not member.name.startswith(prefix):
        raise NotABundleError(archive, f"it holds {member.name}, outside {ROOT}/")
    rel = member.name[len(prefix) :]
    if not member.isfile():
        raise NotABundleError(archive, f"{rel} is a link or a device, which bundles never hold")
    if rel not in (MANIFEST, MANIFEST_SUM) and not is_member(rel):
        raise NotABundleError(archive, f"it holds {rel}, which a Carrel bundle never does")
    return rel


def _write(
    source: IO[bytes], target: Path, member: tarfile.TarInfo, archive: Path, rel: str
) -> Written:
    """Write a member's bytes to `target` (at its ranges, for a sparse one), hashing them."""
    length, extents = _layout(member, archive, rel)
    target.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target.parent).free
    if member.size + CHUNK > free:
        raise BundleSpaceError(target.parent, member.size, free)
    digest = hashlib.sha256()
    with target.open("wb") as out:
        for offset, count in extents or [(0, member.size)]:
            out.seek(offset)
            while count > 0:
                data = source.read(min(CHUNK, count))
                if not data:
                    raise tarfile.ReadError("unexpected end of data")
                digest.update(data)
                out.write(data)
                count -= len(data)
        if length is not None:
            out.truncate(length)  # the rest of a sparse file stays a hole
    return member.size, digest.hexdigest(), extents


def _layout(
    member: tarfile.TarInfo, archive: Path, rel: str
) -> tuple[int | None, list[tuple[int, int]] | None]:
    """A sparse member's length and ranges from its pax header (None, None: a plain file);
    ranges out of order, past the length, or not adding up to the member are refused."""
    raw, length = member.pax_headers.get(PAX_EXTENTS), member.pax_headers.get(PAX_LENGTH)
    if raw is None and length is None:
        return None, None
    try:
        extents = [
            (int(a), int(n))
            for a, n in (item.split(":") for item in (raw or "").split(",") if item)
        ]
        entry = FileEntry(rel, member.size, "", int(length or -1), extents)
        entry.check()
    except ValueError as exc:
        raise BundleDamagedError(archive, rel, "has a damaged layout header") from exc
    return entry.length, extents


def _verify(staged: Staged, small: dict[str, bytes], written: dict[str, Written]) -> None:
    """Every check, after the whole archive is read; raises on the first failure."""
    archive = staged.archive
    if MANIFEST not in small or MANIFEST_SUM not in small:
        raise BundleTruncatedError(archive, "")
    data = small[MANIFEST]
    if hashlib.sha256(data).hexdigest() != small[MANIFEST_SUM].decode(errors="replace").strip():
        raise BundleDamagedError(archive, MANIFEST, "does not match its own checksum")
    try:
        staged.manifest = Manifest.from_json(data)
    except ValueError as exc:
        raise NotABundleError(archive, str(exc)) from exc
    listed = {entry.path: entry for entry in staged.manifest.files}
    for rel in staged.files:
        entry = listed.get(rel)
        if entry is None:
            raise BundleDamagedError(archive, rel, "is in the archive but not in its manifest")
        _check(archive, entry, written[rel])
    missing = sorted(set(listed) - set(staged.files))
    if missing:
        raise BundleDamagedError(archive, missing[0], "is in the manifest but not in the archive")
    _check_sum_file(staged)
    for collection in staged.manifest.collections:
        shard = staged.folders[1] / "collections" / collection_key(collection.name) / "shard"
        for folder in collection.dirs:
            (shard / folder).mkdir(parents=True, exist_ok=True)


def _check(archive: Path, entry: FileEntry, written: Written) -> None:
    size, digest, extents = written
    if size != entry.size:
        raise BundleDamagedError(
            archive, entry.path, f"holds {size:,} bytes but the manifest says {entry.size:,}"
        )
    if digest != entry.sha256:
        raise BundleDamagedError(
            archive,
            entry.path,
            f"has SHA-256 {digest[:16]}…, the manifest says {entry.sha256[:16]}…",
        )
    if extents != entry.extents:
        raise BundleDamagedError(archive, entry.path, "is laid out unlike its manifest says")


def _check_sum_file(staged: Staged) -> None:
    """A `.sha256` file beside the archive (the export writes one) must agree with it."""
    with contextlib.suppress(OSError):
        text = sum_file(staged.archive).read_text(encoding="utf-8").split()
        if text and text[0].lower() != staged.sha256:
            raise BundleDamagedError(
                staged.archive,
                staged.archive.name,
                f"has SHA-256 {staged.sha256[:16]}…, its .sha256 file says {text[0][:16]}…",
            )
