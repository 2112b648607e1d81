"""Bring GGUF files in from a path, a folder or removable media; hash and re-verify them."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import CarrelError
from app.library.errors import DiskFullError, ImportModelError
from app.library.gguf import GGUFHeader, read_header
from app.library.quants import split_part
from app.library.records import ModelRecord

CHUNK = 1 << 20


@dataclass
class ImportReport:
    """How each file of an import went: the records of the files imported, and each file
    that failed with its error (the others were imported all the same)."""

    imported: list[ModelRecord] = field(default_factory=list)
    failed: list[tuple[Path, CarrelError]] = field(default_factory=list)
    # Files imported that the library had already: (file, the model it had).
    duplicates: list[tuple[Path, str]] = field(default_factory=list)

    def describe(self) -> str:
        """One line per file, for the command line and the Models page."""
        lines = [f"Imported {r.name}." for r in self.imported]
        lines += [f"Not imported {path.name}: {exc.message}" for path, exc in self.failed]
        lines += [self._duplicate(path, name) for path, name in self.duplicates]
        return "\n".join(lines)

    @staticmethod
    def _duplicate(path: Path, name: str) -> str:
        return (
            f"Note: {path.name} is a duplicate: the library already had it as '{name}' (the "
            "same file or the same SHA-256). Remove one of them if you do not need both."
        )

    def warning(self) -> str:
        """One line about the files the library had already ('' when none)."""
        if not self.duplicates:
            return ""
        if len(self.duplicates) == 1:
            return self._duplicate(*self.duplicates[0])
        names = ", ".join(f"{path.name} (as '{name}')" for path, name in self.duplicates)
        return (
            f"Note: {len(self.duplicates)} files imported are duplicates of models the library "
            f"already had: {names}. Remove the copies you do not need."
        )

    def problem(self) -> str:
        """One line saying which files failed ('' when none did)."""
        if not self.failed:
            return ""
        names = ", ".join(path.name for path, _ in self.failed)
        total = len(self.failed) + len(self.imported)
        first = self.failed[0][1].message
        if len(self.failed) == 1:
            return f"{names} was not imported ({len(self.imported)} of {total} were): {first}"
        return (
            f"{len(self.failed)} of {total} files were not imported ({names}); the first: {first}"
        )


def sha256_file(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    h = hashlib.sha256()
    done = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            done += len(chunk)
            if on_bytes is not None:
                on_bytes(done)
    return h.hexdigest()


def gguf_files(source: Path) -> list[Path]:
    """The GGUF models a path names: the file itself, or the models in a folder (split
    models by their first part; the other parts travel with it)."""
    if source.is_dir():
        found = []
        for f in sorted(source.rglob("*.gguf")):
            part = split_part(f.name)
            if part is None or part[1] == 1:
                found.append(f)
        if not found:
            raise ImportModelError(f"There are no .gguf files in {source}; pick another folder.")
        return found
    if not source.exists():
        raise ImportModelError(f"{source} does not exist; check the path.")
    return [source]


def companions(first: Path) -> list[Path]:
    """All files of a model: the parts of a split GGUF, or just the file."""
    part = split_part(first.name)
    if part is None:
        return [first]
    stem, _, total = part
    return [first.with_name(f"{stem}-{i:05d}-of-{total:05d}.gguf") for i in range(1, total + 1)]


def place(
    source: Path, models_dir: Path, *, link: bool, free_space: Callable[[], int]
) -> tuple[Path, GGUFHeader]:
    """Validate a GGUF and copy it (atomically) or symlink it into the models folder."""
    header = read_header(source)  # NotAGGUFError / TruncatedGGUFError say what is wrong
    files = companions(source)
    missing = [f.name for f in files if not f.exists()]
    if missing:
        raise ImportModelError(
            f"'{source.name}' is one part of a split model and {', '.join(missing)} is "
            "missing; put all the parts in the same folder."
        )
    models_dir.mkdir(parents=True, exist_ok=True)
    targets = [models_dir / f.name for f in files]
    for target in targets:
        if target.exists() or target.is_symlink():
            raise ImportModelError(
                f"The library already has a model file called '{target.name}'; remove it "
                "first or rename the file you import."
            )
    if link:
        for f, target in zip(files, targets, strict=True):
            target.symlink_to(f.resolve())
        return targets[0], header
    need = sum(f.stat().st_size for f in files)
    free = free_space()
    if need > free:
        raise DiskFullError(need, free, models_dir)
    for f, target in zip(files, targets, strict=True):
        tmp = target.with_name(target.name + ".part")
        try:
            shutil.copyfile(f, tmp)
            tmp.replace(target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ImportModelError(f"Could not copy '{f.name}': {exc.strerror}.") from exc
    return targets[0], header
